//! Reverse DNS (PTR) lookups against name servers the user names explicitly.
//!
//! There is deliberately no "use the system resolver" mode: a scan sends
//! packets only where it was told to, and with no server configured no name
//! is looked up (nmap's `-n`). The client is a minimal RFC 1035 one — one
//! question, UDP, answers parsed with bounds and compression-loop checks —
//! because everything it reads comes off the network.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

/// How long one server gets to answer one query.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(1500);
/// Longest name kept (RFC 1035's limit for a presentation name is 253).
const MAX_NAME: usize = 253;
const TYPE_PTR: u16 = 12;
const CLASS_IN: u16 = 1;

/// The `in-addr.arpa` / `ip6.arpa` name whose PTR record names `address`.
pub fn reverse_name(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0x0f, byte >> 4));
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// A standard query for the PTR record of `address`, with transaction `id`.
pub fn ptr_query(id: u16, address: IpAddr) -> Vec<u8> {
    let mut packet = Vec::with_capacity(90);
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&[0x01, 0x00]); // RD
    packet.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // 1 question
    for label in reverse_name(address).split('.') {
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&TYPE_PTR.to_be_bytes());
    packet.extend_from_slice(&CLASS_IN.to_be_bytes());
    packet
}

/// What a server said about one PTR question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PtrAnswer {
    Name(String),
    /// NXDOMAIN, or an answer without a PTR record.
    NoName,
}

/// Why an answer was not usable (then the next server is asked).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer is truncated or malformed")]
    Malformed,
    #[error("the answer belongs to another query")]
    WrongId,
    #[error("the server failed (rcode {0})")]
    ServerFailure(u8),
}

/// Parses a response to [`ptr_query`] with transaction `id`.
pub fn parse_ptr_answer(id: u16, packet: &[u8]) -> Result<PtrAnswer, AnswerError> {
    let header = packet.get(..12).ok_or(AnswerError::Malformed)?;
    if u16::from_be_bytes([header[0], header[1]]) != id {
        return Err(AnswerError::WrongId);
    }
    if header[2] & 0x80 == 0 {
        return Err(AnswerError::Malformed); // a query, not a response
    }
    match header[3] & 0x0f {
        0 => {}
        3 => return Ok(PtrAnswer::NoName),
        rcode => return Err(AnswerError::ServerFailure(rcode)),
    }
    let questions = u16::from_be_bytes([header[4], header[5]]);
    let answers = u16::from_be_bytes([header[6], header[7]]);
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(packet, at)?
            .checked_add(4)
            .ok_or(AnswerError::Malformed)?;
    }
    for _ in 0..answers {
        at = skip_name(packet, at)?;
        let fixed = packet.get(at..at + 10).ok_or(AnswerError::Malformed)?;
        let kind = u16::from_be_bytes([fixed[0], fixed[1]]);
        let class = u16::from_be_bytes([fixed[2], fixed[3]]);
        let length = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let data = at + 10;
        if packet.len() < data + length {
            return Err(AnswerError::Malformed);
        }
        if kind == TYPE_PTR && class == CLASS_IN {
            return Ok(PtrAnswer::Name(read_name(packet, data)?));
        }
        at = data + length;
    }
    Ok(PtrAnswer::NoName)
}

/// The offset just past the (possibly compressed) name starting at `at`.
fn skip_name(packet: &[u8], mut at: usize) -> Result<usize, AnswerError> {
    loop {
        let length = *packet.get(at).ok_or(AnswerError::Malformed)?;
        match length {
            0 => return Ok(at + 1),
            l if l & 0xc0 == 0xc0 => {
                packet.get(at + 1).ok_or(AnswerError::Malformed)?;
                return Ok(at + 2);
            }
            l if l & 0xc0 == 0 => at += 1 + usize::from(l),
            _ => return Err(AnswerError::Malformed),
        }
    }
}

/// Reads a name in presentation form. Bytes outside printable ASCII, and
/// the escape character itself, are written `\DDD` as `dig` does; the text is
/// still hostile (it may contain `<`): whoever shows it must escape it.
fn read_name(packet: &[u8], mut at: usize) -> Result<String, AnswerError> {
    let mut name = String::new();
    let mut jumps = 0;
    loop {
        let length = *packet.get(at).ok_or(AnswerError::Malformed)?;
        match length {
            0 => break,
            l if l & 0xc0 == 0xc0 => {
                let low = *packet.get(at + 1).ok_or(AnswerError::Malformed)?;
                let target = usize::from(u16::from_be_bytes([l & 0x3f, low]));
                jumps += 1;
                // A pointer must go backwards; a bounded count stops loops anyway.
                if target >= at || jumps > 32 {
                    return Err(AnswerError::Malformed);
                }
                at = target;
            }
            l if l & 0xc0 == 0 => {
                let label = packet
                    .get(at + 1..at + 1 + usize::from(l))
                    .ok_or(AnswerError::Malformed)?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &byte in label {
                    match byte {
                        b'\\' | b'.' => {
                            name.push('\\');
                            name.push(char::from(byte));
                        }
                        0x21..=0x7e => name.push(char::from(byte)),
                        _ => name.push_str(&format!("\\{byte:03}")),
                    }
                }
                if name.len() > MAX_NAME {
                    return Err(AnswerError::Malformed);
                }
                at += 1 + usize::from(l);
            }
            _ => return Err(AnswerError::Malformed),
        }
    }
    Ok(name)
}

/// Asks each server in turn (each with [`QUERY_TIMEOUT`]) for the name of
/// `address`; `None` when none answers with one.
pub async fn lookup(servers: &[SocketAddr], address: IpAddr) -> Option<String> {
    for (attempt, server) in servers.iter().enumerate() {
        let id = transaction_id(address, attempt);
        match query_one(*server, id, address).await {
            Ok(PtrAnswer::Name(name)) => return Some(name),
            Ok(PtrAnswer::NoName) => return None,
            Err(error) => {
                tracing::debug!(%server, %address, %error, "reverse lookup failed; trying the next server");
            }
        }
    }
    None
}

#[derive(Debug, thiserror::Error)]
enum QueryError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {QUERY_TIMEOUT:?}")]
    Timeout,
    #[error("{0}")]
    Answer(#[from] AnswerError),
}

async fn query_one(server: SocketAddr, id: u16, address: IpAddr) -> Result<PtrAnswer, QueryError> {
    let bind: SocketAddr = match server {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).await?;
    // connect() makes the kernel drop datagrams from anyone but the server.
    socket.connect(server).await?;
    socket.send(&ptr_query(id, address)).await?;
    let deadline = tokio::time::Instant::now() + QUERY_TIMEOUT;
    let mut buffer = [0u8; 1500];
    loop {
        let received = tokio::time::timeout_at(deadline, socket.recv(&mut buffer))
            .await
            .map_err(|_| QueryError::Timeout)??;
        match parse_ptr_answer(id, &buffer[..received]) {
            // A stray or spoofed datagram: keep waiting for ours.
            Err(AnswerError::WrongId) => continue,
            other => return Ok(other?),
        }
    }
}

/// Transaction ids vary per address and attempt; connect() already filters
/// the source, this only keeps answers to different questions apart.
fn transaction_id(address: IpAddr, attempt: usize) -> u16 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one((address, attempt)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `ptr_query(id, address)` with one PTR answer (compressed owner name).
    fn answer(id: u16, address: IpAddr, labels: &[&[u8]]) -> Vec<u8> {
        let mut packet = ptr_query(id, address);
        packet[2] = 0x81;
        packet[3] = 0x80;
        packet[7] = 1; // one answer
        packet.extend_from_slice(&[0xc0, 12]); // owner: the question's name
        packet.extend_from_slice(&TYPE_PTR.to_be_bytes());
        packet.extend_from_slice(&CLASS_IN.to_be_bytes());
        packet.extend_from_slice(&300u32.to_be_bytes());
        let mut data = Vec::new();
        for label in labels {
            data.push(label.len() as u8);
            data.extend_from_slice(label);
        }
        data.push(0);
        packet.extend_from_slice(&(data.len() as u16).to_be_bytes());
        packet.extend_from_slice(&data);
        packet
    }

    #[test]
    fn reverse_names_follow_rfc_1035_and_3596() {
        assert_eq!(
            reverse_name("127.1.2.3".parse().unwrap()),
            "3.2.1.127.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("::1".parse().unwrap()),
            format!("1.{}ip6.arpa", "0.".repeat(31))
        );
    }

    #[test]
    fn a_ptr_answer_gives_the_name() {
        let address: IpAddr = "127.0.0.7".parse().unwrap();
        let packet = answer(77, address, &[b"pc-7", b"corp", b"example"]);
        assert_eq!(
            parse_ptr_answer(77, &packet),
            Ok(PtrAnswer::Name("pc-7.corp.example".into()))
        );
    }

    #[test]
    fn hostile_bytes_are_escaped_but_markup_is_kept_for_the_ui_to_escape() {
        let address: IpAddr = "127.0.0.7".parse().unwrap();
        let packet = answer(1, address, &[b"<script>", b"a\x00b\\c"]);
        assert_eq!(
            parse_ptr_answer(1, &packet),
            Ok(PtrAnswer::Name("<script>.a\\000b\\\\c".into()))
        );
    }

    #[test]
    fn nxdomain_means_no_name() {
        let address: IpAddr = "127.0.0.7".parse().unwrap();
        let mut packet = ptr_query(5, address);
        packet[2] = 0x81;
        packet[3] = 0x83;
        assert_eq!(parse_ptr_answer(5, &packet), Ok(PtrAnswer::NoName));
    }

    #[test]
    fn malformed_answers_are_refused_without_panicking() {
        let address: IpAddr = "127.0.0.7".parse().unwrap();
        let good = answer(9, address, &[b"host", b"lab"]);
        assert_eq!(parse_ptr_answer(10, &good), Err(AnswerError::WrongId));
        // Every truncation of a good answer is an error, never a panic.
        for cut in 0..good.len() {
            assert!(parse_ptr_answer(9, &good[..cut]).is_err(), "cut at {cut}");
        }
        // A compression pointer to itself (a loop).
        let mut looping = good.clone();
        let data_at = looping.len() - 10;
        looping.truncate(data_at - 2);
        looping.extend_from_slice(&2u16.to_be_bytes());
        let self_at = looping.len();
        looping.extend_from_slice(&[0xc0 | (self_at >> 8) as u8, self_at as u8]);
        assert_eq!(parse_ptr_answer(9, &looping), Err(AnswerError::Malformed));
        // A query echoed back is not an answer.
        assert_eq!(
            parse_ptr_answer(9, &ptr_query(9, address)),
            Err(AnswerError::Malformed)
        );
        // Arbitrary bytes.
        for seed in 0u32..2000 {
            let bytes: Vec<u8> = (0..(seed % 97))
                .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 40_503) >> 7) as u8)
                .collect();
            let _ = parse_ptr_answer(
                u16::from_be_bytes([
                    bytes.first().copied().unwrap_or(0),
                    bytes.get(1).copied().unwrap_or(0),
                ]),
                &bytes,
            );
        }
    }
}

/// A loopback PTR responder for tests: answers from a fixed table, NXDOMAIN
/// for everything else, and never forwards anything anywhere.
#[cfg(feature = "lab")]
pub mod responder {
    use std::collections::HashMap;
    use std::net::{IpAddr, SocketAddr};
    use std::sync::Arc;

    use tokio::net::UdpSocket;

    use super::{CLASS_IN, TYPE_PTR, reverse_name};

    pub struct PtrResponder {
        pub addr: SocketAddr,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for PtrResponder {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl PtrResponder {
        /// Listens on `bind` (a 127.x address, port 0 for any) and answers
        /// PTR questions for the addresses in `names` with raw name labels.
        pub async fn start(
            bind: &str,
            names: HashMap<IpAddr, Vec<Vec<u8>>>,
        ) -> std::io::Result<PtrResponder> {
            let socket = Arc::new(UdpSocket::bind(bind).await?);
            let addr = socket.local_addr()?;
            let by_question: HashMap<String, Vec<Vec<u8>>> = names
                .into_iter()
                .map(|(address, labels)| (reverse_name(address), labels))
                .collect();
            let task = tokio::spawn(async move {
                let mut buffer = [0u8; 512];
                while let Ok((length, from)) = socket.recv_from(&mut buffer).await {
                    if let Some(reply) = reply(&buffer[..length], &by_question) {
                        let _ = socket.send_to(&reply, from).await;
                    }
                }
            });
            Ok(PtrResponder { addr, task })
        }
    }

    fn reply(query: &[u8], names: &HashMap<String, Vec<Vec<u8>>>) -> Option<Vec<u8>> {
        // Header, then one uncompressed question name, type and class.
        let mut at = 12;
        let mut labels = Vec::new();
        loop {
            let length = usize::from(*query.get(at)?);
            if length == 0 {
                break;
            }
            labels.push(String::from_utf8_lossy(query.get(at + 1..at + 1 + length)?).into_owned());
            at += 1 + length;
        }
        let question_end = at + 5;
        let mut packet = query.get(..question_end)?.to_vec();
        packet[2] = 0x81; // response, RD
        match names.get(&labels.join(".")) {
            Some(name) => {
                packet[3] = 0x80; // RA, no error
                packet[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
                packet.extend_from_slice(&[0xc0, 12]);
                packet.extend_from_slice(&TYPE_PTR.to_be_bytes());
                packet.extend_from_slice(&CLASS_IN.to_be_bytes());
                packet.extend_from_slice(&60u32.to_be_bytes());
                let mut data = Vec::new();
                for label in name {
                    data.push(u8::try_from(label.len()).ok()?);
                    data.extend_from_slice(label);
                }
                data.push(0);
                packet.extend_from_slice(&u16::try_from(data.len()).ok()?.to_be_bytes());
                packet.extend_from_slice(&data);
            }
            None => {
                packet[3] = 0x83; // NXDOMAIN
                packet[6..12].copy_from_slice(&[0, 0, 0, 0, 0, 0]);
            }
        }
        Some(packet)
    }
}

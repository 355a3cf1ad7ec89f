//! One TCP connect attempt and what its outcome means, nmap-style.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::{Banner, Reason};

/// The outcome of one connect attempt.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The target answered (an accepted connection, a refusal or an ICMP error); `rtt` is how long it took.
    Answered {
        reason: Reason,
        rtt: Duration,
        stream: Option<TcpStream>,
    },
    /// No answer within the timeout: a candidate for retransmission.
    TimedOut,
    /// A local resource problem (descriptors, ephemeral ports, buffers): says nothing about the target; try again later.
    LocalFailure(io::Error),
}

/// Maps a connect error to nmap's reason, or `None` for local failures.
pub(crate) fn reason_for_error(error: &io::Error) -> Option<Reason> {
    match error.raw_os_error() {
        Some(libc::ECONNREFUSED) => Some(Reason::ConnRefused),
        Some(libc::EHOSTUNREACH) => Some(Reason::HostUnreach),
        Some(libc::ENETUNREACH) => Some(Reason::NetUnreach),
        // Linux reports ICMP net/host-prohibited as EACCES; a local firewall's reject as EPERM.
        Some(libc::EACCES) | Some(libc::EPERM) => Some(Reason::AdminProhibited),
        // The kernel gave up retransmitting SYNs before our timeout did.
        Some(libc::ETIMEDOUT) => Some(Reason::NoResponse),
        _ => None,
    }
}

/// Connects once to `target` within `timeout`. `bind` pins the local endpoint (tests use it to force a self-connect).
#[cfg(test)]
pub(crate) async fn connect_once(
    target: SocketAddr,
    timeout: Duration,
    bind: Option<SocketAddr>,
) -> Attempt {
    connect_with_deadline(target, move || timeout, bind).await
}

/// Like [`connect_once`], but the timeout is re-read while waiting: probes sent
/// before the first RTT samples arrived (with the template's initial timeout)
/// give up as soon as the estimate says they are overdue, as nmap's do.
pub(crate) async fn connect_with_deadline(
    target: SocketAddr,
    current_timeout: impl Fn() -> Duration,
    bind: Option<SocketAddr>,
) -> Attempt {
    let socket = match target {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    };
    let socket = match socket {
        Ok(socket) => socket,
        Err(error) => return Attempt::LocalFailure(error),
    };
    if let Some(local) = bind
        && let Err(error) = socket.set_reuseaddr(true).and_then(|()| socket.bind(local))
    {
        return Attempt::LocalFailure(error);
    }
    let started = tokio::time::Instant::now();
    let connecting = socket.connect(target);
    tokio::pin!(connecting);
    // Wake when the current estimate says the probe is overdue, but at least every
    // RECHECK so that a shrinking estimate (first samples arriving) takes effect.
    const RECHECK: Duration = Duration::from_millis(25);
    let outcome = loop {
        let deadline = started + current_timeout();
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break Err(());
        }
        let wake = deadline.min(now + RECHECK);
        tokio::select! {
            outcome = &mut connecting => break Ok(outcome),
            () = tokio::time::sleep_until(wake) => {}
        }
    };
    match outcome {
        Err(()) => Attempt::TimedOut,
        Ok(Ok(stream)) => {
            let rtt = started.elapsed();
            // Linux lets a socket connect to itself when the ephemeral source port equals
            // the closed destination port (TCP simultaneous open); that is no listener.
            if stream.local_addr().ok() == Some(target) {
                tracing::debug!(%target, "self-connect detected; reporting the port closed");
                abort(stream);
                return Attempt::Answered {
                    reason: Reason::ConnRefused,
                    rtt,
                    stream: None,
                };
            }
            Attempt::Answered {
                reason: Reason::SynAck,
                rtt,
                stream: Some(stream),
            }
        }
        Ok(Err(error)) => match reason_for_error(&error) {
            Some(Reason::NoResponse) => Attempt::TimedOut,
            Some(reason) => Attempt::Answered {
                reason,
                rtt: started.elapsed(),
                stream: None,
            },
            None => Attempt::LocalFailure(error),
        },
    }
}

/// Closes with a reset instead of a FIN, so scanning leaves no TIME_WAIT sockets behind.
pub(crate) fn abort(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// After an open connect: optionally sends `send`, then reads up to `max_bytes`
/// within `timeout`. Stops early at end of stream, at the cap, or once the
/// service has gone quiet for a moment after saying something.
pub(crate) async fn read_banner(
    stream: &mut TcpStream,
    send: Option<&[u8]>,
    max_bytes: usize,
    timeout: Duration,
) -> Option<Banner> {
    let deadline = tokio::time::Instant::now() + timeout;
    if let Some(bytes) = send
        && tokio::time::timeout_at(deadline, stream.write_all(bytes))
            .await
            .ok()?
            .is_err()
    {
        return None;
    }
    let quiet_gap = (timeout / 4).min(Duration::from_millis(250));
    let mut collected = Vec::new();
    let mut chunk = vec![0u8; max_bytes.clamp(1, 64 * 1024)];
    while collected.len() < max_bytes {
        let wait_until = if collected.is_empty() {
            deadline
        } else {
            deadline.min(tokio::time::Instant::now() + quiet_gap)
        };
        let want = (max_bytes - collected.len()).min(chunk.len());
        match tokio::time::timeout_at(wait_until, stream.read(&mut chunk[..want])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(read)) => collected.extend_from_slice(&chunk[..read]),
        }
    }
    (!collected.is_empty()).then_some(Banner(collected))
}

/// Unprivileged ICMP echo (a `SOCK_DGRAM` ICMP socket), allowed only when the
/// process's group is inside `net.ipv4.ping_group_range`.
pub(crate) mod icmp {
    use super::*;
    use socket2::{Domain, Protocol, Socket, Type};

    fn open_socket() -> io::Result<tokio::net::UdpSocket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4))?;
        socket.set_nonblocking(true)?;
        // The kernel treats a ping socket like a UDP socket (it fills in the echo id and checksum).
        tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket))
    }

    /// Whether this process may send unprivileged echo requests here.
    pub(crate) fn available() -> bool {
        match open_socket() {
            Ok(_) => true,
            Err(error) => {
                tracing::debug!(%error, "unprivileged ICMP echo unavailable (net.ipv4.ping_group_range); using TCP discovery only");
                false
            }
        }
    }

    /// Sends one echo request and waits for the reply. IPv6 is not pinged.
    pub(crate) async fn ping(target: IpAddr, timeout: Duration) -> bool {
        let IpAddr::V4(_) = target else { return false };
        let Ok(socket) = open_socket() else {
            return false;
        };
        // type 8 (echo request), code 0, checksum and id filled in by the kernel, sequence 1, payload.
        let request = [
            8u8, 0, 0, 0, 0, 0, 0, 1, b'a', b'v', b's', b'w', b'e', b'e', b'p', 0,
        ];
        if socket
            .send_to(&request, SocketAddr::new(target, 0))
            .await
            .is_err()
        {
            return false;
        }
        let mut reply = [0u8; 128];
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, socket.recv_from(&mut reply)).await {
                Ok(Ok((length, from))) if length >= 8 && reply[0] == 0 && from.ip() == target => {
                    return true;
                }
                Ok(Ok(_)) => continue,
                Ok(Err(_)) | Err(_) => return false,
            }
        }
    }
}

/// Raises the soft open-file limit to the hard limit and returns the new soft limit,
/// so the scan can keep as many sockets in flight as the system allows.
pub fn raise_open_file_limit() -> u64 {
    let mut limits = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limits) != 0 {
            return 1024;
        }
        if limits.rlim_cur < limits.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limits.rlim_max,
                rlim_max: limits.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limits.rlim_cur = limits.rlim_max;
            } else {
                tracing::warn!(
                    soft = limits.rlim_cur,
                    hard = limits.rlim_max,
                    "could not raise the open-file limit; the scan will keep fewer connects in flight"
                );
            }
        }
    }
    limits.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_nmap_reasons() {
        let of = |code| reason_for_error(&io::Error::from_raw_os_error(code));
        assert_eq!(of(libc::ECONNREFUSED), Some(Reason::ConnRefused));
        assert_eq!(of(libc::EHOSTUNREACH), Some(Reason::HostUnreach));
        assert_eq!(of(libc::ENETUNREACH), Some(Reason::NetUnreach));
        assert_eq!(of(libc::EACCES), Some(Reason::AdminProhibited));
        assert_eq!(
            of(libc::EADDRNOTAVAIL),
            None,
            "ephemeral port exhaustion is local"
        );
        assert_eq!(of(libc::EMFILE), None);
    }

    #[tokio::test]
    async fn open_closed_and_self_connect_on_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let open = listener.local_addr().expect("addr");
        let Attempt::Answered { reason, stream, .. } =
            connect_once(open, Duration::from_secs(2), None).await
        else {
            panic!("listener did not answer")
        };
        assert_eq!(reason, Reason::SynAck);
        assert!(stream.is_some());

        // A port nobody listens on: take a free one, then close it.
        let closed = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            probe.local_addr().expect("addr")
        };
        let Attempt::Answered { reason, .. } =
            connect_once(closed, Duration::from_secs(2), None).await
        else {
            panic!("closed port did not answer")
        };
        assert_eq!(reason, Reason::ConnRefused);

        // Binding the source to the destination makes Linux connect the socket to itself.
        let Attempt::Answered { reason, stream, .. } =
            connect_once(closed, Duration::from_secs(2), Some(closed)).await
        else {
            panic!("self-connect did not complete")
        };
        assert_eq!(
            reason,
            Reason::ConnRefused,
            "a self-connect is not an open port"
        );
        assert!(stream.is_none());
    }

    #[test]
    fn open_file_limit_is_raised_to_hard() {
        let soft = raise_open_file_limit();
        let mut limits = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain getrlimit into a local struct.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limits) },
            0
        );
        assert_eq!(soft, limits.rlim_cur);
        assert_eq!(limits.rlim_cur, limits.rlim_max);
    }
}

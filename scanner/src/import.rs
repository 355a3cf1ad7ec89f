//! Reads nmap XML (`-oX`) back into the scanner's own result types: the "in"
//! half of speaking nmap's formats. Accepts nmap's connect-scan output, our own
//! writer's output and masscan's (which has no `status` and one `host` per
//! open port).
//!
//! The input is hostile until proven otherwise: it is size-bounded, its
//! nesting depth is checked before the parser builds a tree, the tree's node
//! count is capped, and no DTD is ever processed. nmap writes a bare
//! `<!DOCTYPE nmaprun>`; that one is accepted, any DOCTYPE with an internal
//! subset (entity definitions: "billion laughs") or an external reference
//! (`SYSTEM`/`PUBLIC`: external entities) is refused.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::{
    Banner, DeviceClass, DeviceGuess, Error, HostReason, HostResult, HostState, PortResult,
    PortState, Reason,
};

/// How much of a file the importer is willing to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportLimits {
    /// Bytes of XML.
    pub max_bytes: usize,
    /// Element nesting; nmap's own files are 5 deep.
    pub max_depth: usize,
    /// XML nodes (elements, attributes' text, comments) in the whole file.
    pub max_nodes: u32,
    /// `host` elements.
    pub max_hosts: usize,
}

impl Default for ImportLimits {
    /// 20 MiB, depth 32, 4 M nodes, 1 M hosts.
    fn default() -> Self {
        ImportLimits {
            max_bytes: 20 * 1024 * 1024,
            max_depth: 32,
            max_nodes: 4_000_000,
            max_hosts: 1 << 20,
        }
    }
}

/// One host read from a file, with the name nmap resolved for it (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedHost {
    pub result: HostResult,
    /// Reverse-DNS name (`hostnames/hostname@name`): untrusted text.
    pub hostname: Option<String>,
}

/// A whole file's worth of results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedScan {
    /// `nmaprun@scanner`: "nmap", "masscan", ...
    pub scanner: String,
    /// `nmaprun@args`: the command line that produced the file.
    pub args: String,
    /// The ports the scan probed (`scaninfo@services`), or, without it, every port reported.
    pub ports: Vec<u16>,
    /// In file order; an address listed twice (masscan) is merged into one host.
    pub hosts: Vec<ImportedHost>,
}

/// Longest DNS name accepted (RFC 1035); longer ones are dropped, not stored.
const MAX_HOSTNAME: usize = 253;
/// Banners are cut here, like the scanner's own banner reads.
const MAX_BANNER: usize = 4096;

/// Parses nmap XML. Errors say where (line and column, or which host) and what was wrong.
pub fn parse_nmap_xml(input: &[u8], limits: &ImportLimits) -> Result<ImportedScan, Error> {
    if input.len() > limits.max_bytes {
        return Err(Error::ImportTooLarge {
            size: input.len() as u64,
            limit: limits.max_bytes as u64,
        });
    }
    let text = std::str::from_utf8(input).map_err(|e| {
        bad(
            format!("byte {}", e.valid_up_to()),
            "the file is not UTF-8 text",
        )
    })?;
    let text = neutralise_doctype(text)?;
    check_depth(&text, limits.max_depth)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
    };
    let document = roxmltree::Document::parse_with_options(&text, options).map_err(|e| {
        let position = e.pos();
        bad(
            format!("line {}, column {}", position.row, position.col),
            e.to_string(),
        )
    })?;
    read_document(&document, limits)
}

fn bad(at: impl Into<String>, problem: impl Into<String>) -> Error {
    Error::BadImport {
        at: at.into(),
        problem: problem.into(),
    }
}

/// Blanks out nmap's bare `<!DOCTYPE nmaprun>` (so the parser, which refuses
/// every DTD, accepts the file) and refuses any other DOCTYPE.
fn neutralise_doctype(text: &str) -> Result<std::borrow::Cow<'_, str>, Error> {
    let Some(start) = find_ascii_case_insensitive(text, "<!DOCTYPE") else {
        return Ok(std::borrow::Cow::Borrowed(text));
    };
    let at = line_column(text, start);
    let rest = &text[start..];
    let end = rest
        .find('>')
        .ok_or_else(|| bad(at.clone(), "the DOCTYPE declaration never ends"))?;
    let declaration = &rest[..=end];
    let body = declaration["<!DOCTYPE".len()..declaration.len() - 1].trim();
    let bare_name = !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if !bare_name || rest[end + 1..].contains("<!DOCTYPE") {
        return Err(bad(
            at,
            "a DOCTYPE with entity definitions or an external DTD is refused (entity expansion and external entities are attacks); nmap writes a bare <!DOCTYPE nmaprun>",
        ));
    }
    let mut owned = String::with_capacity(text.len());
    owned.push_str(&text[..start]);
    // Spaces keep every later line and column where the person sees them.
    owned.extend(std::iter::repeat_n(' ', declaration.len()));
    owned.push_str(&text[start + declaration.len()..]);
    Ok(std::borrow::Cow::Owned(owned))
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

fn line_column(text: &str, offset: usize) -> String {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    format!("line {line}, column {column}")
}

/// Measures element nesting with a byte scan before any tree is built, so a
/// file of a million nested tags is refused cheaply. Comments, CDATA and
/// processing instructions are skipped; attribute values cannot hold `<`.
fn check_depth(text: &str, max_depth: usize) -> Result<(), Error> {
    let bytes = text.as_bytes();
    let mut depth: usize = 0;
    let mut index = 0;
    while let Some(found) = bytes[index..].iter().position(|&b| b == b'<') {
        let start = index + found;
        let rest = &bytes[start..];
        let skip_to = |end: &[u8]| {
            rest.windows(end.len())
                .position(|w| w == end)
                .map(|p| start + p + end.len())
        };
        let next = if rest.starts_with(b"<!--") {
            skip_to(b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            skip_to(b"]]>")
        } else if rest.starts_with(b"<?") {
            skip_to(b"?>")
        } else if rest.starts_with(b"<!") {
            skip_to(b">")
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            skip_to(b">")
        } else {
            let end = skip_to(b">");
            let self_closing = end.is_some_and(|end| end >= 2 && bytes[end - 2] == b'/');
            if !self_closing {
                depth += 1;
                if depth > max_depth {
                    return Err(bad(
                        line_column(text, start),
                        format!(
                            "elements are nested more than {max_depth} deep; nmap's files are 5 deep"
                        ),
                    ));
                }
            }
            end
        };
        // An unterminated construct: the parser reports it with its position.
        let Some(next) = next else { return Ok(()) };
        index = next;
    }
    Ok(())
}

fn read_document(
    document: &roxmltree::Document<'_>,
    limits: &ImportLimits,
) -> Result<ImportedScan, Error> {
    let root = document.root_element();
    if root.tag_name().name() != "nmaprun" {
        return Err(bad(
            "the root element",
            format!(
                "it is <{}>, not <nmaprun>; this is not nmap XML output",
                truncate(root.tag_name().name(), 40)
            ),
        ));
    }
    let scanner = root.attribute("scanner").unwrap_or("nmap").to_owned();
    let args = root.attribute("args").unwrap_or_default().to_owned();
    let mut declared_ports: Vec<u16> = Vec::new();
    for info in elements(root, "scaninfo") {
        if info
            .attribute("protocol")
            .is_some_and(|protocol| protocol != "tcp")
        {
            continue;
        }
        if let Some(services) = info.attribute("services").filter(|s| !s.trim().is_empty()) {
            let ports = crate::parse_ports(services)
                .map_err(|e| bad(position(document, info), format!("scaninfo services: {e}")))?;
            declared_ports.extend(ports);
        }
    }
    let mut hosts: Vec<ImportedHost> = Vec::new();
    let mut by_address: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for (number, node) in elements(root, "host").enumerate() {
        if number >= limits.max_hosts {
            return Err(bad(
                format!("host {}", number + 1),
                format!(
                    "the file lists more than {} hosts; split it",
                    limits.max_hosts
                ),
            ));
        }
        let host = read_host(document, node, number as u64)?;
        match by_address.get(&host.result.address) {
            Some(&existing) => merge_host(&mut hosts[existing], host),
            None => {
                by_address.insert(host.result.address, hosts.len());
                hosts.push(host);
            }
        }
    }
    let mut ports = declared_ports;
    if ports.is_empty() {
        ports = hosts
            .iter()
            .flat_map(|host| host.result.ports.iter().map(|port| port.port))
            .collect();
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ImportedScan {
        scanner,
        args,
        ports,
        hosts,
    })
}

fn elements<'a, 'input>(
    parent: roxmltree::Node<'a, 'input>,
    name: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> {
    parent
        .children()
        .filter(move |node| node.is_element() && node.tag_name().name() == name)
}

fn position(document: &roxmltree::Document<'_>, node: roxmltree::Node<'_, '_>) -> String {
    let position = document.text_pos_at(node.range().start);
    format!("line {}, column {}", position.row, position.col)
}

fn truncate(text: &str, max_chars: usize) -> String {
    let mut cut: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        cut.push('…');
    }
    cut
}

fn read_host(
    document: &roxmltree::Document<'_>,
    node: roxmltree::Node<'_, '_>,
    number: u64,
) -> Result<ImportedHost, Error> {
    let at = || format!("host {} ({})", number + 1, position(document, node));
    let address = elements(node, "address")
        .find(|a| matches!(a.attribute("addrtype"), None | Some("ipv4" | "ipv6")))
        .and_then(|a| a.attribute("addr"))
        .ok_or_else(|| bad(at(), "it has no <address addrtype=\"ipv4\"/\"ipv6\">"))?;
    let address: IpAddr = address.trim().parse().map_err(|_| {
        bad(
            at(),
            format!("{:?} is not an IP address", truncate(address, 60)),
        )
    })?;
    let ports_node = elements(node, "ports").next();
    let mut ports: Vec<PortResult> = Vec::new();
    if let Some(ports_node) = ports_node {
        for port in elements(ports_node, "port") {
            if let Some(result) = read_port(port).map_err(|problem| {
                bad(
                    format!("host {address}, {}", position(document, port)),
                    problem,
                )
            })? {
                ports.push(result);
            }
        }
    }
    let (state, reason) = match elements(node, "status").next() {
        Some(status) => {
            let state = match status.attribute("state") {
                Some("up") => HostState::Up,
                Some("down" | "unknown" | "skipped") => HostState::Down,
                other => {
                    return Err(bad(
                        at(),
                        format!(
                            "status state {:?} is not up or down",
                            truncate(other.unwrap_or(""), 40)
                        ),
                    ));
                }
            };
            (state, host_reason(state, status.attribute("reason")))
        }
        // masscan lists a host only for an open port.
        None => (HostState::Up, HostReason::SynAck),
    };
    if state == HostState::Down {
        ports.clear();
    }
    ports.sort_by_key(|port| port.port);
    ports.dedup_by_key(|port| port.port);
    let hostname = elements(node, "hostnames")
        .flat_map(|names| elements(names, "hostname"))
        .filter_map(|name| Some((name.attribute("name")?, name.attribute("type"))))
        .filter(|(name, _)| !name.is_empty() && name.len() <= MAX_HOSTNAME)
        .min_by_key(|(_, kind)| *kind != Some("PTR"))
        .map(|(name, _)| name.to_owned());
    let device = elements(node, "hostscript")
        .flat_map(|scripts| elements(scripts, "script"))
        .find(|script| script.attribute("id") == Some("avsweep-device-class"))
        .and_then(|script| script.attribute("output"))
        .and_then(parse_device_guess)
        .unwrap_or_default();
    Ok(ImportedHost {
        result: HostResult {
            position: number,
            address,
            state,
            reason,
            ports,
            device,
            dns_name: hostname.clone(),
        },
        hostname,
    })
}

/// One `<port>`; `None` for protocols other than TCP.
fn read_port(port: roxmltree::Node<'_, '_>) -> Result<Option<PortResult>, String> {
    if port.attribute("protocol").is_some_and(|p| p != "tcp") {
        return Ok(None);
    }
    let id = port.attribute("portid").unwrap_or_default();
    let number = match id.trim().parse::<u32>() {
        Ok(number @ 1..=65535) => number as u16,
        _ => {
            return Err(format!(
                "portid {:?} is not a port 1-65535",
                truncate(id, 20)
            ));
        }
    };
    let state_node = elements(port, "state")
        .next()
        .ok_or_else(|| format!("port {number} has no <state>"))?;
    let state_text = state_node.attribute("state").unwrap_or_default();
    let state = match state_text {
        "open" => PortState::Open,
        "closed" => PortState::Closed,
        // Anything nmap could not decide is unknown to us: never "missing".
        "filtered" | "open|filtered" | "closed|filtered" | "unfiltered" => PortState::Filtered,
        other => {
            return Err(format!(
                "port {number} has state {:?}; expected open, closed or filtered",
                truncate(other, 30)
            ));
        }
    };
    let reason = port_reason(state, state_node.attribute("reason"));
    let banner = elements(port, "script")
        .find(|script| script.attribute("id") == Some("banner"))
        .and_then(|script| script.attribute("output"))
        .map(unescape_banner);
    Ok(Some(PortResult {
        port: number,
        state,
        reason,
        banner,
        rtt: None,
    }))
}

fn host_reason(state: HostState, reason: Option<&str>) -> HostReason {
    match reason {
        Some("user-set") => HostReason::UserSet,
        Some("syn-ack") => HostReason::SynAck,
        Some("conn-refused" | "reset") => HostReason::ConnRefused,
        Some("echo-reply") => HostReason::EchoReply,
        Some("no-response") => HostReason::NoResponse,
        // Other probes (ARP, localhost-response, ...): some answer for an up host.
        _ if state == HostState::Up => HostReason::SynAck,
        _ => HostReason::NoResponse,
    }
}

fn port_reason(state: PortState, reason: Option<&str>) -> Reason {
    let named = match reason {
        Some("syn-ack") => Some(Reason::SynAck),
        Some("conn-refused" | "reset") => Some(Reason::ConnRefused),
        Some("no-response") => Some(Reason::NoResponse),
        Some("host-unreach") => Some(Reason::HostUnreach),
        Some("net-unreach") => Some(Reason::NetUnreach),
        Some("admin-prohibited") => Some(Reason::AdminProhibited),
        _ => None,
    };
    // A reason that contradicts the state (a SYN scan's odd reasons) yields to the state.
    match named {
        Some(reason) if reason.port_state() == state => reason,
        _ => match state {
            PortState::Open => Reason::SynAck,
            PortState::Closed => Reason::ConnRefused,
            PortState::Filtered => Reason::NoResponse,
        },
    }
}

/// The inverse of [`Banner::lossy_text`]: `\r`, `\n`, `\t`, `\\` and `\xNN`
/// become bytes again; any other text is kept as its UTF-8 bytes.
pub fn unescape_banner(text: &str) -> Banner {
    let mut bytes = Vec::with_capacity(text.len().min(MAX_BANNER));
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if bytes.len() >= MAX_BANNER {
            break;
        }
        if c != '\\' {
            let mut buffer = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            continue;
        }
        match chars.peek().copied() {
            Some('r') => bytes.push(b'\r'),
            Some('n') => bytes.push(b'\n'),
            Some('t') => bytes.push(b'\t'),
            Some('\\') => bytes.push(b'\\'),
            Some('x') => {
                let mut lookahead = chars.clone();
                lookahead.next();
                let high = lookahead.next().and_then(|c| c.to_digit(16));
                let low = lookahead.next().and_then(|c| c.to_digit(16));
                if let (Some(high), Some(low)) = (high, low) {
                    bytes.push((high * 16 + low) as u8);
                    chars = lookahead;
                } else {
                    bytes.push(b'\\');
                }
                continue;
            }
            _ => {
                bytes.push(b'\\');
                continue;
            }
        }
        chars.next();
    }
    bytes.truncate(MAX_BANNER);
    Banner(bytes)
}

/// Reads our writer's `windows (confidence 90%): evidence; more evidence`.
fn parse_device_guess(text: &str) -> Option<DeviceGuess> {
    let (class, rest) = text.split_once(" (confidence ")?;
    let (confidence, evidence) = rest.split_once("%): ")?;
    Some(DeviceGuess {
        class: class.parse::<DeviceClass>().ok()?,
        confidence: confidence.parse::<u8>().ok()?.min(100),
        evidence: evidence
            .split("; ")
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// masscan writes one `host` per open port: merge the second into the first.
fn merge_host(into: &mut ImportedHost, other: ImportedHost) {
    if other.result.state == HostState::Up && into.result.state == HostState::Down {
        into.result.state = HostState::Up;
        into.result.reason = other.result.reason;
    }
    for port in other.result.ports {
        match into
            .result
            .ports
            .binary_search_by_key(&port.port, |p| p.port)
        {
            Ok(index) => into.result.ports[index] = port,
            Err(index) => into.result.ports.insert(index, port),
        }
    }
    if into.hostname.is_none() {
        into.hostname = other.hostname;
    }
    if into.result.device.evidence.is_empty() {
        into.result.device = other.result.device;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ImportedScan, Error> {
        parse_nmap_xml(text.as_bytes(), &ImportLimits::default())
    }

    const NMAP_OUTPUT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.93 scan initiated as: nmap -sT -Pn -p 2967,8081 -oX - 127.0.0.1-2 -->
<nmaprun scanner="nmap" args="nmap -sT -Pn -p 2967,8081 -oX - 127.0.0.1-2" start="1" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="2" services="2967,8081"/>
<verbose level="0"/>
<debugging level="0"/>
<host starttime="1" endtime="1"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames>
<hostname name="localhost" type="PTR"/>
</hostnames>
<ports><port protocol="tcp" portid="2967"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="symantec-av" method="table" conf="3"/></port>
<port protocol="tcp" portid="8081"><state state="closed" reason="conn-refused" reason_ttl="0"/><service name="blackice-icecap" method="table" conf="3"/></port>
</ports>
<times srtt="40" rttvar="5000" to="100000"/>
</host>
<host starttime="1" endtime="1"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="127.0.0.2" addrtype="ipv4"/>
<hostnames>
</hostnames>
<ports><extraports state="closed" count="1"><extrareasons reason="conn-refused" count="1" proto="tcp" ports="8081"/></extraports>
<port protocol="tcp" portid="2967"><state state="filtered" reason="no-response" reason_ttl="0"/></port>
</ports>
</host>
<runstats><finished time="1" timestr="x" summary="x" elapsed="0.05" exit="success"/><hosts up="2" down="0" total="2"/>
</runstats>
</nmaprun>
"#;

    #[test]
    fn reads_nmap_connect_scan_output() {
        let scan = parse(NMAP_OUTPUT).expect("nmap output imports");
        assert_eq!(scan.scanner, "nmap");
        assert_eq!(scan.ports, vec![2967, 8081]);
        assert_eq!(scan.hosts.len(), 2);
        let first = &scan.hosts[0];
        assert_eq!(first.hostname.as_deref(), Some("localhost"));
        assert_eq!(first.result.reason, HostReason::UserSet);
        let open = first.result.port(2967).expect("port 2967");
        assert_eq!((open.state, open.reason), (PortState::Open, Reason::SynAck));
        let closed = first.result.port(8081).expect("port 8081");
        assert_eq!(closed.state, PortState::Closed);
        let second = &scan.hosts[1];
        assert_eq!(
            second.result.port(2967).map(|p| p.state),
            Some(PortState::Filtered)
        );
    }

    #[test]
    fn masscan_hosts_are_merged_and_up() {
        let scan = parse(
            r#"<?xml version="1.0"?><nmaprun scanner="masscan">
<host endtime="1"><address addr="10.0.0.9" addrtype="ipv4"/><ports><port protocol="tcp" portid="2967"><state state="open" reason="syn-ack" reason_ttl="64"/></port></ports></host>
<host endtime="1"><address addr="10.0.0.9" addrtype="ipv4"/><ports><port protocol="tcp" portid="445"><state state="open" reason="syn-ack" reason_ttl="64"/></port></ports></host>
</nmaprun>"#,
        )
        .expect("masscan output imports");
        assert_eq!(scan.hosts.len(), 1);
        let ports: Vec<u16> = scan.hosts[0].result.ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, vec![445, 2967]);
        assert_eq!(scan.ports, vec![445, 2967], "ports come from the hosts");
        assert_eq!(scan.hosts[0].result.state, HostState::Up);
    }

    #[test]
    fn entity_definitions_and_external_dtds_are_refused() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<nmaprun>&lol2;</nmaprun>"#;
        let error = parse(laughs).expect_err("billion laughs");
        assert!(error.to_string().contains("DOCTYPE"), "{error}");
        assert!(error.to_string().contains("line 2"), "{error}");
        let external =
            r#"<?xml version="1.0"?><!DOCTYPE nmaprun SYSTEM "file:///etc/passwd"><nmaprun/>"#;
        assert!(parse(external).is_err());
        let undeclared = r#"<nmaprun args="&xxe;"/>"#;
        let error = parse(undeclared).expect_err("undeclared entity");
        assert!(error.to_string().contains("line 1"), "{error}");
    }

    #[test]
    fn size_and_depth_are_bounded() {
        let limits = ImportLimits {
            max_bytes: 100,
            ..ImportLimits::default()
        };
        let error = parse_nmap_xml(&[b' '; 101], &limits).expect_err("too big");
        assert!(matches!(
            error,
            Error::ImportTooLarge {
                size: 101,
                limit: 100
            }
        ));
        let deep = format!(
            "<nmaprun>{}{}</nmaprun>",
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        );
        let error = parse(&deep).expect_err("too deep");
        assert!(error.to_string().contains("nested more than 32"), "{error}");
    }

    #[test]
    fn errors_say_where_and_what() {
        let error = parse("<html><body/></html>").expect_err("not nmap");
        assert!(error.to_string().contains("not <nmaprun>"), "{error}");
        let error = parse(r#"<nmaprun><host><address addr="10.0.0.300"/></host></nmaprun>"#)
            .expect_err("bad address");
        assert!(error.to_string().contains("host 1"), "{error}");
        assert!(error.to_string().contains("10.0.0.300"), "{error}");
        let error = parse(
            r#"<nmaprun><host><address addr="10.0.0.3"/><ports><port protocol="tcp" portid="65536"><state state="open"/></port></ports></host></nmaprun>"#,
        )
        .expect_err("bad port");
        assert!(error.to_string().contains("65536"), "{error}");
        let error = parse("<nmaprun><host>").expect_err("truncated");
        assert!(error.to_string().contains("line 1"), "{error}");
        assert!(parse_nmap_xml(b"\xff\xfe<", &ImportLimits::default()).is_err());
    }

    #[test]
    fn banners_unescape_what_the_writer_escaped() {
        let banner = Banner(b"SSH-2.0\r\n\\\x00\xff<script>".to_vec());
        assert_eq!(unescape_banner(&banner.lossy_text()), banner);
    }
}

//! Result writers: nmap XML (valid against nmap.dtd), nmap grepable lines and
//! JSON lines. Each writes a header, then one host at a time as results
//! stream in, then a footer, so output appears while the scan runs.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{HostResult, HostState, PortResult, PortState, ScanSummary};

/// nmap's XML format version that this output follows.
pub const XML_OUTPUT_VERSION: &str = "1.05";
/// The nmap release whose formats are reproduced (what readers key their parsing on).
pub const NMAP_FORMAT_VERSION: &str = "7.93";

/// What the header and footer describe.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// The command line, e.g. `avsweep scan -p 2967 -Pn 10.0.0.0/24`.
    pub args: String,
    pub ports: Vec<u16>,
    pub started: SystemTime,
}

/// Which hosts and ports get written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputFilter {
    /// nmap's `--open`: only open ports, only hosts that have one.
    pub open_only: bool,
    /// Also write hosts found down (nmap leaves them out unless verbose).
    pub include_down: bool,
}

impl OutputFilter {
    /// The ports to write for `host`, or `None` when the host is not written at all.
    fn select<'a>(&self, host: &'a HostResult) -> Option<Vec<&'a PortResult>> {
        if host.state == HostState::Down && !self.include_down {
            return None;
        }
        let ports: Vec<&PortResult> = host
            .ports
            .iter()
            .filter(|p| !self.open_only || p.state == PortState::Open)
            .collect();
        if self.open_only && ports.is_empty() {
            return None;
        }
        Some(ports)
    }
}

/// Names the product behind an open port, from a profile: the port alone, or the
/// port plus a banner regex (McAfee's `Server: McAfee-Agent-HttpSvr`). Shown
/// where nmap shows version detection results.
#[derive(Clone, Debug)]
pub struct ProductRule {
    pub port: u16,
    pub product: String,
    banner: Option<regex::bytes::Regex>,
}

impl ProductRule {
    pub fn new(port: u16, product: &str, banner_regex: &str) -> Result<ProductRule, crate::Error> {
        let banner = regex::bytes::RegexBuilder::new(banner_regex)
            .size_limit(1 << 20)
            .build()
            .map_err(|err| crate::Error::BadRegex {
                pattern: banner_regex.to_string(),
                reason: err.to_string(),
            })?;
        Ok(ProductRule {
            port,
            product: product.to_string(),
            banner: Some(banner),
        })
    }

    pub fn port_only(port: u16, product: &str) -> ProductRule {
        ProductRule {
            port,
            product: product.to_string(),
            banner: None,
        }
    }

    /// Whether this rule identifies the product on `port`.
    pub fn matches(&self, port: &PortResult) -> bool {
        port.port == self.port
            && port.state == PortState::Open
            && match (&self.banner, &port.banner) {
                (None, _) => true,
                (Some(regex), Some(banner)) => regex.is_match(banner.as_bytes()),
                (Some(_), None) => false,
            }
    }
}

/// The product the rules name for `port`: the first banner-confirmed rule wins over a port-only one.
pub fn product_for<'a>(rules: &'a [ProductRule], port: &PortResult) -> Option<&'a str> {
    let confirmed = rules
        .iter()
        .find(|rule| rule.banner.is_some() && rule.matches(port));
    confirmed
        .or_else(|| {
            rules
                .iter()
                .find(|rule| rule.banner.is_none() && rule.matches(port))
        })
        .map(|rule| rule.product.as_str())
}

pub trait ScanWriter {
    fn header(&mut self, run: &RunInfo) -> io::Result<()>;
    fn host(&mut self, host: &HostResult) -> io::Result<()>;
    fn footer(&mut self, run: &RunInfo, summary: &ScanSummary) -> io::Result<()>;
}

/// nmap-services names for the ports this tool cares about (nmap prints them in every format).
pub fn service_name(port: u16) -> Option<&'static str> {
    Some(match port {
        21 => "ftp",
        22 => "ssh",
        23 => "telnet",
        25 => "smtp",
        53 => "domain",
        80 => "http",
        135 => "msrpc",
        139 => "netbios-ssn",
        443 => "https",
        445 => "microsoft-ds",
        515 => "printer",
        548 => "afp",
        631 => "ipp",
        2967 => "symantec-av",
        3283 => "netassistant",
        3389 => "ms-wbt-server",
        5900 => "vnc",
        8080 => "http-proxy",
        8081 => "blackice-icecap",
        8192..=8194 => "sophos",
        9100 => "jetdirect",
        _ => return None,
    })
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// ctime(3)-style local time, as nmap prints it: `Tue Jan  2 10:00:00 2024`.
fn ctime(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Local>::from(time)
        .format("%a %b %e %H:%M:%S %Y")
        .to_string()
}

/// Ports as nmap's scaninfo@services lists them: ascending, runs collapsed (`22,80,8192-8194`).
pub fn port_list(ports: &[u16]) -> String {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut index = 0;
    while index < sorted.len() {
        let start = sorted[index];
        let mut end = start;
        while index + 1 < sorted.len() && sorted[index + 1] == end + 1 {
            index += 1;
            end = sorted[index];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        index += 1;
    }
    parts.join(",")
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, not even as references.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                escaped.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => escaped.push(c),
        }
    }
    escaped
}

fn address_type(host: &HostResult) -> &'static str {
    if host.address.is_ipv6() {
        "ipv6"
    } else {
        "ipv4"
    }
}

/// nmap XML. `nmaprun@scanner` must be `nmap` (the DTD allows nothing else);
/// `profile_name="avsweep"`, `args` and a comment say what really produced it.
pub struct XmlWriter<W: Write> {
    out: W,
    filter: OutputFilter,
    products: Vec<ProductRule>,
}

impl<W: Write> XmlWriter<W> {
    pub fn new(out: W, filter: OutputFilter) -> XmlWriter<W> {
        XmlWriter {
            out,
            filter,
            products: Vec::new(),
        }
    }

    /// Product names to report for open ports (see [`ProductRule`]).
    pub fn with_products(mut self, products: Vec<ProductRule>) -> XmlWriter<W> {
        self.products = products;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> ScanWriter for XmlWriter<W> {
    fn header(&mut self, run: &RunInfo) -> io::Result<()> {
        let ports = port_list(&run.ports);
        writeln!(self.out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(self.out, "<!DOCTYPE nmaprun>")?;
        writeln!(
            self.out,
            "<?xml-stylesheet href=\"file:///usr/share/nmap/nmap.xsl\" type=\"text/xsl\"?>"
        )?;
        writeln!(
            self.out,
            "<!-- avsweep {} TCP connect scan in nmap {} XML format: {} -->",
            env!("CARGO_PKG_VERSION"),
            NMAP_FORMAT_VERSION,
            xml_escape(&run.args).replace("--", "- -")
        )?;
        writeln!(
            self.out,
            "<nmaprun scanner=\"nmap\" profile_name=\"avsweep\" args=\"{}\" start=\"{}\" startstr=\"{}\" version=\"{}\" xmloutputversion=\"{}\">",
            xml_escape(&run.args),
            unix_seconds(run.started),
            ctime(run.started),
            NMAP_FORMAT_VERSION,
            XML_OUTPUT_VERSION
        )?;
        writeln!(
            self.out,
            "<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"{}\" services=\"{}\"/>",
            run.ports.len(),
            ports
        )?;
        writeln!(self.out, "<verbose level=\"0\"/>")?;
        writeln!(self.out, "<debugging level=\"0\"/>")?;
        self.out.flush()
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        let Some(ports) = self.filter.select(host) else {
            return Ok(());
        };
        writeln!(self.out, "<host>")?;
        writeln!(
            self.out,
            "<status state=\"{}\" reason=\"{}\" reason_ttl=\"0\"/>",
            host.state.as_str(),
            host.reason.as_str()
        )?;
        writeln!(
            self.out,
            "<address addr=\"{}\" addrtype=\"{}\"/>",
            host.address,
            address_type(host)
        )?;
        match &host.dns_name {
            Some(name) => writeln!(
                self.out,
                "<hostnames>\n<hostname name=\"{}\" type=\"PTR\"/>\n</hostnames>",
                xml_escape(name)
            )?,
            None => writeln!(self.out, "<hostnames>\n</hostnames>")?,
        }
        if host.state == HostState::Up {
            writeln!(self.out, "<ports>")?;
            for port in ports {
                write!(self.out, "<port protocol=\"tcp\" portid=\"{}\">", port.port)?;
                write!(
                    self.out,
                    "<state state=\"{}\" reason=\"{}\" reason_ttl=\"0\"/>",
                    port.state.as_str(),
                    port.reason.as_str()
                )?;
                match (service_name(port.port), product_for(&self.products, port)) {
                    (name, Some(product)) => write!(
                        self.out,
                        "<service name=\"{}\" product=\"{}\" method=\"probed\" conf=\"10\"/>",
                        name.unwrap_or("unknown"),
                        xml_escape(product)
                    )?,
                    (Some(name), None) => write!(
                        self.out,
                        "<service name=\"{name}\" method=\"table\" conf=\"3\"/>"
                    )?,
                    (None, None) => {}
                }
                if let Some(banner) = &port.banner {
                    write!(
                        self.out,
                        "<script id=\"banner\" output=\"{}\"/>",
                        xml_escape(&banner.lossy_text())
                    )?;
                }
                writeln!(self.out, "</port>")?;
            }
            writeln!(self.out, "</ports>")?;
            if !host.device.evidence.is_empty() {
                let text = format!(
                    "{} (confidence {}%): {}",
                    host.device.class,
                    host.device.confidence,
                    host.device.evidence.join("; ")
                );
                writeln!(
                    self.out,
                    "<hostscript><script id=\"avsweep-device-class\" output=\"{}\"/></hostscript>",
                    xml_escape(&text)
                )?;
            }
        }
        writeln!(self.out, "</host>")?;
        self.out.flush()
    }

    fn footer(&mut self, run: &RunInfo, summary: &ScanSummary) -> io::Result<()> {
        let finished = run.started + summary.elapsed;
        let elapsed = format!("{:.2}", summary.elapsed.as_secs_f64());
        writeln!(self.out, "<runstats>")?;
        writeln!(
            self.out,
            "<finished time=\"{}\" timestr=\"{}\" summary=\"{}\" elapsed=\"{}\" exit=\"success\"/>",
            unix_seconds(finished),
            ctime(finished),
            xml_escape(&done_summary(summary, &elapsed)),
            elapsed
        )?;
        writeln!(
            self.out,
            "<hosts up=\"{}\" down=\"{}\" total=\"{}\"/>",
            summary.hosts_up, summary.hosts_down, summary.total
        )?;
        writeln!(self.out, "</runstats>")?;
        writeln!(self.out, "</nmaprun>")?;
        self.out.flush()
    }
}

/// nmap's closing sentence: `256 IP addresses (3 hosts up) scanned in 2.07 seconds`.
fn done_summary(summary: &ScanSummary, elapsed: &str) -> String {
    let addresses = if summary.total == 1 {
        "IP address"
    } else {
        "IP addresses"
    };
    let hosts = if summary.hosts_up == 1 {
        "host"
    } else {
        "hosts"
    };
    let cancelled = if summary.cancelled {
        " (cancelled)"
    } else {
        ""
    };
    format!(
        "{} {addresses} ({} {hosts} up) scanned in {elapsed} seconds{cancelled}",
        summary.total, summary.hosts_up
    )
}

/// nmap's grepable format (`-oG`): TAB-separated fields, one `Status` and one `Ports` line per host.
pub struct GrepableWriter<W: Write> {
    out: W,
    filter: OutputFilter,
    products: Vec<ProductRule>,
}

impl<W: Write> GrepableWriter<W> {
    pub fn new(out: W, filter: OutputFilter) -> GrepableWriter<W> {
        GrepableWriter {
            out,
            filter,
            products: Vec::new(),
        }
    }

    /// Product names to report for open ports (see [`ProductRule`]).
    pub fn with_products(mut self, products: Vec<ProductRule>) -> GrepableWriter<W> {
        self.products = products;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A version text may not contain the field separator `/`; nmap writes `|` instead.
fn grepable_field(text: &str) -> String {
    text.replace('/', "|").replace(['\t', '\n', '\r'], " ")
}

impl<W: Write> ScanWriter for GrepableWriter<W> {
    fn header(&mut self, run: &RunInfo) -> io::Result<()> {
        writeln!(
            self.out,
            "# Nmap {} scan initiated {} as: {}",
            NMAP_FORMAT_VERSION,
            ctime(run.started),
            grepable_field(&run.args).replace('|', "/")
        )?;
        self.out.flush()
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        let Some(ports) = self.filter.select(host) else {
            return Ok(());
        };
        let status = match host.state {
            HostState::Up => "Up",
            HostState::Down => "Down",
        };
        let name = grepable_field(host.dns_name.as_deref().unwrap_or(""));
        writeln!(
            self.out,
            "Host: {} ({name})\tStatus: {}",
            host.address, status
        )?;
        if host.state == HostState::Up && !ports.is_empty() {
            let entries: Vec<String> = ports
                .iter()
                .map(|port| {
                    format!(
                        "{}/{}/tcp//{}//{}/",
                        port.port,
                        port.state.as_str(),
                        grepable_field(service_name(port.port).unwrap_or("")),
                        grepable_field(product_for(&self.products, port).unwrap_or(""))
                    )
                })
                .collect();
            writeln!(
                self.out,
                "Host: {} ({name})\tPorts: {}",
                host.address,
                entries.join(", ")
            )?;
        }
        self.out.flush()
    }

    fn footer(&mut self, run: &RunInfo, summary: &ScanSummary) -> io::Result<()> {
        let elapsed = format!("{:.2}", summary.elapsed.as_secs_f64());
        writeln!(
            self.out,
            "# Nmap done at {} -- {}",
            ctime(run.started + summary.elapsed),
            done_summary(summary, &elapsed)
        )?;
        self.out.flush()
    }
}

/// JSON lines: a `start` object, one `host` object per host, a `finished` object.
pub struct JsonLinesWriter<W: Write> {
    out: W,
    filter: OutputFilter,
    products: Vec<ProductRule>,
}

impl<W: Write> JsonLinesWriter<W> {
    pub fn new(out: W, filter: OutputFilter) -> JsonLinesWriter<W> {
        JsonLinesWriter {
            out,
            filter,
            products: Vec::new(),
        }
    }

    /// Product names to report for open ports (see [`ProductRule`]).
    pub fn with_products(mut self, products: Vec<ProductRule>) -> JsonLinesWriter<W> {
        self.products = products;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn line(&mut self, value: &serde_json::Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

impl<W: Write> ScanWriter for JsonLinesWriter<W> {
    fn header(&mut self, run: &RunInfo) -> io::Result<()> {
        self.line(&serde_json::json!({
            "type": "start",
            "scanner": "avsweep",
            "version": env!("CARGO_PKG_VERSION"),
            "args": run.args,
            "start": unix_seconds(run.started),
            "ports": run.ports,
        }))
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        let Some(ports) = self.filter.select(host) else {
            return Ok(());
        };
        let mut value = serde_json::to_value(host)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("type".into(), "host".into());
            let mut port_values = Vec::with_capacity(ports.len());
            for port in ports {
                let mut port_value = serde_json::to_value(port)?;
                if let (Some(object), Some(product)) = (
                    port_value.as_object_mut(),
                    product_for(&self.products, port),
                ) {
                    object.insert("product".into(), product.into());
                }
                port_values.push(port_value);
            }
            object.insert("ports".into(), port_values.into());
        }
        self.line(&value)
    }

    fn footer(&mut self, run: &RunInfo, summary: &ScanSummary) -> io::Result<()> {
        self.line(&serde_json::json!({
            "type": "finished",
            "time": unix_seconds(run.started + summary.elapsed),
            "elapsed": seconds(summary.elapsed),
            "hosts_up": summary.hosts_up,
            "hosts_down": summary.hosts_down,
            "total": summary.total,
            "cancelled": summary.cancelled,
        }))
    }
}

/// Human-readable output in the spirit of nmap's normal output (`-oN`), for terminals.
pub struct NormalWriter<W: Write> {
    out: W,
    filter: OutputFilter,
    products: Vec<ProductRule>,
}

impl<W: Write> NormalWriter<W> {
    pub fn new(out: W, filter: OutputFilter) -> NormalWriter<W> {
        NormalWriter {
            out,
            filter,
            products: Vec::new(),
        }
    }

    pub fn with_products(mut self, products: Vec<ProductRule>) -> NormalWriter<W> {
        self.products = products;
        self
    }
}

impl<W: Write> ScanWriter for NormalWriter<W> {
    fn header(&mut self, run: &RunInfo) -> io::Result<()> {
        writeln!(
            self.out,
            "Starting avsweep {} at {} ({})",
            env!("CARGO_PKG_VERSION"),
            ctime(run.started),
            run.args
        )?;
        self.out.flush()
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        let Some(ports) = self.filter.select(host) else {
            return Ok(());
        };
        writeln!(self.out, "avsweep scan report for {}", host.address)?;
        writeln!(
            self.out,
            "Host is {} ({}).",
            host.state.as_str(),
            host.reason.as_str()
        )?;
        if !ports.is_empty() {
            writeln!(
                self.out,
                "PORT       STATE    SERVICE          REASON            PRODUCT / BANNER"
            )?;
        }
        for port in ports {
            let detail = match (product_for(&self.products, port), &port.banner) {
                (Some(product), _) => product.to_string(),
                (None, Some(banner)) => banner.lossy_text().chars().take(60).collect(),
                (None, None) => String::new(),
            };
            writeln!(
                self.out,
                "{:<10} {:<8} {:<16} {:<17} {}",
                format!("{}/tcp", port.port),
                port.state.as_str(),
                service_name(port.port).unwrap_or("unknown"),
                port.reason.as_str(),
                detail
            )?;
        }
        if !host.device.evidence.is_empty() {
            writeln!(
                self.out,
                "Device class: {} (confidence {}%)",
                host.device.class, host.device.confidence
            )?;
            for line in &host.device.evidence {
                writeln!(self.out, "  {line}")?;
            }
        }
        writeln!(self.out)?;
        self.out.flush()
    }

    fn footer(&mut self, _run: &RunInfo, summary: &ScanSummary) -> io::Result<()> {
        let elapsed = format!("{:.2}", summary.elapsed.as_secs_f64());
        writeln!(
            self.out,
            "avsweep done: {}",
            done_summary(summary, &elapsed)
        )?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Banner, DeviceClass, DeviceGuess, HostReason, Reason};

    fn sample_hosts() -> Vec<HostResult> {
        let port = |port, reason: Reason, banner: Option<&[u8]>| PortResult {
            port,
            state: reason.port_state(),
            reason,
            banner: banner.map(|b| Banner(b.to_vec())),
            rtt: Some(Duration::from_micros(80)),
        };
        vec![
            HostResult {
                position: 0,
                address: "127.9.1.1".parse().expect("addr"),
                state: HostState::Up,
                reason: HostReason::UserSet,
                ports: vec![
                    port(2967, Reason::NoResponse, None),
                    port(
                        8081,
                        Reason::SynAck,
                        Some(
                            b"HTTP/1.0 200 OK\r\nServer: McAfee-Agent-HttpSvr/1.0\r\n<&\"\x00\xff",
                        ),
                    ),
                ],
                device: DeviceGuess {
                    class: DeviceClass::Windows,
                    confidence: 75,
                    evidence: vec!["135/tcp open (MS RPC) → windows (+40)".into()],
                },
                dns_name: Some("pc-1.lab<&>".into()),
            },
            HostResult {
                position: 1,
                address: "127.9.1.2".parse().expect("addr"),
                state: HostState::Down,
                reason: HostReason::NoResponse,
                ports: vec![],
                device: DeviceGuess::default(),
                dns_name: None,
            },
            HostResult {
                position: 2,
                address: "::1".parse().expect("addr"),
                state: HostState::Up,
                reason: HostReason::ConnRefused,
                ports: vec![
                    port(2967, Reason::ConnRefused, None),
                    port(12345, Reason::AdminProhibited, None),
                ],
                device: DeviceGuess::default(),
                dns_name: None,
            },
        ]
    }

    fn run_info() -> RunInfo {
        RunInfo {
            args: "avsweep scan -sT -p 2967,8081 -oG - 127.9.1.0/30".into(),
            ports: vec![2967, 8081],
            started: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    fn summary() -> ScanSummary {
        ScanSummary {
            hosts_up: 2,
            hosts_down: 1,
            total: 3,
            elapsed: Duration::from_millis(2070),
            cancelled: false,
        }
    }

    fn render<F: FnOnce(&mut Vec<u8>) -> Box<dyn ScanWriter + '_>>(make: F) -> String {
        let mut buffer = Vec::new();
        {
            let mut writer = make(&mut buffer);
            writer.header(&run_info()).expect("header");
            for host in sample_hosts() {
                writer.host(&host).expect("host");
            }
            writer.footer(&run_info(), &summary()).expect("footer");
        }
        String::from_utf8(buffer).expect("writers emit UTF-8")
    }

    #[test]
    fn grepable_matches_nmap_line_format() {
        let text = render(|out| Box::new(GrepableWriter::new(out, OutputFilter::default())));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("# Nmap 7.93 scan initiated "),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with(" as: avsweep scan -sT -p 2967,8081 -oG - 127.9.1.0/30"));
        assert_eq!(lines[1], "Host: 127.9.1.1 (pc-1.lab<&>)\tStatus: Up");
        assert_eq!(
            lines[2],
            "Host: 127.9.1.1 (pc-1.lab<&>)\tPorts: 2967/filtered/tcp//symantec-av///, 8081/open/tcp//blackice-icecap///"
        );
        assert_eq!(lines[3], "Host: ::1 ()\tStatus: Up");
        assert_eq!(
            lines[4],
            "Host: ::1 ()\tPorts: 2967/closed/tcp//symantec-av///, 12345/filtered/tcp/////"
        );
        assert!(lines[5].starts_with("# Nmap done at "));
        assert!(
            lines[5].ends_with(" -- 3 IP addresses (2 hosts up) scanned in 2.07 seconds"),
            "{}",
            lines[5]
        );
        assert_eq!(lines.len(), 6, "down hosts are left out like nmap does");
    }

    #[test]
    fn grepable_open_only() {
        let text = render(|out| {
            Box::new(GrepableWriter::new(
                out,
                OutputFilter {
                    open_only: true,
                    include_down: false,
                },
            ))
        });
        let hosts: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("Host:"))
            .collect();
        assert_eq!(
            hosts,
            vec![
                "Host: 127.9.1.1 (pc-1.lab<&>)\tStatus: Up",
                "Host: 127.9.1.1 (pc-1.lab<&>)\tPorts: 8081/open/tcp//blackice-icecap///"
            ]
        );
    }

    #[test]
    fn xml_is_escaped_and_complete() {
        let text = render(|out| Box::new(XmlWriter::new(out, OutputFilter::default())));
        assert!(text.contains("<nmaprun scanner=\"nmap\" profile_name=\"avsweep\""));
        assert!(text.contains(
            "<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"2\" services=\"2967,8081\"/>"
        ));
        assert!(text.contains("Server: McAfee-Agent-HttpSvr/1.0\\r\\n&lt;&amp;&quot;\\x00\\xff"));
        assert!(text.contains("<address addr=\"::1\" addrtype=\"ipv6\"/>"));
        assert!(
            text.contains(
                "<state state=\"filtered\" reason=\"admin-prohibited\" reason_ttl=\"0\"/>"
            )
        );
        assert!(text.contains("<hosts up=\"2\" down=\"1\" total=\"3\"/>"));
        assert!(text.contains("elapsed=\"2.07\""));
        assert!(!text.contains("127.9.1.2"));
        assert!(text.trim_end().ends_with("</nmaprun>"));
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let text = render(|out| {
            Box::new(JsonLinesWriter::new(
                out,
                OutputFilter {
                    open_only: false,
                    include_down: true,
                },
            ))
        });
        let values: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("valid JSON line"))
            .collect();
        assert_eq!(values.len(), 5);
        assert_eq!(values[0]["type"], "start");
        assert_eq!(values[1]["type"], "host");
        assert_eq!(values[1]["address"], "127.9.1.1");
        assert_eq!(values[1]["ports"][1]["state"], "open");
        assert_eq!(values[1]["ports"][1]["rtt_us"], 80);
        assert_eq!(values[1]["device"]["class"], "windows");
        assert_eq!(values[2]["state"], "down");
        assert_eq!(values[4]["type"], "finished");
        assert_eq!(values[4]["hosts_up"], 2);
    }

    #[test]
    fn products_need_the_banner_when_a_regex_is_given() {
        let rules = vec![
            ProductRule::new(8081, "McAfee Agent", r"(?m)^Server: McAfee-Agent-HttpSvr")
                .expect("regex"),
            ProductRule::port_only(2967, "Symantec AntiVirus"),
        ];
        let mut buffer = Vec::new();
        let mut writer =
            GrepableWriter::new(&mut buffer, OutputFilter::default()).with_products(rules.clone());
        for host in sample_hosts() {
            writer.host(&host).expect("host");
        }
        let text = String::from_utf8(buffer).expect("utf-8");
        assert!(
            text.contains("8081/open/tcp//blackice-icecap//McAfee Agent/"),
            "{text}"
        );
        // 2967 is filtered/closed in the samples: no product claimed.
        assert!(!text.contains("Symantec"));
        let mut other = sample_hosts().remove(0);
        other.ports[1].banner = Some(crate::Banner(
            b"HTTP/1.0 200 OK\r\nServer: nginx\r\n".to_vec(),
        ));
        assert_eq!(
            product_for(&rules, &other.ports[1]),
            None,
            "open port without the banner is not the agent"
        );
    }

    #[test]
    fn port_lists_collapse_runs() {
        assert_eq!(
            port_list(&[8194, 2967, 8192, 8193, 8081, 2967]),
            "2967,8081,8192-8194"
        );
        assert_eq!(port_list(&[]), "");
    }
}

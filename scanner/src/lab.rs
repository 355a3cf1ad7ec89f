//! The test lab: a private network namespace whose 127.x addresses play
//! hosts (AV agents with banners, Windows, Linux, macOS, printers, network
//! gear, firewalled and dark addresses), with nft rules inside the namespace
//! only. Nothing here touches the host's own network: the namespace has only
//! `lo` and no route out, and it is deleted when the [`Lab`] is dropped.
//!
//! Needs root. [`Lab::create_or_skip`] fails hard when `CI=true` and skips
//! (with a printed reason) elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::StreamExt;
use scanner::{
    DeviceClass, Error, HostResult, PortState, Reason, ScanConfig, ScanEvent, ScanSummary,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP service a lab host runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub port: u16,
    /// Sent as soon as a client connects (SSH, telnet, VNC, Sophos' IOR).
    pub greeting: Option<Vec<u8>>,
    /// Sent after the client's first request arrives (HTTP services).
    pub response: Option<Vec<u8>>,
}

impl Service {
    pub fn silent(port: u16) -> Service {
        Service {
            port,
            greeting: None,
            response: None,
        }
    }

    pub fn greeting(port: u16, text: &[u8]) -> Service {
        Service {
            greeting: Some(text.to_vec()),
            ..Service::silent(port)
        }
    }

    pub fn http(port: u16, server_header: &str) -> Service {
        let body =
            format!("HTTP/1.0 200 OK\r\nServer: {server_header}\r\nContent-Length: 0\r\n\r\n");
        Service {
            response: Some(body.into_bytes()),
            ..Service::silent(port)
        }
    }
}

/// How the namespace's firewall treats a port; the reason the scanner must report follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firewall {
    /// Silently dropped: filtered / no-response.
    Drop,
    /// ICMP host-unreachable: filtered / host-unreach.
    RejectHostUnreachable,
    /// ICMP net-unreachable: filtered / net-unreach.
    RejectNetUnreachable,
    /// ICMP "communication administratively prohibited" (type 3 code 13). For
    /// IPv4, Linux hands a connecting socket EHOSTUNREACH for it, so nmap's
    /// connect scan (and ours) says host-unreach; for IPv6 it is EACCES,
    /// admin-prohibited.
    RejectAdminProhibited,
}

impl Firewall {
    fn nft_verdict(self) -> &'static str {
        match self {
            Firewall::Drop => "drop",
            Firewall::RejectHostUnreachable => "reject with icmp type host-unreachable",
            Firewall::RejectNetUnreachable => "reject with icmp type net-unreachable",
            Firewall::RejectAdminProhibited => "reject with icmp type admin-prohibited",
        }
    }

    fn reason(self) -> Reason {
        match self {
            Firewall::Drop => Reason::NoResponse,
            Firewall::RejectHostUnreachable => Reason::HostUnreach,
            Firewall::RejectNetUnreachable => Reason::NetUnreach,
            Firewall::RejectAdminProhibited => Reason::HostUnreach,
        }
    }
}

/// One lab address and the ground truth about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabHost {
    pub address: Ipv4Addr,
    pub role: &'static str,
    pub services: Vec<Service>,
    /// Per-port firewall rules.
    pub firewalled: BTreeMap<u16, Firewall>,
    /// Every port except these is dropped (a host whose discovery ports are all firewalled).
    pub only_ports_reachable: Option<Vec<u16>>,
    /// Everything to this address is dropped.
    pub dark: bool,
    pub expected_class: DeviceClass,
}

impl LabHost {
    pub fn new(
        address: Ipv4Addr,
        role: &'static str,
        expected_class: DeviceClass,
        services: Vec<Service>,
    ) -> LabHost {
        LabHost {
            address,
            role,
            services,
            firewalled: BTreeMap::new(),
            only_ports_reachable: None,
            dark: false,
            expected_class,
        }
    }

    pub fn dark(address: Ipv4Addr) -> LabHost {
        LabHost {
            dark: true,
            ..LabHost::new(address, "dark", DeviceClass::Unknown, Vec::new())
        }
    }

    pub fn with_firewall(mut self, port: u16, rule: Firewall) -> LabHost {
        self.firewalled.insert(port, rule);
        self
    }

    /// The state and reason a connect scan must report for `port`.
    pub fn expected_port(&self, port: u16) -> (PortState, Reason) {
        let dropped_by_allowlist = self
            .only_ports_reachable
            .as_ref()
            .is_some_and(|allowed| !allowed.contains(&port));
        if self.dark || dropped_by_allowlist {
            return (PortState::Filtered, Reason::NoResponse);
        }
        if let Some(rule) = self.firewalled.get(&port) {
            return (PortState::Filtered, rule.reason());
        }
        if self.services.iter().any(|service| service.port == port) {
            (PortState::Open, Reason::SynAck)
        } else {
            (PortState::Closed, Reason::ConnRefused)
        }
    }

    /// Whether TCP discovery on `discovery_ports` must find the host up.
    pub fn expected_up(&self, discovery_ports: &[u16]) -> bool {
        discovery_ports
            .iter()
            .any(|&port| self.expected_port(port).0 != PortState::Filtered)
    }
}

/// What the lab builds: explicit hosts, plus optionally a bulk block whose
/// addresses are live (no services: every port refuses) when listed in
/// `live` and dark otherwise.
#[derive(Clone, Debug, Default)]
pub struct LabPlan {
    pub hosts: Vec<LabHost>,
    pub bulk: Option<BulkBlock>,
    /// TCP ports on `::1` rejected with ICMPv6 admin-prohibited (reported as admin-prohibited).
    pub ipv6_admin_prohibited_ports: Vec<u16>,
}

#[derive(Clone, Debug)]
pub struct BulkBlock {
    pub network: Ipv4Addr,
    pub prefix_len: u8,
    pub live: BTreeSet<Ipv4Addr>,
}

impl BulkBlock {
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        let mask = if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix_len))
        };
        u32::from(address) & mask == u32::from(self.network) & mask
    }

    pub fn spec(&self) -> String {
        format!("{}/{}", self.network, self.prefix_len)
    }
}

pub const SSH_DEBIAN: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
pub const SSH_WINDOWS: &[u8] = b"SSH-2.0-OpenSSH_for_Windows_8.1\r\n";
pub const RFB_APPLE: &[u8] = b"RFB 003.889\n";
pub const CISCO_TELNET: &[u8] =
    b"\xff\xfb\x01\xff\xfb\x03\r\n\r\nUser Access Verification\r\n\r\nUsername: ";
pub const SOPHOS_IOR: &[u8] =
    b"IOR:010000002600000049444c3a536f70686f732f4d657373616765526f757465723a312e30000000";

impl LabPlan {
    /// One host per role in 127.77.0.0/24 (see the module docs), with ground truth.
    pub fn standard() -> LabPlan {
        let at = |last: u8| Ipv4Addr::new(127, 77, 0, last);
        let windows = |extra: Vec<Service>| {
            let mut services = vec![Service::silent(135), Service::silent(445)];
            services.extend(extra);
            services
        };
        let mut hosts = vec![
            LabHost::new(
                at(10),
                "mcafee-agent on windows",
                DeviceClass::Windows,
                windows(vec![Service::http(8081, "McAfee-Agent-HttpSvr/1.0")]),
            ),
            LabHost::new(
                at(11),
                "symantec-sav on windows",
                DeviceClass::Windows,
                windows(vec![Service::silent(2967), Service::silent(3389)]),
            ),
            LabHost::new(
                at(12),
                "sophos-rms on windows",
                DeviceClass::Windows,
                windows(vec![Service::greeting(8192, SOPHOS_IOR)]),
            ),
            LabHost::new(
                at(13),
                "officescan on windows",
                DeviceClass::Windows,
                windows(vec![
                    Service::http(4343, "OfficeScan Client"),
                    Service::silent(139),
                ]),
            ),
            LabHost::new(
                at(14),
                "web server on 8081 (not McAfee) on linux",
                DeviceClass::LinuxUnix,
                vec![
                    Service::http(8081, "nginx/1.22.1"),
                    Service::greeting(22, SSH_DEBIAN),
                ],
            ),
            LabHost::new(
                at(20),
                "linux server",
                DeviceClass::LinuxUnix,
                vec![Service::greeting(22, SSH_DEBIAN)],
            ),
            LabHost::new(
                at(21),
                "mac",
                DeviceClass::MacOs,
                vec![Service::greeting(5900, RFB_APPLE), Service::silent(548)],
            ),
            LabHost::new(
                at(22),
                "printer",
                DeviceClass::Printer,
                vec![
                    Service::silent(9100),
                    Service::silent(515),
                    Service::silent(631),
                ],
            ),
            LabHost::new(
                at(23),
                "cisco switch",
                DeviceClass::NetworkDevice,
                vec![Service::greeting(23, CISCO_TELNET)],
            ),
            LabHost::new(
                at(24),
                "windows with openssh",
                DeviceClass::Windows,
                windows(vec![Service::greeting(22, SSH_WINDOWS)]),
            ),
            LabHost::new(
                at(25),
                "bare host, nothing listens",
                DeviceClass::Unknown,
                Vec::new(),
            ),
            LabHost::new(at(30), "2967 dropped", DeviceClass::Unknown, Vec::new())
                .with_firewall(2967, Firewall::Drop),
            LabHost::new(
                at(31),
                "2967 host-unreachable",
                DeviceClass::Unknown,
                Vec::new(),
            )
            .with_firewall(2967, Firewall::RejectHostUnreachable),
            LabHost::new(
                at(32),
                "2967 admin-prohibited",
                DeviceClass::Unknown,
                Vec::new(),
            )
            .with_firewall(2967, Firewall::RejectAdminProhibited),
            LabHost::new(
                at(33),
                "2967 net-unreachable",
                DeviceClass::Unknown,
                Vec::new(),
            )
            .with_firewall(2967, Firewall::RejectNetUnreachable),
        ];
        let mut stealthy = LabHost::new(
            at(34),
            "only 2967 reachable (discovery sees nothing)",
            DeviceClass::Unknown,
            vec![Service::silent(2967)],
        );
        stealthy.only_ports_reachable = Some(vec![2967]);
        hosts.push(stealthy);
        hosts.extend((40..50).map(|last| LabHost::dark(at(last))));
        LabPlan {
            hosts,
            bulk: None,
            ipv6_admin_prohibited_ports: vec![2967],
        }
    }

    /// A block of `2^(32-prefix_len)` addresses from `network` where a
    /// pseudo-random `live_fraction` is live and every `av_every`-th live host
    /// runs a silent listener on `av_port`.
    pub fn bulk(
        network: Ipv4Addr,
        prefix_len: u8,
        live_fraction: f64,
        av_port: u16,
        av_every: usize,
        seed: u64,
    ) -> LabPlan {
        let size = 1u64 << (32 - u32::from(prefix_len));
        let base = u32::from(network);
        let mut state = seed;
        let mut live = BTreeSet::new();
        let mut hosts = Vec::new();
        for offset in 0..size {
            let address = Ipv4Addr::from(base + offset as u32);
            if (next_random(&mut state) as f64 / u64::MAX as f64) < live_fraction {
                live.insert(address);
                if live.len() % av_every.max(1) == 0 {
                    hosts.push(LabHost::new(
                        address,
                        "av agent",
                        DeviceClass::Unknown,
                        vec![Service::silent(av_port)],
                    ));
                }
            }
        }
        LabPlan {
            hosts,
            bulk: Some(BulkBlock {
                network,
                prefix_len,
                live,
            }),
            ipv6_admin_prohibited_ports: Vec::new(),
        }
    }

    /// Ground truth for any IPv4 address in the namespace: defined hosts, bulk
    /// addresses, and otherwise plain loopback (up, every port refused).
    pub fn truth(&self, address: Ipv4Addr) -> LabHost {
        if let Some(host) = self.hosts.iter().find(|host| host.address == address) {
            return host.clone();
        }
        match self.bulk.as_ref().filter(|bulk| bulk.contains(address)) {
            Some(bulk) if !bulk.live.contains(&address) => LabHost::dark(address),
            Some(_) => LabHost::new(address, "live", DeviceClass::Unknown, Vec::new()),
            None => LabHost::new(address, "plain loopback", DeviceClass::Unknown, Vec::new()),
        }
    }

    fn nft_ruleset(&self) -> String {
        let mut rules = Vec::new();
        for host in &self.hosts {
            let address = host.address;
            if host.dark {
                rules.push(format!("ip daddr {address} drop"));
                continue;
            }
            if let Some(allowed) = &host.only_ports_reachable {
                let ports: Vec<String> = allowed.iter().map(u16::to_string).collect();
                rules.push(format!(
                    "ip daddr {address} tcp dport != {{ {} }} drop",
                    ports.join(", ")
                ));
            }
            for (port, rule) in &host.firewalled {
                rules.push(format!(
                    "ip daddr {address} tcp dport {port} {}",
                    rule.nft_verdict()
                ));
            }
        }
        for port in &self.ipv6_admin_prohibited_ports {
            rules.push(format!(
                "ip6 daddr ::1 tcp dport {port} reject with icmpv6 type admin-prohibited"
            ));
        }
        let mut sets = String::new();
        if let Some(bulk) = &self.bulk {
            let mut live: BTreeSet<Ipv4Addr> = bulk.live.clone();
            live.extend(
                self.hosts
                    .iter()
                    .filter(|host| !host.dark)
                    .map(|host| host.address),
            );
            if !live.is_empty() {
                let elements: Vec<String> = live.iter().map(Ipv4Addr::to_string).collect();
                sets = format!(
                    "  set live {{ type ipv4_addr; elements = {{ {} }} }}\n",
                    elements.join(", ")
                );
                rules.push(format!("ip daddr {} ip daddr != @live drop", bulk.spec()));
            } else {
                rules.push(format!("ip daddr {} drop", bulk.spec()));
            }
        }
        // Input hook: packets are dropped or rejected on arrival, as a remote firewall would.
        format!(
            "table inet avsweep_lab {{\n{sets}  chain input {{\n    type filter hook input priority 0; policy accept;\n{}\n  }}\n}}\n",
            rules
                .iter()
                .map(|rule| format!("    {rule}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}

fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn lab_error(step: &str, detail: impl ToString) -> Error {
    Error::Lab {
        step: step.to_string(),
        detail: detail.to_string(),
    }
}

fn run_checked(step: &str, command: &mut Command, stdin: Option<&str>) -> Result<(), Error> {
    command.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| lab_error(step, e))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|e| lab_error(step, e))?;
    }
    let output = child.wait_with_output().map_err(|e| lab_error(step, e))?;
    if !output.status.success() {
        return Err(lab_error(
            step,
            String::from_utf8_lossy(&output.stderr).trim(),
        ));
    }
    Ok(())
}

/// Enters the namespace at `/run/netns/NAME` on the calling thread only.
fn enter_namespace(name: &str) -> Result<(), Error> {
    let file =
        File::open(format!("/run/netns/{name}")).map_err(|e| lab_error("open the namespace", e))?;
    // SAFETY: setns on a valid namespace fd; CLONE_NEWNET switches only this thread's network namespace.
    let result = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if result != 0 {
        return Err(lab_error("setns", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// A running lab. Dropping it stops the services and deletes the namespace.
pub struct Lab {
    name: String,
    pub plan: LabPlan,
    stop_services: Option<tokio::sync::oneshot::Sender<()>>,
    services_thread: Option<std::thread::JoinHandle<()>>,
}

static LAB_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Lab {
    /// Builds the namespace, its firewall and its services.
    pub fn create(plan: LabPlan) -> Result<Lab, Error> {
        let name = format!(
            "avsweep-lab-{}-{}",
            std::process::id(),
            LAB_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        run_checked(
            "ip netns add",
            Command::new("ip").args(["netns", "add", &name]),
            None,
        )?;
        // From here on, Drop cleans up whatever was built.
        let mut lab = Lab {
            name,
            plan,
            stop_services: None,
            services_thread: None,
        };
        run_checked(
            "bringing lo up",
            Command::new("ip").args(["-n", &lab.name, "link", "set", "lo", "up"]),
            None,
        )?;
        let ruleset = lab.plan.nft_ruleset();
        run_checked(
            "loading nft rules",
            Command::new("ip").args(["netns", "exec", &lab.name, "nft", "-f", "-"]),
            Some(&ruleset),
        )?;
        lab.start_services()?;
        Ok(lab)
    }

    /// Like [`Lab::create`]; when the lab cannot be built, fails when `CI=true`, otherwise prints why and returns `None`.
    pub fn create_or_skip(plan: LabPlan) -> Option<Lab> {
        match Lab::create(plan) {
            Ok(lab) => Some(lab),
            Err(error) if std::env::var("CI").is_ok_and(|value| value == "true") => {
                panic!("CI=true and the network-namespace lab cannot be built: {error}")
            }
            Err(error) => {
                eprintln!("skipping lab test: {error}");
                None
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs inside the namespace (`ip netns exec NAME program`).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    fn start_services(&mut self) -> Result<(), Error> {
        let services: Vec<(SocketAddr, Service)> = self
            .plan
            .hosts
            .iter()
            .filter(|host| !host.dark)
            .flat_map(|host| {
                host.services.iter().map(move |service| {
                    (
                        SocketAddr::new(IpAddr::V4(host.address), service.port),
                        service.clone(),
                    )
                })
            })
            .collect();
        let (ready_sender, ready) = std::sync::mpsc::channel::<Result<(), Error>>();
        let (stop_sender, stop) = tokio::sync::oneshot::channel::<()>();
        let name = self.name.clone();
        let thread = std::thread::Builder::new()
            .name("lab-services".into())
            .spawn(move || {
                let setup = enter_namespace(&name).and_then(|()| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| lab_error("service runtime", e))
                });
                let runtime = match setup {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_sender.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut listeners = Vec::new();
                    for (address, service) in services {
                        match bind_listener(address) {
                            Ok(listener) => listeners.push((listener, service)),
                            Err(error) => {
                                let _ = ready_sender.send(Err(lab_error(
                                    &format!("listening on {address}"),
                                    error,
                                )));
                                return;
                            }
                        }
                    }
                    for (listener, service) in listeners {
                        tokio::spawn(serve(listener, service));
                    }
                    let _ = ready_sender.send(Ok(()));
                    let _ = stop.await;
                });
            })
            .map_err(|e| lab_error("spawning the service thread", e))?;
        self.stop_services = Some(stop_sender);
        self.services_thread = Some(thread);
        ready
            .recv()
            .map_err(|e| lab_error("starting services", e))?
    }

    /// Runs `work` on a thread inside the namespace, with a fresh multi-threaded
    /// tokio runtime (its workers inherit the namespace), and returns its output.
    pub fn run<F, Fut, T>(&self, work: F) -> Result<T, Error>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T>,
        T: Send + 'static,
    {
        let name = self.name.clone();
        std::thread::spawn(move || -> Result<T, Error> {
            enter_namespace(&name)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| lab_error("scanner runtime", e))?;
            Ok(runtime.block_on(work()))
        })
        .join()
        .map_err(|_| lab_error("running inside the namespace", "the scan thread panicked"))?
    }

    /// Runs a whole scan inside the namespace and collects every host result.
    pub fn scan(&self, config: ScanConfig) -> Result<(Vec<HostResult>, ScanSummary), Error> {
        self.run(move || collect_scan(config))?
    }
}

/// Drives a scan to the end and collects its hosts and summary.
pub async fn collect_scan(config: ScanConfig) -> Result<(Vec<HostResult>, ScanSummary), Error> {
    let mut handle = scanner::start(config);
    let mut hosts = Vec::new();
    while let Some(event) = handle.next().await {
        match event {
            ScanEvent::Host(host) => hosts.push(host),
            ScanEvent::Progress(_) => {}
            ScanEvent::Finished(summary) => return Ok((hosts, summary)),
        }
    }
    Err(lab_error(
        "scan",
        "the event stream ended without a summary",
    ))
}

fn bind_listener(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(1024)
}

async fn serve(listener: tokio::net::TcpListener, service: Service) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            if let Some(greeting) = &service.greeting {
                let _ = stream.write_all(greeting).await;
            }
            let mut buffer = [0u8; 1024];
            if let Some(response) = &service.response {
                // Answer once the client has sent its request (an HTTP GET ends with an empty line).
                let mut request = Vec::new();
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
                        .await
                    {
                        Ok(Ok(read)) if read > 0 => request.extend_from_slice(&buffer[..read]),
                        _ => break,
                    }
                }
                let _ = stream.write_all(response).await;
                return;
            }
            // Keep the connection until the client leaves, like an interactive service.
            while let Ok(Ok(read)) =
                tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await
            {
                if read == 0 {
                    break;
                }
            }
        });
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(stop) = self.stop_services.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.services_thread.take() {
            let _ = thread.join();
        }
        if let Err(error) = run_checked(
            "ip netns del",
            Command::new("ip").args(["netns", "del", &self.name]),
            None,
        ) {
            eprintln!("lab cleanup: {error}");
        }
    }
}

/// Peak resident memory of this process (VmHWM), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

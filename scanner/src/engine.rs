//! The scan engine: walks the target permutation, discovers hosts, probes
//! ports with bounded parallelism and adaptive timeouts, and streams results.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::classify::{PortEvidence, classify};
use crate::probe::{self, Attempt};
use crate::{
    CLASSIFIER_PORTS, DEFAULT_DISCOVERY_PORTS, DeviceGuess, HostReason, HostResult, HostState,
    Permutation, PortResult, Progress, Reason, RttEstimator, ScanEvent, ScanSummary, TargetSet,
    Timing, TimingTemplate,
};

/// Banner grabbing for one port: what to send after connecting, how much to read and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BannerProbe {
    pub port: u16,
    pub send: Option<Vec<u8>>,
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl BannerProbe {
    /// Reads whatever the service says first (up to 512 bytes, 2 s).
    pub fn read(port: u16) -> BannerProbe {
        BannerProbe {
            port,
            send: None,
            max_bytes: 512,
            timeout: Duration::from_secs(2),
        }
    }

    /// Sends `bytes` first, then reads.
    pub fn send(port: u16, bytes: &[u8]) -> BannerProbe {
        BannerProbe {
            send: Some(bytes.to_vec()),
            ..BannerProbe::read(port)
        }
    }
}

/// How a scan runs. Build with [`ScanConfig::new`] and adjust the public fields.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    pub targets: TargetSet,
    pub ports: Vec<u16>,
    /// `-Pn` / `-P0`: every target is up (reason `user-set`).
    pub skip_discovery: bool,
    pub discovery_ports: Vec<u16>,
    /// Also send unprivileged ICMP echo requests during discovery where the kernel allows it.
    pub icmp_discovery: bool,
    pub timing: Timing,
    /// Probes per second, across the whole scan.
    pub max_rate: Option<f64>,
    /// Connects in flight at once; `None` sizes it from `RLIMIT_NOFILE` (soft raised to hard).
    pub max_in_flight: Option<usize>,
    pub max_in_flight_per_host: usize,
    pub banners: Vec<BannerProbe>,
    /// Probe the classifier ports (see [`crate::CLASSIFIER_PORTS`]) on up hosts and guess a device class.
    pub classify_devices: bool,
    /// Seed of the target permutation: the same seed gives the same order.
    pub seed: u64,
    /// Resume: positions below this were finished by an earlier run and are skipped.
    pub start_position: u64,
    /// Name servers asked for the PTR name of every up host, in turn. Empty
    /// (the default) looks nothing up, like nmap's `-n`: a scan sends packets
    /// only where it was told to.
    pub dns_servers: Vec<SocketAddr>,
    /// Addresses that must never be contacted (exclusions added after the
    /// targets were fixed). They keep their permutation positions, so a resumed
    /// scan walks the same order, but no packet is ever sent to them and they
    /// produce no host result.
    pub never_probe: TargetSet,
}

impl ScanConfig {
    /// Defaults: discovery on (ports 80, 443, 445, 135, 22 and ICMP echo where allowed),
    /// `-T3` timing, no rate limit, in-flight bound from `RLIMIT_NOFILE`, 32 per host,
    /// no banners, no device classes, a random seed, start at position 0, no
    /// reverse DNS.
    pub fn new(targets: TargetSet, ports: Vec<u16>) -> ScanConfig {
        ScanConfig {
            targets,
            ports,
            skip_discovery: false,
            discovery_ports: DEFAULT_DISCOVERY_PORTS.to_vec(),
            icmp_discovery: true,
            timing: TimingTemplate::T3.timing(),
            max_rate: None,
            max_in_flight: None,
            max_in_flight_per_host: 32,
            banners: Vec::new(),
            classify_devices: false,
            seed: random_seed(),
            start_position: 0,
            dns_servers: Vec::new(),
            never_probe: TargetSet::default(),
        }
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    // RandomState is keyed from the OS's randomness; hashing the clock adds per-call variation.
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// Cancels a running scan; cheap to clone and to send between threads.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(CancellationToken);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// A running scan: a stream of [`ScanEvent`]s that ends after [`ScanEvent::Finished`].
/// Dropping the handle cancels the scan.
pub struct ScanHandle {
    events: mpsc::Receiver<ScanEvent>,
    cancel: CancelToken,
}

impl ScanHandle {
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }
}

impl futures::Stream for ScanHandle {
    type Item = ScanEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ScanEvent>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for ScanHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Starts a scan on the current tokio runtime.
///
/// # Panics
/// When called outside a tokio runtime (like `tokio::spawn`).
pub fn start(config: ScanConfig) -> ScanHandle {
    let (sender, events) = mpsc::channel(1024);
    let cancel = CancelToken::default();
    let engine = Arc::new(Engine::new(config, cancel.0.clone()));
    tokio::spawn(drive(engine, sender));
    ScanHandle { events, cancel }
}

/// Descriptors kept free for everything else the process does (listeners, files, the runtime).
const DESCRIPTOR_RESERVE: u64 = 256;
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);

struct Engine {
    config: ScanConfig,
    permutation: Permutation,
    sockets: Arc<Semaphore>,
    congestion: Congestion,
    rate: Option<RateLimiter>,
    global_rtt: Mutex<RttEstimator>,
    /// Highest retransmission number that ever got an answer; retries beyond it + 1 are pointless (nmap's rule).
    max_successful_try: AtomicU32,
    probes_sent: AtomicU64,
    icmp: bool,
    cancel: CancellationToken,
}

impl Engine {
    fn new(config: ScanConfig, cancel: CancellationToken) -> Engine {
        let max_in_flight = config.max_in_flight.unwrap_or_else(|| {
            let descriptors = probe::raise_open_file_limit();
            usize::try_from(descriptors.saturating_sub(DESCRIPTOR_RESERVE).max(64))
                .unwrap_or(usize::MAX)
                .min(1 << 16)
        });
        let max_in_flight = max_in_flight.max(1);
        let sockets = Arc::new(Semaphore::new(max_in_flight));
        let icmp = config.icmp_discovery && !config.skip_discovery && probe::icmp::available();
        tracing::debug!(
            max_in_flight,
            icmp,
            targets = config.targets.len(),
            "scan starting"
        );
        Engine {
            permutation: Permutation::new(config.targets.len(), config.seed),
            congestion: Congestion::new(sockets.clone(), max_in_flight),
            sockets,
            rate: config
                .max_rate
                .filter(|rate| *rate > 0.0)
                .map(RateLimiter::new),
            global_rtt: Mutex::new(RttEstimator::new(&config.timing)),
            max_successful_try: AtomicU32::new(0),
            probes_sent: AtomicU64::new(0),
            icmp,
            cancel,
            config,
        }
    }

    fn allowed_retries(&self) -> u32 {
        self.config
            .timing
            .max_retries
            .min(self.max_successful_try.load(Ordering::Relaxed) + 1)
    }

    fn timeout_for(&self, host: &HostTiming) -> Duration {
        let own = host
            .rtt
            .lock()
            .map(|rtt| rtt.has_samples().then(|| rtt.timeout()))
            .unwrap_or(None);
        own.unwrap_or_else(|| {
            self.global_rtt
                .lock()
                .map(|rtt| rtt.timeout())
                .unwrap_or(self.config.timing.initial_rtt_timeout)
        })
    }

    fn observe_rtt(&self, host: &HostTiming, rtt: Duration) {
        if let Ok(mut estimator) = host.rtt.lock() {
            estimator.observe(rtt);
        }
        if let Ok(mut estimator) = self.global_rtt.lock() {
            estimator.observe(rtt);
        }
    }

    /// Probes one port with retransmissions; returns the result and, for open ports, the connection.
    async fn probe_port(
        &self,
        host: &HostTiming,
        target: SocketAddr,
    ) -> (PortResult, Option<tokio::net::TcpStream>) {
        let mut try_number: u32 = 0;
        let mut local_failures: u32 = 0;
        loop {
            let permit = tokio::select! {
                permit = self.sockets.clone().acquire_owned() => permit,
                () = self.cancel.cancelled() => return (filtered(target.port()), None),
            };
            let Ok(permit) = permit else {
                return (filtered(target.port()), None);
            };
            if let Some(rate) = &self.rate {
                rate.wait().await;
            }
            self.probes_sent.fetch_add(1, Ordering::Relaxed);
            match probe::connect_with_deadline(target, || self.timeout_for(host), None).await {
                Attempt::Answered {
                    reason,
                    rtt,
                    stream,
                } => {
                    self.observe_rtt(host, rtt);
                    host.answered.store(true, Ordering::Relaxed);
                    if try_number > 0 {
                        // An earlier attempt was lost although the target answers: that is congestion.
                        self.max_successful_try
                            .fetch_max(try_number, Ordering::Relaxed);
                        self.congestion.on_loss();
                    } else {
                        self.congestion.on_answer();
                    }
                    drop(permit);
                    let result = PortResult {
                        port: target.port(),
                        state: reason.port_state(),
                        reason,
                        banner: None,
                        rtt: Some(rtt),
                    };
                    return (result, stream);
                }
                Attempt::TimedOut => {
                    drop(permit);
                    try_number += 1;
                    if try_number > self.allowed_retries() {
                        return (filtered(target.port()), None);
                    }
                }
                Attempt::LocalFailure(error) => {
                    drop(permit);
                    local_failures += 1;
                    if local_failures == 1 || local_failures.is_multiple_of(100) {
                        tracing::warn!(%target, %error, local_failures, "local failure while connecting; retrying shortly");
                    }
                    self.congestion.on_local_failure();
                    // Back off a little, longer each time, so descriptors or ports can free up.
                    let pause = Duration::from_millis(10 * u64::from(local_failures.min(50)));
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = self.cancel.cancelled() => return (filtered(target.port()), None),
                    }
                }
            }
        }
    }

    /// Probes `port` and, when open, reads its banner if a probe is configured for it.
    async fn probe_with_banner(
        &self,
        host: &HostTiming,
        address: IpAddr,
        port: u16,
        banner: Option<&BannerProbe>,
    ) -> PortResult {
        let (mut result, stream) = self.probe_port(host, SocketAddr::new(address, port)).await;
        if let Some(mut stream) = stream {
            if let Some(banner_probe) = banner {
                result.banner = probe::read_banner(
                    &mut stream,
                    banner_probe.send.as_deref(),
                    banner_probe.max_bytes,
                    banner_probe.timeout,
                )
                .await;
            }
            probe::abort(stream);
        }
        result
    }

    /// TCP (and ICMP) discovery: up as soon as anything answers; probes still running are dropped.
    async fn discover(
        &self,
        host: &HostTiming,
        address: IpAddr,
        found: &mut HashMap<u16, PortResult>,
    ) -> (HostState, HostReason) {
        let mut pending = FuturesUnordered::new();
        for &port in &self.config.discovery_ports {
            let banner = self.banner_probe_for(port);
            pending.push(Box::pin(async move {
                Some(
                    self.probe_with_banner(host, address, port, banner.as_ref())
                        .await,
                )
            })
                as Pin<Box<dyn Future<Output = Option<PortResult>> + Send + '_>>);
        }
        if self.icmp {
            let timeout = self.timeout_for(host) * (self.allowed_retries() + 1);
            pending.push(Box::pin(async move {
                if probe::icmp::ping(address, timeout).await {
                    None
                } else {
                    Some(filtered(0))
                }
            }));
        }
        while let Some(outcome) = pending.next().await {
            match outcome {
                None => return (HostState::Up, HostReason::EchoReply),
                Some(result) => {
                    let verdict = match result.reason {
                        Reason::SynAck => Some(HostReason::SynAck),
                        Reason::ConnRefused => Some(HostReason::ConnRefused),
                        _ => None,
                    };
                    if result.port != 0 {
                        found.insert(result.port, result);
                    }
                    if let Some(reason) = verdict {
                        return (HostState::Up, reason);
                    }
                }
            }
        }
        (HostState::Down, HostReason::NoResponse)
    }

    fn banner_probe_for(&self, port: u16) -> Option<BannerProbe> {
        if let Some(configured) = self.config.banners.iter().find(|probe| probe.port == port) {
            return Some(configured.clone());
        }
        // The classifier needs what SSH, telnet and VNC say on connect.
        (self.config.classify_devices && matches!(port, 22 | 23 | 5900)).then(|| BannerProbe {
            max_bytes: 256,
            timeout: Duration::from_millis(1500),
            ..BannerProbe::read(port)
        })
    }

    async fn scan_host(self: Arc<Self>, position: u64, address: IpAddr) -> HostResult {
        let host = HostTiming {
            rtt: Mutex::new(RttEstimator::new(&self.config.timing)),
            answered: Default::default(),
        };
        let mut found: HashMap<u16, PortResult> = HashMap::new();
        let (state, reason) = if self.config.skip_discovery {
            (HostState::Up, HostReason::UserSet)
        } else {
            self.discover(&host, address, &mut found).await
        };
        let mut result = HostResult {
            position,
            address,
            state,
            reason,
            ports: Vec::new(),
            device: DeviceGuess::default(),
            dns_name: None,
        };
        if state == HostState::Down {
            return result;
        }
        let mut wanted: Vec<u16> = self.config.ports.clone();
        if self.config.classify_devices {
            wanted.extend_from_slice(CLASSIFIER_PORTS);
        }
        wanted.sort_unstable();
        wanted.dedup();
        // Discovery may have stopped early; a port it never finished is probed again here.
        let missing: Vec<u16> = wanted
            .iter()
            .copied()
            .filter(|port| !found.contains_key(port))
            .collect();
        let engine = &self;
        let host = &host;
        let probed: Vec<PortResult> = futures::stream::iter(missing)
            .map(|port| {
                let banner = engine.banner_probe_for(port);
                async move {
                    engine
                        .probe_with_banner(host, address, port, banner.as_ref())
                        .await
                }
            })
            .buffer_unordered(self.config.max_in_flight_per_host.max(1))
            .collect()
            .await;
        for port_result in probed {
            found.insert(port_result.port, port_result);
        }
        if self.config.classify_devices {
            let evidence: Vec<PortEvidence<'_>> = CLASSIFIER_PORTS
                .iter()
                .filter_map(|port| found.get(port))
                .map(|port_result| PortEvidence {
                    port: port_result.port,
                    open: port_result.state == crate::PortState::Open,
                    banner: port_result.banner.as_ref(),
                })
                .collect();
            result.device = classify(&evidence);
        }
        let mut ports: Vec<PortResult> = self
            .config
            .ports
            .iter()
            .filter_map(|port| found.remove(port))
            .collect();
        ports.sort_by_key(|port_result| port_result.port);
        ports.dedup_by_key(|port_result| port_result.port);
        result.ports = ports;
        if !self.config.dns_servers.is_empty() {
            // The lookup's UDP socket is a descriptor like any probe's.
            let permit = tokio::select! {
                permit = self.sockets.clone().acquire_owned() => permit.ok(),
                () = self.cancel.cancelled() => None,
            };
            if permit.is_some() {
                result.dns_name = crate::rdns::lookup(&self.config.dns_servers, address).await;
            }
        }
        result
    }
}

fn filtered(port: u16) -> PortResult {
    PortResult {
        port,
        state: crate::PortState::Filtered,
        reason: Reason::NoResponse,
        banner: None,
        rtt: None,
    }
}

struct HostTiming {
    rtt: Mutex<RttEstimator>,
    answered: std::sync::atomic::AtomicBool,
}

/// Congestion control on the in-flight window. Only losses proven by a
/// retransmission that did get an answer shrink it, so dark address space and
/// silently firewalled ports (which never answer) do not throttle the scan the
/// way they make nmap collapse to one probe at a time.
struct Congestion {
    sockets: Arc<Semaphore>,
    max: usize,
    floor: usize,
    withheld: AtomicUsize,
    last_cut: Mutex<Option<Instant>>,
}

impl Congestion {
    /// Minimum time between two window cuts: one loss episode cuts once.
    const CUT_SPACING: Duration = Duration::from_millis(200);

    fn new(sockets: Arc<Semaphore>, max: usize) -> Congestion {
        Congestion {
            sockets,
            max,
            floor: (max / 16).clamp(1, 256).min(max),
            withheld: AtomicUsize::new(0),
            last_cut: Mutex::new(None),
        }
    }

    fn on_answer(&self) {
        // Additive increase: give back one withheld slot per answer.
        if self
            .withheld
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| w.checked_sub(1))
            .is_ok()
        {
            self.sockets.add_permits(1);
        }
    }

    fn on_loss(&self) {
        let Ok(mut last) = self.last_cut.lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < Self::CUT_SPACING) {
            return;
        }
        *last = Some(Instant::now());
        let window = self.max - self.withheld.load(Ordering::Relaxed);
        let target = (window / 2).max(self.floor);
        let removed = self.sockets.forget_permits(window.saturating_sub(target));
        self.withheld.fetch_add(removed, Ordering::Relaxed);
        tracing::debug!(
            window,
            target,
            removed,
            "loss detected; halving the in-flight window"
        );
    }

    fn on_local_failure(&self) {
        // Running out of descriptors or ports is a local limit: treat it like a loss.
        self.on_loss();
    }
}

struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    fn new(per_second: f64) -> RateLimiter {
        RateLimiter {
            interval: Duration::from_secs_f64(1.0 / per_second.max(1e-3)),
            next_slot: Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let slot = {
            let Ok(mut next) = self.next_slot.lock() else {
                return;
            };
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Tracks which positions are finished, to know the lowest unfinished one (the resume point).
struct CompletionWindow {
    base: u64,
    finished: VecDeque<bool>,
}

impl CompletionWindow {
    fn new(base: u64) -> CompletionWindow {
        CompletionWindow {
            base,
            finished: VecDeque::new(),
        }
    }

    fn started(&mut self, position: u64) {
        debug_assert_eq!(position, self.base + self.finished.len() as u64);
        self.finished.push_back(false);
    }

    fn finish(&mut self, position: u64) {
        if let Some(slot) = position
            .checked_sub(self.base)
            .and_then(|offset| self.finished.get_mut(offset as usize))
        {
            *slot = true;
        }
        while self.finished.front() == Some(&true) {
            self.finished.pop_front();
            self.base += 1;
        }
    }

    /// Every position below this is finished.
    fn resume_position(&self) -> u64 {
        self.base
    }
}

async fn drive(engine: Arc<Engine>, events: mpsc::Sender<ScanEvent>) {
    let started = Instant::now();
    let total = engine.permutation.len();
    let first = engine.config.start_position.min(total);
    let mut next_position = first;
    let mut window = CompletionWindow::new(first);
    let mut running: JoinSet<HostResult> = JoinSet::new();
    let mut running_positions: HashMap<tokio::task::Id, u64> = HashMap::new();
    // Each running host holds at least one socket while it probes; more hosts than sockets would only queue.
    let host_parallelism = engine.sockets.available_permits().max(1);
    let (mut hosts_up, mut hosts_down) = (0u64, 0u64);
    // Positions whose address is in `never_probe`: passed over, never contacted.
    let mut passed_over = 0u64;
    let mut cancelled = false;
    let mut ticker = tokio::time::interval(PROGRESS_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        while running.len() < host_parallelism
            && next_position < total
            && !engine.cancel.is_cancelled()
        {
            let Some(address) = engine
                .permutation
                .index_at(next_position)
                .and_then(|index| engine.config.targets.get(u128::from(index)))
            else {
                break;
            };
            window.started(next_position);
            if engine.config.never_probe.contains(address) {
                window.finish(next_position);
                next_position += 1;
                passed_over += 1;
                if passed_over.is_multiple_of(4096) {
                    // A large excluded block must not hold this runtime thread for long.
                    tokio::task::yield_now().await;
                }
                continue;
            }
            let handle = running.spawn(engine.clone().scan_host(next_position, address));
            running_positions.insert(handle.id(), next_position);
            next_position += 1;
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            // Cancel first; then the progress tick, which is ready at most once
            // per interval: below `joined` it would starve while hosts finish
            // back to back, and the resume position would never be reported.
            biased;
            () = engine.cancel.cancelled() => {
                cancelled = true;
                running.abort_all();
                break;
            }
            _ = ticker.tick() => {
                let progress = progress(&engine, started, first, hosts_up + hosts_down + passed_over, total, window.resume_position());
                let _ = events.send(ScanEvent::Progress(progress)).await;
            }
            joined = running.join_next_with_id() => {
                let Some(joined) = joined else { continue };
                match joined {
                    Ok((id, host)) => {
                        running_positions.remove(&id);
                        match host.state {
                            HostState::Up => hosts_up += 1,
                            HostState::Down => hosts_down += 1,
                        }
                        let position = host.position;
                        if events.send(ScanEvent::Host(host)).await.is_err() {
                            // Nobody listens any more: stop scanning.
                            engine.cancel.cancel();
                        }
                        window.finish(position);
                    }
                    Err(error) => {
                        let position = running_positions.remove(&error.id());
                        tracing::error!(?position, %error, "a host scan task failed; its result is missing");
                        if let Some(position) = position {
                            window.finish(position);
                        }
                    }
                }
            }
        }
    }
    let finished = hosts_up + hosts_down;
    let _ = events
        .send(ScanEvent::Progress(progress(
            &engine,
            started,
            first,
            finished + passed_over,
            total,
            window.resume_position(),
        )))
        .await;
    let summary = ScanSummary {
        hosts_up,
        hosts_down,
        total: finished,
        elapsed: started.elapsed(),
        cancelled,
    };
    tracing::debug!(
        ?summary,
        probes = engine.probes_sent.load(Ordering::Relaxed),
        "scan finished"
    );
    let _ = events.send(ScanEvent::Finished(summary)).await;
}

fn progress(
    engine: &Engine,
    started: Instant,
    skipped: u64,
    finished: u64,
    total: u64,
    resume_position: u64,
) -> Progress {
    let seconds = started.elapsed().as_secs_f64().max(1e-3);
    let hosts_per_sec = finished as f64 / seconds;
    let done = skipped + finished;
    let remaining = total.saturating_sub(done);
    Progress {
        done,
        total,
        resume_position,
        probes_per_sec: engine.probes_sent.load(Ordering::Relaxed) as f64 / seconds,
        hosts_per_sec,
        eta: (hosts_per_sec > 0.0)
            .then(|| Duration::from_secs_f64(remaining as f64 / hosts_per_sec)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_probe_addresses_keep_positions_but_get_no_result() {
        // Loopback only: 127.0.0.1-8 with ports nobody listens on.
        let mut config = ScanConfig::new(TargetSet::parse("127.0.0.1-8").expect("valid"), vec![9]);
        config.skip_discovery = true;
        config.max_in_flight = Some(16);
        config.seed = 7;
        config.never_probe = TargetSet::parse("127.0.0.3,127.0.0.6-7").expect("valid");
        let mut handle = start(config);
        let mut addresses = Vec::new();
        let mut last_progress = None;
        while let Some(event) = handle.next().await {
            match event {
                ScanEvent::Host(host) => addresses.push(host.address.to_string()),
                ScanEvent::Progress(progress) => last_progress = Some(progress),
                ScanEvent::Finished(_) => break,
            }
        }
        addresses.sort();
        assert_eq!(
            addresses,
            [
                "127.0.0.1",
                "127.0.0.2",
                "127.0.0.4",
                "127.0.0.5",
                "127.0.0.8"
            ]
        );
        let progress = last_progress.expect("a final progress report");
        assert_eq!((progress.done, progress.total), (8, 8));
        assert_eq!(
            progress.resume_position, 8,
            "passed-over positions count as finished"
        );
    }

    #[test]
    fn completion_window_tracks_lowest_unfinished() {
        let mut window = CompletionWindow::new(10);
        for position in 10..15 {
            window.started(position);
        }
        window.finish(12);
        window.finish(11);
        assert_eq!(window.resume_position(), 10);
        window.finish(10);
        assert_eq!(window.resume_position(), 13);
        window.finish(14);
        window.finish(13);
        assert_eq!(window.resume_position(), 15);
    }

    #[test]
    fn allowed_retries_follow_successful_retransmissions() {
        let targets = TargetSet::parse("127.0.0.1").expect("valid");
        let mut config = ScanConfig::new(targets, vec![1]);
        config.max_in_flight = Some(8);
        let engine = Engine::new(config, CancellationToken::new());
        assert_eq!(engine.allowed_retries(), 1);
        engine.max_successful_try.store(3, Ordering::Relaxed);
        assert_eq!(engine.allowed_retries(), 4);
        engine.max_successful_try.store(30, Ordering::Relaxed);
        assert_eq!(engine.allowed_retries(), 10, "capped by the template");
    }

    #[test]
    fn congestion_halves_to_a_floor_and_recovers() {
        let sockets = Arc::new(Semaphore::new(1024));
        let congestion = Congestion::new(sockets.clone(), 1024);
        congestion.on_loss();
        assert_eq!(sockets.available_permits(), 512);
        // A second loss right away belongs to the same episode.
        congestion.on_loss();
        assert_eq!(sockets.available_permits(), 512);
        *congestion.last_cut.lock().expect("lock") = None;
        congestion.on_loss();
        assert_eq!(sockets.available_permits(), 256);
        for _ in 0..10 {
            *congestion.last_cut.lock().expect("lock") = None;
            congestion.on_loss();
        }
        assert_eq!(sockets.available_permits(), 64, "never below max/16");
        congestion.on_answer();
        assert_eq!(sockets.available_permits(), 65);
    }
}

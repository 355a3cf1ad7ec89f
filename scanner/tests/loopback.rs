//! Scans of real listeners on plain 127.x addresses (no namespace needed):
//! every 127/8 address is local on Linux, so closed ports refuse at once.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::StreamExt;
use scanner::lab::collect_scan;
use scanner::{
    BannerProbe, DeviceClass, HostReason, HostState, PortState, Reason, ScanConfig, ScanEvent,
    TargetSet, start,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// Listens on `address` (port 0: any free port) and greets every client with `greeting`.
async fn listener(address: &str, greeting: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind(address)
        .await
        .expect("bind a loopback listener");
    let local = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.write_all(greeting).await;
                tokio::time::sleep(Duration::from_secs(3)).await;
            });
        }
    });
    local
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_closed_banner_and_discovery_on_loopback() {
    let ssh = listener("127.61.0.2:0", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await;
    let port = ssh.port();
    let mut config = ScanConfig::new(
        TargetSet::parse("127.61.0.1-3").expect("targets"),
        vec![port],
    );
    config.banners = vec![BannerProbe::read(port)];
    config.seed = 5;
    let (hosts, summary) = collect_scan(config).await.expect("scan");
    assert_eq!(
        (summary.hosts_up, summary.hosts_down, summary.total),
        (3, 0, 3)
    );
    for host in &hosts {
        assert_eq!(host.state, HostState::Up);
        // Loopback refuses the discovery ports: up by conn-refused, like nmap's connect ping.
        assert_eq!(host.reason, HostReason::ConnRefused);
        let result = host.port(port).expect("scanned port");
        if host.address == ssh.ip() {
            assert_eq!(
                (result.state, result.reason),
                (PortState::Open, Reason::SynAck)
            );
            let banner = result.banner.as_ref().expect("banner read");
            assert_eq!(banner.lossy_text(), "SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n");
            assert!(result.rtt.is_some());
        } else {
            assert_eq!(
                (result.state, result.reason),
                (PortState::Closed, Reason::ConnRefused)
            );
            assert!(result.banner.is_none());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_class_from_real_ssh_banner() {
    // Port 22 itself may be taken on a developer machine; 127.62.0.9 is almost certainly free.
    let Ok(listener) = TcpListener::bind("127.62.0.9:22").await else {
        eprintln!("skipping: cannot bind 127.62.0.9:22");
        return;
    };
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")
                .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let mut config = ScanConfig::new(TargetSet::parse("127.62.0.9").expect("targets"), vec![2967]);
    config.classify_devices = true;
    config.skip_discovery = true;
    let (hosts, _) = collect_scan(config).await.expect("scan");
    assert_eq!(
        hosts[0].device.class,
        DeviceClass::LinuxUnix,
        "{:?}",
        hosts[0].device
    );
    assert!(
        hosts[0]
            .device
            .evidence
            .iter()
            .any(|line| line.contains("Ubuntu"))
    );
    // Classifier ports are evidence, not results: only the asked-for port is reported.
    assert_eq!(hosts[0].ports.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_is_reproducible_and_resumable() {
    let order = |seed: u64, start_position: u64| async move {
        let mut config =
            ScanConfig::new(TargetSet::parse("127.63.0.0/26").expect("targets"), vec![9]);
        config.skip_discovery = true;
        config.seed = seed;
        config.start_position = start_position;
        config.max_in_flight = Some(1);
        let (hosts, _) = collect_scan(config).await.expect("scan");
        hosts
            .iter()
            .map(|host| (host.position, host.address))
            .collect::<Vec<(u64, IpAddr)>>()
    };
    let full = order(11, 0).await;
    assert_eq!(full.len(), 64);
    assert_eq!(
        full.iter()
            .map(|(position, _)| *position)
            .collect::<Vec<_>>(),
        (0..64).collect::<Vec<_>>(),
        "one in flight: positions in order"
    );
    let mut addresses: Vec<IpAddr> = full.iter().map(|(_, address)| *address).collect();
    assert_eq!(order(11, 0).await, full, "same seed, same order");
    assert_ne!(order(12, 0).await, full, "another seed, another order");
    assert_eq!(
        order(11, 40).await,
        full[40..].to_vec(),
        "resume continues the same order"
    );
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 64, "every address exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_resume_point_and_cancel() {
    let mut config = ScanConfig::new(
        TargetSet::parse("127.64.0.0/20").expect("targets"),
        vec![1, 2, 3],
    );
    config.skip_discovery = true;
    config.max_rate = Some(2000.0);
    let mut handle = start(config);
    let mut hosts_seen = Vec::new();
    let mut last_progress = None;
    let mut summary = None;
    while let Some(event) = handle.next().await {
        match event {
            ScanEvent::Host(host) => {
                hosts_seen.push(host.position);
                if hosts_seen.len() == 200 {
                    handle.cancel();
                }
            }
            ScanEvent::Progress(progress) => last_progress = Some(progress),
            ScanEvent::Finished(done) => summary = Some(done),
        }
    }
    let summary = summary.expect("a summary after cancel");
    assert!(summary.cancelled);
    assert!(summary.total < 4096);
    let progress = last_progress.expect("progress events");
    assert_eq!(progress.total, 4096);
    assert!(progress.probes_per_sec > 0.0);
    // Every position below the resume point was emitted.
    hosts_seen.sort_unstable();
    assert!(progress.resume_position as usize <= hosts_seen.len());
    assert_eq!(
        hosts_seen[..progress.resume_position as usize],
        (0..progress.resume_position).collect::<Vec<_>>()[..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_dns_names_come_only_from_the_configured_server() {
    use scanner::rdns::responder::PtrResponder;
    use std::collections::HashMap;
    let named: IpAddr = "127.61.4.1".parse().unwrap();
    let hostile: IpAddr = "127.61.4.2".parse().unwrap();
    let dns = PtrResponder::start(
        "127.61.4.53:0",
        HashMap::from([
            (
                named,
                vec![b"pc-17".to_vec(), b"corp".to_vec(), b"example".to_vec()],
            ),
            (
                hostile,
                vec![b"<script>alert(1)</script>".to_vec(), b"lab".to_vec()],
            ),
        ]),
    )
    .await
    .expect("a loopback DNS responder");
    let mut config = ScanConfig::new(TargetSet::parse("127.61.4.1-3").unwrap(), vec![2967]);
    config.skip_discovery = true;
    config.dns_servers = vec![dns.addr];
    let (hosts, _) = collect_scan(config).await.expect("scan");
    let names: HashMap<String, Option<String>> = hosts
        .iter()
        .map(|h| (h.address.to_string(), h.dns_name.clone()))
        .collect();
    assert_eq!(names["127.61.4.1"].as_deref(), Some("pc-17.corp.example"));
    // Markup survives as text: escaping is the UI's job, and it must do it.
    assert_eq!(
        names["127.61.4.2"].as_deref(),
        Some("<script>alert(1)</script>.lab")
    );
    assert_eq!(names["127.61.4.3"], None, "NXDOMAIN: no name");

    // Without a server nothing is looked up.
    let mut quiet = ScanConfig::new(TargetSet::parse("127.61.4.1").unwrap(), vec![2967]);
    quiet.skip_discovery = true;
    let (hosts, _) = collect_scan(quiet).await.expect("scan");
    assert_eq!(hosts[0].dns_name, None);
}

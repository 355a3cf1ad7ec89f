//! Lab tests: the scanner runs inside a private network namespace whose
//! 127.x hosts and nft rules are the ground truth. Needs root (skips with a
//! printed reason elsewhere; fails when CI=true).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use scanner::lab::{Lab, LabPlan};
use scanner::{
    BannerProbe, DeviceClass, HostReason, HostResult, HostState, PortState, ScanConfig, TargetSet,
    TimingTemplate, banner_matches, catalogue,
};

const AV_PORTS: &[u16] = &[2967, 4343, 8081, 8192, 21112];
const LAB_BLOCK: &str = "127.77.0.0/24";

fn v4(host: &HostResult) -> Ipv4Addr {
    match host.address {
        IpAddr::V4(address) => address,
        IpAddr::V6(address) => panic!("unexpected IPv6 result {address}"),
    }
}

fn lab_config(spec: &str) -> ScanConfig {
    let mut config = ScanConfig::new(
        TargetSet::parse(spec).expect("lab targets"),
        AV_PORTS.to_vec(),
    );
    config.timing = TimingTemplate::T4.timing();
    config.seed = 1;
    config
}

#[test]
fn discovery_states_reasons_banners_and_device_classes_match_ground_truth() {
    let Some(lab) = Lab::create_or_skip(LabPlan::standard()) else {
        return;
    };
    let mut config = lab_config(LAB_BLOCK);
    config.classify_devices = true;
    let mcafee = catalogue::find("mcafee-agent").expect("profile");
    config.banners = vec![
        BannerProbe::send(8081, mcafee.probe.expect("probe")),
        BannerProbe::send(4343, b"GET / HTTP/1.0\r\n\r\n"),
        BannerProbe::read(8192),
    ];
    let discovery_ports = config.discovery_ports.clone();
    let (hosts, summary) = lab.scan(config).expect("scan runs in the lab");
    assert_eq!(summary.total, 256);
    assert_eq!(hosts.len(), 256);
    assert!(!summary.cancelled);

    let mut checked = 0;
    for host in &hosts {
        let truth = lab.plan.truth(v4(host));
        checked += 1;
        let expected_up = truth.expected_up(&discovery_ports);
        assert_eq!(
            host.state == HostState::Up,
            expected_up,
            "{} ({}): {host:?}",
            truth.address,
            truth.role
        );
        if !expected_up {
            assert_eq!(host.reason, HostReason::NoResponse);
            assert!(host.ports.is_empty());
            continue;
        }
        assert!(
            matches!(host.reason, HostReason::SynAck | HostReason::ConnRefused),
            "{host:?}"
        );
        for &port in AV_PORTS {
            let result = host
                .port(port)
                .unwrap_or_else(|| panic!("{} lacks port {port}", truth.address));
            assert_eq!(
                (result.state, result.reason),
                truth.expected_port(port),
                "{} ({}) port {port}",
                truth.address,
                truth.role
            );
        }
        assert_eq!(
            host.device.class, truth.expected_class,
            "{} ({}): {:?}",
            truth.address, truth.role, host.device
        );
        if truth.expected_class != DeviceClass::Unknown {
            assert!(
                host.device.confidence > 0 && !host.device.evidence.is_empty(),
                "{:?}",
                host.device
            );
        }
    }
    assert_eq!(checked, 256);

    // Banner checks: the McAfee agent matches its profile, the nginx on 8081 does not.
    let regex = mcafee.banner_regex.expect("regex");
    let banner_of = |last: u8, port: u16| {
        let host = hosts
            .iter()
            .find(|h| h.address == IpAddr::V4(Ipv4Addr::new(127, 77, 0, last)))
            .expect("host");
        host.port(port)
            .and_then(|p| p.banner.clone())
            .unwrap_or_else(|| panic!("no banner on .{last}:{port}"))
    };
    assert!(banner_matches(regex, &banner_of(10, 8081)).expect("regex"));
    assert!(!banner_matches(regex, &banner_of(14, 8081)).expect("regex"));
    let officescan = catalogue::find("officescan")
        .and_then(|p| p.banner_regex)
        .expect("regex");
    assert!(banner_matches(officescan, &banner_of(13, 4343)).expect("regex"));
    assert!(banner_matches(r"^IOR:", &banner_of(12, 8192)).expect("regex"));
}

#[test]
fn skip_discovery_reports_dark_and_firewalled_ports_like_nmap() {
    let Some(lab) = Lab::create_or_skip(LabPlan::standard()) else {
        return;
    };
    let mut config = lab_config("127.77.0.30-49");
    config.skip_discovery = true;
    config.ports = vec![2967];
    let (hosts, summary) = lab.scan(config).expect("scan");
    assert_eq!(summary.hosts_up, 20);
    for host in &hosts {
        assert_eq!(
            (host.state, host.reason),
            (HostState::Up, HostReason::UserSet)
        );
        let truth = lab.plan.truth(v4(host));
        let port = host.port(2967).expect("2967 result");
        assert_eq!(
            (port.state, port.reason),
            truth.expected_port(2967),
            "{} ({})",
            truth.address,
            truth.role
        );
    }
    // .34 drops every port but 2967: discovery misses it, -Pn finds the open port.
    let stealthy = hosts
        .iter()
        .find(|h| h.address == IpAddr::V4(Ipv4Addr::new(127, 77, 0, 34)))
        .expect(".34");
    assert_eq!(stealthy.port(2967).map(|p| p.state), Some(PortState::Open));
}

#[test]
fn dark_space_does_not_collapse_parallelism() {
    let Some(lab) = Lab::create_or_skip(LabPlan::standard()) else {
        return;
    };
    // 10 dark hosts × 5 discovery ports, T4: serially that would be 50 probes × 2 tries × ≥100 ms = 10 s.
    let config = lab_config("127.77.0.40-49");
    let started = std::time::Instant::now();
    let (hosts, summary) = lab.scan(config).expect("scan");
    assert_eq!(summary.hosts_down, 10);
    assert!(hosts.iter().all(|host| host.state == HostState::Down));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "dark hosts took {:?}",
        started.elapsed()
    );
}

#[test]
fn cli_grepable_output_inside_the_namespace() {
    let Some(lab) = Lab::create_or_skip(LabPlan::standard()) else {
        return;
    };
    let output = lab
        .command(env!("CARGO_BIN_EXE_avsweep-scan"))
        .args([
            "-p",
            "2967",
            "-Pn",
            "-T4",
            "--seed",
            "3",
            "-oG",
            "-",
            "127.77.0.8-15",
        ])
        .output()
        .expect("run avsweep-scan in the namespace");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let open: Vec<&str> = text.lines().filter(|line| line.contains("open")).collect();
    assert_eq!(
        open,
        vec!["Host: 127.77.0.11 ()\tPorts: 2967/open/tcp//symantec-av///"]
    );
    assert!(
        text.lines()
            .last()
            .is_some_and(|line| line.contains("8 IP addresses (8 hosts up)")),
        "{text}"
    );
}

#[test]
fn ipv6_admin_prohibited_is_reported_as_such() {
    let Some(lab) = Lab::create_or_skip(LabPlan::standard()) else {
        return;
    };
    let mut config = lab_config("::1");
    config.skip_discovery = true;
    // Over loopback the ICMPv6 error arrives while connect() still holds the socket, so
    // the kernel only records it as a soft error and reports it on its SYN retransmission
    // one second later; on a real network the error arrives an RTT later and counts at once.
    config.timing.min_rtt_timeout = Duration::from_millis(1500);
    config.timing.max_rtt_timeout = Duration::from_secs(3);
    config.ports = vec![2967, 2968];
    let (hosts, _) = lab.scan(config).expect("scan");
    let port = |number| {
        hosts[0]
            .port(number)
            .map(|p| (p.state, p.reason))
            .expect("result")
    };
    assert_eq!(
        port(2967),
        (PortState::Filtered, scanner::Reason::AdminProhibited)
    );
    assert_eq!(
        port(2968),
        (PortState::Closed, scanner::Reason::ConnRefused)
    );
}

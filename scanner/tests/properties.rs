//! Property tests for the two parsers that read text from outside: target
//! specifications and nmap XML. They stand in for cargo-fuzz (which needs a
//! nightly toolchain the build machines do not have) and run in `cargo test`
//! with a bounded number of cases: never a panic, bounded time, and
//! parse(print(x)) == x where printing exists.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use proptest::prelude::*;
use scanner::import::{ImportLimits, parse_nmap_xml};
use scanner::output::{OutputFilter, RunInfo, ScanWriter, XmlWriter};
use scanner::{
    Banner, DeviceClass, DeviceGuess, HostReason, HostResult, HostState, PortResult, Reason,
    ScanSummary, TargetSet,
};

/// Anything a person (or an attacker) might type where targets go.
fn target_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[0-9*./,: -]{0,24}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9*-]{1,7}\\.[0-9*-]{1,7}",
        "[0-9a-f:]{0,20}/[0-9]{1,3}",
        any::<String>(),
        "[\u{202e}\u{200b}\u{ff10}-\u{ff19}\u{3002}\u{ff0e}0-9.]{0,20}",
    ];
    proptest::collection::vec(token, 0..4).prop_map(|tokens| tokens.join(","))
}

fn ipv4_block() -> impl Strategy<Value = String> {
    (any::<u32>(), 8u8..=32).prop_map(|(bits, prefix)| format!("{}/{prefix}", Ipv4Addr::from(bits)))
}

fn ipv6_block() -> impl Strategy<Value = String> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(bits, prefix)| format!("{}/{prefix}", Ipv6Addr::from(bits)))
}

fn octet_range() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("*".to_string()),
        (0u8..=255).prop_map(|n| n.to_string()),
        (0u8..=255, 0u8..=255).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
    ];
    // Leading octets fixed: specs that expand to over a million ranges are refused by design.
    (0u8..=255, 0u8..=255, part.clone(), part).prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"))
}

fn valid_spec() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        ipv4_block(),
        ipv6_block(),
        octet_range(),
        any::<u32>().prop_map(|bits| Ipv4Addr::from(bits).to_string()),
    ];
    proptest::collection::vec(token, 1..5).prop_map(|tokens| tokens.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn target_parsing_never_panics_and_is_quick(include in target_text(), exclude in target_text()) {
        let started = Instant::now();
        match TargetSet::parse_with_exclusions(&include, &exclude) {
            Ok(set) => {
                // Looking at the set is as safe as building it.
                let _ = set.get(0);
                let _ = set.get(set.len_u128().saturating_sub(1));
                let _ = set.to_string();
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
        prop_assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn printed_targets_parse_to_the_same_set(include in valid_spec(), exclude in valid_spec()) {
        let set = TargetSet::parse_with_exclusions(&include, &exclude).expect("generated specs are valid");
        let printed = set.to_string();
        let reparsed = TargetSet::parse(&printed).expect("printed specs parse");
        prop_assert_eq!(reparsed, set, "printed as {}", printed);
    }

    #[test]
    fn xml_import_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_nmap_xml(&bytes, &ImportLimits::default());
    }

    #[test]
    fn xml_import_never_panics_on_mangled_nmap_files(
        hosts in proptest::collection::vec(host_result(), 0..4),
        cut in any::<prop::sample::Index>(),
        insert in "[<>&;\"'/= a-z!\\[\\]-]{0,12}",
    ) {
        let mut text = write_xml(&hosts);
        let at = cut.index(text.len() + 1);
        // Cut and splice on a character boundary: the writer emits ASCII and UTF-8 names.
        let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.insert_str(at, &insert);
        let started = Instant::now();
        let _ = parse_nmap_xml(text.as_bytes(), &ImportLimits::default());
        let _ = parse_nmap_xml(&text.as_bytes()[..at], &ImportLimits::default());
        prop_assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn what_we_write_as_nmap_xml_imports_back_unchanged(hosts in unique_hosts()) {
        let text = write_xml(&hosts);
        let scan = parse_nmap_xml(text.as_bytes(), &ImportLimits::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let imported: Vec<HostResult> = scan.hosts.into_iter().map(|host| host.result).collect();
        prop_assert_eq!(imported, hosts);
        prop_assert_eq!(scan.ports, PORTS.to_vec());
    }
}

const PORTS: &[u16] = &[22, 445, 2967, 8081];

fn write_xml(hosts: &[HostResult]) -> String {
    let run = RunInfo {
        args: "avsweep scan -p 22,445,2967,8081 -oX - <targets>".into(),
        ports: PORTS.to_vec(),
        started: SystemTime::UNIX_EPOCH,
    };
    let mut writer = XmlWriter::new(
        Vec::new(),
        OutputFilter {
            open_only: false,
            include_down: true,
        },
    );
    writer.header(&run).expect("in memory");
    for host in hosts {
        writer.host(host).expect("in memory");
    }
    let summary = ScanSummary {
        hosts_up: 0,
        hosts_down: 0,
        total: hosts.len() as u64,
        elapsed: Duration::ZERO,
        cancelled: false,
    };
    writer.footer(&run, &summary).expect("in memory");
    String::from_utf8(writer.into_inner()).expect("the writer emits UTF-8")
}

fn port_result(port: u16) -> impl Strategy<Value = PortResult> {
    let reason = prop_oneof![
        Just(Reason::SynAck),
        Just(Reason::ConnRefused),
        Just(Reason::NoResponse),
        Just(Reason::HostUnreach),
        Just(Reason::NetUnreach),
        Just(Reason::AdminProhibited),
    ];
    let banner =
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64).prop_map(Banner));
    (reason, banner).prop_map(move |(reason, banner)| PortResult {
        port,
        state: reason.port_state(),
        reason,
        banner,
        rtt: None,
    })
}

fn device_guess() -> impl Strategy<Value = DeviceGuess> {
    let class = proptest::sample::select(DeviceClass::ALL.to_vec());
    let evidence =
        proptest::collection::vec("[a-zA-Z0-9<>&\"'=:/. -]{0,8}[a-zA-Z0-9<>&\"'=:/.-]", 1..3);
    prop_oneof![
        Just(DeviceGuess::default()),
        (class, 0u8..=100, evidence).prop_map(|(class, confidence, evidence)| DeviceGuess {
            class,
            confidence,
            evidence,
        }),
    ]
}

fn host_result() -> impl Strategy<Value = HostResult> {
    let address = prop_oneof![
        any::<u32>().prop_map(|bits| IpAddr::V4(Ipv4Addr::from(bits))),
        any::<u128>().prop_map(|bits| IpAddr::V6(Ipv6Addr::from(bits))),
    ];
    let up_reason = prop_oneof![
        Just(HostReason::UserSet),
        Just(HostReason::SynAck),
        Just(HostReason::ConnRefused),
        Just(HostReason::EchoReply),
    ];
    let ports = (
        port_result(22),
        port_result(445),
        port_result(2967),
        port_result(8081),
        proptest::sample::subsequence(vec![0usize, 1, 2, 3], 0..=4),
    )
        .prop_map(|(a, b, c, d, keep)| {
            let all = [a, b, c, d];
            keep.into_iter().map(|i| all[i].clone()).collect::<Vec<_>>()
        });
    prop_oneof![
        address.clone().prop_map(|address| HostResult {
            position: 0,
            address,
            state: HostState::Down,
            reason: HostReason::NoResponse,
            ports: Vec::new(),
            device: DeviceGuess::default(),
            dns_name: None,
        }),
        (
            address,
            up_reason,
            ports,
            device_guess(),
            // Hostile names too: the XML writer escapes, the reader unescapes.
            proptest::option::of("[a-z0-9<>&\"'.-]{1,24}"),
        )
            .prop_map(|(address, reason, ports, device, dns_name)| HostResult {
                position: 0,
                address,
                state: HostState::Up,
                reason,
                ports,
                device,
                dns_name,
            }),
    ]
}

/// Hosts with distinct addresses, numbered in file order (what import reports).
fn unique_hosts() -> impl Strategy<Value = Vec<HostResult>> {
    proptest::collection::vec(host_result(), 0..8).prop_map(|hosts| {
        let mut seen = std::collections::HashSet::new();
        hosts
            .into_iter()
            .filter(|host| seen.insert(host.address))
            .enumerate()
            .map(|(position, mut host)| {
                host.position = position as u64;
                host
            })
            .collect()
    })
}

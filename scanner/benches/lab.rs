//! Benchmark against nmap inside the lab (needs root, nmap; not part of `cargo test`):
//!   cargo bench -p scanner --bench lab
//! (c) /8 target expansion dry run: peak RSS (no packets at all).
//! (a) /20 with ~40 % live hosts, one AV port + discovery, avsweep vs `nmap -sT -Pn -T4`.
//!     nmap scans the whole /20 by default; where it is too slow to wait for, set
//!     AVSWEEP_BENCH_NMAP_PREFIX=26 (say) to scan a sample block and compare per-address rates.
//! (b) /16 that is 95 % dark, avsweep with default settings.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use scanner::lab::{Lab, LabPlan, peak_rss_bytes};
use scanner::{
    HostResult, HostState, Permutation, PortState, ScanConfig, TargetSet, TimingTemplate,
};

const AV_PORT: u16 = 2967;

fn main() {
    dry_run_slash_8();
    slash_20_against_nmap();
    slash_16_mostly_dark();
}

fn dry_run_slash_8() {
    let started = Instant::now();
    // Expansion only: nothing is sent, so any block will do; 10/8 is the classic big one.
    let targets = TargetSet::parse("10.0.0.0/8").expect("valid block");
    let permutation = Permutation::new(targets.len(), 42);
    let mut checksum = 0u64;
    let mut count = 0u64;
    for position in 0..permutation.len() {
        let Some(address) = permutation
            .index_at(position)
            .and_then(|index| targets.get(u128::from(index)))
        else {
            panic!("position {position} has no address");
        };
        if let IpAddr::V4(v4) = address {
            checksum ^= u64::from(u32::from(v4)).rotate_left((position % 64) as u32);
        }
        count += 1;
    }
    let rss_mb = peak_rss_bytes().unwrap_or(0) as f64 / 1e6;
    println!(
        "(c) /8 dry run: {count} addresses in permuted order in {:.2} s, peak RSS {rss_mb:.1} MB (target < 100 MB) [checksum {checksum:x}]",
        started.elapsed().as_secs_f64()
    );
}

fn port_state_or_down(host: &HostResult) -> &'static str {
    match host.state {
        // Down after discovery: nmap -Pn reports such addresses as filtered.
        HostState::Down => "filtered",
        HostState::Up => host
            .port(AV_PORT)
            .map(|port| port.state.as_str())
            .unwrap_or("missing"),
    }
}

fn v4(address: IpAddr) -> Ipv4Addr {
    match address {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => panic!("unexpected {v6}"),
    }
}

fn truth_state(lab: &Lab, address: Ipv4Addr) -> &'static str {
    lab.plan.truth(address).expected_port(AV_PORT).0.as_str()
}

fn agreement(
    results: &HashMap<Ipv4Addr, &'static str>,
    reference: impl Fn(Ipv4Addr) -> Option<&'static str>,
) -> (usize, usize) {
    let mut same = 0;
    let mut compared = 0;
    for (address, state) in results {
        if let Some(expected) = reference(*address) {
            compared += 1;
            same += usize::from(expected == *state);
        }
    }
    (same, compared)
}

fn scan_with_avsweep(
    lab: &Lab,
    spec: &str,
    template: Option<TimingTemplate>,
) -> (HashMap<Ipv4Addr, &'static str>, f64) {
    let mut config = ScanConfig::new(TargetSet::parse(spec).expect("valid"), vec![AV_PORT]);
    if let Some(template) = template {
        config.timing = template.timing();
    }
    let started = Instant::now();
    let (hosts, _) = lab.scan(config).expect("avsweep scan in the lab");
    let seconds = started.elapsed().as_secs_f64();
    let states = hosts
        .iter()
        .map(|host| (v4(host.address), port_state_or_down(host)))
        .collect();
    (states, seconds)
}

fn scan_with_nmap(lab: &Lab, spec: &str) -> Option<(HashMap<Ipv4Addr, &'static str>, f64)> {
    let started = Instant::now();
    let output = lab
        .command("nmap")
        .args([
            "-sT",
            "-Pn",
            "-T4",
            "-n",
            "-p",
            &AV_PORT.to_string(),
            "-oG",
            "-",
            spec,
        ])
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            println!(
                "    nmap failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return None;
        }
        Err(error) => {
            println!("    nmap not runnable: {error}");
            return None;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut states = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some(rest) = line.strip_prefix("Host: ") else {
            continue;
        };
        let Some((address, fields)) = rest.split_once(' ') else {
            continue;
        };
        let Some(ports) = fields
            .split('\t')
            .find_map(|field| field.strip_prefix("Ports: "))
        else {
            continue;
        };
        let state = ports.split('/').nth(1).unwrap_or("");
        let state = [PortState::Open, PortState::Closed, PortState::Filtered]
            .into_iter()
            .find(|s| s.as_str() == state)
            .map(PortState::as_str);
        if let (Ok(address), Some(state)) = (address.parse(), state) {
            states.insert(address, state);
        }
    }
    Some((states, seconds))
}

fn slash_20_against_nmap() {
    let Some(lab) = Lab::create_or_skip(LabPlan::bulk(
        Ipv4Addr::new(127, 20, 0, 0),
        20,
        0.40,
        AV_PORT,
        10,
        7,
    )) else {
        return;
    };
    let live = lab
        .plan
        .bulk
        .as_ref()
        .map(|bulk| bulk.live.len())
        .unwrap_or(0);
    println!(
        "(a) /20 127.20.0.0/20: {live} of 4096 addresses live, port {AV_PORT} + discovery (80,443,445,135,22), -T4 timing"
    );
    let (avsweep, avsweep_seconds) =
        scan_with_avsweep(&lab, "127.20.0.0/20", Some(TimingTemplate::T4));
    let (same, compared) = agreement(&avsweep, |address| Some(truth_state(&lab, address)));
    println!(
        "    avsweep /20: {avsweep_seconds:.2} s for 4096 addresses ({:.0} addresses/s); ground truth agreement {same}/{compared}",
        4096.0 / avsweep_seconds
    );

    let prefix: u8 = std::env::var("AVSWEEP_BENCH_NMAP_PREFIX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(20, 32);
    let sample = format!("127.20.0.0/{prefix}");
    let sample_size = 1u32 << (32 - u32::from(prefix));
    let (avsweep_sample, avsweep_sample_seconds) =
        scan_with_avsweep(&lab, &sample, Some(TimingTemplate::T4));
    let Some((nmap, nmap_seconds)) = scan_with_nmap(&lab, &sample) else {
        return;
    };
    let (nmap_truth, nmap_compared) = agreement(&nmap, |address| Some(truth_state(&lab, address)));
    let (with_nmap, both) = agreement(&avsweep_sample, |address| nmap.get(&address).copied());
    println!(
        "    nmap -sT -Pn -T4 on the {sample} sample ({sample_size} addresses): {nmap_seconds:.2} s; nmap vs ground truth {nmap_truth}/{nmap_compared}"
    );
    println!(
        "    avsweep on the same sample: {avsweep_sample_seconds:.2} s ({:.1}x faster); avsweep vs nmap state agreement {with_nmap}/{both}",
        nmap_seconds / avsweep_sample_seconds
    );
    let nmap_per_address = nmap_seconds / f64::from(sample_size);
    let avsweep_per_address = avsweep_seconds / 4096.0;
    println!(
        "    per-address rate: nmap {:.1} addresses/s (sample) vs avsweep {:.0} addresses/s (/20): {:.0}x (target >= 20x); nmap would need ~{:.0} s for the /20",
        1.0 / nmap_per_address,
        1.0 / avsweep_per_address,
        nmap_per_address / avsweep_per_address,
        nmap_per_address * 4096.0
    );
}

fn slash_16_mostly_dark() {
    let Some(lab) = Lab::create_or_skip(LabPlan::bulk(
        Ipv4Addr::new(127, 30, 0, 0),
        16,
        0.05,
        AV_PORT,
        10,
        9,
    )) else {
        return;
    };
    let live = lab
        .plan
        .bulk
        .as_ref()
        .map(|bulk| bulk.live.len())
        .unwrap_or(0);
    let (avsweep, seconds) = scan_with_avsweep(&lab, "127.30.0.0/16", None);
    let (same, compared) = agreement(&avsweep, |address| Some(truth_state(&lab, address)));
    println!(
        "(b) /16 127.30.0.0/16, {live} of 65536 live (95 % dark), default settings: {seconds:.2} s (target < 30 s); ground truth agreement {same}/{compared}"
    );
}

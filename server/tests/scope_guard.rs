//! Scope guard, proven with packet counters: the server's real job path
//! (storage queue → worker → scanner) runs inside a private network namespace
//! whose nft rules count every packet sent to each target address. An
//! exclusion added AFTER the scan was queued must still see exactly zero
//! packets. Needs root (skips with a message elsewhere; fails when CI=true).
//! SQLite only: Postgres on 127.0.0.1 is not reachable from inside the namespace.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use scanner::lab::{Lab, LabPlan};
use server::worker::{self, ScanSettings};
use storage::coverage::Verdict;
use storage::scans::{self, JobStatus, ScanOptions};
use storage::{Db, exclusions, subnets};

const SUBNET: &str = "127.88.0.0/28";
/// Added after the job is queued: three addresses that must never be probed.
const LATE_EXCLUSIONS: [&str; 2] = ["127.88.0.4/31", "127.88.0.9"];

fn address(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 88, 0, last)
}

fn is_excluded(last: u8) -> bool {
    matches!(last, 4 | 5 | 9)
}

/// One counter rule per address of the subnet, on the output hook: every
/// packet the namespace sends to an address is counted, whatever its port.
fn counter_ruleset() -> String {
    let rules: String = (0..16)
        .map(|last| format!("    ip daddr {} counter\n", address(last)))
        .collect();
    format!(
        "table ip scope_guard {{\n  chain output {{\n    type filter hook output priority 0; policy accept;\n{rules}  }}\n}}\n"
    )
}

/// Packets counted per address, from `nft list table`.
fn read_counters(lab: &Lab) -> BTreeMap<Ipv4Addr, u64> {
    let output = lab
        .command("nft")
        .args(["list", "table", "ip", "scope_guard"])
        .output()
        .expect("nft runs");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut counters = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["ip", "daddr", target, "counter", "packets", packets, ..] = words.as_slice() {
            counters.insert(
                target.parse().expect("an address"),
                packets.parse().expect("a count"),
            );
        }
    }
    assert_eq!(counters.len(), 16, "one counter per address: {text}");
    counters
}

#[test]
fn exclusions_added_after_queueing_receive_zero_packets() {
    let Some(lab) = Lab::create_or_skip(LabPlan::default()) else {
        return;
    };
    let mut nft = lab.command("nft");
    nft.args(["-f", "-"]).stdin(std::process::Stdio::piped());
    let mut child = nft.spawn().expect("nft starts");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(counter_ruleset().as_bytes())
            .expect("rules written");
    }
    assert!(
        child.wait().expect("nft ends").success(),
        "counter rules load"
    );

    let data_dir = tempfile::tempdir().expect("temporary directory");
    let url = storage::default_sqlite_url(data_dir.path());
    let (job, stored) = lab
        .run(move || async move {
            let db = Db::open(&url)
                .await
                .expect("SQLite opens inside the namespace");
            let subnet = subnets::create(&db, SUBNET, "Scope guard lab")
                .await
                .expect("subnet");
            let queued = scans::enqueue(&db, subnet.id, ScanOptions::default())
                .await
                .expect("scan queued");
            assert_eq!(
                queued.excludes, "",
                "nothing was excluded when it was queued"
            );
            for target in LATE_EXCLUSIONS {
                exclusions::add(&db, "test", target, "fragile lab device")
                    .await
                    .expect("exclusion added");
            }
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let limits = ScanSettings {
                dns_servers: Vec::new(),
                sockets: 256,
                default_rate: Some(5000),
            };
            let running = tokio::spawn(worker::run(db.clone(), 0, limits, stopped));
            let started = Instant::now();
            let job = loop {
                let job = scans::get(&db, queued.id).await.expect("job");
                if !JobStatus::parse(&job.status).is_some_and(|s| s.is_active()) {
                    break job;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "scan still {}",
                    job.status
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            let _ = stop.send(true);
            let _ = running.await;
            let stored: Vec<String> =
                scans::hosts_with_verdicts(&db, job.id, &Verdict::ALL, 1000, 0)
                    .await
                    .expect("results")
                    .into_iter()
                    .map(|row| row.address)
                    .collect();
            (job, stored)
        })
        .expect("the job runs inside the namespace");
    assert_eq!(job.status, "done", "{job:?}");

    let counters = read_counters(&lab);
    for last in 0..16u8 {
        let packets = counters[&address(last)];
        if is_excluded(last) {
            assert_eq!(
                packets,
                0,
                "{} is excluded but got {packets} packets",
                address(last)
            );
        } else {
            assert!(
                packets > 0,
                "{} was never probed: {counters:?}",
                address(last)
            );
        }
    }
    let expected: Vec<String> = (0..16u8)
        .filter(|&last| !is_excluded(last))
        .map(|last| address(last).to_string())
        .collect();
    let mut stored = stored;
    stored.sort_by_key(|text| text.parse::<Ipv4Addr>().expect("address"));
    assert_eq!(
        stored, expected,
        "results exist for every probed address and no excluded one"
    );
}

#[test]
fn a_job_whose_targets_leave_its_subnet_is_refused_before_any_packet() {
    let Some(lab) = Lab::create_or_skip(LabPlan::default()) else {
        return;
    };
    let mut nft = lab.command("nft");
    nft.args(["-f", "-"]).stdin(std::process::Stdio::piped());
    let mut child = nft.spawn().expect("nft starts");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(counter_ruleset().as_bytes())
            .expect("rules written");
    }
    assert!(child.wait().expect("nft ends").success());
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let url = storage::default_sqlite_url(data_dir.path());
    let job = lab
        .run(move || async move {
            let db = Db::open(&url).await.expect("SQLite");
            // The subnet an admin defined is one address; the job row (forged
            // or left over) claims the whole block.
            let subnet = subnets::create(&db, "127.88.0.1/32", "One host")
                .await
                .expect("subnet");
            let queued = scans::enqueue(&db, subnet.id, ScanOptions::default())
                .await
                .expect("queued");
            storage::testing::overwrite_job_targets(&db, queued.id, SUBNET)
                .await
                .expect("targets rewritten");
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let limits = ScanSettings {
                dns_servers: Vec::new(),
                sockets: 64,
                default_rate: None,
            };
            let running = tokio::spawn(worker::run(db.clone(), 0, limits, stopped));
            let started = Instant::now();
            let job = loop {
                let job = scans::get(&db, queued.id).await.expect("job");
                if !JobStatus::parse(&job.status).is_some_and(|s| s.is_active()) {
                    break job;
                }
                assert!(started.elapsed() < Duration::from_secs(30));
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            let _ = stop.send(true);
            let _ = running.await;
            job
        })
        .expect("runs in the namespace");
    assert_eq!(job.status, "failed");
    let error = job.error.unwrap_or_default();
    assert!(error.contains("not inside its subnet"), "{error}");
    let counters = read_counters(&lab);
    assert!(
        counters.values().all(|&packets| packets == 0),
        "no packet may leave for a refused job: {counters:?}"
    );
}

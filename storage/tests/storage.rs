//! Storage behaviour on SQLite and on Postgres: each test runs once per backend
//! on a fresh database.

// Backups and upgrade safety live in their own file but share this binary.
mod backup;

use std::net::IpAddr;

use storage::coverage::{ObservedPort, Verdict};
use storage::scans::{self, HostRecord, JobStatus, ScanOptions};
use storage::{Db, StorageError, profiles, subnets, test_on_both_backends};

test_on_both_backends! {
    subnet_is_stored_and_listed,
    duplicate_subnet_is_refused_with_a_message,
    builtin_profiles_are_seeded_once,
    scan_results_become_coverage,
    a_repeated_host_result_is_stored_once,
    a_running_scan_is_requeued_after_a_crash,
    cancel_stops_a_queued_scan_and_flags_a_running_one,
    a_subnet_has_one_active_scan_at_a_time,
}

async fn subnet_is_stored_and_listed(db: &Db) {
    let created = subnets::create(db, "127.77.0.0/28", "Lab").await.unwrap();
    assert_eq!(created.cidr, "127.77.0.0/28");
    let all = subnets::list(db).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "Lab");
    assert_eq!(subnets::get(db, created.id).await.unwrap(), created);
    assert!(matches!(
        subnets::get(db, created.id + 100).await,
        Err(StorageError::NotFound { what: "subnet", .. })
    ));
}

async fn duplicate_subnet_is_refused_with_a_message(db: &Db) {
    subnets::create(db, "127.77.0.0/28", "Lab").await.unwrap();
    let Err(StorageError::Invalid(errors)) = subnets::create(db, "127.77.0.0/28", "Again").await
    else {
        panic!("a second identical subnet must be refused");
    };
    assert_eq!(errors[0].field, "cidr");
    assert!(errors[0].message.contains("already defined as “Lab”"));
}

async fn builtin_profiles_are_seeded_once(db: &Db) {
    let first = profiles::list(db).await.unwrap();
    let sav = first
        .iter()
        .find(|p| p.key == "symantec-sav")
        .expect("Symantec AntiVirus Corporate Edition is seeded");
    assert_eq!(sav.ports, "2967");
    assert!(sav.enabled && sav.builtin);
    profiles::seed_builtin(db).await.unwrap();
    assert_eq!(profiles::list(db).await.unwrap().len(), first.len());
    let rules = profiles::enabled_rules(db).await.unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r.key == "symantec-sav" && r.ports == [2967])
    );
}

fn host(address: &str, position: u64, ports: &[(u16, &str)]) -> HostRecord {
    HostRecord {
        position,
        address: address.parse::<IpAddr>().unwrap(),
        up: true,
        host_reason: "conn-refused".into(),
        device_class: "unknown".into(),
        device_confidence: 0,
        device_evidence: vec![],
        ports: ports
            .iter()
            .map(|&(port, state)| ObservedPort {
                port,
                state: state.into(),
                reason: if state == "open" {
                    "syn-ack"
                } else {
                    "conn-refused"
                }
                .into(),
                banner_hex: None,
            })
            .collect(),
        dns_name: None,
    }
}

async fn scan_results_become_coverage(db: &Db) {
    let subnet = subnets::create(db, "127.77.0.0/30", "Lab").await.unwrap();
    let job = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    assert_eq!(job.total_addresses, 4);
    assert!(job.ports.split(',').any(|p| p == "2967"));
    let claimed = scans::claim_next(db)
        .await
        .unwrap()
        .expect("the queued job");
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.status, "running");
    assert!(
        scans::claim_next(db).await.unwrap().is_none(),
        "claimed once only"
    );

    let rules = profiles::enabled_rules(db).await.unwrap();
    let mut down = host("127.77.0.3", 3, &[]);
    down.up = false;
    scans::record_hosts(
        db,
        job.id,
        &rules,
        &[
            host("127.77.0.10", 0, &[(2967, "open")]),
            host("127.77.0.2", 1, &[(2967, "closed")]),
            host("127.77.0.1", 2, &[(2967, "filtered")]),
            down,
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        scans::update_progress(db, job.id, 4, 4).await.unwrap(),
        JobStatus::Running
    );
    scans::finish(db, job.id, JobStatus::Done, None)
        .await
        .unwrap();

    let coverage = scans::coverage_of(db, job.id).await.unwrap();
    assert_eq!(
        (
            coverage.protected,
            coverage.unprotected,
            coverage.unknown,
            coverage.down
        ),
        (1, 1, 1, 1)
    );
    let percent = coverage.compliance_percent().unwrap();
    assert!((percent - 100.0 / 3.0).abs() < 1e-9);

    let finished = scans::latest_done_for_subnet(db, subnet.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            finished.protected,
            finished.unprotected,
            finished.unknown,
            finished.hosts_up
        ),
        (1, 1, 1, 3)
    );
    assert_eq!(finished.done_addresses, 4);

    let gaps =
        scans::hosts_with_verdicts(db, job.id, &[Verdict::Unprotected, Verdict::Unknown], 50, 0)
            .await
            .unwrap();
    let addresses: Vec<_> = gaps
        .iter()
        .map(|g| (g.address.as_str(), g.verdict.as_str()))
        .collect();
    assert_eq!(
        addresses,
        [("127.77.0.1", "unknown"), ("127.77.0.2", "unprotected")]
    );
}

async fn a_repeated_host_result_is_stored_once(db: &Db) {
    let subnet = subnets::create(db, "127.77.0.0/30", "Lab").await.unwrap();
    let job = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let rules = profiles::enabled_rules(db).await.unwrap();
    let batch = [host("127.77.0.1", 0, &[(2967, "closed")])];
    scans::record_hosts(db, job.id, &rules, &batch)
        .await
        .unwrap();
    scans::record_hosts(db, job.id, &rules, &batch)
        .await
        .unwrap();
    assert_eq!(scans::coverage_of(db, job.id).await.unwrap().unprotected, 1);
}

async fn a_running_scan_is_requeued_after_a_crash(db: &Db) {
    let subnet = subnets::create(db, "127.77.0.0/30", "Lab").await.unwrap();
    let job = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    scans::claim_next(db).await.unwrap().unwrap();
    scans::update_progress(db, job.id, 2, 2).await.unwrap();
    assert_eq!(scans::recover_interrupted(db).await.unwrap(), 1);
    let again = scans::claim_next(db).await.unwrap().expect("requeued job");
    assert_eq!(again.id, job.id);
    assert_eq!(again.resume_position, 2, "resumes where it stopped");
}

async fn cancel_stops_a_queued_scan_and_flags_a_running_one(db: &Db) {
    let subnet = subnets::create(db, "127.77.0.0/30", "Lab").await.unwrap();
    let queued = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    assert_eq!(
        scans::cancel(db, queued.id).await.unwrap(),
        JobStatus::Cancelled
    );

    let running = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    scans::claim_next(db).await.unwrap().unwrap();
    assert_eq!(
        scans::cancel(db, running.id).await.unwrap(),
        JobStatus::Cancelling
    );
    assert_eq!(
        scans::update_progress(db, running.id, 1, 1).await.unwrap(),
        JobStatus::Cancelling
    );
}

async fn a_subnet_has_one_active_scan_at_a_time(db: &Db) {
    let subnet = subnets::create(db, "127.77.0.0/30", "Lab").await.unwrap();
    let first = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let second = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    assert_eq!(first.id, second.id);
    let bad = ScanOptions {
        timing: "T9".into(),
        ..ScanOptions::default()
    };
    scans::cancel(db, first.id).await.unwrap();
    assert!(matches!(
        scans::enqueue(db, subnet.id, bad).await,
        Err(StorageError::Invalid(_))
    ));
}

//! The coverage model on SQLite and Postgres: sites and per-site ports,
//! exclusions, overrides, history aggregates, hosts and remediation, the
//! audit log and the job queue's claim.

use std::collections::HashSet;
use std::net::IpAddr;

use storage::coverage::{ObservedPort, Verdict};
use storage::entities::scan_job;
use storage::history::{self, GapQuery, GapSort};
use storage::hosts::{self, NewOverride};
use storage::scans::{self, HostRecord, JobStatus, ScanOptions};
use storage::{
    Db, StorageError, audit, exclusions, profiles, sites, subnets, test_on_both_backends,
};

test_on_both_backends! {
    officescan_counts_only_at_sites_that_set_its_port,
    excluded_addresses_are_never_stored,
    a_finished_scan_writes_its_compliance_row_and_the_hosts_it_saw,
    newly_unprotected_compares_with_the_previous_scan,
    remediation_goes_open_acknowledged_fixed_by_a_later_scan,
    an_override_rejudges_the_newest_result_and_its_compliance,
    the_gap_list_pages_sorts_and_filters,
    a_host_history_lists_every_scan_newest_first,
    the_audit_log_refuses_changes,
    concurrent_claims_never_hand_out_one_job_twice,
    a_resumed_batch_is_stored_and_counted_once,
}

fn host(
    address: &str,
    position: u64,
    state_2967: &str,
    class: &str,
    dns: Option<&str>,
) -> HostRecord {
    HostRecord {
        position,
        address: address.parse::<IpAddr>().unwrap(),
        up: state_2967 != "down",
        host_reason: "conn-refused".into(),
        device_class: class.into(),
        device_confidence: 50,
        device_evidence: vec![],
        ports: if state_2967 == "down" {
            vec![]
        } else {
            vec![ObservedPort {
                port: 2967,
                state: state_2967.into(),
                reason: "syn-ack".into(),
                banner_hex: None,
            }]
        },
        dns_name: dns.map(str::to_owned),
    }
}

/// Queues, claims, stores and finishes one scan of `subnet_id` with the given hosts.
async fn run_scan(db: &Db, subnet_id: i32, hosts: &[HostRecord]) -> scan_job::Model {
    let job = scans::enqueue(db, subnet_id, ScanOptions::default())
        .await
        .unwrap();
    let claimed = scans::claim_next(db)
        .await
        .unwrap()
        .expect("the queued scan");
    assert_eq!(claimed.id, job.id);
    let rules = profiles::enabled_rules(db).await.unwrap();
    scans::record_hosts(db, job.id, &rules, hosts)
        .await
        .unwrap();
    scans::finish(db, job.id, JobStatus::Done, None)
        .await
        .unwrap();
    scans::get(db, job.id).await.unwrap()
}

async fn officescan_counts_only_at_sites_that_set_its_port(db: &Db) {
    let berlin = sites::create(db, "alice", "Berlin", "").await.unwrap();
    let paris = sites::create(db, "alice", "Paris", "").await.unwrap();
    profiles::set_site_ports(db, "alice", berlin.id, "officescan", "4343")
        .await
        .unwrap();

    let at_berlin = profiles::rules_for_site(db, Some(berlin.id)).await.unwrap();
    let officescan = at_berlin
        .iter()
        .find(|r| r.key == "officescan")
        .expect("set at Berlin");
    assert_eq!(officescan.ports, [4343]);
    assert!(
        officescan
            .banner_regex
            .as_deref()
            .is_some_and(|r| r.contains("OfficeScan Client"))
    );
    assert!(
        officescan
            .probe
            .as_deref()
            .is_some_and(|p| p.starts_with(b"GET "))
    );
    let at_paris = profiles::rules_for_site(db, Some(paris.id)).await.unwrap();
    assert!(
        at_paris.iter().all(|r| r.key != "officescan"),
        "Paris set no port"
    );

    let Err(StorageError::Invalid(errors)) =
        profiles::set_site_ports(db, "alice", berlin.id, "sophos-rms", "1234").await
    else {
        panic!("a fixed-port profile cannot get a site port");
    };
    assert!(errors[0].message.contains("fixed port"));

    let subnet = subnets::create(db, "127.78.0.0/30", "Berlin lab")
        .await
        .unwrap();
    subnets::update_details(
        db,
        "alice",
        subnet.id,
        Some(berlin.id),
        "lab,berlin",
        Some("it-berlin@example.org"),
    )
    .await
    .unwrap();
    let job = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    assert!(
        job.ports.split(',').any(|p| p == "4343"),
        "ports {}",
        job.ports
    );
    let stored = subnets::get(db, subnet.id).await.unwrap();
    assert_eq!(stored.tags, "berlin,lab");
    assert_eq!(
        stored.owner_contact.as_deref(),
        Some("it-berlin@example.org")
    );
}

async fn excluded_addresses_are_never_stored(db: &Db) {
    exclusions::add(
        db,
        "alice",
        "127.78.0.2",
        "medical device, must not be probed",
    )
    .await
    .unwrap();
    let subnet = subnets::create(db, "127.78.0.0/30", "Lab").await.unwrap();
    let job = run_scan(
        db,
        subnet.id,
        &[
            host("127.78.0.1", 0, "closed", "windows", None),
            host("127.78.0.2", 1, "closed", "windows", None),
        ],
    )
    .await;
    assert_eq!(
        job.excludes, "127.78.0.2/32",
        "fixed in the job so a resume walks the same addresses"
    );
    assert_eq!(job.total_addresses, 3);
    let stored = scans::hosts_with_verdicts(db, job.id, &Verdict::ALL, 10, 0)
        .await
        .unwrap();
    let addresses: Vec<_> = stored.iter().map(|h| h.address.as_str()).collect();
    assert_eq!(addresses, ["127.78.0.1"], "even if a scanner reported it");
    assert!(
        exclusions::add(db, "bob", "127.78.0.2", "again")
            .await
            .is_err(),
        "no duplicate exclusions"
    );
    let nets = exclusions::networks(db).await.unwrap();
    assert!(exclusions::is_excluded(
        &nets,
        "127.78.0.2".parse().unwrap()
    ));
}

async fn a_finished_scan_writes_its_compliance_row_and_the_hosts_it_saw(db: &Db) {
    let subnet = subnets::create(db, "127.78.0.0/29", "Lab").await.unwrap();
    let first = run_scan(
        db,
        subnet.id,
        &[
            host("127.78.0.1", 0, "open", "windows", Some("pc1.lab")),
            host("127.78.0.2", 1, "closed", "windows", None),
            host("127.78.0.3", 2, "filtered", "windows", None),
            host("127.78.0.4", 3, "closed", "printer", None),
            host("127.78.0.5", 4, "down", "unknown", None),
        ],
    )
    .await;
    let trend = history::subnet_trend(db, subnet.id, 10).await.unwrap();
    assert_eq!(trend.len(), 1);
    let row = &trend[0];
    assert_eq!(row.scan_id, first.id);
    assert_eq!(
        (
            row.protected,
            row.unprotected,
            row.unknown,
            row.out_of_scope,
            row.down,
            row.newly_unprotected
        ),
        (1, 1, 1, 1, 1, 0)
    );
    let pc1 = hosts::get(db, "127.78.0.1")
        .await
        .unwrap()
        .expect("seen up");
    assert_eq!((pc1.first_scan_id, pc1.last_scan_id), (first.id, first.id));
    assert_eq!(pc1.dns_name.as_deref(), Some("pc1.lab"));
    assert!(
        hosts::get(db, "127.78.0.5").await.unwrap().is_none(),
        "a down address is not a host"
    );

    let second = run_scan(
        db,
        subnet.id,
        &[host("127.78.0.1", 0, "open", "windows", None)],
    )
    .await;
    let pc1 = hosts::get(db, "127.78.0.1").await.unwrap().unwrap();
    assert_eq!((pc1.first_scan_id, pc1.last_scan_id), (first.id, second.id));
    assert!(pc1.last_seen_at >= pc1.first_seen_at);
    assert_eq!(
        pc1.dns_name.as_deref(),
        Some("pc1.lab"),
        "a name is kept when a scan finds none"
    );

    let overall = history::overall(db).await.unwrap();
    assert_eq!(
        (overall.protected, overall.unprotected),
        (1, 0),
        "only the newest scan counts"
    );
    assert_eq!(
        history::subnet_trend(db, subnet.id, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn newly_unprotected_compares_with_the_previous_scan(db: &Db) {
    let subnet = subnets::create(db, "127.78.0.0/29", "Lab").await.unwrap();
    run_scan(
        db,
        subnet.id,
        &[
            host("127.78.0.1", 0, "open", "windows", None),
            host("127.78.0.2", 1, "closed", "windows", None),
        ],
    )
    .await;
    let second = run_scan(
        db,
        subnet.id,
        &[
            host("127.78.0.1", 0, "closed", "windows", None),
            host("127.78.0.2", 1, "closed", "windows", None),
            host("127.78.0.3", 2, "closed", "windows", None),
        ],
    )
    .await;
    let newly = scans::newly_unprotected(db, second.id).await.unwrap();
    let addresses: Vec<_> = newly.iter().map(|h| h.address.as_str()).collect();
    assert_eq!(
        addresses,
        ["127.78.0.1", "127.78.0.3"],
        "the agent that went away and the new machine"
    );
    let trend = history::subnet_trend(db, subnet.id, 10).await.unwrap();
    assert_eq!(trend.last().unwrap().newly_unprotected, 2);
}

async fn remediation_goes_open_acknowledged_fixed_by_a_later_scan(db: &Db) {
    let subnet = subnets::create(db, "127.78.0.0/29", "Lab").await.unwrap();
    run_scan(
        db,
        subnet.id,
        &[host("127.78.0.2", 0, "closed", "windows", None)],
    )
    .await;
    let gap = hosts::get(db, "127.78.0.2").await.unwrap().unwrap();
    assert_eq!(gap.remediation_status.as_deref(), Some("open"));

    let acked = hosts::acknowledge(db, "alice", "127.78.0.2", "ticket HD-42")
        .await
        .unwrap();
    assert_eq!(acked.remediation_status.as_deref(), Some("acknowledged"));
    assert_eq!(acked.remediation_by.as_deref(), Some("alice"));
    assert!(
        hosts::acknowledge(db, "alice", "127.78.0.2", "twice")
            .await
            .is_err(),
        "only open gaps"
    );

    let still = run_scan(
        db,
        subnet.id,
        &[host("127.78.0.2", 0, "closed", "windows", None)],
    )
    .await;
    let gap = hosts::get(db, "127.78.0.2").await.unwrap().unwrap();
    assert_eq!(
        gap.remediation_status.as_deref(),
        Some("acknowledged"),
        "a scan keeps a person's acknowledgement"
    );
    assert_eq!(gap.last_scan_id, still.id);

    let verified = run_scan(
        db,
        subnet.id,
        &[host("127.78.0.2", 0, "open", "windows", None)],
    )
    .await;
    let fixed = hosts::get(db, "127.78.0.2").await.unwrap().unwrap();
    assert_eq!(fixed.remediation_status.as_deref(), Some("fixed"));
    assert_eq!(fixed.fixed_scan_id, Some(verified.id));

    run_scan(
        db,
        subnet.id,
        &[host("127.78.0.2", 0, "closed", "windows", None)],
    )
    .await;
    let again = hosts::get(db, "127.78.0.2").await.unwrap().unwrap();
    assert_eq!(
        again.remediation_status.as_deref(),
        Some("open"),
        "an agent that goes away reopens the gap"
    );
    assert_eq!(again.fixed_scan_id, None);
}

async fn an_override_rejudges_the_newest_result_and_its_compliance(db: &Db) {
    let subnet = subnets::create(db, "127.78.0.0/29", "Lab").await.unwrap();
    let job = run_scan(
        db,
        subnet.id,
        &[
            host("127.78.0.1", 0, "closed", "windows", None),
            host("127.78.0.2", 1, "closed", "linux-unix", None),
        ],
    )
    .await;
    let kiosk = NewOverride {
        device_class: None,
        out_of_scope: true,
        reason: "kiosk, vendor-managed".into(),
    };
    hosts::set_override(db, "bob", "127.78.0.1", kiosk)
        .await
        .unwrap();
    let windows = NewOverride {
        device_class: Some("windows".into()),
        out_of_scope: false,
        reason: "Windows with OpenSSH".into(),
    };
    hosts::set_override(db, "bob", "127.78.0.2", windows)
        .await
        .unwrap();

    let results = scans::hosts_with_verdicts(db, job.id, &Verdict::ALL, 10, 0)
        .await
        .unwrap();
    let verdicts: Vec<_> = results
        .iter()
        .map(|h| (h.address.as_str(), h.verdict.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("127.78.0.1", "out-of-scope"),
            ("127.78.0.2", "unprotected")
        ]
    );
    let row = history::subnet_trend(db, subnet.id, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (row.unprotected, row.out_of_scope),
        (1, 1),
        "the aggregate follows the override"
    );
    let counted = scans::get(db, job.id).await.unwrap();
    assert_eq!(
        (counted.unprotected, counted.out_of_scope),
        (1, 1),
        "the scan's own counters, which the subnet page shows, follow it too"
    );

    // The next scan applies the overrides as it stores results.
    let next = run_scan(
        db,
        subnet.id,
        &[
            host("127.78.0.1", 0, "closed", "windows", None),
            host("127.78.0.2", 1, "closed", "linux-unix", None),
        ],
    )
    .await;
    let results = scans::hosts_with_verdicts(db, next.id, &Verdict::ALL, 10, 0)
        .await
        .unwrap();
    let verdicts: Vec<_> = results.iter().map(|h| h.verdict.as_str()).collect();
    assert_eq!(verdicts, ["out-of-scope", "unprotected"]);

    let bad = NewOverride {
        device_class: Some("toaster".into()),
        out_of_scope: false,
        reason: "x".into(),
    };
    assert!(
        hosts::set_override(db, "bob", "127.78.0.1", bad)
            .await
            .is_err()
    );
    let entries = audit::list(db, Some("host:127.78.0.1"), 10).await.unwrap();
    assert_eq!(entries[0].actor, "bob");
    assert_eq!(entries[0].action, "override.set");
}

async fn the_gap_list_pages_sorts_and_filters(db: &Db) {
    let subnet = subnets::create(db, "127.78.0.0/24", "Lab").await.unwrap();
    let mut hosts_seen: Vec<HostRecord> = (1..=30)
        .map(|n| {
            host(
                &format!("127.78.0.{n}"),
                n,
                "closed",
                "windows",
                Some(&format!("pc{:02}.lab", 31 - n)),
            )
        })
        .collect();
    hosts_seen.push(host("127.78.0.100", 100, "open", "windows", None));
    hosts_seen.push(host(
        "127.78.0.101",
        101,
        "filtered",
        "unknown",
        Some("odd.lab"),
    ));
    run_scan(db, subnet.id, &hosts_seen).await;

    let first = history::gaps(
        db,
        subnet.id,
        &GapQuery {
            limit: 10,
            ..GapQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(first.total, 31, "30 unprotected and 1 unknown");
    let addresses: Vec<_> = first
        .rows
        .iter()
        .map(|r| r.result.address.as_str())
        .collect();
    assert_eq!(
        addresses[..3],
        ["127.78.0.1", "127.78.0.2", "127.78.0.3"],
        "numeric address order"
    );
    assert_eq!(first.rows[0].remediation.as_deref(), Some("open"));
    let last = history::gaps(
        db,
        subnet.id,
        &GapQuery {
            limit: 10,
            offset: 30,
            ..GapQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(last.rows.len(), 1);
    assert_eq!(last.rows[0].result.address, "127.78.0.101");

    let by_name = GapQuery {
        sort: GapSort::DnsName,
        limit: 2,
        ..GapQuery::default()
    };
    let names: Vec<_> = history::gaps(db, subnet.id, &by_name)
        .await
        .unwrap()
        .rows
        .iter()
        .map(|r| r.result.dns_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["odd.lab", "pc01.lab"]);

    let unknown_only = GapQuery {
        verdicts: vec![Verdict::Unknown],
        ..GapQuery::default()
    };
    assert_eq!(
        history::gaps(db, subnet.id, &unknown_only)
            .await
            .unwrap()
            .total,
        1
    );
    let search = GapQuery {
        search: Some("PC0".into()),
        ..GapQuery::default()
    };
    assert_eq!(
        history::gaps(db, subnet.id, &search).await.unwrap().total,
        9,
        "pc01 … pc09, any case"
    );
    let by_class = GapQuery {
        device_class: Some("unknown".into()),
        ..GapQuery::default()
    };
    assert_eq!(
        history::gaps(db, subnet.id, &by_class).await.unwrap().total,
        1
    );
}

async fn a_host_history_lists_every_scan_newest_first(db: &Db) {
    let subnet = subnets::create(db, "127.78.0.0/29", "Lab").await.unwrap();
    let mut ids = Vec::new();
    for state in ["closed", "open", "filtered"] {
        ids.push(
            run_scan(
                db,
                subnet.id,
                &[host("127.78.0.3", 0, state, "windows", None)],
            )
            .await
            .id,
        );
    }
    let entries = history::host_history(db, "127.78.0.3", 10).await.unwrap();
    let seen: Vec<_> = entries
        .iter()
        .map(|e| (e.result.scan_id, e.result.verdict.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (ids[2], "unknown"),
            (ids[1], "protected"),
            (ids[0], "unprotected")
        ]
    );
    assert!(entries.iter().all(|e| e.scan_finished_at.is_some()));
}

async fn the_audit_log_refuses_changes(db: &Db) {
    sites::create(db, "carol", "Lyon", "").await.unwrap();
    let entries = audit::list(db, None, 10).await.unwrap();
    assert_eq!(entries[0].action, "site.create");
    assert_eq!(entries[0].actor, "carol");
    use sea_orm::ConnectionTrait;
    assert!(
        db.conn()
            .execute_unprepared("UPDATE audit_log SET actor = 'mallory'")
            .await
            .is_err()
    );
    assert!(
        db.conn()
            .execute_unprepared("DELETE FROM audit_log")
            .await
            .is_err()
    );
    assert_eq!(audit::list(db, None, 10).await.unwrap()[0].actor, "carol");
}

async fn concurrent_claims_never_hand_out_one_job_twice(db: &Db) {
    for n in 0..6 {
        let subnet = subnets::create(db, &format!("127.79.{n}.0/30"), &format!("Lab {n}"))
            .await
            .unwrap();
        scans::enqueue(db, subnet.id, ScanOptions::default())
            .await
            .unwrap();
    }
    let claims = (0..8).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { scans::claim_next(&db).await })
    });
    let mut claimed = Vec::new();
    for claim in claims {
        if let Some(job) = claim.await.unwrap().unwrap() {
            claimed.push(job.id);
        }
    }
    let distinct: HashSet<_> = claimed.iter().collect();
    assert_eq!(claimed.len(), 6, "every queued job claimed: {claimed:?}");
    assert_eq!(distinct.len(), 6, "no job claimed twice: {claimed:?}");
}

async fn a_resumed_batch_is_stored_and_counted_once(db: &Db) {
    let subnet = subnets::create(db, "127.78.0.0/29", "Lab").await.unwrap();
    let job = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    scans::claim_next(db)
        .await
        .unwrap()
        .expect("the queued scan");
    let rules = profiles::enabled_rules(db).await.unwrap();
    let before_kill = [
        host("127.78.0.1", 0, "open", "windows", None),
        host("127.78.0.2", 1, "closed", "windows", None),
    ];
    scans::record_hosts(db, job.id, &rules, &before_kill)
        .await
        .unwrap();
    // The resumed run repeats .2 (above the saved resume point) and goes on.
    let after_resume = [
        host("127.78.0.2", 1, "closed", "windows", None),
        host("127.78.0.3", 2, "filtered", "windows", None),
        host("127.78.0.4", 3, "closed", "printer", None),
    ];
    scans::record_hosts(db, job.id, &rules, &after_resume)
        .await
        .unwrap();
    let counted = scans::get(db, job.id).await.unwrap();
    assert_eq!(
        (
            counted.hosts_up,
            counted.protected,
            counted.unprotected,
            counted.unknown,
            counted.out_of_scope
        ),
        (4, 1, 1, 1, 1),
        "running counters while the scan runs"
    );
    let stored = scans::coverage_of(db, job.id).await.unwrap();
    assert_eq!(
        (
            stored.protected,
            stored.unprotected,
            stored.unknown,
            stored.out_of_scope
        ),
        (1, 1, 1, 1),
        "each address stored once"
    );
}

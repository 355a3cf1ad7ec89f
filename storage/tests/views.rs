//! The queries behind the Overview, Subnet and Host pages, on SQLite and
//! Postgres: remediation filters, bulk actions in one transaction, override
//! history, the estate trend and the newly-unprotected list.

use std::net::IpAddr;

use storage::coverage::{ObservedPort, Verdict};
use storage::entities::scan_job;
use storage::history::{self, GapQuery};
use storage::hosts::{self, NewOverride, Remediation};
use storage::scans::{self, HostRecord, JobStatus, ScanOptions};
use storage::{Db, StorageError, profiles, subnets, test_on_both_backends};

test_on_both_backends! {
    the_gap_list_filters_by_remediation_status,
    a_bulk_override_changes_every_host_or_none,
    a_bulk_acknowledge_changes_every_host_or_none,
    override_history_lists_what_people_decided_newest_first,
    the_estate_trend_sums_each_subnets_newest_scan_after_every_scan,
    newly_unprotected_hosts_are_listed_across_subnets,
}

fn host(address: &str, position: u64, state_2967: &str, class: &str) -> HostRecord {
    HostRecord {
        position,
        address: address.parse::<IpAddr>().unwrap(),
        up: true,
        host_reason: "conn-refused".into(),
        device_class: class.into(),
        device_confidence: 50,
        device_evidence: vec![],
        ports: vec![ObservedPort {
            port: 2967,
            state: state_2967.into(),
            reason: "syn-ack".into(),
            banner_hex: None,
        }],
        dns_name: None,
    }
}

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

fn addresses(page: &history::GapPage) -> Vec<String> {
    page.rows.iter().map(|r| r.result.address.clone()).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

async fn the_gap_list_filters_by_remediation_status(db: &Db) {
    let subnet = subnets::create(db, "127.79.0.0/29", "Lab").await.unwrap();
    run_scan(
        db,
        subnet.id,
        &[
            host("127.79.0.1", 1, "closed", "windows"),
            host("127.79.0.2", 2, "closed", "windows"),
            host("127.79.0.3", 3, "filtered", "windows"),
        ],
    )
    .await;
    hosts::acknowledge(db, "helen", "127.79.0.2", "HD-7")
        .await
        .unwrap();

    let acknowledged = history::gaps(
        db,
        subnet.id,
        &GapQuery {
            remediation: Some(Remediation::Acknowledged),
            ..GapQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(acknowledged.total, 1);
    assert_eq!(addresses(&acknowledged), ["127.79.0.2"]);
    assert_eq!(
        acknowledged.rows[0].remediation.as_deref(),
        Some("acknowledged")
    );

    let open = history::gaps(
        db,
        subnet.id,
        &GapQuery {
            remediation: Some(Remediation::Open),
            ..GapQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        addresses(&open),
        ["127.79.0.1"],
        "unknown hosts are never opened"
    );
}

async fn a_bulk_override_changes_every_host_or_none(db: &Db) {
    let subnet = subnets::create(db, "127.79.1.0/29", "Lab").await.unwrap();
    let scan = run_scan(
        db,
        subnet.id,
        &[
            host("127.79.1.1", 1, "closed", "windows"),
            host("127.79.1.2", 2, "closed", "windows"),
            host("127.79.1.3", 3, "closed", "windows"),
        ],
    )
    .await;
    assert_eq!(scan.unprotected, 3);

    let kiosk = NewOverride {
        device_class: None,
        out_of_scope: true,
        reason: "lobby kiosks, vendor-managed".into(),
    };
    let refused = hosts::set_overrides(
        db,
        "helen",
        &strings(&["127.79.1.1", "not-an-address"]),
        kiosk.clone(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, StorageError::Invalid(e) if e[0].message.contains("not-an-address")),
        "{refused:?}"
    );
    assert_eq!(hosts::override_for(db, "127.79.1.1").await.unwrap(), None);

    let saved = hosts::set_overrides(
        db,
        "helen",
        &strings(&["127.79.1.1", "127.79.1.2", "127.79.1.1"]),
        kiosk,
    )
    .await
    .unwrap();
    assert_eq!(saved.len(), 2, "duplicates count once");
    let gaps = history::gaps(db, subnet.id, &GapQuery::default())
        .await
        .unwrap();
    assert_eq!(addresses(&gaps), ["127.79.1.3"]);
    let now = history::overall(db).await.unwrap();
    assert_eq!((now.unprotected, now.out_of_scope), (1, 2));
}

async fn a_bulk_acknowledge_changes_every_host_or_none(db: &Db) {
    let subnet = subnets::create(db, "127.79.2.0/29", "Lab").await.unwrap();
    run_scan(
        db,
        subnet.id,
        &[
            host("127.79.2.1", 1, "closed", "windows"),
            host("127.79.2.2", 2, "closed", "windows"),
            host("127.79.2.3", 3, "open", "windows"),
        ],
    )
    .await;

    let refused =
        hosts::acknowledge_many(db, "helen", &strings(&["127.79.2.1", "127.79.2.3"]), "HD-9")
            .await
            .unwrap_err();
    assert!(
        matches!(&refused, StorageError::Invalid(e) if e[0].message.contains("127.79.2.3")),
        "{refused:?}"
    );
    let first = hosts::get(db, "127.79.2.1").await.unwrap().unwrap();
    assert_eq!(
        first.remediation_status.as_deref(),
        Some("open"),
        "the failed batch left the first host untouched"
    );

    let acked =
        hosts::acknowledge_many(db, "helen", &strings(&["127.79.2.1", "127.79.2.2"]), "HD-9")
            .await
            .unwrap();
    assert_eq!(acked.len(), 2);
    for row in acked {
        assert_eq!(row.remediation_status.as_deref(), Some("acknowledged"));
        assert_eq!(row.remediation_by.as_deref(), Some("helen"));
        assert_eq!(row.remediation_note.as_deref(), Some("HD-9"));
    }
}

async fn override_history_lists_what_people_decided_newest_first(db: &Db) {
    let subnet = subnets::create(db, "127.79.3.0/29", "Lab").await.unwrap();
    run_scan(db, subnet.id, &[host("127.79.3.1", 1, "closed", "windows")]).await;
    hosts::set_override(
        db,
        "helen",
        "127.79.3.1",
        NewOverride {
            device_class: Some("printer".into()),
            out_of_scope: false,
            reason: "label printer".into(),
        },
    )
    .await
    .unwrap();
    // Remediation entries are about the same host but are not overrides.
    hosts::acknowledge(db, "helen", "127.79.3.1", "HD-11")
        .await
        .unwrap();
    hosts::clear_override(db, "bob", "127.79.3.1")
        .await
        .unwrap();

    let history = hosts::override_history(db, "127.79.3.1", 10).await.unwrap();
    let actions: Vec<_> = history
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [("override.clear", "bob"), ("override.set", "helen")]
    );
    assert_eq!(history[1].detail["reason"], "label printer");
}

async fn the_estate_trend_sums_each_subnets_newest_scan_after_every_scan(db: &Db) {
    let a = subnets::create(db, "127.79.4.0/30", "A").await.unwrap();
    let b = subnets::create(db, "127.79.5.0/30", "B").await.unwrap();
    run_scan(db, a.id, &[host("127.79.4.1", 1, "closed", "windows")]).await;
    run_scan(db, b.id, &[host("127.79.5.1", 1, "open", "windows")]).await;
    run_scan(db, a.id, &[host("127.79.4.1", 1, "open", "windows")]).await;

    let points = history::overall_trend(db, 10).await.unwrap();
    let shape: Vec<_> = points
        .iter()
        .map(|p| (p.coverage.protected, p.coverage.unprotected))
        .collect();
    assert_eq!(shape, [(0, 1), (1, 1), (2, 0)]);

    let last_two = history::overall_trend(db, 2).await.unwrap();
    let shape: Vec<_> = last_two
        .iter()
        .map(|p| (p.coverage.protected, p.coverage.unprotected))
        .collect();
    assert_eq!(
        shape,
        [(1, 1), (2, 0)],
        "subnet A's scan before the window still counts"
    );
    assert!(points.windows(2).all(|w| w[0].scan_id < w[1].scan_id));
}

async fn newly_unprotected_hosts_are_listed_across_subnets(db: &Db) {
    let a = subnets::create(db, "127.79.6.0/30", "A").await.unwrap();
    let b = subnets::create(db, "127.79.7.0/30", "B").await.unwrap();
    run_scan(db, a.id, &[host("127.79.6.1", 1, "open", "windows")]).await;
    run_scan(db, b.id, &[host("127.79.7.1", 1, "open", "windows")]).await;
    assert!(
        history::newly_unprotected_everywhere(db, 10)
            .await
            .unwrap()
            .is_empty(),
        "a first scan has nothing to compare with"
    );
    run_scan(db, a.id, &[host("127.79.6.1", 1, "closed", "windows")]).await;
    run_scan(db, b.id, &[host("127.79.7.1", 1, "closed", "windows")]).await;

    let newly = history::newly_unprotected_everywhere(db, 10).await.unwrap();
    let found: Vec<_> = newly.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(found, ["127.79.6.1", "127.79.7.1"]);
    assert!(
        newly
            .iter()
            .all(|r| r.verdict == Verdict::Unprotected.as_str())
    );
    assert_eq!(
        history::newly_unprotected_everywhere(db, 1)
            .await
            .unwrap()
            .len(),
        1
    );
}

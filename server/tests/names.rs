//! Reverse-DNS names reach the stored results when, and only when, the
//! server is given name servers. The name server is a loopback responder.

mod process;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use process::{Server, wait_until};
use scanner::rdns::responder::PtrResponder;
use storage::coverage::Verdict;
use storage::scans::{self, ScanOptions};
use storage::subnets;
use storage::testing::{Backend, TestDb};

async fn stored_names(db: &storage::Db, scan_id: i32) -> HashMap<String, Option<String>> {
    scans::hosts_with_verdicts(db, scan_id, &Verdict::ALL, 100, 0)
        .await
        .expect("the results")
        .into_iter()
        .map(|row| (row.address, row.dns_name))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_come_from_the_configured_name_server_only() {
    let test_db = TestDb::new(Backend::Sqlite)
        .await
        .expect("sqlite is always available");
    let db = &test_db.db;
    let data_dir = tempfile::tempdir().expect("a data directory");
    let pc: IpAddr = "127.93.0.1".parse().unwrap();
    let dns = PtrResponder::start(
        "127.93.1.53:0",
        HashMap::from([(pc, vec![b"pc-1".to_vec(), b"lab".to_vec()])]),
    )
    .await
    .expect("a loopback name server");
    let subnet = subnets::create(db, "127.93.0.0/30", "Names lab")
        .await
        .expect("subnet");

    let server = Server::start(
        &test_db.url,
        data_dir.path(),
        &[("AVSWEEP_DNS_SERVERS", dns.addr.to_string())],
    );
    let scan = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .expect("queued");
    let done = wait_until(db, scan.id, Duration::from_secs(60), |j| {
        j.status != "queued" && j.status != "running"
    })
    .await;
    assert_eq!(done.status, "done", "{:?}", done.error);
    let names = stored_names(db, scan.id).await;
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names["127.93.0.1"].as_deref(), Some("pc-1.lab"));
    assert_eq!(names["127.93.0.2"], None, "NXDOMAIN stores no name");
    server.kill();

    // The same scan without name servers looks nothing up.
    let server = Server::start(&test_db.url, data_dir.path(), &[]);
    let scan = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .expect("queued");
    wait_until(db, scan.id, Duration::from_secs(60), |j| j.status == "done").await;
    let names = stored_names(db, scan.id).await;
    assert!(names.values().all(Option::is_none), "{names:?}");
    server.kill();
}

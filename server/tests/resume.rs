//! A server killed with SIGKILL mid-scan resumes the scan when it starts
//! again and ends with exactly the results an uninterrupted run gives.
//! Runs the real `avsweep` binary against loopback addresses only.

mod process;
// Upgrade safety also runs the real binary; it shares this test binary.
mod upgrade;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::Duration;

use process::{Server, wait_until};

use storage::coverage::ObservedPort;
use storage::scans::{self, JobStatus, ScanOptions};
use storage::testing::{Backend, TestDb};
use storage::{Db, subnets};

/// address → (host state, verdict, every port's state), the comparable part of a result.
async fn results(db: &Db, scan_id: i32) -> BTreeMap<String, (String, String, Vec<(u16, String)>)> {
    let mut all = BTreeMap::new();
    let mut offset = 0;
    loop {
        let page =
            scans::hosts_with_verdicts(db, scan_id, &storage::coverage::Verdict::ALL, 5000, offset)
                .await
                .unwrap();
        if page.is_empty() {
            return all;
        }
        offset += page.len() as u64;
        for row in page {
            let ports: Vec<ObservedPort> = scans::observed_ports(&row).unwrap();
            let ports = ports.into_iter().map(|p| (p.port, p.state)).collect();
            let previous = all.insert(row.address.clone(), (row.host_state, row.verdict, ports));
            assert!(previous.is_none(), "{} stored twice", row.address);
        }
    }
}

/// One scan at a time, and a modest number of connects in flight: on a
/// loaded two-core machine thousands of loopback connects at once can miss
/// the 100 ms probe-timeout floor, and a port then reads "filtered" in one
/// run and "closed" in the other, which is timing, not resume.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const SERVER_ENV: &[(&str, &str)] = &[("AVSWEEP_SCAN_SOCKETS", "256")];

fn server_env() -> Vec<(&'static str, String)> {
    SERVER_ENV
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect()
}

async fn killed_mid_scan_resumes_to_the_same_results(backend: Backend, second_octet: u8) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(test_db) = TestDb::new(backend).await else {
        return;
    };
    let data_dir = tempfile::tempdir().expect("a data directory");
    let db = &test_db.db;
    let block = format!("127.{second_octet}");
    let protected: Vec<String> = ["0.7", "5.200", "12.1", "20.99", "31.254"]
        .iter()
        .map(|h| format!("{block}.{h}"))
        .collect();
    let _listeners: Vec<TcpListener> = protected
        .iter()
        .map(|a| TcpListener::bind(format!("{a}:2967")).expect("a loopback listener on 2967"))
        .collect();
    let subnet = subnets::create(db, &format!("{block}.0.0/19"), "Resume lab")
        .await
        .unwrap();

    // The reference: one uninterrupted run.
    let server = Server::start(&test_db.url, data_dir.path(), &server_env());
    let reference = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let reference = wait_until(db, reference.id, Duration::from_secs(300), |j| {
        j.status != "queued" && j.status != "running"
    })
    .await;
    assert_eq!(reference.status, "done", "{:?}", reference.error);

    // The same scan again, killed once it is well under way.
    let scan = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let at_kill = wait_until(db, scan.id, Duration::from_secs(120), |j| {
        j.status == "running" && j.done_addresses >= 2_000
    })
    .await;
    server.kill();
    let after_kill = scans::get(db, scan.id).await.unwrap();
    assert_eq!(
        after_kill.status,
        JobStatus::Running.as_str(),
        "SIGKILL left the job as it was"
    );
    assert!(
        after_kill.done_addresses < after_kill.total_addresses,
        "killed mid-scan, not after it"
    );
    let stored_at_kill = results(db, scan.id).await.len() as i64;
    assert!(
        stored_at_kill >= at_kill.resume_position,
        "every position below the resume point is stored"
    );

    let server = Server::start(&test_db.url, data_dir.path(), &server_env());
    let resumed = wait_until(db, scan.id, Duration::from_secs(300), |j| {
        j.status != "queued" && j.status != "running"
    })
    .await;
    server.kill();
    assert_eq!(resumed.status, "done", "{:?}", resumed.error);

    let expected = results(db, reference.id).await;
    let got = results(db, scan.id).await;
    assert_eq!(expected.len(), 8_192, "the reference run saw every address");
    assert_eq!(got.len(), expected.len(), "no gaps, no duplicates");
    let differing: Vec<_> = expected
        .iter()
        .filter(|(address, result)| got.get(*address) != Some(*result))
        .map(|(address, result)| (address, result, got.get(address)))
        .take(5)
        .collect();
    assert!(
        differing.is_empty(),
        "the resumed scan's per-host results equal the uninterrupted run's; first differences (address, reference, resumed): {differing:?}"
    );
    let protected_found: Vec<&String> = got
        .iter()
        .filter(|(_, r)| r.1 == "protected")
        .map(|(a, _)| a)
        .collect();
    assert_eq!(protected_found.len(), protected.len());
    assert_eq!(
        (resumed.protected, resumed.hosts_up),
        (reference.protected, reference.hosts_up)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_scan_resumes_to_the_same_results_on_sqlite() {
    killed_mid_scan_resumes_to_the_same_results(Backend::Sqlite, 91).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_scan_resumes_to_the_same_results_on_postgres() {
    killed_mid_scan_resumes_to_the_same_results(Backend::Postgres, 92).await;
}

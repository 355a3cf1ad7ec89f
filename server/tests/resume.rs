//! A server killed with SIGKILL mid-scan resumes the scan when it starts
//! again and ends with exactly the results an uninterrupted run gives.
//! Runs the real `avsweep` binary against loopback addresses only.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use storage::coverage::ObservedPort;
use storage::scans::{self, JobStatus, ScanOptions};
use storage::testing::{Backend, TestDb};
use storage::{Db, subnets};

struct Server {
    child: Child,
}

impl Server {
    fn start(database_url: &str, data_dir: &std::path::Path) -> Server {
        // AVSWEEP_ADDR has no port 0: take a free port, release it, give it to the server.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a: SocketAddr| a.port())
            .expect("a free loopback port");
        let child = Command::new(env!("CARGO_BIN_EXE_avsweep"))
            .env("AVSWEEP_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("AVSWEEP_DATA_DIR", data_dir)
            .env("LEPTOS_SITE_ROOT", data_dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the avsweep binary");
        Server { child }
    }

    /// SIGKILL: no shutdown handler runs, nothing is flushed.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_until(
    db: &Db,
    scan_id: i32,
    limit: Duration,
    done: impl Fn(&storage::entities::scan_job::Model) -> bool,
) -> storage::entities::scan_job::Model {
    let started = Instant::now();
    loop {
        let job = scans::get(db, scan_id).await.expect("the scan exists");
        if done(&job) {
            return job;
        }
        assert!(
            started.elapsed() < limit,
            "scan {scan_id}: still {} at {}/{} after {limit:?}",
            job.status,
            job.done_addresses,
            job.total_addresses
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

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

async fn killed_mid_scan_resumes_to_the_same_results(backend: Backend, second_octet: u8) {
    let Some(test_db) = TestDb::new(backend).await else {
        return;
    };
    let data_dir = tempfile::tempdir().expect("a data directory");
    let db = &test_db.db;
    let block = format!("127.{second_octet}");
    let protected: Vec<String> = ["0.7", "13.200", "128.1", "200.99", "255.254"]
        .iter()
        .map(|h| format!("{block}.{h}"))
        .collect();
    let _listeners: Vec<TcpListener> = protected
        .iter()
        .map(|a| TcpListener::bind(format!("{a}:2967")).expect("a loopback listener on 2967"))
        .collect();
    let subnet = subnets::create(db, &format!("{block}.0.0/16"), "Resume lab")
        .await
        .unwrap();

    // The reference: one uninterrupted run.
    let server = Server::start(&test_db.url, data_dir.path());
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
        j.status == "running" && j.done_addresses >= 1_000
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

    let server = Server::start(&test_db.url, data_dir.path());
    let resumed = wait_until(db, scan.id, Duration::from_secs(300), |j| {
        j.status != "queued" && j.status != "running"
    })
    .await;
    server.kill();
    assert_eq!(resumed.status, "done", "{:?}", resumed.error);

    let expected = results(db, reference.id).await;
    let got = results(db, scan.id).await;
    assert_eq!(
        expected.len(),
        65_536,
        "the reference run saw every address"
    );
    assert_eq!(got.len(), expected.len(), "no gaps, no duplicates");
    assert!(
        got == expected,
        "the resumed scan's per-host results equal the uninterrupted run's"
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
#[ignore = "issue 4, open: resume_position barely advances mid-scan, so a killed scan is not yet proven to resume exactly"]
async fn killed_mid_scan_resumes_to_the_same_results_on_sqlite() {
    killed_mid_scan_resumes_to_the_same_results(Backend::Sqlite, 91).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "issue 4, open: resume_position barely advances mid-scan, so a killed scan is not yet proven to resume exactly"]
async fn killed_mid_scan_resumes_to_the_same_results_on_postgres() {
    killed_mid_scan_resumes_to_the_same_results(Backend::Postgres, 92).await;
}

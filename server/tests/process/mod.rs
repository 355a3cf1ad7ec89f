//! The real `avsweep` binary as a child process, for tests that kill it or
//! configure it through its environment.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use storage::Db;
use storage::scans;

pub struct Server {
    child: Child,
}

impl Server {
    /// Starts the server on a free loopback port with extra environment `env`.
    pub fn start(database_url: &str, data_dir: &std::path::Path, env: &[(&str, String)]) -> Server {
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
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the avsweep binary");
        Server { child }
    }

    /// SIGKILL: no shutdown handler runs, nothing is flushed.
    pub fn kill(mut self) {
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

pub async fn wait_until(
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

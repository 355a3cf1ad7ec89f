//! Upgrade safety through the real binary: `avsweep migrate` and `avsweep
//! serve` refuse a database a newer avsweep migrated, with the message and a
//! failing exit status a service manager and an admin can act on, and
//! `avsweep backup` prints where its copy went and never overwrites one.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};
use storage::testing::{Backend, TestDb};

const FUTURE_MIGRATION: &str = "m20991231_000001_from_a_newer_avsweep";

fn avsweep(database_url: &str, data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_avsweep"));
    command
        .env_remove("AVSWEEP_CONFIG")
        .env("DATABASE_URL", database_url)
        .env("AVSWEEP_DATA_DIR", data_dir)
        .env("LEPTOS_SITE_ROOT", data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

/// Runs to the end, or fails the test after `limit` (a server that wrongly
/// started would otherwise hold the test forever).
fn finish_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start avsweep");
    let started = Instant::now();
    while child.try_wait().expect("poll avsweep").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("avsweep still running after {limit:?}: it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("avsweep's output")
}

async fn the_binary_refuses_a_database_from_a_newer_avsweep(backend: Backend) {
    let Some(test_db) = TestDb::new(backend).await else {
        return;
    };
    let conn = test_db.db.conn();
    let insert = match backend {
        Backend::Sqlite => "INSERT INTO seaql_migrations (version, applied_at) VALUES (?, 0)",
        Backend::Postgres => "INSERT INTO seaql_migrations (version, applied_at) VALUES ($1, 0)",
    };
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        insert,
        [FUTURE_MIGRATION.into()],
    ))
    .await
    .expect("record a migration from the future");
    let data_dir = tempfile::tempdir().expect("a data directory");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();

    for subcommand in ["migrate", "serve"] {
        let mut command = avsweep(&test_db.url, data_dir.path());
        command
            .arg(subcommand)
            .env("AVSWEEP_ADDR", format!("127.0.0.1:{port}"));
        let output = finish_within(command, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{subcommand} must fail: {stderr}");
        assert!(
            stderr.contains(&format!(
                "avsweep: this database was upgraded by a newer avsweep (schema {FUTURE_MIGRATION}); this binary (version {})",
                env!("CARGO_PKG_VERSION")
            )) && stderr.contains(
                "install the newer version or restore a backup from before the upgrade"
            ),
            "{subcommand}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_serve_refuse_a_newer_sqlite_database() {
    the_binary_refuses_a_database_from_a_newer_avsweep(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_serve_refuse_a_newer_postgres_database() {
    the_binary_refuses_a_database_from_a_newer_avsweep(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_prints_the_copy_and_never_overwrites_it() {
    let data_dir = tempfile::tempdir().expect("a data directory");
    let url = storage::default_sqlite_url(data_dir.path());
    // Kept open, as a running server would.
    let db = storage::Db::open(&url).await.expect("a database");
    storage::subnets::create(&db, "127.79.1.0/28", "Lab")
        .await
        .expect("a subnet");

    let output = finish_within(
        {
            let mut command = avsweep(&url, data_dir.path());
            command.arg("backup");
            command
        },
        Duration::from_secs(60),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("a UTF-8 path");
    let path = Path::new(stdout.trim_end());
    assert_eq!(
        path.parent(),
        Some(data_dir.path().join("backups").as_path()),
        "{stdout}"
    );
    assert!(path.is_file(), "{stdout}");

    let again = finish_within(
        {
            let mut command = avsweep(&url, data_dir.path());
            command.args(["backup", "--output"]).arg(path);
            command
        },
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");

    // Postgres: the pg_dump command, never the password, and a failing status.
    let postgres = finish_within(
        {
            let mut command = avsweep(
                "postgres://avsweep:s3cret@127.0.0.1:1/avsweep",
                data_dir.path(),
            );
            command.arg("backup");
            command
        },
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&postgres.stderr);
    assert_eq!(postgres.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("pg_dump --format=custom --file=avsweep-")
            && stderr.contains("'postgres://avsweep@127.0.0.1:1/avsweep'")
            && !stderr.contains("s3cret"),
        "{stderr}"
    );
    assert!(postgres.stdout.is_empty());
}

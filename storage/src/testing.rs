//! Test databases for storage and server tests: a fresh SQLite file or a
//! fresh Postgres database per test, dropped afterwards.
//!
//! Postgres comes from `AVSWEEP_TEST_POSTGRES_URL` (default
//! `postgres://root@127.0.0.1:5432/postgres`, an admin connection used to
//! create and drop the per-test databases). When it is unreachable the test is
//! skipped with a message, except under `CI=true`, where that fails the test.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database};

use crate::Db;

pub const DEFAULT_ADMIN_URL: &str = "postgres://root@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub db: Db,
    pub url: String,
    postgres_cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A migrated database on the given backend, or `None` when Postgres is
    /// unavailable outside CI.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory for the test database");
        let url = crate::default_sqlite_url(dir.path());
        let db = Db::open(&url).await.expect("open a fresh SQLite database");
        TestDb {
            db,
            url,
            postgres_cleanup: None,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> Option<TestDb> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url = std::env::var("AVSWEEP_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let admin = match Database::connect(&admin_url).await {
            Ok(admin) => admin,
            Err(e) => {
                let message = format!(
                    "Postgres at {} is unreachable ({e}); start it with `pg_ctlcluster 15 main start` or set AVSWEEP_TEST_POSTGRES_URL",
                    crate::redact_url(&admin_url)
                );
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{message}");
                }
                eprintln!("SKIPPED: {message}");
                return None;
            }
        };
        let name = format!(
            "avsweep_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_micros()
        );
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create a per-test Postgres database");
        let _ = admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _db)) => format!("{server}/{name}"),
            None => panic!("AVSWEEP_TEST_POSTGRES_URL must end in /database"),
        };
        let db = Db::open(&url)
            .await
            .expect("open the per-test Postgres database");
        Some(TestDb {
            db,
            url,
            postgres_cleanup: Some((admin_url, name)),
            _dir: None,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres_cleanup.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread drops the database.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs the async test fn `name(&Db)` once per backend, as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! test_on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let test_db = $crate::testing::TestDb::new($crate::testing::Backend::Sqlite).await
                        .expect("sqlite is always available");
                    super::$name(&test_db.db).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(test_db) = $crate::testing::TestDb::new($crate::testing::Backend::Postgres).await else {
                        return;
                    };
                    super::$name(&test_db.db).await;
                }
            }
        )+
    };
}

/// Rewrites a queued job's targets behind the queue's back, the way a forged
/// or corrupted row would: the scope-guard tests show the worker refuses it.
pub async fn overwrite_job_targets(
    db: &Db,
    job_id: i32,
    targets: &str,
) -> Result<(), crate::StorageError> {
    use sea_orm::{ActiveModelTrait, Set};
    let job = crate::scans::get(db, job_id).await?;
    let mut job: crate::entities::scan_job::ActiveModel = job.into();
    job.targets = Set(targets.to_owned());
    job.update(db.conn()).await?;
    Ok(())
}

/// Tables whose rows a request could add or change; see [`row_counts`].
pub const DATA_TABLES: &[&str] = &[
    "subnets",
    "scan_jobs",
    "host_results",
    "hosts",
    "exclusions",
    "host_overrides",
    "subnet_scan_stats",
    "schedules",
    "sites",
    "vendor_profiles",
];

/// Rows per table in [`DATA_TABLES`]: compare before and after a refused
/// request to show nothing was stored half-way.
pub async fn row_counts(
    db: &Db,
) -> Result<std::collections::BTreeMap<&'static str, i64>, crate::StorageError> {
    use sea_orm::{FromQueryResult, Statement};
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let backend = db.conn().get_database_backend();
    let mut counts = std::collections::BTreeMap::new();
    for &table in DATA_TABLES {
        let statement =
            Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}"));
        let count = Count::find_by_statement(statement)
            .one(db.conn())
            .await?
            .map_or(0, |c| c.n);
        counts.insert(table, count);
    }
    Ok(counts)
}

//! Backups and upgrade safety: the copy `avsweep backup` makes, the copy
//! taken before migrations change an existing SQLite database (and not for a
//! fresh one), and the refusal of a database a newer avsweep migrated.

use std::path::{Path, PathBuf};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use storage::testing::{Backend, TestDb, row_counts};
use storage::{Db, StorageError, accounts, backup, subnets};

const FUTURE_MIGRATION: &str = "m20991231_000001_from_a_newer_avsweep";

/// The files in `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("a directory entry").path())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("a UTF-8 file name")
        .to_owned()
}

/// A raw read-only connection: looks at a backup without migrating or seeding it.
async fn inspect(path: &Path) -> DatabaseConnection {
    Database::connect(format!("sqlite://{}?mode=ro", path.display()))
        .await
        .expect("the backup opens as an SQLite database")
}

async fn scalar(conn: &DatabaseConnection, sql: &str) -> String {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect(sql)
        .expect("one row");
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .expect("a text or integer column")
}

fn newest_known_migration() -> String {
    Migrator::migrations()
        .last()
        .expect("avsweep has migrations")
        .name()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_a_whole_sqlite_database_with_the_same_rows() {
    let dir = tempfile::tempdir().expect("a data directory");
    let url = storage::default_sqlite_url(dir.path());
    let db = Db::open(&url).await.expect("a fresh database");
    subnets::create(&db, "127.79.0.0/28", "Lab")
        .await
        .expect("a subnet");
    accounts::create_user(&db, "alice", "correct horse battery", "admin")
        .await
        .expect("an account");

    // The server keeps its pool open: the copy is taken online.
    let path = backup::backup(&url, None).await.expect("a backup");
    assert_eq!(path.parent(), Some(dir.path().join("backups").as_path()));
    let name = file_name(&path);
    assert!(
        name.starts_with("avsweep-") && name.ends_with(".db") && name.len() == 26,
        "{name}"
    );
    let header = std::fs::read(&path).expect("the backup is readable");
    assert!(
        header.starts_with(b"SQLite format 3\0"),
        "not an SQLite file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "a backup holds password hashes: {mode:o}");
    }
    let copy = inspect(&path).await;
    assert_eq!(scalar(&copy, "PRAGMA integrity_check").await, "ok");
    copy.close().await.expect("close the backup");

    // Restoring is copying the file back: the copy is the same database.
    let restored_dir = tempfile::tempdir().expect("a second data directory");
    std::fs::copy(&path, restored_dir.path().join("avsweep.db")).expect("restore the file");
    let restored = Db::open(&storage::default_sqlite_url(restored_dir.path()))
        .await
        .expect("the restored database opens");
    assert_eq!(
        row_counts(&restored).await.expect("counts"),
        row_counts(&db).await.expect("counts")
    );
    assert_eq!(
        subnets::list(&restored).await.expect("subnets"),
        subnets::list(&db).await.expect("subnets")
    );
    assert!(
        accounts::find_by_username(&restored, "alice")
            .await
            .expect("lookup")
            .is_some()
    );
    assert!(
        files_in(&restored_dir.path().join("backups")).is_empty(),
        "an up-to-date database is not copied again"
    );

    // Never overwrite: the second copy to the same place is refused, the first stays.
    let before = std::fs::read(&path).expect("the backup");
    let error = backup::backup(&url, Some(&path)).await.unwrap_err();
    assert!(
        matches!(&error, StorageError::BackupExists { path: p } if *p == path.display().to_string()),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).expect("the backup"), before);

    // An explicit --output makes its directory.
    let elsewhere = dir.path().join("offsite/copy.db");
    assert_eq!(
        backup::backup(&url, Some(&elsewhere))
            .await
            .expect("a second backup"),
        elsewhere
    );
    assert!(elsewhere.is_file());
}

#[tokio::test]
async fn a_missing_database_or_postgres_is_not_backed_up_here() {
    let dir = tempfile::tempdir().expect("a data directory");
    let url = storage::default_sqlite_url(dir.path());
    let error = backup::backup(&url, None).await.unwrap_err();
    assert!(
        matches!(error, StorageError::NothingToBackUp { .. }),
        "{error}"
    );
    assert!(
        !dir.path().join("avsweep.db").exists(),
        "backing up must not create an empty database"
    );

    let error = backup::backup("postgres://avsweep:s3cret@db.example/avsweep", None)
        .await
        .unwrap_err();
    let StorageError::BackupNeedsPgDump { command } = &error else {
        panic!("expected the pg_dump advice, got {error}");
    };
    assert!(
        command.starts_with("pg_dump --format=custom --file=avsweep-")
            && command.ends_with(".dump 'postgres://avsweep@db.example/avsweep'"),
        "{command}"
    );
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_migration_on_an_existing_database_is_copied_first() {
    let dir = tempfile::tempdir().expect("a data directory");
    let url = storage::default_sqlite_url(dir.path());
    // The database an older avsweep left: only its first migrations applied.
    let old = Database::connect(url.as_str())
        .await
        .expect("a new SQLite file");
    Migrator::up(&old, Some(3)).await.expect("old migrations");
    old.close().await.expect("close");

    let db = Db::open(&url).await.expect("migrated");
    let backups = files_in(&dir.path().join("backups"));
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(file_name(&backups[0]).starts_with("pre-migrate-"));
    let copy = inspect(&backups[0]).await;
    assert_eq!(
        scalar(&copy, "SELECT COUNT(*) FROM seaql_migrations").await,
        "3",
        "the copy is the database before the migrations"
    );
    assert_eq!(scalar(&copy, "PRAGMA integrity_check").await, "ok");
    copy.close().await.expect("close the backup");
    assert_eq!(
        scalar(db.conn(), "SELECT COUNT(*) FROM seaql_migrations").await,
        Migrator::migrations().len().to_string()
    );

    drop(db);
    Db::open(&url).await.expect("reopened");
    assert_eq!(
        files_in(&dir.path().join("backups")).len(),
        1,
        "nothing pending: no second copy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_is_not_copied() {
    let dir = tempfile::tempdir().expect("a data directory");
    Db::open(&storage::default_sqlite_url(dir.path()))
        .await
        .expect("a fresh database");
    assert!(!dir.path().join("backups").exists());
}

async fn a_database_from_a_newer_avsweep_is_refused(backend: Backend) {
    let Some(test_db) = TestDb::new(backend).await else {
        return;
    };
    let conn = test_db.db.conn();
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        match backend {
            Backend::Sqlite => "INSERT INTO seaql_migrations (version, applied_at) VALUES (?, 0)",
            Backend::Postgres => {
                "INSERT INTO seaql_migrations (version, applied_at) VALUES ($1, 0)"
            }
        },
        [FUTURE_MIGRATION.into()],
    ))
    .await
    .expect("record a migration from the future");

    let error = Db::open(&test_db.url).await.unwrap_err();
    let StorageError::NewerSchema {
        schema,
        known,
        version,
    } = &error
    else {
        panic!("expected the newer-schema refusal, got {error}");
    };
    assert_eq!(schema, FUTURE_MIGRATION);
    assert_eq!(*known, newest_known_migration());
    assert_eq!(*version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        error.to_string(),
        format!(
            "this database was upgraded by a newer avsweep (schema {FUTURE_MIGRATION}); this binary (version {version}) only knows up to {known}: install the newer version or restore a backup from before the upgrade"
        )
    );

    // Refused before anything was written: no copy, the record is still there.
    assert_eq!(
        scalar(
            conn,
            &format!("SELECT COUNT(*) FROM seaql_migrations WHERE version = '{FUTURE_MIGRATION}'")
        )
        .await,
        "1"
    );
    if let Some(file) = test_db
        .url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
    {
        assert!(files_in(&backup::backup_dir(Path::new(file))).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_avsweep_is_refused_on_sqlite() {
    a_database_from_a_newer_avsweep_is_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_avsweep_is_refused_on_postgres() {
    a_database_from_a_newer_avsweep_is_refused(Backend::Postgres).await;
}

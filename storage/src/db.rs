use std::path::Path;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::StorageError;
use crate::backup;

/// The embedded SQLite database used when no `DATABASE_URL` is given.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}/avsweep.db?mode=rwc", data_dir.display())
}

/// Hides the password of a `scheme://user:password@host/db` URL for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The URL sqlx gets: a Postgres on this machine (loopback address or
/// `localhost`) is reached without TLS unless the URL sets `sslmode`. Loopback
/// traffic never leaves the host, and sqlx 0.9.0's TLS sockets lack
/// TCP_NODELAY, which stalls every large statement by ~40 ms (a delayed ACK;
/// transact-rs/sqlx#4335): a third of the ingest rate.
pub fn effective_url(url: &str) -> String {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return url.to_owned();
    };
    if url.contains("sslmode=") {
        return url.to_owned();
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

/// What one part of the server tells the scan workers in the same process.
/// The database stays the source of truth; a signal only saves a worker its
/// next poll, so a cancel takes effect at once instead of at the next check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobSignal {
    Queued(i32),
    CancelRequested(i32),
    /// A running scan stored new results and its position (progress pages listen).
    Progress(i32),
    /// A scan ended: done, cancelled or failed.
    Finished(i32),
}

/// A migrated, seeded database. Cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    signals: tokio::sync::broadcast::Sender<JobSignal>,
}

impl Db {
    /// Connects, creates the SQLite file's directory if needed, applies every
    /// migration and seeds the built-in vendor profiles. Refuses a database a
    /// newer avsweep migrated ([`StorageError::NewerSchema`]); copies an
    /// existing SQLite database to `backups/pre-migrate-….db` before changing
    /// its schema.
    pub async fn open(url: &str) -> Result<Db, StorageError> {
        if let Some(path) = sqlite_file_path(url)
            && let Some(dir) = Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| StorageError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut options = ConnectOptions::new(effective_url(url));
        options.sqlx_logging(false);
        if url.starts_with("sqlite:") {
            // SQLite allows one writer; a small pool avoids "database is locked" storms.
            options.max_connections(4);
        }
        let conn = Database::connect(options)
            .await
            .map_err(|source| StorageError::Connect {
                url: redact_url(url),
                source,
            })?;
        if url.starts_with("sqlite:") {
            use sea_orm::ConnectionTrait;
            conn.execute_unprepared(
                "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;",
            )
            .await?;
        }
        prepare_migration(&conn, url).await?;
        Migrator::up(&conn, None)
            .await
            .map_err(StorageError::Migrate)?;
        let (signals, _) = tokio::sync::broadcast::channel(64);
        let db = Db { conn, signals };
        crate::profiles::seed_builtin(&db).await?;
        Ok(db)
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Signals sent by this process after the matching database change.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<JobSignal> {
        self.signals.subscribe()
    }

    pub(crate) fn signal(&self, signal: JobSignal) {
        // No receiver (no worker in this process) is fine: workers also poll.
        let _ = self.signals.send(signal);
    }
}

/// Runs before [`Migrator::up`]. A database that records migrations this
/// binary lacks was upgraded by a newer avsweep: migrating or serving it
/// could misread columns the older code never knew, so it is refused before
/// anything is written. A database that already holds a schema and is about
/// to get a new one is copied aside first (SQLite only: VACUUM INTO), because
/// a migration cannot be undone by installing the old binary again. A fresh,
/// empty database needs no copy.
async fn prepare_migration(conn: &DatabaseConnection, url: &str) -> Result<(), StorageError> {
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let recorded = Migrator::get_migration_models(conn)
        .await
        .map_err(StorageError::Migrate)?;
    // Migration names start with their date, so the greatest is the newest.
    if let Some(newest) = recorded
        .iter()
        .map(|m| &m.version)
        .filter(|v| !known.contains(v))
        .max()
    {
        return Err(StorageError::NewerSchema {
            schema: newest.clone(),
            known: known.last().cloned().unwrap_or_default(),
            version: env!("CARGO_PKG_VERSION"),
        });
    }
    let pending = Migrator::get_pending_migrations(conn)
        .await
        .map_err(StorageError::Migrate)?;
    let applied = Migrator::get_applied_migrations(conn)
        .await
        .map_err(StorageError::Migrate)?;
    if pending.is_empty() || applied.is_empty() {
        return Ok(());
    }
    let pending: Vec<&str> = pending.iter().map(|m| m.name()).collect();
    match sqlite_file_path(url) {
        Some(file) => {
            let output = backup::backup_dir(Path::new(file))
                .join(backup::timestamped_name("pre-migrate", chrono::Utc::now()));
            backup::vacuum_into(conn, &output).await?;
            tracing::info!(
                backup = %output.display(),
                pending = ?pending,
                "copied the database before migrating it; to go back, reinstall the previous avsweep and restore this file"
            );
        }
        None if url.starts_with("sqlite:") => {}
        None => tracing::info!(
            pending = ?pending,
            "migrating Postgres without an automatic backup: avsweep copies SQLite files only; back up with pg_dump (`avsweep backup` prints the command) before upgrading"
        ),
    }
    Ok(())
}

pub(crate) fn sqlite_file_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_on_this_machine_is_reached_without_tls_unless_the_url_says() {
        for (given, used) in [
            (
                "postgres://root@127.0.0.1:5432/avsweep",
                "postgres://root@127.0.0.1:5432/avsweep?sslmode=disable",
            ),
            (
                "postgresql://u:p@localhost/db?application_name=x",
                "postgresql://u:p@localhost/db?application_name=x&sslmode=disable",
            ),
            (
                "postgres://[::1]:5432/db",
                "postgres://[::1]:5432/db?sslmode=disable",
            ),
            (
                "postgres://root@127.0.0.1/db?sslmode=require",
                "postgres://root@127.0.0.1/db?sslmode=require",
            ),
            (
                "postgres://avsweep@db.example:5432/avsweep",
                "postgres://avsweep@db.example:5432/avsweep",
            ),
            ("sqlite://data/avsweep.db", "sqlite://data/avsweep.db"),
        ] {
            assert_eq!(effective_url(given), used, "{given}");
        }
    }

    #[test]
    fn redacts_the_password_but_keeps_user_and_host() {
        assert_eq!(
            redact_url("postgres://avsweep:s3cret@db.example:5432/avsweep"),
            "postgres://avsweep:***@db.example:5432/avsweep"
        );
        assert_eq!(
            redact_url("sqlite://data/avsweep.db"),
            "sqlite://data/avsweep.db"
        );
    }

    #[test]
    fn finds_the_sqlite_file_behind_the_url() {
        assert_eq!(
            sqlite_file_path("sqlite://data/avsweep.db?mode=rwc"),
            Some("data/avsweep.db")
        );
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("postgres://x/y"), None);
    }
}

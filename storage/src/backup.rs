//! Copies of the database: `avsweep backup`, and the copy [`crate::Db::open`]
//! takes before this binary's migrations change an existing SQLite database.
//!
//! SQLite is copied with `VACUUM INTO`: it reads one consistent snapshot
//! inside a read transaction, so it is safe while the server writes (WAL
//! readers never block the writer) and the copy is a complete, compact
//! database file, never a torn page-by-page copy. Postgres is backed up with
//! `pg_dump`; avsweep prints the command instead of running it, because the
//! admin's `pg_dump` must match the server's major version and needs the
//! password from `~/.pgpass` or `PGPASSWORD`, which avsweep should not handle.
//!
//! Backups land in `backups/` next to the SQLite file: `<data_dir>/backups`
//! for the default `database_url`, the one directory the packaged service may
//! write besides the database itself.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

use crate::StorageError;
use crate::db::{redact_url, sqlite_file_path};

/// The directory, next to the database file, that holds its backups.
pub const BACKUP_DIR_NAME: &str = "backups";

/// `<directory of the database file>/backups`.
pub fn backup_dir(database_file: &Path) -> PathBuf {
    database_file
        .parent()
        .unwrap_or_else(|| Path::new(""))
        .join(BACKUP_DIR_NAME)
}

/// `{prefix}-YYYYMMDD-HHMMSS.db` in UTC: names sort by age and say nothing
/// about the machine's time zone, which may change between backups.
pub fn timestamped_name(prefix: &str, at: DateTime<Utc>) -> String {
    format!("{prefix}-{}.db", at.format("%Y%m%d-%H%M%S"))
}

/// The `pg_dump` command that backs up the Postgres database at `url`. The
/// password is left out: pg_dump asks for it or reads `PGPASSWORD` /
/// `~/.pgpass`, so the command can be pasted into a shell and logs as is.
pub fn pg_dump_command(url: &str, at: DateTime<Utc>) -> String {
    let file = format!("avsweep-{}.dump", at.format("%Y%m%d-%H%M%S"));
    format!(
        "pg_dump --format=custom --file={file} {}",
        shell_quote(&url_without_password(url))
    )
}

/// Copies the database at `url` to `output`, or to
/// `backups/avsweep-YYYYMMDD-HHMMSS.db` next to it, and returns the path.
/// Never overwrites a file and never migrates: a database a newer avsweep
/// upgraded can still be copied.
pub async fn backup(url: &str, output: Option<&Path>) -> Result<PathBuf, StorageError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(StorageError::BackupNeedsPgDump {
            command: pg_dump_command(url, Utc::now()),
        });
    }
    let Some(file) = sqlite_file_path(url).map(PathBuf::from) else {
        return Err(StorageError::NothingToBackUp {
            what: redact_url(url),
        });
    };
    // The URL usually says mode=rwc: connecting to a missing file would
    // create an empty database and back that up.
    if !file.is_file() {
        return Err(StorageError::NothingToBackUp {
            what: file.display().to_string(),
        });
    }
    let output = match output {
        Some(path) => path.to_path_buf(),
        None => backup_dir(&file).join(timestamped_name("avsweep", Utc::now())),
    };
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(1);
    let conn = Database::connect(options)
        .await
        .map_err(|source| StorageError::Connect {
            url: redact_url(url),
            source,
        })?;
    // Wait for a writer's checkpoint instead of failing at once; the server
    // sets the same timeout on its own connections.
    conn.execute_unprepared("PRAGMA busy_timeout=5000;").await?;
    let result = vacuum_into(&conn, &output).await;
    let _ = conn.close().await;
    result.map(|()| output)
}

/// `VACUUM INTO output` on an open SQLite connection, after making the
/// directory. Refuses an existing file (SQLite would too, unless it is empty)
/// and removes a half-written one, so every file left behind is a whole copy.
pub(crate) async fn vacuum_into(
    conn: &DatabaseConnection,
    output: &Path,
) -> Result<(), StorageError> {
    let failed = |reason: String| StorageError::Backup {
        path: output.display().to_string(),
        reason,
    };
    if output.symlink_metadata().is_ok() {
        return Err(StorageError::BackupExists {
            path: output.display().to_string(),
        });
    }
    let target = output
        .to_str()
        .ok_or_else(|| failed("the path is not valid UTF-8; choose another".into()))?;
    if let Some(dir) = output.parent()
        && !dir.as_os_str().is_empty()
    {
        prepare_dir(dir).map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    }
    // A bound parameter: the path needs no quoting, whatever it contains.
    let copied = conn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "VACUUM INTO ?",
            [target.into()],
        ))
        .await;
    if let Err(e) = copied {
        let _ = std::fs::remove_file(output);
        return Err(failed(e.to_string()));
    }
    restrict_to_owner(output).map_err(|e| failed(e.to_string()))?;
    Ok(())
}

/// Creates the backup directory readable by its owner only (a backup holds
/// password hashes and session digests) and, when it is new, gives it to the
/// owner of the directory above: `avsweep backup` run as root must not leave
/// a root-owned `backups/` that the service user then cannot write its
/// pre-migration backups into.
fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        if let Some(parent) = dir.parent()
            && let Ok(owner) = std::fs::metadata(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })
        {
            // Only root may give a directory away; anyone else already owns it.
            let _ = std::os::unix::fs::chown(dir, Some(owner.uid()), Some(owner.gid()));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

fn restrict_to_owner(file: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

/// `scheme://user:password@host/db` → `scheme://user@host/db`.
fn url_without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(end) => rest.split_at(end),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or(credentials, |(u, _)| u);
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn backups_sit_next_to_the_database_and_sort_by_time() {
        assert_eq!(
            backup_dir(Path::new("/var/lib/avsweep/avsweep.db")),
            Path::new("/var/lib/avsweep/backups")
        );
        assert_eq!(
            backup_dir(Path::new("avsweep.db")),
            Path::new("backups"),
            "a bare file name means the working directory"
        );
        let at = Utc
            .with_ymd_and_hms(2026, 12, 1, 7, 5, 9)
            .single()
            .expect("a valid time");
        assert_eq!(
            timestamped_name("pre-migrate", at),
            "pre-migrate-20261201-070509.db"
        );
    }

    #[test]
    fn the_pg_dump_command_leaves_the_password_out() {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 1, 7, 5, 9)
            .single()
            .expect("a valid time");
        assert_eq!(
            pg_dump_command(
                "postgres://avsweep:s3cr'et@db.example:5432/avsweep?sslmode=require",
                at
            ),
            "pg_dump --format=custom --file=avsweep-20261201-070509.dump 'postgres://avsweep@db.example:5432/avsweep?sslmode=require'"
        );
        assert_eq!(
            url_without_password("postgresql://root@127.0.0.1/avsweep"),
            "postgresql://root@127.0.0.1/avsweep"
        );
        assert_eq!(
            url_without_password("postgres://db.example/avsweep"),
            "postgres://db.example/avsweep"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}

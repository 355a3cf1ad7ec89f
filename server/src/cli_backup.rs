//! `avsweep backup [--output PATH]`: a consistent copy of the SQLite database,
//! safe while the server runs. For Postgres it prints the `pg_dump` command
//! and exits non-zero, so a script never mistakes the advice for a backup.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use server::config::Config;
use storage::StorageError;

const USAGE: &str = "\
Usage: avsweep backup [--output PATH]

Copies the SQLite database (VACUUM INTO: consistent while the server runs) to
PATH, or to backups/avsweep-YYYYMMDD-HHMMSS.db (UTC) next to the database
file, and prints the path. Never overwrites a file. Restore by stopping
avsweep and copying the file back over the database (avsweep.db), removing
avsweep.db-wal and avsweep.db-shm beside it.

A Postgres database is backed up with pg_dump; this command prints the exact
pg_dump command and exits with status 1.
";

pub fn run(args: Vec<OsString>) -> ExitCode {
    let mut output: Option<PathBuf> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-h" | "--help") => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            Some("--output" | "-o") => match args.next() {
                Some(path) if output.is_none() => output = Some(path.into()),
                _ => return usage("give --output one path"),
            },
            Some(text) if text.starts_with("--output=") && output.is_none() => {
                output = Some(text["--output=".len()..].into())
            }
            Some(text) => return usage(&format!("unexpected argument “{text}”")),
            None => return usage("arguments must be valid UTF-8 (give paths with --output)"),
        }
    }
    let Some(runtime) = crate::start_runtime(crate::RuntimeKind::CurrentThread) else {
        return ExitCode::FAILURE;
    };
    let result = runtime.block_on(async move {
        let config = Config::load().map_err(|e| e.to_string())?;
        storage::backup::backup(&config.database_url, output.as_deref())
            .await
            .map_err(|e| match e {
                // The advice is the whole message; no "failed" prefix would make it clearer.
                StorageError::BackupNeedsPgDump { .. } => e.to_string(),
                other => format!("no backup made: {other}"),
            })
    });
    match result {
        Ok(path) => {
            // Only the path on stdout, so scripts can take it: `f=$(avsweep backup)`.
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("avsweep backup: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("avsweep backup: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

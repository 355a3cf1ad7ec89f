use serde::{Deserialize, Serialize};

/// A message about one input field, shown next to it in forms and returned by the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "cannot open the database at {url}: {source}. Check DATABASE_URL and that the database server is running"
    )]
    Connect { url: String, source: sea_orm::DbErr },
    #[error(
        "cannot create the data directory {path}: {source}. Create it or point DATABASE_URL elsewhere"
    )]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("applying database migrations failed: {0}. The database may belong to a newer avsweep")]
    Migrate(sea_orm::DbErr),
    #[error(
        "this database was upgraded by a newer avsweep (schema {schema}); this binary (version {version}) only knows up to {known}: install the newer version or restore a backup from before the upgrade"
    )]
    NewerSchema {
        /// The newest migration the database records that this binary lacks.
        schema: String,
        /// The newest migration this binary knows.
        known: String,
        version: &'static str,
    },
    #[error(
        "{path} already exists; avsweep never overwrites a backup: choose another --output or move the file away"
    )]
    BackupExists { path: String },
    #[error("cannot write the backup {path}: {reason}")]
    Backup { path: String, reason: String },
    #[error("there is no database at {what} to back up. Check DATABASE_URL or AVSWEEP_DATA_DIR")]
    NothingToBackUp { what: String },
    #[error(
        "avsweep copies SQLite databases only; back up this Postgres database with pg_dump (it asks for the password, or reads PGPASSWORD or ~/.pgpass):\n  {command}"
    )]
    BackupNeedsPgDump { command: String },
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: i64 },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

impl StorageError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

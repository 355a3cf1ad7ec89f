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

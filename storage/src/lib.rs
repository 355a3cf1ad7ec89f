//! avsweep's storage and coverage rules: the one place that knows the schema,
//! the queries and how scan evidence turns into a verdict. Both the Leptos
//! server functions (`app` with `ssr`) and the `server` binary use it.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod coverage;
mod db;
pub mod entities;
mod error;
pub mod exclusions;
pub mod history;
pub mod hosts;
pub mod imports;
pub mod profiles;
pub mod scans;
pub mod schedules;
pub mod sites;
pub mod subnets;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Db, JobSignal, default_sqlite_url, redact_url};
pub use error::{FieldError, StorageError};
pub use sea_orm::DatabaseConnection;

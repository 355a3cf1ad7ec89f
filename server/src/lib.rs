//! The avsweep server: configuration, startup, HTTP routes and the scan worker.

pub mod auth;
pub mod config;
mod error;
pub mod import;
pub mod routes;
pub mod scheduler;
pub mod startup;
pub mod tls;
pub mod worker;

pub use error::ServerError;

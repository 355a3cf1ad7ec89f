//! sea-orm entities, one module per table (see `migrations/`).

pub mod host_result;
pub mod scan_job;
pub mod subnet;
pub mod vendor_profile;

//! sea-orm entities, one module per table (see `migrations/`).

pub mod api_token;
pub mod audit_log;
pub mod exclusion;
pub mod host;
pub mod host_override;
pub mod host_result;
pub mod login_throttle;
pub mod scan_job;
pub mod schedule;
pub mod schedule_subnet;
pub mod session;
pub mod site;
pub mod site_profile_port;
pub mod subnet;
pub mod subnet_scan_stat;
pub mod user;
pub mod vendor_profile;

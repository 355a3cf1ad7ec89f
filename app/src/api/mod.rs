//! What the browser and the server exchange: plain data types and the
//! `#[server]` functions. Server-side bodies stay thin; the work is in `storage`.

pub mod ops;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub mod account;
pub mod admin;
pub mod views;

/// A message about one form field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddSubnetOutcome {
    Created { id: i32, cidr: String },
    Invalid(Vec<FieldMessage>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanView {
    pub id: i32,
    pub status: String,
    pub total_addresses: i64,
    pub done_addresses: i64,
    pub hosts_up: i32,
    pub protected: i32,
    pub unprotected: i32,
    pub unknown: i32,
    pub out_of_scope: i32,
    pub ports: String,
    pub error: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl ScanView {
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running" | "cancelling")
    }

    /// protected ÷ (protected + unprotected + unknown), in percent.
    pub fn compliance_percent(&self) -> Option<f64> {
        let in_scope = self.protected + self.unprotected + self.unknown;
        (in_scope > 0).then(|| f64::from(self.protected) * 100.0 / f64::from(in_scope))
    }

    pub fn progress_percent(&self) -> f64 {
        progress_percent(self.done_addresses, self.total_addresses)
    }
}

/// How far a scan got, 0–100 (0 while its size is unknown).
pub fn progress_percent(done_addresses: i64, total_addresses: i64) -> f64 {
    if total_addresses <= 0 {
        return 0.0;
    }
    (done_addresses as f64 * 100.0 / total_addresses as f64).clamp(0.0, 100.0)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubnetRow {
    pub id: i32,
    pub cidr: String,
    pub name: String,
    /// The newest finished scan: where the numbers come from.
    pub last_done: Option<ScanView>,
    /// A scan queued or running right now.
    pub active: Option<ScanView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubnetReport {
    pub subnet: SubnetRow,
    /// How many hosts of the shown scan have no AV port open (unprotected
    /// and unknown); `views::load_gaps` lists them a page at a time.
    pub gap_total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub key: String,
    pub vendor: String,
    pub product: String,
    pub ports: String,
    pub banner_regex: Option<String>,
    pub listens_on_nothing: bool,
    pub port_configurable: bool,
    pub builtin: bool,
    pub enabled: bool,
    pub notes: String,
}

/// Server-side limits on what a scan may cover, from the configuration.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanPolicy {
    /// Scans of more addresses need `confirm_large` (`AVSWEEP_SCAN_ADDRESS_CAP`).
    pub address_cap: u64,
}

/// Storage errors become messages for people (used by the view functions).
#[cfg(feature = "ssr")]
pub(crate) fn ssr_to_server_error(error: storage::StorageError) -> ServerFnError {
    ssr::to_server_error(error)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use leptos::prelude::*;
    use storage::entities::scan_job;
    use storage::{Db, StorageError};

    use super::{ScanView, SubnetRow};

    pub fn db() -> Result<Db, ServerFnError> {
        use_context::<Db>().ok_or_else(|| ServerFnError::new("the database is not configured"))
    }

    fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }

    /// Storage errors become messages for people; details go to the log.
    /// Bad input answers 400, a missing record 404; only the server's own
    /// trouble is a 500.
    pub fn to_server_error(error: StorageError) -> ServerFnError {
        let status = |code: http::StatusCode| {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(code);
            }
        };
        match &error {
            StorageError::Invalid(_) => {
                status(http::StatusCode::BAD_REQUEST);
                ServerFnError::new(error.to_string())
            }
            StorageError::NotFound { .. } => {
                status(http::StatusCode::NOT_FOUND);
                ServerFnError::new(error.to_string())
            }
            _ => {
                tracing::error!(%error, "storage failed");
                set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
                ServerFnError::new("The database could not answer; see the server log for details.")
            }
        }
    }

    pub fn scan_view(job: scan_job::Model) -> ScanView {
        ScanView {
            id: job.id,
            status: job.status,
            total_addresses: job.total_addresses,
            done_addresses: job.done_addresses,
            hosts_up: job.hosts_up,
            protected: job.protected,
            unprotected: job.unprotected,
            unknown: job.unknown,
            out_of_scope: job.out_of_scope,
            ports: job.ports,
            error: job.error,
            created_at: job.created_at.to_rfc3339(),
            finished_at: job.finished_at.map(|t| t.to_rfc3339()),
        }
    }

    pub async fn subnet_row(
        db: &Db,
        subnet: storage::entities::subnet::Model,
    ) -> Result<SubnetRow, StorageError> {
        let last_done = storage::scans::latest_done_for_subnet(db, subnet.id).await?;
        let active = storage::scans::active_for_subnet(db, subnet.id).await?;
        Ok(SubnetRow {
            id: subnet.id,
            cidr: subnet.cidr,
            name: subnet.name,
            last_done: last_done.map(scan_view),
            active: active.map(scan_view),
        })
    }
}

#[server(endpoint = "subnets/list")]
pub async fn list_subnets() -> Result<Vec<SubnetRow>, ServerFnError> {
    use self::ssr::*;
    crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let mut rows = Vec::new();
    for subnet in storage::subnets::list(&db).await.map_err(to_server_error)? {
        rows.push(subnet_row(&db, subnet).await.map_err(to_server_error)?);
    }
    Ok(rows)
}

#[server(endpoint = "subnets/add")]
pub async fn add_subnet(cidr: String, name: String) -> Result<AddSubnetOutcome, ServerFnError> {
    use self::ssr::*;
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    let db = db()?;
    match storage::subnets::create(&db, &cidr, &name).await {
        Ok(subnet) => {
            tracing::info!(cidr = %subnet.cidr, name = %subnet.name, user = %user.username, "subnet added");
            crate::auth::ssr::audit(
                &db,
                &user,
                "subnet.create",
                &format!("subnet:{}", subnet.id),
                serde_json::json!({ "cidr": subnet.cidr, "name": subnet.name }),
            )
            .await?;
            Ok(AddSubnetOutcome::Created {
                id: subnet.id,
                cidr: subnet.cidr,
            })
        }
        Err(storage::StorageError::Invalid(errors)) => Ok(AddSubnetOutcome::Invalid(
            errors
                .into_iter()
                .map(|e| FieldMessage {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        )),
        Err(other) => Err(to_server_error(other)),
    }
}

#[server(endpoint = "subnets/report")]
pub async fn load_subnet_report(subnet_id: i32) -> Result<SubnetReport, ServerFnError> {
    use self::ssr::*;
    crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let subnet = storage::subnets::get(&db, subnet_id)
        .await
        .map_err(to_server_error)?;
    let row = subnet_row(&db, subnet).await.map_err(to_server_error)?;
    // The gap list itself is paged by `views::load_gaps`; the report only counts.
    let gap_total = row.last_done.as_ref().map_or(0, |scan| {
        i64::from(scan.unprotected) + i64::from(scan.unknown)
    });
    Ok(SubnetReport {
        subnet: row,
        gap_total,
    })
}

/// Queues a scan of a subnet an admin defined. A subnet larger than the
/// address cap needs `confirm_large`; `max_rate` (probes per second) lowers
/// or raises the server's default rate for this one scan.
#[server(endpoint = "scans/start")]
pub async fn start_scan(
    subnet_id: i32,
    #[server(default)] confirm_large: bool,
    #[server(default)] max_rate: Option<u32>,
) -> Result<ScanView, ServerFnError> {
    use self::ssr::*;
    let user = crate::auth::ssr::require(crate::auth::Capability::RunScans)?;
    let db = db()?;
    let policy = use_context::<ScanPolicy>()
        .ok_or_else(|| ServerFnError::new("the scan policy is not configured"))?;
    let options = storage::scans::ScanOptions {
        requested_by: user.username.clone(),
        address_cap: Some(policy.address_cap),
        confirm_large,
        max_rate,
        ..storage::scans::ScanOptions::default()
    };
    let job = storage::scans::enqueue(&db, subnet_id, options)
        .await
        .map_err(to_server_error)?;
    tracing::info!(scan = job.id, subnet = subnet_id, user = %user.username, "scan queued");
    crate::auth::ssr::audit(
        &db,
        &user,
        "scan.start",
        &format!("scan:{}", job.id),
        serde_json::json!({ "subnet": subnet_id }),
    )
    .await?;
    Ok(scan_view(job))
}

#[server(endpoint = "scans/cancel")]
pub async fn cancel_scan(scan_id: i32) -> Result<String, ServerFnError> {
    use self::ssr::*;
    let user = crate::auth::ssr::require(crate::auth::Capability::RunScans)?;
    let db = db()?;
    let status = storage::scans::cancel(&db, scan_id)
        .await
        .map_err(to_server_error)?;
    crate::auth::ssr::audit(
        &db,
        &user,
        "scan.cancel",
        &format!("scan:{scan_id}"),
        serde_json::json!({ "status": status.as_str() }),
    )
    .await?;
    tracing::info!(
        scan = scan_id,
        status = status.as_str(),
        "scan cancel requested"
    );
    Ok(status.as_str().to_owned())
}

#[server(endpoint = "profiles/list")]
pub async fn list_profiles() -> Result<Vec<ProfileView>, ServerFnError> {
    use self::ssr::*;
    crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let profiles = storage::profiles::list(&db)
        .await
        .map_err(to_server_error)?;
    Ok(profiles
        .into_iter()
        .map(|p| ProfileView {
            key: p.key,
            vendor: p.vendor,
            product: p.product,
            ports: p.ports,
            banner_regex: p.banner_regex,
            listens_on_nothing: p.listens_on_nothing,
            port_configurable: p.port_configurable,
            builtin: p.builtin,
            enabled: p.enabled,
            notes: p.notes,
        })
        .collect())
}

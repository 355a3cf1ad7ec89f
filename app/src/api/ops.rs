//! The Scans page and the Setup (admin) pages: scan options, live progress,
//! history, and inventory changes. Every function checks the caller's
//! capability first and records changes in the audit log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{FieldMessage, ScanView};

/// One scan's live state, as the progress stream sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanProgress {
    pub id: i32,
    pub status: String,
    pub total_addresses: i64,
    pub done_addresses: i64,
    pub hosts_up: i32,
    pub protected: i32,
    pub unprotected: i32,
    pub unknown: i32,
    pub out_of_scope: i32,
    /// Addresses per second since the scan started; none before it starts.
    pub rate_per_second: Option<f64>,
    /// Seconds left at the current rate; none while it cannot be estimated.
    pub eta_seconds: Option<i64>,
    pub error: Option<String>,
}

impl ScanProgress {
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running" | "cancelling")
    }

    pub fn percent(&self) -> f64 {
        crate::api::progress_percent(self.done_addresses, self.total_addresses)
    }
}

/// A row of the scan history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub scan: ScanView,
    pub subnet_cidr: String,
    pub subnet_name: String,
    pub requested_by: String,
    pub timing: String,
    pub skip_discovery: bool,
    /// Seconds from start to end (or to now, while running).
    pub duration_seconds: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<HistoryRow>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// What a form submission did: done (with a short confirmation) or the
/// messages for the fields that need fixing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormOutcome {
    Saved(String),
    Invalid(Vec<FieldMessage>),
}

impl FormOutcome {
    pub fn message_for(&self, field: &str) -> Option<String> {
        match self {
            FormOutcome::Invalid(messages) => messages
                .iter()
                .find(|m| m.field == field)
                .map(|m| m.message.clone()),
            FormOutcome::Saved(_) => None,
        }
    }
}

/// What starting scans did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StartOutcome {
    Started(Vec<ScanView>),
    Invalid(Vec<FieldMessage>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetChoice {
    pub id: i32,
    pub cidr: String,
    pub name: String,
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChoice {
    pub key: String,
    pub label: String,
    pub ports: String,
}

/// What the Scans form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanChoices {
    pub subnets: Vec<SubnetChoice>,
    pub profiles: Vec<ProfileChoice>,
    pub can_run: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteView {
    pub id: i32,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupSubnet {
    pub id: i32,
    pub cidr: String,
    pub name: String,
    pub enabled: bool,
    pub site: Option<String>,
    pub site_id: Option<i32>,
    pub tags: String,
    pub owner_contact: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSetup {
    pub subnets: Vec<SetupSubnet>,
    pub sites: Vec<SiteView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionView {
    pub id: i32,
    pub cidr: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub id: i32,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    pub subnets: Vec<String>,
    /// The next run in the schedule's own time zone, e.g. "2026-11-28 02:00 CET".
    pub next_run_local: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbedPort {
    pub port: u16,
    pub state: String,
    pub reason: String,
    /// The banner as readable text, written like the host page writes it.
    pub banner: Option<String>,
}

/// What testing one profile against one address found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileTestOutcome {
    Tested {
        address: String,
        host_state: String,
        ports: Vec<ProbedPort>,
        verdict: String,
    },
    Invalid(Vec<FieldMessage>),
}

/// How many history rows one page shows.
pub const HISTORY_PAGE_SIZE: u64 = 20;

#[cfg(feature = "ssr")]
pub mod ssr {
    use chrono::{DateTime, Utc};
    use storage::entities::scan_job;

    use super::ScanProgress;
    use crate::api::FieldMessage;

    /// A scan's live state, with its rate and time left estimated from how
    /// far it got since it started.
    pub fn progress_of(job: &scan_job::Model, now: DateTime<Utc>) -> ScanProgress {
        let elapsed = job
            .started_at
            .map(|start| (now.min(job.finished_at.unwrap_or(now)) - start).num_milliseconds())
            .filter(|ms| *ms > 0);
        let rate = elapsed.map(|ms| job.done_addresses as f64 * 1000.0 / ms as f64);
        let left = (job.total_addresses - job.done_addresses).max(0);
        let active = matches!(job.status.as_str(), "running" | "queued");
        let eta = match rate {
            Some(rate) if active && rate > 0.0 => Some((left as f64 / rate).ceil() as i64),
            _ => None,
        };
        ScanProgress {
            id: job.id,
            status: job.status.clone(),
            total_addresses: job.total_addresses,
            done_addresses: job.done_addresses,
            hosts_up: job.hosts_up,
            protected: job.protected,
            unprotected: job.unprotected,
            unknown: job.unknown,
            out_of_scope: job.out_of_scope,
            rate_per_second: rate,
            eta_seconds: eta,
            error: job.error.clone(),
        }
    }

    pub fn field_messages(errors: Vec<storage::FieldError>) -> Vec<FieldMessage> {
        errors
            .into_iter()
            .map(|e| FieldMessage {
                field: e.field,
                message: e.message,
            })
            .collect()
    }

    /// A validation failure becomes the form's messages, answered 200 like
    /// `subnets/add` (the hydrated client reads any 4xx body as an error and
    /// would lose them); anything else stays an error.
    pub fn invalid_or_error(
        error: storage::StorageError,
    ) -> Result<Vec<FieldMessage>, leptos::prelude::ServerFnError> {
        match error {
            storage::StorageError::Invalid(errors) => Ok(field_messages(errors)),
            other => Err(crate::api::ssr::to_server_error(other)),
        }
    }
}

#[server(endpoint = "ops/scan-choices")]
pub async fn load_scan_choices() -> Result<ScanChoices, ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    use crate::auth::Capability;
    let user = crate::auth::ssr::require(Capability::ViewCoverage)?;
    let db = db()?;
    let subnets = storage::subnets::list(&db)
        .await
        .map_err(to_server_error)?
        .into_iter()
        .map(|s| SubnetChoice {
            id: s.id,
            cidr: s.cidr,
            name: s.name,
            enabled: s.enabled,
        })
        .collect();
    let profiles = storage::profiles::list(&db)
        .await
        .map_err(to_server_error)?
        .into_iter()
        .filter(|p| p.enabled && !p.listens_on_nothing && !p.ports.trim().is_empty())
        .map(|p| ProfileChoice {
            key: p.key,
            label: format!("{} {}", p.vendor, p.product),
            ports: p.ports,
        })
        .collect();
    Ok(ScanChoices {
        subnets,
        profiles,
        can_run: user.can(Capability::RunScans),
    })
}

#[server(endpoint = "ops/preview")]
pub async fn preview_addresses(subnet_ids: Vec<i32>) -> Result<u64, ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    storage::scans::preview_addresses(&db, &subnet_ids)
        .await
        .map_err(to_server_error)
}

#[server(endpoint = "ops/start")]
pub async fn start_scans(
    subnet_ids: Vec<i32>,
    // An empty list cannot be written in a form post: missing = every enabled profile.
    #[server(default)] profile_keys: Vec<String>,
    skip_discovery: bool,
    timing: String,
    #[server(default)] confirm_large: bool,
) -> Result<StartOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    use crate::api::ssr::{db, scan_view};
    let user = crate::auth::ssr::require(crate::auth::Capability::RunScans)?;
    let db = db()?;
    let policy = use_context::<crate::api::ScanPolicy>()
        .ok_or_else(|| ServerFnError::new("the scan policy is not configured"))?;
    if subnet_ids.is_empty() {
        return invalid_or_error(storage::StorageError::invalid(
            "subnets",
            "Choose at least one subnet to scan.",
        ))
        .map(StartOutcome::Invalid);
    }
    let mut started = Vec::new();
    for subnet_id in subnet_ids {
        let options = storage::scans::ScanOptions {
            skip_discovery,
            timing: timing.clone(),
            profile_keys: profile_keys.clone(),
            requested_by: user.username.clone(),
            schedule_id: None,
            address_cap: Some(policy.address_cap),
            confirm_large,
            max_rate: None,
        };
        match storage::scans::enqueue(&db, subnet_id, options).await {
            Ok(job) => {
                tracing::info!(scan = job.id, subnet = subnet_id, by = %user.username, "scan queued");
                started.push(scan_view(job));
            }
            Err(error) => return invalid_or_error(error).map(StartOutcome::Invalid),
        }
    }
    Ok(StartOutcome::Started(started))
}

#[server(endpoint = "ops/cancel")]
pub async fn cancel_scan_run(scan_id: i32) -> Result<String, ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::RunScans)?;
    let db = db()?;
    let status = storage::scans::cancel(&db, scan_id)
        .await
        .map_err(to_server_error)?;
    storage::audit::record(
        db.conn(),
        &user.username,
        "scan.cancel",
        &format!("scan:{scan_id}"),
        serde_json::json!({ "status": status.as_str() }),
    )
    .await
    .map_err(to_server_error)?;
    Ok(status.as_str().to_owned())
}

#[server(endpoint = "ops/progress")]
pub async fn load_scan_progress(scan_id: i32) -> Result<ScanProgress, ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let job = storage::scans::get(&db, scan_id)
        .await
        .map_err(to_server_error)?;
    Ok(self::ssr::progress_of(&job, chrono::Utc::now()))
}

#[server(endpoint = "ops/history")]
pub async fn scan_history(page: u64) -> Result<HistoryPage, ServerFnError> {
    use crate::api::ssr::{db, scan_view, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let page = page.max(1);
    let (entries, total) =
        storage::scans::history(&db, HISTORY_PAGE_SIZE, (page - 1) * HISTORY_PAGE_SIZE)
            .await
            .map_err(to_server_error)?;
    let now = chrono::Utc::now();
    let rows = entries
        .into_iter()
        .map(|entry| {
            let duration_seconds = entry
                .job
                .started_at
                .map(|start| (entry.job.finished_at.unwrap_or(now) - start).num_seconds());
            HistoryRow {
                subnet_cidr: entry.subnet_cidr,
                subnet_name: entry.subnet_name,
                requested_by: entry.job.requested_by.clone(),
                timing: entry.job.timing.clone(),
                skip_discovery: entry.job.skip_discovery,
                duration_seconds,
                scan: scan_view(entry.job),
            }
        })
        .collect();
    Ok(HistoryPage {
        rows,
        total,
        page,
        page_size: HISTORY_PAGE_SIZE,
    })
}

// ---- Setup (admins) ----

#[server(endpoint = "setup/subnets")]
pub async fn setup_subnets() -> Result<SubnetSetup, ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    let db = db()?;
    let sites = storage::sites::list(&db).await.map_err(to_server_error)?;
    let subnets = storage::subnets::list(&db)
        .await
        .map_err(to_server_error)?
        .into_iter()
        .map(|s| SetupSubnet {
            site: s
                .site_id
                .and_then(|id| sites.iter().find(|site| site.id == id))
                .map(|site| site.name.clone()),
            site_id: s.site_id,
            id: s.id,
            cidr: s.cidr,
            name: s.name,
            enabled: s.enabled,
            tags: s.tags,
            owner_contact: s.owner_contact.unwrap_or_default(),
        })
        .collect();
    Ok(SubnetSetup {
        subnets,
        sites: sites
            .into_iter()
            .map(|s| SiteView {
                id: s.id,
                name: s.name,
            })
            .collect(),
    })
}

/// Adds a subnet, or (with `subnet_id`) changes its site, tags and owner.
#[server(endpoint = "setup/subnets/save")]
pub async fn save_subnet(
    subnet_id: Option<i32>,
    cidr: String,
    name: String,
    /// A site's id, or empty for none (a form's select sends text).
    site_id: String,
    tags: String,
    owner_contact: String,
) -> Result<FormOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    use crate::api::ssr::db;
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    let db = db()?;
    let id = match subnet_id {
        Some(id) => id,
        None => match storage::subnets::create(&db, &cidr, &name).await {
            Ok(created) => {
                let recorded = storage::audit::record(
                    db.conn(),
                    &user.username,
                    "subnet.create",
                    &format!("subnet:{}", created.id),
                    serde_json::json!({ "cidr": created.cidr, "name": created.name }),
                )
                .await;
                if let Err(error) = recorded {
                    return Err(crate::api::ssr::to_server_error(error));
                }
                created.id
            }
            Err(error) => return invalid_or_error(error).map(FormOutcome::Invalid),
        },
    };
    let site_id = match site_id.trim() {
        "" => None,
        text => match text.parse::<i32>() {
            Ok(id) => Some(id),
            Err(_) => {
                return invalid_or_error(storage::StorageError::invalid(
                    "site",
                    "Choose a site from the list, or none.",
                ))
                .map(FormOutcome::Invalid);
            }
        },
    };
    let owner = owner_contact.trim();
    match storage::subnets::update_details(
        &db,
        &user.username,
        id,
        site_id,
        &tags,
        (!owner.is_empty()).then_some(owner),
    )
    .await
    {
        Ok(saved) => Ok(FormOutcome::Saved(format!(
            "Saved {} ({}).",
            saved.cidr, saved.name
        ))),
        Err(error) => invalid_or_error(error).map(FormOutcome::Invalid),
    }
}

#[server(endpoint = "setup/subnets/enable")]
pub async fn set_subnet_enabled(subnet_id: i32, enabled: bool) -> Result<(), ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    storage::subnets::set_enabled(&db()?, &user.username, subnet_id, enabled)
        .await
        .map_err(to_server_error)?;
    Ok(())
}

#[server(endpoint = "setup/sites/add")]
pub async fn add_site(name: String) -> Result<FormOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    let db = crate::api::ssr::db()?;
    match storage::sites::create(&db, &user.username, &name, "").await {
        Ok(site) => Ok(FormOutcome::Saved(format!("Site “{}” added.", site.name))),
        Err(error) => invalid_or_error(error).map(FormOutcome::Invalid),
    }
}

#[server(endpoint = "setup/exclusions")]
pub async fn list_exclusions() -> Result<Vec<ExclusionView>, ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    Ok(storage::exclusions::list(&db()?)
        .await
        .map_err(to_server_error)?
        .into_iter()
        .map(|e| ExclusionView {
            id: e.id,
            cidr: e.cidr,
            reason: e.reason,
            created_by: e.created_by,
            created_at: e.created_at.to_rfc3339(),
        })
        .collect())
}

#[server(endpoint = "setup/exclusions/add")]
pub async fn add_exclusion(target: String, reason: String) -> Result<FormOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    match storage::exclusions::add(&crate::api::ssr::db()?, &user.username, &target, &reason).await
    {
        Ok(created) => Ok(FormOutcome::Saved(format!(
            "{} is excluded from every scan.",
            created.cidr
        ))),
        Err(error) => invalid_or_error(error).map(FormOutcome::Invalid),
    }
}

#[server(endpoint = "setup/exclusions/remove")]
pub async fn remove_exclusion(exclusion_id: i32) -> Result<(), ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    storage::exclusions::remove(&db()?, &user.username, exclusion_id)
        .await
        .map_err(to_server_error)
}

/// Every profile, for the admins' profile page.
#[server(endpoint = "setup/profiles")]
pub async fn setup_profiles() -> Result<Vec<super::ProfileView>, ServerFnError> {
    crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    super::list_profiles().await
}

#[server(endpoint = "setup/profiles/add")]
pub async fn add_custom_profile(
    vendor: String,
    product: String,
    ports: String,
    banner_regex: String,
) -> Result<FormOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    let new = storage::profiles::NewCustomProfile {
        vendor,
        product,
        ports,
        banner_regex,
    };
    match storage::profiles::create_custom(&crate::api::ssr::db()?, &user.username, &new).await {
        Ok(created) => Ok(FormOutcome::Saved(format!(
            "{} {} added and enabled (ports {}).",
            created.vendor, created.product, created.ports
        ))),
        Err(error) => invalid_or_error(error).map(FormOutcome::Invalid),
    }
}

#[server(endpoint = "setup/profiles/enable")]
pub async fn set_profile_enabled(key: String, enabled: bool) -> Result<(), ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    storage::profiles::set_enabled(&db()?, &user.username, &key, enabled)
        .await
        .map_err(to_server_error)?;
    Ok(())
}

#[server(endpoint = "setup/profiles/site-port")]
pub async fn set_site_port(
    site_id: i32,
    profile_key: String,
    ports: String,
) -> Result<FormOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    match storage::profiles::set_site_ports(
        &crate::api::ssr::db()?,
        &user.username,
        site_id,
        &profile_key,
        &ports,
    )
    .await
    {
        Ok(()) => Ok(FormOutcome::Saved(format!(
            "{profile_key} listens on {ports} at that site."
        ))),
        Err(error) => invalid_or_error(error).map(FormOutcome::Invalid),
    }
}

#[server(endpoint = "setup/schedules")]
pub async fn list_schedules() -> Result<Vec<ScheduleView>, ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    let db = db()?;
    let subnets = storage::subnets::list(&db).await.map_err(to_server_error)?;
    let now = chrono::Utc::now();
    let mut views = Vec::new();
    for schedule in storage::schedules::list(&db)
        .await
        .map_err(to_server_error)?
    {
        let ids = storage::schedules::subnet_ids(&db, schedule.id)
            .await
            .map_err(to_server_error)?;
        let next_run_local = storage::schedules::parse_timing(&schedule.cron, &schedule.timezone)
            .ok()
            .and_then(|timing| {
                storage::schedules::next_slot(&timing, now).map(|slot| {
                    slot.with_timezone(&timing.timezone)
                        .format("%Y-%m-%d %H:%M %Z")
                        .to_string()
                })
            });
        views.push(ScheduleView {
            id: schedule.id,
            name: schedule.name,
            cron: schedule.cron,
            timezone: schedule.timezone,
            enabled: schedule.enabled,
            subnets: ids
                .iter()
                .filter_map(|id| subnets.iter().find(|s| s.id == *id))
                .map(|s| s.cidr.clone())
                .collect(),
            next_run_local,
        });
    }
    Ok(views)
}

#[server(endpoint = "setup/schedules/add")]
pub async fn add_schedule(
    name: String,
    cron: String,
    timezone: String,
    subnet_ids: Vec<i32>,
) -> Result<FormOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    let db = crate::api::ssr::db()?;
    match storage::schedules::create(
        &db,
        &user.username,
        &name,
        &cron,
        &timezone,
        &subnet_ids,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(created) => Ok(FormOutcome::Saved(format!(
            "Schedule “{}” saved.",
            created.name
        ))),
        Err(error) => invalid_or_error(error).map(FormOutcome::Invalid),
    }
}

#[server(endpoint = "setup/schedules/enable")]
pub async fn set_schedule_enabled(schedule_id: i32, enabled: bool) -> Result<(), ServerFnError> {
    use crate::api::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ManageInventory)?;
    storage::schedules::set_enabled(&db()?, &user.username, schedule_id, enabled)
        .await
        .map_err(to_server_error)?;
    Ok(())
}

/// Probes one address with one profile's ports and judges it, without
/// storing anything. Only addresses inside a defined subnet and outside every
/// exclusion are probed.
#[server(endpoint = "setup/profiles/test")]
pub async fn test_profile(
    profile_key: String,
    address: String,
) -> Result<ProfileTestOutcome, ServerFnError> {
    use self::ssr::invalid_or_error;
    use crate::api::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::RunScans)?;
    let db = db()?;
    let invalid = |field: &str, message: String| {
        invalid_or_error(storage::StorageError::invalid(field, message))
            .map(ProfileTestOutcome::Invalid)
    };
    let Ok(ip) = address.trim().parse::<std::net::IpAddr>() else {
        return invalid(
            "address",
            format!(
                "“{}” is not an address; write e.g. 10.0.0.5.",
                address.trim()
            ),
        );
    };
    let profile = match storage::profiles::get(&db, &profile_key).await {
        Ok(profile) => profile,
        Err(error) => return invalid_or_error(error).map(ProfileTestOutcome::Invalid),
    };
    let subnets = storage::subnets::list(&db).await.map_err(to_server_error)?;
    let inside = subnets
        .iter()
        .find(|s| storage::subnets::parse_cidr(&s.cidr).is_ok_and(|net| net.contains(&ip)));
    let Some(subnet) = inside else {
        return invalid(
            "address",
            format!("{ip} is not inside a defined subnet; only defined subnets are ever probed."),
        );
    };
    let excluded = storage::exclusions::networks(&db)
        .await
        .map_err(to_server_error)?;
    if storage::exclusions::is_excluded(&excluded, ip) {
        return invalid(
            "address",
            format!("{ip} is excluded from scanning; it is never probed."),
        );
    }
    let rules = storage::profiles::rules_for_site(&db, subnet.site_id)
        .await
        .map_err(to_server_error)?;
    // A disabled profile is tested with its own ports, so it can be tried before it is enabled.
    let rule = match rules.into_iter().find(|r| r.key == profile.key) {
        Some(rule) => rule,
        None => {
            let ports = match storage::profiles::parse_ports(&profile.ports) {
                Ok(ports) => ports,
                Err(_) => {
                    return invalid(
                        "profile",
                        format!(
                            "{} {} has no TCP port to test (set a port for this site first).",
                            profile.vendor, profile.product
                        ),
                    );
                }
            };
            storage::coverage::ProfileRule {
                key: profile.key.clone(),
                ports,
                banner_regex: profile.banner_regex.clone(),
                probe: None,
            }
        }
    };
    let targets = scanner::TargetSet::parse(&ip.to_string()).map_err(|e| {
        tracing::error!(%e, "one address did not parse as a target");
        ServerFnError::new("The address could not be scanned; see the server log.")
    })?;
    let mut config = scanner::ScanConfig::new(targets, rule.ports.clone());
    config.skip_discovery = true;
    config.classify_devices = true;
    if rule.banner_regex.is_some() {
        for &port in &rule.ports {
            config.banners.push(match &rule.probe {
                Some(bytes) => scanner::BannerProbe::send(port, bytes),
                None => scanner::BannerProbe::read(port),
            });
        }
    }
    tracing::info!(profile = %profile.key, %ip, by = %user.username, "testing a profile against one address");
    let mut scan = scanner::start(config);
    let mut found = None;
    while let Some(event) = futures::StreamExt::next(&mut scan).await {
        match event {
            scanner::ScanEvent::Host(host) => found = Some(host),
            scanner::ScanEvent::Finished(_) => break,
            scanner::ScanEvent::Progress(_) => {}
        }
    }
    let Some(host) = found else {
        return Err(ServerFnError::new(
            "The scan of that address returned nothing; see the server log.",
        ));
    };
    let observed: Vec<storage::coverage::ObservedPort> = host
        .ports
        .iter()
        .map(|p| storage::coverage::ObservedPort {
            port: p.port,
            state: p.state.as_str().to_owned(),
            reason: p.reason.as_str().to_owned(),
            banner_hex: p
                .banner
                .as_ref()
                .map(|b| storage::coverage::encode_hex(&b.0)),
        })
        .collect();
    let up = host.state == scanner::HostState::Up;
    let (verdict, _) = storage::coverage::verdict(
        up,
        host.device.class.as_str(),
        &observed,
        std::slice::from_ref(&rule),
    );
    Ok(ProfileTestOutcome::Tested {
        address: ip.to_string(),
        host_state: if up { "up" } else { "down" }.to_owned(),
        ports: host
            .ports
            .iter()
            .map(|p| ProbedPort {
                port: p.port,
                state: p.state.as_str().to_owned(),
                reason: p.reason.as_str().to_owned(),
                banner: p
                    .banner
                    .as_ref()
                    .map(|b| crate::api::views::banner_text(&b.0)),
            })
            .collect(),
        verdict: verdict.as_str().to_owned(),
    })
}

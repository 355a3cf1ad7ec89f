//! The coverage views: Overview, a subnet's gap list with its actions, and
//! one host's evidence. Every function checks the caller's capability first.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A moment, sent with its age so server and browser render the same text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    /// RFC 3339, UTC.
    pub at: String,
    /// Seconds between `at` and when the server answered.
    pub age_seconds: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub protected: u64,
    pub unprotected: u64,
    pub unknown: u64,
    pub out_of_scope: u64,
}

impl Counts {
    /// protected ÷ (protected + unprotected + unknown), in percent.
    pub fn compliance_percent(&self) -> Option<f64> {
        let in_scope = self.protected + self.unprotected + self.unknown;
        (in_scope > 0).then(|| self.protected as f64 * 100.0 / in_scope as f64)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPointView {
    pub scan_id: i32,
    pub finished: Moment,
    pub counts: Counts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetCoverage {
    pub id: i32,
    pub name: String,
    pub cidr: String,
    pub site: Option<String>,
    pub counts: Counts,
    pub last_scan: Moment,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCoverage {
    pub name: String,
    pub subnets: usize,
    pub counts: Counts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGap {
    pub address: String,
    pub dns_name: Option<String>,
    pub subnet_id: i32,
    pub subnet_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewReport {
    /// Subnets an administrator defined, scanned or not.
    pub subnets_defined: usize,
    pub overall: Counts,
    pub trend: Vec<TrendPointView>,
    /// Scanned subnets, worst compliance first.
    pub subnets: Vec<SubnetCoverage>,
    /// Sites, worst compliance first ("No site" collects the rest).
    pub sites: Vec<SiteCoverage>,
    pub newly_unprotected: Vec<NewGap>,
}

/// The gap list's filters, sort and page, exactly as they appear in the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapParams {
    /// "unprotected" or "unknown"; anything else lists both.
    pub verdict: Option<String>,
    pub class: Option<String>,
    /// "open", "acknowledged" or "fixed".
    pub remediation: Option<String>,
    /// Start of an address, or part of a DNS name.
    pub q: Option<String>,
    /// "address" (default), "name" or "class".
    pub sort: Option<String>,
    /// "desc" for descending.
    pub dir: Option<String>,
    /// 1-based.
    pub page: Option<u64>,
}

/// Rows per page of the gap list.
pub const GAP_LIST_PAGE: u64 = 50;

impl GapParams {
    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).max(1)
    }

    /// The query string for these parameters (without "?"), skipping empty ones.
    pub fn to_query_string(&self) -> String {
        let page = self.page.filter(|p| *p > 1).map(|p| p.to_string());
        [
            ("verdict", self.verdict.as_deref()),
            ("class", self.class.as_deref()),
            ("remediation", self.remediation.as_deref()),
            ("q", self.q.as_deref()),
            ("sort", self.sort.as_deref()),
            ("dir", self.dir.as_deref()),
            ("page", page.as_deref()),
        ]
        .into_iter()
        .filter_map(|(key, value)| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key}={}", encode_query_value(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapHostView {
    pub address: String,
    pub dns_name: Option<String>,
    pub verdict: String,
    pub device_class: String,
    pub remediation: Option<String>,
    /// "2967/closed (conn-refused), 8081/filtered (no-response)".
    pub ports: String,
    /// The same ports grouped by state for reading at a glance:
    /// "filtered: 8081 · closed: 2967, 4118".
    pub port_summary: String,
    /// What an open port answered when no profile's banner matched it: the
    /// evidence for "a port is open, but it is not the agent".
    pub banner: Option<String>,
}

/// The longest banner excerpt a gap row shows; the host page has all of it.
pub const GAP_BANNER_CHARS: usize = 120;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapList {
    pub scan_id: Option<i32>,
    /// Matching hosts over all pages.
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub rows: Vec<GapHostView>,
    /// Device classes a person may set.
    pub device_classes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortEvidence {
    pub port: u16,
    pub state: String,
    pub reason: String,
    /// The banner with unprintable bytes written as \xNN.
    pub banner_text: Option<String>,
    pub banner_hex: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostEvidence {
    pub scan_id: i32,
    pub subnet_id: i32,
    pub finished: Option<Moment>,
    pub verdict: String,
    pub host_state: String,
    pub host_reason: String,
    pub device_class: String,
    pub device_confidence: i16,
    pub device_evidence: Vec<String>,
    pub matched_profile: Option<String>,
    pub ports: Vec<PortEvidence>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideView {
    pub device_class: Option<String>,
    pub out_of_scope: bool,
    pub reason: String,
    pub by: String,
    pub at: Moment,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub at: Moment,
    pub actor: String,
    pub action: String,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationView {
    pub status: String,
    pub note: Option<String>,
    pub by: Option<String>,
    pub changed: Option<Moment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub scan_id: i32,
    pub finished: Option<Moment>,
    pub verdict: String,
    pub device_class: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostReport {
    pub address: String,
    pub dns_name: Option<String>,
    pub latest: Option<HostEvidence>,
    pub current_override: Option<OverrideView>,
    pub decisions: Vec<DecisionView>,
    pub remediation: Option<RemediationView>,
    pub timeline: Vec<TimelineEntry>,
    pub device_classes: Vec<String>,
}

/// Ports grouped by state, the states that say most first:
/// "open: 8081 · filtered: 8192 · closed: 2967, 4118".
pub fn port_summary<'a>(ports: impl IntoIterator<Item = (u16, &'a str)>) -> String {
    let ports: Vec<(u16, &str)> = ports.into_iter().collect();
    let mut states: Vec<&str> = Vec::new();
    for (_, state) in &ports {
        if !states.contains(state) {
            states.push(state);
        }
    }
    let rank = |state: &str| match state {
        "open" => 0,
        "filtered" => 1,
        "closed" => 2,
        _ => 3,
    };
    states.sort_by_key(|state| rank(state));
    states
        .iter()
        .map(|state| {
            let mut numbers: Vec<u16> = ports
                .iter()
                .filter(|(_, s)| s == state)
                .map(|(port, _)| *port)
                .collect();
            numbers.sort_unstable();
            let list: Vec<String> = numbers.iter().map(u16::to_string).collect();
            format!("{state}: {}", list.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The start of a banner as readable text (see [`banner_text`]), cut after
/// [`GAP_BANNER_CHARS`] characters.
pub fn banner_excerpt(bytes: &[u8]) -> String {
    let text = banner_text(bytes);
    if text.chars().count() <= GAP_BANNER_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(GAP_BANNER_CHARS).collect();
    cut.push('…');
    cut
}

/// Banner bytes as readable text: printable ASCII as is, the rest as \xNN.
pub fn banner_text(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => text.push_str("\\\\"),
            b' '..=b'~' => text.push(b as char),
            _ => text.push_str(&format!("\\x{b:02x}")),
        }
    }
    text
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::collections::HashMap;

    use chrono::{DateTime, Utc};
    use leptos::prelude::*;
    use storage::coverage::{Coverage, Verdict};
    use storage::history::{GapQuery, GapSort};
    use storage::hosts::Remediation;
    use storage::{Db, StorageError};

    use super::{Counts, GAP_LIST_PAGE, GapHostView, GapParams, Moment};

    pub fn moment(at: DateTime<Utc>, now: DateTime<Utc>) -> Moment {
        Moment {
            at: at.to_rfc3339(),
            age_seconds: (now - at).num_seconds(),
        }
    }

    pub fn counts(c: &Coverage) -> Counts {
        Counts {
            protected: c.protected,
            unprotected: c.unprotected,
            unknown: c.unknown,
            out_of_scope: c.out_of_scope,
        }
    }

    /// A person's mistake becomes a 4xx with its message; anything else a
    /// 500 whose details stay in the log.
    pub fn to_error(error: StorageError) -> ServerFnError {
        let status = match &error {
            StorageError::Invalid(_) => Some(http::StatusCode::BAD_REQUEST),
            StorageError::NotFound { .. } => Some(http::StatusCode::NOT_FOUND),
            _ => None,
        };
        if let (Some(status), Some(response)) =
            (status, use_context::<leptos_axum::ResponseOptions>())
        {
            response.set_status(status);
        }
        crate::api::ssr_to_server_error(error)
    }

    /// A 400 with a message, for input checked here rather than in storage.
    pub fn bad_request(message: impl Into<String>) -> ServerFnError {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::BAD_REQUEST);
        }
        ServerFnError::new(message.into())
    }

    impl GapParams {
        /// The storage query for these parameters; unrecognised values are ignored.
        pub fn to_gap_query(&self) -> GapQuery {
            let verdicts = match self.verdict.as_deref().and_then(Verdict::parse) {
                Some(v @ (Verdict::Unprotected | Verdict::Unknown)) => vec![v],
                _ => vec![Verdict::Unprotected, Verdict::Unknown],
            };
            let sort = match self.sort.as_deref() {
                Some("name") => GapSort::DnsName,
                Some("class") => GapSort::DeviceClass,
                _ => GapSort::Address,
            };
            let nonempty = |v: &Option<String>| {
                v.as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            GapQuery {
                verdicts,
                search: nonempty(&self.q),
                device_class: nonempty(&self.class),
                remediation: self.remediation.as_deref().and_then(Remediation::parse),
                sort,
                descending: self.dir.as_deref() == Some("desc"),
                limit: GAP_LIST_PAGE,
                offset: (self.page() - 1).saturating_mul(GAP_LIST_PAGE),
            }
        }
    }

    pub fn gap_host(row: storage::history::GapRow) -> Result<GapHostView, StorageError> {
        let observed = storage::scans::observed_ports(&row.result)?;
        let ports = observed
            .iter()
            .map(|p| format!("{}/{} ({})", p.port, p.state, p.reason))
            .collect::<Vec<_>>()
            .join(", ");
        let port_summary = super::port_summary(observed.iter().map(|p| (p.port, p.state.as_str())));
        let banner = observed
            .iter()
            .filter(|p| p.state == "open")
            .find_map(|p| p.banner_bytes())
            .map(|bytes| super::banner_excerpt(&bytes));
        Ok(GapHostView {
            address: row.result.address,
            dns_name: row.result.dns_name,
            verdict: row.result.verdict,
            device_class: row.result.device_class,
            remediation: row.remediation,
            ports,
            port_summary,
            banner,
        })
    }

    pub async fn subnet_names(db: &Db) -> Result<HashMap<i32, String>, StorageError> {
        Ok(storage::subnets::list(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect())
    }
}

#[server(endpoint = "views/overview")]
pub async fn load_overview() -> Result<OverviewReport, ServerFnError> {
    use self::ssr::*;
    use crate::api::ssr::db;
    use crate::auth::Capability;
    crate::auth::ssr::require(Capability::ViewCoverage)?;
    let db = db()?;
    let now = chrono::Utc::now();
    let defined = storage::subnets::list(&db).await.map_err(to_error)?;
    let sites: std::collections::HashMap<i32, String> = storage::sites::list(&db)
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let latest = storage::history::latest_per_subnet(&db)
        .await
        .map_err(to_error)?;
    let mut overall = storage::coverage::Coverage::default();
    let mut subnets = Vec::with_capacity(latest.len());
    for row in &latest {
        let c = storage::coverage::Coverage::from(row);
        overall.protected += c.protected;
        overall.unprotected += c.unprotected;
        overall.unknown += c.unknown;
        overall.out_of_scope += c.out_of_scope;
        let Some(subnet) = defined.iter().find(|s| s.id == row.subnet_id) else {
            continue;
        };
        subnets.push(SubnetCoverage {
            id: subnet.id,
            name: subnet.name.clone(),
            cidr: subnet.cidr.clone(),
            site: subnet.site_id.and_then(|id| sites.get(&id).cloned()),
            counts: counts(&c),
            last_scan: moment(row.finished_at, now),
        });
    }
    let worst_first = |a: &Counts, b: &Counts| {
        let key = |c: &Counts| c.compliance_percent().unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b))
    };
    subnets.sort_by(|a, b| worst_first(&a.counts, &b.counts).then(a.name.cmp(&b.name)));
    let mut by_site: Vec<SiteCoverage> = Vec::new();
    for subnet in &subnets {
        let name = subnet.site.clone().unwrap_or_else(|| "No site".into());
        let site = match by_site.iter_mut().find(|s| s.name == name) {
            Some(site) => site,
            None => {
                by_site.push(SiteCoverage {
                    name,
                    subnets: 0,
                    counts: Counts::default(),
                });
                by_site.last_mut().expect("just pushed")
            }
        };
        site.subnets += 1;
        site.counts.protected += subnet.counts.protected;
        site.counts.unprotected += subnet.counts.unprotected;
        site.counts.unknown += subnet.counts.unknown;
        site.counts.out_of_scope += subnet.counts.out_of_scope;
    }
    by_site.sort_by(|a, b| worst_first(&a.counts, &b.counts).then(a.name.cmp(&b.name)));
    let trend = storage::history::overall_trend(&db, 30)
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|p| TrendPointView {
            scan_id: p.scan_id,
            finished: moment(p.finished_at, now),
            counts: counts(&p.coverage),
        })
        .collect();
    let names = subnet_names(&db).await.map_err(to_error)?;
    let newly_unprotected = storage::history::newly_unprotected_everywhere(&db, 50)
        .await
        .map_err(to_error)?
        .into_iter()
        .filter_map(|r| {
            let scan_subnet = latest.iter().find(|l| l.scan_id == r.scan_id)?.subnet_id;
            Some(NewGap {
                address: r.address,
                dns_name: r.dns_name,
                subnet_id: scan_subnet,
                subnet_name: names.get(&scan_subnet).cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(OverviewReport {
        subnets_defined: defined.len(),
        overall: counts(&overall),
        trend,
        subnets,
        sites: by_site,
        newly_unprotected,
    })
}

#[server(endpoint = "views/gaps")]
pub async fn load_gaps(
    subnet_id: i32,
    #[server(default)] params: GapParams,
) -> Result<GapList, ServerFnError> {
    use self::ssr::*;
    use crate::api::ssr::db;
    use crate::auth::Capability;
    crate::auth::ssr::require(Capability::ViewCoverage)?;
    let db = db()?;
    storage::subnets::get(&db, subnet_id)
        .await
        .map_err(to_error)?;
    let query = params.to_gap_query();
    let page = storage::history::gaps(&db, subnet_id, &query)
        .await
        .map_err(to_error)?;
    let rows = page
        .rows
        .into_iter()
        .map(gap_host)
        .collect::<Result<Vec<_>, _>>()
        .map_err(to_error)?;
    Ok(GapList {
        scan_id: page.scan_id,
        total: page.total,
        page: params.page(),
        page_size: GAP_LIST_PAGE,
        rows,
        device_classes: storage::hosts::device_classes()
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
    })
}

/// Marks hosts out of scope or sets their device class, all or none.
#[server(endpoint = "views/override")]
pub async fn set_host_overrides(
    addresses: Vec<String>,
    device_class: Option<String>,
    out_of_scope: bool,
    reason: String,
) -> Result<usize, ServerFnError> {
    use self::ssr::*;
    use crate::api::ssr::db;
    use crate::auth::Capability;
    let user = crate::auth::ssr::require(Capability::EditOverrides)?;
    let db = db()?;
    let device_class = device_class.filter(|c| !c.trim().is_empty());
    let saved = storage::hosts::set_overrides(
        &db,
        &user.username,
        &addresses,
        storage::hosts::NewOverride {
            device_class,
            out_of_scope,
            reason,
        },
    )
    .await
    .map_err(to_error)?;
    tracing::info!(user = %user.username, hosts = saved.len(), out_of_scope, "overrides set");
    Ok(saved.len())
}

/// Removes the override of one host.
#[server(endpoint = "views/override/clear")]
pub async fn clear_host_override(address: String) -> Result<(), ServerFnError> {
    use self::ssr::*;
    use crate::api::ssr::db;
    use crate::auth::Capability;
    let user = crate::auth::ssr::require(Capability::EditOverrides)?;
    let db = db()?;
    let ip: std::net::IpAddr = address
        .trim()
        .parse()
        .map_err(|_| bad_request(format!("“{address}” is not an IP address.")))?;
    storage::hosts::clear_override(&db, &user.username, &ip.to_string())
        .await
        .map_err(to_error)
}

/// Acknowledges open gaps for remediation, all or none.
#[server(endpoint = "views/acknowledge")]
pub async fn acknowledge_hosts(
    addresses: Vec<String>,
    note: String,
) -> Result<usize, ServerFnError> {
    use self::ssr::*;
    use crate::api::ssr::db;
    use crate::auth::Capability;
    let user = crate::auth::ssr::require(Capability::EditRemediation)?;
    let db = db()?;
    if note.trim().is_empty() {
        return Err(bad_request(
            "Add a note (a ticket number, who is on it) so others know what happens next.",
        ));
    }
    let updated = storage::hosts::acknowledge_many(&db, &user.username, &addresses, &note)
        .await
        .map_err(to_error)?;
    Ok(updated.len())
}

#[server(endpoint = "views/host")]
pub async fn load_host(address: String) -> Result<HostReport, ServerFnError> {
    use self::ssr::*;
    use crate::api::ssr::db;
    use crate::auth::Capability;
    crate::auth::ssr::require(Capability::ViewCoverage)?;
    let db = db()?;
    let now = chrono::Utc::now();
    let ip: std::net::IpAddr = address
        .trim()
        .parse()
        .map_err(|_| bad_request(format!("“{address}” is not an IP address.")))?;
    let address = ip.to_string();
    let history = storage::history::host_history(&db, &address, 50)
        .await
        .map_err(to_error)?;
    let host = storage::hosts::get(&db, &address).await.map_err(to_error)?;
    let latest = match history.first() {
        Some(entry) => {
            let r = &entry.result;
            let job = storage::scans::get(&db, r.scan_id)
                .await
                .map_err(to_error)?;
            let ports = storage::scans::observed_ports(r)
                .map_err(to_error)?
                .into_iter()
                .map(|p| {
                    let bytes = p.banner_bytes();
                    PortEvidence {
                        port: p.port,
                        state: p.state,
                        reason: p.reason,
                        banner_text: bytes.as_deref().map(banner_text),
                        banner_hex: p.banner_hex,
                    }
                })
                .collect();
            let device_evidence: Vec<String> =
                serde_json::from_value(r.device_evidence.clone()).unwrap_or_default();
            Some(HostEvidence {
                scan_id: r.scan_id,
                subnet_id: job.subnet_id,
                finished: entry.scan_finished_at.map(|t| moment(t, now)),
                verdict: r.verdict.clone(),
                host_state: r.host_state.clone(),
                host_reason: r.host_reason.clone(),
                device_class: r.device_class.clone(),
                device_confidence: r.device_confidence,
                device_evidence,
                matched_profile: r.matched_profile.clone(),
                ports,
            })
        }
        None => None,
    };
    if latest.is_none() && host.is_none() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
        return Err(ServerFnError::new(format!(
            "No scan has seen {address} yet."
        )));
    }
    let current_override = storage::hosts::override_for(&db, &address)
        .await
        .map_err(to_error)?
        .map(|o| OverrideView {
            device_class: o.device_class,
            out_of_scope: o.out_of_scope,
            reason: o.reason,
            by: o.created_by,
            at: moment(o.created_at, now),
        });
    let decisions = storage::hosts::override_history(&db, &address, 50)
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|entry| {
            let detail = &entry.detail;
            let summary = match entry.action.as_str() {
                "override.set" => {
                    let what = match (
                        detail["out_of_scope"].as_bool().unwrap_or(false),
                        detail["device_class"].as_str(),
                    ) {
                        (true, Some(class)) => format!("out of scope, device class {class}"),
                        (true, None) => "out of scope".to_owned(),
                        (false, Some(class)) => format!("device class {class}"),
                        (false, None) => "override".to_owned(),
                    };
                    format!(
                        "Set {what}: {}",
                        detail["reason"].as_str().unwrap_or("no reason given")
                    )
                }
                "override.clear" => "Cleared the override; evidence decides again".to_owned(),
                other => other.to_owned(),
            };
            DecisionView {
                at: moment(entry.at, now),
                actor: entry.actor,
                action: entry.action,
                summary,
            }
        })
        .collect();
    let remediation = host.as_ref().and_then(|h| {
        h.remediation_status.clone().map(|status| RemediationView {
            status,
            note: h.remediation_note.clone(),
            by: h.remediation_by.clone(),
            changed: h.remediation_changed_at.map(|t| moment(t, now)),
        })
    });
    let timeline = history
        .iter()
        .map(|entry| TimelineEntry {
            scan_id: entry.result.scan_id,
            finished: entry.scan_finished_at.map(|t| moment(t, now)),
            verdict: entry.result.verdict.clone(),
            device_class: entry.result.device_class.clone(),
        })
        .collect();
    Ok(HostReport {
        dns_name: host
            .as_ref()
            .and_then(|h| h.dns_name.clone())
            .or_else(|| history.first().and_then(|e| e.result.dns_name.clone())),
        address,
        latest,
        current_override,
        decisions,
        remediation,
        timeline,
        device_classes: storage::hosts::device_classes()
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_show_unprintable_bytes_as_hex_escapes() {
        assert_eq!(
            banner_text(b"SSH-2.0\r\n\x00<b>"),
            "SSH-2.0\\x0d\\x0a\\x00<b>"
        );
        assert_eq!(banner_text(b"a\\b"), "a\\\\b");
    }

    #[test]
    fn port_summaries_group_ports_by_state_open_first() {
        assert_eq!(
            port_summary([
                (8081, "closed"),
                (2967, "closed"),
                (8192, "filtered"),
                (7074, "open")
            ]),
            "open: 7074 · filtered: 8192 · closed: 2967, 8081"
        );
        assert_eq!(port_summary([]), "");
    }

    #[test]
    fn gap_rows_show_the_start_of_long_banners() {
        assert_eq!(banner_excerpt(b"<script>x</script>"), "<script>x</script>");
        let long = vec![b'A'; GAP_BANNER_CHARS + 10];
        let excerpt = banner_excerpt(&long);
        assert_eq!(excerpt.chars().count(), GAP_BANNER_CHARS + 1);
        assert!(excerpt.ends_with('…'));
    }

    #[test]
    fn gap_params_round_trip_through_the_url_without_empty_values() {
        let params = GapParams {
            verdict: Some("unknown".into()),
            q: Some("pc 1&x".into()),
            class: Some(String::new()),
            page: Some(3),
            ..GapParams::default()
        };
        assert_eq!(
            params.to_query_string(),
            "verdict=unknown&q=pc%201%26x&page=3"
        );
        assert_eq!(GapParams::default().to_query_string(), "");
        assert_eq!(
            GapParams {
                page: Some(0),
                ..GapParams::default()
            }
            .page(),
            1
        );
    }
}

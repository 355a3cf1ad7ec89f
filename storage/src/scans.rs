//! Scan jobs: queued in the database, claimed by a worker, results stored in
//! batches while the scan runs so progress and partial results are visible.

use std::net::IpAddr;

use chrono::Utc;
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set, Statement, TransactionTrait,
};

use crate::coverage::{self, Coverage, ObservedPort, OverrideRule, ProfileRule, Verdict};
use crate::entities::{host_override, host_result, scan_job, subnet_scan_stat};
use crate::{Db, StorageError, audit, exclusions, profiles, subnets};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    /// Cancel was asked for; the worker stops within a second.
    Cancelling,
    Done,
    Cancelled,
    Failed,
}

impl JobStatus {
    const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Cancelling,
        JobStatus::Done,
        JobStatus::Cancelled,
        JobStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Cancelling => "cancelling",
            JobStatus::Done => "done",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_active(self) -> bool {
        matches!(
            self,
            JobStatus::Queued | JobStatus::Running | JobStatus::Cancelling
        )
    }
}

/// How a scan probes; the subnet and the enabled profiles give targets and ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    pub skip_discovery: bool,
    /// nmap timing template: "T0" (paranoid) to "T5" (insane).
    pub timing: String,
    /// The vendor profiles to check, by key; empty = every enabled profile.
    pub profile_keys: Vec<String>,
    /// Who asks for the scan, for the job list and the audit log.
    pub requested_by: String,
    /// The schedule that queued the scan, if any.
    pub schedule_id: Option<i32>,
    /// Scans of more addresses than this need `confirm_large`; `None` = no cap
    /// (schedules: an admin confirmed their subnets when defining them).
    pub address_cap: Option<u64>,
    /// A person confirmed a scan over the address cap.
    pub confirm_large: bool,
    /// Probes per second for this scan; `None` = the server's default.
    pub max_rate: Option<u32>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            skip_discovery: false,
            timing: "T4".into(),
            profile_keys: Vec::new(),
            requested_by: "web".into(),
            schedule_id: None,
            address_cap: None,
            confirm_large: false,
            max_rate: None,
        }
    }
}

/// The nmap timing templates a scan may use, slowest first.
pub const TIMING_TEMPLATES: [&str; 6] = ["T0", "T1", "T2", "T3", "T4", "T5"];

/// Queues a scan of one subnet with the chosen (or every enabled) profile's
/// ports. A subnet that is already being scanned gets its running job back,
/// not a second one.
pub async fn enqueue(
    db: &Db,
    subnet_id: i32,
    options: ScanOptions,
) -> Result<scan_job::Model, StorageError> {
    let subnet = subnets::get(db, subnet_id).await?;
    if let Some(active) = active_for_subnet(db, subnet_id).await? {
        return Ok(active);
    }
    if !subnet.enabled {
        return Err(StorageError::invalid(
            "subnet",
            format!(
                "{} is disabled; enable it under Setup → Subnets to scan it.",
                subnet.cidr
            ),
        ));
    }
    if !TIMING_TEMPLATES.contains(&options.timing.as_str()) {
        return Err(StorageError::invalid(
            "timing",
            format!(
                "“{}” is not a timing template; use T0 (slowest) to T5 (fastest).",
                options.timing
            ),
        ));
    }
    let all_rules = profiles::rules_for_site(db, subnet.site_id).await?;
    for key in &options.profile_keys {
        if !all_rules.iter().any(|r| &r.key == key) {
            return Err(StorageError::invalid(
                "profiles",
                format!(
                    "The profile “{key}” is not enabled or has no TCP port at this subnet's site; \
                     enable it on the Profiles page or leave it out."
                ),
            ));
        }
    }
    let rules = select_rules(all_rules, &options.profile_keys);
    let ports = coverage::ports_of(&rules);
    if ports.is_empty() {
        return Err(StorageError::invalid(
            "profiles",
            "No vendor profile with a TCP port is enabled; enable one on the Profiles page first.",
        ));
    }
    let (excludes, total) = targets_after_exclusions(db, &subnet).await?;
    if total == 0 {
        return Err(StorageError::invalid(
            "subnet",
            format!(
                "Every address of {} is excluded; nothing would be scanned.",
                subnet.cidr
            ),
        ));
    }
    if let Some(cap) = options.address_cap
        && total > cap
        && !options.confirm_large
    {
        return Err(StorageError::invalid(
            "confirm_large",
            format!(
                "{} has {total} addresses to scan, more than the cap of {cap} (AVSWEEP_SCAN_ADDRESS_CAP). Check the subnet is right, then confirm the large scan (confirm_large=true) to start it.",
                subnet.cidr
            ),
        ));
    }
    let max_rate = match options.max_rate {
        Some(0) => {
            return Err(StorageError::invalid(
                "max_rate",
                "A rate of 0 probes per second would never finish; give at least 1, or leave it empty for the server's default.",
            ));
        }
        Some(rate) => Some(i32::try_from(rate).map_err(|_| {
            StorageError::invalid(
                "max_rate",
                format!(
                    "{rate} probes per second is more than any network takes; give at most {}.",
                    i32::MAX
                ),
            )
        })?),
        None => None,
    };
    let job = scan_job::ActiveModel {
        subnet_id: Set(subnet.id),
        status: Set(JobStatus::Queued.as_str().into()),
        targets: Set(subnet.cidr.clone()),
        ports: Set(profiles::format_ports(&ports)),
        skip_discovery: Set(options.skip_discovery),
        timing: Set(options.timing),
        seed: Set(fresh_seed()),
        resume_position: Set(0),
        total_addresses: Set(i64::try_from(total).unwrap_or(i64::MAX)),
        done_addresses: Set(0),
        hosts_up: Set(0),
        protected: Set(0),
        unprotected: Set(0),
        unknown: Set(0),
        out_of_scope: Set(0),
        error: Set(None),
        created_at: Set(Utc::now()),
        started_at: Set(None),
        finished_at: Set(None),
        requested_by: Set(options.requested_by.clone()),
        excludes: Set(excludes),
        schedule_id: Set(options.schedule_id),
        profile_keys: Set(options.profile_keys.join(",")),
        max_rate: Set(max_rate),
        source: Set("scan".into()),
        ..Default::default()
    };
    let job = job.insert(db.conn()).await?;
    audit::record(
        db.conn(),
        &options.requested_by,
        "scan.queue",
        &format!("scan:{}", job.id),
        serde_json::json!({
            "subnet": subnet.cidr,
            "ports": job.ports,
            "timing": job.timing,
            "skip_discovery": job.skip_discovery,
            "profiles": job.profile_keys,
        }),
    )
    .await?;
    db.signal(crate::JobSignal::Queued(job.id));
    Ok(job)
}

/// Keeps the rules whose key is chosen; no choice keeps them all.
fn select_rules(rules: Vec<ProfileRule>, keys: &[String]) -> Vec<ProfileRule> {
    if keys.is_empty() {
        return rules;
    }
    rules
        .into_iter()
        .filter(|r| keys.contains(&r.key))
        .collect()
}

/// The exclusions that touch a subnet (comma-separated, as the scanner reads
/// them) and how many of its addresses remain to be scanned.
async fn targets_after_exclusions(
    db: &Db,
    subnet: &crate::entities::subnet::Model,
) -> Result<(String, u64), StorageError> {
    let net = subnets::parse_cidr(&subnet.cidr).map_err(StorageError::Corrupt)?;
    let excludes: Vec<String> = exclusions::networks(db)
        .await?
        .into_iter()
        .filter(|ex| net.contains(&ex.network()) || ex.contains(&net.network()))
        .map(|ex| ex.to_string())
        .collect();
    let excludes = excludes.join(",");
    let total = scanner::TargetSet::parse_with_exclusions(&subnet.cidr, &excludes)
        .map(|targets| targets.len())
        .map_err(|e| {
            StorageError::Corrupt(format!(
                "subnet {} or an exclusion does not parse: {e}",
                subnet.cidr
            ))
        })?;
    Ok((excludes, total))
}

/// How many addresses a scan of these subnets would probe, after exclusions
/// (a subnet listed twice counts once).
pub async fn preview_addresses(db: &Db, subnet_ids: &[i32]) -> Result<u64, StorageError> {
    let mut ids = subnet_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut total = 0u64;
    for id in ids {
        let subnet = subnets::get(db, id).await?;
        total = total.saturating_add(targets_after_exclusions(db, &subnet).await?.1);
    }
    Ok(total)
}

/// One scan in the history, with the subnet it covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub job: scan_job::Model,
    pub subnet_cidr: String,
    pub subnet_name: String,
}

/// A page of every scan, newest first, and how many scans there are in all.
pub async fn history(
    db: &Db,
    limit: u64,
    offset: u64,
) -> Result<(Vec<HistoryEntry>, u64), StorageError> {
    use sea_orm::PaginatorTrait;
    let total = scan_job::Entity::find().count(db.conn()).await?;
    let rows = scan_job::Entity::find()
        .find_also_related(crate::entities::subnet::Entity)
        .order_by_desc(scan_job::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db.conn())
        .await?;
    let entries = rows
        .into_iter()
        .map(|(job, subnet)| {
            let (subnet_cidr, subnet_name) = subnet
                .map(|s| (s.cidr, s.name))
                .unwrap_or_else(|| (job.targets.clone(), String::new()));
            HistoryEntry {
                job,
                subnet_cidr,
                subnet_name,
            }
        })
        .collect();
    Ok((entries, total))
}

fn fresh_seed() -> i64 {
    // Any varying value will do: the seed only spreads probes over the subnet.
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    nanos ^ i64::from(std::process::id()).rotate_left(32)
}

pub async fn get(db: &Db, job_id: i32) -> Result<scan_job::Model, StorageError> {
    scan_job::Entity::find_by_id(job_id)
        .one(db.conn())
        .await?
        .ok_or(StorageError::NotFound {
            what: "scan",
            id: job_id.into(),
        })
}

pub async fn active_for_subnet(
    db: &Db,
    subnet_id: i32,
) -> Result<Option<scan_job::Model>, StorageError> {
    Ok(scan_job::Entity::find()
        .filter(scan_job::Column::SubnetId.eq(subnet_id))
        .filter(scan_job::Column::Status.is_in(active_statuses()))
        .order_by_desc(scan_job::Column::Id)
        .one(db.conn())
        .await?)
}

fn active_statuses() -> [&'static str; 3] {
    [
        JobStatus::Queued.as_str(),
        JobStatus::Running.as_str(),
        JobStatus::Cancelling.as_str(),
    ]
}

/// The newest scan of a subnet, whatever its status.
pub async fn latest_for_subnet(
    db: &Db,
    subnet_id: i32,
) -> Result<Option<scan_job::Model>, StorageError> {
    Ok(scan_job::Entity::find()
        .filter(scan_job::Column::SubnetId.eq(subnet_id))
        .order_by_desc(scan_job::Column::Id)
        .one(db.conn())
        .await?)
}

/// The newest finished scan of a subnet: the one its compliance comes from.
pub async fn latest_done_for_subnet(
    db: &Db,
    subnet_id: i32,
) -> Result<Option<scan_job::Model>, StorageError> {
    Ok(scan_job::Entity::find()
        .filter(scan_job::Column::SubnetId.eq(subnet_id))
        .filter(scan_job::Column::Status.eq(JobStatus::Done.as_str()))
        .order_by_desc(scan_job::Column::Id)
        .one(db.conn())
        .await?)
}

/// The coverage rules a job is judged by: the enabled profiles, with its
/// subnet's site's own ports.
pub async fn rules_for_job(
    db: &Db,
    job: &scan_job::Model,
) -> Result<Vec<ProfileRule>, StorageError> {
    let subnet = subnets::get(db, job.subnet_id).await?;
    let rules = profiles::rules_for_site(db, subnet.site_id).await?;
    let keys: Vec<String> = job
        .profile_keys
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(select_rules(rules, &keys))
}

/// Takes the oldest queued job for this worker, atomically: two workers (or
/// two servers on one Postgres) never run the same job. Postgres skips rows
/// another transaction is claiming (`FOR UPDATE SKIP LOCKED`); SQLite has a
/// single writer, so one conditional `UPDATE … RETURNING` is enough.
pub async fn claim_next(db: &Db) -> Result<Option<scan_job::Model>, StorageError> {
    let backend = db.conn().get_database_backend();
    let pick = match backend {
        DatabaseBackend::Postgres => {
            "SELECT id FROM scan_jobs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        }
        _ => "SELECT id FROM scan_jobs WHERE status = 'queued' ORDER BY id LIMIT 1",
    };
    let sql = format!(
        "UPDATE scan_jobs SET status = 'running', started_at = COALESCE(started_at, $1) \
         WHERE id = ({pick}) AND status = 'queued' RETURNING *"
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [chrono::Utc::now().into()]);
    Ok(scan_job::Entity::find()
        .from_raw_sql(stmt)
        .one(db.conn())
        .await?)
}

/// After a crash or restart: jobs left running go back to the queue (they
/// resume from their stored position); jobs left cancelling are cancelled.
pub async fn recover_interrupted(db: &Db) -> Result<u64, StorageError> {
    let requeued = scan_job::Entity::update_many()
        .col_expr(
            scan_job::Column::Status,
            Expr::value(JobStatus::Queued.as_str()),
        )
        .filter(scan_job::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db.conn())
        .await?;
    scan_job::Entity::update_many()
        .col_expr(
            scan_job::Column::Status,
            Expr::value(JobStatus::Cancelled.as_str()),
        )
        .col_expr(scan_job::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(scan_job::Column::Status.eq(JobStatus::Cancelling.as_str()))
        .exec(db.conn())
        .await?;
    Ok(requeued.rows_affected)
}

/// One host's evidence as the worker hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRecord {
    pub position: u64,
    pub address: IpAddr,
    pub up: bool,
    pub host_reason: String,
    pub device_class: String,
    pub device_confidence: u8,
    pub device_evidence: Vec<String>,
    pub ports: Vec<ObservedPort>,
    /// Reverse-DNS name, when the scanner found one.
    pub dns_name: Option<String>,
}

impl HostRecord {
    /// The scanner's result as the store takes it.
    pub fn from_result(host: &scanner::HostResult) -> HostRecord {
        HostRecord {
            position: host.position,
            address: host.address,
            up: host.state == scanner::HostState::Up,
            host_reason: host.reason.as_str().to_owned(),
            device_class: host.device.class.as_str().to_owned(),
            device_confidence: host.device.confidence,
            device_evidence: host.device.evidence.clone(),
            ports: host
                .ports
                .iter()
                .map(|p| ObservedPort {
                    port: p.port,
                    state: p.state.as_str().to_owned(),
                    reason: p.reason.as_str().to_owned(),
                    banner_hex: p.banner.as_ref().map(|b| coverage::encode_hex(&b.0)),
                })
                .collect(),
            dns_name: host.dns_name.clone(),
        }
    }
}

/// 32 hex digits that sort like the addresses they stand for.
pub fn address_sort_key(address: IpAddr) -> String {
    let v6 = match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    format!("{:032x}", u128::from(v6))
}

/// Stores a batch of host results with their verdicts, then refreshes the
/// job's counters. Re-storing an address already stored for this scan (a
/// resumed scan repeating itself) changes nothing. Addresses under an
/// exclusion are dropped; a person's override shapes the verdict. The batch
/// goes in as one multi-row `INSERT` per chunk, in one transaction.
pub async fn record_hosts(
    db: &Db,
    job_id: i32,
    rules: &[ProfileRule],
    hosts: &[HostRecord],
) -> Result<(), StorageError> {
    if hosts.is_empty() {
        return Ok(());
    }
    let excluded = exclusions::networks(db).await?;
    let hosts: Vec<&HostRecord> = hosts
        .iter()
        .filter(|h| !exclusions::is_excluded(&excluded, h.address))
        .collect();
    let overrides = overrides_for(db, hosts.iter().map(|h| h.address.to_string())).await?;
    let rows: Vec<NewResult> = hosts
        .iter()
        .map(|host| {
            let address = host.address.to_string();
            let (verdict, matched) = coverage::verdict_with_override(
                host.up,
                &host.device_class,
                &host.ports,
                rules,
                overrides.get(&address),
            );
            NewResult {
                sort_key: address_sort_key(host.address),
                address,
                position: i64::try_from(host.position).unwrap_or(i64::MAX),
                host_state: if host.up { "up" } else { "down" },
                host_reason: host.host_reason.clone(),
                device_class: host.device_class.clone(),
                device_confidence: i16::from(host.device_confidence),
                device_evidence: serde_json::json!(host.device_evidence),
                ports: serde_json::to_value(&host.ports).unwrap_or_default(),
                verdict: verdict.as_str(),
                matched_profile: matched,
                dns_name: host.dns_name.clone(),
            }
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let txn = db.conn().begin().await?;
    let mut added = Coverage::default();
    // 14 bound values a row on SQLite: 1000 rows stay under its parameter limit.
    for chunk in rows.chunks(1000) {
        // A resumed scan repeats hosts it stored before the kill: the unique
        // (scan, address) key skips those rows, and RETURNING names only the
        // rows really inserted, so nothing is counted twice.
        let inserted = match txn.get_database_backend() {
            DatabaseBackend::Postgres => insert_results_postgres(&txn, job_id, chunk).await?,
            _ => insert_results_portable(&txn, job_id, chunk).await?,
        };
        for (verdict, hosts) in inserted {
            let verdict = Verdict::parse(&verdict)
                .ok_or_else(|| StorageError::Corrupt(format!("unknown verdict “{verdict}”")))?;
            added.add(verdict, u64::try_from(hosts).unwrap_or(0));
        }
    }
    add_to_counters(&txn, job_id, &added).await?;
    txn.commit().await?;
    Ok(())
}

/// One host result row as `record_hosts` inserts it.
#[derive(serde::Serialize)]
struct NewResult {
    address: String,
    sort_key: String,
    position: i64,
    host_state: &'static str,
    host_reason: String,
    device_class: String,
    device_confidence: i16,
    device_evidence: serde_json::Value,
    ports: serde_json::Value,
    verdict: &'static str,
    matched_profile: Option<String>,
    dns_name: Option<String>,
}

/// Postgres takes the whole chunk as one JSON text parameter, unpacks it with
/// `json_to_recordset` and answers with counts per verdict: one short
/// statement each way instead of thousands of bound values and returned rows,
/// which is what makes ingest fast at enterprise size.
async fn insert_results_postgres(
    conn: &impl ConnectionTrait,
    job_id: i32,
    rows: &[NewResult],
) -> Result<Vec<(String, i64)>, StorageError> {
    const SQL: &str = "WITH inserted AS (INSERT INTO host_results (scan_id, address, sort_key, \
        position, host_state, host_reason, device_class, device_confidence, device_evidence, ports, \
        verdict, matched_profile, dns_name) \
        SELECT $1, r.address, r.sort_key, r.position, r.host_state, r.host_reason, r.device_class, \
        r.device_confidence, r.device_evidence, r.ports, r.verdict, r.matched_profile, r.dns_name \
        FROM json_to_recordset($2::text::json) AS r(address varchar, sort_key varchar, position bigint, \
        host_state varchar, host_reason varchar, device_class varchar, device_confidence smallint, \
        device_evidence json, ports json, verdict varchar, matched_profile varchar, dns_name varchar) \
        ON CONFLICT (scan_id, address) DO NOTHING RETURNING verdict) \
        SELECT verdict, COUNT(*) AS hosts FROM inserted GROUP BY verdict";
    let rows = serde_json::to_string(rows)
        .map_err(|e| StorageError::Corrupt(format!("host results as JSON: {e}")))?;
    let counted = conn
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            SQL,
            [job_id.into(), rows.into()],
        ))
        .await?;
    counted
        .iter()
        .map(|row| Ok((row.try_get("", "verdict")?, row.try_get("", "hosts")?)))
        .collect()
}

/// Any backend: a multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING`,
/// counted here (a verdict and 1 for each row inserted).
async fn insert_results_portable(
    conn: &impl ConnectionTrait,
    job_id: i32,
    rows: &[NewResult],
) -> Result<Vec<(String, i64)>, StorageError> {
    let models = rows.iter().map(|row| host_result::ActiveModel {
        scan_id: Set(job_id),
        address: Set(row.address.clone()),
        sort_key: Set(row.sort_key.clone()),
        position: Set(row.position),
        host_state: Set(row.host_state.into()),
        host_reason: Set(row.host_reason.clone()),
        device_class: Set(row.device_class.clone()),
        device_confidence: Set(row.device_confidence),
        device_evidence: Set(row.device_evidence.clone()),
        ports: Set(row.ports.clone()),
        verdict: Set(row.verdict.into()),
        matched_profile: Set(row.matched_profile.clone()),
        dns_name: Set(row.dns_name.clone()),
        ..Default::default()
    });
    let mut insert = host_result::Entity::insert_many(models).into_query();
    insert
        .on_conflict(
            OnConflict::columns([host_result::Column::ScanId, host_result::Column::Address])
                .do_nothing()
                .to_owned(),
        )
        .returning_col(host_result::Column::Verdict);
    let inserted = conn
        .query_all_raw(conn.get_database_backend().build(&insert))
        .await?;
    inserted
        .iter()
        .map(|row| Ok((row.try_get::<String>("", "verdict")?, 1)))
        .collect()
}

/// Adds one batch's verdict counts to the job's running counters.
async fn add_to_counters(
    conn: &impl ConnectionTrait,
    job_id: i32,
    added: &Coverage,
) -> Result<(), StorageError> {
    if added.protected + added.unprotected + added.unknown + added.out_of_scope == 0 {
        return Ok(());
    }
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    let plus = |column: scan_job::Column, n: u64| Expr::col(column).add(count(n));
    scan_job::Entity::update_many()
        .col_expr(
            scan_job::Column::HostsUp,
            plus(
                scan_job::Column::HostsUp,
                added.protected + added.unprotected + added.unknown + added.out_of_scope,
            ),
        )
        .col_expr(
            scan_job::Column::Protected,
            plus(scan_job::Column::Protected, added.protected),
        )
        .col_expr(
            scan_job::Column::Unprotected,
            plus(scan_job::Column::Unprotected, added.unprotected),
        )
        .col_expr(
            scan_job::Column::Unknown,
            plus(scan_job::Column::Unknown, added.unknown),
        )
        .col_expr(
            scan_job::Column::OutOfScope,
            plus(scan_job::Column::OutOfScope, added.out_of_scope),
        )
        .filter(scan_job::Column::Id.eq(job_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The overrides people set for any of these addresses.
async fn overrides_for(
    db: &Db,
    addresses: impl Iterator<Item = String>,
) -> Result<HashMap<String, OverrideRule>, StorageError> {
    let addresses: Vec<String> = addresses.collect();
    let mut found = HashMap::new();
    for chunk in addresses.chunks(1000) {
        let rows = host_override::Entity::find()
            .filter(host_override::Column::Address.is_in(chunk.iter().cloned()))
            .all(db.conn())
            .await?;
        for row in rows {
            found.insert(
                row.address,
                OverrideRule {
                    device_class: row.device_class,
                    out_of_scope: row.out_of_scope,
                },
            );
        }
    }
    Ok(found)
}

/// Verdict counts of one scan, straight from its stored host results.
pub async fn coverage_of(db: &Db, job_id: i32) -> Result<Coverage, StorageError> {
    coverage_on(db.conn(), job_id).await
}

async fn coverage_on(conn: &impl ConnectionTrait, job_id: i32) -> Result<Coverage, StorageError> {
    let counts: Vec<(String, i64)> = host_result::Entity::find()
        .select_only()
        .column(host_result::Column::Verdict)
        .column_as(host_result::Column::Id.count(), "hosts")
        .filter(host_result::Column::ScanId.eq(job_id))
        .group_by(host_result::Column::Verdict)
        .into_tuple()
        .all(conn)
        .await?;
    let mut coverage = Coverage::default();
    for (verdict, count) in counts {
        let verdict = Verdict::parse(&verdict)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown verdict “{verdict}”")))?;
        coverage.add(verdict, u64::try_from(count).unwrap_or(0));
    }
    Ok(coverage)
}

/// Recounts a job's verdict counters from its stored results and returns the
/// counts, so callers that also write the trend row need not count again.
pub(crate) async fn refresh_counters(
    conn: &impl ConnectionTrait,
    job_id: i32,
) -> Result<Coverage, StorageError> {
    let c = coverage_on(conn, job_id).await?;
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    scan_job::Entity::update_many()
        .col_expr(
            scan_job::Column::HostsUp,
            Expr::value(count(
                c.protected + c.unprotected + c.unknown + c.out_of_scope,
            )),
        )
        .col_expr(scan_job::Column::Protected, Expr::value(count(c.protected)))
        .col_expr(
            scan_job::Column::Unprotected,
            Expr::value(count(c.unprotected)),
        )
        .col_expr(scan_job::Column::Unknown, Expr::value(count(c.unknown)))
        .col_expr(
            scan_job::Column::OutOfScope,
            Expr::value(count(c.out_of_scope)),
        )
        .filter(scan_job::Column::Id.eq(job_id))
        .exec(conn)
        .await?;
    Ok(c)
}

/// Saves how far the scan got and returns the job's status, so the worker
/// notices a cancel request.
pub async fn update_progress(
    db: &Db,
    job_id: i32,
    done_addresses: u64,
    resume_position: u64,
) -> Result<JobStatus, StorageError> {
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    scan_job::Entity::update_many()
        .col_expr(
            scan_job::Column::DoneAddresses,
            Expr::value(as_i64(done_addresses)),
        )
        .col_expr(
            scan_job::Column::ResumePosition,
            Expr::value(as_i64(resume_position)),
        )
        .filter(scan_job::Column::Id.eq(job_id))
        .exec(db.conn())
        .await?;
    db.signal(crate::JobSignal::Progress(job_id));
    status_of(db, job_id).await
}

pub async fn status_of(db: &Db, job_id: i32) -> Result<JobStatus, StorageError> {
    let job = get(db, job_id).await?;
    JobStatus::parse(&job.status)
        .ok_or_else(|| StorageError::Corrupt(format!("scan {job_id} has status “{}”", job.status)))
}

/// Asks a queued or running scan to stop. Queued jobs stop at once.
pub async fn cancel(db: &Db, job_id: i32) -> Result<JobStatus, StorageError> {
    scan_job::Entity::update_many()
        .col_expr(
            scan_job::Column::Status,
            Expr::value(JobStatus::Cancelled.as_str()),
        )
        .col_expr(scan_job::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(scan_job::Column::Id.eq(job_id))
        .filter(scan_job::Column::Status.eq(JobStatus::Queued.as_str()))
        .exec(db.conn())
        .await?;
    scan_job::Entity::update_many()
        .col_expr(
            scan_job::Column::Status,
            Expr::value(JobStatus::Cancelling.as_str()),
        )
        .filter(scan_job::Column::Id.eq(job_id))
        .filter(scan_job::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db.conn())
        .await?;
    db.signal(crate::JobSignal::CancelRequested(job_id));
    let status = status_of(db, job_id).await?;
    if status == JobStatus::Cancelled {
        // A queued job stops here, never reaching `finish`.
        db.signal(crate::JobSignal::Finished(job_id));
    }
    Ok(status)
}

/// Marks a job finished: done, cancelled or failed with a message for people.
/// A scan that is done also writes its subnet's compliance row for trend
/// charts, updates the hosts it saw (first/last seen, remediation status) and
/// counts the hosts newly unprotected since the subnet's previous scan.
pub async fn finish(
    db: &Db,
    job_id: i32,
    status: JobStatus,
    error: Option<String>,
) -> Result<(), StorageError> {
    let coverage = refresh_counters(db.conn(), job_id).await?;
    let current = get(db, job_id).await?;
    let subnet_id = current.subnet_id;
    let total = current.total_addresses;
    let now = chrono::Utc::now();
    let txn = db.conn().begin().await?;
    let mut job: scan_job::ActiveModel = current.into();
    job.status = Set(status.as_str().into());
    job.error = Set(error.clone());
    job.finished_at = Set(Some(now));
    if status == JobStatus::Done {
        // Set, not copied: an unchanged value would not be written.
        job.done_addresses = Set(total);
        job.resume_position = Set(total);
    }
    job.update(&txn).await?;
    if status == JobStatus::Done {
        update_hosts(&txn, job_id, subnet_id, now).await?;
        write_stats(&txn, job_id, subnet_id, now, &coverage).await?;
    }
    audit::record(
        &txn,
        "system",
        "scan.finish",
        &format!("scan:{job_id}"),
        serde_json::json!({ "status": status.as_str(), "error": error }),
    )
    .await?;
    txn.commit().await?;
    db.signal(crate::JobSignal::Finished(job_id));
    Ok(())
}

/// The subnet's newest done scan before this one.
pub async fn previous_done_scan(
    conn: &impl ConnectionTrait,
    subnet_id: i32,
    before_scan: i32,
) -> Result<Option<i32>, StorageError> {
    Ok(scan_job::Entity::find()
        .select_only()
        .column(scan_job::Column::Id)
        .filter(scan_job::Column::SubnetId.eq(subnet_id))
        .filter(scan_job::Column::Status.eq(JobStatus::Done.as_str()))
        .filter(scan_job::Column::Id.lt(before_scan))
        .order_by_desc(scan_job::Column::Id)
        .into_tuple::<i32>()
        .one(conn)
        .await?)
}

const NEWLY_UNPROTECTED_WHERE: &str = "cur.scan_id = $1 AND cur.verdict = 'unprotected' \
     AND NOT EXISTS (SELECT 1 FROM host_results prev WHERE prev.scan_id = $2 \
     AND prev.address = cur.address AND prev.verdict = 'unprotected')";

/// (Re)writes the compliance row of one finished scan: its verdict counts
/// (from [`refresh_counters`]) and the hosts newly unprotected since the
/// subnet's previous scan.
pub(crate) async fn write_stats(
    conn: &impl ConnectionTrait,
    job_id: i32,
    subnet_id: i32,
    finished_at: chrono::DateTime<chrono::Utc>,
    coverage: &Coverage,
) -> Result<(), StorageError> {
    let newly = match previous_done_scan(conn, subnet_id, job_id).await? {
        Some(previous) => {
            let backend = conn.get_database_backend();
            let sql = format!(
                "SELECT COUNT(*) AS n FROM host_results cur WHERE {NEWLY_UNPROTECTED_WHERE}"
            );
            let row = conn
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [job_id.into(), previous.into()],
                ))
                .await?;
            row.map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0)
        }
        // The first scan of a subnet has nothing to compare with.
        None => 0,
    };
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    subnet_scan_stat::Entity::delete_by_id(job_id)
        .exec(conn)
        .await?;
    subnet_scan_stat::ActiveModel {
        scan_id: Set(job_id),
        subnet_id: Set(subnet_id),
        finished_at: Set(finished_at),
        protected: Set(count(coverage.protected)),
        unprotected: Set(count(coverage.unprotected)),
        unknown: Set(count(coverage.unknown)),
        out_of_scope: Set(count(coverage.out_of_scope)),
        down: Set(count(coverage.down)),
        newly_unprotected: Set(i32::try_from(newly).unwrap_or(i32::MAX)),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Upserts every host the scan saw up: first/last seen, newest verdict, and
/// the remediation status — an unprotected host is opened (again), an open or
/// acknowledged one that this scan finds protected or out of scope is fixed,
/// verified by this scan. A scan older than the host's newest changes nothing.
async fn update_hosts(
    conn: &impl ConnectionTrait,
    job_id: i32,
    subnet_id: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StorageError> {
    const OPENS: &str = "excluded.last_verdict = 'unprotected' \
        AND (hosts.remediation_status IS NULL OR hosts.remediation_status = 'fixed')";
    const FIXES: &str = "excluded.last_verdict IN ('protected', 'out-of-scope') \
        AND hosts.remediation_status IN ('open', 'acknowledged')";
    let sql = format!(
        "INSERT INTO hosts (address, sort_key, subnet_id, dns_name, first_seen_at, last_seen_at, \
            first_scan_id, last_scan_id, last_verdict, remediation_status, remediation_by, remediation_changed_at) \
         SELECT address, sort_key, $2, dns_name, $3, $3, $1, $1, verdict, \
            CASE WHEN verdict = 'unprotected' THEN 'open' END, \
            CASE WHEN verdict = 'unprotected' THEN 'scan' END, \
            CASE WHEN verdict = 'unprotected' THEN $3 END \
         FROM host_results WHERE scan_id = $1 AND verdict <> 'down' \
         ON CONFLICT (address) DO UPDATE SET \
            sort_key = excluded.sort_key, subnet_id = excluded.subnet_id, \
            dns_name = COALESCE(excluded.dns_name, hosts.dns_name), \
            last_seen_at = excluded.last_seen_at, last_scan_id = excluded.last_scan_id, \
            last_verdict = excluded.last_verdict, \
            remediation_status = CASE WHEN {OPENS} THEN 'open' WHEN {FIXES} THEN 'fixed' \
                ELSE hosts.remediation_status END, \
            remediation_by = CASE WHEN {OPENS} OR {FIXES} THEN 'scan' ELSE hosts.remediation_by END, \
            remediation_changed_at = CASE WHEN {OPENS} OR {FIXES} THEN excluded.last_seen_at \
                ELSE hosts.remediation_changed_at END, \
            fixed_scan_id = CASE WHEN {FIXES} THEN excluded.last_scan_id \
                WHEN {OPENS} THEN NULL ELSE hosts.fixed_scan_id END \
         WHERE hosts.last_scan_id <= excluded.last_scan_id"
    );
    let backend = conn.get_database_backend();
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [job_id.into(), subnet_id.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Hosts unprotected in this scan that were not unprotected in the subnet's
/// previous done scan (new machines, or agents that went away), in address
/// order. Empty for a subnet's first scan.
pub async fn newly_unprotected(
    db: &Db,
    job_id: i32,
) -> Result<Vec<host_result::Model>, StorageError> {
    let job = get(db, job_id).await?;
    let Some(previous) = previous_done_scan(db.conn(), job.subnet_id, job_id).await? else {
        return Ok(Vec::new());
    };
    let backend = db.conn().get_database_backend();
    let sql = format!(
        "SELECT cur.* FROM host_results cur WHERE {NEWLY_UNPROTECTED_WHERE} ORDER BY cur.sort_key"
    );
    Ok(host_result::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            sql,
            [job_id.into(), previous.into()],
        ))
        .all(db.conn())
        .await?)
}

/// A page of one scan's hosts with the given verdicts, in address order.
pub async fn hosts_with_verdicts(
    db: &Db,
    job_id: i32,
    verdicts: &[Verdict],
    limit: u64,
    offset: u64,
) -> Result<Vec<host_result::Model>, StorageError> {
    Ok(host_result::Entity::find()
        .filter(host_result::Column::ScanId.eq(job_id))
        .filter(host_result::Column::Verdict.is_in(verdicts.iter().map(|v| v.as_str())))
        .order_by_asc(host_result::Column::SortKey)
        .limit(limit)
        .offset(offset)
        .all(db.conn())
        .await?)
}

/// Decodes the port list stored with a host result.
pub fn observed_ports(row: &host_result::Model) -> Result<Vec<ObservedPort>, StorageError> {
    serde_json::from_value(row.ports.clone())
        .map_err(|e| StorageError::Corrupt(format!("host result {} ports: {e}", row.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_order_addresses_numerically() {
        let a = address_sort_key("10.0.0.2".parse().unwrap());
        let b = address_sort_key("10.0.0.10".parse().unwrap());
        assert!(a < b);
        assert_eq!(a.len(), 32);
    }
}

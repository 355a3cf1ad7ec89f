//! Scan jobs: queued in the database, claimed by a worker, results stored in
//! batches while the scan runs so progress and partial results are visible.

use std::net::IpAddr;

use chrono::Utc;
use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
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
    /// nmap timing template: "T3", "T4" or "T5".
    pub timing: String,
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
            requested_by: "web".into(),
            schedule_id: None,
            address_cap: None,
            confirm_large: false,
            max_rate: None,
        }
    }
}

/// Queues a scan of one subnet with every enabled profile's ports. A subnet
/// that is already being scanned gets its running job back, not a second one.
pub async fn enqueue(
    db: &Db,
    subnet_id: i32,
    options: ScanOptions,
) -> Result<scan_job::Model, StorageError> {
    let subnet = subnets::get(db, subnet_id).await?;
    if let Some(active) = active_for_subnet(db, subnet_id).await? {
        return Ok(active);
    }
    if !matches!(options.timing.as_str(), "T3" | "T4" | "T5") {
        return Err(StorageError::invalid(
            "timing",
            format!(
                "“{}” is not a timing template; use T3, T4 or T5.",
                options.timing
            ),
        ));
    }
    let rules = profiles::rules_for_site(db, subnet.site_id).await?;
    let mut ports: Vec<u16> = rules.iter().flat_map(|r| r.ports.iter().copied()).collect();
    ports.sort_unstable();
    ports.dedup();
    if ports.is_empty() {
        return Err(StorageError::invalid(
            "profiles",
            "No vendor profile with a TCP port is enabled; enable one on the Profiles page first.",
        ));
    }
    let net = subnets::parse_cidr(&subnet.cidr).map_err(StorageError::Corrupt)?;
    let excludes: Vec<String> = exclusions::networks(db)
        .await?
        .into_iter()
        .filter(|ex| net.contains(&ex.network()) || ex.contains(&net.network()))
        .map(|ex| ex.to_string())
        .collect();
    let excludes = excludes.join(",");
    let total = scanner::TargetSet::parse_with_exclusions(&subnet.cidr, &excludes)
        .map(|targets| i64::try_from(targets.len()).unwrap_or(i64::MAX))
        .map_err(|e| {
            StorageError::Corrupt(format!(
                "subnet {} or an exclusion does not parse: {e}",
                subnet.cidr
            ))
        })?;
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
        && u64::try_from(total).unwrap_or(u64::MAX) > cap
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
        total_addresses: Set(total),
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
        serde_json::json!({ "subnet": subnet.cidr, "ports": job.ports }),
    )
    .await?;
    db.signal(crate::JobSignal::Queued(job.id));
    Ok(job)
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
    profiles::rules_for_site(db, subnet.site_id).await
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
    /// The scanner's result as the store takes it (no DNS name: the scanner resolves none).
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
            dns_name: None,
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
    let rows: Vec<host_result::ActiveModel> = hosts
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
            host_result::ActiveModel {
                scan_id: Set(job_id),
                address: Set(address),
                sort_key: Set(address_sort_key(host.address)),
                position: Set(i64::try_from(host.position).unwrap_or(i64::MAX)),
                host_state: Set(if host.up { "up" } else { "down" }.into()),
                host_reason: Set(host.host_reason.clone()),
                device_class: Set(host.device_class.clone()),
                device_confidence: Set(i16::from(host.device_confidence)),
                device_evidence: Set(serde_json::json!(host.device_evidence)),
                ports: Set(serde_json::to_value(&host.ports).unwrap_or_default()),
                verdict: Set(verdict.as_str().into()),
                matched_profile: Set(matched),
                dns_name: Set(host.dns_name.clone()),
                ..Default::default()
            }
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let txn = db.conn().begin().await?;
    // 14 bound values a row: 1000 rows stay under both backends' parameter limits.
    for chunk in rows.chunks(1000) {
        host_result::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([host_result::Column::ScanId, host_result::Column::Address])
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    refresh_counters(db, job_id).await
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

async fn refresh_counters(db: &Db, job_id: i32) -> Result<(), StorageError> {
    let c = coverage_of(db, job_id).await?;
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
        .exec(db.conn())
        .await?;
    Ok(())
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
    status_of(db, job_id).await
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
    refresh_counters(db, job_id).await?;
    let current = get(db, job_id).await?;
    let subnet_id = current.subnet_id;
    let now = chrono::Utc::now();
    let txn = db.conn().begin().await?;
    let mut job: scan_job::ActiveModel = current.into();
    job.status = Set(status.as_str().into());
    job.error = Set(error.clone());
    job.finished_at = Set(Some(now));
    if status == JobStatus::Done {
        job.done_addresses = job.total_addresses.clone();
        job.resume_position = job.total_addresses.clone();
    }
    job.update(&txn).await?;
    if status == JobStatus::Done {
        update_hosts(&txn, job_id, subnet_id, now).await?;
        write_stats(&txn, job_id, subnet_id, now).await?;
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

/// (Re)writes the compliance row of one finished scan from its host results.
pub(crate) async fn write_stats(
    conn: &impl ConnectionTrait,
    job_id: i32,
    subnet_id: i32,
    finished_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StorageError> {
    let coverage = coverage_on(conn, job_id).await?;
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

//! Scan jobs: queued in the database, claimed by a worker, results stored in
//! batches while the scan runs so progress and partial results are visible.

use std::net::IpAddr;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use crate::coverage::{self, Coverage, ObservedPort, ProfileRule, Verdict};
use crate::entities::{host_result, scan_job};
use crate::{Db, StorageError, profiles, subnets};

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
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            skip_discovery: false,
            timing: "T4".into(),
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
    let rules = profiles::enabled_rules(db).await?;
    let mut ports: Vec<u16> = rules.iter().flat_map(|r| r.ports.iter().copied()).collect();
    ports.sort_unstable();
    ports.dedup();
    if ports.is_empty() {
        return Err(StorageError::invalid(
            "profiles",
            "No vendor profile with a TCP port is enabled; enable one on the Profiles page first.",
        ));
    }
    let total = subnets::parse_cidr(&subnet.cidr)
        .map(|net| address_count(&net))
        .map_err(StorageError::Corrupt)?;
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
        ..Default::default()
    };
    Ok(job.insert(db.conn()).await?)
}

fn address_count(net: &ipnet::IpNet) -> i64 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1i64.checked_shl(host_bits).unwrap_or(i64::MAX)
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

/// Takes the oldest queued job for this worker. The conditional update makes
/// the claim atomic: two workers never run the same job.
pub async fn claim_next(db: &Db) -> Result<Option<scan_job::Model>, StorageError> {
    loop {
        let Some(job) = scan_job::Entity::find()
            .filter(scan_job::Column::Status.eq(JobStatus::Queued.as_str()))
            .order_by_asc(scan_job::Column::Id)
            .one(db.conn())
            .await?
        else {
            return Ok(None);
        };
        let claimed = scan_job::Entity::update_many()
            .col_expr(
                scan_job::Column::Status,
                Expr::value(JobStatus::Running.as_str()),
            )
            .col_expr(
                scan_job::Column::StartedAt,
                Expr::value(job.started_at.unwrap_or_else(Utc::now)),
            )
            .filter(scan_job::Column::Id.eq(job.id))
            .filter(scan_job::Column::Status.eq(JobStatus::Queued.as_str()))
            .exec(db.conn())
            .await?;
        if claimed.rows_affected == 1 {
            return get(db, job.id).await.map(Some);
        }
    }
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
/// resumed scan repeating itself) changes nothing.
pub async fn record_hosts(
    db: &Db,
    job_id: i32,
    rules: &[ProfileRule],
    hosts: &[HostRecord],
) -> Result<(), StorageError> {
    if hosts.is_empty() {
        return Ok(());
    }
    let rows = hosts.iter().map(|host| {
        let (verdict, matched) = coverage::verdict(host.up, &host.device_class, &host.ports, rules);
        host_result::ActiveModel {
            scan_id: Set(job_id),
            address: Set(host.address.to_string()),
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
            ..Default::default()
        }
    });
    let txn = db.conn().begin().await?;
    host_result::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([host_result::Column::ScanId, host_result::Column::Address])
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    refresh_counters(db, job_id).await
}

/// Verdict counts of one scan, straight from its stored host results.
pub async fn coverage_of(db: &Db, job_id: i32) -> Result<Coverage, StorageError> {
    let counts: Vec<(String, i64)> = host_result::Entity::find()
        .select_only()
        .column(host_result::Column::Verdict)
        .column_as(host_result::Column::Id.count(), "hosts")
        .filter(host_result::Column::ScanId.eq(job_id))
        .group_by(host_result::Column::Verdict)
        .into_tuple()
        .all(db.conn())
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
    status_of(db, job_id).await
}

/// Marks a job finished: done, cancelled or failed with a message for people.
pub async fn finish(
    db: &Db,
    job_id: i32,
    status: JobStatus,
    error: Option<String>,
) -> Result<(), StorageError> {
    refresh_counters(db, job_id).await?;
    let mut job: scan_job::ActiveModel = get(db, job_id).await?.into();
    job.status = Set(status.as_str().into());
    job.error = Set(error);
    job.finished_at = Set(Some(Utc::now()));
    if status == JobStatus::Done {
        job.done_addresses = job.total_addresses.clone();
        job.resume_position = job.total_addresses.clone();
    }
    job.update(db.conn()).await?;
    Ok(())
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

    #[test]
    fn counts_addresses_of_a_subnet() {
        assert_eq!(address_count(&"10.0.0.0/24".parse().unwrap()), 256);
        assert_eq!(address_count(&"10.0.0.0/8".parse().unwrap()), 1 << 24);
        assert_eq!(address_count(&"fd00::/104".parse().unwrap()), 1 << 24);
    }
}

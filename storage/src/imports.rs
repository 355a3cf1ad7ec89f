//! Imports an nmap XML file as a finished scan of one defined subnet. Hosts
//! outside the subnet or under an exclusion are never stored; they are
//! counted so the person importing sees what was left out and why.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};

use crate::entities::scan_job;
use crate::scans::{self, HostRecord, JobStatus};
use crate::{Db, StorageError, audit, exclusions, profiles, subnets};

/// What an import stored and what it left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOutcome {
    pub job: scan_job::Model,
    /// Hosts stored as results of the new scan.
    pub imported: usize,
    /// Hosts in the file that lie outside the subnet: ignored.
    pub outside_subnet: usize,
    /// Hosts in the file under an exclusion: ignored.
    pub excluded: usize,
}

impl ImportOutcome {
    /// One sentence for the person who uploaded the file.
    pub fn message(&self) -> String {
        format!(
            "Imported {} host{} as scan {}; ignored {} outside {} and {} excluded.",
            self.imported,
            if self.imported == 1 { "" } else { "s" },
            self.job.id,
            self.outside_subnet,
            self.job.targets,
            self.excluded
        )
    }
}

/// Stores `scan` as a done scan of `subnet_id`. Everything is checked before
/// the first write: a refused file stores nothing.
pub async fn import_scan(
    db: &Db,
    subnet_id: i32,
    actor: &str,
    scan: &scanner::import::ImportedScan,
) -> Result<ImportOutcome, StorageError> {
    let subnet = subnets::get(db, subnet_id).await?;
    let net = subnets::parse_cidr(&subnet.cidr).map_err(StorageError::Corrupt)?;
    let excluded_nets = exclusions::networks(db).await?;
    let (mut outside_subnet, mut excluded) = (0, 0);
    let mut records: Vec<HostRecord> = Vec::new();
    for host in &scan.hosts {
        if !net.contains(&host.result.address) {
            outside_subnet += 1;
        } else if exclusions::is_excluded(&excluded_nets, host.result.address) {
            excluded += 1;
        } else {
            let mut record = HostRecord::from_result(&host.result);
            record.dns_name = host.hostname.clone();
            records.push(record);
        }
    }
    if records.is_empty() {
        return Err(StorageError::invalid(
            "file",
            format!(
                "No host in the file lies in {} outside the exclusions ({outside_subnet} outside the subnet, {excluded} excluded); nothing was imported. Pick the subnet the file scanned.",
                subnet.cidr
            ),
        ));
    }
    let rules = profiles::rules_for_site(db, subnet.site_id).await?;
    let ports = if scan.ports.is_empty() {
        crate::coverage::ports_of(&rules)
    } else {
        scan.ports.clone()
    };
    let total = i64::try_from(records.len()).unwrap_or(i64::MAX);
    let now = Utc::now();
    let job = scan_job::ActiveModel {
        subnet_id: Set(subnet.id),
        // Never "queued" or "running": no worker may pick an import up and probe.
        status: Set(JobStatus::Failed.as_str().into()),
        error: Set(Some(
            "the import was interrupted before its results were stored".into(),
        )),
        targets: Set(subnet.cidr.clone()),
        ports: Set(profiles::format_ports(&ports)),
        skip_discovery: Set(false),
        timing: Set("T3".into()),
        seed: Set(0),
        resume_position: Set(0),
        total_addresses: Set(total),
        done_addresses: Set(0),
        hosts_up: Set(0),
        protected: Set(0),
        unprotected: Set(0),
        unknown: Set(0),
        out_of_scope: Set(0),
        created_at: Set(now),
        started_at: Set(Some(now)),
        finished_at: Set(None),
        requested_by: Set(actor.to_owned()),
        schedule_id: Set(None),
        excludes: Set(String::new()),
        max_rate: Set(None),
        source: Set("import".into()),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    scans::record_hosts(db, job.id, &rules, &records).await?;
    scans::finish(db, job.id, JobStatus::Done, None).await?;
    audit::record(
        db.conn(),
        actor,
        "scan.import",
        &format!("scan:{}", job.id),
        serde_json::json!({
            "subnet": subnet.cidr,
            "scanner": scan.scanner,
            "imported": records.len(),
            "outside_subnet": outside_subnet,
            "excluded": excluded,
        }),
    )
    .await?;
    let job = scans::get(db, job.id).await?;
    Ok(ImportOutcome {
        job,
        imported: records.len(),
        outside_subnet,
        excluded,
    })
}

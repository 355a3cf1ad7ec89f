//! The scan worker: claims queued jobs from the database, runs them with the
//! scan engine and stores results in batches while the scan runs.

use std::time::Duration;

use futures::StreamExt;
use scanner::{BannerProbe, ScanConfig, ScanEvent, TargetSet, TimingTemplate};
use storage::coverage::ProfileRule;
use storage::entities::scan_job;
use storage::scans::{self, HostRecord, JobStatus};
use storage::{Db, JobSignal, StorageError, exclusions, profiles, subnets};
use tokio::sync::watch;

/// How long an idle worker waits before looking for queued jobs again.
const IDLE_POLL: Duration = Duration::from_millis(400);
/// Results are written at least this often (and progress/cancel checked).
const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// ...or as soon as this many host results are waiting.
const FLUSH_BATCH: usize = 500;

/// What every scan a worker runs shares, from the server's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanSettings {
    /// Connects in flight per scan at most.
    pub sockets: usize,
    /// Reverse-DNS servers; empty looks nothing up.
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// Probes per second for jobs that set no rate of their own; `None` = unlimited.
    pub default_rate: Option<u32>,
}

pub async fn run(
    db: Db,
    worker: usize,
    settings: ScanSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::debug!(worker, "scan worker started");
    let mut signals = db.subscribe();
    loop {
        if *shutdown.borrow() {
            return;
        }
        match scans::claim_next(&db).await {
            Ok(Some(job)) => {
                let job_id = job.id;
                tracing::info!(worker, scan = job_id, targets = %job.targets, "scan started");
                match run_job(&db, job, &settings, &mut shutdown).await {
                    Ok(JobEnd::Finished(status)) => {
                        tracing::info!(
                            worker,
                            scan = job_id,
                            status = status.as_str(),
                            "scan ended"
                        );
                    }
                    Ok(JobEnd::Interrupted) => {
                        tracing::info!(
                            worker,
                            scan = job_id,
                            "scan paused for shutdown; it resumes at the next start"
                        );
                        return;
                    }
                    Err(error) => {
                        tracing::error!(worker, scan = job_id, %error, "scan failed");
                        let _ =
                            scans::finish(&db, job_id, JobStatus::Failed, Some(error.to_string()))
                                .await;
                    }
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    _ = signals.recv() => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(error) => {
                tracing::error!(worker, %error, "cannot read the scan queue");
                tokio::time::sleep(IDLE_POLL * 5).await;
            }
        }
    }
}

enum JobEnd {
    Finished(JobStatus),
    /// The server is stopping: progress is saved, the job stays "running"
    /// and is requeued at the next start.
    Interrupted,
}

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("the scan's targets are invalid: {0}")]
    Targets(String),
    #[error("the scan's ports are invalid: {0}")]
    Ports(String),
    #[error(
        "refused: the scan's targets {targets} are not inside its subnet {subnet}; only subnets an administrator defined are scanned"
    )]
    OutOfScope { targets: String, subnet: String },
}

async fn run_job(
    db: &Db,
    job: scan_job::Model,
    settings: &ScanSettings,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<JobEnd, JobError> {
    let rules = scans::rules_for_job(db, &job).await?;
    let mut config = scan_config(&job, &rules)?;
    guard_scope(db, &job, &config.targets).await?;
    // Exclusions added after the job was queued: read now, at every start
    // and resume, and handed to the scanner so it never sends them a packet.
    // They do not change the targets, so resume positions stay valid.
    let excluded_now: Vec<String> = exclusions::networks(db)
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    config.never_probe = TargetSet::parse(&excluded_now.join(","))
        .map_err(|e| JobError::Targets(format!("an exclusion does not parse: {e}")))?;
    config.max_in_flight = Some(settings.sockets);
    config.dns_servers = settings.dns_servers.clone();
    // The job's own rate, else the server's default; a slow timing template
    // (T0–T2, set by scan_config) paces further still.
    let limit = job
        .max_rate
        .and_then(|rate| u32::try_from(rate).ok())
        .or(settings.default_rate)
        .filter(|&rate| rate > 0)
        .map(f64::from);
    config.max_rate = match (config.max_rate, limit) {
        (Some(template), Some(limit)) => Some(template.min(limit)),
        (template, limit) => template.or(limit),
    };
    tracing::debug!(
        scan = job.id,
        never_probe = config.never_probe.len(),
        max_rate = ?config.max_rate,
        "scan limits"
    );
    let mut scan = scanner::start(config);
    let mut pending: Vec<HostRecord> = Vec::new();
    let mut done = u64::try_from(job.done_addresses).unwrap_or(0);
    let mut resume_position = u64::try_from(job.resume_position).unwrap_or(0);
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    let mut cancelled = false;
    let mut interrupted = false;
    let mut signals = db.subscribe();
    loop {
        tokio::select! {
            event = scan.next() => match event {
                Some(ScanEvent::Host(host)) => {
                    pending.push(HostRecord::from_result(&host));
                    if pending.len() >= FLUSH_BATCH {
                        scans::record_hosts(db, job.id, &rules, &pending).await?;
                        pending.clear();
                    }
                }
                Some(ScanEvent::Progress(progress)) => {
                    done = progress.done;
                    resume_position = progress.resume_position;
                }
                Some(ScanEvent::Finished(summary)) => {
                    cancelled |= summary.cancelled;
                    break;
                }
                None => break,
            },
            _ = flush.tick() => {
                // Results first, then the position: a stored position never
                // runs ahead of the stored results it vouches for.
                scans::record_hosts(db, job.id, &rules, &pending).await?;
                pending.clear();
                let status = scans::update_progress(db, job.id, done, resume_position).await?;
                if status == JobStatus::Cancelling {
                    cancelled = true;
                    break;
                }
            }
            signal = signals.recv() => {
                // Progress signals (ours included) go by; only a cancel matters here.
                if signal == Ok(JobSignal::CancelRequested(job.id)) {
                    cancelled = true;
                    break;
                }
            }
            _ = shutdown.changed() => {
                interrupted = true;
                break;
            }
        }
    }
    // Stop probing at once; results still queued in the scanner are dropped.
    // That keeps cancel under a second, and resume exact: every host below
    // the last reported resume position has already been received.
    drop(scan);
    scans::record_hosts(db, job.id, &rules, &pending).await?;
    scans::update_progress(db, job.id, done, resume_position).await?;
    if interrupted {
        return Ok(JobEnd::Interrupted);
    }
    let status = if cancelled {
        JobStatus::Cancelled
    } else {
        JobStatus::Done
    };
    scans::finish(db, job.id, status, None).await?;
    Ok(JobEnd::Finished(status))
}

/// The last check before any packet: a job only ever scans inside the subnet
/// an administrator defined (whatever wrote the job row).
async fn guard_scope(db: &Db, job: &scan_job::Model, targets: &TargetSet) -> Result<(), JobError> {
    let subnet = subnets::get(db, job.subnet_id).await?;
    let defined = TargetSet::parse(&subnet.cidr)
        .map_err(|e| JobError::Targets(format!("the subnet does not parse: {e}")))?;
    if !targets.is_subset_of(&defined) {
        tracing::error!(scan = job.id, targets = %job.targets, subnet = %subnet.cidr, "scan outside its subnet refused");
        return Err(JobError::OutOfScope {
            targets: job.targets.clone(),
            subnet: subnet.cidr,
        });
    }
    Ok(())
}

fn scan_config(job: &scan_job::Model, rules: &[ProfileRule]) -> Result<ScanConfig, JobError> {
    let targets = TargetSet::parse_with_exclusions(&job.targets, &job.excludes)
        .map_err(|e| JobError::Targets(e.to_string()))?;
    let ports = profiles::parse_ports(&job.ports).map_err(JobError::Ports)?;
    let mut config = ScanConfig::new(targets, ports);
    config.skip_discovery = job.skip_discovery;
    let (timing, max_rate) = timing_template(&job.timing);
    config.timing = timing;
    config.max_rate = max_rate;
    config.seed = u64::from_ne_bytes(job.seed.to_ne_bytes());
    config.start_position = u64::try_from(job.resume_position).unwrap_or(0);
    config.classify_devices = true;
    // Profiles that prove themselves by a banner get their probe sent.
    for rule in rules.iter().filter(|r| r.banner_regex.is_some()) {
        let probe = scanner::catalogue::find(&rule.key).and_then(|p| p.probe);
        for &port in &rule.ports {
            config.banners.push(match probe {
                Some(bytes) => BannerProbe::send(port, bytes),
                None => BannerProbe::read(port),
            });
        }
    }
    Ok(config)
}

/// nmap's templates: T3–T5 set the probe timeouts; T0–T2 keep T3's timeouts
/// and space probes out as nmap's scan delay does (5 min, 15 s, 0.4 s).
fn timing_template(name: &str) -> (scanner::Timing, Option<f64>) {
    match name {
        "T5" => (TimingTemplate::T5.timing(), None),
        "T4" => (TimingTemplate::T4.timing(), None),
        "T2" => (TimingTemplate::T3.timing(), Some(1.0 / 0.4)),
        "T1" => (TimingTemplate::T3.timing(), Some(1.0 / 15.0)),
        "T0" => (TimingTemplate::T3.timing(), Some(1.0 / 300.0)),
        _ => (TimingTemplate::T3.timing(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_templates_pace_probes_like_nmaps_scan_delay() {
        assert_eq!(timing_template("T0").1, Some(1.0 / 300.0));
        assert_eq!(timing_template("T1").1, Some(1.0 / 15.0));
        assert_eq!(timing_template("T2").1, Some(2.5));
        for fast in ["T3", "T4", "T5"] {
            assert_eq!(timing_template(fast).1, None, "{fast}");
        }
        assert_eq!(timing_template("T5").0, TimingTemplate::T5.timing());
    }
}

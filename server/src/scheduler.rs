//! Runs due scheduled scans. The first tick happens at start, so a run missed
//! while the server was down runs once right away (see `storage::schedules`).

use std::time::Duration;

use storage::Db;
use storage::schedules::{self, TickOutcome};
use tokio::sync::watch;

/// How often due schedules are looked for; cron slots are whole minutes.
const TICK: Duration = Duration::from_secs(20);

pub async fn run(db: Db, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match schedules::tick(&db, chrono::Utc::now()).await {
            Ok(outcomes) => {
                for outcome in outcomes {
                    match outcome {
                        TickOutcome::Queued {
                            schedule_id,
                            slot,
                            scan_ids,
                        } => {
                            tracing::info!(schedule = schedule_id, %slot, scans = ?scan_ids, "scheduled run queued");
                        }
                        TickOutcome::SkippedStillRunning { schedule_id, slot } => {
                            tracing::warn!(schedule = schedule_id, %slot, "scheduled run skipped: the previous one is still going");
                        }
                    }
                }
            }
            Err(error) => tracing::error!(%error, "cannot check the scan schedules"),
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
}

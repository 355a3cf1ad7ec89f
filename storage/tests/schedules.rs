//! Scheduled scans on SQLite and Postgres, driven by a fake clock.

use chrono::{DateTime, TimeZone, Utc};
use storage::scans::{self, JobStatus};
use storage::schedules::{self, TickOutcome};
use storage::{Db, subnets, test_on_both_backends};

test_on_both_backends! {
    a_run_missed_while_down_runs_once_on_start,
    a_slot_is_skipped_while_the_previous_run_is_going,
    two_schedulers_racing_for_one_slot_run_it_once,
}

fn utc(d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, d, h, mi, 0)
        .single()
        .expect("a valid time")
}

async fn nightly(db: &Db, created: DateTime<Utc>) -> (i32, Vec<i32>) {
    let a = subnets::create(db, "127.88.0.0/30", "A").await.unwrap();
    let b = subnets::create(db, "127.88.1.0/30", "B").await.unwrap();
    let schedule = schedules::create(
        db,
        "alice",
        "Nightly",
        "0 2 * * *",
        "Europe/Berlin",
        &[a.id, b.id],
        created,
    )
    .await
    .unwrap();
    (schedule.id, vec![a.id, b.id])
}

fn queued(outcomes: &[TickOutcome]) -> Vec<i32> {
    outcomes
        .iter()
        .flat_map(|o| match o {
            TickOutcome::Queued { scan_ids, .. } => scan_ids.clone(),
            TickOutcome::SkippedStillRunning { .. } => Vec::new(),
        })
        .collect()
}

async fn finish_all(db: &Db, ids: &[i32]) {
    for &id in ids {
        scans::finish(db, id, JobStatus::Done, None).await.unwrap();
    }
}

async fn a_run_missed_while_down_runs_once_on_start(db: &Db) {
    let (schedule_id, subnet_ids) = nightly(db, utc(1, 12, 0)).await;
    assert!(
        schedules::tick(db, utc(1, 23, 0)).await.unwrap().is_empty(),
        "not due before 02:00 Berlin"
    );

    // The server was down for three nights; it starts on the 4th at 09:00 UTC.
    let outcomes = schedules::tick(db, utc(4, 9, 0)).await.unwrap();
    let [
        TickOutcome::Queued {
            schedule_id: id,
            slot,
            scan_ids,
        },
    ] = outcomes.as_slice()
    else {
        panic!("one run, not one per missed night: {outcomes:?}");
    };
    assert_eq!(*id, schedule_id);
    assert_eq!(
        *slot,
        utc(4, 0, 0),
        "the newest missed slot: 02:00 Berlin is 00:00 UTC in July"
    );
    assert_eq!(scan_ids.len(), 2);
    for scan_id in scan_ids {
        let job = scans::get(db, *scan_id).await.unwrap();
        assert!(subnet_ids.contains(&job.subnet_id));
        assert_eq!(job.schedule_id, Some(schedule_id));
        assert_eq!(job.requested_by, "schedule:Nightly");
    }
    assert!(
        schedules::tick(db, utc(4, 9, 1)).await.unwrap().is_empty(),
        "the slot ran already"
    );
}

async fn a_slot_is_skipped_while_the_previous_run_is_going(db: &Db) {
    nightly(db, utc(1, 12, 0)).await;
    let first = queued(&schedules::tick(db, utc(2, 0, 5)).await.unwrap());
    assert_eq!(first.len(), 2);
    // The scans take more than a day: the next night's slot must not start a second run.
    let outcomes = schedules::tick(db, utc(3, 0, 5)).await.unwrap();
    assert!(
        matches!(
            outcomes.as_slice(),
            [TickOutcome::SkippedStillRunning { .. }]
        ),
        "{outcomes:?}"
    );
    finish_all(db, &first).await;
    let third = queued(&schedules::tick(db, utc(4, 0, 5)).await.unwrap());
    assert_eq!(third.len(), 2, "runs again once the previous run ended");
    assert!(third.iter().all(|id| !first.contains(id)));
}

async fn two_schedulers_racing_for_one_slot_run_it_once(db: &Db) {
    nightly(db, utc(1, 12, 0)).await;
    let racers = (0..4).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { schedules::tick(&db, utc(2, 0, 1)).await })
    });
    let mut scans_queued = Vec::new();
    for racer in racers {
        scans_queued.extend(queued(&racer.await.unwrap().unwrap()));
    }
    assert_eq!(
        scans_queued.len(),
        2,
        "one run of two subnets: {scans_queued:?}"
    );
}

//! Scheduled scans: a cron expression read in an IANA time zone scans a group
//! of subnets. A run missed while the server was down runs once when it
//! starts again (not once per missed slot); a schedule whose previous run is
//! still going skips the slot instead of running twice at the same time.
//!
//! Time is a parameter everywhere (`now`), so tests drive a fake clock.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::entities::{scan_job, schedule, schedule_subnet};
use crate::scans::{self, JobStatus, ScanOptions};
use crate::{Db, StorageError, audit, subnets};

/// A schedule that passed validation.
#[derive(Clone, Debug)]
pub struct Timing {
    pub cron: Cron,
    pub timezone: Tz,
}

/// Checks a cron expression and a time zone typed by a person.
pub fn parse_timing(cron: &str, timezone: &str) -> Result<Timing, StorageError> {
    let mut errors = Vec::new();
    let parsed_cron = Cron::from_str(cron.trim()).map_err(|e| {
        errors.push(crate::FieldError::new(
            "cron",
            format!("“{}” is not a cron expression ({e}); write minute hour day month weekday, e.g. “0 2 * * *” for 02:00 every night.", cron.trim()),
        ))
    });
    let parsed_tz = Tz::from_str(timezone.trim()).map_err(|_| {
        errors.push(crate::FieldError::new(
            "timezone",
            format!(
                "“{}” is not an IANA time zone; write e.g. Europe/Berlin or UTC.",
                timezone.trim()
            ),
        ))
    });
    match (parsed_cron, parsed_tz) {
        (Ok(cron), Ok(timezone)) if errors.is_empty() => Ok(Timing { cron, timezone }),
        _ => Err(StorageError::Invalid(errors)),
    }
}

/// The newest slot at or before `now` that comes after `after`, if any: the
/// run that is due. Several missed slots give one run, the newest.
pub fn due_slot(
    timing: &Timing,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let local_now = now.with_timezone(&timing.timezone);
    let slot = timing
        .cron
        .find_previous_occurrence(&local_now, true)
        .ok()?;
    let slot = slot.with_timezone(&Utc);
    (slot > after).then_some(slot)
}

/// The next slot after `now`, for the schedule list.
pub fn next_slot(timing: &Timing, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local_now = now.with_timezone(&timing.timezone);
    timing
        .cron
        .find_next_occurrence(&local_now, false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub async fn create(
    db: &Db,
    actor: &str,
    name: &str,
    cron: &str,
    timezone: &str,
    subnet_ids: &[i32],
    now: DateTime<Utc>,
) -> Result<schedule::Model, StorageError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StorageError::invalid(
            "name",
            "Give the schedule a name, e.g. “Nightly HQ”.",
        ));
    }
    parse_timing(cron, timezone)?;
    if subnet_ids.is_empty() {
        return Err(StorageError::invalid(
            "subnets",
            "Pick at least one subnet to scan.",
        ));
    }
    for &id in subnet_ids {
        subnets::get(db, id).await?;
    }
    let txn = db.conn().begin().await?;
    let created = schedule::ActiveModel {
        name: Set(name.to_owned()),
        cron: Set(cron.trim().to_owned()),
        timezone: Set(timezone.trim().to_owned()),
        enabled: Set(true),
        last_slot_at: Set(None),
        created_by: Set(actor.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StorageError::invalid(
            "name",
            format!("A schedule called “{name}” already exists."),
        ),
        _ => StorageError::Db(e),
    })?;
    for &subnet_id in subnet_ids {
        schedule_subnet::ActiveModel {
            schedule_id: Set(created.id),
            subnet_id: Set(subnet_id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        actor,
        "schedule.create",
        &format!("schedule:{}", created.id),
        serde_json::json!({ "cron": created.cron, "timezone": created.timezone, "subnets": subnet_ids }),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Turns a schedule on or off; a disabled schedule queues nothing.
pub async fn set_enabled(
    db: &Db,
    actor: &str,
    id: i32,
    enabled: bool,
) -> Result<schedule::Model, StorageError> {
    let current = schedule::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StorageError::NotFound {
            what: "schedule",
            id: id.into(),
        })?;
    let mut row: schedule::ActiveModel = current.into();
    row.enabled = Set(enabled);
    let updated = row.update(db.conn()).await?;
    audit::record(
        db.conn(),
        actor,
        if enabled {
            "schedule.enable"
        } else {
            "schedule.disable"
        },
        &format!("schedule:{id}"),
        serde_json::json!({}),
    )
    .await?;
    Ok(updated)
}

pub async fn list(db: &Db) -> Result<Vec<schedule::Model>, StorageError> {
    Ok(schedule::Entity::find()
        .order_by_asc(schedule::Column::Name)
        .all(db.conn())
        .await?)
}

pub async fn subnet_ids(db: &Db, schedule_id: i32) -> Result<Vec<i32>, StorageError> {
    Ok(schedule_subnet::Entity::find()
        .filter(schedule_subnet::Column::ScheduleId.eq(schedule_id))
        .order_by_asc(schedule_subnet::Column::SubnetId)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|row| row.subnet_id)
        .collect())
}

/// What one tick did with one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TickOutcome {
    /// The slot's scans were queued.
    Queued {
        schedule_id: i32,
        slot: DateTime<Utc>,
        scan_ids: Vec<i32>,
    },
    /// The previous run is still going: this slot is skipped, not doubled.
    SkippedStillRunning {
        schedule_id: i32,
        slot: DateTime<Utc>,
    },
}

/// Runs every enabled schedule whose slot is due at `now`. Each slot is taken
/// with a conditional update, so two servers on one database (or two ticks)
/// never both run it.
pub async fn tick(db: &Db, now: DateTime<Utc>) -> Result<Vec<TickOutcome>, StorageError> {
    let mut outcomes = Vec::new();
    let due = schedule::Entity::find()
        .filter(schedule::Column::Enabled.eq(true))
        .order_by_asc(schedule::Column::Id)
        .all(db.conn())
        .await?;
    for current in due {
        let timing = match parse_timing(&current.cron, &current.timezone) {
            Ok(timing) => timing,
            Err(error) => {
                tracing::error!(schedule = current.id, %error, "schedule cannot be read; fix or disable it");
                continue;
            }
        };
        let after = current.last_slot_at.unwrap_or(current.created_at);
        let Some(slot) = due_slot(&timing, after, now) else {
            continue;
        };
        // Take the slot: only the caller that moves last_slot_at runs it.
        let mut take = schedule::Entity::update_many()
            .col_expr(schedule::Column::LastSlotAt, Expr::value(slot))
            .filter(schedule::Column::Id.eq(current.id));
        take = match current.last_slot_at {
            Some(previous) => take.filter(schedule::Column::LastSlotAt.eq(previous)),
            None => take.filter(schedule::Column::LastSlotAt.is_null()),
        };
        if take.exec(db.conn()).await?.rows_affected != 1 {
            continue;
        }
        let still_running = scan_job::Entity::find()
            .filter(scan_job::Column::ScheduleId.eq(current.id))
            .filter(scan_job::Column::Status.is_in([
                JobStatus::Queued.as_str(),
                JobStatus::Running.as_str(),
                JobStatus::Cancelling.as_str(),
            ]))
            .one(db.conn())
            .await?
            .is_some();
        if still_running {
            tracing::warn!(schedule = %current.name, %slot, "previous run still going; this slot is skipped");
            audit::record(
                db.conn(),
                "scheduler",
                "schedule.skip",
                &format!("schedule:{}", current.id),
                serde_json::json!({ "slot": slot, "why": "previous run still going" }),
            )
            .await?;
            outcomes.push(TickOutcome::SkippedStillRunning {
                schedule_id: current.id,
                slot,
            });
            continue;
        }
        let mut scan_ids = Vec::new();
        for subnet_id in subnet_ids(db, current.id).await? {
            let options = ScanOptions {
                requested_by: format!("schedule:{}", current.name),
                schedule_id: Some(current.id),
                ..ScanOptions::default()
            };
            match scans::enqueue(db, subnet_id, options).await {
                Ok(job) => scan_ids.push(job.id),
                Err(error) => {
                    tracing::error!(schedule = %current.name, subnet = subnet_id, %error, "scheduled scan not queued")
                }
            }
        }
        tracing::info!(schedule = %current.name, %slot, scans = scan_ids.len(), "scheduled scans queued");
        outcomes.push(TickOutcome::Queued {
            schedule_id: current.id,
            slot,
            scan_ids,
        });
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("a valid time")
    }

    #[test]
    fn nightly_two_oclock_follows_the_zone_across_daylight_saving() {
        let berlin = parse_timing("0 2 * * *", "Europe/Berlin").unwrap();
        // Summer (UTC+2): 02:00 in Berlin is 00:00 UTC.
        assert_eq!(
            due_slot(
                &berlin,
                utc(2026, 7, 1, 0, 0) - chrono::Duration::hours(1),
                utc(2026, 7, 1, 0, 30)
            ),
            Some(utc(2026, 7, 1, 0, 0))
        );
        // Winter (UTC+1): 01:00 UTC.
        assert_eq!(
            next_slot(&berlin, utc(2026, 12, 1, 12, 0)),
            Some(utc(2026, 12, 2, 1, 0))
        );
    }

    #[test]
    fn nothing_is_due_before_the_first_slot() {
        let nightly = parse_timing("0 2 * * *", "UTC").unwrap();
        assert_eq!(
            due_slot(&nightly, utc(2026, 7, 1, 3, 0), utc(2026, 7, 1, 23, 59)),
            None
        );
    }

    #[test]
    fn several_missed_slots_make_one_run_at_the_newest() {
        let nightly = parse_timing("0 2 * * *", "UTC").unwrap();
        assert_eq!(
            due_slot(&nightly, utc(2026, 7, 1, 3, 0), utc(2026, 7, 5, 9, 0)),
            Some(utc(2026, 7, 5, 2, 0))
        );
    }

    #[test]
    fn bad_input_says_what_to_write() {
        let Err(StorageError::Invalid(errors)) = parse_timing("every night", "Mars/Olympus") else {
            panic!("both fields are wrong");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cron", "timezone"]);
        assert!(errors[0].message.contains("0 2 * * *"));
        assert!(errors[1].message.contains("Europe/Berlin"));
    }
}

//! Hosts as stable identities: overrides people set, and remediation status
//! (open → acknowledged → fixed, where "fixed" is only ever set by a later
//! scan that finds the host protected or out of scope).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use crate::coverage::{self, OverrideRule, Verdict};
use crate::entities::{host, host_override, host_result};
use crate::{Db, StorageError, audit, profiles, scans, subnets};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remediation {
    Open,
    Acknowledged,
    Fixed,
}

impl Remediation {
    pub fn as_str(self) -> &'static str {
        match self {
            Remediation::Open => "open",
            Remediation::Acknowledged => "acknowledged",
            Remediation::Fixed => "fixed",
        }
    }

    pub fn parse(text: &str) -> Option<Remediation> {
        [
            Remediation::Open,
            Remediation::Acknowledged,
            Remediation::Fixed,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

pub async fn get(db: &Db, address: &str) -> Result<Option<host::Model>, StorageError> {
    Ok(host::Entity::find()
        .filter(host::Column::Address.eq(address))
        .one(db.conn())
        .await?)
}

/// A person takes note of an open gap ("ticket raised"). Only open hosts can be acknowledged.
pub async fn acknowledge(
    db: &Db,
    actor: &str,
    address: &str,
    note: &str,
) -> Result<host::Model, StorageError> {
    let txn = db.conn().begin().await?;
    let updated = acknowledge_in(&txn, actor, address, note).await?;
    txn.commit().await?;
    Ok(updated)
}

async fn acknowledge_in(
    conn: &impl ConnectionTrait,
    actor: &str,
    address: &str,
    note: &str,
) -> Result<host::Model, StorageError> {
    let Some(found) = host::Entity::find()
        .filter(host::Column::Address.eq(address))
        .one(conn)
        .await?
    else {
        return Err(StorageError::invalid(
            "address",
            format!("No scan has seen {address} yet."),
        ));
    };
    if found.remediation_status.as_deref() != Some(Remediation::Open.as_str()) {
        return Err(StorageError::invalid(
            "address",
            format!(
                "{address} is {}; only an open gap can be acknowledged.",
                found.remediation_status.as_deref().unwrap_or("not a gap")
            ),
        ));
    }
    let mut row: host::ActiveModel = found.into();
    row.remediation_status = Set(Some(Remediation::Acknowledged.as_str().into()));
    row.remediation_note = Set(Some(note.trim().to_owned()));
    row.remediation_by = Set(Some(actor.to_owned()));
    row.remediation_changed_at = Set(Some(Utc::now()));
    let updated = row.update(conn).await?;
    audit::record(
        conn,
        actor,
        "remediation.acknowledge",
        &format!("host:{address}"),
        serde_json::json!({ "note": note.trim() }),
    )
    .await?;
    Ok(updated)
}

/// What a person says about one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOverride {
    pub device_class: Option<String>,
    pub out_of_scope: bool,
    pub reason: String,
}

const DEVICE_CLASSES: [&str; 6] = [
    "windows",
    "linux-unix",
    "macos",
    "printer",
    "network-device",
    "unknown",
];

/// Sets (or replaces) the override for an address, and re-judges the
/// address's result in its subnet's newest finished scan so dashboards agree.
pub async fn set_override(
    db: &Db,
    actor: &str,
    address: &str,
    new: NewOverride,
) -> Result<host_override::Model, StorageError> {
    let mut saved = set_overrides(db, actor, &[address.to_owned()], new).await?;
    saved
        .pop()
        .ok_or_else(|| StorageError::invalid("address", "Choose at least one host."))
}

/// Sets the same override for several addresses in one transaction: either
/// every address gets it or none does. Each newest result is then re-judged.
pub async fn set_overrides(
    db: &Db,
    actor: &str,
    addresses: &[String],
    new: NewOverride,
) -> Result<Vec<host_override::Model>, StorageError> {
    let addresses = parse_addresses(addresses)?;
    if let Some(class) = &new.device_class
        && !DEVICE_CLASSES.contains(&class.as_str())
    {
        return Err(StorageError::invalid(
            "device_class",
            format!(
                "“{class}” is not a device class; use one of {}.",
                DEVICE_CLASSES.join(", ")
            ),
        ));
    }
    if new.device_class.is_none() && !new.out_of_scope {
        return Err(StorageError::invalid(
            "device_class",
            "Set a device class or mark the host out of scope.",
        ));
    }
    if new.reason.trim().is_empty() {
        return Err(StorageError::invalid(
            "reason",
            "Say why, so the next person understands the override.",
        ));
    }
    let reason = new.reason.trim().to_owned();
    let txn = db.conn().begin().await?;
    let mut saved = Vec::with_capacity(addresses.len());
    for address in &addresses {
        host_override::Entity::delete_many()
            .filter(host_override::Column::Address.eq(address))
            .exec(&txn)
            .await?;
        saved.push(
            host_override::ActiveModel {
                address: Set(address.clone()),
                device_class: Set(new.device_class.clone()),
                out_of_scope: Set(new.out_of_scope),
                reason: Set(reason.clone()),
                created_by: Set(actor.to_owned()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        );
        audit::record(
            &txn,
            actor,
            "override.set",
            &format!("host:{address}"),
            serde_json::json!({ "device_class": new.device_class, "out_of_scope": new.out_of_scope, "reason": reason }),
        )
        .await?;
    }
    txn.commit().await?;
    for address in &addresses {
        rejudge_latest(
            db,
            address,
            Some(OverrideRule {
                device_class: new.device_class.clone(),
                out_of_scope: new.out_of_scope,
            }),
        )
        .await?;
    }
    Ok(saved)
}

/// The device classes a person may choose.
pub fn device_classes() -> &'static [&'static str] {
    &DEVICE_CLASSES
}

/// Normalised, de-duplicated addresses; an error names the first that is not one.
fn parse_addresses(addresses: &[String]) -> Result<Vec<String>, StorageError> {
    if addresses.is_empty() {
        return Err(StorageError::invalid(
            "address",
            "Choose at least one host.",
        ));
    }
    let mut parsed = Vec::with_capacity(addresses.len());
    for address in addresses {
        let ip: std::net::IpAddr = address.trim().parse().map_err(|_| {
            StorageError::invalid("address", format!("“{address}” is not an IP address."))
        })?;
        let text = ip.to_string();
        if !parsed.contains(&text) {
            parsed.push(text);
        }
    }
    Ok(parsed)
}

/// Acknowledges several open gaps in one transaction: if any address is not an
/// open gap, nothing changes and the error names it.
pub async fn acknowledge_many(
    db: &Db,
    actor: &str,
    addresses: &[String],
    note: &str,
) -> Result<Vec<host::Model>, StorageError> {
    let addresses = parse_addresses(addresses)?;
    let txn = db.conn().begin().await?;
    let mut updated = Vec::with_capacity(addresses.len());
    for address in &addresses {
        updated.push(acknowledge_in(&txn, actor, address, note).await?);
    }
    txn.commit().await?;
    Ok(updated)
}

/// What people decided about one address over time (set and cleared
/// overrides), newest first.
pub async fn override_history(
    db: &Db,
    address: &str,
    limit: u64,
) -> Result<Vec<crate::entities::audit_log::Model>, StorageError> {
    use crate::entities::audit_log;
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::Subject.eq(format!("host:{address}")))
        .filter(audit_log::Column::Action.starts_with("override."))
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db.conn())
        .await?)
}

/// Removes a person's override; the newest result is judged on evidence again.
pub async fn clear_override(db: &Db, actor: &str, address: &str) -> Result<(), StorageError> {
    host_override::Entity::delete_many()
        .filter(host_override::Column::Address.eq(address))
        .exec(db.conn())
        .await?;
    audit::record(
        db.conn(),
        actor,
        "override.clear",
        &format!("host:{address}"),
        serde_json::json!({}),
    )
    .await?;
    rejudge_latest(db, address, None).await
}

pub async fn override_for(
    db: &Db,
    address: &str,
) -> Result<Option<host_override::Model>, StorageError> {
    Ok(host_override::Entity::find()
        .filter(host_override::Column::Address.eq(address))
        .one(db.conn())
        .await?)
}

async fn rejudge_latest(
    db: &Db,
    address: &str,
    person: Option<OverrideRule>,
) -> Result<(), StorageError> {
    let Some(latest) = host_result::Entity::find()
        .filter(host_result::Column::Address.eq(address))
        .inner_join(crate::entities::scan_job::Entity)
        .filter(crate::entities::scan_job::Column::Status.eq(scans::JobStatus::Done.as_str()))
        .order_by_desc(host_result::Column::ScanId)
        .one(db.conn())
        .await?
    else {
        return Ok(());
    };
    let job = scans::get(db, latest.scan_id).await?;
    let subnet = subnets::get(db, job.subnet_id).await?;
    let rules = profiles::rules_for_site(db, subnet.site_id).await?;
    let ports = scans::observed_ports(&latest)?;
    let (verdict, matched) = coverage::verdict_with_override(
        latest.host_state == "up",
        &latest.device_class,
        &ports,
        &rules,
        person.as_ref(),
    );
    if Verdict::parse(&latest.verdict) == Some(verdict) {
        return Ok(());
    }
    let txn = db.conn().begin().await?;
    let mut row: host_result::ActiveModel = latest.clone().into();
    row.verdict = Set(verdict.as_str().into());
    row.matched_profile = Set(matched);
    row.update(&txn).await?;
    host::Entity::update_many()
        .col_expr(
            host::Column::LastVerdict,
            sea_orm::sea_query::Expr::value(verdict.as_str()),
        )
        .filter(host::Column::Address.eq(address))
        .filter(host::Column::LastScanId.eq(latest.scan_id))
        .exec(&txn)
        .await?;
    let finished_at = job.finished_at.unwrap_or_else(Utc::now);
    // The scan's own counters and its trend row both change, so the subnet page
    // and the overview show the new numbers at once.
    let coverage = scans::refresh_counters(&txn, job.id).await?;
    scans::write_stats(&txn, job.id, job.subnet_id, finished_at, &coverage).await?;
    txn.commit().await?;
    Ok(())
}

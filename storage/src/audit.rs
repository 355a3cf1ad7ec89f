//! The append-only audit log: who changed what, when. The database refuses
//! updates and deletes of its rows (triggers on both backends).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entities::audit_log;
use crate::{Db, StorageError};

/// Appends one entry made by the system (no client address).
pub async fn record(
    conn: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<(), StorageError> {
    record_from(conn, actor, None, action, subject, detail).await
}

/// Appends one entry with where the request came from (the client address).
pub async fn record_from(
    conn: &impl ConnectionTrait,
    actor: &str,
    source: Option<&str>,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<(), StorageError> {
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        subject: Set(subject.to_owned()),
        detail: Set(detail),
        source: Set(source.map(str::to_owned)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The newest entries first, optionally only those about one subject.
pub async fn list(
    db: &Db,
    subject: Option<&str>,
    limit: u64,
) -> Result<Vec<audit_log::Model>, StorageError> {
    let mut query = audit_log::Entity::find();
    if let Some(subject) = subject {
        query = query.filter(audit_log::Column::Subject.eq(subject));
    }
    Ok(query
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db.conn())
        .await?)
}

/// What the audit page filters by; every part optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// An exact action ("scan.start") or a prefix ending in "." ("user.").
    pub action: Option<String>,
    /// First and last day (UTC), inclusive.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// Filtered entries, newest first, `limit` of them after skipping `offset`.
pub async fn search(
    db: &Db,
    filter: &AuditFilter,
    limit: u64,
    offset: u64,
) -> Result<Vec<audit_log::Model>, StorageError> {
    let mut query = audit_log::Entity::find();
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::Column::Actor.eq(actor.trim()));
    }
    if let Some(action) = &filter.action {
        let action = action.trim();
        query = if action.ends_with('.') {
            query.filter(audit_log::Column::Action.starts_with(action))
        } else {
            query.filter(audit_log::Column::Action.eq(action))
        };
    }
    if let Some(from) = filter.from {
        query = query
            .filter(audit_log::Column::At.gte(from.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        query =
            query.filter(audit_log::Column::At.lt(to.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    Ok(query
        .order_by_desc(audit_log::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db.conn())
        .await?)
}

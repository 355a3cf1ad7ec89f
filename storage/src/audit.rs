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

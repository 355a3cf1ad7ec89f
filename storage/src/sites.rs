//! Sites: places with their own networks and, possibly, their own agent ports.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::site;
use crate::{Db, StorageError, audit};

pub async fn create(
    db: &Db,
    actor: &str,
    name: &str,
    notes: &str,
) -> Result<site::Model, StorageError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > crate::subnets::MAX_NAME_CHARS {
        return Err(StorageError::invalid(
            "name",
            format!(
                "Give the site a name of 1 to {} characters, e.g. “Berlin office”.",
                crate::subnets::MAX_NAME_CHARS
            ),
        ));
    }
    if site::Entity::find()
        .filter(site::Column::Name.eq(name))
        .one(db.conn())
        .await?
        .is_some()
    {
        return Err(StorageError::invalid(
            "name",
            format!("A site called “{name}” already exists."),
        ));
    }
    let created = site::ActiveModel {
        name: Set(name.to_owned()),
        notes: Set(notes.trim().to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    audit::record(
        db.conn(),
        actor,
        "site.create",
        &format!("site:{}", created.id),
        serde_json::json!({ "name": name }),
    )
    .await?;
    Ok(created)
}

pub async fn get(db: &Db, id: i32) -> Result<site::Model, StorageError> {
    site::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StorageError::NotFound {
            what: "site",
            id: id.into(),
        })
}

pub async fn list(db: &Db) -> Result<Vec<site::Model>, StorageError> {
    Ok(site::Entity::find()
        .order_by_asc(site::Column::Name)
        .all(db.conn())
        .await?)
}

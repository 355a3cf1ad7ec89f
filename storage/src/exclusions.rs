//! Exclusions: addresses and ranges that are never scanned (fragile devices,
//! other owners' equipment). Their results are never stored either.

use std::net::IpAddr;

use chrono::Utc;
use ipnet::IpNet;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::exclusion;
use crate::{Db, StorageError, audit};

/// Parses an address ("10.0.0.5") or a CIDR block ("10.0.9.0/24").
pub fn parse_target(input: &str) -> Result<IpNet, String> {
    let text = input.trim();
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(address));
    }
    let net: IpNet = text.parse().map_err(|_| {
        format!(
            "“{text}” is neither an address nor a CIDR block; write e.g. 10.0.0.5 or 10.0.9.0/24."
        )
    })?;
    if net.network() != net.addr() {
        return Err(format!(
            "{text} has host bits set; did you mean {}?",
            net.trunc()
        ));
    }
    Ok(net)
}

pub async fn add(
    db: &Db,
    actor: &str,
    target: &str,
    reason: &str,
) -> Result<exclusion::Model, StorageError> {
    let net = parse_target(target).map_err(|m| StorageError::invalid("target", m))?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StorageError::invalid(
            "reason",
            "Say why this range must never be scanned.",
        ));
    }
    let cidr = net.to_string();
    if exclusion::Entity::find()
        .filter(exclusion::Column::Cidr.eq(&cidr))
        .one(db.conn())
        .await?
        .is_some()
    {
        return Err(StorageError::invalid(
            "target",
            format!("{cidr} is already excluded."),
        ));
    }
    let created = exclusion::ActiveModel {
        cidr: Set(cidr.clone()),
        reason: Set(reason.to_owned()),
        created_by: Set(actor.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    audit::record(
        db.conn(),
        actor,
        "exclusion.add",
        &format!("exclusion:{cidr}"),
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    Ok(created)
}

pub async fn remove(db: &Db, actor: &str, id: i32) -> Result<(), StorageError> {
    let row = exclusion::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StorageError::NotFound {
            what: "exclusion",
            id: id.into(),
        })?;
    exclusion::Entity::delete_by_id(id).exec(db.conn()).await?;
    audit::record(
        db.conn(),
        actor,
        "exclusion.remove",
        &format!("exclusion:{}", row.cidr),
        serde_json::json!({}),
    )
    .await
}

pub async fn list(db: &Db) -> Result<Vec<exclusion::Model>, StorageError> {
    Ok(exclusion::Entity::find()
        .order_by_asc(exclusion::Column::Cidr)
        .all(db.conn())
        .await?)
}

/// Every excluded range, parsed.
pub async fn networks(db: &Db) -> Result<Vec<IpNet>, StorageError> {
    list(db)
        .await?
        .into_iter()
        .map(|row| {
            row.cidr.parse().map_err(|_| {
                StorageError::Corrupt(format!(
                    "exclusion {} is not a CIDR block: “{}”",
                    row.id, row.cidr
                ))
            })
        })
        .collect()
}

/// Whether any exclusion covers the address.
pub fn is_excluded(excluded: &[IpNet], address: IpAddr) -> bool {
    excluded.iter().any(|net| net.contains(&address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_or_a_block_can_be_excluded() {
        assert_eq!(parse_target("10.0.0.5").unwrap().to_string(), "10.0.0.5/32");
        assert_eq!(
            parse_target("10.0.9.0/24").unwrap().to_string(),
            "10.0.9.0/24"
        );
        assert!(
            parse_target("10.0.9.1/24")
                .unwrap_err()
                .contains("did you mean 10.0.9.0/24")
        );
        assert!(
            parse_target("printer")
                .unwrap_err()
                .contains("neither an address")
        );
    }

    #[test]
    fn exclusions_cover_their_addresses_only() {
        let excluded = vec![parse_target("10.0.9.0/24").unwrap()];
        assert!(is_excluded(&excluded, "10.0.9.77".parse().unwrap()));
        assert!(!is_excluded(&excluded, "10.0.10.1".parse().unwrap()));
    }
}

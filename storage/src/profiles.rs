//! Vendor port profiles: which TCP ports (and banners) show that an AV agent is installed.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::coverage::ProfileRule;
use crate::entities::vendor_profile;
use crate::{Db, StorageError};

/// Inserts every built-in catalogue profile that is not stored yet. Profiles a
/// user changed are left alone: seeding never overwrites.
pub async fn seed_builtin(db: &Db) -> Result<(), StorageError> {
    for profile in scanner::catalogue::builtin() {
        let exists = vendor_profile::Entity::find()
            .filter(vendor_profile::Column::Key.eq(profile.key))
            .one(db.conn())
            .await?
            .is_some();
        if exists {
            continue;
        }
        vendor_profile::ActiveModel {
            key: Set(profile.key.to_owned()),
            vendor: Set(profile.vendor.to_owned()),
            product: Set(profile.product.to_owned()),
            ports: Set(format_ports(profile.ports)),
            banner_regex: Set(profile.banner_regex.map(str::to_owned)),
            listens_on_nothing: Set(profile.listens_on_nothing),
            port_configurable: Set(profile.port_configurable),
            builtin: Set(true),
            // Profiles that need a per-site port stay off until someone sets it.
            enabled: Set(!profile.listens_on_nothing && !profile.ports.is_empty()),
            notes: Set(profile.notes.to_owned()),
            ..Default::default()
        }
        .insert(db.conn())
        .await?;
    }
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<vendor_profile::Model>, StorageError> {
    Ok(vendor_profile::Entity::find()
        .order_by_asc(vendor_profile::Column::Vendor)
        .order_by_asc(vendor_profile::Column::Product)
        .all(db.conn())
        .await?)
}

/// The enabled profiles a scan checks, as coverage rules.
pub async fn enabled_rules(db: &Db) -> Result<Vec<ProfileRule>, StorageError> {
    let profiles = vendor_profile::Entity::find()
        .filter(vendor_profile::Column::Enabled.eq(true))
        .filter(vendor_profile::Column::ListensOnNothing.eq(false))
        .order_by_asc(vendor_profile::Column::Id)
        .all(db.conn())
        .await?;
    profiles
        .into_iter()
        .map(|p| {
            let ports = parse_ports(&p.ports).map_err(|e| {
                StorageError::Corrupt(format!("profile {} has bad ports “{}”: {e}", p.key, p.ports))
            })?;
            Ok(ProfileRule {
                key: p.key,
                ports,
                banner_regex: p.banner_regex,
            })
        })
        .collect()
}

pub fn format_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses "2967,8192-8194" into a sorted, de-duplicated port list.
pub fn parse_ports(text: &str) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (low, high) = match token.split_once('-') {
            Some((low, high)) => (low.trim(), high.trim()),
            None => (token, token),
        };
        let parse = |s: &str| -> Result<u16, String> {
            match s.parse::<u16>() {
                Ok(0) | Err(_) => Err(format!("“{token}” is not a TCP port (1-65535)")),
                Ok(port) => Ok(port),
            }
        };
        let (low, high) = (parse(low)?, parse(high)?);
        if low > high {
            return Err(format!("the range “{token}” runs backwards"));
        }
        ports.extend(low..=high);
    }
    if ports.is_empty() {
        return Err("no ports given".into());
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_ranges() {
        assert_eq!(parse_ports("2967, 8192-8194,2967").unwrap(), [2967, 8192, 8193, 8194]);
    }

    #[test]
    fn rejects_port_zero_and_beyond_65535() {
        assert!(parse_ports("0").unwrap_err().contains("not a TCP port"));
        assert!(parse_ports("65536").unwrap_err().contains("not a TCP port"));
        assert!(parse_ports("9-3").unwrap_err().contains("backwards"));
        assert!(parse_ports(" , ").is_err());
    }
}

//! Vendor port profiles: which TCP ports (and banners) show that an AV agent is installed.

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::coverage::{ProfileRule, encode_hex};
use crate::entities::{site_profile_port, vendor_profile};
use crate::{Db, StorageError, audit};

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
            probe_hex: Set(profile.probe.map(encode_hex)),
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

/// The enabled profiles a scan checks, as coverage rules (no site's own ports).
pub async fn enabled_rules(db: &Db) -> Result<Vec<ProfileRule>, StorageError> {
    rules_for_site(db, None).await
}

/// The rules a scan of a subnet in `site_id` checks: every enabled profile
/// with ports, where a site's own ports replace the profile's (OfficeScan).
/// A port-configurable profile with no port of its own counts only at sites
/// that set one.
pub async fn rules_for_site(
    db: &Db,
    site_id: Option<i32>,
) -> Result<Vec<ProfileRule>, StorageError> {
    let profiles = vendor_profile::Entity::find()
        .filter(vendor_profile::Column::ListensOnNothing.eq(false))
        .order_by_asc(vendor_profile::Column::Id)
        .all(db.conn())
        .await?;
    let site_ports: HashMap<i32, String> = match site_id {
        Some(site_id) => site_profile_port::Entity::find()
            .filter(site_profile_port::Column::SiteId.eq(site_id))
            .all(db.conn())
            .await?
            .into_iter()
            .map(|row| (row.profile_id, row.ports))
            .collect(),
        None => HashMap::new(),
    };
    let mut rules = Vec::new();
    for p in profiles {
        let text = match site_ports.get(&p.id) {
            Some(ports) if p.port_configurable => ports.as_str(),
            _ if !p.enabled => continue,
            _ => p.ports.as_str(),
        };
        if text.trim().is_empty() {
            continue;
        }
        let ports = parse_ports(text).map_err(|e| {
            StorageError::Corrupt(format!("profile {} has bad ports “{text}”: {e}", p.key))
        })?;
        let probe = match p.probe_hex.as_deref() {
            Some(hex) => Some(crate::coverage::decode_hex(hex).ok_or_else(|| {
                StorageError::Corrupt(format!("profile {} has a probe that is not hex", p.key))
            })?),
            None => None,
        };
        rules.push(ProfileRule {
            key: p.key,
            ports,
            banner_regex: p.banner_regex,
            probe,
        });
    }
    Ok(rules)
}

/// Sets a site's own ports for a profile whose port is chosen at install
/// (e.g. OfficeScan's `Client_LocalServer_Port`).
pub async fn set_site_ports(
    db: &Db,
    actor: &str,
    site_id: i32,
    profile_key: &str,
    ports: &str,
) -> Result<(), StorageError> {
    let profile = vendor_profile::Entity::find()
        .filter(vendor_profile::Column::Key.eq(profile_key))
        .one(db.conn())
        .await?
        .ok_or_else(|| {
            StorageError::invalid("profile", format!("There is no profile “{profile_key}”."))
        })?;
    if !profile.port_configurable {
        return Err(StorageError::invalid(
            "profile",
            format!(
                "{} {} listens on a fixed port; only install-time ports can be set per site.",
                profile.vendor, profile.product
            ),
        ));
    }
    crate::sites::get(db, site_id).await?;
    let parsed = parse_ports(ports)
        .map_err(|e| StorageError::invalid("ports", format!("{e}; e.g. 4343 or 21112,21113.")))?;
    let text = format_ports(&parsed);
    let existing = site_profile_port::Entity::find()
        .filter(site_profile_port::Column::SiteId.eq(site_id))
        .filter(site_profile_port::Column::ProfileId.eq(profile.id))
        .one(db.conn())
        .await?;
    match existing {
        Some(row) => {
            let mut row: site_profile_port::ActiveModel = row.into();
            row.ports = Set(text.clone());
            row.update(db.conn()).await?;
        }
        None => {
            site_profile_port::ActiveModel {
                site_id: Set(site_id),
                profile_id: Set(profile.id),
                ports: Set(text.clone()),
                ..Default::default()
            }
            .insert(db.conn())
            .await?;
        }
    }
    audit::record(
        db.conn(),
        actor,
        "profile.site-ports",
        &format!("site:{site_id}"),
        serde_json::json!({ "profile": profile_key, "ports": text }),
    )
    .await
}

/// A profile a person defines for an agent the catalogue does not know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewCustomProfile {
    pub vendor: String,
    pub product: String,
    /// "2967" or "8192-8194,8080".
    pub ports: String,
    /// Optional: the open port counts only when the banner matches.
    pub banner_regex: String,
}

/// Stores a custom profile (enabled), keyed "custom-<vendor>-<product>".
/// Every field is checked; all problems come back at once.
pub async fn create_custom(
    db: &Db,
    actor: &str,
    new: &NewCustomProfile,
) -> Result<vendor_profile::Model, StorageError> {
    let mut errors = Vec::new();
    let vendor = new.vendor.trim();
    let product = new.product.trim();
    for (field, value, example) in [
        ("vendor", vendor, "Acme"),
        ("product", product, "Endpoint Agent"),
    ] {
        if value.is_empty() || value.chars().count() > crate::subnets::MAX_NAME_CHARS {
            errors.push(crate::FieldError::new(
                field,
                format!(
                    "Write the {field} in 1 to {} characters, e.g. “{example}”.",
                    crate::subnets::MAX_NAME_CHARS
                ),
            ));
        }
    }
    let ports = parse_ports(&new.ports).map_err(|e| {
        errors.push(crate::FieldError::new(
            "ports",
            format!("{e}; write e.g. 2967 or 8192-8194,8080."),
        ))
    });
    let regex = new.banner_regex.trim();
    if !regex.is_empty()
        && let Err(e) = scanner::catalogue::banner_matches(regex, &scanner::Banner(Vec::new()))
    {
        errors.push(crate::FieldError::new(
            "banner_regex",
            format!("{e}; leave it empty to count any open port."),
        ));
    }
    let key = format!("custom-{}-{}", slug(vendor), slug(product));
    if errors.is_empty()
        && vendor_profile::Entity::find()
            .filter(vendor_profile::Column::Key.eq(&key))
            .one(db.conn())
            .await?
            .is_some()
    {
        errors.push(crate::FieldError::new(
            "product",
            format!("A profile for {vendor} {product} already exists."),
        ));
    }
    let (Ok(ports), true) = (ports, errors.is_empty()) else {
        return Err(StorageError::Invalid(errors));
    };
    let created = vendor_profile::ActiveModel {
        key: Set(key.clone()),
        vendor: Set(vendor.to_owned()),
        product: Set(product.to_owned()),
        ports: Set(format_ports(&ports)),
        banner_regex: Set((!regex.is_empty()).then(|| regex.to_owned())),
        probe_hex: Set(None),
        listens_on_nothing: Set(false),
        port_configurable: Set(false),
        builtin: Set(false),
        enabled: Set(true),
        notes: Set(format!("Custom profile added by {actor}.")),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    audit::record(
        db.conn(),
        actor,
        "profile.create",
        &format!("profile:{key}"),
        serde_json::json!({ "vendor": vendor, "product": product, "ports": created.ports, "banner_regex": created.banner_regex }),
    )
    .await?;
    Ok(created)
}

fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Turns a profile on or off. A profile that listens on nothing cannot be
/// turned on: a port scan can never see it.
pub async fn set_enabled(
    db: &Db,
    actor: &str,
    key: &str,
    enabled: bool,
) -> Result<vendor_profile::Model, StorageError> {
    let profile = vendor_profile::Entity::find()
        .filter(vendor_profile::Column::Key.eq(key))
        .one(db.conn())
        .await?
        .ok_or_else(|| StorageError::invalid("profile", format!("There is no profile “{key}”.")))?;
    if enabled && profile.listens_on_nothing {
        return Err(StorageError::invalid(
            "profile",
            format!(
                "{} {} listens on no port, so a port scan cannot see it; it stays off.",
                profile.vendor, profile.product
            ),
        ));
    }
    let mut row: vendor_profile::ActiveModel = profile.into();
    row.enabled = Set(enabled);
    let updated = row.update(db.conn()).await?;
    audit::record(
        db.conn(),
        actor,
        if enabled {
            "profile.enable"
        } else {
            "profile.disable"
        },
        &format!("profile:{key}"),
        serde_json::json!({}),
    )
    .await?;
    Ok(updated)
}

/// One profile by key.
pub async fn get(db: &Db, key: &str) -> Result<vendor_profile::Model, StorageError> {
    vendor_profile::Entity::find()
        .filter(vendor_profile::Column::Key.eq(key))
        .one(db.conn())
        .await?
        .ok_or_else(|| StorageError::invalid("profile", format!("There is no profile “{key}”.")))
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
        assert_eq!(
            parse_ports("2967, 8192-8194,2967").unwrap(),
            [2967, 8192, 8193, 8194]
        );
    }

    #[test]
    fn rejects_port_zero_and_beyond_65535() {
        assert!(parse_ports("0").unwrap_err().contains("not a TCP port"));
        assert!(parse_ports("65536").unwrap_err().contains("not a TCP port"));
        assert!(parse_ports("9-3").unwrap_err().contains("backwards"));
        assert!(parse_ports(" , ").is_err());
    }
}

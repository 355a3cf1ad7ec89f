//! Subnets an admin defined: the only address space avsweep ever scans.

use std::net::IpAddr;

use chrono::Utc;
use ipnet::IpNet;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entities::subnet;
use crate::{Db, FieldError, StorageError};

/// The largest subnet one entry may cover: an IPv4 /8 or an IPv6 /104 (16.7 M addresses).
pub const MAX_IPV4_PREFIX_SIZE: u8 = 8;
pub const MAX_IPV6_PREFIX_SIZE: u8 = 104;
pub const MAX_NAME_CHARS: usize = 80;

/// A subnet that passed validation, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSubnet {
    pub cidr: IpNet,
    pub name: String,
}

/// Checks a CIDR block typed by a person and says exactly what is wrong.
pub fn parse_cidr(input: &str) -> Result<IpNet, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("Enter a subnet in CIDR notation, e.g. 10.20.0.0/24.".into());
    }
    let Some((address, prefix)) = text.split_once('/') else {
        return Err(match text.parse::<IpAddr>() {
            Ok(addr) => format!(
                "“{text}” is a single address; add the prefix length, e.g. {addr}/{}.",
                if addr.is_ipv4() { 32 } else { 128 }
            ),
            Err(_) => {
                format!("“{text}” is not a CIDR block; write address/prefix, e.g. 10.20.0.0/24.")
            }
        });
    };
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("“{address}” is not an IPv4 or IPv6 address."))?;
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| format!("The prefix length “/{prefix}” must be a whole number."))?;
    let (max_prefix, min_prefix) = match address {
        IpAddr::V4(_) => (32, MAX_IPV4_PREFIX_SIZE),
        IpAddr::V6(_) => (128, MAX_IPV6_PREFIX_SIZE),
    };
    if prefix > max_prefix {
        return Err(format!(
            "/{prefix} is out of range: {} prefixes go from /0 to /{max_prefix}.",
            if address.is_ipv4() { "IPv4" } else { "IPv6" }
        ));
    }
    if prefix < min_prefix {
        return Err(format!(
            "/{prefix} is too large to scan: the largest subnet allowed is /{min_prefix} (16.7 million addresses). Split it into smaller subnets."
        ));
    }
    let net = IpNet::new(address, prefix).map_err(|e| e.to_string())?;
    if net.network() != address {
        return Err(format!(
            "{text} has host bits set; did you mean {}/{prefix}?",
            net.network()
        ));
    }
    if address.is_unspecified() || address.is_multicast() {
        return Err(format!(
            "{text} is not a range of hosts (unspecified or multicast)."
        ));
    }
    if let IpAddr::V4(v4) = address
        && (v4.is_broadcast() || v4.octets()[0] == 0)
    {
        return Err(format!("{text} is not a range of hosts."));
    }
    Ok(net)
}

/// Validates the add-subnet form; every problem is reported, not only the first.
pub fn validate(cidr: &str, name: &str) -> Result<NewSubnet, Vec<FieldError>> {
    let mut errors = Vec::new();
    let cidr = parse_cidr(cidr).map_err(|m| errors.push(FieldError::new("cidr", m)));
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::new(
            "name",
            "Give the subnet a name people recognise, e.g. “HQ floor 2”.",
        ));
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            "name",
            format!("The name is too long: at most {MAX_NAME_CHARS} characters."),
        ));
    } else if name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "The name may not contain control characters.",
        ));
    }
    match cidr {
        Ok(cidr) if errors.is_empty() => Ok(NewSubnet {
            cidr,
            name: name.to_owned(),
        }),
        _ => Err(errors),
    }
}

pub async fn create(db: &Db, cidr: &str, name: &str) -> Result<subnet::Model, StorageError> {
    let new = validate(cidr, name).map_err(StorageError::Invalid)?;
    let cidr_text = new.cidr.to_string();
    let existing = subnet::Entity::find()
        .filter(subnet::Column::Cidr.eq(&cidr_text))
        .one(db.conn())
        .await?;
    if let Some(existing) = existing {
        return Err(StorageError::invalid(
            "cidr",
            format!("{cidr_text} is already defined as “{}”.", existing.name),
        ));
    }
    let model = subnet::ActiveModel {
        cidr: Set(cidr_text),
        name: Set(new.name),
        enabled: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(model.insert(db.conn()).await?)
}

/// Sets a subnet's site, tags (comma-separated; stored trimmed, sorted and
/// de-duplicated) and owner contact.
pub async fn update_details(
    db: &Db,
    actor: &str,
    id: i32,
    site_id: Option<i32>,
    tags: &str,
    owner_contact: Option<&str>,
) -> Result<subnet::Model, StorageError> {
    let current = get(db, id).await?;
    if let Some(site_id) = site_id {
        crate::sites::get(db, site_id).await.map_err(|_| {
            StorageError::invalid(
                "site",
                format!("Site {site_id} does not exist; create it first."),
            )
        })?;
    }
    let mut tags: Vec<String> = tags
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(bad) = tags
        .iter()
        .find(|t| t.chars().any(|c| c.is_control()) || t.chars().count() > 40)
    {
        return Err(StorageError::invalid(
            "tags",
            format!("The tag “{bad}” is too long or has control characters."),
        ));
    }
    tags.sort();
    tags.dedup();
    let owner = owner_contact
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned);
    let mut row: subnet::ActiveModel = current.into();
    row.site_id = Set(site_id);
    row.tags = Set(tags.join(","));
    row.owner_contact = Set(owner.clone());
    let updated = row.update(db.conn()).await?;
    crate::audit::record(
        db.conn(),
        actor,
        "subnet.update",
        &format!("subnet:{id}"),
        serde_json::json!({ "site": site_id, "tags": updated.tags, "owner_contact": owner }),
    )
    .await?;
    Ok(updated)
}

/// Turns a subnet on or off. A disabled subnet keeps its history but is not
/// scanned, by hand or by a schedule.
pub async fn set_enabled(
    db: &Db,
    actor: &str,
    id: i32,
    enabled: bool,
) -> Result<subnet::Model, StorageError> {
    let mut row: subnet::ActiveModel = get(db, id).await?.into();
    row.enabled = Set(enabled);
    let updated = row.update(db.conn()).await?;
    crate::audit::record(
        db.conn(),
        actor,
        if enabled {
            "subnet.enable"
        } else {
            "subnet.disable"
        },
        &format!("subnet:{id}"),
        serde_json::json!({ "cidr": updated.cidr }),
    )
    .await?;
    Ok(updated)
}

pub async fn list(db: &Db) -> Result<Vec<subnet::Model>, StorageError> {
    Ok(subnet::Entity::find()
        .order_by_asc(subnet::Column::Name)
        .all(db.conn())
        .await?)
}

pub async fn get(db: &Db, id: i32) -> Result<subnet::Model, StorageError> {
    subnet::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StorageError::NotFound {
            what: "subnet",
            id: id.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(input: &str) -> String {
        parse_cidr(input).expect_err(input)
    }

    #[test]
    fn accepts_ordinary_subnets() {
        assert_eq!(
            parse_cidr("10.0.0.0/24").unwrap().to_string(),
            "10.0.0.0/24"
        );
        assert_eq!(
            parse_cidr(" 127.77.0.0/28 ").unwrap().to_string(),
            "127.77.0.0/28"
        );
        assert_eq!(parse_cidr("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("fd00::/112").unwrap().to_string(), "fd00::/112");
    }

    #[test]
    fn rejects_a_prefix_beyond_32_bits() {
        assert!(message("10.0.0.0/33").contains("out of range"));
    }

    #[test]
    fn rejects_words() {
        assert!(message("foo").contains("not a CIDR block"));
        assert!(message("foo/24").contains("not an IPv4 or IPv6 address"));
    }

    #[test]
    fn rejects_subnets_larger_than_a_slash_8() {
        assert!(message("10.0.0.0/7").contains("too large"));
        assert!(message("fd00::/64").contains("too large"));
    }

    #[test]
    fn suggests_the_network_address_when_host_bits_are_set() {
        assert!(message("10.0.0.5/24").contains("did you mean 10.0.0.0/24"));
    }

    #[test]
    fn explains_a_missing_prefix() {
        assert!(message("10.0.0.5").contains("10.0.0.5/32"));
        assert!(message("").contains("Enter a subnet"));
        assert!(message("10.0.0.0/x").contains("whole number"));
    }

    #[test]
    fn rejects_multicast_and_unspecified_space() {
        assert!(message("224.0.0.0/24").contains("not a range of hosts"));
        assert!(message("0.0.0.0/8").contains("not a range of hosts"));
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let errors = validate("foo", "  ").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cidr", "name"]);
    }
}

//! What dashboards read: compliance now and over time (from the per-scan
//! aggregate rows written when a scan finishes, never recomputed per view),
//! a subnet's gap list and one host's history.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::coverage::{Coverage, Verdict};
use crate::entities::{host, host_result, scan_job, subnet_scan_stat};
use crate::{Db, StorageError};

impl From<&subnet_scan_stat::Model> for Coverage {
    fn from(row: &subnet_scan_stat::Model) -> Self {
        let n = |v: i32| u64::try_from(v).unwrap_or(0);
        Coverage {
            protected: n(row.protected),
            unprotected: n(row.unprotected),
            unknown: n(row.unknown),
            out_of_scope: n(row.out_of_scope),
            down: n(row.down),
        }
    }
}

/// Each subnet's newest finished scan's compliance row.
pub async fn latest_per_subnet(db: &Db) -> Result<Vec<subnet_scan_stat::Model>, StorageError> {
    let newest: Vec<i32> = subnet_scan_stat::Entity::find()
        .select_only()
        .column_as(subnet_scan_stat::Column::ScanId.max(), "scan_id")
        .group_by(subnet_scan_stat::Column::SubnetId)
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut rows = Vec::with_capacity(newest.len());
    for chunk in newest.chunks(1000) {
        rows.extend(
            subnet_scan_stat::Entity::find()
                .filter(subnet_scan_stat::Column::ScanId.is_in(chunk.iter().copied()))
                .all(db.conn())
                .await?,
        );
    }
    rows.sort_by_key(|r| r.subnet_id);
    Ok(rows)
}

/// The whole estate: the sum of every subnet's newest finished scan.
pub async fn overall(db: &Db) -> Result<Coverage, StorageError> {
    let mut total = Coverage::default();
    for row in latest_per_subnet(db).await? {
        let c = Coverage::from(&row);
        total.protected += c.protected;
        total.unprotected += c.unprotected;
        total.unknown += c.unknown;
        total.out_of_scope += c.out_of_scope;
        total.down += c.down;
    }
    Ok(total)
}

/// A subnet's compliance over its newest `limit` finished scans, oldest first (for trend charts).
pub async fn subnet_trend(
    db: &Db,
    subnet_id: i32,
    limit: u64,
) -> Result<Vec<subnet_scan_stat::Model>, StorageError> {
    let mut rows = subnet_scan_stat::Entity::find()
        .filter(subnet_scan_stat::Column::SubnetId.eq(subnet_id))
        .order_by_desc(subnet_scan_stat::Column::ScanId)
        .limit(limit)
        .all(db.conn())
        .await?;
    rows.reverse();
    Ok(rows)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GapSort {
    #[default]
    Address,
    DnsName,
    DeviceClass,
}

/// Which gaps to list and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GapQuery {
    /// Default: unprotected and unknown.
    pub verdicts: Vec<Verdict>,
    /// Matches the start of the address or any part of the DNS name.
    pub search: Option<String>,
    pub device_class: Option<String>,
    /// Only hosts whose remediation status is this one.
    pub remediation: Option<crate::hosts::Remediation>,
    pub sort: GapSort,
    pub descending: bool,
    pub limit: u64,
    pub offset: u64,
}

impl Default for GapQuery {
    fn default() -> Self {
        Self {
            verdicts: vec![Verdict::Unprotected, Verdict::Unknown],
            search: None,
            device_class: None,
            remediation: None,
            sort: GapSort::Address,
            descending: false,
            limit: 50,
            offset: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GapRow {
    pub result: host_result::Model,
    /// The host's remediation status: open, acknowledged or fixed.
    pub remediation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GapPage {
    pub scan_id: Option<i32>,
    /// Matching rows over all pages.
    pub total: u64,
    pub rows: Vec<GapRow>,
}

/// The most rows one gap page returns, whatever the caller asks for.
pub const MAX_GAP_PAGE: u64 = 1000;

/// One page of a subnet's gaps in its newest finished scan.
pub async fn gaps(db: &Db, subnet_id: i32, query: &GapQuery) -> Result<GapPage, StorageError> {
    let Some(scan) = crate::scans::latest_done_for_subnet(db, subnet_id).await? else {
        return Ok(GapPage {
            scan_id: None,
            total: 0,
            rows: Vec::new(),
        });
    };
    let mut select = host_result::Entity::find()
        .filter(host_result::Column::ScanId.eq(scan.id))
        .filter(host_result::Column::Verdict.is_in(query.verdicts.iter().map(|v| v.as_str())));
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = search.replace(['%', '_', '\\'], "");
        select = select.filter(
            Condition::any()
                .add(host_result::Column::Address.starts_with(&pattern))
                .add(
                    Expr::expr(Func::lower(Expr::col(host_result::Column::DnsName)))
                        .like(format!("%{}%", pattern.to_lowercase())),
                ),
        );
    }
    if let Some(class) = &query.device_class {
        select = select.filter(host_result::Column::DeviceClass.eq(class.as_str()));
    }
    if let Some(status) = query.remediation {
        select = select.filter(
            host_result::Column::Address.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(host::Column::Address)
                    .from(host::Entity)
                    .and_where(host::Column::RemediationStatus.eq(status.as_str()))
                    .to_owned(),
            ),
        );
    }
    let total = select.clone().count(db.conn()).await?;
    let order = if query.descending {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    select = match query.sort {
        GapSort::Address => select.order_by(host_result::Column::SortKey, order),
        GapSort::DnsName => select
            .order_by(host_result::Column::DnsName, order.clone())
            .order_by_asc(host_result::Column::SortKey),
        GapSort::DeviceClass => select
            .order_by(host_result::Column::DeviceClass, order.clone())
            .order_by_asc(host_result::Column::SortKey),
    };
    let results = select
        .limit(query.limit.clamp(1, MAX_GAP_PAGE))
        .offset(query.offset)
        .all(db.conn())
        .await?;
    let status: HashMap<String, Option<String>> = host::Entity::find()
        .select_only()
        .column(host::Column::Address)
        .column(host::Column::RemediationStatus)
        .filter(host::Column::Address.is_in(results.iter().map(|r| r.address.clone())))
        .into_tuple::<(String, Option<String>)>()
        .all(db.conn())
        .await?
        .into_iter()
        .collect();
    let rows = results
        .into_iter()
        .map(|result| GapRow {
            remediation: status.get(&result.address).cloned().flatten(),
            result,
        })
        .collect();
    Ok(GapPage {
        scan_id: Some(scan.id),
        total,
        rows,
    })
}

/// One entry of a host's history: what a scan found and when it finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostHistoryEntry {
    pub result: host_result::Model,
    pub scan_finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the newest `limit` scans found at one address, newest first.
pub async fn host_history(
    db: &Db,
    address: &str,
    limit: u64,
) -> Result<Vec<HostHistoryEntry>, StorageError> {
    let results = host_result::Entity::find()
        .filter(host_result::Column::Address.eq(address))
        .order_by_desc(host_result::Column::ScanId)
        .limit(limit)
        .all(db.conn())
        .await?;
    let finished: HashMap<i32, Option<chrono::DateTime<chrono::Utc>>> = scan_job::Entity::find()
        .select_only()
        .column(scan_job::Column::Id)
        .column(scan_job::Column::FinishedAt)
        .filter(scan_job::Column::Id.is_in(results.iter().map(|r| r.scan_id)))
        .into_tuple::<(i32, Option<chrono::DateTime<chrono::Utc>>)>()
        .all(db.conn())
        .await?
        .into_iter()
        .collect();
    Ok(results
        .into_iter()
        .map(|result| HostHistoryEntry {
            scan_finished_at: finished.get(&result.scan_id).copied().flatten(),
            result,
        })
        .collect())
}

/// The estate's compliance after each of the newest `limit` finished scans,
/// oldest first: every point sums each subnet's newest scan up to that one,
/// so a scan of one subnet moves the line only by what that subnet changed.
pub async fn overall_trend(db: &Db, limit: u64) -> Result<Vec<TrendPoint>, StorageError> {
    let mut window = subnet_scan_stat::Entity::find()
        .order_by_desc(subnet_scan_stat::Column::ScanId)
        .limit(limit)
        .all(db.conn())
        .await?;
    window.reverse();
    let Some(first) = window.first() else {
        return Ok(Vec::new());
    };
    // Where each subnet stood before the window starts.
    let before: Vec<i32> = subnet_scan_stat::Entity::find()
        .select_only()
        .column_as(subnet_scan_stat::Column::ScanId.max(), "scan_id")
        .filter(subnet_scan_stat::Column::ScanId.lt(first.scan_id))
        .group_by(subnet_scan_stat::Column::SubnetId)
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut standing: HashMap<i32, Coverage> = HashMap::new();
    for chunk in before.chunks(1000) {
        for row in subnet_scan_stat::Entity::find()
            .filter(subnet_scan_stat::Column::ScanId.is_in(chunk.iter().copied()))
            .all(db.conn())
            .await?
        {
            standing.insert(row.subnet_id, Coverage::from(&row));
        }
    }
    let mut points = Vec::with_capacity(window.len());
    for row in &window {
        standing.insert(row.subnet_id, Coverage::from(row));
        let mut total = Coverage::default();
        for c in standing.values() {
            total.protected += c.protected;
            total.unprotected += c.unprotected;
            total.unknown += c.unknown;
            total.out_of_scope += c.out_of_scope;
            total.down += c.down;
        }
        points.push(TrendPoint {
            scan_id: row.scan_id,
            finished_at: row.finished_at,
            coverage: total,
        });
    }
    Ok(points)
}

/// The estate's coverage right after one scan finished.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    pub scan_id: i32,
    pub finished_at: chrono::DateTime<chrono::Utc>,
    pub coverage: Coverage,
}

/// Hosts unprotected in their subnet's newest finished scan that were not
/// unprotected in the scan before it, across every subnet, at most `limit`.
pub async fn newly_unprotected_everywhere(
    db: &Db,
    limit: usize,
) -> Result<Vec<host_result::Model>, StorageError> {
    let mut found = Vec::new();
    for row in latest_per_subnet(db).await? {
        if row.newly_unprotected == 0 {
            continue;
        }
        found.extend(crate::scans::newly_unprotected(db, row.scan_id).await?);
        if found.len() >= limit {
            break;
        }
    }
    found.truncate(limit);
    Ok(found)
}

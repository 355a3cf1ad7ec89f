use sea_orm::entity::prelude::*;

/// An address as a stable identity across scans, with its remediation status.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hosts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub address: String,
    pub sort_key: String,
    pub subnet_id: Option<i32>,
    pub dns_name: Option<String>,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub first_scan_id: i32,
    pub last_scan_id: i32,
    /// The verdict of the newest finished scan that saw the host up.
    pub last_verdict: String,
    /// One of [`crate::hosts::Remediation`]'s strings; `None` while never unprotected.
    pub remediation_status: Option<String>,
    pub remediation_note: Option<String>,
    pub remediation_by: Option<String>,
    pub remediation_changed_at: Option<DateTimeUtc>,
    /// The scan that verified the fix.
    pub fixed_scan_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

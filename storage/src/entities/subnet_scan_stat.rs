use sea_orm::entity::prelude::*;

/// Verdict counts of one finished scan of one subnet: written once when the
/// scan ends, read by dashboards and trend charts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subnet_scan_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub scan_id: i32,
    pub subnet_id: i32,
    pub finished_at: DateTimeUtc,
    pub protected: i32,
    pub unprotected: i32,
    pub unknown: i32,
    pub out_of_scope: i32,
    pub down: i32,
    /// Unprotected now but not in the subnet's previous finished scan.
    pub newly_unprotected: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// A cron schedule that scans a group of subnets.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    /// Five-field cron expression, e.g. "0 2 * * *".
    pub cron: String,
    /// IANA time zone the expression is read in, e.g. "Europe/Berlin".
    pub timezone: String,
    pub enabled: bool,
    /// The newest slot that has been run (or skipped as a duplicate).
    pub last_slot_at: Option<DateTimeUtc>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// A site's own ports for a profile whose port is chosen at install (OfficeScan).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "site_profile_ports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub site_id: i32,
    pub profile_id: i32,
    /// Comma-separated TCP ports.
    pub ports: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

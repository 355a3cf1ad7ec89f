use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vendor_profiles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub key: String,
    pub vendor: String,
    pub product: String,
    /// Comma-separated TCP ports.
    pub ports: String,
    pub banner_regex: Option<String>,
    pub listens_on_nothing: bool,
    pub port_configurable: bool,
    pub builtin: bool,
    pub enabled: bool,
    pub notes: String,
    /// Bytes sent after connecting to make the agent answer, hex-encoded.
    pub probe_hex: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

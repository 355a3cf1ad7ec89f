use sea_orm::entity::prelude::*;

/// A person's correction of what a scan concluded about one address.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "host_overrides")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub address: String,
    /// Replaces the device class the scanner guessed.
    pub device_class: Option<String>,
    /// Takes the host out of the compliance count whatever it runs.
    pub out_of_scope: bool,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

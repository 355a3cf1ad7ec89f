use sea_orm::entity::prelude::*;

/// One entry of the append-only audit log (the database refuses updates and deletes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor: String,
    /// What happened, e.g. "subnet.create", "override.set".
    pub action: String,
    /// What it happened to, e.g. "subnet:3", "host:10.0.0.5".
    pub subject: String,
    pub detail: Json,
    /// Where the request came from (client address), when a person or token did it.
    pub source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

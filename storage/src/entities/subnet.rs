use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subnets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub cidr: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub site_id: Option<i32>,
    /// Comma-separated labels, e.g. "finance,floor-2".
    pub tags: String,
    /// Who to call about this subnet's unprotected hosts.
    pub owner_contact: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::scan_job::Entity")]
    ScanJob,
}

impl Related<super::scan_job::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ScanJob.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "host_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub scan_id: i32,
    pub address: String,
    /// 32 hex digits of the IPv6(-mapped) address: sorts numerically as text.
    pub sort_key: String,
    pub position: i64,
    pub host_state: String,
    pub host_reason: String,
    pub device_class: String,
    pub device_confidence: i16,
    /// JSON array of strings: why the device class was chosen.
    pub device_evidence: Json,
    /// JSON array of [`crate::coverage::ObservedPort`].
    pub ports: Json,
    /// One of [`crate::coverage::Verdict`]'s strings.
    pub verdict: String,
    pub matched_profile: Option<String>,
    /// Reverse-DNS name of the address, when one was found.
    pub dns_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::scan_job::Entity",
        from = "Column::ScanId",
        to = "super::scan_job::Column::Id",
        on_delete = "Cascade"
    )]
    ScanJob,
}

impl Related<super::scan_job::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ScanJob.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scan_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub subnet_id: i32,
    /// One of [`crate::scans::JobStatus`]'s strings.
    pub status: String,
    pub targets: String,
    /// Comma-separated TCP ports probed on every host.
    pub ports: String,
    pub skip_discovery: bool,
    /// nmap timing template name, e.g. "T4".
    pub timing: String,
    pub seed: i64,
    /// Every permutation position below this one has its result stored.
    pub resume_position: i64,
    pub total_addresses: i64,
    pub done_addresses: i64,
    pub hosts_up: i32,
    pub protected: i32,
    pub unprotected: i32,
    pub unknown: i32,
    pub out_of_scope: i32,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// Who asked for the scan: a person's name or "schedule:<name>".
    pub requested_by: String,
    pub schedule_id: Option<i32>,
    /// Comma-separated excluded blocks inside the targets, fixed when queued
    /// so a resumed scan walks the same permutation.
    pub excludes: String,
    /// Comma-separated vendor profile keys the scan checks; empty = every
    /// profile enabled when it runs.
    pub profile_keys: String,
    /// Probes per second this scan may send at most; `None` = the server's default.
    pub max_rate: Option<i32>,
    /// "scan" (avsweep probed the network) or "import" (an nmap XML file).
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::subnet::Entity",
        from = "Column::SubnetId",
        to = "super::subnet::Column::Id",
        on_delete = "Cascade"
    )]
    Subnet,
    #[sea_orm(has_many = "super::host_result::Entity")]
    HostResult,
}

impl Related<super::subnet::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Subnet.def()
    }
}

impl Related<super::host_result::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::HostResult.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

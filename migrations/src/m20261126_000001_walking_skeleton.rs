//! Subnets, vendor profiles, scan jobs and per-host scan results.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Subnets::Table)
                    .if_not_exists()
                    .col(pk_auto(Subnets::Id))
                    .col(string_uniq(Subnets::Cidr))
                    .col(string(Subnets::Name))
                    .col(boolean(Subnets::Enabled).default(true))
                    .col(timestamp_with_time_zone(Subnets::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VendorProfiles::Table)
                    .if_not_exists()
                    .col(pk_auto(VendorProfiles::Id))
                    .col(string_uniq(VendorProfiles::Key))
                    .col(string(VendorProfiles::Vendor))
                    .col(string(VendorProfiles::Product))
                    // Comma-separated TCP ports, e.g. "8192,8193,8194".
                    .col(string(VendorProfiles::Ports))
                    .col(text_null(VendorProfiles::BannerRegex))
                    .col(boolean(VendorProfiles::ListensOnNothing).default(false))
                    .col(boolean(VendorProfiles::PortConfigurable).default(false))
                    .col(boolean(VendorProfiles::Builtin).default(false))
                    .col(boolean(VendorProfiles::Enabled).default(true))
                    .col(text(VendorProfiles::Notes))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScanJobs::Table)
                    .if_not_exists()
                    .col(pk_auto(ScanJobs::Id))
                    .col(integer(ScanJobs::SubnetId))
                    .col(string(ScanJobs::Status))
                    .col(string(ScanJobs::Targets))
                    .col(string(ScanJobs::Ports))
                    .col(boolean(ScanJobs::SkipDiscovery).default(false))
                    .col(string(ScanJobs::Timing))
                    .col(big_integer(ScanJobs::Seed))
                    .col(big_integer(ScanJobs::ResumePosition).default(0))
                    .col(big_integer(ScanJobs::TotalAddresses).default(0))
                    .col(big_integer(ScanJobs::DoneAddresses).default(0))
                    .col(integer(ScanJobs::HostsUp).default(0))
                    .col(integer(ScanJobs::Protected).default(0))
                    .col(integer(ScanJobs::Unprotected).default(0))
                    .col(integer(ScanJobs::Unknown).default(0))
                    .col(integer(ScanJobs::OutOfScope).default(0))
                    .col(text_null(ScanJobs::Error))
                    .col(timestamp_with_time_zone(ScanJobs::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScanJobs::StartedAt))
                    .col(timestamp_with_time_zone_null(ScanJobs::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScanJobs::Table, ScanJobs::SubnetId)
                            .to(Subnets::Table, Subnets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scan_jobs_subnet_created")
                    .table(ScanJobs::Table)
                    .col(ScanJobs::SubnetId)
                    .col(ScanJobs::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scan_jobs_status")
                    .table(ScanJobs::Table)
                    .col(ScanJobs::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HostResults::Table)
                    .if_not_exists()
                    .col(pk_auto(HostResults::Id))
                    .col(integer(HostResults::ScanId))
                    .col(string(HostResults::Address))
                    // Sorts addresses numerically as text: 32 hex digits of the IPv6(-mapped) address.
                    .col(string(HostResults::SortKey))
                    .col(big_integer(HostResults::Position))
                    .col(string(HostResults::HostState))
                    .col(string(HostResults::HostReason))
                    .col(string(HostResults::DeviceClass))
                    .col(small_integer(HostResults::DeviceConfidence))
                    .col(json(HostResults::DeviceEvidence))
                    .col(json(HostResults::Ports))
                    .col(string(HostResults::Verdict))
                    .col(string_null(HostResults::MatchedProfile))
                    .foreign_key(
                        ForeignKey::create()
                            .from(HostResults::Table, HostResults::ScanId)
                            .to(ScanJobs::Table, ScanJobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One row per address per scan: a resumed scan re-reporting an address is a no-op.
        manager
            .create_index(
                Index::create()
                    .name("uq_host_results_scan_address")
                    .table(HostResults::Table)
                    .col(HostResults::ScanId)
                    .col(HostResults::Address)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_host_results_scan_verdict")
                    .table(HostResults::Table)
                    .col(HostResults::ScanId)
                    .col(HostResults::Verdict)
                    .col(HostResults::SortKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            HostResults::Table.into_iden(),
            ScanJobs::Table.into_iden(),
            VendorProfiles::Table.into_iden(),
            Subnets::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Subnets {
    Table,
    Id,
    Cidr,
    Name,
    Enabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VendorProfiles {
    Table,
    Id,
    Key,
    Vendor,
    Product,
    Ports,
    BannerRegex,
    ListensOnNothing,
    PortConfigurable,
    Builtin,
    Enabled,
    Notes,
}

#[derive(DeriveIden)]
enum ScanJobs {
    Table,
    Id,
    SubnetId,
    Status,
    Targets,
    Ports,
    SkipDiscovery,
    Timing,
    Seed,
    ResumePosition,
    TotalAddresses,
    DoneAddresses,
    HostsUp,
    Protected,
    Unprotected,
    Unknown,
    OutOfScope,
    Error,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum HostResults {
    Table,
    Id,
    ScanId,
    Address,
    SortKey,
    Position,
    HostState,
    HostReason,
    DeviceClass,
    DeviceConfidence,
    DeviceEvidence,
    Ports,
    Verdict,
    MatchedProfile,
}

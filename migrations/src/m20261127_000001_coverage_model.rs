//! The coverage model: sites, richer subnets, exclusions, per-site profile
//! ports, hosts as stable identities with remediation status, overrides,
//! per-scan compliance aggregates, schedules and an append-only audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sites::Table)
                    .if_not_exists()
                    .col(pk_auto(Sites::Id))
                    .col(string_uniq(Sites::Name))
                    .col(text(Sites::Notes).default(""))
                    .col(timestamp_with_time_zone(Sites::CreatedAt))
                    .to_owned(),
            )
            .await?;

        // SQLite alters one column per statement.
        for column in [
            integer_null(Subnets::SiteId),
            string(Subnets::Tags).default("").to_owned(),
            string_null(Subnets::OwnerContact),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Subnets::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_subnets_site")
                    .table(Subnets::Table)
                    .col(Subnets::SiteId)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(VendorProfiles::Table)
                    .add_column(text_null(VendorProfiles::ProbeHex))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SiteProfilePorts::Table)
                    .if_not_exists()
                    .col(pk_auto(SiteProfilePorts::Id))
                    .col(integer(SiteProfilePorts::SiteId))
                    .col(integer(SiteProfilePorts::ProfileId))
                    .col(string(SiteProfilePorts::Ports))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SiteProfilePorts::Table, SiteProfilePorts::SiteId)
                            .to(Sites::Table, Sites::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SiteProfilePorts::Table, SiteProfilePorts::ProfileId)
                            .to(VendorProfiles::Table, VendorProfiles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_site_profile_ports")
                    .table(SiteProfilePorts::Table)
                    .col(SiteProfilePorts::SiteId)
                    .col(SiteProfilePorts::ProfileId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Exclusions::Table)
                    .if_not_exists()
                    .col(pk_auto(Exclusions::Id))
                    .col(string_uniq(Exclusions::Cidr))
                    .col(text(Exclusions::Reason))
                    .col(string(Exclusions::CreatedBy))
                    .col(timestamp_with_time_zone(Exclusions::CreatedAt))
                    .to_owned(),
            )
            .await?;

        for column in [
            string(ScanJobs::RequestedBy).default("").to_owned(),
            integer_null(ScanJobs::ScheduleId),
            // Exclusions in force when the scan was queued: fixed for the job's
            // life so a resumed scan walks the same permutation.
            text(ScanJobs::Excludes).default("").to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ScanJobs::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_scan_jobs_schedule_status")
                    .table(ScanJobs::Table)
                    .col(ScanJobs::ScheduleId)
                    .col(ScanJobs::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(HostResults::Table)
                    .add_column(string_null(HostResults::DnsName))
                    .to_owned(),
            )
            .await?;
        // A host's history: every result for one address, newest scan first.
        manager
            .create_index(
                Index::create()
                    .name("idx_host_results_address_scan")
                    .table(HostResults::Table)
                    .col(HostResults::Address)
                    .col(HostResults::ScanId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Hosts::Table)
                    .if_not_exists()
                    .col(pk_auto(Hosts::Id))
                    .col(string_uniq(Hosts::Address))
                    .col(string(Hosts::SortKey))
                    .col(integer_null(Hosts::SubnetId))
                    .col(string_null(Hosts::DnsName))
                    .col(timestamp_with_time_zone(Hosts::FirstSeenAt))
                    .col(timestamp_with_time_zone(Hosts::LastSeenAt))
                    .col(integer(Hosts::FirstScanId))
                    .col(integer(Hosts::LastScanId))
                    .col(string(Hosts::LastVerdict))
                    .col(string_null(Hosts::RemediationStatus))
                    .col(text_null(Hosts::RemediationNote))
                    .col(string_null(Hosts::RemediationBy))
                    .col(timestamp_with_time_zone_null(Hosts::RemediationChangedAt))
                    .col(integer_null(Hosts::FixedScanId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_hosts_subnet_verdict")
                    .table(Hosts::Table)
                    .col(Hosts::SubnetId)
                    .col(Hosts::LastVerdict)
                    .col(Hosts::SortKey)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HostOverrides::Table)
                    .if_not_exists()
                    .col(pk_auto(HostOverrides::Id))
                    .col(string_uniq(HostOverrides::Address))
                    .col(string_null(HostOverrides::DeviceClass))
                    .col(boolean(HostOverrides::OutOfScope).default(false))
                    .col(text(HostOverrides::Reason))
                    .col(string(HostOverrides::CreatedBy))
                    .col(timestamp_with_time_zone(HostOverrides::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SubnetScanStats::Table)
                    .if_not_exists()
                    .col(integer(SubnetScanStats::ScanId).primary_key())
                    .col(integer(SubnetScanStats::SubnetId))
                    .col(timestamp_with_time_zone(SubnetScanStats::FinishedAt))
                    .col(integer(SubnetScanStats::Protected))
                    .col(integer(SubnetScanStats::Unprotected))
                    .col(integer(SubnetScanStats::Unknown))
                    .col(integer(SubnetScanStats::OutOfScope))
                    .col(integer(SubnetScanStats::Down))
                    .col(integer(SubnetScanStats::NewlyUnprotected))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SubnetScanStats::Table, SubnetScanStats::ScanId)
                            .to(ScanJobs::Table, ScanJobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subnet_scan_stats_subnet_scan")
                    .table(SubnetScanStats::Table)
                    .col(SubnetScanStats::SubnetId)
                    .col(SubnetScanStats::ScanId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Schedules::Table)
                    .if_not_exists()
                    .col(pk_auto(Schedules::Id))
                    .col(string_uniq(Schedules::Name))
                    .col(string(Schedules::Cron))
                    .col(string(Schedules::Timezone))
                    .col(boolean(Schedules::Enabled).default(true))
                    .col(timestamp_with_time_zone_null(Schedules::LastSlotAt))
                    .col(string(Schedules::CreatedBy))
                    .col(timestamp_with_time_zone(Schedules::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScheduleSubnets::Table)
                    .if_not_exists()
                    .col(pk_auto(ScheduleSubnets::Id))
                    .col(integer(ScheduleSubnets::ScheduleId))
                    .col(integer(ScheduleSubnets::SubnetId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScheduleSubnets::Table, ScheduleSubnets::ScheduleId)
                            .to(Schedules::Table, Schedules::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScheduleSubnets::Table, ScheduleSubnets::SubnetId)
                            .to(Subnets::Table, Subnets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_schedule_subnets")
                    .table(ScheduleSubnets::Table)
                    .col(ScheduleSubnets::ScheduleId)
                    .col(ScheduleSubnets::SubnetId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::Subject))
                    .col(json(AuditLog::Detail))
                    .to_owned(),
            )
            .await?;
        // Append-only: the database itself refuses to change or delete history.
        let db = manager.get_connection();
        use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger AS $$
                     BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;
                     CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                     FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            ScheduleSubnets::Table.into_iden(),
            Schedules::Table.into_iden(),
            SubnetScanStats::Table.into_iden(),
            HostOverrides::Table.into_iden(),
            Hosts::Table.into_iden(),
            Exclusions::Table.into_iden(),
            SiteProfilePorts::Table.into_iden(),
            Sites::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
    Name,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Subnets {
    Table,
    Id,
    SiteId,
    Tags,
    OwnerContact,
}

#[derive(DeriveIden)]
enum VendorProfiles {
    Table,
    Id,
    ProbeHex,
}

#[derive(DeriveIden)]
enum SiteProfilePorts {
    Table,
    Id,
    SiteId,
    ProfileId,
    Ports,
}

#[derive(DeriveIden)]
enum Exclusions {
    Table,
    Id,
    Cidr,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScanJobs {
    Table,
    Id,
    Status,
    RequestedBy,
    ScheduleId,
    Excludes,
}

#[derive(DeriveIden)]
enum HostResults {
    Table,
    ScanId,
    Address,
    DnsName,
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
    Address,
    SortKey,
    SubnetId,
    DnsName,
    FirstSeenAt,
    LastSeenAt,
    FirstScanId,
    LastScanId,
    LastVerdict,
    RemediationStatus,
    RemediationNote,
    RemediationBy,
    RemediationChangedAt,
    FixedScanId,
}

#[derive(DeriveIden)]
enum HostOverrides {
    Table,
    Id,
    Address,
    DeviceClass,
    OutOfScope,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SubnetScanStats {
    Table,
    ScanId,
    SubnetId,
    FinishedAt,
    Protected,
    Unprotected,
    Unknown,
    OutOfScope,
    Down,
    NewlyUnprotected,
}

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    Name,
    Cron,
    Timezone,
    Enabled,
    LastSlotAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScheduleSubnets {
    Table,
    Id,
    ScheduleId,
    SubnetId,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    Subject,
    Detail,
}

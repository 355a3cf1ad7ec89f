//! Scans started from the Scans page choose their vendor profiles: the job
//! keeps the chosen profile keys so the worker judges hosts by exactly those.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScanJobs::Table)
                    // Comma-separated profile keys; empty = every enabled profile.
                    .add_column(text(ScanJobs::ProfileKeys).default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScanJobs::Table)
                    .drop_column(ScanJobs::ProfileKeys)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ScanJobs {
    Table,
    ProfileKeys,
}

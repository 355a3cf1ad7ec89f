//! Scope guard and import: a per-job probe rate limit, and where a scan's
//! results came from (a scan avsweep ran, or an imported nmap XML file).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            integer_null(ScanJobs::MaxRate),
            string(ScanJobs::Source).default("scan").to_owned(),
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ScanJobs::Source, ScanJobs::MaxRate] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ScanJobs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ScanJobs {
    Table,
    MaxRate,
    Source,
}

//! Schema migrations for avsweep. Run at server start on SQLite and Postgres alike.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_walking_skeleton;
mod m20261127_000001_coverage_model;
mod m20261128_000001_accounts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_walking_skeleton::Migration),
            Box::new(m20261127_000001_coverage_model::Migration),
            Box::new(m20261128_000001_accounts::Migration),
        ]
    }
}

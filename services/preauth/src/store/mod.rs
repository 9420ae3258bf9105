//! The service's own database: schema (migrations), entities and queries.

pub mod entities;
mod migrations;
pub mod queries;

use ayushman_platform::lifecycle::HistoryTable;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every status change of a preauth, never updated or deleted.
pub const PREAUTH_HISTORY: HistoryTable = HistoryTable {
    table: "preauth_history",
    key: &["preauth_id"],
};

/// Every migration of this service's database, oldest first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ayushman_platform::db::idempotency::Migration),
            Box::new(migrations::m0001_preauth::Migration),
            Box::new(migrations::m0002_record_indexes::Migration),
            Box::new(migrations::m0003_payer_rules::Migration),
            Box::new(migrations::m0004_saga_index::Migration),
            Box::new(migrations::m0005_facility_days::Migration),
            Box::new(migrations::m0006_facility_day_shards::Migration),
        ]
    }
}

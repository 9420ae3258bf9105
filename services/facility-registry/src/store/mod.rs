//! The registry's own database: schema (migrations), entities and queries.

pub mod entities;
mod migrations;
pub mod queries;

use ayushman_platform::lifecycle::HistoryTable;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every status change of an empanelment, never updated or deleted.
pub const EMPANELMENT_HISTORY: HistoryTable = HistoryTable {
    table: "empanelment_history",
    key: &["hfr_id", "scheme_code"],
};

/// Every migration of this service's database, oldest first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ayushman_platform::db::idempotency::Migration),
            Box::new(migrations::m0001_registry::Migration),
            Box::new(migrations::m0002_unique_opd_tokens::Migration),
            EMPANELMENT_HISTORY.index_migration(),
            Box::new(migrations::m0003_registry_checks::Migration),
        ]
    }
}

//! The service's own database: schema (migrations), entities and queries.

pub mod entities;
mod migrations;
pub mod queries;

use ayushman_platform::lifecycle::HistoryTable;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every status change of an agreement, never updated or deleted.
pub const AGREEMENT_HISTORY: HistoryTable = HistoryTable {
    table: "agreement_history",
    key: &["agreement_id"],
};

/// Every migration of this service's database, oldest first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ayushman_platform::db::idempotency::Migration),
            Box::new(migrations::m0001_portability::Migration),
            AGREEMENT_HISTORY.index_migration(),
            Box::new(migrations::m0002_no_interstate_debt::Migration),
        ]
    }
}

//! The service's own database: schema (migrations), entities and queries.

pub mod entities;
mod migrations;
pub mod queries;

use ayushman_platform::lifecycle::HistoryTable;
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every status change of a claim, never updated or deleted.
pub const CLAIM_HISTORY: HistoryTable = HistoryTable {
    table: "claim_history",
    key: &["claim_id"],
};

/// Every migration of this service's database, oldest first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ayushman_platform::db::idempotency::Migration),
            Box::new(migrations::m0001_claims::Migration),
            Box::new(migrations::m0002_money_state::Migration),
            Box::new(migrations::m0003_turnaround_and_specialty::Migration),
        ]
    }
}

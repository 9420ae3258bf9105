//! The registry's own database: schema (migrations), entities and queries.

pub mod entities;
mod migrations;
pub mod queries;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of this service's database, oldest first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ayushman_platform::db::idempotency::Migration),
            Box::new(migrations::m0001_registry::Migration),
            Box::new(migrations::m0002_name_search::Migration),
            Box::new(migrations::m0003_schemes_and_holds::Migration),
            Box::new(migrations::m0004_wallet_per_holder::Migration),
            Box::new(migrations::m0005_card_drives::Migration),
        ]
    }
}

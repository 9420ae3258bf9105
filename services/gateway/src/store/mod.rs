//! The service's own database schema (migrations) and queries.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of this service's database, oldest first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(ayushman_platform::db::idempotency::Migration)]
    }
}

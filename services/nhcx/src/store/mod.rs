//! The service's own database: participants, every message exchanged, the
//! mesh cases the hospitals are waiting to hear about, and (on a laptop) the
//! mesh's generated key.

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
            Box::new(migrations::m0001_nhcx::Migration),
        ]
    }
}

//! The gateway's own database: partners with their users, hashed API keys,
//! client certificates, and the audit log.

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
            Box::new(migrations::m0001_gateway::Migration),
            Box::new(migrations::m0002_users_and_bindings::Migration),
        ]
    }
}

//! Facility registry: HFR facilities, HPR professionals, scheme empanelment and OPD
//! registrations by ABHA Scan & Share (DESIGN §3, §4 Identity).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`router`] with a
//! database of their own and serve it on port 0.

pub mod api;
pub mod config;
pub mod registry;
pub mod rules;
pub mod store;

use std::sync::Arc;

use ayushman_platform::{MeshService, config::Settings, db, db::idempotency::Idempotency};
use ayushman_proto::facility::v1::facility_registry_service_server::FacilityRegistryServiceServer;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::FacilityRegistry;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Keys mutating requests to their first reply.
    pub idempotency: Idempotency,
    /// ABDM's registries, asked before a facility or professional is registered.
    pub abdm: Arc<dyn ayushman_abdm::Registries>,
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
}

/// Why the registry could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("{0}")]
    Config(#[from] ayushman_platform::config::ConfigError),
}

/// Connects to and migrates the database, then builds the routes with the
/// ABDM provider the configuration chooses.
pub async fn build(settings: Settings<config::FacilitySettings>) -> Result<Routes, BuildError> {
    let abdm = settings.service.abdm.registries(settings.env)?;
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    Ok(router(AppState {
        db,
        idempotency: settings.database.idempotency(),
        abdm,
        max_message_bytes: settings.server.max_message_bytes,
    }))
}

/// The service's gRPC routes; the platform adds health and reflection.
pub fn router(state: AppState) -> Routes {
    let limit = state.max_message_bytes;
    Routes::new(
        FacilityRegistryServiceServer::new(api::FacilityRegistryApi { state })
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    )
}

//! Portability: inter-state agreements, case routing with the rate rule, and the
//! inter-state settlement ledger with monthly netting (DESIGN §3, §4 Portability).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`router`] with a
//! database and facility directory of their own and serve it on port 0.

pub mod agreements;
pub mod api;
pub mod facility;
pub mod routing;
pub mod rules;
pub mod store;

use ayushman_platform::{MeshService, client, config::Settings, db, db::idempotency::Idempotency};
use ayushman_proto::portability::v1::portability_service_server::PortabilityServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::Portability;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Keys mutating requests to their first reply.
    pub idempotency: Idempotency,
    /// The facility registry, asked where a facility is and whether it is empanelled.
    pub facilities: facility::FacilityDirectory,
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
}

/// Why the service could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// A peer address is not usable.
    #[error("{0}")]
    Config(#[from] ayushman_platform::config::ConfigError),
}

/// Connects to and migrates the database, connects (lazily) to the facility
/// registry, then builds the routes.
pub async fn build(settings: Settings) -> Result<Routes, BuildError> {
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    let facilities = facility::FacilityDirectory::new(client::peer_channel(
        &settings,
        MeshService::FacilityRegistry,
    )?);
    Ok(router(AppState {
        db,
        idempotency: settings.database.idempotency(),
        facilities,
        max_message_bytes: settings.server.max_message_bytes,
    }))
}

/// The service's gRPC routes; the platform adds health and reflection.
pub fn router(state: AppState) -> Routes {
    let limit = state.max_message_bytes;
    Routes::new(
        PortabilityServiceServer::new(api::PortabilityApi { state })
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    )
}

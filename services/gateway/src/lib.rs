//! Partner gateway: the only way into the mesh from outside — partners, API keys,
//! scopes, state scoping, rate limits and audit (DESIGN §6).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`router`] with a
//! database of their own and serve it on port 0.

pub mod api;
pub mod store;

use ayushman_platform::{MeshService, config::Settings, db};
use ayushman_proto::gateway::v1::gateway_admin_service_server::GatewayAdminServiceServer;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::Gateway;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
}

/// Connects to and migrates the database, then builds the routes.
pub async fn build(settings: Settings) -> Result<Routes, DbErr> {
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    Ok(router(AppState {
        db,
        max_message_bytes: settings.server.max_message_bytes,
    }))
}

/// The service's gRPC routes; the platform adds health and reflection.
pub fn router(state: AppState) -> Routes {
    let limit = state.max_message_bytes;
    Routes::new(
        GatewayAdminServiceServer::new(api::GatewayAdminApi { state })
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    )
}

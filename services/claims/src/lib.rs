//! Claims: submission after discharge, adjudication, payment batches, turnaround
//! penalties and public hospital society ledgers (DESIGN §3, §4 Claims).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`router`]
//! with a context of their own and serve it on port 0.

pub mod api;
pub mod batches;
pub mod cases;
pub mod config;
pub mod duties;
pub mod history;
pub mod peers;
pub mod report;
pub mod rules;
pub mod spend;
pub mod store;

use std::sync::Arc;

use ayushman_platform::{MeshService, client, config::Settings, db, db::idempotency::Idempotency};
use ayushman_proto::claims::v1::claims_service_server::ClaimsServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::Claims;

/// What the handlers share.
#[derive(Clone)]
pub struct Context {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Keys mutating requests to their first reply.
    pub idempotency: Idempotency,
    /// Preauth, beneficiary registry and facility registry.
    pub peers: peers::Peers,
    /// Windows, turnaround times and penalties.
    pub settings: Arc<config::ClaimsSettings>,
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

/// Connects to and migrates the database, connects (lazily) to the peers, then builds the routes.
pub async fn build(settings: Settings<config::ClaimsSettings>) -> Result<Routes, BuildError> {
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    let peers = peers::Peers::new(
        client::peer_channel(&settings, MeshService::Preauth)?,
        client::peer_channel(&settings, MeshService::BeneficiaryRegistry)?,
        client::peer_channel(&settings, MeshService::FacilityRegistry)?,
    );
    let context = Context {
        db,
        idempotency: settings.database.idempotency(),
        peers,
        settings: Arc::new(settings.service.clone()),
        max_message_bytes: settings.server.max_message_bytes,
    };
    start_background(context.clone());
    Ok(router(context))
}

/// Runs the background worker (wallet moves a decision still owes) until the process ends.
pub fn start_background(context: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = std::time::Duration::from_millis(context.settings.background_interval_ms);
        loop {
            tokio::time::sleep(interval).await;
            cases::background_pass(&context).await;
        }
    })
}

/// The service's gRPC routes; the platform adds health and reflection.
pub fn router(context: Context) -> Routes {
    let limit = context.max_message_bytes;
    Routes::new(
        ClaimsServiceServer::new(api::ClaimsApi { context })
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    )
}

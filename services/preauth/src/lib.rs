//! Pre-authorisation: the package catalogue and the preauth saga across the
//! beneficiary, facility and portability services (DESIGN §3, §4 Preauth saga).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`router`] and
//! [`start_background`] with a context of their own and serve it on port 0.

pub mod api;
pub mod catalogue;
pub mod config;
pub mod enhancements;
pub mod fraud;
pub mod lifecycle;
pub mod peers;
pub mod pricing;
pub mod saga;
pub mod store;

use std::{sync::Arc, time::Duration};

use ayushman_platform::{MeshService, client, config::Settings, db, db::idempotency::Idempotency};
use ayushman_proto::preauth::v1::preauth_service_server::PreauthServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::Preauth;

/// What the handlers and the background worker share.
#[derive(Clone)]
pub struct Context {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Keys mutating requests to their first reply.
    pub idempotency: Idempotency,
    /// The beneficiary registry, facility registry and portability service.
    pub peers: peers::Peers,
    /// The package catalogue, served from memory.
    pub packages: catalogue::PackageBook,
    /// Turnaround, fraud and background settings.
    pub settings: Arc<config::PreauthSettings>,
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

/// Connects to and migrates the database, connects (lazily) to the three
/// peers, starts the background worker, then builds the routes.
pub async fn build(settings: Settings<config::PreauthSettings>) -> Result<Routes, BuildError> {
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    let peers = peers::Peers::new(
        client::peer_channel(&settings, MeshService::BeneficiaryRegistry)?,
        client::peer_channel(&settings, MeshService::FacilityRegistry)?,
        client::peer_channel(&settings, MeshService::Portability)?,
    );
    let context = Context {
        db,
        idempotency: settings.database.idempotency(),
        peers,
        packages: catalogue::PackageBook::new(Duration::from_secs(
            settings.service.package_refresh_seconds,
        )),
        settings: Arc::new(settings.service.clone()),
        max_message_bytes: settings.server.max_message_bytes,
    };
    start_background(context.clone());
    Ok(router(context))
}

/// Runs the background worker (resume sagas, retry releases, deemed approval) until the process ends.
pub fn start_background(context: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = Duration::from_millis(context.settings.background_interval_ms);
        loop {
            tokio::time::sleep(interval).await;
            lifecycle::background_pass(&context).await;
        }
    })
}

/// The service's gRPC routes; the platform adds health and reflection.
pub fn router(context: Context) -> Routes {
    let limit = context.max_message_bytes;
    Routes::new(
        PreauthServiceServer::new(api::PreauthApi { context })
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    )
}

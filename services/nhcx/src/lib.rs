//! NHCX: the mesh as a participant of the National Health Claims Exchange.
//! Hospitals send eligibility checks, preauths and claims as FHIR R4B bundles
//! in JWE envelopes to the HCX protocol's HTTP endpoints ([`inbound`]); the
//! mesh acts on them through its own services, as that hospital
//! ([`process`], [`peers`]), and answers with callbacks ([`delivery`]) —
//! at once, and again when a reviewer decides, a claim is adjudicated or
//! paid ([`follow`]). Participants are managed over gRPC ([`api`]).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`app`]
//! with a database and peers of their own and serve it on port 0.

pub mod answers;
pub mod api;
pub mod config;
pub mod delivery;
pub mod exchanges;
pub mod fhir;
pub mod follow;
pub mod inbound;
pub mod keys;
pub mod participants;
pub mod peers;
pub mod process;
pub mod protocol;
pub mod store;

use std::{sync::Arc, time::Duration};

use ayushman_platform::{
    MeshService, caller::IdentityKey, client, config::Settings, db, db::idempotency::Idempotency,
    server::App,
};
use ayushman_proto::nhcx::v1::nhcx_service_server::NhcxServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::Nhcx;

/// What the handlers and the background worker share.
#[derive(Clone)]
pub struct Context {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Keys mutating gRPC requests to their first reply.
    pub idempotency: Idempotency,
    /// The mesh services, called as a hospital.
    pub peers: peers::Peers,
    /// The mesh's key pair.
    pub keys: keys::MeshKeys,
    /// Participant code, prefix, retry policy.
    pub settings: Arc<config::NhcxSettings>,
    /// Calls participants' endpoints.
    pub http: reqwest::Client,
    /// Largest gRPC message accepted or sent, in bytes.
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
    /// The mesh's key is not usable.
    #[error("{0}")]
    Key(#[from] keys::KeyError),
}

/// Connects to and migrates the database, loads the mesh's key, connects
/// (lazily) to the peers, starts the background worker, then builds the app.
pub async fn build(settings: Settings<config::NhcxSettings>) -> Result<App, BuildError> {
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    let keys = keys::MeshKeys::load(
        settings.service.private_key_pem.as_ref(),
        &settings.service.participant_code,
        &db,
    )
    .await?;
    let peers = peers::Peers::new(
        client::peer_channel(&settings, MeshService::BeneficiaryRegistry)?,
        client::peer_channel(&settings, MeshService::Preauth)?,
        client::peer_channel(&settings, MeshService::Claims)?,
        IdentityKey::new(settings.server.partner_identity_key.clone()),
    );
    let context = Context {
        db,
        idempotency: settings.database.idempotency(),
        peers,
        keys,
        settings: Arc::new(settings.service.clone()),
        http: reqwest::Client::new(),
        max_message_bytes: settings.server.max_message_bytes,
    };
    start_background(context.clone());
    Ok(app(context))
}

/// Runs the background worker until the process ends: acts on messages a
/// crash left unprocessed, delivers what is due, follows open cases.
pub fn start_background(context: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = Duration::from_millis(context.settings.background_interval_ms);
        loop {
            tokio::time::sleep(interval).await;
            background_pass(&context).await;
        }
    })
}

/// One pass of the background worker.
pub async fn background_pass(context: &Context) {
    match store::queries::due_exchanges(&context.db, exchanges::RECEIVED, 100).await {
        Ok(unprocessed) => {
            for row in unprocessed {
                process::process(context, &row.exchange_id, None).await;
            }
        }
        Err(error) => tracing::warn!(%error, "reading unprocessed messages"),
    }
    delivery::pass(context).await;
    follow::pass(context).await;
}

/// The service's routes: the gRPC registry and the HCX HTTP endpoints on one
/// port (HTTP/1.1 accepted, as hospitals' systems post JSON).
pub fn app(context: Context) -> App {
    let limit = context.max_message_bytes;
    let grpc = NhcxServiceServer::new(api::NhcxApi {
        context: context.clone(),
    })
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    let routes = Routes::from(
        Routes::new(grpc)
            .into_axum_router()
            .merge(inbound::routes(context)),
    );
    App::new(routes).accepting_http1()
}

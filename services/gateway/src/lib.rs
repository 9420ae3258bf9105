//! Partner gateway: the only way into the mesh from outside — partners and
//! their users, API keys, OpenID Connect tokens and client certificates,
//! scopes, state scoping, rate limits, audit, a transparent gRPC proxy,
//! reflection of what partners may call, and HTTP/JSON (DESIGN §6).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`app`] with
//! a database and upstream channels of their own and serve it on port 0.

pub mod api;
pub mod audit;
pub mod config;
pub mod edge;
pub mod json;
pub mod oidc;
pub mod partners;
pub mod proxy;
pub mod rate_limit;
pub mod reflection;
pub mod scopes;
pub mod store;
pub mod users;

use std::sync::Arc;

use ayushman_platform::{
    MeshService,
    caller::IdentityKey,
    client,
    config::Settings,
    db,
    db::idempotency::Idempotency,
    server::{App, EdgeLayer, Reflection},
};
use ayushman_proto::gateway::v1::gateway_admin_service_server::GatewayAdminServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::Gateway;

/// What the admin handlers share.
#[derive(Clone)]
pub struct AppState {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Keys mutating requests to their first reply.
    pub idempotency: Idempotency,
    /// Where the edge records every call.
    pub audit: audit::AuditLog,
    /// Rate-limit defaults and the bootstrap key.
    pub settings: Arc<config::GatewaySettings>,
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
}

/// Why the gateway could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// An upstream address is not usable.
    #[error("{0}")]
    Config(#[from] ayushman_platform::config::ConfigError),
    /// The bootstrap admin key could not be stored.
    #[error("bootstrap admin key: {0}")]
    Bootstrap(#[from] ayushman_platform::ApiError),
    /// The contracts compiled into the binary do not decode (a build bug).
    #[error("contracts: {0}")]
    Descriptors(String),
}

/// Connects to and migrates the database, makes the bootstrap admin key work,
/// connects (lazily) to the upstream services, then builds the app.
pub async fn build(settings: Settings<config::GatewaySettings>) -> Result<App, BuildError> {
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    let service = &settings.service;
    if let Some(key) = &service.bootstrap_admin_key {
        partners::ensure_operator(
            &db,
            key,
            (
                service.default_rate_limit_per_second,
                service.default_rate_limit_burst,
            ),
        )
        .await?;
    }
    let mut channels = Vec::new();
    for upstream in scopes::UPSTREAMS {
        channels.push((
            upstream,
            client::peer_forwarding_channel(&settings, upstream)?,
        ));
    }
    let state = AppState {
        audit: audit::AuditLog::start(db.clone()),
        db,
        idempotency: settings.database.idempotency(),
        settings: Arc::new(settings.service.clone()),
        max_message_bytes: settings.server.max_message_bytes,
    };
    app(
        state,
        proxy::Upstreams::new(channels),
        IdentityKey::new(settings.server.partner_identity_key.clone()),
    )
}

/// The gateway's routes (admin service, proxy for everything else), its
/// reflection of what partners may call, and the partner edge in front.
pub fn app(
    state: AppState,
    upstreams: proxy::Upstreams,
    identity: IdentityKey,
) -> Result<App, BuildError> {
    let limit = state.max_message_bytes;
    let edge = edge::Edge {
        db: state.db.clone(),
        identity,
        limits: rate_limit::RateLimits::default(),
        audit: state.audit.clone(),
        json: json::JsonTranscoder::new(limit)
            .map_err(|error| BuildError::Descriptors(error.to_string()))?,
        reflections: reflection::PartnerReflections::default(),
        tokens: oidc::TokenVerifier::default(),
    };
    let admin = GatewayAdminServiceServer::new(api::GatewayAdminApi { state })
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit);
    let routes = Routes::from(
        Routes::new(admin)
            .into_axum_router()
            .fallback_service(upstreams),
    );
    Ok(App::new(routes)
        .with_reflection(
            partner_reflection().map_err(|error| BuildError::Descriptors(error.to_string()))?,
        )
        .with_edge(EdgeLayer::new(edge::PartnerEdgeLayer::new(edge)))
        .accepting_http1())
}

/// Reflection of everything partners can be given: the five mesh services
/// with their partner-visible methods, and the admin service. Each partner is
/// shown its own part of it (see [`reflection`]).
pub fn partner_reflection() -> Result<Reflection, prost::DecodeError> {
    let every_scope = scopes::SCOPES
        .iter()
        .map(|(scope, _)| (*scope).to_owned())
        .chain([scopes::ADMIN_SCOPE.to_owned()])
        .collect();
    reflection::visible_with(&every_scope)
}

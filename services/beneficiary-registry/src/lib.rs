//! Beneficiary registry: eligibility lists, cards with e-KYC, ABHA links, family
//! wallets and campaign reports — the service every other one asks "who is this
//! person and how much cover is left?" (DESIGN §3, §4 Identity, Cover, Wallet).
//!
//! `main.rs` only calls [`build`] through the platform; tests call [`router`] with a
//! state of their own and serve it on port 0.

pub mod api;
pub mod areas;
pub mod campaigns;
pub mod config;
pub mod drive_people;
pub mod kyc;
pub mod registry;
pub mod reports;
pub mod schemes;
pub mod store;
pub mod wallet;

use std::sync::Arc;

use ayushman_platform::{MeshService, config::Settings, db, db::idempotency::Idempotency};
use ayushman_proto::beneficiary::v1::beneficiary_registry_service_server::BeneficiaryRegistryServiceServer;
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::{ExposeSecret, SecretString};
use tonic::service::Routes;

/// This service's row in the mesh table.
pub const SERVICE: MeshService = MeshService::BeneficiaryRegistry;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// This service's own database.
    pub db: DatabaseConnection,
    /// Keys mutating requests to their first reply.
    pub idempotency: Idempotency,
    /// The schemes and their covers, as data.
    pub schemes: schemes::SchemeBook,
    /// Where e-KYC is done.
    pub kyc: Arc<dyn kyc::KycProvider>,
    /// Where ABHA numbers and addresses are verified.
    pub abdm: Arc<dyn ayushman_abdm::Registries>,
    /// Key of the Aadhaar digests.
    pub aadhaar_hmac_key: Arc<SecretString>,
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
}

impl AppState {
    /// The Aadhaar HMAC key's bytes.
    pub fn hmac_key(&self) -> &[u8] {
        self.aadhaar_hmac_key.expose_secret().as_bytes()
    }
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
/// e-KYC and ABDM providers the configuration chooses.
pub async fn build(settings: Settings<config::RegistrySettings>) -> Result<Routes, BuildError> {
    if settings.service.uses_development_key() {
        tracing::warn!(
            "using the built-in development Aadhaar HMAC key; set AYUSHMAN__SERVICE__AADHAAR_HMAC_KEY from a secret in production"
        );
    }
    let db = db::connect_and_migrate::<store::Migrator>(SERVICE, &settings.database).await?;
    Ok(router(AppState {
        db,
        idempotency: settings.database.idempotency(),
        schemes: schemes::SchemeBook::new(std::time::Duration::from_secs(
            settings.service.scheme_refresh_seconds,
        )),
        kyc: settings.service.kyc.kyc(settings.env)?,
        abdm: settings.service.abdm.registries(settings.env)?,
        aadhaar_hmac_key: Arc::new(settings.service.aadhaar_hmac_key.clone()),
        max_message_bytes: settings.server.max_message_bytes,
    }))
}

/// The service's gRPC routes; the platform adds health and reflection.
pub fn router(state: AppState) -> Routes {
    let limit = state.max_message_bytes;
    Routes::new(
        BeneficiaryRegistryServiceServer::new(api::BeneficiaryRegistryApi { state })
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit),
    )
}

//! ABDM's registries as the mesh asks them (DESIGN §4): is this HFR id a
//! facility, this HPR id a professional, this ABHA number or address a live
//! account? Behind one trait, [`Registries`], with two implementations
//! chosen by configuration: [`HttpRegistries`] speaks ABDM's published APIs,
//! [`OfflineRegistries`] stands in for demos and tests.

mod http_client;
mod offline;

use std::{sync::Arc, time::Duration};

use ayushman_platform::config::{ConfigError, Deployment, Provider, choose_provider};
use secrecy::SecretString;
use serde::Deserialize;

pub use http_client::HttpRegistries;
pub use offline::OfflineRegistries;

/// A facility as the Health Facility Registry has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilityRecord {
    pub hfr_id: String,
    pub name: String,
    /// As the registry words it, e.g. "Hospital", "Community Health Centre".
    pub facility_type: String,
    /// "Government" or "Private", as the registry words it.
    pub ownership: String,
    /// Whether the registry lists it as approved (in operation).
    pub active: bool,
}

/// A professional as the Health Professional Registry has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfessionalRecord {
    pub hpr_id: String,
    pub name: String,
    /// The council they are registered with, e.g. "Chhattisgarh Medical Council".
    pub council: String,
    pub registration_number: String,
}

/// An ABHA account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbhaRecord {
    /// 14 digits, no dashes.
    pub abha_number: String,
    /// `name@abdm`, when the account has one.
    pub abha_address: Option<String>,
    pub name: String,
    /// Whether the account is active (not deactivated or deleted).
    pub active: bool,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Found(T),
    NotFound,
}

/// The registry could not be asked (down, slow, or answered nonsense).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the {registry} cannot be reached ({reason}); retry later")]
pub struct Unavailable {
    /// "Health Facility Registry", "Health Professional Registry", "ABHA registry".
    pub registry: &'static str,
    pub reason: String,
}

/// ABDM's registries.
#[tonic::async_trait]
pub trait Registries: Send + Sync {
    /// The facility with this HFR id.
    async fn facility(&self, hfr_id: &str) -> Result<Lookup<FacilityRecord>, Unavailable>;
    /// The professional with this HPR id.
    async fn professional(&self, hpr_id: &str) -> Result<Lookup<ProfessionalRecord>, Unavailable>;
    /// The ABHA account with this number (14 digits) or address.
    async fn abha(&self, number_or_address: &str) -> Result<Lookup<AbhaRecord>, Unavailable>;
}

/// `[service.abdm]`: which implementation, and what the real one needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AbdmSettings {
    /// `http` or `offline`; unset is offline in development and refused elsewhere.
    pub provider: Option<Provider>,
    /// ABDM's gateway, where sessions are made: `https://dev.abdm.gov.in` (sandbox)
    /// or `https://apis.abdm.gov.in` (production).
    pub gateway_url: String,
    /// The Health Facility Registry's base URL.
    pub hfr_url: String,
    /// The Health Professional Registry's base URL.
    pub hpr_url: String,
    /// The ABHA registry's base URL.
    pub abha_url: String,
    /// The client id ABDM issued to this deployment.
    pub client_id: String,
    /// Its secret (from a Kubernetes Secret, never a file in the repository).
    pub client_secret: SecretString,
    /// `X-CM-ID`: `sbx` in the sandbox, `abdm` in production.
    pub cm_id: String,
    /// Longest a lookup may take, in milliseconds.
    pub timeout_ms: u64,
    /// Offline only: ids (HFR, HPR, ABHA number or address) the stand-in does
    /// not know, for demos and tests of a refused registration; by default
    /// `IN2299999999`, `71-9999-9999-9999` and `91-9999-9999-9999`.
    pub offline_unknown: Vec<String>,
}

impl Default for AbdmSettings {
    fn default() -> Self {
        Self {
            provider: None,
            gateway_url: String::new(),
            hfr_url: String::new(),
            hpr_url: String::new(),
            abha_url: String::new(),
            client_id: String::new(),
            client_secret: SecretString::from(String::new()),
            cm_id: "abdm".into(),
            timeout_ms: 5_000,
            offline_unknown: vec![
                "IN2299999999".into(),
                "71-9999-9999-9999".into(),
                "91-9999-9999-9999".into(),
            ],
        }
    }
}

impl AbdmSettings {
    /// The provider these settings choose in `env`, with what it needs checked.
    pub fn provider(&self, env: Deployment) -> Result<Provider, ConfigError> {
        let provider = choose_provider("service.abdm.provider", self.provider, env)?;
        if provider == Provider::Http {
            for (key, value) in [
                ("service.abdm.gateway_url", &self.gateway_url),
                ("service.abdm.hfr_url", &self.hfr_url),
                ("service.abdm.hpr_url", &self.hpr_url),
                ("service.abdm.abha_url", &self.abha_url),
                ("service.abdm.client_id", &self.client_id),
            ] {
                if value.trim().is_empty() {
                    return Err(ConfigError::invalid(key, "is required with provider http"));
                }
            }
            if secrecy::ExposeSecret::expose_secret(&self.client_secret).is_empty() {
                return Err(ConfigError::invalid(
                    "service.abdm.client_secret",
                    "is required with provider http",
                ));
            }
        }
        if self.timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "service.abdm.timeout_ms",
                "must be at least 1",
            ));
        }
        Ok(provider)
    }

    /// The registries these settings choose (validated already), warning at
    /// start when it is the stand-in.
    pub fn registries(&self, env: Deployment) -> Result<Arc<dyn Registries>, ConfigError> {
        Ok(match self.provider(env)? {
            Provider::Http => Arc::new(HttpRegistries::new(
                self.clone(),
                Duration::from_millis(self.timeout_ms),
            )),
            Provider::Offline => {
                tracing::warn!(
                    "service.abdm.provider is offline: HFR, HPR and ABHA ids are not checked \
                     with ABDM (a stand-in for demos and tests)"
                );
                Arc::new(OfflineRegistries::new(self.offline_unknown.clone()))
            }
        })
    }
}

//! e-KYC at carding and senior enrolment (DESIGN §4), behind a trait chosen
//! by configuration: [`HttpKycProvider`] asks the state's Aadhaar
//! authentication service (a KUA), [`OfflineKycProvider`] stands in for
//! demos and tests. The call is made before the write transaction opens.

mod http;
mod offline;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use ayushman_domain::Aadhaar;
use ayushman_platform::config::{ConfigError, Deployment, Provider, choose_provider};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use http::HttpKycProvider;
pub use offline::{OfflineKycProvider, OfflineRefusal};

/// What is asked of a KYC provider.
#[derive(Debug, Clone)]
pub struct KycRequest {
    /// The Aadhaar presented.
    pub aadhaar: Aadhaar,
    /// The name on the eligibility list.
    pub listed_name: String,
    /// How identity is verified.
    pub method: ayushman_proto::beneficiary::v1::KycMethod,
    /// The OTP the person received, or the PID block of the biometric or
    /// face capture; never stored or logged.
    pub proof: SecretString,
    /// The year of birth the person states, when it matters (age-based
    /// enrolment); 0 otherwise.
    pub stated_year_of_birth: i32,
}

/// The provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycOutcome {
    pub verified: bool,
    pub name_on_record: String,
    /// Why verification failed, in words the operator can act on.
    pub failure_reason: String,
    pub reference: String,
    /// Year of birth on the Aadhaar record; 0 when the provider gave none.
    pub year_of_birth: i32,
}

/// A source of e-KYC answers.
#[tonic::async_trait]
pub trait KycProvider: Send + Sync {
    /// Verifies identity; an `Err` means the provider could not be asked (or
    /// answered nonsense), in words for the operator.
    async fn verify(&self, request: &KycRequest) -> Result<KycOutcome, String>;

    /// Whether a request must carry its proof (the OTP or PID block).
    fn needs_proof(&self) -> bool;
}

/// `[service.kyc]`: which provider, and what the real one needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KycSettings {
    /// `http` or `offline`; unset is offline in development and refused elsewhere.
    pub provider: Option<Provider>,
    /// The Aadhaar authentication service's base URL (the state's KUA).
    pub url: String,
    /// The client id the service issued to this deployment.
    pub client_id: String,
    /// Its secret (from a Kubernetes Secret).
    pub client_secret: SecretString,
    /// Longest an e-KYC call may take, in milliseconds (an OTP check is quick;
    /// a biometric match can take seconds).
    pub timeout_ms: u64,
    /// Offline only: the test Aadhaar numbers the stand-in refuses, and how.
    /// Every other number with a right check digit passes.
    pub offline_refusals: BTreeMap<String, OfflineRefusal>,
}

impl Default for KycSettings {
    fn default() -> Self {
        Self {
            provider: None,
            url: String::new(),
            client_id: String::new(),
            client_secret: SecretString::from(String::new()),
            timeout_ms: 10_000,
            offline_refusals: offline::demo_refusals(),
        }
    }
}

impl KycSettings {
    /// The provider these settings choose in `env`, with what it needs checked.
    pub fn provider(&self, env: Deployment) -> Result<Provider, ConfigError> {
        let provider = choose_provider("service.kyc.provider", self.provider, env)?;
        if provider == Provider::Http {
            for (key, value) in [
                ("service.kyc.url", &self.url),
                ("service.kyc.client_id", &self.client_id),
            ] {
                if value.trim().is_empty() {
                    return Err(ConfigError::invalid(key, "is required with provider http"));
                }
            }
            if self.client_secret.expose_secret().is_empty() {
                return Err(ConfigError::invalid(
                    "service.kyc.client_secret",
                    "is required with provider http",
                ));
            }
        }
        if self.timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "service.kyc.timeout_ms",
                "must be at least 1",
            ));
        }
        for number in self.offline_refusals.keys() {
            if Aadhaar::parse(number).is_err() {
                return Err(ConfigError::invalid(
                    "service.kyc.offline_refusals",
                    format!("{number} is not an Aadhaar number with a right check digit"),
                ));
            }
        }
        Ok(provider)
    }

    /// The provider these settings choose (validated already), warning at
    /// start when it is the stand-in.
    pub fn kyc(&self, env: Deployment) -> Result<Arc<dyn KycProvider>, ConfigError> {
        Ok(match self.provider(env)? {
            Provider::Http => Arc::new(HttpKycProvider::new(
                self.url.clone(),
                self.client_id.clone(),
                self.client_secret.clone(),
                Duration::from_millis(self.timeout_ms),
            )),
            Provider::Offline => {
                tracing::warn!(
                    "service.kyc.provider is offline: cards are made without Aadhaar e-KYC \
                     (a stand-in for demos and tests)"
                );
                Arc::new(OfflineKycProvider::new(self.offline_refusals.clone()))
            }
        })
    }
}

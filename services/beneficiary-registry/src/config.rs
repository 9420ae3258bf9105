//! The registry's own settings (`[service]` in config, `AYUSHMAN__SERVICE__...`).

use ayushman_abdm::AbdmSettings;
use ayushman_platform::config::{ConfigError, Deployment, Validate};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The key used when none is configured; fine on a laptop, refused nowhere,
/// warned about at start.
pub const DEVELOPMENT_HMAC_KEY: &str = "ayushman-development-only-key-do-not-use";

/// Settings of the beneficiary registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrySettings {
    /// Secret key of the Aadhaar HMAC digests (dedupe without keeping the number).
    /// Changing it makes every stored digest unmatchable: rotate by re-digesting.
    pub aadhaar_hmac_key: SecretString,
    /// How old a replica's copy of the schemes may grow before it reads them
    /// again (another replica's changes reach it within this many seconds).
    pub scheme_refresh_seconds: u64,
    /// Aadhaar e-KYC at carding and senior enrolment.
    pub kyc: crate::kyc::KycSettings,
    /// ABDM, to verify the ABHA numbers and addresses linked to people.
    pub abdm: AbdmSettings,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            aadhaar_hmac_key: SecretString::from(DEVELOPMENT_HMAC_KEY),
            scheme_refresh_seconds: 10,
            kyc: crate::kyc::KycSettings::default(),
            abdm: AbdmSettings::default(),
        }
    }
}

impl RegistrySettings {
    /// Whether the built-in development key is in use.
    pub fn uses_development_key(&self) -> bool {
        self.aadhaar_hmac_key.expose_secret() == DEVELOPMENT_HMAC_KEY
    }
}

impl Validate for RegistrySettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.aadhaar_hmac_key.expose_secret().len() < 16 {
            return Err(ConfigError::invalid(
                "service.aadhaar_hmac_key",
                "must be at least 16 characters",
            ));
        }
        if self.scheme_refresh_seconds == 0 {
            return Err(ConfigError::invalid(
                "service.scheme_refresh_seconds",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    fn validate_for(&self, env: Deployment) -> Result<(), ConfigError> {
        self.validate()?;
        self.kyc.provider(env)?;
        self.abdm.provider(env)?;
        Ok(())
    }
}

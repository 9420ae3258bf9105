//! The registry's own settings (`[service]` in config, `AYUSHMAN__SERVICE__...`).

use ayushman_platform::config::{ConfigError, Validate};
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
    /// Cover per family per policy year, in rupees, by scheme.
    pub covers: Covers,
}

/// Covers of the seeded schemes, in rupees per family per policy year.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Covers {
    /// PM-JAY family floater.
    pub pmjay_rupees: i64,
    /// PM-JAY senior top-up shared by the family's members aged 70+.
    pub pmjay_senior_rupees: i64,
    /// Rajasthan MAA.
    pub rj_maa_rupees: i64,
    /// Bihar's scheme for NFSA families outside PM-JAY.
    pub br_mjay_rupees: i64,
}

impl Default for Covers {
    fn default() -> Self {
        Self {
            pmjay_rupees: 5_00_000,
            pmjay_senior_rupees: 5_00_000,
            rj_maa_rupees: 25_00_000,
            br_mjay_rupees: 5_00_000,
        }
    }
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            aadhaar_hmac_key: SecretString::from(DEVELOPMENT_HMAC_KEY),
            covers: Covers::default(),
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
        for (key, rupees) in [
            ("service.covers.pmjay_rupees", self.covers.pmjay_rupees),
            (
                "service.covers.pmjay_senior_rupees",
                self.covers.pmjay_senior_rupees,
            ),
            ("service.covers.rj_maa_rupees", self.covers.rj_maa_rupees),
            ("service.covers.br_mjay_rupees", self.covers.br_mjay_rupees),
        ] {
            if !(1..=1_00_00_00_000).contains(&rupees) {
                return Err(ConfigError::invalid(
                    key,
                    "must be between 1 and 1,00,00,00,000 rupees",
                ));
            }
        }
        Ok(())
    }
}

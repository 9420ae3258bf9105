//! The NHCX service's own settings (`[service]`, `AYUSHMAN__SERVICE__...`).

use ayushman_platform::config::{ConfigError, Validate};
use secrecy::SecretString;
use serde::Deserialize;

/// Settings of the NHCX service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NhcxSettings {
    /// The mesh's own participant code on the exchange: messages addressed to
    /// any other recipient are refused with ERR_WRONG_RECIPIENT.
    pub participant_code: String,
    /// The payer's name in the bundles the mesh sends.
    pub payer_name: String,
    /// PEM of the mesh's RSA private key (2048 bits or more): participants
    /// encrypt to its public half. Unset, the service makes one on first start
    /// and keeps it in its database — fine on a laptop, warned about at start.
    pub private_key_pem: Option<SecretString>,
    /// The protocol version prefix of every HCX path, e.g. `/v0.7`.
    pub version_prefix: String,
    /// How often the background worker delivers callbacks, resumes unfinished
    /// requests and follows open cases, in milliseconds.
    pub background_interval_ms: u64,
    /// The first retry of a failed callback waits this long; each further one
    /// twice as long (at most an hour).
    pub retry_base_ms: u64,
    /// A callback that failed this many times is given up (status `gave_up`).
    pub max_attempts: i32,
    /// Longest a participant's callback endpoint may take to answer, in milliseconds.
    pub callback_timeout_ms: u64,
}

impl Default for NhcxSettings {
    fn default() -> Self {
        Self {
            participant_code: "ayushman-mesh@hcx".into(),
            payer_name: "Ayushman Bharat PM-JAY".into(),
            private_key_pem: None,
            version_prefix: "/v0.7".into(),
            background_interval_ms: 1_000,
            retry_base_ms: 2_000,
            max_attempts: 10,
            callback_timeout_ms: 10_000,
        }
    }
}

impl Validate for NhcxSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.participant_code.trim().is_empty() {
            return Err(ConfigError::invalid(
                "service.participant_code",
                "is required",
            ));
        }
        let prefix = &self.version_prefix;
        if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.ends_with('/')) {
            return Err(ConfigError::invalid(
                "service.version_prefix",
                "must start with / and not end with one, e.g. /v0.7 (or be empty)",
            ));
        }
        if self.background_interval_ms < 10 {
            return Err(ConfigError::invalid(
                "service.background_interval_ms",
                "must be at least 10",
            ));
        }
        if self.retry_base_ms == 0 {
            return Err(ConfigError::invalid(
                "service.retry_base_ms",
                "must be at least 1",
            ));
        }
        if self.max_attempts < 1 {
            return Err(ConfigError::invalid(
                "service.max_attempts",
                "must be at least 1",
            ));
        }
        if self.callback_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "service.callback_timeout_ms",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

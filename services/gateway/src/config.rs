//! The gateway's own settings (`[service]` in config, `AYUSHMAN__SERVICE__...`).

use ayushman_platform::config::{ConfigError, Validate};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Settings of the gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// When set, the gateway makes sure this key works for the mesh operator
    /// partner (scope `gateway.admin`), so the first partners can be created.
    /// `ayushctl up` sets a fresh one on every start.
    pub bootstrap_admin_key: Option<SecretString>,
    /// Sustained calls per second of a partner created without its own limit.
    pub default_rate_limit_per_second: i32,
    /// Burst above the sustained rate of a partner created without its own limit.
    pub default_rate_limit_burst: i32,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            bootstrap_admin_key: None,
            default_rate_limit_per_second: 50,
            default_rate_limit_burst: 100,
        }
    }
}

impl Validate for GatewaySettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(key) = &self.bootstrap_admin_key
            && key.expose_secret().len() < 24
        {
            return Err(ConfigError::invalid(
                "service.bootstrap_admin_key",
                "must be at least 24 characters",
            ));
        }
        if !(1..=100_000).contains(&self.default_rate_limit_per_second) {
            return Err(ConfigError::invalid(
                "service.default_rate_limit_per_second",
                "must be between 1 and 100000",
            ));
        }
        if !(1..=100_000).contains(&self.default_rate_limit_burst) {
            return Err(ConfigError::invalid(
                "service.default_rate_limit_burst",
                "must be between 1 and 100000",
            ));
        }
        Ok(())
    }
}

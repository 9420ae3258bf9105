//! The registry's own settings (`[service]` in config, `AYUSHMAN__SERVICE__...`).

use ayushman_abdm::AbdmSettings;
use ayushman_platform::config::{ConfigError, Deployment, Validate};
use serde::Deserialize;

/// Settings of the facility registry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacilitySettings {
    /// ABDM, to confirm HFR and HPR ids before registering them.
    pub abdm: AbdmSettings,
}

impl Validate for FacilitySettings {
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    fn validate_for(&self, env: Deployment) -> Result<(), ConfigError> {
        self.abdm.provider(env).map(drop)
    }
}

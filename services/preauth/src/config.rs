//! The pre-authorisation service's own settings (`[service]`, `AYUSHMAN__SERVICE__...`).

use ayushman_platform::config::{ConfigError, Validate};
use serde::Deserialize;

/// Settings of the preauth service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreauthSettings {
    /// A raised preauth not reviewed within this many minutes (from its raise,
    /// or the hospital's last answer to a query) is deemed approved...
    pub deemed_approval_minutes: u64,
    /// ...unless it asks for more than this many rupees, or carries a fraud
    /// flag: those wait for a reviewer.
    pub deemed_approval_max_rupees: i64,
    /// How often the background worker resumes sagas, retries releases and applies
    /// deemed approval, in milliseconds.
    pub background_interval_ms: u64,
    /// The same package for the same beneficiary within this many days is flagged.
    pub duplicate_package_days: i64,
    /// A facility's preauths on a day above this multiple of its daily average
    /// (previous 30 days) are flagged...
    pub volume_multiple: i64,
    /// ...when there are at least this many that day.
    pub volume_minimum: i64,
    /// How old a replica's copy of the package catalogue may grow before it
    /// reads it again (another replica's UpsertPackage takes this long to show).
    pub package_refresh_seconds: u64,
}

impl Default for PreauthSettings {
    fn default() -> Self {
        Self {
            deemed_approval_minutes: 6 * 60,
            deemed_approval_max_rupees: 1_00_000,
            background_interval_ms: 30_000,
            duplicate_package_days: 30,
            volume_multiple: 3,
            volume_minimum: 10,
            package_refresh_seconds: 10,
        }
    }
}

impl Validate for PreauthSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.background_interval_ms < 10 {
            return Err(ConfigError::invalid(
                "service.background_interval_ms",
                "must be at least 10",
            ));
        }
        if self.deemed_approval_max_rupees < 0 {
            return Err(ConfigError::invalid(
                "service.deemed_approval_max_rupees",
                "cannot be negative",
            ));
        }
        if self.duplicate_package_days < 0 {
            return Err(ConfigError::invalid(
                "service.duplicate_package_days",
                "cannot be negative",
            ));
        }
        if self.package_refresh_seconds == 0 {
            return Err(ConfigError::invalid(
                "service.package_refresh_seconds",
                "must be at least 1",
            ));
        }
        if self.volume_multiple < 1 || self.volume_minimum < 1 {
            return Err(ConfigError::invalid(
                "service.volume_multiple",
                "volume_multiple and volume_minimum must be at least 1",
            ));
        }
        Ok(())
    }
}

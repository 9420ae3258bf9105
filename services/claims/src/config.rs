//! The claims service's own settings (`[service]`, `AYUSHMAN__SERVICE__...`).

use ayushman_platform::config::{ConfigError, Validate};
use serde::Deserialize;

/// Settings of the claims service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimsSettings {
    /// A claim must be submitted within this many days of discharge.
    pub submission_window_days: i64,
    /// Claims approved above this amount wait for a final approval.
    pub final_approval_above_rupees: i64,
    /// Days from submission to payment for cases treated in the home state.
    pub tat_days_intra_state: i64,
    /// Days from submission to payment for portability cases.
    pub tat_days_portability: i64,
    /// Penalty for each started week paid late, in basis points of the approved amount (100 = 1 %).
    pub penalty_basis_points_per_week: i64,
    /// How often wallet moves that decisions still owe are retried, in milliseconds.
    pub background_interval_ms: u64,
}

impl Default for ClaimsSettings {
    fn default() -> Self {
        Self {
            submission_window_days: 15,
            final_approval_above_rupees: 1_00_000,
            tat_days_intra_state: 15,
            tat_days_portability: 30,
            penalty_basis_points_per_week: 100,
            background_interval_ms: 30_000,
        }
    }
}

impl Validate for ClaimsSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            (
                "service.submission_window_days",
                self.submission_window_days,
            ),
            ("service.tat_days_intra_state", self.tat_days_intra_state),
            ("service.tat_days_portability", self.tat_days_portability),
            (
                "service.penalty_basis_points_per_week",
                self.penalty_basis_points_per_week,
            ),
            (
                "service.final_approval_above_rupees",
                self.final_approval_above_rupees,
            ),
        ] {
            if value < 0 {
                return Err(ConfigError::invalid(key, "cannot be negative"));
            }
        }
        if self.background_interval_ms == 0 {
            return Err(ConfigError::invalid(
                "service.background_interval_ms",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

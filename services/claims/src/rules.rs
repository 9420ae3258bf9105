//! Claim rules as pure functions: the submission window, the payment due time
//! and the penalty for paying late.

use ayushman_domain::Money;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::config::ClaimsSettings;

/// Why a submission is too late, or `None` when it is in time.
pub fn late_submission(
    discharged: NaiveDate,
    today: NaiveDate,
    window_days: i64,
) -> Option<String> {
    let days = (today - discharged).num_days();
    (days > window_days).then(|| format!("submitted {days} days after discharge on {discharged}; claims must be submitted within {window_days} days"))
}

/// When payment is due: the settlement turnaround time after submission.
pub fn payment_due(
    submitted: DateTime<Utc>,
    portability_case: bool,
    settings: &ClaimsSettings,
) -> DateTime<Utc> {
    let days = if portability_case {
        settings.tat_days_portability
    } else {
        settings.tat_days_intra_state
    };
    submitted + Duration::days(days)
}

/// The penalty for paying at `paid` what was due at `due`: `bps_per_week` of
/// the approved amount for each started week late; nothing when paid by the due time.
pub fn penalty(
    approved: Money,
    due: DateTime<Utc>,
    paid: DateTime<Utc>,
    bps_per_week: i64,
) -> Money {
    if paid <= due {
        return Money::ZERO;
    }
    // Microseconds, the precision times are stored at: any lateness starts a week.
    let week = Duration::days(7).num_microseconds().unwrap_or(i64::MAX);
    let late = (paid - due).num_microseconds().unwrap_or(i64::MAX);
    let weeks = (late + week - 1) / week;
    approved
        .checked_share(bps_per_week * weeks)
        .unwrap_or(Money::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + seconds, 0).expect("valid time")
    }

    #[test]
    fn paying_exactly_at_the_due_time_costs_nothing_and_one_second_later_costs_a_week() {
        let approved = Money::from_paise(1_00_000_00);
        assert_eq!(penalty(approved, at(0), at(0), 100), Money::ZERO);
        assert_eq!(
            penalty(approved, at(0), at(1), 100),
            Money::from_paise(1_000_00)
        );
        assert_eq!(
            penalty(approved, at(0), at(7 * 86_400), 100),
            Money::from_paise(1_000_00)
        );
        assert_eq!(
            penalty(approved, at(0), at(7 * 86_400 + 1), 100),
            Money::from_paise(2_000_00)
        );
        let a_moment_late = at(0) + Duration::milliseconds(1);
        assert_eq!(
            penalty(approved, at(0), a_moment_late, 100),
            Money::from_paise(1_000_00)
        );
    }

    #[test]
    fn the_submission_window_counts_days_from_discharge() {
        let discharged = NaiveDate::from_ymd_opt(2025, 6, 1).expect("date");
        assert_eq!(
            late_submission(discharged, discharged + Duration::days(15), 15),
            None
        );
        assert_eq!(
            late_submission(discharged, discharged + Duration::days(16), 15).as_deref(),
            Some(
                "submitted 16 days after discharge on 2025-06-01; claims must be submitted within 15 days"
            )
        );
    }

    #[test]
    fn portability_cases_have_their_own_turnaround() {
        let settings = ClaimsSettings::default();
        assert_eq!(payment_due(at(0), false, &settings), at(15 * 86_400));
        assert_eq!(payment_due(at(0), true, &settings), at(30 * 86_400));
    }
}

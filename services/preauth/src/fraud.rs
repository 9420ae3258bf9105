//! Fraud signals (DESIGN §4): they never block a preauth, they alert the
//! reviewer with the reason and the related preauth.

use ayushman_proto::preauth::v1::FraudFlagKind;
use chrono::NaiveDate;

/// A signal found on a new preauth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub kind: FraudFlagKind,
    pub reason: String,
    pub related: String,
}

/// Another live admission of the same beneficiary, as the signals see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub preauth_id: String,
    pub hfr_id: String,
    pub admission_date: NaiveDate,
    pub discharge_date: Option<NaiveDate>,
    /// The packages pre-authorised for it.
    pub package_codes: Vec<String>,
}

/// Another admission overlaps when it began on or before this one and was not
/// discharged before this admission.
pub fn overlapping(admission: NaiveDate, others: &[Stay]) -> Vec<Flag> {
    others
        .iter()
        .filter(|other| {
            other.admission_date <= admission
                && other
                    .discharge_date
                    .is_none_or(|discharged| discharged >= admission)
        })
        .map(|other| Flag {
            kind: FraudFlagKind::OverlappingAdmission,
            reason: format!(
                "admitted at {} from {} ({})",
                other.hfr_id, other.admission_date, other.preauth_id
            ),
            related: other.preauth_id.clone(),
        })
        .collect()
}

/// The same package for the same beneficiary within `days` of this admission.
pub fn duplicate_packages(
    admission: NaiveDate,
    packages: &[String],
    others: &[Stay],
    days: i64,
) -> Vec<Flag> {
    others
        .iter()
        .filter(|other| (admission - other.admission_date).num_days().abs() <= days)
        .flat_map(|other| {
            other
                .package_codes
                .iter()
                .filter(|code| packages.contains(code))
                .map(move |code| Flag {
                    kind: FraudFlagKind::DuplicatePackage,
                    reason: format!(
                        "{code} already pre-authorised on {} ({}), within {days} days",
                        other.admission_date, other.preauth_id
                    ),
                    related: other.preauth_id.clone(),
                })
        })
        .collect()
}

/// A facility's preauths on a day far above its usual: at least `minimum` and
/// more than `multiple` times its daily average over the previous 30 days.
pub fn high_volume(
    hfr_id: &str,
    today: u64,
    previous_30_days: u64,
    multiple: i64,
    minimum: i64,
) -> Option<Flag> {
    let average = previous_30_days as f64 / 30.0;
    let unusual = today as i64 >= minimum && today as f64 > multiple as f64 * average.max(1.0);
    unusual.then(|| Flag {
        kind: FraudFlagKind::HighFacilityVolume,
        reason: format!(
            "{hfr_id} has {today} preauths today against a daily average of {average:.1}"
        ),
        related: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, d).expect("valid date")
    }

    fn stay(id: &str, from: NaiveDate, until: Option<NaiveDate>, packages: &[&str]) -> Stay {
        Stay {
            preauth_id: id.into(),
            hfr_id: "IN2210000001".into(),
            admission_date: from,
            discharge_date: until,
            package_codes: packages.iter().map(|&code| code.to_owned()).collect(),
        }
    }

    #[test]
    fn a_stay_not_yet_discharged_overlaps_a_new_admission() {
        let flags = overlapping(
            day(10),
            &[
                stay("PA-1", day(8), None, &[]),
                stay("PA-2", day(1), Some(day(5)), &[]),
                stay("PA-3", day(12), None, &[]),
            ],
        );
        assert_eq!(
            flags.iter().map(|f| f.related.as_str()).collect::<Vec<_>>(),
            ["PA-1"]
        );
    }

    #[test]
    fn the_same_package_within_the_window_is_flagged() {
        let others = [stay("PA-1", day(1), Some(day(3)), &["MC011A"])];
        assert_eq!(
            duplicate_packages(day(20), &["MC011A".into()], &others, 30).len(),
            1
        );
        assert!(duplicate_packages(day(20), &["SG039A".into()], &others, 30).is_empty());
        assert!(duplicate_packages(day(20), &["MC011A".into()], &others, 10).is_empty());
    }

    #[test]
    fn volume_far_above_the_daily_average_is_flagged() {
        assert!(high_volume("IN2210000001", 12, 30, 3, 10).is_some());
        assert!(
            high_volume("IN2210000001", 9, 0, 3, 10).is_none(),
            "below the minimum"
        );
        assert!(
            high_volume("IN2210000001", 12, 300, 3, 10).is_none(),
            "usual for a busy hospital"
        );
    }
}

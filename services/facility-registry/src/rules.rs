//! The registry's decisions as pure functions over stored rows: whether a
//! facility may treat a specialty under a scheme on a date, and OPD shares.

use ayushman_proto::facility::v1::{EmpanelmentDenial, EmpanelmentStatus, FacilityStatus};
use chrono::NaiveDate;

use crate::store::entities::{empanelled_specialty, empanelment, facility, professional_link};

/// Why a facility may not treat a case, with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The coded reason.
    pub denial: EmpanelmentDenial,
    /// What an Ayushman Mitra at the help desk is told.
    pub message: String,
}

fn refuse(denial: EmpanelmentDenial, message: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal {
        denial,
        message: message.into(),
    })
}

/// Whether `date` falls in `[from, until]`, an open `until` meaning no end.
pub fn within(date: NaiveDate, from: NaiveDate, until: Option<NaiveDate>) -> bool {
    from <= date && until.is_none_or(|until| date <= until)
}

/// Decides CheckEmpanelment from what is stored. The checks run from the
/// facility outwards so the first failing one names the real cause.
pub fn check_empanelment(
    facility: Option<&facility::Model>,
    empanelment: Option<&empanelment::Model>,
    specialty: Option<&empanelled_specialty::Model>,
    scheme_code: &str,
    specialty_code: &str,
    date: NaiveDate,
) -> Result<(), Refusal> {
    let Some(facility) = facility else {
        return refuse(
            EmpanelmentDenial::FacilityUnknown,
            "no facility with this HFR id",
        );
    };
    if facility.status != FacilityStatus::Active.as_str_name() {
        return refuse(
            EmpanelmentDenial::FacilityInactive,
            format!("{} is not operating", facility.name),
        );
    }
    let Some(empanelment) = empanelment else {
        return refuse(
            EmpanelmentDenial::NotEmpanelled,
            format!("{} is not empanelled under {scheme_code}", facility.name),
        );
    };
    let reason = |what: &str| {
        if empanelment.status_reason.is_empty() {
            what.to_owned()
        } else {
            format!("{what}: {}", empanelment.status_reason)
        }
    };
    match *empanelment.status {
        EmpanelmentStatus::Empanelled => {}
        EmpanelmentStatus::Suspended => {
            return refuse(
                EmpanelmentDenial::Suspended,
                reason("empanelment suspended"),
            );
        }
        EmpanelmentStatus::DeEmpanelled => {
            return refuse(
                EmpanelmentDenial::DeEmpanelled,
                reason("facility de-empanelled"),
            );
        }
        EmpanelmentStatus::Applied | EmpanelmentStatus::Unspecified => {
            return refuse(
                EmpanelmentDenial::ApplicationPending,
                "empanelment application is still under inspection",
            );
        }
    }
    if !within(date, empanelment.valid_from, empanelment.valid_until) {
        let until = empanelment
            .valid_until
            .map_or_else(|| "open".to_owned(), |d| d.to_string());
        return refuse(
            EmpanelmentDenial::OutsideValidity,
            format!(
                "empanelment is valid from {} to {until}, not on {date}",
                empanelment.valid_from
            ),
        );
    }
    match specialty {
        Some(s) if within(date, s.effective_from, s.effective_until) => Ok(()),
        Some(s) => {
            let until = s
                .effective_until
                .map_or_else(|| "open".to_owned(), |d| d.to_string());
            refuse(
                EmpanelmentDenial::SpecialtyNotCovered,
                format!(
                    "{specialty_code} is covered from {} to {until}, not on {date}",
                    s.effective_from
                ),
            )
        }
        None => refuse(
            EmpanelmentDenial::SpecialtyNotCovered,
            format!(
                "{} is not empanelled for {specialty_code} under {scheme_code}",
                facility.name
            ),
        ),
    }
}

/// The link active on `date`, if any.
pub fn active_link(
    links: &[professional_link::Model],
    date: NaiveDate,
) -> Option<&professional_link::Model> {
    links
        .iter()
        .find(|link| within(date, link.linked_from, link.linked_until))
}

#[cfg(test)]
mod tests {
    use ayushman_proto::facility::v1::AccreditationLevel;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn hospital(status: FacilityStatus) -> facility::Model {
        facility::Model {
            hfr_id: "IN2210000001".into(),
            name: "District Hospital Jagdalpur".into(),
            facility_type: "FACILITY_TYPE_DISTRICT_HOSPITAL".into(),
            ownership: "OWNERSHIP_PUBLIC".into(),
            state_code: "22".into(),
            district_code: "22-414".into(),
            block_code: String::new(),
            beds: 300,
            abdm_enabled: true,
            status: status.as_str_name().into(),
            society_name: String::new(),
            society_account_id: String::new(),
            created_at: ayushman_platform::db::now(),
            hfr_name: String::new(),
            hfr_facility_type: String::new(),
            hfr_ownership: String::new(),
            hfr_checked_at: None,
        }
    }

    fn panel(
        status: EmpanelmentStatus,
        reason: &str,
        until: Option<NaiveDate>,
    ) -> empanelment::Model {
        empanelment::Model {
            hfr_id: "IN2210000001".into(),
            scheme_code: "PMJAY".into(),
            status: status.into(),
            status_reason: reason.into(),
            accreditation_level: AccreditationLevel::NabhEntry.as_str_name().into(),
            valid_from: day(2024, 4, 1),
            valid_until: until,
        }
    }

    fn cardiology(from: NaiveDate, until: Option<NaiveDate>) -> empanelled_specialty::Model {
        empanelled_specialty::Model {
            hfr_id: "IN2210000001".into(),
            scheme_code: "PMJAY".into(),
            specialty_code: "CARDIOLOGY".into(),
            effective_from: from,
            effective_until: until,
        }
    }

    fn check(
        facility: Option<&facility::Model>,
        empanelment: Option<&empanelment::Model>,
        specialty: Option<&empanelled_specialty::Model>,
    ) -> Result<(), EmpanelmentDenial> {
        check_empanelment(
            facility,
            empanelment,
            specialty,
            "PMJAY",
            "CARDIOLOGY",
            day(2025, 6, 1),
        )
        .map_err(|r| r.denial)
    }

    #[test]
    fn an_active_empanelled_facility_may_treat_a_covered_specialty_in_its_dates() {
        let f = hospital(FacilityStatus::Active);
        let e = panel(EmpanelmentStatus::Empanelled, "", None);
        let s = cardiology(day(2024, 4, 1), None);
        assert_eq!(check(Some(&f), Some(&e), Some(&s)), Ok(()));
    }

    #[test]
    fn each_refusal_names_the_first_cause() {
        let active = hospital(FacilityStatus::Active);
        let ok_panel = panel(EmpanelmentStatus::Empanelled, "", None);
        let s = cardiology(day(2024, 4, 1), None);
        assert_eq!(
            check(None, None, None),
            Err(EmpanelmentDenial::FacilityUnknown)
        );
        assert_eq!(
            check(
                Some(&hospital(FacilityStatus::Inactive)),
                Some(&ok_panel),
                Some(&s)
            ),
            Err(EmpanelmentDenial::FacilityInactive)
        );
        assert_eq!(
            check(Some(&active), None, None),
            Err(EmpanelmentDenial::NotEmpanelled)
        );
        let suspended = panel(EmpanelmentStatus::Suspended, "inquiry 14/2025", None);
        assert_eq!(
            check(Some(&active), Some(&suspended), Some(&s)),
            Err(EmpanelmentDenial::Suspended)
        );
        let removed = panel(EmpanelmentStatus::DeEmpanelled, "", None);
        assert_eq!(
            check(Some(&active), Some(&removed), Some(&s)),
            Err(EmpanelmentDenial::DeEmpanelled)
        );
        let applied = panel(EmpanelmentStatus::Applied, "", None);
        assert_eq!(
            check(Some(&active), Some(&applied), Some(&s)),
            Err(EmpanelmentDenial::ApplicationPending)
        );
        let lapsed = panel(EmpanelmentStatus::Empanelled, "", Some(day(2025, 3, 31)));
        assert_eq!(
            check(Some(&active), Some(&lapsed), Some(&s)),
            Err(EmpanelmentDenial::OutsideValidity)
        );
        assert_eq!(
            check(Some(&active), Some(&ok_panel), None),
            Err(EmpanelmentDenial::SpecialtyNotCovered)
        );
        let later = cardiology(day(2025, 7, 1), None);
        assert_eq!(
            check(Some(&active), Some(&ok_panel), Some(&later)),
            Err(EmpanelmentDenial::SpecialtyNotCovered)
        );
    }

    #[test]
    fn a_suspension_message_carries_its_order() {
        let refusal = check_empanelment(
            Some(&hospital(FacilityStatus::Active)),
            Some(&panel(
                EmpanelmentStatus::Suspended,
                "inquiry 14/2025",
                None,
            )),
            None,
            "PMJAY",
            "CARDIOLOGY",
            day(2025, 6, 1),
        )
        .unwrap_err();
        assert_eq!(refusal.message, "empanelment suspended: inquiry 14/2025");
    }

    #[test]
    fn validity_includes_both_ends() {
        assert!(within(
            day(2025, 1, 1),
            day(2025, 1, 1),
            Some(day(2025, 1, 31))
        ));
        assert!(within(
            day(2025, 1, 31),
            day(2025, 1, 1),
            Some(day(2025, 1, 31))
        ));
        assert!(!within(
            day(2025, 2, 1),
            day(2025, 1, 1),
            Some(day(2025, 1, 31))
        ));
        assert!(within(day(2099, 1, 1), day(2025, 1, 1), None));
    }
}

//! Portability decisions as pure functions: which agreement covers a case, or
//! why none does.

use ayushman_domain::StateCode;
use ayushman_proto::portability::v1::{AgreementStatus, RouteDenial};
use chrono::NaiveDate;

use crate::store::entities::agreement;

/// Why a case may not be treated where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub denial: RouteDenial,
    pub message: String,
}

fn state_name(code: &str) -> String {
    StateCode::parse(code).map_or_else(|_| code.to_owned(), |s| s.name().to_owned())
}

fn in_force(row: &agreement::Model, date: NaiveDate) -> bool {
    row.effective_from <= date && row.effective_until.is_none_or(|until| date <= until)
}

/// Whether an agreement is about this home state and treating state, whatever its status.
fn covers(row: &agreement::Model, home_state: &str, treating_state: &str) -> bool {
    let home_matches = row.home_state_code.is_empty() || row.home_state_code == home_state;
    let treating_matches = row.all_states
        || row
            .treating_state_codes
            .split(',')
            .any(|code| code == treating_state);
    home_matches && treating_matches
}

/// The agreement that lets a `home_scheme` card holder from `home_state` be
/// treated in `treating_state` on `date`, or the most useful reason why not.
pub fn choose_agreement<'a>(
    agreements: &'a [agreement::Model],
    home_scheme: &str,
    home_state: &str,
    treating_state: &str,
    date: NaiveDate,
) -> Result<&'a agreement::Model, Refusal> {
    let relevant: Vec<&agreement::Model> = agreements
        .iter()
        .filter(|row| covers(row, home_state, treating_state))
        .collect();
    let active = AgreementStatus::Active;
    if let Some(row) = relevant
        .iter()
        .find(|row| row.status == active && in_force(row, date))
    {
        return Ok(row);
    }
    let refuse = |denial, message: String| Err(Refusal { denial, message });
    if let Some(row) = relevant.iter().find(|row| row.status == active) {
        let until = row
            .effective_until
            .map_or_else(|| "open".to_owned(), |d| d.to_string());
        return refuse(
            RouteDenial::NoAgreement,
            format!(
                "agreement {} is in force from {} to {until}, not on {date}",
                row.agreement_id, row.effective_from
            ),
        );
    }
    if let Some(row) = relevant
        .iter()
        .find(|row| row.status == AgreementStatus::Suspended)
    {
        return refuse(
            RouteDenial::AgreementSuspended,
            format!(
                "agreement {} is suspended: {}",
                row.agreement_id, row.status_reason
            ),
        );
    }
    if let Some(row) = relevant.first() {
        return refuse(
            RouteDenial::NoAgreement,
            format!("agreement {} is not in force yet (draft)", row.agreement_id),
        );
    }
    refuse(
        RouteDenial::NoAgreement,
        format!(
            "no portability agreement lets {home_scheme} card holders from {} be treated in {}",
            state_name(home_state),
            state_name(treating_state)
        ),
    )
}

#[cfg(test)]
mod tests {
    use ayushman_proto::portability::v1::RateRule;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn agreement(
        id: &str,
        home_state: &str,
        treating: &str,
        status: AgreementStatus,
    ) -> agreement::Model {
        agreement::Model {
            agreement_id: id.into(),
            home_scheme_code: "RJ-MAA".into(),
            home_state_code: home_state.into(),
            all_states: treating.is_empty(),
            treating_state_codes: treating.into(),
            effective_from: day(2025, 1, 1),
            effective_until: Some(day(2025, 12, 31)),
            rate_rule: RateRule::TreatingState.as_str_name().into(),
            payer_scheme_code: "RJ-MAA".into(),
            empanelment_scheme_code: "PMJAY".into(),
            status: status.into(),
            status_reason: "MoU under review".into(),
            created_at: ayushman_platform::db::now(),
        }
    }

    fn route(
        rows: &[agreement::Model],
        treating: &str,
        on: NaiveDate,
    ) -> Result<String, RouteDenial> {
        choose_agreement(rows, "RJ-MAA", "08", treating, on)
            .map(|a| a.agreement_id.clone())
            .map_err(|r| r.denial)
    }

    #[test]
    fn an_active_agreement_for_all_states_covers_any_treating_state_in_its_dates() {
        let rows = [agreement("MAA-OUT", "08", "", AgreementStatus::Active)];
        assert_eq!(route(&rows, "24", day(2025, 6, 1)), Ok("MAA-OUT".into()));
        assert_eq!(
            route(&rows, "24", day(2026, 1, 1)),
            Err(RouteDenial::NoAgreement)
        );
    }

    #[test]
    fn a_listed_state_is_covered_and_others_are_not() {
        let rows = [agreement("MAA-GJ", "08", "24,27", AgreementStatus::Active)];
        assert_eq!(route(&rows, "27", day(2025, 6, 1)), Ok("MAA-GJ".into()));
        let refusal = choose_agreement(&rows, "RJ-MAA", "08", "10", day(2025, 6, 1)).unwrap_err();
        assert_eq!(
            refusal.message,
            "no portability agreement lets RJ-MAA card holders from Rajasthan be treated in Bihar"
        );
    }

    #[test]
    fn suspended_and_draft_agreements_refuse_with_their_reason() {
        let suspended = [agreement("MAA-OUT", "08", "", AgreementStatus::Suspended)];
        let refusal =
            choose_agreement(&suspended, "RJ-MAA", "08", "24", day(2025, 6, 1)).unwrap_err();
        assert_eq!(
            refusal,
            Refusal {
                denial: RouteDenial::AgreementSuspended,
                message: "agreement MAA-OUT is suspended: MoU under review".into()
            }
        );
        let draft = [agreement("MAA-OUT", "08", "", AgreementStatus::Draft)];
        assert_eq!(
            route(&draft, "24", day(2025, 6, 1)),
            Err(RouteDenial::NoAgreement)
        );
    }

    #[test]
    fn an_active_agreement_wins_over_a_suspended_one() {
        let rows = [
            agreement("A-OLD", "08", "", AgreementStatus::Suspended),
            agreement("B-NEW", "08", "", AgreementStatus::Active),
        ];
        assert_eq!(route(&rows, "24", day(2025, 6, 1)), Ok("B-NEW".into()));
    }
}

//! Paid claims from the system a state moves from, so the mesh's reports cover
//! the years before it. Each row is validated; legacy ids make imports repeatable.

use ayushman_domain::{HfrId, Money, StateCode, india_time};
use ayushman_platform::{FieldViolations, convert, lifecycle::Stored};
use ayushman_proto::{
    claims::v1::{ClaimStatus, ImportClaimHistoryRequest},
    common::v1::Ownership,
};

use crate::{
    config::ClaimsSettings,
    rules,
    store::entities::claim::{self, MoneyState},
};

/// Validates a history row into a paid claim; every bad field is reported.
pub fn claim_from(
    row: &ImportClaimHistoryRequest,
    settings: &ClaimsSettings,
) -> Result<claim::Model, FieldViolations> {
    let mut v = FieldViolations::new();
    v.require("legacy_claim_id", &row.legacy_claim_id);
    let hfr = v.check("hfr_id", HfrId::parse(&row.hfr_id));
    v.require("district_code", &row.district_code);
    let ownership = v.check(
        "ownership",
        convert::required_enum::<Ownership>("ownership", row.ownership)
            .map_err(|_| "is required: public or private"),
    );
    v.require("patient_reference", &row.patient_reference);
    v.require("payer_scheme_code", &row.payer_scheme_code);
    let payer_state = v.check("payer_state_code", StateCode::parse(&row.payer_state_code));
    let submitted = v.check(
        "submitted_date",
        convert::required_date("submitted_date", row.submitted_date.as_ref())
            .map_err(|_| "is required and must be a real date"),
    );
    let paid = v.check(
        "paid_date",
        convert::required_date("paid_date", row.paid_date.as_ref())
            .map_err(|_| "is required and must be a real date"),
    );
    if let (Some(submitted), Some(paid)) = (submitted, paid)
        && paid < submitted
    {
        v.add("paid_date", "is before submitted_date");
    }
    if paid.is_some_and(|p| p > convert::today_in_india()) {
        v.add("paid_date", "is in the future");
    }
    if row.claimed_amount_paise <= 0 {
        v.add("claimed_amount_paise", "must be positive");
    }
    if row.approved_amount_paise <= 0 || row.approved_amount_paise > row.claimed_amount_paise {
        v.add(
            "approved_amount_paise",
            "must be positive and at most the amount claimed",
        );
    }
    if !v.is_empty() {
        return Err(v);
    }
    let (submitted, paid) = (submitted.unwrap_or_default(), paid.unwrap_or_default());
    let submitted_at = india_time::start_of_day(submitted);
    let paid_at = india_time::start_of_day(paid);
    let due = rules::payment_due(submitted_at, row.portability_case, settings);
    let approved = Money::from_paise(row.approved_amount_paise);
    let id = format!("LEGACY-{}", row.legacy_claim_id.trim());
    Ok(claim::Model {
        claim_id: id.clone(),
        preauth_id: id,
        facility_state_code: hfr.map(|h| h.state().code()).unwrap_or_default(),
        hfr_id: hfr.map(|h| h.to_string()).unwrap_or_default(),
        district_code: row.district_code.trim().to_owned(),
        ownership: ownership.unwrap_or_default().as_str_name().to_owned(),
        beneficiary_id: row.patient_reference.trim().to_owned(),
        portability_case: row.portability_case,
        payer_scheme_code: row.payer_scheme_code.trim().to_ascii_uppercase(),
        payer_state_code: payer_state.map(|s| s.code()).unwrap_or_default(),
        status: Stored(ClaimStatus::Paid),
        claimed_amount_paise: row.claimed_amount_paise,
        approved_amount_paise: row.approved_amount_paise,
        deductions: "[]".into(),
        bill_items: "[]".into(),
        documents: "[]".into(),
        discharge_date: submitted,
        submitted_at,
        payment_due_at: due,
        approved_at: Some(submitted_at),
        paid_at: Some(paid_at),
        penalty_paise: rules::penalty(
            approved,
            due,
            paid_at,
            settings.penalty_basis_points_per_week,
        )
        .paise(),
        payment_batch_id: "LEGACY".into(),
        money_state: MoneyState::Settled,
        queried_at: None,
        specialty_code: row.specialty_code.trim().to_ascii_uppercase(),
    })
}

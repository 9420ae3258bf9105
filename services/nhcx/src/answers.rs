//! What the mesh tells a hospital about its case, from the mesh's own
//! records: the milestone a preauth or claim has reached, and the FHIR answer
//! that reports it. Plain functions of the records; nothing here calls out.

use ayushman_proto::{
    ProtoEnum,
    beneficiary::v1 as b,
    claims::v1::{self as c, ClaimStatus},
    preauth::v1::{self as p, PreauthStatus},
};
use fhir_model::r4b::codes::{RemittanceOutcome, Use};
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

use crate::{
    fhir::write::{ClaimAnswer, Payment, SchemeCover},
    protocol::{Action, ErrorCode, HcxStatus},
};

/// A case a hospital raises: its kind names the case row, the FHIR
/// `Claim.use` it arrives as, and the callback that answers it. Kept in the
/// case row by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CaseKind {
    /// A preauthorisation (`Claim.use` = preauthorization).
    #[sea_orm(string_value = "preauth")]
    Preauth,
    /// A claim for payment (`Claim.use` = claim).
    #[sea_orm(string_value = "claim")]
    Claim,
}

impl CaseKind {
    /// The `Claim.use` of the hospital's bundle and of the mesh's answer.
    pub const fn r#use(self) -> Use {
        match self {
            Self::Preauth => Use::Preauthorization,
            Self::Claim => Use::Claim,
        }
    }

    /// The callback that answers the hospital.
    pub const fn on_submit(self) -> Action {
        match self {
            Self::Preauth => Action::PreauthOnSubmit,
            Self::Claim => Action::ClaimOnSubmit,
        }
    }
}

/// How far a case has come, as far as the hospital is concerned. A new
/// milestone is reported once; statuses between milestones are not. Kept in
/// the case row by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Milestone {
    /// Received and waiting for the payer (PENDING, RAISED, SUBMITTED, under adjudication).
    #[sea_orm(string_value = "queued")]
    Queued,
    /// The payer asked the hospital something.
    #[sea_orm(string_value = "query")]
    Query,
    /// The payer decided (approved, partly, rejected; or the saga failed, or the hospital cancelled).
    #[sea_orm(string_value = "decided")]
    Decided,
    /// A claim was paid.
    #[sea_orm(string_value = "paid")]
    Paid,
}

/// The milestone of a preauth, and whether nothing more will be reported.
pub fn preauth_milestone(status: PreauthStatus) -> (Milestone, bool) {
    use PreauthStatus as S;
    match status {
        S::Unspecified | S::Pending | S::Raised => (Milestone::Queued, false),
        S::Query => (Milestone::Query, false),
        S::Approved | S::Discharged | S::Claimed | S::Rejected | S::Cancelled | S::Failed => {
            (Milestone::Decided, true)
        }
    }
}

/// The milestone of a claim, and whether nothing more will be reported.
pub fn claim_milestone(status: ClaimStatus) -> (Milestone, bool) {
    use ClaimStatus as S;
    match status {
        S::Unspecified | S::Submitted | S::UnderAdjudication | S::PendingFinalApproval => {
            (Milestone::Queued, false)
        }
        S::Query => (Milestone::Query, false),
        S::Approved | S::PartiallyApproved | S::InPaymentBatch => (Milestone::Decided, false),
        S::Rejected => (Milestone::Decided, true),
        S::Paid => (Milestone::Paid, true),
    }
}

/// The x-hcx-status of an answer with this outcome.
pub fn hcx_status(outcome: &RemittanceOutcome) -> HcxStatus {
    match outcome {
        RemittanceOutcome::Queued => HcxStatus::ResponsePartial,
        RemittanceOutcome::Error => HcxStatus::ResponseError,
        RemittanceOutcome::Complete | RemittanceOutcome::Partial => HcxStatus::ResponseComplete,
    }
}

fn last_reason(history: &[ayushman_proto::common::v1::StatusChange]) -> String {
    history
        .last()
        .map(|change| change.reason.trim().to_owned())
        .filter(|reason| !reason.is_empty())
        .unwrap_or_else(|| "no reason given".into())
}

/// The ClaimResponse reporting a preauth where it stands.
pub fn preauth_answer(preauth: &p::Preauth, request_id: &str) -> ClaimAnswer {
    use PreauthStatus as S;
    let status = preauth.status();
    let reason = last_reason(&preauth.history);
    let (outcome, disposition, approved, errors) = match status {
        S::Unspecified | S::Pending => (
            RemittanceOutcome::Queued,
            "received: eligibility and empanelment checks in progress".to_owned(),
            None,
            Vec::new(),
        ),
        S::Raised => (
            RemittanceOutcome::Queued,
            "raised: the amount is blocked; waiting for the payer's review".to_owned(),
            None,
            Vec::new(),
        ),
        S::Query => (
            RemittanceOutcome::Queued,
            format!("query: {reason}"),
            None,
            Vec::new(),
        ),
        S::Approved | S::Discharged | S::Claimed => (
            RemittanceOutcome::Complete,
            if preauth.deemed_approval {
                "approved (deemed: not reviewed within the turnaround time)".to_owned()
            } else {
                "approved".to_owned()
            },
            Some(preauth.approved_amount_paise),
            Vec::new(),
        ),
        S::Rejected => (
            RemittanceOutcome::Complete,
            format!("rejected: {reason}"),
            Some(0),
            Vec::new(),
        ),
        S::Cancelled => (
            RemittanceOutcome::Complete,
            format!("cancelled: {reason}"),
            Some(0),
            Vec::new(),
        ),
        S::Failed => (
            RemittanceOutcome::Error,
            format!("not raised: {}", preauth.failure_reason),
            None,
            vec![(
                ErrorCode::DomainProcessing.as_str().to_owned(),
                preauth.failure_reason.clone(),
            )],
        ),
    };
    ClaimAnswer {
        r#use: Use::Preauthorization,
        request_id: request_id.to_owned(),
        outcome,
        disposition,
        preauth_ref: Some(preauth.preauth_id.clone()),
        requested_paise: preauth.requested_amount_paise,
        approved_paise: approved,
        deductions: Vec::new(),
        errors,
    }
}

/// The ClaimResponse reporting a claim where it stands.
pub fn claim_answer(claim: &c::Claim, request_id: &str) -> ClaimAnswer {
    use ClaimStatus as S;
    let reason = last_reason(&claim.history);
    let deductions: Vec<(String, i64, String)> = claim
        .deductions
        .iter()
        .map(|d| {
            (
                d.code().label().to_owned(),
                d.amount_paise,
                d.reason.clone(),
            )
        })
        .collect();
    let (outcome, disposition, approved) = match claim.status() {
        S::Unspecified | S::Submitted | S::UnderAdjudication | S::PendingFinalApproval => (
            RemittanceOutcome::Queued,
            "submitted: waiting for adjudication".to_owned(),
            None,
        ),
        S::Query => (RemittanceOutcome::Queued, format!("query: {reason}"), None),
        S::Rejected => (
            RemittanceOutcome::Complete,
            format!("rejected: {reason}"),
            Some(0),
        ),
        S::Approved | S::PartiallyApproved | S::InPaymentBatch | S::Paid => {
            if deductions.is_empty() {
                (
                    RemittanceOutcome::Complete,
                    "approved in full".to_owned(),
                    Some(claim.approved_amount_paise),
                )
            } else {
                (
                    RemittanceOutcome::Partial,
                    "approved with deductions".to_owned(),
                    Some(claim.approved_amount_paise),
                )
            }
        }
    };
    ClaimAnswer {
        r#use: Use::Claim,
        request_id: request_id.to_owned(),
        outcome,
        disposition,
        preauth_ref: Some(claim.preauth_id.clone()),
        requested_paise: claim.claimed_amount_paise,
        approved_paise: approved,
        deductions,
        errors: Vec::new(),
    }
}

/// The payment of a paid claim.
pub fn payment(claim: &c::Claim, request_id: &str) -> Payment {
    // The day in India it was paid.
    let india = chrono::FixedOffset::east_opt(19_800);
    let paid_on = claim
        .paid_at
        .as_ref()
        .and_then(|at| chrono::DateTime::from_timestamp(at.seconds, 0))
        .zip(india)
        .map_or_else(ayushman_platform::convert::today_in_india, |(at, india)| {
            at.with_timezone(&india).date_naive()
        });
    Payment {
        request_id: request_id.to_owned(),
        claim_id: claim.claim_id.clone(),
        batch_id: claim.payment_batch_id.clone(),
        amount_paise: claim.approved_amount_paise + claim.penalty_paise,
        paid_on,
    }
}

/// The covers of an eligibility answer.
pub fn covers(eligibility: &b::VerifyEligibilityResponse) -> Vec<SchemeCover> {
    eligibility
        .schemes
        .iter()
        .map(|scheme| SchemeCover {
            scheme_code: scheme.scheme_code.clone(),
            eligible: scheme.eligible,
            reason: (!scheme.eligible)
                .then(|| scheme.reason().label().to_lowercase().replace('_', " ")),
            wallets: scheme
                .wallets
                .iter()
                .map(|w| {
                    (
                        w.kind().label().to_lowercase().replace('_', " "),
                        w.cover_paise,
                        w.blocked_paise + w.consumed_paise,
                    )
                })
                .collect(),
        })
        .collect()
}

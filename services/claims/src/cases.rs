//! A claim's life: submission, adjudication with deductions, final approval,
//! queries, and the wallet moves each decision owes.
//!
//! A decision is committed first — one compare-and-set on the claim's status,
//! its history row and the request's reply in one transaction — and the money
//! follows: consume or release at the beneficiary registry, keyed by the claim
//! so a repeat moves nothing twice. A portability case is paid like any other,
//! by the home state's batch straight to the hospital: no second debt between
//! states is recorded. Of two concurrent decisions only the
//! winner's money moves; a move a crash or an unreachable registry left owed
//! is finished by the background pass.

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError,
    convert::today_in_india,
    db::{self, idempotency::OnCommit, is_unique_violation},
    ids,
    lifecycle::{self, Actor, Lifecycle, Stored},
};
use ayushman_proto::{
    claims::v1::{AdjudicationDecision, BillItem, ClaimStatus, Deduction, DocumentRef},
    common::v1::Ownership,
    preauth::v1::PreauthStatus,
};
use sea_orm::{ActiveModelTrait, IntoActiveModel};

use crate::{
    Context, rules,
    store::{
        CLAIM_HISTORY,
        entities::{
            claim::{self, MoneyState},
            society_credit,
        },
        queries,
    },
};

/// The statuses of a claim and the moves between them.
pub struct Claims;

impl Lifecycle for Claims {
    type Status = ClaimStatus;
    const NOUN: &'static str = "claim";
    const MOVES: &'static [(ClaimStatus, ClaimStatus)] = {
        use ClaimStatus::*;
        &[
            (Submitted, PendingFinalApproval),
            (Submitted, Approved),
            (Submitted, PartiallyApproved),
            (Submitted, Rejected),
            (Submitted, Query),
            (UnderAdjudication, PendingFinalApproval),
            (UnderAdjudication, Approved),
            (UnderAdjudication, PartiallyApproved),
            (UnderAdjudication, Rejected),
            (UnderAdjudication, Query),
            (Query, UnderAdjudication),
            (PendingFinalApproval, Approved),
            (PendingFinalApproval, PartiallyApproved),
            (Approved, InPaymentBatch),
            (PartiallyApproved, InPaymentBatch),
            (InPaymentBatch, Paid),
        ]
    };
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// Bill items, documents or deductions stored as JSON.
pub fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A bill item as stored.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredBillItem {
    pub description: String,
    pub package_code: String,
    pub amount_paise: i64,
}

/// A document reference as stored.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredDocument {
    pub kind: i32,
    pub file_name: String,
    pub sha256: String,
    pub uri: String,
}

/// A deduction as stored.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredDeduction {
    pub code: i32,
    pub amount_paise: i64,
    pub reason: String,
}

async fn load(context: &Context, id: &str) -> Result<claim::Model, ApiError> {
    queries::find_claim(&context.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no claim {id}")))
}

/// Commits a decision about `row`: the claim with status `to` (provided it
/// still has the status it was read with), its history row and whatever the
/// request keeps (its reply), in one transaction.
async fn decide(
    context: &Context,
    row: claim::Model,
    to: ClaimStatus,
    reason: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<claim::Model>,
) -> Result<claim::Model, ApiError> {
    let transition = Claims::transition(&row.claim_id, *row.status, to)?;
    let txn = db::begin_write(&context.db).await?;
    let saved = lifecycle::save(
        &txn,
        row.into_active_model().reset_all(),
        claim::Column::Status,
        transition,
    )
    .await?;
    CLAIM_HISTORY
        .append(&txn, &[&saved.claim_id], to.as_str_name(), reason, actor)
        .await?;
    on_commit.run(&txn, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Submits the claim of a discharged preauth: one claim per preauth.
pub async fn submit(
    context: &Context,
    preauth_id: &str,
    bill: Vec<BillItem>,
    documents: Vec<DocumentRef>,
    actor: &Actor,
    on_commit: &dyn OnCommit<claim::Model>,
) -> Result<claim::Model, ApiError> {
    if let Some(existing) = queries::claim_of_preauth(&context.db, preauth_id).await? {
        return Err(already_claimed(preauth_id, &existing.claim_id));
    }
    let preauth = context.peers.preauth(preauth_id).await?;
    if preauth.status() != PreauthStatus::Discharged {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {preauth_id} is {}; a claim needs a discharged preauth",
            preauth
                .status()
                .as_str_name()
                .trim_start_matches("PREAUTH_STATUS_")
        )));
    }
    let discharged = ayushman_platform::convert::required_date(
        "discharge_date",
        preauth.discharge_date.as_ref(),
    )?;
    if let Some(why) = rules::late_submission(
        discharged,
        today_in_india(),
        context.settings.submission_window_days,
    ) {
        return Err(ApiError::FailedPrecondition(why));
    }
    let billed = Money::checked_sum(bill.iter().map(|i| Money::from_paise(i.amount_paise)))
        .ok_or_else(|| ApiError::invalid("bill_items", "the bill total is too large"))?;
    // A claim is for at most what was approved (enhancements approved included).
    let claimed = billed.min(Money::from_paise(preauth.approved_amount_paise));
    let now = db::now();
    let row = claim::Model {
        claim_id: ids::ordered_id("CL"),
        preauth_id: preauth_id.to_owned(),
        hfr_id: preauth.hfr_id.clone(),
        district_code: preauth.facility_district_code.clone(),
        facility_state_code: preauth.facility_state_code.clone(),
        ownership: preauth.facility_ownership().as_str_name().to_owned(),
        beneficiary_id: preauth.beneficiary_id.clone(),
        portability_case: preauth.portability_case,
        payer_scheme_code: preauth.payer_scheme_code.clone(),
        payer_state_code: preauth.payer_state_code.clone(),
        status: Stored(ClaimStatus::Submitted),
        claimed_amount_paise: claimed.paise(),
        approved_amount_paise: 0,
        deductions: "[]".into(),
        bill_items: json(
            &bill
                .iter()
                .map(|i| StoredBillItem {
                    description: i.description.clone(),
                    package_code: i.package_code.clone(),
                    amount_paise: i.amount_paise,
                })
                .collect::<Vec<_>>(),
        ),
        documents: json(
            &documents
                .iter()
                .map(|d| StoredDocument {
                    kind: d.kind,
                    file_name: d.file_name.clone(),
                    sha256: d.sha256.clone(),
                    uri: d.uri.clone(),
                })
                .collect::<Vec<_>>(),
        ),
        discharge_date: discharged,
        submitted_at: now,
        payment_due_at: rules::payment_due(now, preauth.portability_case, &context.settings),
        approved_at: None,
        paid_at: None,
        penalty_paise: 0,
        payment_batch_id: String::new(),
        money_state: MoneyState::None,
        queried_at: None,
        specialty_code: preauth
            .lines
            .first()
            .map(|line| line.specialty_code.clone())
            .unwrap_or_default(),
    };
    let txn = db::begin_write(&context.db).await?;
    if let Some(existing) = queries::claim_of_preauth(&txn, preauth_id).await? {
        return Err(already_claimed(preauth_id, &existing.claim_id));
    }
    match queries::insert_claim(&txn, row.clone()).await {
        Err(error) if is_unique_violation(&error) => {
            return Err(ApiError::AlreadyExists(format!(
                "preauth {preauth_id} was claimed by another request just now"
            )));
        }
        outcome => outcome?,
    }
    CLAIM_HISTORY
        .append(
            &txn,
            &[&row.claim_id],
            ClaimStatus::Submitted.as_str_name(),
            &format!("{claimed} claimed of a {billed} bill"),
            actor,
        )
        .await?;
    on_commit.run(&txn, &row).await?;
    txn.commit().await?;
    Ok(row)
}

fn already_claimed(preauth_id: &str, claim_id: &str) -> ApiError {
    ApiError::AlreadyExists(format!(
        "preauth {preauth_id} is claimed already by {claim_id}"
    ))
}

/// The adjudicator's decision. Approvals above the final-approval amount wait;
/// the others move the money once decided.
pub async fn adjudicate(
    context: &Context,
    id: &str,
    decision: AdjudicationDecision,
    deductions: Vec<Deduction>,
    reason: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<claim::Model>,
) -> Result<claim::Model, ApiError> {
    let mut row = load(context, id).await?;
    match decision {
        AdjudicationDecision::Approve | AdjudicationDecision::PartiallyApprove => {
            let deducted =
                Money::checked_sum(deductions.iter().map(|d| Money::from_paise(d.amount_paise)))
                    .unwrap_or(Money::from_paise(i64::MAX));
            let claimed = Money::from_paise(row.claimed_amount_paise);
            let approved = claimed.checked_sub(deducted).filter(|a| *a > Money::ZERO).ok_or_else(|| {
                ApiError::invalid("deductions", format!("deductions of {deducted} leave nothing of the {claimed} claimed; reject instead"))
            })?;
            row.approved_amount_paise = approved.paise();
            row.deductions = json(
                &deductions
                    .iter()
                    .map(|d| StoredDeduction {
                        code: d.code,
                        amount_paise: d.amount_paise,
                        reason: d.reason.clone(),
                    })
                    .collect::<Vec<_>>(),
            );
            let threshold = Money::from_rupees(context.settings.final_approval_above_rupees)
                .unwrap_or(Money::from_paise(i64::MAX));
            if approved > threshold {
                let note = format!(
                    "adjudicated at {approved}; above {threshold}, waiting for final approval"
                );
                return decide(
                    context,
                    row,
                    ClaimStatus::PendingFinalApproval,
                    &note,
                    actor,
                    on_commit,
                )
                .await;
            }
            finalize(context, row, actor, on_commit).await
        }
        AdjudicationDecision::Reject => {
            row.money_state = MoneyState::ReleaseOwed;
            let row = decide(
                context,
                row,
                ClaimStatus::Rejected,
                reason,
                actor,
                on_commit,
            )
            .await?;
            Ok(move_money_now(context, row).await)
        }
        AdjudicationDecision::Query => {
            row.queried_at = Some(db::now());
            decide(context, row, ClaimStatus::Query, reason, actor, on_commit).await
        }
        AdjudicationDecision::Unspecified => Err(ApiError::invalid("decision", "is required")),
    }
}

/// Final approval of a claim above the final-approval amount.
pub async fn approve(
    context: &Context,
    id: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<claim::Model>,
) -> Result<claim::Model, ApiError> {
    let row = load(context, id).await?;
    finalize(context, row, actor, on_commit).await
}

/// Approves the claim at its adjudicated amount, then moves the money.
async fn finalize(
    context: &Context,
    mut row: claim::Model,
    actor: &Actor,
    on_commit: &dyn OnCommit<claim::Model>,
) -> Result<claim::Model, ApiError> {
    let approved = Money::from_paise(row.approved_amount_paise);
    let partial = row.approved_amount_paise < row.claimed_amount_paise;
    let (status, note) = if partial {
        (
            ClaimStatus::PartiallyApproved,
            format!(
                "approved {approved} of {} claimed",
                Money::from_paise(row.claimed_amount_paise)
            ),
        )
    } else {
        (ClaimStatus::Approved, format!("approved {approved}"))
    };
    row.approved_at = Some(db::now());
    row.money_state = MoneyState::ConsumeOwed;
    let row = decide(context, row, status, &note, actor, on_commit).await?;
    Ok(move_money_now(context, row).await)
}

/// Moves the money a decision owes; when that cannot be done now (the
/// registry is unreachable) the decision stands and the background pass moves it.
async fn move_money_now(context: &Context, row: claim::Model) -> claim::Model {
    match move_money(context, &row).await {
        Ok(()) => claim::Model {
            money_state: MoneyState::Settled,
            ..row
        },
        Err(error) => {
            tracing::warn!(claim_id = %row.claim_id, %error, "wallet move deferred to the background pass");
            row
        }
    }
}

/// The wallet moves a decided claim owes, each idempotent by the claim:
/// consume the approved amount and release the rest (crediting a public
/// hospital's society), or release everything for a rejection.
async fn move_money(context: &Context, row: &claim::Model) -> Result<(), ApiError> {
    match row.money_state {
        MoneyState::ConsumeOwed => {
            let approved = Money::from_paise(row.approved_amount_paise);
            context
                .peers
                .consume(&row.claim_id, &row.preauth_id, approved)
                .await?;
            let approved_at = row.approved_at.unwrap_or_else(db::now);
            if row.ownership == Ownership::Public.as_str_name() {
                let society = context.peers.society(&row.hfr_id).await?;
                queries::insert_credit(
                    &context.db,
                    society_credit::Model {
                        claim_id: row.claim_id.clone(),
                        hfr_id: row.hfr_id.clone(),
                        society_name: society,
                        beneficiary_id: row.beneficiary_id.clone(),
                        amount_paise: approved.paise(),
                        credited_at: approved_at,
                    },
                )
                .await?;
            }
        }
        MoneyState::ReleaseOwed => {
            context
                .peers
                .release(&row.claim_id, &row.preauth_id)
                .await?;
        }
        MoneyState::None | MoneyState::Settled => return Ok(()),
    }
    queries::money_settled(&context.db, &row.claim_id, row.money_state).await?;
    Ok(())
}

/// One pass of the background worker: moves the money of every decision
/// that still owes it. Errors are logged; the next pass retries.
pub async fn background_pass(context: &Context) {
    match queries::money_owed(&context.db).await {
        Ok(rows) => {
            for row in rows {
                if let Err(error) = move_money(context, &row).await {
                    tracing::warn!(claim_id = %row.claim_id, %error, "wallet move not done yet; retrying on the next pass");
                }
            }
        }
        Err(error) => tracing::error!(%error, "cannot read claims owing wallet moves"),
    }
}

/// The hospital answers a query; the claim goes back for adjudication.
pub async fn respond(
    context: &Context,
    id: &str,
    response: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<claim::Model>,
) -> Result<claim::Model, ApiError> {
    let mut row = load(context, id).await?;
    // The settlement clock stood still while the hospital had the query.
    if let Some(queried_at) = row.queried_at.take() {
        row.payment_due_at += db::now() - queried_at;
    }
    decide(
        context,
        row,
        ClaimStatus::UnderAdjudication,
        &format!("query answered: {response}"),
        actor,
        on_commit,
    )
    .await
}

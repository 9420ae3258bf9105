//! A claim's life: submission, adjudication with deductions, final approval
//! with the money moves, queries, payment batches and payment.

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError,
    convert::{today_in_india, year_month},
    db, ids,
};
use ayushman_proto::{
    claims::v1::{
        AdjudicationDecision, BillItem, ClaimStatus, Deduction, DocumentRef, PaymentBatchStatus,
    },
    common::v1::Ownership,
    preauth::v1::PreauthStatus,
};
use chrono::{DateTime, Datelike, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection};

use crate::{
    Context, rules,
    store::{
        entities::{claim, claim_history, payment_batch, society_credit},
        queries,
    },
};

/// Who causes a change, for the history.
pub struct Actor {
    pub id: String,
    pub kind: String,
    pub trace_id: String,
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

async fn record(
    db: &DatabaseConnection,
    mut row: claim::Model,
    status: ClaimStatus,
    reason: &str,
    actor: &Actor,
) -> Result<claim::Model, ApiError> {
    let txn = db::begin_write(db).await?;
    row.status = status.as_str_name().to_owned();
    let row = queries::save_claim(&txn, row).await?;
    queries::append_history(
        &txn,
        claim_history::ActiveModel {
            claim_id: Set(row.claim_id.clone()),
            status: Set(status.as_str_name().to_owned()),
            reason: Set(reason.to_owned()),
            actor_id: Set(actor.id.clone()),
            actor_kind: Set(actor.kind.clone()),
            trace_id: Set(actor.trace_id.clone()),
            changed_at: Set(db::now()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

async fn load(context: &Context, id: &str) -> Result<claim::Model, ApiError> {
    queries::find_claim(&context.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no claim {id}")))
}

fn status_of(row: &claim::Model) -> ClaimStatus {
    ClaimStatus::from_str_name(&row.status).unwrap_or_default()
}

fn expect(row: &claim::Model, allowed: &[ClaimStatus], action: &str) -> Result<(), ApiError> {
    if allowed.contains(&status_of(row)) {
        return Ok(());
    }
    let name = |s: ClaimStatus| {
        s.as_str_name()
            .trim_start_matches("CLAIM_STATUS_")
            .to_owned()
    };
    Err(ApiError::FailedPrecondition(format!(
        "claim {} is {}; it can be {action} only when {}",
        row.claim_id,
        name(status_of(row)),
        allowed
            .iter()
            .map(|s| name(*s))
            .collect::<Vec<_>>()
            .join(" or ")
    )))
}

/// Submits the claim of a discharged preauth; one claim per preauth, so a
/// repeat answers with the claim already submitted.
pub async fn submit(
    context: &Context,
    preauth_id: &str,
    bill: Vec<BillItem>,
    documents: Vec<DocumentRef>,
    actor: &Actor,
) -> Result<claim::Model, ApiError> {
    if let Some(existing) = queries::claim_of_preauth(&context.db, preauth_id).await? {
        return Ok(existing);
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
    let claimed = billed.min(Money::from_paise(preauth.blocked_amount_paise));
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
        status: ClaimStatus::Submitted.as_str_name().to_owned(),
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
    };
    let txn = db::begin_write(&context.db).await?;
    if queries::claim_of_preauth(&txn, preauth_id).await?.is_none() {
        queries::insert_claim(&txn, row.clone()).await?;
        queries::append_history(
            &txn,
            claim_history::ActiveModel {
                claim_id: Set(row.claim_id.clone()),
                status: Set(ClaimStatus::Submitted.as_str_name().to_owned()),
                reason: Set(format!("{claimed} claimed of a {billed} bill")),
                actor_id: Set(actor.id.clone()),
                actor_kind: Set(actor.kind.clone()),
                trace_id: Set(actor.trace_id.clone()),
                changed_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
    }
    txn.commit().await?;
    queries::claim_of_preauth(&context.db, preauth_id)
        .await?
        .ok_or_else(|| ApiError::internal("claim vanished"))
}

/// The adjudicator's decision. Approvals above the final-approval amount wait;
/// the others move the money at once.
pub async fn adjudicate(
    context: &Context,
    id: &str,
    decision: AdjudicationDecision,
    deductions: Vec<Deduction>,
    reason: &str,
    actor: &Actor,
) -> Result<claim::Model, ApiError> {
    let mut row = load(context, id).await?;
    expect(
        &row,
        &[ClaimStatus::Submitted, ClaimStatus::UnderAdjudication],
        "adjudicated",
    )?;
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
                return record(
                    &context.db,
                    row,
                    ClaimStatus::PendingFinalApproval,
                    &note,
                    actor,
                )
                .await;
            }
            finalize(context, row, actor).await
        }
        AdjudicationDecision::Reject => {
            context.peers.release(id, &row.preauth_id).await?;
            record(&context.db, row, ClaimStatus::Rejected, reason, actor).await
        }
        AdjudicationDecision::Query => {
            record(&context.db, row, ClaimStatus::Query, reason, actor).await
        }
        AdjudicationDecision::Unspecified => Err(ApiError::invalid("decision", "is required")),
    }
}

/// Final approval of a claim above the final-approval amount.
pub async fn approve(context: &Context, id: &str, actor: &Actor) -> Result<claim::Model, ApiError> {
    let row = load(context, id).await?;
    expect(
        &row,
        &[ClaimStatus::PendingFinalApproval],
        "finally approved",
    )?;
    finalize(context, row, actor).await
}

/// Moves the money of an approved claim (each move idempotent by claim id, so a
/// retry after a peer failure repeats nothing): consume and release the rest,
/// record the inter-state settlement, credit a public hospital's society.
async fn finalize(
    context: &Context,
    mut row: claim::Model,
    actor: &Actor,
) -> Result<claim::Model, ApiError> {
    let approved = Money::from_paise(row.approved_amount_paise);
    context
        .peers
        .consume(&row.claim_id, &row.preauth_id, approved)
        .await?;
    let now = db::now();
    if row.portability_case {
        let month = year_month(now.year() * 100 + now.month() as i32);
        context
            .peers
            .settle(
                &row.claim_id,
                &row.payer_scheme_code,
                &row.payer_state_code,
                &row.facility_state_code,
                approved,
                month,
            )
            .await?;
    }
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
                credited_at: now,
            },
        )
        .await?;
    }
    row.approved_at = Some(now);
    let partial = row.approved_amount_paise < row.claimed_amount_paise;
    let status = if partial {
        ClaimStatus::PartiallyApproved
    } else {
        ClaimStatus::Approved
    };
    let note = if partial {
        format!(
            "approved {approved} of {} claimed",
            Money::from_paise(row.claimed_amount_paise)
        )
    } else {
        format!("approved {approved}")
    };
    record(&context.db, row, status, &note, actor).await
}

/// The hospital answers a query; the claim goes back for adjudication.
pub async fn respond(
    context: &Context,
    id: &str,
    response: &str,
    actor: &Actor,
) -> Result<claim::Model, ApiError> {
    let row = load(context, id).await?;
    expect(&row, &[ClaimStatus::Query], "answered")?;
    record(
        &context.db,
        row,
        ClaimStatus::UnderAdjudication,
        &format!("query answered: {response}"),
        actor,
    )
    .await
}

/// A batch with its claims.
pub type Batch = (payment_batch::Model, Vec<claim::Model>);

/// Puts a payer's approved claims, approved before `cutoff`, into a new batch.
pub async fn create_batch(
    context: &Context,
    scheme: &str,
    state: &str,
    cutoff: DateTime<Utc>,
    actor: &Actor,
) -> Result<Batch, ApiError> {
    let statuses = [
        ClaimStatus::Approved.as_str_name(),
        ClaimStatus::PartiallyApproved.as_str_name(),
    ];
    let batch = payment_batch::Model {
        payment_batch_id: ids::ordered_id("PB"),
        payer_scheme_code: scheme.to_owned(),
        payer_state_code: state.to_owned(),
        status: PaymentBatchStatus::Created.as_str_name().to_owned(),
        payment_reference: String::new(),
        created_at: db::now(),
        paid_at: None,
    };
    queries::insert_batch(&context.db, batch.clone()).await?;
    for mut row in queries::payable(&context.db, scheme, state, &statuses, cutoff).await? {
        row.payment_batch_id = batch.payment_batch_id.clone();
        record(
            &context.db,
            row,
            ClaimStatus::InPaymentBatch,
            &format!("in payment batch {}", batch.payment_batch_id),
            actor,
        )
        .await?;
    }
    get_batch(context, &batch.payment_batch_id).await
}

pub async fn get_batch(context: &Context, id: &str) -> Result<Batch, ApiError> {
    let batch = queries::find_batch(&context.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no payment batch {id}")))?;
    let claims = queries::claims_of_batch(&context.db, id).await?;
    Ok((batch, claims))
}

/// Marks a batch paid at `paid_at`; each claim's penalty is fixed then.
pub async fn mark_paid(
    context: &Context,
    id: &str,
    reference: &str,
    paid_at: DateTime<Utc>,
    actor: &Actor,
) -> Result<Batch, ApiError> {
    let (mut batch, claims) = get_batch(context, id).await?;
    if batch.status == PaymentBatchStatus::Paid.as_str_name() {
        return Ok((batch, claims));
    }
    for mut row in claims {
        let penalty = rules::penalty(
            Money::from_paise(row.approved_amount_paise),
            row.payment_due_at,
            paid_at,
            context.settings.penalty_basis_points_per_week,
        );
        row.paid_at = Some(paid_at);
        row.penalty_paise = penalty.paise();
        let note = if penalty > Money::ZERO {
            format!("paid ({reference}) late; penalty {penalty}")
        } else {
            format!("paid ({reference})")
        };
        record(&context.db, row, ClaimStatus::Paid, &note, actor).await?;
    }
    batch.status = PaymentBatchStatus::Paid.as_str_name().to_owned();
    batch.payment_reference = reference.to_owned();
    batch.paid_at = Some(paid_at);
    queries::save_batch(&context.db, batch).await?;
    get_batch(context, id).await
}

//! Payment batches: a payer's approved claims gathered for the treasury, then
//! marked paid with each claim's late-payment penalty. Each is one
//! transaction: a batch is made whole or not at all, paid whole or not at all.

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError,
    db::{self, idempotency::OnCommit},
    ids,
    lifecycle::{self, Actor, Lifecycle, Stored},
};
use ayushman_proto::claims::v1::{ClaimStatus, PaymentBatchStatus};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, IntoActiveModel, Set};

use crate::{
    Context, rules,
    store::{
        CLAIM_HISTORY,
        entities::{claim, payment_batch},
        queries,
    },
};

/// The statuses of a payment batch: created, then paid.
pub struct Batches;

impl Lifecycle for Batches {
    type Status = PaymentBatchStatus;
    const NOUN: &'static str = "payment batch";
    const MOVES: &'static [(PaymentBatchStatus, PaymentBatchStatus)] =
        &[(PaymentBatchStatus::Created, PaymentBatchStatus::Paid)];
}

/// A batch with its claims.
pub type Batch = (payment_batch::Model, Vec<claim::Model>);

async fn batch_of(db: &impl ConnectionTrait, id: &str) -> Result<Batch, ApiError> {
    let batch = queries::find_batch(db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no payment batch {id}")))?;
    let claims = queries::claims_of_batch(db, id).await?;
    Ok((batch, claims))
}

pub async fn get_batch(context: &Context, id: &str) -> Result<Batch, ApiError> {
    batch_of(&context.db, id).await
}

/// Puts a payer's approved claims (approved before `cutoff`, money moved)
/// into a new batch, in one transaction.
pub async fn create_batch(
    context: &Context,
    scheme: &str,
    state: &str,
    cutoff: DateTime<Utc>,
    actor: &Actor,
    on_commit: &dyn OnCommit<Batch>,
) -> Result<Batch, ApiError> {
    let batch = payment_batch::Model {
        payment_batch_id: ids::ordered_id("PB"),
        payer_scheme_code: scheme.to_owned(),
        payer_state_code: state.to_owned(),
        status: Stored(PaymentBatchStatus::Created),
        payment_reference: String::new(),
        created_at: db::now(),
        paid_at: None,
    };
    let id = batch.payment_batch_id.clone();
    let txn = db::begin_write(&context.db).await?;
    let payable = queries::payable(&txn, scheme, state, cutoff).await?;
    queries::insert_batch(&txn, batch).await?;
    let moved = queries::put_in_batch(&txn, &id, &payable).await?;
    if moved != payable.len() as u64 {
        return Err(ApiError::Aborted(
            "claims changed while the batch was made; make it again".into(),
        ));
    }
    let note = format!("in payment batch {id}");
    for claim_id in &payable {
        CLAIM_HISTORY
            .append(
                &txn,
                &[claim_id],
                ClaimStatus::InPaymentBatch.as_str_name(),
                &note,
                actor,
            )
            .await?;
    }
    let made = batch_of(&txn, &id).await?;
    on_commit.run(&txn, &made).await?;
    txn.commit().await?;
    Ok(made)
}

/// Marks a batch paid at `paid_at` (not before the batch was made, not in the
/// future), fixing each claim's penalty, in one transaction.
pub async fn mark_paid(
    context: &Context,
    id: &str,
    reference: &str,
    paid_at: DateTime<Utc>,
    actor: &Actor,
    on_commit: &dyn OnCommit<Batch>,
) -> Result<Batch, ApiError> {
    let (batch, claims) = get_batch(context, id).await?;
    let transition = Batches::transition(id, *batch.status, PaymentBatchStatus::Paid)?;
    if paid_at < batch.created_at {
        return Err(ApiError::invalid(
            "paid_at",
            format!("is before the batch was made ({})", batch.created_at),
        ));
    }
    if paid_at > db::now() {
        return Err(ApiError::invalid("paid_at", "is in the future"));
    }
    let txn = db::begin_write(&context.db).await?;
    let mut paid = batch.into_active_model();
    paid.payment_reference = Set(reference.to_owned());
    paid.paid_at = Set(Some(paid_at));
    lifecycle::save(&txn, paid, payment_batch::Column::Status, transition).await?;
    for row in &claims {
        let penalty = rules::penalty(
            Money::from_paise(row.approved_amount_paise),
            row.payment_due_at,
            paid_at,
            context.settings.penalty_basis_points_per_week,
        );
        if !queries::mark_claim_paid(&txn, &row.claim_id, id, paid_at, penalty.paise()).await? {
            return Err(ApiError::Aborted(format!(
                "claim {} left the batch while it was paid; read the batch again",
                row.claim_id
            )));
        }
        let note = if penalty > Money::ZERO {
            format!("paid ({reference}) late; penalty {penalty}")
        } else {
            format!("paid ({reference})")
        };
        CLAIM_HISTORY
            .append(
                &txn,
                &[&row.claim_id],
                ClaimStatus::Paid.as_str_name(),
                &note,
                actor,
            )
            .await?;
    }
    let done = batch_of(&txn, id).await?;
    on_commit.run(&txn, &done).await?;
    txn.commit().await?;
    Ok(done)
}

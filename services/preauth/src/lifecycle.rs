//! What happens to a raised preauth: review (approve, reject, query), the
//! hospital's answer to a query, enhancement, cancellation and discharge.
//!
//! Each decision is committed first — one compare-and-set on the status, its
//! history row and the request's reply in one transaction — and money the
//! decision gives back follows (released by the saga's compensation, resumed
//! by the background worker when the registry cannot be reached), so of two
//! concurrent decisions only the winner's money moves.

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError, MeshService, db,
    db::idempotency::{Nothing, OnCommit},
    lifecycle::Actor,
};
use ayushman_proto::{
    ProtoEnum,
    preauth::v1::{PreauthStatus, ReviewDecision},
};
use chrono::NaiveDate;

use crate::{
    Context,
    saga::{self, stored},
    store::{
        entities::preauth::{self, SagaState},
        queries,
    },
};

/// A reviewer's decision. Approving less than requested releases the difference.
pub async fn review(
    context: &Context,
    id: &str,
    decision: ReviewDecision,
    approved: Option<Money>,
    reason: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let mut row = stored(context, id).await?;
    match decision {
        ReviewDecision::Approve => {
            let requested = Money::from_paise(row.requested_amount_paise);
            let approved = approved.unwrap_or(requested);
            if approved > requested {
                return Err(ApiError::invalid(
                    "approved_amount_paise",
                    format!("is more than the {requested} requested"),
                ));
            }
            row.approved_amount_paise = approved.paise();
            if approved < requested {
                row.saga_state = SagaState::Trimming;
            }
            let note = if reason.is_empty() {
                format!("approved for {approved}")
            } else {
                format!("approved for {approved}: {reason}")
            };
            let row = saga::record(
                context,
                row,
                PreauthStatus::Approved,
                &note,
                actor,
                on_commit,
            )
            .await?;
            saga::compensate(context, row).await
        }
        ReviewDecision::Query => {
            saga::record(context, row, PreauthStatus::Query, reason, actor, on_commit).await
        }
        ReviewDecision::Reject => {
            row.saga_state = SagaState::Compensating;
            let row = saga::record(
                context,
                row,
                PreauthStatus::Rejected,
                reason,
                actor,
                on_commit,
            )
            .await?;
            saga::compensate(context, row).await
        }
        ReviewDecision::Unspecified => Err(ApiError::invalid("decision", "is required")),
    }
}

/// The hospital answers a query; the preauth goes back for review.
pub async fn respond(
    context: &Context,
    id: &str,
    response: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let mut row = stored(context, id).await?;
    if row.status != PreauthStatus::Query {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {id} is {}; only a queried preauth can be answered",
            row.status.label()
        )));
    }
    // The review turnaround counts again from the hospital's answer.
    row.review_clock_from = Some(db::now());
    saga::record(
        context,
        row,
        PreauthStatus::Raised,
        &format!("query answered: {response}"),
        actor,
        on_commit,
    )
    .await
}

/// Cancels a preauth and releases what it holds.
pub async fn cancel(
    context: &Context,
    id: &str,
    reason: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let mut row = stored(context, id).await?;
    row.saga_state = SagaState::Compensating;
    let row = saga::record(
        context,
        row,
        PreauthStatus::Cancelled,
        reason,
        actor,
        on_commit,
    )
    .await?;
    saga::compensate(context, row).await
}

/// Records the discharge of an approved preauth.
pub async fn discharge(
    context: &Context,
    id: &str,
    day: NaiveDate,
    summary: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let mut row = stored(context, id).await?;
    if day < row.admission_date {
        return Err(ApiError::invalid(
            "discharge_date",
            format!("is before the admission on {}", row.admission_date),
        ));
    }
    if day > ayushman_platform::convert::today_in_india() {
        return Err(ApiError::invalid("discharge_date", "is in the future"));
    }
    row.discharge_date = Some(day);
    let note = if summary.is_empty() {
        format!("discharged on {day}")
    } else {
        format!("discharged on {day}: {summary}")
    };
    saga::record(
        context,
        row,
        PreauthStatus::Discharged,
        &note,
        actor,
        on_commit,
    )
    .await
}

/// Deems approved every preauth whose review turnaround (from its raise, or
/// the hospital's last answer to a query) ended before `cutoff` without a
/// decision — except flagged cases and cases above the deemed-approval limit,
/// which wait for a reviewer however long it takes.
pub async fn deem_approvals(
    context: &Context,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<usize, ApiError> {
    let limit = Money::from_rupees(context.settings.deemed_approval_max_rupees)
        .unwrap_or(Money::from_paise(i64::MAX));
    let due = queries::review_due_before(&context.db, cutoff, limit.paise()).await?;
    let mut deemed = 0;
    let actor = Actor::system(MeshService::Preauth);
    for mut row in due {
        row.approved_amount_paise = row.requested_amount_paise;
        row.deemed_approval = true;
        let reason = format!(
            "deemed approved: not reviewed within {} minutes",
            context.settings.deemed_approval_minutes
        );
        match saga::record(
            context,
            row,
            PreauthStatus::Approved,
            &reason,
            &actor,
            &Nothing,
        )
        .await
        {
            Ok(_) => deemed += 1,
            // A reviewer decided it meanwhile.
            Err(ApiError::Aborted(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(deemed)
}

/// One pass of the background worker: resume sagas left RUNNING, retry owed
/// releases, deem overdue approvals. Errors are logged; the next pass retries.
pub async fn background_pass(context: &Context) {
    let quiet_for = chrono::Duration::milliseconds(
        i64::try_from(context.settings.background_interval_ms).unwrap_or(i64::MAX),
    );
    let owed = [
        SagaState::Running,
        SagaState::Compensating,
        SagaState::Trimming,
    ];
    match queries::with_saga_state(&context.db, &owed).await {
        Ok(rows) => {
            for row in rows {
                let result = if row.saga_state != SagaState::Running {
                    saga::compensate(context, row).await.map(|_| ())
                } else if row.updated_at < db::now() - quiet_for {
                    // Left RUNNING by a crash or an unreachable peer, not by a request in flight.
                    saga::run(
                        context,
                        &row.preauth_id,
                        &Actor::system(MeshService::Preauth),
                    )
                    .await
                    .map(|_| ())
                } else {
                    Ok(())
                };
                if let Err(error) = result {
                    tracing::warn!(%error, "saga not finished yet; retrying on the next pass");
                }
            }
        }
        Err(error) => tracing::error!(%error, "cannot read unfinished sagas"),
    }
    let minutes = i64::try_from(context.settings.deemed_approval_minutes).unwrap_or(i64::MAX);
    if let Err(error) =
        deem_approvals(context, db::now() - chrono::Duration::minutes(minutes)).await
    {
        tracing::error!(%error, "deemed approval pass failed");
    }
}

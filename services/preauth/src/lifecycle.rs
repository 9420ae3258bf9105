//! What happens to a raised preauth: review (approve, reject, query), the
//! hospital's answer to a query, enhancement, cancellation and discharge.
//!
//! Each decision is committed first — one compare-and-set on the status, its
//! history row and the request's reply in one transaction — and money the
//! decision gives back follows (released by the saga's compensation, resumed
//! by the background worker when the registry cannot be reached), so of two
//! concurrent decisions only the winner's money moves.

use std::collections::BTreeSet;

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
    peers::{Hold, Move},
    pricing,
    saga::{self, Also, stored},
    store::{
        entities::{
            preauth::{self, SagaState},
            preauth_line,
        },
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
    let row = stored(context, id).await?;
    if row.status != PreauthStatus::Query {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {id} is {}; only a queried preauth can be answered",
            row.status.label()
        )));
    }
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

/// What an enhancement asks for.
pub struct Enhancement<'a> {
    pub packages: Vec<(String, Vec<String>)>,
    pub additional: Money,
    pub reason: &'a str,
    /// The request's idempotency key: the block is keyed on it.
    pub key: &'a str,
}

/// Blocks more cover for extra packages or a longer stay; the preauth changes
/// only once the block succeeded. Should the preauth end meanwhile (a
/// concurrent cancel), the late block is released again.
pub async fn enhance(
    context: &Context,
    id: &str,
    enhancement: Enhancement<'_>,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let mut row = stored(context, id).await?;
    if !matches!(*row.status, PreauthStatus::Raised | PreauthStatus::Approved) {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {id} is {}; it can be enhanced only when RAISED or APPROVED",
            row.status.label()
        )));
    }
    let mut lines = queries::lines_of(&context.db, id).await?;
    let mut extra = enhancement.additional;
    let mut new_specialties = BTreeSet::new();
    for (i, (code, add_ons)) in enhancement.packages.iter().enumerate() {
        let field = format!("packages[{i}].package_code");
        let package = queries::find_package(&context.db, code)
            .await?
            .filter(|p| p.0.active)
            .ok_or_else(|| ApiError::invalid(&field, format!("no package {code}")))?;
        if package.0.reserved_for_public
            && row.facility_ownership != ayushman_proto::common::v1::Ownership::Public.as_str_name()
        {
            return Err(ApiError::FailedPrecondition(format!(
                "package {code} is reserved for public hospitals"
            )));
        }
        if !lines
            .iter()
            .any(|l| l.specialty_code == package.0.specialty_code)
        {
            new_specialties.insert(package.0.specialty_code.clone());
        }
        let rule = if row.portability_case {
            context
                .peers
                .route(
                    &row.home_state_code,
                    &row.scheme_code,
                    &row.hfr_id,
                    &package.0.specialty_code,
                    row.admission_date,
                )
                .await?
                .rate_rule
        } else {
            ayushman_proto::portability::v1::RateRule::TreatingState
        };
        let priced = pricing::price(
            &package,
            add_ons,
            rule,
            &row.facility_state_code,
            &row.home_state_code,
        )
        .map_err(|e| match e {
            pricing::PricingError::UnknownAddOn(a) => ApiError::invalid(
                format!("packages[{i}].add_on_codes"),
                format!("package {code} has no add-on {a}"),
            ),
            pricing::PricingError::Overflow => ApiError::internal("enhancement price overflows"),
        })?;
        extra = extra
            .checked_add(priced.amount)
            .ok_or_else(|| ApiError::internal("enhancement overflows"))?;
        lines.push(preauth_line::Model {
            preauth_id: id.to_owned(),
            line_no: lines.len() as i32 + 1,
            package_code: code.clone(),
            specialty_code: package.0.specialty_code.clone(),
            add_on_codes: add_ons.join(","),
            rate_paise: priced.rate.paise(),
            add_ons_paise: priced.add_ons.paise(),
            amount_paise: priced.amount.paise(),
            rate_source: priced.source.as_str_name().to_owned(),
        });
    }
    for specialty in &new_specialties {
        let route = context
            .peers
            .route(
                &row.home_state_code,
                &row.scheme_code,
                &row.hfr_id,
                specialty,
                row.admission_date,
            )
            .await?;
        if let Some(why) = route.refusal {
            return Err(ApiError::FailedPrecondition(format!(
                "{specialty} at {}: {why}",
                row.hfr_id
            )));
        }
    }
    if extra <= Money::ZERO {
        return Err(ApiError::invalid(
            "additional_amount_paise",
            "ask for packages or a positive additional amount",
        ));
    }
    let key = format!("{id}/enhance/{}", enhancement.key);
    let hold = Hold {
        key: &key,
        beneficiary_id: &row.beneficiary_id,
        scheme: &row.payer_scheme_code,
        preauth_id: id,
        amount: extra,
        date: row.admission_date,
        reason: enhancement.reason,
    };
    match context.peers.block(&hold).await? {
        Move::Done => {}
        Move::Refused(why) => {
            return Err(ApiError::FailedPrecondition(format!(
                "enhancement could not be blocked: {why}"
            )));
        }
    }
    row.requested_amount_paise += extra.paise();
    row.blocked_amount_paise += extra.paise();
    row.enhancements += 1;
    let status = *row.status;
    let also = Also {
        flags: Vec::new(),
        lines: Some(lines),
    };
    let outcome = saga::record_with(
        context,
        row,
        status,
        &format!("enhancement of {extra} blocked: {}", enhancement.reason),
        actor,
        also,
        on_commit,
    )
    .await;
    if let Err(ApiError::Aborted(_)) = &outcome {
        release_if_ended(context, id).await?;
    }
    outcome
}

/// Releases whatever a preauth holds when it has ended meanwhile (a block
/// that landed after its release).
async fn release_if_ended(context: &Context, id: &str) -> Result<(), ApiError> {
    let now = stored(context, id).await?;
    if matches!(
        *now.status,
        PreauthStatus::Cancelled | PreauthStatus::Rejected | PreauthStatus::Failed
    ) {
        context
            .peers
            .release(
                &format!("{id}/release-after-late-block"),
                id,
                None,
                "preauth ended; late block released",
            )
            .await?;
    }
    Ok(())
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

/// Deems approved every preauth raised before `cutoff` and not yet reviewed.
pub async fn deem_approvals(
    context: &Context,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<usize, ApiError> {
    let due = queries::raised_before(&context.db, cutoff).await?;
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

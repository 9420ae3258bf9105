//! The preauth saga (DESIGN §4): plan (eligibility, the doctor's link and
//! the route of each specialty, which checks empanelment in state or through
//! a portability agreement; pricing at the route's rates), persist PENDING
//! with the priced lines, block the amount, mark RAISED. `saga_state` records
//! what is still owed to other services: RUNNING (steps to run, all
//! repeatable), COMPENSATING (a block may exist and must be released), DONE.
//! A new request starts in [`start`]; the background worker resumes, with
//! [`run`], whatever a crash or an unreachable peer left behind.

mod plan;
mod start;

pub use plan::{Plan, Planned};
pub use start::{Draft, Raised, check_packages, start};

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError,
    db::{
        self, Guarded, Rows,
        idempotency::{Nothing, OnCommit},
    },
    lifecycle::{self, Actor, HistoryRow, Lifecycle},
};
use ayushman_proto::preauth::v1::PreauthStatus;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, IntoActiveModel,
    sea_query::SelectStatement,
};

use crate::{
    Context, fraud,
    peers::{Hold, Move},
    store::{
        PREAUTH_HISTORY,
        entities::{
            enhancement,
            preauth::{self, SagaState},
            preauth_flag, preauth_line,
        },
        queries::{self, FraudFacts},
    },
};

/// The statuses of a preauth and the moves between them.
pub struct Preauths;

impl Lifecycle for Preauths {
    type Status = PreauthStatus;
    const NOUN: &'static str = "preauth";
    const MOVES: &'static [(PreauthStatus, PreauthStatus)] = {
        use PreauthStatus::*;
        &[
            (Pending, Raised),
            (Pending, Failed),
            (Raised, Approved),
            (Raised, Query),
            (Raised, Rejected),
            (Raised, Cancelled),
            (Query, Raised),
            (Query, Rejected),
            (Query, Cancelled),
            (Approved, Discharged),
            (Approved, Cancelled),
        ]
    };
}

/// Commits a change of `row`: the preauth with status `to` — provided it
/// still has the status it was read with, else ABORTED — its history row, and
/// whatever the request keeps (its reply), in one transaction.
pub async fn record(
    context: &Context,
    row: preauth::Model,
    to: PreauthStatus,
    reason: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    record_with(context, row, to, reason, actor, Also::default(), on_commit).await
}

/// What else a change writes in its transaction.
#[derive(Default)]
pub struct Also {
    /// The preauth's lines, replaced (an approved enhancement adds some).
    pub lines: Option<Vec<preauth_line::Model>>,
    /// Enhancement requests made.
    pub enhancements: Vec<enhancement::Model>,
    /// An enhancement decided, provided it was still undecided.
    pub decision: Option<(
        enhancement::Model,
        lifecycle::Transition<crate::enhancements::Enhancements>,
    )>,
}

/// [`record`], writing `also` in the same transaction.
pub async fn record_with(
    context: &Context,
    row: preauth::Model,
    to: PreauthStatus,
    reason: &str,
    actor: &Actor,
    also: Also,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let transition = if *row.status == to {
        Preauths::unchanged(to)
    } else {
        Preauths::transition(&row.preauth_id, *row.status, to)?
    };
    let mut changed = row.into_active_model().reset_all();
    changed.updated_at = Set(db::now());
    let txn = db::begin_write(&context.db).await?;
    let saved = lifecycle::save(&txn, changed, preauth::Column::Status, transition).await?;
    if let Some(lines) = also.lines {
        queries::save_lines(&txn, &saved.preauth_id, lines).await?;
    }
    queries::insert_enhancements(&txn, also.enhancements).await?;
    if let Some((decided, transition)) = also.decision {
        crate::enhancements::save_decision(&txn, decided, transition).await?;
    }
    PREAUTH_HISTORY
        .append(&txn, &[&saved.preauth_id], to.as_str_name(), reason, actor)
        .await?;
    on_commit.run(&txn, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Ends the saga as FAILED with `reason`, releasing any block it may have made.
async fn fail(
    context: &Context,
    mut row: preauth::Model,
    reason: String,
    actor: &Actor,
) -> Result<preauth::Model, ApiError> {
    row.failure_reason = reason.clone();
    row.saga_state = SagaState::Compensating;
    let id = row.preauth_id.clone();
    match record(
        context,
        row,
        PreauthStatus::Failed,
        &reason,
        actor,
        &Nothing,
    )
    .await
    {
        Ok(row) => compensate(context, row).await,
        Err(ApiError::Aborted(_)) => stored(context, &id).await,
        Err(error) => Err(error),
    }
}

/// The preauth as stored: what a saga runner answers when another runner (the
/// request or the background worker) concluded the saga first.
pub async fn stored(context: &Context, preauth_id: &str) -> Result<preauth::Model, ApiError> {
    queries::find_preauth(&context.db, preauth_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no preauth {preauth_id}")))
}

/// Releases what the preauth owes back — everything it holds when it ended
/// (COMPENSATING), what it holds beyond its approved amount when approved for
/// less (TRIMMING); then the saga is DONE. A registry that cannot be reached
/// leaves it owed for the background worker.
pub async fn compensate(
    context: &Context,
    row: preauth::Model,
) -> Result<preauth::Model, ApiError> {
    let (key, amount, still_held, why) = match row.saga_state {
        SagaState::Compensating => (
            format!("{}/release", row.preauth_id),
            None,
            0,
            "preauth ended; releasing what it held",
        ),
        SagaState::Trimming => (
            format!("{}/approve-release", row.preauth_id),
            Some(Money::from_paise(
                row.blocked_amount_paise - row.approved_amount_paise,
            )),
            row.approved_amount_paise,
            "approved for less than requested",
        ),
        SagaState::Running | SagaState::Done => return Ok(row),
    };
    if let Err(error) = context
        .peers
        .release(
            &key,
            &row.preauth_id,
            amount.filter(|a| *a > Money::ZERO),
            why,
        )
        .await
    {
        tracing::warn!(preauth_id = %row.preauth_id, %error, "release deferred until the beneficiary registry answers");
        return Ok(row);
    }
    queries::finish_saga(&context.db, &row.preauth_id, row.saga_state, still_held).await?;
    stored(context, &row.preauth_id).await
}

/// Releases whatever a preauth holds when it has ended meanwhile (a block
/// that landed after its release).
pub async fn release_if_ended(context: &Context, id: &str) -> Result<(), ApiError> {
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

/// Resumes the saga of a stored PENDING preauth (a request retried, or the
/// background worker): plans it again, persists the plan, then finishes it.
/// Refusals end it FAILED with the reason; an unreachable peer leaves it
/// RUNNING and answers UNAVAILABLE.
pub async fn run(
    context: &Context,
    preauth_id: &str,
    actor: &Actor,
) -> Result<preauth::Model, ApiError> {
    let mut row = stored(context, preauth_id).await?;
    if row.saga_state != SagaState::Running {
        return Ok(row);
    }
    let lines = queries::lines_of(&context.db, preauth_id).await?;
    let catalogue = context.packages.catalogue(&context.db).await?;
    let plan = match plan::plan(context, &catalogue, &row, &lines).await? {
        Planned::Go(plan) => plan,
        Planned::Refused(reason) => return Box::pin(fail(context, row, reason, actor)).await,
    };
    plan.apply(&mut row);
    row.updated_at = db::now();
    {
        let txn = db::begin_write(&context.db).await?;
        // The preauth first: its row lock makes a concurrent runner of this
        // saga (a retry, the background worker) wait here until this one
        // commits, so their replacements of the lines cannot interleave.
        let pending = Preauths::unchanged(PreauthStatus::Pending);
        match lifecycle::save(
            &txn,
            row.into_active_model().reset_all(),
            preauth::Column::Status,
            pending,
        )
        .await
        {
            Ok(saved) => row = saved,
            // Another runner of this saga moved it on: answer with where it is
            // now, after giving the write lock back (reading it needs a connection).
            Err(ApiError::Aborted(_)) => {
                drop(txn);
                return stored(context, preauth_id).await;
            }
            Err(error) => return Err(error),
        }
        queries::save_lines(&txn, preauth_id, plan.lines.clone()).await?;
        txn.commit().await?;
    }
    Ok(finish(context, row, &plan, None, actor).await?.row)
}

/// How a saga ended: the preauth, and when it was raised now, its flags and
/// the history row of the raise.
pub struct Finished {
    pub row: preauth::Model,
    pub raised: Option<(Vec<preauth_flag::Model>, HistoryRow)>,
}

/// Blocks the planned amount on the planned schemes and marks the (stored,
/// PENDING) preauth RAISED with its fraud flags, from `facts` when they were
/// read already; a refused block fails it.
async fn finish(
    context: &Context,
    mut row: preauth::Model,
    plan: &Plan,
    facts: Option<FraudFacts>,
    actor: &Actor,
) -> Result<Finished, ApiError> {
    let preauth_id = row.preauth_id.clone();
    let key = format!("{preauth_id}/block");
    let hold = Hold {
        key: &key,
        beneficiary_id: &row.beneficiary_id,
        schemes: &plan.schemes,
        preauth_id: &preauth_id,
        amount: plan.total,
        date: row.admission_date,
        reason: "preauth raised",
    };
    match context.peers.block(&hold).await? {
        Move::Done(held) => {
            row.scheme_code = held.first().cloned().unwrap_or_default();
            row.drawn_scheme_codes = held.join(",");
        }
        Move::Refused(why) => {
            // Boxed, as the seldom path it is: inline it would double finish's future.
            let row = Box::pin(fail(
                context,
                row,
                format!("cover could not be blocked: {why}"),
                actor,
            ))
            .await?;
            return Ok(Finished { row, raised: None });
        }
    }
    let codes: Vec<String> = plan.lines.iter().map(|l| l.package_code.clone()).collect();
    let facts = match facts {
        Some(facts) => facts,
        None => queries::fraud_facts(&context.db, (&row).into(), &NOT_LIVE, VOLUME_DAYS).await?,
    };
    let flags: Vec<preauth_flag::Model> = flags_for(context, &row, &codes, &facts)
        .into_iter()
        .map(|flag| preauth_flag::Model {
            id: 0,
            preauth_id: preauth_id.clone(),
            kind: flag.kind.as_str_name().to_owned(),
            reason: flag.reason,
            related_preauth_id: flag.related,
        })
        .collect();
    let reason = format!(
        "{} blocked on the wallets of {}",
        plan.total,
        row.drawn_scheme_codes.replace(',', " then ")
    );
    let now = db::now();
    let raised = preauth::ActiveModel {
        scheme_code: Set(row.scheme_code),
        drawn_scheme_codes: Set(row.drawn_scheme_codes),
        blocked_amount_paise: Set(plan.total.paise()),
        raised_at: Set(Some(now)),
        review_clock_from: Set(Some(now)),
        saga_state: Set(SagaState::Done),
        updated_at: Set(now),
        ..Default::default()
    };
    let transition = Preauths::transition(&preauth_id, *row.status, PreauthStatus::Raised)?;
    let mut raise = Guarded::new(lifecycle::guard(
        raised,
        Condition::all().add(preauth::Column::PreauthId.eq(&preauth_id)),
        preauth::Column::Status,
        transition,
    ));
    let flag_rows: Vec<preauth_flag::ActiveModel> = flags
        .iter()
        .map(|flag| preauth_flag::ActiveModel {
            preauth_id: Set(flag.preauth_id.clone()),
            kind: Set(flag.kind.clone()),
            reason: Set(flag.reason.clone()),
            related_preauth_id: Set(flag.related_preauth_id.clone()),
            ..Default::default()
        })
        .collect();
    // One insert, so the flags' ids follow the order of the reply.
    if let Some(rows) = Rows::of_all(&flag_rows) {
        raise.insert(rows);
    }
    let (entry, change) = PREAUTH_HISTORY.entry(
        &[&preauth_id],
        PreauthStatus::Raised.as_str_name(),
        &reason,
        actor,
    );
    raise.insert(entry);
    match raise.commit::<preauth::Model>(&context.db).await? {
        Some(row) => Ok(Finished {
            row,
            raised: Some((flags, change)),
        }),
        None => {
            // Another runner concluded first. The block is keyed by the preauth,
            // so if that runner raised it, both made the same block; if it
            // failed (and released before this block landed), this block must go.
            let other = stored(context, &preauth_id).await?;
            if other.status == PreauthStatus::Failed {
                let key = format!("{preauth_id}/release-after-concurrent-failure");
                context
                    .peers
                    .release(
                        &key,
                        &preauth_id,
                        None,
                        "preauth failed; late block released",
                    )
                    .await?;
            }
            Ok(Finished {
                row: other,
                raised: None,
            })
        }
    }
}

/// The statuses of a beneficiary's preauths that are no (or not yet an)
/// admission, to the fraud signals.
const NOT_LIVE: [PreauthStatus; 4] = [
    PreauthStatus::Failed,
    PreauthStatus::Cancelled,
    PreauthStatus::Rejected,
    PreauthStatus::Pending,
];

/// The days before an admission its hospital's usual volume is taken over.
const VOLUME_DAYS: i64 = 30;

/// The read of the facts the fraud signals of `row` come from: its
/// beneficiary's other live admissions and its hospital's volume over the
/// [`VOLUME_DAYS`] before its admission and on the day.
fn fraud_facts_read(row: &preauth::Model) -> SelectStatement {
    queries::fraud_facts_read(row.into(), &NOT_LIVE, VOLUME_DAYS)
}

/// The fraud signals of a preauth about to be raised (DESIGN §4): its
/// beneficiary's other live admissions and packages, and its hospital's
/// volume today against the month before.
fn flags_for(
    context: &Context,
    row: &preauth::Model,
    packages: &[String],
    facts: &FraudFacts,
) -> Vec<fraud::Flag> {
    let mut flags = fraud::overlapping(row.admission_date, &facts.others);
    flags.extend(fraud::duplicate_packages(
        row.admission_date,
        packages,
        &facts.others,
        context.settings.duplicate_package_days,
    ));
    flags.extend(fraud::high_volume(
        &row.hfr_id,
        facts.on_day.max(0) as u64,
        facts.before.max(0) as u64,
        context.settings.volume_multiple,
        context.settings.volume_minimum,
    ));
    flags
}

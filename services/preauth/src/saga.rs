//! The preauth saga (DESIGN §4): persist PENDING, verify eligibility, check the
//! doctor's link, route each specialty (which checks empanelment, in state or
//! through a portability agreement), price at the route's rates, block the
//! amount, mark RAISED. `saga_state` records what is still owed to other
//! services: RUNNING (steps to run, all repeatable), COMPENSATING (a block may
//! exist and must be released), DONE. The background worker finishes whatever
//! a crash or an unreachable peer left behind.

use std::collections::{BTreeMap, BTreeSet};

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError, db,
    db::idempotency::{Nothing, OnCommit},
    lifecycle::{self, Actor, Lifecycle},
};
use ayushman_proto::{common::v1::Ownership, preauth::v1::PreauthStatus};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

use crate::{
    Context, fraud,
    peers::{Hold, Move, Route, SchemeCover},
    pricing,
    store::{
        PREAUTH_HISTORY,
        entities::{
            enhancement,
            preauth::{self, SagaState},
            preauth_flag, preauth_line,
        },
        queries,
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
    /// Fraud flags raised.
    pub flags: Vec<preauth_flag::ActiveModel>,
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
    queries::insert_flags(&txn, also.flags).await?;
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

/// Runs (or resumes) the saga of a PENDING preauth. Refusals end it FAILED with
/// the reason; an unreachable peer leaves it RUNNING and answers UNAVAILABLE.
pub async fn run(
    context: &Context,
    preauth_id: &str,
    actor: &Actor,
) -> Result<preauth::Model, ApiError> {
    let mut row = queries::find_preauth(&context.db, preauth_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no preauth {preauth_id}")))?;
    if row.saga_state != SagaState::Running {
        return Ok(row);
    }
    let date = row.admission_date;

    // Resumed after its schemes were fixed: the same schemes, whatever its
    // own first block did to their balances.
    let fixed = row.schemes_to_draw();
    let named = if fixed.is_empty() {
        row.scheme_code.clone()
    } else {
        String::new()
    };
    let eligibility = context
        .peers
        .eligibility(&row.beneficiary_id, &row.card_number, &named, date)
        .await?;
    row.beneficiary_id = eligibility.beneficiary_id.clone();
    row.card_number = eligibility.card_number.clone();
    row.family_id = eligibility.family_id.clone();
    row.home_state_code = eligibility.home_state.clone();
    let usable: Vec<SchemeCover> = if fixed.is_empty() {
        eligibility.usable().cloned().collect()
    } else {
        fixed
            .iter()
            .filter_map(|code| eligibility.schemes.iter().find(|s| &s.code == code))
            .cloned()
            .collect()
    };
    if usable.is_empty() {
        let reason = eligibility.refusal();
        return fail(context, row, reason, actor).await;
    }

    let mut lines = queries::lines_of(&context.db, preauth_id).await?;
    let mut packages = Vec::with_capacity(lines.len());
    for line in &lines {
        match queries::find_package(&context.db, &line.package_code).await? {
            Some(package) if package.0.active => packages.push(package),
            _ => {
                return fail(
                    context,
                    row,
                    format!("package {} is not offered", line.package_code),
                    actor,
                )
                .await;
            }
        }
    }
    if !context
        .peers
        .doctor_linked(&row.treating_hpr_id, &row.hfr_id, date)
        .await?
    {
        let reason = format!(
            "doctor {} is not linked to facility {} on {date}",
            row.treating_hpr_id, row.hfr_id
        );
        return fail(context, row, reason, actor).await;
    }
    let specialties: BTreeSet<&str> = packages
        .iter()
        .map(|p| p.0.specialty_code.as_str())
        .collect();
    if specialties.is_empty() {
        return fail(context, row, "no package asked for".into(), actor).await;
    }
    // A scheme is drawn on only where its network (its own hospitals and
    // agreements, PM-JAY's for the senior cover) takes every specialty here.
    let mut by_network: BTreeMap<String, Result<Route, String>> = BTreeMap::new();
    let mut drawn = Vec::new();
    for scheme in &usable {
        if !by_network.contains_key(&scheme.network) {
            let routed = route_all(context, &row, &scheme.network, &specialties).await?;
            by_network.insert(scheme.network.clone(), routed);
        }
        if let Some(Ok(_)) = by_network.get(&scheme.network) {
            drawn.push(scheme);
        }
    }
    let Some(Ok(route)) = drawn
        .first()
        .and_then(|s| by_network.get(&s.network))
        .cloned()
    else {
        let reason = by_network
            .into_values()
            .find_map(Result::err)
            .unwrap_or_else(|| "no scheme may be drawn on here".into());
        return fail(context, row, reason, actor).await;
    };
    row.schemes_to_draw = drawn
        .iter()
        .map(|s| s.code.as_str())
        .collect::<Vec<_>>()
        .join(",");
    row.facility_state_code = route.treating_state.clone();
    row.facility_district_code = route.treating_district.clone();
    row.facility_ownership = route.treating_ownership.as_str_name().to_owned();
    row.portability_case = route.portability_case;
    row.agreement_id = route.agreement_id.clone();
    row.payer_scheme_code = route.payer_scheme.clone();
    row.payer_state_code = route.payer_state.clone();
    if route.treating_ownership != Ownership::Public {
        if let Some(reserved) = packages.iter().find(|p| p.0.reserved_for_public) {
            let reason = format!(
                "package {} is reserved for public hospitals; {} is not public",
                reserved.0.package_code, row.hfr_id
            );
            return fail(context, row, reason, actor).await;
        }
        // A home state's own reserved list hides those packages at private
        // hospitals outside it.
        if route.portability_case
            && let Some((scheme, package)) = drawn.iter().find_map(|scheme| {
                packages
                    .iter()
                    .find(|p| scheme.reserved_packages.contains(&p.0.package_code))
                    .map(|p| (scheme.code.clone(), p.0.package_code.clone()))
            })
        {
            let reason = format!(
                "package {package} is reserved by {scheme} for public hospitals; it is not offered at private hospitals outside state {}",
                row.home_state_code
            );
            return fail(context, row, reason, actor).await;
        }
    }

    let mut total = Money::ZERO;
    for (line, package) in lines.iter_mut().zip(&packages) {
        let add_ons: Vec<String> = line
            .add_on_codes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let priced = match pricing::price(
            package,
            &add_ons,
            route.rate_rule,
            &route.treating_state,
            &eligibility.home_state,
        ) {
            Ok(priced) => priced,
            Err(pricing::PricingError::UnknownAddOn(code)) => {
                return fail(
                    context,
                    row,
                    format!("package {} has no add-on {code}", line.package_code),
                    actor,
                )
                .await;
            }
            Err(pricing::PricingError::Overflow) => {
                return Err(ApiError::internal("package price overflows"));
            }
        };
        line.specialty_code = package.0.specialty_code.clone();
        line.rate_paise = priced.rate.paise();
        line.add_ons_paise = priced.add_ons.paise();
        line.amount_paise = priced.amount.paise();
        line.rate_source = priced.source.as_str_name().to_owned();
        total = total
            .checked_add(priced.amount)
            .ok_or_else(|| ApiError::internal("preauth total overflows"))?;
    }
    row.requested_amount_paise = total.paise();
    row.updated_at = db::now();
    {
        let txn = db::begin_write(&context.db).await?;
        queries::save_lines(&txn, preauth_id, lines.clone()).await?;
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
        txn.commit().await?;
    }

    let key = format!("{preauth_id}/block");
    let schemes: Vec<String> = drawn.iter().map(|s| s.code.clone()).collect();
    let hold = Hold {
        key: &key,
        beneficiary_id: &row.beneficiary_id,
        schemes: &schemes,
        preauth_id,
        amount: total,
        date,
        reason: "preauth raised",
    };
    match context.peers.block(&hold).await? {
        Move::Done(held) => {
            row.scheme_code = held.first().cloned().unwrap_or_default();
            row.drawn_scheme_codes = held.join(",");
        }
        Move::Refused(why) => {
            return fail(
                context,
                row,
                format!("cover could not be blocked: {why}"),
                actor,
            )
            .await;
        }
    }

    let flags = flags_for(
        context,
        &row,
        &lines
            .iter()
            .map(|l| l.package_code.clone())
            .collect::<Vec<_>>(),
    )
    .await?;
    let flags = flags
        .into_iter()
        .map(|flag| preauth_flag::ActiveModel {
            preauth_id: Set(preauth_id.to_owned()),
            kind: Set(flag.kind.as_str_name().to_owned()),
            reason: Set(flag.reason),
            related_preauth_id: Set(flag.related),
            ..Default::default()
        })
        .collect();
    row.blocked_amount_paise = total.paise();
    row.raised_at = Some(db::now());
    row.saga_state = SagaState::Done;
    row.review_clock_from = row.raised_at;
    let reason = format!(
        "{total} blocked on the wallets of {}",
        row.drawn_scheme_codes.replace(',', " then ")
    );
    let also = Also {
        flags,
        ..Also::default()
    };
    match record_with(
        context,
        row,
        PreauthStatus::Raised,
        &reason,
        actor,
        also,
        &Nothing,
    )
    .await
    {
        Err(ApiError::Aborted(_)) => {
            // Another runner concluded first. The block is keyed by the preauth,
            // so if that runner raised it, both made the same block; if it
            // failed (and released before this block landed), this block must go.
            let other = stored(context, preauth_id).await?;
            if other.status == PreauthStatus::Failed {
                let key = format!("{preauth_id}/release-after-concurrent-failure");
                context
                    .peers
                    .release(
                        &key,
                        preauth_id,
                        None,
                        "preauth failed; late block released",
                    )
                    .await?;
            }
            Ok(other)
        }
        outcome => outcome,
    }
}

async fn flags_for(
    context: &Context,
    row: &preauth::Model,
    packages: &[String],
) -> Result<Vec<fraud::Flag>, ApiError> {
    let dead = [
        PreauthStatus::Failed,
        PreauthStatus::Cancelled,
        PreauthStatus::Rejected,
        PreauthStatus::Pending,
    ];
    let others =
        queries::live_preauths_of(&context.db, &row.beneficiary_id, &row.preauth_id, &dead).await?;
    let mut flags = fraud::overlapping(row.admission_date, &others);
    let codes = queries::packages_of(
        &context.db,
        others.iter().map(|o| o.preauth_id.clone()).collect(),
    )
    .await?;
    let with_codes: Vec<_> = others
        .iter()
        .map(|o| {
            (
                o.clone(),
                codes
                    .iter()
                    .filter(|(id, _)| *id == o.preauth_id)
                    .map(|(_, code)| code.clone())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    flags.extend(fraud::duplicate_packages(
        row.admission_date,
        packages,
        &with_codes,
        context.settings.duplicate_package_days,
    ));
    let day = row.admission_date;
    let today = queries::facility_volume(&context.db, &row.hfr_id, day, day).await?;
    let previous = queries::facility_volume(
        &context.db,
        &row.hfr_id,
        day - chrono::Duration::days(30),
        day - chrono::Duration::days(1),
    )
    .await?;
    flags.extend(fraud::high_volume(
        &row.hfr_id,
        today,
        previous,
        context.settings.volume_multiple,
        context.settings.volume_minimum,
    ));
    Ok(flags)
}

/// Routes a case's specialties at its hospital under `network`: the first
/// specialty's route when every one may be treated there, else why not.
async fn route_all(
    context: &Context,
    row: &preauth::Model,
    network: &str,
    specialties: &BTreeSet<&str>,
) -> Result<Result<Route, String>, ApiError> {
    let mut first = None;
    for specialty in specialties {
        let answer = context
            .peers
            .route(
                &row.home_state_code,
                network,
                &row.hfr_id,
                specialty,
                row.admission_date,
            )
            .await?;
        if let Some(why) = &answer.refusal {
            return Ok(Err(format!("{specialty} at {}: {why}", row.hfr_id)));
        }
        first.get_or_insert(answer);
    }
    Ok(first.ok_or_else(|| "no package asked for".to_owned()))
}

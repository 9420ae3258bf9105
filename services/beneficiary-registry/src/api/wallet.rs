//! Eligibility and wallets: VerifyEligibility, GetBalance, BlockAmount,
//! ReleaseAmount, ConsumeAmount, ListLedgerEntries, ReconcileWallet.

use std::collections::BTreeMap;

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
    lifecycle::Actor,
};
use ayushman_proto::beneficiary::v1 as pb;
use chrono::NaiveDate;
use tonic::{Request, Response};

use super::{
    Reply, beneficiary_to_proto, date_or_today, ensure_wallet_in_scope, hold_to_proto,
    ledger_to_proto, wallet_to_proto,
};
use crate::{
    AppState, registry,
    schemes::{Catalogue, Member},
    store::{
        entities::{beneficiary, hold},
        queries,
    },
    wallet::{self as wallets, BlockRequest, Moved, Movement, Unlocked},
};

/// The wallets of a family's members' schemes (or `only` one) in the year
/// of `date`, read in one statement.
pub(super) async fn family_wallets(
    state: &AppState,
    catalogue: &Catalogue,
    members: &[beneficiary::Model],
    only: Option<&str>,
    date: NaiveDate,
) -> Result<Vec<pb::Wallet>, ApiError> {
    let Some(family_id) = members.first().map(|m| m.family_id.as_str()) else {
        return Ok(Vec::new());
    };
    let stored = queries::wallets_of_family_in_year(&state.db, family_id, date).await?;
    let mut wallets: BTreeMap<(i32, String), pb::Wallet> = BTreeMap::new();
    for member in members {
        for scheme in catalogue.schemes_of(&Member::of(member), date) {
            if only.is_some_and(|o| o != scheme.code) {
                continue;
            }
            let wallet = wallets::stored_or_fresh(&stored, member, scheme, date);
            wallets
                .entry((scheme.draw_order, wallet.wallet_id.clone()))
                .or_insert_with(|| wallet_to_proto(wallet));
        }
    }
    Ok(wallets.into_values().collect())
}

pub(super) async fn verify_eligibility(
    state: &AppState,
    request: Request<pb::VerifyEligibilityRequest>,
) -> Reply<pb::VerifyEligibilityResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let date = date_or_today("treatment_date", r.treatment_date.as_ref())?;
    let (id, card) = (
        convert::optional_text(&r.beneficiary_id),
        convert::optional_text(&r.card_number),
    );
    let key = match (&id, &card) {
        (Some(id), _) => registry::PersonKey::Id(id),
        (None, Some(card)) => registry::PersonKey::Card(card),
        (None, None) => {
            return Err(
                ApiError::invalid("beneficiary_id", "give beneficiary_id or card_number").into(),
            );
        }
    };
    let (person, wallets) = registry::get_with_wallets(&state.db, key, date).await?;
    caller.ensure_state(
        &person.state_code,
        &format!("beneficiary {}", person.beneficiary_id),
    )?;
    let only = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let answers = wallets::verify(&catalogue, &person, &wallets, only.as_deref(), date)?;
    let schemes = answers
        .into_iter()
        .map(|answer| pb::SchemeEligibility {
            scheme_code: answer.scheme.code.clone(),
            eligible: answer.reason.is_none(),
            reason: answer.reason.unwrap_or_default() as i32,
            wallets: vec![wallet_to_proto(answer.wallet)],
            portability_allowed: answer.scheme.portability_allowed,
            draw_order: answer.scheme.draw_order,
            network_scheme_code: answer.scheme.network.clone(),
            reserved_package_codes: answer.scheme.reserved_packages.clone(),
        })
        .collect();
    Ok(Response::new(pb::VerifyEligibilityResponse {
        home_state_code: person.state_code.clone(),
        beneficiary: Some(beneficiary_to_proto(person, &catalogue)),
        schemes,
    }))
}

pub(super) async fn get_balance(
    state: &AppState,
    request: Request<pb::GetBalanceRequest>,
) -> Reply<pb::GetBalanceResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let date = date_or_today("as_of_date", r.as_of_date.as_ref())?;
    let family_id = match (
        convert::optional_text(&r.family_id),
        convert::optional_text(&r.beneficiary_id),
    ) {
        (Some(id), _) => id,
        (None, Some(id)) => registry::get(&state.db, &id).await?.family_id,
        (None, None) => {
            return Err(ApiError::invalid("family_id", "give family_id or beneficiary_id").into());
        }
    };
    let (family, members) = registry::family(&state.db, &family_id).await?;
    caller.ensure_state(&family.state_code, &format!("family {family_id}"))?;
    let only = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
    let catalogue = state.schemes.catalogue(&state.db).await?;
    if let Some(code) = &only
        && catalogue.get(code).is_none()
    {
        return Err(ApiError::invalid("scheme_code", format!("unknown scheme {code}")).into());
    }
    Ok(Response::new(pb::GetBalanceResponse {
        wallets: family_wallets(state, &catalogue, &members, only.as_deref(), date).await?,
    }))
}

/// The reason a move is recorded with: the request's, or `default`.
fn reason_or(given: &str, default: &'static str) -> String {
    match given.trim() {
        "" => default.to_owned(),
        reason => reason.to_owned(),
    }
}

pub(super) async fn block_amount(
    state: &AppState,
    request: Request<pb::BlockAmountRequest>,
) -> Reply<pb::BlockAmountResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let mut v = FieldViolations::new();
    v.require("beneficiary_id", &request.beneficiary_id);
    let scheme_codes: Vec<String> = match request.scheme_code.trim() {
        "" => request
            .scheme_codes
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .collect(),
        code => vec![code.to_ascii_uppercase()],
    };
    if scheme_codes.is_empty() {
        v.add(
            "scheme_code",
            "give scheme_code, or scheme_codes to draw from in order",
        );
    }
    v.require("preauth_id", &request.preauth_id);
    v.amount("amount_paise", request.amount_paise);
    let date = v.check(
        "treatment_date",
        date_or_today("treatment_date", request.treatment_date.as_ref())
            .map_err(|_| "must be a real date"),
    );
    v.into_result()?;
    let actor = Actor::of(&caller, request.actor.as_ref());
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let reason = reason_or(&request.reason, "preauth raised");
    let block = BlockRequest {
        beneficiary_id: request.beneficiary_id.trim().to_owned(),
        scheme_codes,
        preauth_id: request.preauth_id.trim().to_owned(),
        amount: Money::from_paise(request.amount_paise),
        treatment_date: date.unwrap_or_default(),
    };
    let keyed = state.idempotency.keyed_by(&caller, &request)?;
    let unlocked = wallets::block_unlocked(
        &state.db,
        &catalogue,
        &block,
        &Movement {
            reason: &reason,
            actor: &actor,
        },
        &keyed,
        block_reply,
    )
    .await;
    let reply = match unlocked {
        Ok(Unlocked::NeedsLocks) => {
            keyed
                .once_optimistic(&state.db, |txn| {
                    Box::pin(async move {
                        let movement = Movement {
                            reason: &reason,
                            actor: &actor,
                        };
                        let (moved, holds) =
                            wallets::block_locked(txn, &catalogue, &block, &movement).await?;
                        Ok(block_reply(moved, holds))
                    })
                })
                .await?
        }
        outcome => keyed.settle(&state.db, outcome).await?,
    };
    Ok(Response::new(reply))
}

/// BlockAmount's reply: the first wallet drawn on and its ledger row, as the
/// block left them, and every hold of the preauth.
fn block_reply(moved: Moved, holds: Vec<hold::Model>) -> pb::BlockAmountResponse {
    let Moved { wallets, entries } = moved;
    pb::BlockAmountResponse {
        wallet: wallets.into_iter().next().map(wallet_to_proto),
        entry: entries.into_iter().next().map(ledger_to_proto),
        holds: holds.into_iter().map(hold_to_proto).collect(),
    }
}

pub(super) async fn release_amount(
    state: &AppState,
    request: Request<pb::ReleaseAmountRequest>,
) -> Reply<pb::ReleaseAmountResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let preauth_id = convert::required_text("preauth_id", &request.preauth_id)?;
    if request.amount_paise != 0 {
        let mut v = FieldViolations::new();
        v.amount("amount_paise", request.amount_paise);
        v.into_result().map_err(|_| {
            ApiError::invalid(
                "amount_paise",
                "must be positive (or 0 to release everything still held) and at most ₹10,00,00,000",
            )
        })?;
    }
    let actor = Actor::of(&caller, request.actor.as_ref());
    let reason = reason_or(&request.reason, "released");
    let amount = (request.amount_paise > 0).then(|| Money::from_paise(request.amount_paise));
    let claim_id = request.claim_id.trim().to_owned();
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let movement = Movement {
                    reason: &reason,
                    actor: &actor,
                };
                let Moved { wallets, entries } =
                    wallets::release(txn, &preauth_id, amount, &claim_id, &movement).await?;
                Ok(pb::ReleaseAmountResponse {
                    wallet: wallets.into_iter().last().map(wallet_to_proto),
                    entry: entries.last().cloned().map(ledger_to_proto),
                    entries: entries.into_iter().map(ledger_to_proto).collect(),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn consume_amount(
    state: &AppState,
    request: Request<pb::ConsumeAmountRequest>,
) -> Reply<pb::ConsumeAmountResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let mut v = FieldViolations::new();
    v.require("preauth_id", &request.preauth_id);
    v.require("claim_id", &request.claim_id);
    v.amount("amount_paise", request.amount_paise);
    v.into_result()?;
    let actor = Actor::of(&caller, request.actor.as_ref());
    let reason = reason_or(&request.reason, "claim approved");
    let (preauth_id, claim_id) = (
        request.preauth_id.trim().to_owned(),
        request.claim_id.trim().to_owned(),
    );
    let amount = Money::from_paise(request.amount_paise);
    let release_remainder = request.release_remainder;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let movement = Movement {
                    reason: &reason,
                    actor: &actor,
                };
                let Moved { wallets, entries } = wallets::consume(
                    txn,
                    &preauth_id,
                    &claim_id,
                    amount,
                    release_remainder,
                    &movement,
                )
                .await?;
                Ok(pb::ConsumeAmountResponse {
                    wallet: wallets.into_iter().next().map(wallet_to_proto),
                    entries: entries.into_iter().map(ledger_to_proto).collect(),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn list_ledger_entries(
    state: &AppState,
    request: Request<pb::ListLedgerEntriesRequest>,
) -> Reply<pb::ListLedgerEntriesResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let wallet_id = convert::required_text("wallet_id", &r.wallet_id)?;
    ensure_wallet_in_scope(state, &caller, &wallet_id).await?;
    let page = PageRequest::parse(r.page_size, &r.page_token, 100, 1000)?;
    let rows = queries::ledger_of(&state.db, &wallet_id, page.after.as_deref(), page.size)
        .await
        .map_err(ApiError::from)?;
    let (rows, next_page_token) = page.finish(rows, |e| e.entry_id.clone());
    Ok(Response::new(pb::ListLedgerEntriesResponse {
        entries: rows.into_iter().map(ledger_to_proto).collect(),
        next_page_token,
    }))
}

pub(super) async fn reconcile_wallet(
    state: &AppState,
    request: Request<pb::ReconcileWalletRequest>,
) -> Reply<pb::ReconcileWalletResponse> {
    let wallet_id = convert::required_text("wallet_id", &request.get_ref().wallet_id)?;
    ensure_wallet_in_scope(state, &Caller::of(&request), &wallet_id).await?;
    let reconciliation = wallets::reconcile(&state.db, &wallet_id).await?;
    let consistent = reconciliation.consistent();
    let sums = reconciliation.sums;
    Ok(Response::new(pb::ReconcileWalletResponse {
        wallet: Some(wallet_to_proto(reconciliation.wallet)),
        ledger_blocked_paise: sums.ledger_blocked,
        ledger_consumed_paise: sums.ledger_consumed,
        held_by_preauths_paise: sums.held_by_preauths,
        consumed_by_preauths_paise: sums.consumed_by_preauths,
        ledger_entries: sums.ledger_entries,
        consistent,
    }))
}

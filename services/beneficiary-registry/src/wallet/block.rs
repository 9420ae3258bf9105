//! BlockAmount: cover held for a pre-authorisation, drawn on the wallets of
//! its schemes in order.
//!
//! Two ways, one result. A block that one wallet covers, on a wallet no one
//! else is moving, is written as one statement computed from an unlocked
//! read ([`block_unlocked`]): the wallet made with the amount blocked, or
//! changed provided it is still exactly as read (so its ledger row's balance
//! is exact), with the hold, the ledger row and the kept reply. Anything
//! else (several wallets, too little cover, a wallet that changed since it
//! was read) blocks with the wallets locked ([`block_locked`]), which decides
//! every contended case.

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError,
    convert::today_in_india,
    db::{self, idempotency::Keyed},
};
use ayushman_proto::beneficiary::v1::LedgerEntryKind;
use chrono::NaiveDate;
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{Moved, Movement, fresh_wallet, stored_or_fresh};
use crate::{
    registry,
    schemes::{Catalogue, Member, Scheme},
    store::{
        entities::{beneficiary, hold, ledger_entry, wallet},
        queries,
    },
};

/// What BlockAmount needs.
pub struct BlockRequest {
    pub beneficiary_id: String,
    /// The schemes to draw from, in this order.
    pub scheme_codes: Vec<String>,
    pub preauth_id: String,
    pub amount: Money,
    pub treatment_date: NaiveDate,
}

/// The schemes `request` draws on, in its order: each must cover `person`
/// and be in a policy year that has not ended.
fn schemes_to_draw<'c>(
    catalogue: &'c Catalogue,
    person: &beneficiary::Model,
    request: &BlockRequest,
) -> Result<Vec<&'c Scheme>, ApiError> {
    let applicable = catalogue.schemes_of(&Member::of(person), request.treatment_date);
    let mut schemes = Vec::new();
    for code in &request.scheme_codes {
        let scheme = catalogue
            .get(code)
            .ok_or_else(|| ApiError::invalid("scheme_code", format!("unknown scheme {code}")))?;
        if !applicable.iter().any(|s| s.code == scheme.code) || !scheme.is_active() {
            return Err(ApiError::FailedPrecondition(format!(
                "{} is not covered by {code}",
                request.beneficiary_id
            )));
        }
        let year = scheme.policy_year(request.treatment_date);
        if year.end() < today_in_india() {
            return Err(ApiError::FailedPrecondition(format!(
                "policy year {year} of {code} has ended; cover cannot be blocked in it"
            )));
        }
        schemes.push(scheme);
    }
    Ok(schemes)
}

/// The hold and the ledger row of blocking `amount` under `scheme` on a
/// wallet that the block leaves as `after`.
fn hold_and_entry(
    request: &BlockRequest,
    scheme: &Scheme,
    after: &wallet::Model,
    amount: i64,
    movement: &Movement<'_>,
) -> (hold::Model, ledger_entry::Model) {
    let hold = hold::Model {
        preauth_id: request.preauth_id.clone(),
        wallet_id: after.wallet_id.clone(),
        scheme_code: scheme.code.clone(),
        draw_order: scheme.draw_order,
        beneficiary_id: request.beneficiary_id.clone(),
        held_paise: amount,
        consumed_paise: 0,
        released_paise: 0,
    };
    let entry = super::ledger_entry(
        after,
        LedgerEntryKind::Block,
        amount,
        &request.preauth_id,
        "",
        movement,
    );
    (hold, entry)
}

/// How [`block_unlocked`] went.
#[derive(Debug, PartialEq, Eq)]
pub enum Unlocked {
    /// Blocked, and the reply kept.
    Blocked,
    /// Nothing written: the block needs [`block_locked`].
    NeedsLocks,
}

/// Blocks as [`block_locked`] does, in one statement on PostgreSQL (one
/// read before it, two for a preauth that holds cover already), when one
/// wallet covers the whole amount and nothing moved it since it was read;
/// keeps under `keyed` the reply `reply` makes of the move and the
/// preauth's holds. Anything else writes nothing and answers
/// [`Unlocked::NeedsLocks`]; ABORTED when a request with the same key kept
/// its reply first ([`Keyed::settle`] answers with that reply).
pub async fn block_unlocked<R: Message>(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    request: &BlockRequest,
    movement: &Movement<'_>,
    keyed: &Keyed,
    reply: impl FnOnce(Moved, Vec<hold::Model>) -> R,
) -> Result<Unlocked, ApiError> {
    let date = request.treatment_date;
    let (person, stored, holding) =
        registry::get_for_block(db, &request.beneficiary_id, date, &request.preauth_id).await?;
    let schemes = schemes_to_draw(catalogue, &person, request)?;
    let amount = request.amount.paise();
    let Some((scheme, read)) = schemes.iter().find_map(|scheme| {
        let read = stored_or_fresh(&stored, &person, scheme, date);
        (read.available_paise() > 0).then_some((*scheme, read))
    }) else {
        return Ok(Unlocked::NeedsLocks);
    };
    if read.available_paise() < amount {
        return Ok(Unlocked::NeedsLocks);
    }
    let made = stored.iter().any(|w| w.wallet_id == read.wallet_id);
    // The saga's first block finds none: no read for them.
    let mut holds = if holding {
        queries::holds_of(db, &request.preauth_id).await?
    } else {
        Vec::new()
    };
    let mut after = read.clone();
    after.blocked_paise += amount;
    let (hold, entry) = hold_and_entry(request, scheme, &after, amount, movement);
    match holds.iter_mut().find(|h| h.wallet_id == hold.wallet_id) {
        Some(held) => held.held_paise += amount,
        None => {
            holds.push(hold.clone());
            holds.sort_by(|a, b| (a.draw_order, &a.wallet_id).cmp(&(b.draw_order, &b.wallet_id)));
        }
    }
    let moved = Moved {
        wallets: vec![after.clone()],
        entries: vec![entry.clone()],
    };
    let kept = keyed.reply_row(&reply(moved, holds));
    let written = if made {
        let mut write = queries::block_with_hold(&read, amount, hold, entry);
        write.insert(kept);
        write.commit::<wallet::Model>(db).await.map(|w| w.is_some())
    } else {
        let mut write = queries::make_blocked(after, hold, entry);
        write.insert(kept);
        write.commit(db).await.map(|()| true)
    };
    match written {
        Ok(true) => Ok(Unlocked::Blocked),
        Ok(false) => Ok(Unlocked::NeedsLocks),
        Err(error) if db::is_unique_violation(&error) => {
            if keyed.is_kept(db).await? {
                Err(ApiError::Aborted(
                    "a request with the same idempotency_key finished first".into(),
                ))
            } else {
                // A concurrent block made the wallet first.
                Ok(Unlocked::NeedsLocks)
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// Blocks an amount for a pre-authorisation on the wallets of `scheme_codes`,
/// drawn in that order: each gives what it has available until the amount is
/// covered, or nothing is blocked. A second block for the same preauth (an
/// enhancement) adds to its holds. The wallets are locked (in id order) to
/// the end of the transaction `db`. Returns the moves and the preauth's holds.
pub async fn block_locked(
    db: &impl ConnectionTrait,
    catalogue: &Catalogue,
    request: &BlockRequest,
    movement: &Movement<'_>,
) -> Result<(Moved, Vec<hold::Model>), ApiError> {
    let person = registry::get(db, &request.beneficiary_id).await?;
    let schemes = schemes_to_draw(catalogue, &person, request)?;
    let fresh: Vec<wallet::Model> = schemes
        .iter()
        .map(|scheme| fresh_wallet(&person, scheme, request.treatment_date))
        .collect();
    let mut in_id_order = fresh.clone();
    in_id_order.sort_by(|a, b| a.wallet_id.cmp(&b.wallet_id));
    in_id_order.dedup_by(|a, b| a.wallet_id == b.wallet_id);
    let ids: Vec<String> = in_id_order.iter().map(|w| w.wallet_id.clone()).collect();
    // A wallet is made on its year's first block, and locked by being made;
    // the wallets found made already are locked after.
    let mut locked = queries::make_missing_wallets(db, in_id_order).await?;
    if locked.len() < ids.len() {
        let found: Vec<String> = ids
            .into_iter()
            .filter(|id| !locked.iter().any(|w| &w.wallet_id == id))
            .collect();
        locked.extend(queries::lock_wallets(db, &found).await?);
    }
    let mut remaining = request.amount.paise();
    let mut parts = Vec::new();
    for (scheme, wallet) in schemes.iter().zip(&fresh) {
        let Some(locked) = locked.iter().find(|w| w.wallet_id == wallet.wallet_id) else {
            continue;
        };
        let take = remaining.min(locked.available_paise().max(0));
        if take > 0 {
            parts.push((*scheme, locked.clone(), take));
            remaining -= take;
        }
    }
    if remaining > 0 {
        let available = Money::from_paise(request.amount.paise() - remaining);
        let year = schemes
            .first()
            .map(|s| s.policy_year(request.treatment_date).to_string())
            .unwrap_or_default();
        return Err(ApiError::FailedPrecondition(format!(
            "only {available} of {} cover is available in {year}; {} asked",
            request.scheme_codes.join(" and "),
            request.amount
        )));
    }
    let mut moved = Moved::default();
    // Each wallet's block, its hold and its ledger row are one guarded write
    // (one statement on PostgreSQL). The wallets stay locked to the commit,
    // so the guard holds unless the locking above is broken.
    for (scheme, wallet, amount) in parts {
        let mut after = wallet.clone();
        after.blocked_paise += amount;
        let (hold, entry) = hold_and_entry(request, scheme, &after, amount, movement);
        let Some(blocked) = queries::block_with_hold(&wallet, amount, hold, entry.clone())
            .run_in::<wallet::Model>(db)
            .await?
        else {
            return Err(ApiError::Aborted(format!(
                "wallet {} changed while this request ran; retry",
                wallet.wallet_id
            )));
        };
        moved.add((blocked, entry));
    }
    let holds = queries::holds_of(db, &request.preauth_id).await?;
    Ok((moved, holds))
}

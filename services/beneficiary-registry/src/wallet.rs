//! Family wallets (DESIGN §4, Wallet): block on preauth, consume on claim
//! approval, release on cancel, reject or remainder. The balance never goes
//! negative under any concurrency — the availability check and the change are
//! one UPDATE — and every movement is an append-only ledger row.

use ayushman_domain::Money;
use ayushman_platform::{ApiError, convert::today_in_india, db, ids, lifecycle::Actor};
use ayushman_proto::beneficiary::v1::CoverKind;
use ayushman_proto::beneficiary::v1::{
    CardStatus, IneligibilityReason, LedgerEntryKind, WalletKind,
};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::{
    schemes::{Catalogue, Scheme},
    store::{
        entities::{beneficiary, ledger_entry, preauth_block, wallet},
        queries,
    },
};

/// The wallet id of a family's cover under a scheme for the policy year
/// starting `year_start`: deterministic, so reads need not create rows.
pub fn wallet_id(family_id: &str, scheme: &str, year_start: NaiveDate) -> String {
    format!("WAL-{family_id}-{scheme}-{}", year_start.format("%Y"))
}

fn kind_of(scheme: &Scheme) -> WalletKind {
    match scheme.cover_kind {
        CoverKind::SeniorTopUp => WalletKind::SeniorTopUp,
        _ => WalletKind::FamilyFloater,
    }
}

fn fresh_wallet(family_id: &str, scheme: &Scheme, date: NaiveDate) -> wallet::Model {
    let start = scheme.policy_year(date).start();
    wallet::Model {
        wallet_id: wallet_id(family_id, scheme.code, start),
        family_id: family_id.to_owned(),
        scheme_code: scheme.code.to_owned(),
        kind: kind_of(scheme).as_str_name().to_owned(),
        policy_year_start: start,
        cover_paise: scheme.cover.paise(),
        blocked_paise: 0,
        consumed_paise: 0,
    }
}

/// The family's wallet for `scheme` in the year of `date`, as stored or as it
/// will be created (full cover, nothing blocked).
pub async fn view(
    db: &impl ConnectionTrait,
    family_id: &str,
    scheme: &Scheme,
    date: NaiveDate,
) -> Result<wallet::Model, ApiError> {
    let fresh = fresh_wallet(family_id, scheme, date);
    Ok(queries::find_wallet(db, &fresh.wallet_id)
        .await?
        .unwrap_or(fresh))
}

/// Eligibility under one scheme.
pub struct SchemeEligibility<'a> {
    pub scheme: &'a Scheme,
    pub reason: Option<IneligibilityReason>,
    pub wallet: wallet::Model,
}

/// Whether `person` may be treated under each applicable scheme (or `only`) on `date`.
pub async fn verify<'a>(
    db: &impl ConnectionTrait,
    catalogue: &'a Catalogue,
    person: &beneficiary::Model,
    only: Option<&str>,
    date: NaiveDate,
) -> Result<Vec<SchemeEligibility<'a>>, ApiError> {
    let applicable = catalogue.schemes_of(&person.scheme_codes, person.year_of_birth, date);
    let card_reason = match CardStatus::from_str_name(&person.card_status) {
        Some(CardStatus::Issued) => None,
        Some(CardStatus::Suspended) => Some(IneligibilityReason::CardSuspended),
        _ => Some(IneligibilityReason::NoCard),
    };
    let mut answers = Vec::new();
    let asked: Vec<&Scheme> =
        match only {
            Some(code) => vec![catalogue.get(code).ok_or_else(|| {
                ApiError::invalid("scheme_code", format!("unknown scheme {code}"))
            })?],
            None => applicable.clone(),
        };
    for scheme in asked {
        let wallet = view(db, &person.family_id, scheme, date).await?;
        let reason = if !applicable.iter().any(|s| s.code == scheme.code) {
            Some(IneligibilityReason::NotInScheme)
        } else if card_reason.is_some() {
            card_reason
        } else if wallet.available_paise() <= 0 {
            Some(IneligibilityReason::CoverExhausted)
        } else {
            None
        };
        answers.push(SchemeEligibility {
            scheme,
            reason,
            wallet,
        });
    }
    Ok(answers)
}

/// Who moves money and why, for the ledger.
pub struct Movement<'a> {
    pub reason: &'a str,
    pub actor: &'a Actor,
}

async fn record(
    db: &impl ConnectionTrait,
    wallet_id: &str,
    kind: LedgerEntryKind,
    amount: i64,
    preauth_id: &str,
    claim_id: &str,
    movement: &Movement<'_>,
) -> Result<(wallet::Model, ledger_entry::Model), ApiError> {
    let wallet = queries::find_wallet(db, wallet_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("wallet {wallet_id} vanished")))?;
    let entry = ledger_entry::Model {
        entry_id: ids::ordered_id("LED"),
        wallet_id: wallet_id.to_owned(),
        kind: kind.as_str_name().to_owned(),
        amount_paise: amount,
        preauth_id: preauth_id.to_owned(),
        claim_id: claim_id.to_owned(),
        reason: movement.reason.to_owned(),
        actor_id: movement.actor.id.clone(),
        actor_kind: movement.actor.kind.as_str_name().to_owned(),
        trace_id: movement.actor.trace_id.clone(),
        available_after_paise: wallet.available_paise(),
        created_at: db::now(),
    };
    queries::append_ledger(db, entry.clone()).await?;
    Ok((wallet, entry))
}

/// What BlockAmount needs.
pub struct BlockRequest<'a> {
    pub beneficiary_id: &'a str,
    pub scheme_code: &'a str,
    pub preauth_id: &'a str,
    pub amount: Money,
    pub treatment_date: NaiveDate,
}

/// Blocks an amount for a pre-authorisation on the wallet its scheme draws on.
/// A second block for the same preauth (an enhancement) adds to the first.
pub async fn block(
    db: &impl ConnectionTrait,
    catalogue: &Catalogue,
    request: &BlockRequest<'_>,
    movement: &Movement<'_>,
) -> Result<(wallet::Model, ledger_entry::Model), ApiError> {
    let scheme = catalogue.get(request.scheme_code).ok_or_else(|| {
        ApiError::invalid(
            "scheme_code",
            format!("unknown scheme {}", request.scheme_code),
        )
    })?;
    let person = crate::registry::get(db, request.beneficiary_id).await?;
    if !catalogue
        .schemes_of(
            &person.scheme_codes,
            person.year_of_birth,
            request.treatment_date,
        )
        .iter()
        .any(|s| s.code == scheme.code)
    {
        return Err(ApiError::FailedPrecondition(format!(
            "{} is not covered by {}",
            request.beneficiary_id, scheme.code
        )));
    }
    let year = scheme.policy_year(request.treatment_date);
    if year.end() < today_in_india() {
        return Err(ApiError::FailedPrecondition(format!(
            "policy year {year} of {} has ended; cover cannot be blocked in it",
            scheme.code
        )));
    }
    let wallet = queries::ensure_wallet(
        db,
        fresh_wallet(&person.family_id, scheme, request.treatment_date),
    )
    .await?;
    let amount = request.amount.paise();
    if !queries::block_if_available(db, &wallet.wallet_id, amount).await? {
        let available = Money::from_paise(wallet.available_paise().max(0));
        return Err(ApiError::FailedPrecondition(format!(
            "only {available} of {} cover is available in {year}; {} asked",
            scheme.code, request.amount
        )));
    }
    let hold = preauth_block::Model {
        preauth_id: request.preauth_id.to_owned(),
        wallet_id: wallet.wallet_id.clone(),
        beneficiary_id: request.beneficiary_id.to_owned(),
        held_paise: amount,
        consumed_paise: 0,
        released_paise: 0,
    };
    if !queries::add_to_block(db, hold).await? {
        // Returning the error rolls the wallet's block back with the transaction.
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {} already holds cover on another wallet",
            request.preauth_id
        )));
    }
    record(
        db,
        &wallet.wallet_id,
        LedgerEntryKind::Block,
        amount,
        request.preauth_id,
        "",
        movement,
    )
    .await
}

/// What a preauth holds, with its wallet and then the hold locked for the
/// rest of the transaction, in that order (the order every money move takes).
async fn lock_hold(
    db: &impl ConnectionTrait,
    preauth_id: &str,
) -> Result<(wallet::Model, preauth_block::Model), ApiError> {
    let unlocked = queries::find_block(db, preauth_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("preauth {preauth_id} holds no cover")))?;
    // A hold never changes wallet, so the id read unlocked is the one to lock.
    let wallet = queries::lock_wallet(db, &unlocked.wallet_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("wallet {} vanished", unlocked.wallet_id)))?;
    let hold = queries::lock_block(db, preauth_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("hold of {preauth_id} vanished")))?;
    Ok((wallet, hold))
}

/// Moves `amount` out of a locked hold and its wallet — consumed or released —
/// each as one guarded statement, so no interleaving moves more than is held.
async fn take(
    db: &impl ConnectionTrait,
    hold: &preauth_block::Model,
    amount: i64,
    consume: bool,
) -> Result<(), ApiError> {
    if !queries::take_from_block(db, &hold.preauth_id, amount, consume).await? {
        return Err(ApiError::Aborted(format!(
            "the hold of preauth {} changed while this request ran; retry",
            hold.preauth_id
        )));
    }
    let consumed = if consume { amount } else { 0 };
    if !queries::unblock(db, &hold.wallet_id, amount, consumed).await? {
        return Err(ApiError::internal(format!(
            "wallet {} blocks less than preauth {} holds",
            hold.wallet_id, hold.preauth_id
        )));
    }
    Ok(())
}

/// Releases `amount` (or, when `None`, everything still held) of a preauth's block.
/// Returns the wallet and the ledger row, none when nothing was left to release.
pub async fn release(
    db: &impl ConnectionTrait,
    preauth_id: &str,
    amount: Option<Money>,
    claim_id: &str,
    movement: &Movement<'_>,
) -> Result<(wallet::Model, Option<ledger_entry::Model>), ApiError> {
    let (wallet, hold) = lock_hold(db, preauth_id).await?;
    let amount = amount.map_or(hold.held_paise, Money::paise);
    if amount > hold.held_paise {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {preauth_id} holds only {}; cannot release {}",
            Money::from_paise(hold.held_paise),
            Money::from_paise(amount)
        )));
    }
    if amount == 0 {
        return Ok((wallet, None));
    }
    take(db, &hold, amount, false).await?;
    let (wallet, entry) = record(
        db,
        &hold.wallet_id,
        LedgerEntryKind::Release,
        amount,
        preauth_id,
        claim_id,
        movement,
    )
    .await?;
    Ok((wallet, Some(entry)))
}

/// Consumes an approved claim amount out of a preauth's block, then releases
/// what stays held when `release_remainder`.
pub async fn consume(
    db: &impl ConnectionTrait,
    preauth_id: &str,
    claim_id: &str,
    amount: Money,
    release_remainder: bool,
    movement: &Movement<'_>,
) -> Result<(wallet::Model, Vec<ledger_entry::Model>), ApiError> {
    let (_, hold) = lock_hold(db, preauth_id).await?;
    let paise = amount.paise();
    if paise > hold.held_paise {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {preauth_id} holds only {}; cannot consume {amount}",
            Money::from_paise(hold.held_paise)
        )));
    }
    take(db, &hold, paise, true).await?;
    let (mut wallet, entry) = record(
        db,
        &hold.wallet_id,
        LedgerEntryKind::Consume,
        paise,
        preauth_id,
        claim_id,
        movement,
    )
    .await?;
    let mut entries = vec![entry];
    if release_remainder {
        let (after, released) = release(db, preauth_id, None, claim_id, movement).await?;
        wallet = after;
        entries.extend(released);
    }
    Ok((wallet, entries))
}

/// The wallet beside what its ledger and its preauths' holds say it should be.
pub struct Reconciliation {
    pub wallet: wallet::Model,
    pub sums: queries::WalletSums,
}

impl Reconciliation {
    /// Whether the wallet, its ledger and its holds agree.
    pub fn consistent(&self) -> bool {
        let s = &self.sums;
        s.ledger_blocked == self.wallet.blocked_paise
            && s.held_by_preauths == self.wallet.blocked_paise
            && s.ledger_consumed == self.wallet.consumed_paise
            && s.consumed_by_preauths == self.wallet.consumed_paise
            && self.wallet.blocked_paise >= 0
            && self.wallet.consumed_paise >= 0
            && self.wallet.available_paise() >= 0
    }
}

/// Recomputes a wallet from its ledger and its preauths' holds.
pub async fn reconcile(
    db: &impl ConnectionTrait,
    wallet_id: &str,
) -> Result<Reconciliation, ApiError> {
    let wallet = queries::find_wallet(db, wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no wallet {wallet_id}")))?;
    let kinds = queries::LedgerKinds {
        block: LedgerEntryKind::Block.as_str_name(),
        consume: LedgerEntryKind::Consume.as_str_name(),
        release: LedgerEntryKind::Release.as_str_name(),
    };
    let sums = queries::wallet_sums(db, wallet_id, &kinds).await?;
    Ok(Reconciliation { wallet, sums })
}

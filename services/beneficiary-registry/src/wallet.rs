//! Family wallets (DESIGN §4, Wallet): block on preauth, consume on claim
//! approval, release on cancel, reject or remainder. The balance never goes
//! negative under any concurrency — the availability check and the change are
//! one UPDATE — and every movement is an append-only ledger row.

use ayushman_domain::Money;
use ayushman_platform::{ApiError, convert::today_in_india, db, ids};
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
    pub actor_id: &'a str,
    pub actor_kind: &'a str,
    pub trace_id: &'a str,
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
        actor_id: movement.actor_id.to_owned(),
        actor_kind: movement.actor_kind.to_owned(),
        trace_id: movement.trace_id.to_owned(),
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
    let existing = queries::find_block(db, request.preauth_id).await?;
    if let Some(held) = &existing
        && held.wallet_id != wallet.wallet_id
    {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {} already holds cover on wallet {}",
            request.preauth_id, held.wallet_id
        )));
    }
    let amount = request.amount.paise();
    if !queries::block_if_available(db, &wallet.wallet_id, amount).await? {
        let available = Money::from_paise(wallet.available_paise().max(0));
        return Err(ApiError::FailedPrecondition(format!(
            "only {available} of {} cover is available in {year}; {} asked",
            scheme.code, request.amount
        )));
    }
    let block = match existing.clone() {
        Some(held) => preauth_block::Model {
            held_paise: held.held_paise + amount,
            ..held
        },
        None => preauth_block::Model {
            preauth_id: request.preauth_id.to_owned(),
            wallet_id: wallet.wallet_id.clone(),
            beneficiary_id: request.beneficiary_id.to_owned(),
            held_paise: amount,
            consumed_paise: 0,
            released_paise: 0,
        },
    };
    queries::save_block(db, block, existing.is_some()).await?;
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

async fn held(
    db: &impl ConnectionTrait,
    preauth_id: &str,
) -> Result<preauth_block::Model, ApiError> {
    queries::find_block(db, preauth_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("preauth {preauth_id} holds no cover")))
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
    let block = held(db, preauth_id).await?;
    let amount = amount.map_or(block.held_paise, Money::paise);
    if amount > block.held_paise {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {preauth_id} holds only {}; cannot release {}",
            Money::from_paise(block.held_paise),
            Money::from_paise(amount)
        )));
    }
    if amount == 0 {
        let wallet = queries::find_wallet(db, &block.wallet_id)
            .await?
            .ok_or_else(|| ApiError::internal("wallet of a block vanished"))?;
        return Ok((wallet, None));
    }
    queries::settle_block(db, &block.wallet_id, amount, 0).await?;
    let wallet_id = block.wallet_id.clone();
    let updated = preauth_block::Model {
        held_paise: block.held_paise - amount,
        released_paise: block.released_paise + amount,
        ..block
    };
    queries::save_block(db, updated, true).await?;
    let (wallet, entry) = record(
        db,
        &wallet_id,
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
    let block = held(db, preauth_id).await?;
    let paise = amount.paise();
    if paise > block.held_paise {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {preauth_id} holds only {}; cannot consume {amount}",
            Money::from_paise(block.held_paise)
        )));
    }
    queries::settle_block(db, &block.wallet_id, paise, paise).await?;
    let wallet_id = block.wallet_id.clone();
    let updated = preauth_block::Model {
        held_paise: block.held_paise - paise,
        consumed_paise: block.consumed_paise + paise,
        ..block
    };
    queries::save_block(db, updated, true).await?;
    let (mut wallet, entry) = record(
        db,
        &wallet_id,
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

//! Family wallets (DESIGN §4, Wallet): block on preauth, consume on claim
//! approval, release on cancel, reject or remainder; every movement an
//! append-only ledger row.
//!
//! A preauth may draw on several of a person's schemes in their draw order
//! (PM-JAY's floater, then the senior top-up, then a state's top-up), so it
//! holds cover on one wallet per scheme; consumption takes from the holds in
//! draw order, releases from the last drawn first.
//!
//! No interleaving moves more than is there: a block is one guarded UPDATE
//! per wallet (`cover - blocked - consumed >= amount`, and the wallet as
//! read; [`block`] says when it reads without locks); releases and
//! consumptions lock the wallets (in id order, the one order every move
//! takes), then the holds, and take each amount out with a guarded UPDATE
//! (`held >= amount`, `blocked >= amount`).

mod block;

pub use block::{BlockRequest, Unlocked, block_locked, block_unlocked};

use ayushman_domain::Money;
use ayushman_platform::{ApiError, db, ids, lifecycle::Actor};
use ayushman_proto::beneficiary::v1::{
    CardStatus, CoverKind, IneligibilityReason, LedgerEntryKind, WalletKind,
};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::{
    schemes::{Catalogue, Member, Scheme},
    store::{
        entities::{beneficiary, hold, ledger_entry, wallet},
        queries,
    },
};

/// The wallet id of a holder's cover (a family's, or a member's for a
/// personal cover) under a scheme for the policy year starting `year_start`:
/// deterministic, so reads need not create rows.
pub fn wallet_id(holder: &str, scheme: &str, year_start: NaiveDate) -> String {
    format!("WAL-{holder}-{scheme}-{}", year_start.format("%Y"))
}

fn kind_of(scheme: &Scheme) -> WalletKind {
    match scheme.cover_kind {
        CoverKind::SeniorTopUp => WalletKind::SeniorTopUp,
        CoverKind::Personal => WalletKind::Personal,
        _ => WalletKind::FamilyFloater,
    }
}

fn fresh_wallet(person: &beneficiary::Model, scheme: &Scheme, date: NaiveDate) -> wallet::Model {
    let start = scheme.policy_year(date).start();
    let personal = scheme.cover_kind == CoverKind::Personal;
    let holder = if personal {
        &person.beneficiary_id
    } else {
        &person.family_id
    };
    wallet::Model {
        wallet_id: wallet_id(holder, &scheme.code, start),
        family_id: person.family_id.clone(),
        beneficiary_id: if personal {
            person.beneficiary_id.clone()
        } else {
            String::new()
        },
        scheme_code: scheme.code.clone(),
        kind: kind_of(scheme).as_str_name().to_owned(),
        policy_year_start: start,
        cover_paise: scheme.cover.paise(),
        blocked_paise: 0,
        consumed_paise: 0,
    }
}

/// The wallet `person` draws on under `scheme` in the year of `date` (their
/// family's, or their own for a personal cover): as stored among `stored`,
/// else as it will be created (full cover, nothing blocked).
pub fn stored_or_fresh(
    stored: &[wallet::Model],
    person: &beneficiary::Model,
    scheme: &Scheme,
    date: NaiveDate,
) -> wallet::Model {
    let fresh = fresh_wallet(person, scheme, date);
    stored
        .iter()
        .find(|w| w.wallet_id == fresh.wallet_id)
        .cloned()
        .unwrap_or(fresh)
}

/// Eligibility under one scheme.
pub struct SchemeEligibility<'a> {
    pub scheme: &'a Scheme,
    pub reason: Option<IneligibilityReason>,
    pub wallet: wallet::Model,
}

/// Whether `person` may be treated under each applicable scheme (or `only`)
/// on `date`, in draw order, given their family's wallets as stored (a
/// wallet not stored yet has its full cover).
pub fn verify<'a>(
    catalogue: &'a Catalogue,
    person: &beneficiary::Model,
    stored: &[wallet::Model],
    only: Option<&str>,
    date: NaiveDate,
) -> Result<Vec<SchemeEligibility<'a>>, ApiError> {
    let applicable = catalogue.schemes_of(&Member::of(person), date);
    let card_reason = match CardStatus::from_str_name(&person.card_status) {
        Some(CardStatus::Issued) => None,
        Some(CardStatus::Suspended) => Some(IneligibilityReason::CardSuspended),
        _ => Some(IneligibilityReason::NoCard),
    };
    let asked: Vec<&Scheme> =
        match only {
            Some(code) => vec![catalogue.get(code).ok_or_else(|| {
                ApiError::invalid("scheme_code", format!("unknown scheme {code}"))
            })?],
            None => applicable.clone(),
        };
    let mut answers = Vec::new();
    for scheme in asked {
        let wallet = stored_or_fresh(stored, person, scheme, date);
        let reason = if !applicable.iter().any(|s| s.code == scheme.code) || !scheme.is_active() {
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

/// Appends a ledger row for a move of `amount` on `wallet_id`, with what the
/// wallet has available after it.
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
    let entry = ledger_entry(&wallet, kind, amount, preauth_id, claim_id, movement);
    queries::append_ledger(db, entry.clone()).await?;
    Ok((wallet, entry))
}

/// The ledger row of a move that left `wallet` as it is.
fn ledger_entry(
    wallet: &wallet::Model,
    kind: LedgerEntryKind,
    amount: i64,
    preauth_id: &str,
    claim_id: &str,
    movement: &Movement<'_>,
) -> ledger_entry::Model {
    ledger_entry::Model {
        entry_id: ids::ordered_id("LED"),
        wallet_id: wallet.wallet_id.clone(),
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
    }
}

/// What a move did: the wallets it touched (after it) and its ledger rows.
#[derive(Debug, Default)]
pub struct Moved {
    pub wallets: Vec<wallet::Model>,
    pub entries: Vec<ledger_entry::Model>,
}

impl Moved {
    fn add(&mut self, (wallet, entry): (wallet::Model, ledger_entry::Model)) {
        self.wallets.retain(|w| w.wallet_id != wallet.wallet_id);
        self.wallets.push(wallet);
        self.entries.push(entry);
    }
}

/// What a preauth holds, with its wallets and then its holds locked for the
/// rest of the transaction, in that order (the order every money move takes).
async fn lock_holds(
    db: &impl ConnectionTrait,
    preauth_id: &str,
) -> Result<Vec<hold::Model>, ApiError> {
    let unlocked = queries::holds_of(db, preauth_id).await?;
    if unlocked.is_empty() {
        return Err(ApiError::NotFound(format!(
            "preauth {preauth_id} holds no cover"
        )));
    }
    // A hold never changes wallet, so the ids read unlocked are the ones to lock.
    let mut ids: Vec<String> = unlocked.iter().map(|h| h.wallet_id.clone()).collect();
    ids.sort();
    queries::lock_wallets(db, &ids).await?;
    Ok(queries::lock_holds(db, preauth_id).await?)
}

/// Moves `amount` out of a locked hold and its wallet — consumed or released —
/// each as one guarded statement.
async fn take(
    db: &impl ConnectionTrait,
    hold: &hold::Model,
    amount: i64,
    consume: bool,
) -> Result<(), ApiError> {
    if !queries::take_from_hold(db, hold, amount, consume).await? {
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

/// Moves `amount` out of `holds` in the order given, each giving what it holds.
async fn take_in_order<'h>(
    db: &impl ConnectionTrait,
    holds: impl Iterator<Item = &'h hold::Model>,
    amount: i64,
    kind: LedgerEntryKind,
    claim_id: &str,
    movement: &Movement<'_>,
    moved: &mut Moved,
) -> Result<(), ApiError> {
    let mut remaining = amount;
    for hold in holds {
        let part = remaining.min(hold.held_paise);
        if part <= 0 {
            continue;
        }
        take(db, hold, part, kind == LedgerEntryKind::Consume).await?;
        moved.add(
            record(
                db,
                &hold.wallet_id,
                kind,
                part,
                &hold.preauth_id,
                claim_id,
                movement,
            )
            .await?,
        );
        remaining -= part;
    }
    Ok(())
}

/// Releases `amount` (or, when `None`, everything still held) of a preauth's
/// holds, the last drawn first. Nothing released when nothing was left.
pub async fn release(
    db: &impl ConnectionTrait,
    preauth_id: &str,
    amount: Option<Money>,
    claim_id: &str,
    movement: &Movement<'_>,
) -> Result<Moved, ApiError> {
    let holds = lock_holds(db, preauth_id).await?;
    let held: i64 = holds.iter().map(|h| h.held_paise).sum();
    let amount = amount.map_or(held, Money::paise);
    if amount > held {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {preauth_id} holds only {}; cannot release {}",
            Money::from_paise(held),
            Money::from_paise(amount)
        )));
    }
    let mut moved = Moved::default();
    take_in_order(
        db,
        holds.iter().rev(),
        amount,
        LedgerEntryKind::Release,
        claim_id,
        movement,
        &mut moved,
    )
    .await?;
    if moved.wallets.is_empty() {
        let first = &holds[0].wallet_id;
        moved.wallets.extend(queries::find_wallet(db, first).await?);
    }
    Ok(moved)
}

/// Consumes an approved claim amount out of a preauth's holds in draw order,
/// then releases what stays held when `release_remainder`.
pub async fn consume(
    db: &impl ConnectionTrait,
    preauth_id: &str,
    claim_id: &str,
    amount: Money,
    release_remainder: bool,
    movement: &Movement<'_>,
) -> Result<Moved, ApiError> {
    let holds = lock_holds(db, preauth_id).await?;
    let held: i64 = holds.iter().map(|h| h.held_paise).sum();
    let paise = amount.paise();
    if paise > held {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {preauth_id} holds only {}; cannot consume {amount}",
            Money::from_paise(held)
        )));
    }
    let mut moved = Moved::default();
    take_in_order(
        db,
        holds.iter(),
        paise,
        LedgerEntryKind::Consume,
        claim_id,
        movement,
        &mut moved,
    )
    .await?;
    if release_remainder && held > paise {
        let left = queries::lock_holds(db, preauth_id).await?;
        take_in_order(
            db,
            left.iter().rev(),
            held - paise,
            LedgerEntryKind::Release,
            claim_id,
            movement,
            &mut moved,
        )
        .await?;
    }
    Ok(moved)
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

//! Every SQL statement of the registry. Functions take any connection or
//! transaction, so callers decide what runs atomically. People, cards,
//! wallets and schemes are here; card drives and their reports in [`drives`].

pub mod drives;

use ayushman_platform::db::{Batch, Guarded, Rows, insert_one, select_prefixed};
use chrono::{Months, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    IntoActiveModel, JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, OnConflict, Query, SelectStatement},
};

use super::entities::{beneficiary, card_issuance, family, hold, ledger_entry, scheme, wallet};

/// Rows of one multi-row INSERT: SQLite binds every value (at most 32,766
/// parameters; a person has 25), so a larger batch takes several statements.
const ROWS_PER_STATEMENT: usize = 1_000;

/// `rows` in the multi-row INSERTs that write them.
fn statements_of<T>(rows: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()
            .is_some()
            .then(|| rows.by_ref().take(ROWS_PER_STATEMENT).collect())
    })
}

/// Inserts families not yet known; returns how many were new.
pub async fn insert_new_families(
    db: &impl ConnectionTrait,
    rows: Vec<family::Model>,
) -> Result<u64, DbErr> {
    let mut inserted = 0;
    for chunk in statements_of(rows) {
        inserted +=
            family::Entity::insert_many(chunk.into_iter().map(IntoActiveModel::into_active_model))
                .on_conflict(
                    OnConflict::column(family::Column::FamilyId)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
    }
    Ok(inserted)
}

/// Inserts people not yet known (same family, name and year of birth, same
/// Aadhaar, or same card are duplicates); returns how many were new.
pub async fn insert_new_beneficiaries(
    db: &impl ConnectionTrait,
    rows: Vec<beneficiary::Model>,
) -> Result<u64, DbErr> {
    let mut inserted = 0;
    for chunk in statements_of(rows) {
        inserted += beneficiary::Entity::insert_many(
            chunk.into_iter().map(IntoActiveModel::into_active_model),
        )
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    }
    Ok(inserted)
}

/// [`insert_new_families`] then [`insert_new_beneficiaries`] in one
/// PostgreSQL transaction, through COPY; returns (families, people) inserted.
pub async fn copy_new_people(
    pool: &sea_orm::sqlx::PgPool,
    families: &[family::Model],
    people: &[beneficiary::Model],
) -> Result<(u64, u64), DbErr> {
    use ayushman_platform::db::copy;
    let failed = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("import transaction: {e}"));
    let mut txn = pool.begin().await.map_err(failed)?;
    let families_created = copy::insert_new::<family::Entity>(&mut txn, families).await?;
    let accepted = copy::insert_new::<beneficiary::Entity>(&mut txn, people).await?;
    txn.commit().await.map_err(failed)?;
    Ok((families_created, accepted))
}

pub async fn find_beneficiary(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<beneficiary::Model>, DbErr> {
    beneficiary::Entity::find_by_id(id.to_owned()).one(db).await
}

/// A beneficiary by a unique column (card number, Aadhaar digest, ABHA number or address).
pub async fn find_beneficiary_by(
    db: &impl ConnectionTrait,
    column: beneficiary::Column,
    value: &str,
) -> Result<Option<beneficiary::Model>, DbErr> {
    beneficiary::Entity::find()
        .filter(column.eq(value))
        .one(db)
        .await
}

/// A beneficiary by a unique column (their id or card number) with every
/// wallet of their family whose policy year covers `date`: one statement
/// (a left join) for the eligibility check every preauth makes.
pub async fn find_beneficiary_with_wallets(
    db: &impl ConnectionTrait,
    column: beneficiary::Column,
    value: &str,
    date: NaiveDate,
) -> Result<Option<(beneficiary::Model, Vec<wallet::Model>)>, DbErr> {
    let query = beneficiary_with_wallets(column, value, date);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query))
        .await?;
    person_and_wallets(&rows)
}

/// [`find_beneficiary_with_wallets`] by id, and whether preauth
/// `preauth_id` holds any cover yet, in the same statement: what a block
/// reads first.
pub async fn find_beneficiary_for_block(
    db: &impl ConnectionTrait,
    beneficiary_id: &str,
    date: NaiveDate,
    preauth_id: &str,
) -> Result<Option<(beneficiary::Model, Vec<wallet::Model>, bool)>, DbErr> {
    const HOLDING: &str = "holding";
    let mut query =
        beneficiary_with_wallets(beneficiary::Column::BeneficiaryId, beneficiary_id, date);
    query.expr_as(
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(hold::Entity)
                .and_where(hold::Column::PreauthId.eq(preauth_id))
                .to_owned(),
        ),
        HOLDING,
    );
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query))
        .await?;
    let Some((person, wallets)) = person_and_wallets(&rows)? else {
        return Ok(None);
    };
    let holding = rows[0].try_get::<bool>("", HOLDING)?;
    Ok(Some((person, wallets, holding)))
}

const PERSON: &str = "b";
const WALLET: &str = "w";

/// The beneficiary whose `column` is `value`, left-joined with the
/// wallets of their family whose policy year covers `date`.
fn beneficiary_with_wallets(
    column: beneficiary::Column,
    value: &str,
    date: NaiveDate,
) -> SelectStatement {
    let (earliest_start, latest_start) = starts_of_years_covering(date);
    let mut query = Query::select();
    select_prefixed::<beneficiary::Entity>(&mut query, PERSON);
    select_prefixed::<wallet::Entity>(&mut query, WALLET);
    query
        .from_as(beneficiary::Entity, PERSON)
        .join_as(
            JoinType::LeftJoin,
            wallet::Entity,
            WALLET,
            Condition::all()
                .add(
                    Expr::col((WALLET, wallet::Column::FamilyId))
                        .equals((PERSON, beneficiary::Column::FamilyId)),
                )
                .add(Expr::col((WALLET, wallet::Column::PolicyYearStart)).gte(earliest_start))
                .add(Expr::col((WALLET, wallet::Column::PolicyYearStart)).lte(latest_start)),
        )
        .and_where(Expr::col((PERSON, column)).eq(value));
    query
}

/// The person and wallets of [`beneficiary_with_wallets`]'s rows.
fn person_and_wallets(
    rows: &[QueryResult],
) -> Result<Option<(beneficiary::Model, Vec<wallet::Model>)>, DbErr> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let person = beneficiary::Model::from_query_result(first, &format!("{PERSON}_"))?;
    let mut wallets = Vec::with_capacity(rows.len());
    for row in rows {
        wallets.extend(wallet::Model::from_query_result_optional(
            row,
            &format!("{WALLET}_"),
        )?);
    }
    Ok(Some((person, wallets)))
}

/// Every wallet of a family (its own and its members' personal ones) whose
/// policy year covers `date`.
pub async fn wallets_of_family_in_year(
    db: &impl ConnectionTrait,
    family_id: &str,
    date: NaiveDate,
) -> Result<Vec<wallet::Model>, DbErr> {
    let (earliest_start, latest_start) = starts_of_years_covering(date);
    wallet::Entity::find()
        .filter(wallet::Column::FamilyId.eq(family_id))
        .filter(wallet::Column::PolicyYearStart.between(earliest_start, latest_start))
        .all(db)
        .await
}

/// The range a policy year covering `date` started in: a policy year is a
/// year long, so it began within a year before `date`.
fn starts_of_years_covering(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        date.checked_sub_months(Months::new(12)).unwrap_or(date),
        date,
    )
}

/// How to find people.
pub enum Search {
    NamePrefix {
        name_key_prefix: String,
        district_code: String,
    },
    Family(String),
    Column(beneficiary::Column, String),
}

impl Search {
    /// The page token after `row`: its id, and for a name search its name
    /// first, because name searches are in name order.
    pub fn page_key(&self, row: &beneficiary::Model) -> String {
        match self {
            Self::NamePrefix { .. } => format!("{}:{}", row.beneficiary_id, row.name_key),
            _ => row.beneficiary_id.clone(),
        }
    }
}

/// The first string after every string starting with `prefix`: its last
/// character moved one on ("suni" -> "sunj"), which holds in byte order
/// (SQLite) and in the usual collations (PostgreSQL) alike.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = char::from_u32(u32::from(last) + 1)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

/// People matching `search` after the page token `after`; one more than
/// `size`. A name search is in name order, walking the (district, name, id)
/// index; the others are in id order.
pub async fn search(
    db: &impl ConnectionTrait,
    search: &Search,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<beneficiary::Model>, DbErr> {
    let query = beneficiary::Entity::find().limit(size + 1);
    let query = match search {
        Search::NamePrefix {
            name_key_prefix,
            district_code,
        } => {
            let mut query = query
                .filter(beneficiary::Column::DistrictCode.eq(district_code))
                .filter(beneficiary::Column::NameKey.gte(name_key_prefix))
                .filter(beneficiary::Column::NameKey.starts_with(name_key_prefix))
                .order_by_asc(beneficiary::Column::NameKey)
                .order_by_asc(beneficiary::Column::BeneficiaryId);
            if let Some(end) = prefix_end(name_key_prefix) {
                query = query.filter(beneficiary::Column::NameKey.lt(end));
            }
            if let Some((id, name_key)) = after.and_then(|token| token.split_once(':')) {
                query = query.filter(
                    Condition::any()
                        .add(beneficiary::Column::NameKey.gt(name_key))
                        .add(
                            Condition::all()
                                .add(beneficiary::Column::NameKey.eq(name_key))
                                .add(beneficiary::Column::BeneficiaryId.gt(id)),
                        ),
                );
            }
            return query.all(db).await;
        }
        Search::Family(family_id) => query.filter(beneficiary::Column::FamilyId.eq(family_id)),
        Search::Column(column, value) => query.filter(column.eq(value)),
    };
    let mut query = query.order_by_asc(beneficiary::Column::BeneficiaryId);
    if let Some(after) = after {
        query = query.filter(beneficiary::Column::BeneficiaryId.gt(after));
    }
    query.all(db).await
}

pub async fn find_family(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<family::Model>, DbErr> {
    family::Entity::find_by_id(id.to_owned()).one(db).await
}

pub async fn members_of(
    db: &impl ConnectionTrait,
    family_id: &str,
) -> Result<Vec<beneficiary::Model>, DbErr> {
    beneficiary::Entity::find()
        .filter(beneficiary::Column::FamilyId.eq(family_id))
        .order_by_asc(beneficiary::Column::BeneficiaryId)
        .all(db)
        .await
}

pub async fn save_beneficiary(
    db: &impl ConnectionTrait,
    row: beneficiary::ActiveModel,
) -> Result<beneficiary::Model, DbErr> {
    row.update(db).await
}

pub async fn insert_card_issuance(
    db: &impl ConnectionTrait,
    row: card_issuance::Model,
) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

pub async fn find_wallet(
    db: &impl ConnectionTrait,
    wallet_id: &str,
) -> Result<Option<wallet::Model>, DbErr> {
    wallet::Entity::find_by_id(wallet_id.to_owned())
        .one(db)
        .await
}

/// Makes those of `wallets` that do not exist yet and answers with them as
/// made; they are this transaction's until it commits. The ids are made from
/// the holder, scheme and year that the other unique index keys on, so a
/// conflict on either is the same wallet: no target, so PostgreSQL does
/// nothing whichever index a concurrent maker hits first. Give them in id
/// order (the one order every money move locks wallets in).
pub async fn make_missing_wallets(
    db: &impl ConnectionTrait,
    wallets: Vec<wallet::Model>,
) -> Result<Vec<wallet::Model>, DbErr> {
    wallet::Entity::insert_many(wallets.into_iter().map(IntoActiveModel::into_active_model))
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_with_returning(db)
        .await
}

/// Adds `amount` to the blocked amount of wallet `read`, provided at least
/// that much is available and it is still as read (its cover, blocked and
/// consumed amounts), with the preauth's hold on it (added to any it has)
/// and the move's ledger row: one guarded write. Still as read, the ledger
/// row's balance is exact.
pub fn block_with_hold(
    read: &wallet::Model,
    amount: i64,
    hold: hold::Model,
    entry: ledger_entry::Model,
) -> Guarded {
    let available = Expr::col(wallet::Column::CoverPaise)
        .sub(Expr::col(wallet::Column::BlockedPaise))
        .sub(Expr::col(wallet::Column::ConsumedPaise));
    let mut block = Guarded::new(
        wallet::Entity::update_many()
            .col_expr(
                wallet::Column::BlockedPaise,
                Expr::col(wallet::Column::BlockedPaise).add(amount),
            )
            .filter(wallet::Column::WalletId.eq(&read.wallet_id))
            .filter(available.gte(amount))
            .filter(wallet::Column::CoverPaise.eq(read.cover_paise))
            .filter(wallet::Column::BlockedPaise.eq(read.blocked_paise))
            .filter(wallet::Column::ConsumedPaise.eq(read.consumed_paise))
            .into_query(),
    );
    block
        .insert(hold_added_to(hold))
        .insert(Rows::of(&entry.into_active_model()));
    block
}

/// Makes wallet `blocked` with its first block in it, the preauth's hold on
/// it and the block's ledger row, together. A wallet made meanwhile by a
/// concurrent request fails the batch as a unique violation.
pub fn make_blocked(
    blocked: wallet::Model,
    hold: hold::Model,
    entry: ledger_entry::Model,
) -> Batch {
    let mut batch = Batch::new();
    batch
        .insert(Rows::of(&blocked.into_active_model()))
        .insert(hold_added_to(hold))
        .insert(Rows::of(&entry.into_active_model()));
    batch
}

/// The row of `hold`, added to the preauth's hold on the wallet if it has one.
fn hold_added_to(hold: hold::Model) -> Rows {
    let added = OnConflict::columns([hold::Column::PreauthId, hold::Column::WalletId])
        .value(
            hold::Column::HeldPaise,
            Expr::col((hold::Entity, hold::Column::HeldPaise)).add(hold.held_paise),
        )
        .to_owned();
    Rows::of(&hold.into_active_model()).on_conflict(added)
}

/// Takes `unblock` off the wallet's blocked amount and adds `consume` to its
/// consumed amount, only if at least `unblock` is blocked; returns whether it did.
pub async fn unblock(
    db: &impl ConnectionTrait,
    wallet_id: &str,
    unblock: i64,
    consume: i64,
) -> Result<bool, DbErr> {
    let result = wallet::Entity::update_many()
        .col_expr(
            wallet::Column::BlockedPaise,
            Expr::col(wallet::Column::BlockedPaise).sub(unblock),
        )
        .col_expr(
            wallet::Column::ConsumedPaise,
            Expr::col(wallet::Column::ConsumedPaise).add(consume),
        )
        .filter(wallet::Column::WalletId.eq(wallet_id))
        .filter(wallet::Column::BlockedPaise.gte(unblock))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The wallets `ids`, locked for the rest of the transaction, in id order
/// (the one order every money move locks wallets in).
pub async fn lock_wallets(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<wallet::Model>, DbErr> {
    wallet::Entity::find()
        .filter(wallet::Column::WalletId.is_in(ids.iter().map(String::as_str)))
        .order_by_asc(wallet::Column::WalletId)
        .lock_exclusive()
        .all(db)
        .await
}

/// What a preauth holds, wallet by wallet, in draw order.
pub async fn holds_of(
    db: &impl ConnectionTrait,
    preauth_id: &str,
) -> Result<Vec<hold::Model>, DbErr> {
    hold::Entity::find()
        .filter(hold::Column::PreauthId.eq(preauth_id))
        .order_by_asc(hold::Column::DrawOrder)
        .order_by_asc(hold::Column::WalletId)
        .all(db)
        .await
}

/// [`holds_of`], locked for the rest of the transaction.
pub async fn lock_holds(
    db: &impl ConnectionTrait,
    preauth_id: &str,
) -> Result<Vec<hold::Model>, DbErr> {
    hold::Entity::find()
        .filter(hold::Column::PreauthId.eq(preauth_id))
        .order_by_asc(hold::Column::DrawOrder)
        .order_by_asc(hold::Column::WalletId)
        .lock_exclusive()
        .all(db)
        .await
}

/// Moves `amount` out of what a preauth holds on a wallet — consumed when
/// `consume`, released otherwise — only if it holds at least that much;
/// returns whether it did.
pub async fn take_from_hold(
    db: &impl ConnectionTrait,
    hold: &hold::Model,
    amount: i64,
    consume: bool,
) -> Result<bool, DbErr> {
    let moved_to = if consume {
        hold::Column::ConsumedPaise
    } else {
        hold::Column::ReleasedPaise
    };
    let result = hold::Entity::update_many()
        .col_expr(
            hold::Column::HeldPaise,
            Expr::col(hold::Column::HeldPaise).sub(amount),
        )
        .col_expr(moved_to, Expr::col(moved_to).add(amount))
        .filter(hold::Column::PreauthId.eq(hold.preauth_id.as_str()))
        .filter(hold::Column::WalletId.eq(hold.wallet_id.as_str()))
        .filter(hold::Column::HeldPaise.gte(amount))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Every scheme.
pub async fn all_schemes(db: &impl ConnectionTrait) -> Result<Vec<scheme::Model>, DbErr> {
    scheme::Entity::find()
        .order_by_asc(scheme::Column::DrawOrder)
        .order_by_asc(scheme::Column::SchemeCode)
        .all(db)
        .await
}

pub async fn find_scheme(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<scheme::Model>, DbErr> {
    scheme::Entity::find_by_id(code.to_owned()).one(db).await
}

/// Adds a scheme; false when one with its code exists.
pub async fn insert_scheme(db: &impl ConnectionTrait, row: scheme::Model) -> Result<bool, DbErr> {
    scheme::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::column(scheme::Column::SchemeCode)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|inserted| inserted == 1)
}

/// Replaces a scheme's fields.
pub async fn save_scheme(db: &impl ConnectionTrait, row: scheme::Model) -> Result<(), DbErr> {
    use sea_orm::ActiveModelTrait;
    row.into_active_model()
        .reset_all()
        .update(db)
        .await
        .map(|_| ())
}

/// A wallet recomputed from the rows that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WalletSums {
    /// Blocks minus consumptions minus releases, from the ledger.
    pub ledger_blocked: i64,
    /// Consumptions, from the ledger.
    pub ledger_consumed: i64,
    /// Ledger rows.
    pub ledger_entries: i64,
    /// What the preauths drawing on the wallet still hold.
    pub held_by_preauths: i64,
    /// What they consumed.
    pub consumed_by_preauths: i64,
}

/// The ledger kinds as stored: block, consume, release.
pub struct LedgerKinds<'a> {
    pub block: &'a str,
    pub consume: &'a str,
    pub release: &'a str,
}

/// Sums the wallet's ledger by kind, and its preauths' holds.
pub async fn wallet_sums(
    db: &impl ConnectionTrait,
    wallet_id: &str,
    kinds: &LedgerKinds<'_>,
) -> Result<WalletSums, DbErr> {
    let by_kind: Vec<(String, i64, i64)> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::Kind)
        .column_as(
            Expr::col(ledger_entry::Column::AmountPaise)
                .sum()
                .cast_as("bigint"),
            "amount",
        )
        .column_as(Expr::col(ledger_entry::Column::EntryId).count(), "entries")
        .filter(ledger_entry::Column::WalletId.eq(wallet_id))
        .group_by(ledger_entry::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let mut sums = WalletSums::default();
    for (kind, amount, entries) in by_kind {
        sums.ledger_entries += entries;
        if kind == kinds.block {
            sums.ledger_blocked += amount;
        } else if kind == kinds.consume {
            sums.ledger_blocked -= amount;
            sums.ledger_consumed += amount;
        } else if kind == kinds.release {
            sums.ledger_blocked -= amount;
        }
    }
    let holds: Option<(Option<i64>, Option<i64>)> = hold::Entity::find()
        .select_only()
        .column_as(
            Expr::col(hold::Column::HeldPaise).sum().cast_as("bigint"),
            "held",
        )
        .column_as(
            Expr::col(hold::Column::ConsumedPaise)
                .sum()
                .cast_as("bigint"),
            "consumed",
        )
        .filter(hold::Column::WalletId.eq(wallet_id))
        .into_tuple()
        .one(db)
        .await?;
    if let Some((held, consumed)) = holds {
        sums.held_by_preauths = held.unwrap_or(0);
        sums.consumed_by_preauths = consumed.unwrap_or(0);
    }
    Ok(sums)
}

pub async fn append_ledger(
    db: &impl ConnectionTrait,
    row: ledger_entry::Model,
) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

/// A wallet's ledger, oldest first, after `after`; one more than `size`.
pub async fn ledger_of(
    db: &impl ConnectionTrait,
    wallet_id: &str,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<ledger_entry::Model>, DbErr> {
    let mut query = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::WalletId.eq(wallet_id))
        .order_by_asc(ledger_entry::Column::EntryId)
        .limit(size + 1);
    if let Some(after) = after {
        query = query.filter(ledger_entry::Column::EntryId.gt(after));
    }
    query.all(db).await
}

//! Every SQL statement of the preauth service. Functions take any connection
//! or transaction, so callers decide what runs atomically.

use std::collections::BTreeMap;

use ayushman_platform::{db::Batch, lifecycle::Stored};
use ayushman_proto::preauth::v1::PreauthStatus;
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, QueryTrait,
    sea_query::{InsertStatement, SelectStatement},
};

use crate::fraud::Stay;

use super::entities::{
    enhancement, facility_day, package, package_add_on, package_rate,
    preauth::{self, SagaState},
    preauth_flag, preauth_line,
};

/// A package with its state rates and add-ons.
pub type FullPackage = (
    package::Model,
    Vec<package_rate::Model>,
    Vec<package_add_on::Model>,
);

/// The rates and add-ons of `rows`, in two statements whatever their number.
async fn complete_packages(
    db: &impl ConnectionTrait,
    rows: Vec<package::Model>,
) -> Result<Vec<FullPackage>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let codes: Vec<String> = rows.iter().map(|r| r.package_code.clone()).collect();
    let mut rates: BTreeMap<String, Vec<package_rate::Model>> = BTreeMap::new();
    for rate in package_rate::Entity::find()
        .filter(package_rate::Column::PackageCode.is_in(codes.clone()))
        .order_by_asc(package_rate::Column::StateCode)
        .all(db)
        .await?
    {
        rates
            .entry(rate.package_code.clone())
            .or_default()
            .push(rate);
    }
    let mut add_ons: BTreeMap<String, Vec<package_add_on::Model>> = BTreeMap::new();
    for add_on in package_add_on::Entity::find()
        .filter(package_add_on::Column::PackageCode.is_in(codes))
        .order_by_asc(package_add_on::Column::AddOnCode)
        .all(db)
        .await?
    {
        add_ons
            .entry(add_on.package_code.clone())
            .or_default()
            .push(add_on);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let code = row.package_code.clone();
            (
                row,
                rates.remove(&code).unwrap_or_default(),
                add_ons.remove(&code).unwrap_or_default(),
            )
        })
        .collect())
}

pub async fn find_package(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<FullPackage>, DbErr> {
    let rows = package::Entity::find_by_id(code.to_owned()).all(db).await?;
    Ok(complete_packages(db, rows).await?.pop())
}

/// The whole catalogue, inactive packages too (three statements).
pub async fn all_packages(db: &impl ConnectionTrait) -> Result<Vec<FullPackage>, DbErr> {
    let rows = package::Entity::find()
        .order_by_asc(package::Column::PackageCode)
        .all(db)
        .await?;
    complete_packages(db, rows).await
}

/// Replaces a package with its rates and add-ons.
pub async fn save_package(
    db: &impl ConnectionTrait,
    (row, rates, add_ons): FullPackage,
) -> Result<(), DbErr> {
    let code = row.package_code.clone();
    package_rate::Entity::delete_many()
        .filter(package_rate::Column::PackageCode.eq(code.clone()))
        .exec(db)
        .await?;
    package_add_on::Entity::delete_many()
        .filter(package_add_on::Column::PackageCode.eq(code.clone()))
        .exec(db)
        .await?;
    package::Entity::delete_by_id(code).exec(db).await?;
    package::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await?;
    if !rates.is_empty() {
        package_rate::Entity::insert_many(
            rates.into_iter().map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(db)
        .await?;
    }
    if !add_ons.is_empty() {
        package_add_on::Entity::insert_many(
            add_ons.into_iter().map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Packages by code after `after`, optionally of one specialty; one more
/// than `size`; with their rates and add-ons (three statements).
pub async fn list_packages(
    db: &impl ConnectionTrait,
    specialty: Option<&str>,
    include_inactive: bool,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<FullPackage>, DbErr> {
    let mut query = package::Entity::find()
        .order_by_asc(package::Column::PackageCode)
        .limit(size + 1);
    if let Some(specialty) = specialty {
        query = query.filter(package::Column::SpecialtyCode.eq(specialty));
    }
    if !include_inactive {
        query = query.filter(package::Column::Active.eq(true));
    }
    if let Some(after) = after {
        query = query.filter(package::Column::PackageCode.gt(after));
    }
    complete_packages(db, query.all(db).await?).await
}

pub async fn find_preauth(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<preauth::Model>, DbErr> {
    preauth::Entity::find_by_id(id.to_owned()).one(db).await
}

pub async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<preauth::Model>, DbErr> {
    preauth::Entity::find()
        .filter(preauth::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// Adds to `batch` a new preauth with its requested lines, counted in its
/// hospital's admissions of the day. The preauth's id is new, so the batch
/// fails with a unique violation only when its idempotency key is taken
/// (another request got there first).
pub fn insert_preauth(batch: &mut Batch, row: preauth::Model, lines: Vec<preauth_line::Model>) {
    let received = count_received(&row.preauth_id, &row.hfr_id, row.admission_date);
    batch
        .insert(preauth::Entity::insert(row.into_active_model()).into_query())
        .insert(
            preauth_line::Entity::insert_many(
                lines.into_iter().map(IntoActiveModel::into_active_model),
            )
            .into_query(),
        )
        .insert(received);
}

/// Adds preauth `preauth_id` to those `hfr_id` received for admissions on
/// `day`, as one upsert: concurrent requests each add theirs. The shard's
/// row is locked from here to the commit; concurrent preauths at the
/// hospital mostly count in other shards.
fn count_received(preauth_id: &str, hfr_id: &str, day: NaiveDate) -> InsertStatement {
    use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
    facility_day::Entity::insert(facility_day::ActiveModel {
        hfr_id: sea_orm::ActiveValue::Set(hfr_id.to_owned()),
        admission_date: sea_orm::ActiveValue::Set(day),
        shard: sea_orm::ActiveValue::Set(facility_day::shard_of(preauth_id)),
        preauths: sea_orm::ActiveValue::Set(1),
    })
    .on_conflict(
        OnConflict::columns([
            facility_day::Column::HfrId,
            facility_day::Column::AdmissionDate,
            facility_day::Column::Shard,
        ])
        .value(
            facility_day::Column::Preauths,
            Expr::col((facility_day::Entity, facility_day::Column::Preauths)).add(1),
        )
        .to_owned(),
    )
    .into_query()
}

pub async fn lines_of(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Vec<preauth_line::Model>, DbErr> {
    preauth_line::Entity::find()
        .filter(preauth_line::Column::PreauthId.eq(id))
        .order_by_asc(preauth_line::Column::LineNo)
        .all(db)
        .await
}

/// Replaces a preauth's lines (priced, or with an enhancement's added).
pub async fn save_lines(
    db: &impl ConnectionTrait,
    id: &str,
    lines: Vec<preauth_line::Model>,
) -> Result<(), DbErr> {
    preauth_line::Entity::delete_many()
        .filter(preauth_line::Column::PreauthId.eq(id))
        .exec(db)
        .await?;
    if !lines.is_empty() {
        preauth_line::Entity::insert_many(
            lines.into_iter().map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

pub async fn flags_of(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Vec<preauth_flag::Model>, DbErr> {
    preauth_flag::Entity::find()
        .filter(preauth_flag::Column::PreauthId.eq(id))
        .order_by_asc(preauth_flag::Column::Id)
        .all(db)
        .await
}

/// What the fraud signals of a preauth about to be raised are read from.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FraudFacts {
    /// The beneficiary's other preauths in none of the `dead` statuses.
    pub others: Vec<Stay>,
    /// How many preauths the hospital received for admissions on the day.
    pub on_day: i64,
    /// How many in the `previous_days` before it.
    pub before: i64,
}

/// The admission a preauth asks for, as its fraud signals are read.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    pub preauth_id: &'a str,
    pub beneficiary_id: &'a str,
    pub hfr_id: &'a str,
    pub day: NaiveDate,
}

impl<'a> From<&'a preauth::Model> for Admission<'a> {
    fn from(preauth: &'a preauth::Model) -> Self {
        Self {
            preauth_id: &preauth.preauth_id,
            beneficiary_id: &preauth.beneficiary_id,
            hfr_id: &preauth.hfr_id,
            day: preauth.admission_date,
        }
    }
}

/// [`FraudFacts`] of `admission`, in one statement.
pub async fn fraud_facts(
    db: &impl ConnectionTrait,
    admission: Admission<'_>,
    dead: &[PreauthStatus],
    previous_days: i64,
) -> Result<FraudFacts, DbErr> {
    FraudFacts::of_rows(
        &db.query_all(&fraud_facts_read(admission, dead, previous_days))
            .await?,
    )
}

/// The read of [`FraudFacts`]: the hospital's daily counts summed (one row
/// however many shards and days there are), joined to the beneficiary's
/// other live preauths and their lines.
pub fn fraud_facts_read(
    admission: Admission<'_>,
    dead: &[PreauthStatus],
    previous_days: i64,
) -> SelectStatement {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, JoinType, Order, Query};
    let day = admission.day;
    // SUM of BIGINT is NUMERIC on PostgreSQL: cast back, and none is 0.
    let total = |on_day: bool| {
        let counted = if on_day {
            facility_day::Column::AdmissionDate.eq(day)
        } else {
            facility_day::Column::AdmissionDate.lt(day)
        };
        Func::coalesce([
            Func::sum(Expr::case(counted, Expr::col(facility_day::Column::Preauths)).finally(0))
                .into(),
            Expr::val(0_i64),
        ])
        .cast_as("BIGINT")
    };
    let volume = Query::select()
        .expr_as(total(true), "on_day")
        .expr_as(total(false), "before")
        .from(facility_day::Entity)
        .and_where(facility_day::Column::HfrId.eq(admission.hfr_id))
        .and_where(
            facility_day::Column::AdmissionDate
                .between(day - chrono::Duration::days(previous_days), day),
        )
        .to_owned();
    let live = Condition::all()
        .add(preauth::Column::BeneficiaryId.eq(admission.beneficiary_id))
        .add(preauth::Column::PreauthId.ne(admission.preauth_id))
        .add(preauth::Column::Status.is_not_in(dead.iter().copied().map(Stored)));
    Query::select()
        .column(("volume", "on_day"))
        .column(("volume", "before"))
        .columns([
            (preauth::Entity, preauth::Column::PreauthId),
            (preauth::Entity, preauth::Column::HfrId),
            (preauth::Entity, preauth::Column::AdmissionDate),
            (preauth::Entity, preauth::Column::DischargeDate),
        ])
        .column((preauth_line::Entity, preauth_line::Column::PackageCode))
        .from_subquery(volume, "volume")
        .join(JoinType::LeftJoin, preauth::Entity, live)
        .join(
            JoinType::LeftJoin,
            preauth_line::Entity,
            Expr::col((preauth_line::Entity, preauth_line::Column::PreauthId))
                .equals((preauth::Entity, preauth::Column::PreauthId)),
        )
        .order_by((preauth::Entity, preauth::Column::PreauthId), Order::Asc)
        .order_by(
            (preauth_line::Entity, preauth_line::Column::LineNo),
            Order::Asc,
        )
        .to_owned()
}

impl FraudFacts {
    /// The facts in the rows of [`fraud_facts_read`].
    pub fn of_rows(rows: &[QueryResult]) -> Result<Self, DbErr> {
        let mut facts = Self::default();
        for row in rows {
            facts.on_day = row.try_get("", "on_day")?;
            facts.before = row.try_get("", "before")?;
            let Some(preauth_id) = row.try_get::<Option<String>>("", "preauth_id")? else {
                continue;
            };
            let code: Option<String> = row.try_get("", "package_code")?;
            if facts
                .others
                .last()
                .is_none_or(|stay| stay.preauth_id != preauth_id)
            {
                facts.others.push(Stay {
                    preauth_id,
                    hfr_id: row.try_get("", "hfr_id")?,
                    admission_date: row.try_get("", "admission_date")?,
                    discharge_date: row.try_get("", "discharge_date")?,
                    package_codes: Vec::new(),
                });
            }
            if let (Some(stay), Some(code)) = (facts.others.last_mut(), code) {
                stay.package_codes.push(code);
            }
        }
        Ok(facts)
    }
}

/// Records that what the saga owed (`owed`) is done and the preauth now
/// holds `held_paise`, only if that is still what it owes; returns whether it did.
pub async fn finish_saga(
    db: &impl ConnectionTrait,
    preauth_id: &str,
    owed: SagaState,
    held_paise: i64,
) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    preauth::Entity::update_many()
        .col_expr(preauth::Column::SagaState, Expr::value(SagaState::Done))
        .col_expr(preauth::Column::BlockedAmountPaise, Expr::value(held_paise))
        .col_expr(
            preauth::Column::UpdatedAt,
            Expr::value(ayushman_platform::db::now()),
        )
        .filter(preauth::Column::PreauthId.eq(preauth_id))
        .filter(preauth::Column::SagaState.eq(owed))
        .exec(db)
        .await
        .map(|result| result.rows_affected == 1)
}

/// Preauths whose saga still owes work to other services.
pub async fn with_saga_state(
    db: &impl ConnectionTrait,
    states: &[SagaState],
) -> Result<Vec<preauth::Model>, DbErr> {
    preauth::Entity::find()
        .filter(preauth::Column::SagaState.is_in(states.iter().copied()))
        .all(db)
        .await
}

/// Raised preauths whose review turnaround started before `cutoff`, that
/// carry no fraud flag and ask for at most `limit_paise` (due for deemed approval).
pub async fn review_due_before(
    db: &impl ConnectionTrait,
    cutoff: chrono::DateTime<chrono::Utc>,
    limit_paise: i64,
) -> Result<Vec<preauth::Model>, DbErr> {
    let flagged = sea_orm::sea_query::Query::select()
        .column(preauth_flag::Column::PreauthId)
        .from(preauth_flag::Entity)
        .to_owned();
    preauth::Entity::find()
        .filter(preauth::Column::Status.eq(Stored(PreauthStatus::Raised)))
        .filter(preauth::Column::ReviewClockFrom.lt(cutoff))
        .filter(preauth::Column::RequestedAmountPaise.lte(limit_paise))
        .filter(preauth::Column::PreauthId.not_in_subquery(flagged))
        .all(db)
        .await
}

/// Filters of ListPreauths.
#[derive(Debug, Default)]
pub struct PreauthFilter {
    pub hfr_id: Option<String>,
    pub status: Option<Stored<PreauthStatus>>,
    pub district_code: Option<String>,
    pub beneficiary_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub flagged_only: bool,
    /// Only cases treated in or paid by this state (a state partner's view).
    pub concerning_state: Option<String>,
}

/// Preauths matching `filter`, newest first (ids are time-ordered); one more than `size`.
pub async fn list_preauths(
    db: &impl ConnectionTrait,
    filter: &PreauthFilter,
    before: Option<&str>,
    size: u64,
) -> Result<Vec<preauth::Model>, DbErr> {
    let mut condition = Condition::all();
    if let Some(v) = &filter.hfr_id {
        condition = condition.add(preauth::Column::HfrId.eq(v.clone()));
    }
    if let Some(v) = filter.status {
        condition = condition.add(preauth::Column::Status.eq(v));
    }
    if let Some(v) = &filter.district_code {
        condition = condition.add(preauth::Column::FacilityDistrictCode.eq(v.clone()));
    }
    if let Some(v) = &filter.beneficiary_id {
        condition = condition.add(preauth::Column::BeneficiaryId.eq(v.clone()));
    }
    if let Some(v) = filter.from {
        condition = condition.add(preauth::Column::AdmissionDate.gte(v));
    }
    if let Some(v) = filter.until {
        condition = condition.add(preauth::Column::AdmissionDate.lte(v));
    }
    if let Some(v) = &filter.concerning_state {
        condition = condition.add(
            Condition::any()
                .add(preauth::Column::FacilityStateCode.eq(v.clone()))
                .add(preauth::Column::HomeStateCode.eq(v.clone())),
        );
    }
    if filter.flagged_only {
        let flagged = sea_orm::sea_query::Query::select()
            .column(preauth_flag::Column::PreauthId)
            .from(preauth_flag::Entity)
            .to_owned();
        condition = condition.add(preauth::Column::PreauthId.in_subquery(flagged));
    }
    if let Some(before) = before {
        condition = condition.add(preauth::Column::PreauthId.lt(before));
    }
    preauth::Entity::find()
        .filter(condition)
        .order_by_desc(preauth::Column::PreauthId)
        .limit(size + 1)
        .all(db)
        .await
}

/// The lines of several preauths, by preauth, in line order.
pub async fn lines_of_many(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<preauth_line::Model>>, DbErr> {
    let mut lines: BTreeMap<String, Vec<preauth_line::Model>> = BTreeMap::new();
    for line in preauth_line::Entity::find()
        .filter(preauth_line::Column::PreauthId.is_in(ids.iter().map(String::as_str)))
        .order_by_asc(preauth_line::Column::PreauthId)
        .order_by_asc(preauth_line::Column::LineNo)
        .all(db)
        .await?
    {
        lines.entry(line.preauth_id.clone()).or_default().push(line);
    }
    Ok(lines)
}

/// The fraud flags of several preauths, by preauth.
pub async fn flags_of_many(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<preauth_flag::Model>>, DbErr> {
    let mut flags: BTreeMap<String, Vec<preauth_flag::Model>> = BTreeMap::new();
    for flag in preauth_flag::Entity::find()
        .filter(preauth_flag::Column::PreauthId.is_in(ids.iter().map(String::as_str)))
        .order_by_asc(preauth_flag::Column::Id)
        .all(db)
        .await?
    {
        flags.entry(flag.preauth_id.clone()).or_default().push(flag);
    }
    Ok(flags)
}

pub async fn insert_enhancements(
    db: &impl ConnectionTrait,
    rows: Vec<enhancement::Model>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    enhancement::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

pub async fn find_enhancement(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<enhancement::Model>, DbErr> {
    enhancement::Entity::find_by_id(id.to_owned()).one(db).await
}

/// The enhancements of several preauths, by preauth, oldest first.
pub async fn enhancements_of_many(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<enhancement::Model>>, DbErr> {
    let mut found: BTreeMap<String, Vec<enhancement::Model>> = BTreeMap::new();
    for row in enhancement::Entity::find()
        .filter(enhancement::Column::PreauthId.is_in(ids.iter().map(String::as_str)))
        .order_by_asc(enhancement::Column::EnhancementId)
        .all(db)
        .await?
    {
        found.entry(row.preauth_id.clone()).or_default().push(row);
    }
    Ok(found)
}

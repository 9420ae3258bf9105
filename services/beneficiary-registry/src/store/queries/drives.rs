//! The SQL of card drives: the area, operator and mobiliser masters,
//! campaigns with their camps and blocks, and the counts their reports are
//! made of.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    IdenStatic, IntoActiveModel, Iterable, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationDef,
    sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, SimpleExpr},
};

use crate::store::entities::{
    area, beneficiary, camp, campaign, campaign_block, card_issuance, mobiliser, operator,
};

/// What an upsert of master rows did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    pub created: i64,
    pub updated: i64,
}

/// Creates the rows whose key is new and replaces those that differ
/// (`same` ignores bookkeeping such as `updated_at`); rows equal to what is
/// stored are left alone. A row another call creates meanwhile is replaced,
/// not refused: the insert updates on conflict.
async fn upsert<E, A>(
    db: &impl ConnectionTrait,
    rows: Vec<E::Model>,
    key: E::Column,
    key_of: fn(&E::Model) -> String,
    same: fn(&E::Model, &E::Model) -> bool,
) -> Result<Upserted, DbErr>
where
    E: EntityTrait,
    E::Column: Iterable,
    E::Model: IntoActiveModel<A> + Clone + Send + Sync,
    A: ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
{
    if rows.is_empty() {
        return Ok(Upserted::default());
    }
    let stored = E::find()
        .filter(key.is_in(rows.iter().map(key_of).collect::<Vec<_>>()))
        .all(db)
        .await?;
    let mut done = Upserted::default();
    let mut new = Vec::new();
    for row in rows {
        match stored.iter().find(|s| key_of(s) == key_of(&row)) {
            None => new.push(row.into_active_model()),
            Some(old) if same(old, &row) => {}
            Some(_) => {
                row.into_active_model().reset_all().update(db).await?;
                done.updated += 1;
            }
        }
    }
    done.created = new.len() as i64;
    if !new.is_empty() {
        let others: Vec<E::Column> = E::Column::iter()
            .filter(|c| c.as_str() != key.as_str())
            .collect();
        E::insert_many(new)
            .on_conflict(OnConflict::column(key).update_columns(others).to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(done)
}

/// The areas of these districts, by code.
pub async fn areas_of(
    db: &impl ConnectionTrait,
    districts: &[String],
    levels: &[&str],
) -> Result<Vec<area::Model>, DbErr> {
    if districts.is_empty() {
        return Ok(Vec::new());
    }
    area::Entity::find()
        .filter(area::Column::DistrictCode.is_in(districts.to_vec()))
        .filter(area::Column::Level.is_in(levels.to_vec()))
        .order_by_asc(area::Column::Code)
        .all(db)
        .await
}

/// Areas with these codes.
pub async fn areas_by_code(
    db: &impl ConnectionTrait,
    codes: Vec<String>,
) -> Result<Vec<area::Model>, DbErr> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    area::Entity::find()
        .filter(area::Column::Code.is_in(codes))
        .all(db)
        .await
}

pub async fn upsert_areas(
    db: &impl ConnectionTrait,
    rows: Vec<area::Model>,
) -> Result<Upserted, DbErr> {
    upsert::<area::Entity, _>(
        db,
        rows,
        area::Column::Code,
        |a| a.code.clone(),
        |a, b| (&a.level, &a.name, &a.parent_code) == (&b.level, &b.name, &b.parent_code),
    )
    .await
}

/// One page of a district's areas after `after`, by code; one more than `size`.
pub async fn list_areas(
    db: &impl ConnectionTrait,
    district_code: &str,
    level: Option<&str>,
    parent_code: Option<&str>,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<area::Model>, DbErr> {
    let mut query = area::Entity::find()
        .filter(area::Column::DistrictCode.eq(district_code))
        .order_by_asc(area::Column::Code)
        .limit(size + 1);
    if let Some(level) = level {
        query = query.filter(area::Column::Level.eq(level));
    }
    if let Some(parent) = parent_code {
        query = query.filter(area::Column::ParentCode.eq(parent));
    }
    if let Some(after) = after {
        query = query.filter(area::Column::Code.gt(after));
    }
    query.all(db).await
}

pub async fn find_operator(
    db: &impl ConnectionTrait,
    login_id: &str,
) -> Result<Option<operator::Model>, DbErr> {
    operator::Entity::find_by_id(login_id.to_owned())
        .one(db)
        .await
}

pub async fn upsert_operators(
    db: &impl ConnectionTrait,
    rows: Vec<operator::Model>,
) -> Result<Upserted, DbErr> {
    upsert::<operator::Entity, _>(
        db,
        rows,
        operator::Column::LoginId,
        |o| o.login_id.clone(),
        |a, b| {
            operator::Model {
                updated_at: b.updated_at,
                ..a.clone()
            } == *b
        },
    )
    .await
}

/// One page of a district's logins after `after`, by login id; one more than `size`.
pub async fn list_operators(
    db: &impl ConnectionTrait,
    district_code: &str,
    kind: Option<&str>,
    status: Option<&str>,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<operator::Model>, DbErr> {
    let mut query = operator::Entity::find()
        .filter(operator::Column::DistrictCode.eq(district_code))
        .order_by_asc(operator::Column::LoginId)
        .limit(size + 1);
    if let Some(kind) = kind {
        query = query.filter(operator::Column::Kind.eq(kind));
    }
    if let Some(status) = status {
        query = query.filter(operator::Column::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(operator::Column::LoginId.gt(after));
    }
    query.all(db).await
}

/// Logins in the master by (kind, status, count), for one district or state or all.
pub async fn operator_counts(
    db: &impl ConnectionTrait,
    state_code: Option<&str>,
    district_code: Option<&str>,
) -> Result<Vec<(String, String, i64)>, DbErr> {
    let mut query = operator::Entity::find()
        .select_only()
        .column(operator::Column::Kind)
        .column(operator::Column::Status)
        .column_as(Expr::col(operator::Column::LoginId).count(), "logins")
        .group_by(operator::Column::Kind)
        .group_by(operator::Column::Status);
    if let Some(state) = state_code {
        query = query.filter(operator::Column::StateCode.eq(state));
    }
    if let Some(district) = district_code {
        query = query.filter(operator::Column::DistrictCode.eq(district));
    }
    query.into_tuple().all(db).await
}

pub async fn find_mobiliser(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<mobiliser::Model>, DbErr> {
    mobiliser::Entity::find_by_id(id.to_owned()).one(db).await
}

pub async fn upsert_mobilisers(
    db: &impl ConnectionTrait,
    rows: Vec<mobiliser::Model>,
) -> Result<Upserted, DbErr> {
    upsert::<mobiliser::Entity, _>(
        db,
        rows,
        mobiliser::Column::MobiliserId,
        |m| m.mobiliser_id.clone(),
        |a, b| {
            mobiliser::Model {
                updated_at: b.updated_at,
                ..a.clone()
            } == *b
        },
    )
    .await
}

/// One page of a district's mobilisers after `after`, by id; one more than `size`.
pub async fn list_mobilisers(
    db: &impl ConnectionTrait,
    district_code: &str,
    block_code: Option<&str>,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<mobiliser::Model>, DbErr> {
    let mut query = mobiliser::Entity::find()
        .filter(mobiliser::Column::DistrictCode.eq(district_code))
        .order_by_asc(mobiliser::Column::MobiliserId)
        .limit(size + 1);
    if let Some(block) = block_code {
        query = query.filter(mobiliser::Column::BlockCode.eq(block));
    }
    if let Some(after) = after {
        query = query.filter(mobiliser::Column::MobiliserId.gt(after));
    }
    query.all(db).await
}

/// Mobilisers with these ids.
pub async fn mobilisers_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<Vec<mobiliser::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    mobiliser::Entity::find()
        .filter(mobiliser::Column::MobiliserId.is_in(ids))
        .all(db)
        .await
}

/// What a coverage report counts: which levels it groups by, whom, and the
/// ends of two policy years to compare.
#[derive(Debug)]
pub struct CoverageQuery<'a> {
    /// Group by the first `depth` of (state, district, block, village).
    pub depth: usize,
    pub state_code: Option<&'a str>,
    pub district_code: Option<&'a str>,
    pub scheme_code: Option<&'a str>,
    pub issued_status: &'a str,
    pub self_service: &'a str,
    /// Cards issued before these instants count as held at each year's end.
    pub year_ends: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// One group of a coverage report; "" for the levels not grouped by.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CoverageCounts {
    pub state_code: String,
    pub district_code: String,
    pub block_code: String,
    pub village_code: String,
    pub eligible: i64,
    pub carded: i64,
    pub abha_linked: i64,
    pub self_service: i64,
    pub carded_by_first_year_end: i64,
    pub carded_by_second_year_end: i64,
}

/// `SUM(CASE WHEN condition THEN 1 ELSE 0 END)`.
fn count_where(condition: impl Into<Condition>) -> SimpleExpr {
    Expr::case(condition, 1).finally(0).sum()
}

/// People holding an issued card at `instant` (cards without an issue time
/// came with the eligibility list and count as held since before it).
fn carded_before(issued_status: &str, instant: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(beneficiary::Column::CardStatus.eq(issued_status))
        .add(
            Condition::any()
                .add(beneficiary::Column::CardIssuedAt.is_null())
                .add(beneficiary::Column::CardIssuedAt.lt(instant)),
        )
}

/// Eligible, carded, ABHA-linked and self-carded people, grouped.
pub async fn coverage(
    db: &impl ConnectionTrait,
    q: &CoverageQuery<'_>,
) -> Result<Vec<CoverageCounts>, DbErr> {
    let mut query = beneficiary::Entity::find().select_only();
    for (level, column) in [
        beneficiary::Column::StateCode,
        beneficiary::Column::DistrictCode,
        beneficiary::Column::BlockCode,
        beneficiary::Column::VillageCode,
    ]
    .into_iter()
    .enumerate()
    {
        query = if level < q.depth {
            query.column(column).group_by(column).order_by_asc(column)
        } else {
            query.column_as(Expr::val(""), sea_orm::IdenStatic::as_str(&column))
        };
    }
    let carded = Expr::col(beneficiary::Column::CardStatus).eq(q.issued_status);
    let year_end = |end: Option<DateTime<Utc>>| match end {
        Some(end) => count_where(carded_before(q.issued_status, end)),
        None => Expr::val(0i64),
    };
    query = query
        .column_as(
            Expr::col(beneficiary::Column::BeneficiaryId).count(),
            "eligible",
        )
        .column_as(count_where(carded.clone()), "carded")
        .column_as(
            Expr::case(Expr::col(beneficiary::Column::AbhaNumber).is_null(), 0)
                .finally(1)
                .sum(),
            "abha_linked",
        )
        .column_as(
            count_where(carded.and(Expr::col(beneficiary::Column::CardChannel).eq(q.self_service))),
            "self_service",
        )
        .column_as(
            year_end(q.year_ends.map(|e| e.0)),
            "carded_by_first_year_end",
        )
        .column_as(
            year_end(q.year_ends.map(|e| e.1)),
            "carded_by_second_year_end",
        );
    if let Some(state) = q.state_code {
        query = query.filter(beneficiary::Column::StateCode.eq(state));
    }
    if let Some(district) = q.district_code {
        query = query.filter(beneficiary::Column::DistrictCode.eq(district));
    }
    if let Some(scheme) = q.scheme_code {
        // scheme_codes is a comma-separated list: match the code as a whole element.
        query = query.filter(
            Condition::any()
                .add(beneficiary::Column::SchemeCodes.eq(scheme))
                .add(beneficiary::Column::SchemeCodes.starts_with(format!("{scheme},")))
                .add(beneficiary::Column::SchemeCodes.ends_with(format!(",{scheme}")))
                .add(beneficiary::Column::SchemeCodes.contains(format!(",{scheme},"))),
        );
    }
    query.into_model::<CoverageCounts>().all(db).await
}

/// Filters of the operator activity report.
#[derive(Debug, Default)]
pub struct ActivityFilter {
    pub state_code: Option<String>,
    pub district_code: Option<String>,
    pub centre_id: Option<String>,
    pub operator_id: Option<String>,
    pub campaign_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// Cards made by one login at one centre on one day through one channel,
/// with the login's kind in the master (`None` when it is not in it).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct ActivityCounts {
    pub issued_on: NaiveDate,
    pub operator_id: String,
    pub centre_id: String,
    pub district_code: String,
    pub channel: String,
    pub kind: Option<String>,
    pub cards: i64,
    pub fees_paise: i64,
}

fn login_of_card() -> RelationDef {
    card_issuance::Entity::belongs_to(operator::Entity)
        .from(card_issuance::Column::OperatorId)
        .to(operator::Column::LoginId)
        .into()
}

/// Cards issued per (day, operator, centre, district, channel).
pub async fn cards_by_operator(
    db: &impl ConnectionTrait,
    filter: &ActivityFilter,
) -> Result<Vec<ActivityCounts>, DbErr> {
    let mut condition = Condition::all();
    if let Some(v) = &filter.state_code {
        condition = condition.add(card_issuance::Column::StateCode.eq(v.clone()));
    }
    if let Some(v) = &filter.district_code {
        condition = condition.add(card_issuance::Column::DistrictCode.eq(v.clone()));
    }
    if let Some(v) = &filter.centre_id {
        condition = condition.add(card_issuance::Column::CentreId.eq(v.clone()));
    }
    if let Some(v) = &filter.operator_id {
        condition = condition.add(card_issuance::Column::OperatorId.eq(v.clone()));
    }
    if let Some(v) = &filter.campaign_id {
        condition = condition.add(card_issuance::Column::CampaignId.eq(v.clone()));
    }
    if let Some(v) = filter.from {
        condition = condition.add(card_issuance::Column::IssuedOn.gte(v));
    }
    if let Some(v) = filter.until {
        condition = condition.add(card_issuance::Column::IssuedOn.lte(v));
    }
    card_issuance::Entity::find()
        .select_only()
        .column(card_issuance::Column::IssuedOn)
        .column(card_issuance::Column::OperatorId)
        .column(card_issuance::Column::CentreId)
        .column(card_issuance::Column::DistrictCode)
        .column(card_issuance::Column::Channel)
        .column_as(operator::Column::Kind, "kind")
        .column_as(
            Expr::col((card_issuance::Entity, card_issuance::Column::CardNumber)).count(),
            "cards",
        )
        .column_as(
            // SUM of a bigint is a numeric on PostgreSQL; the fees fit a bigint.
            SimpleExpr::from(Func::cast_as(
                Expr::col((card_issuance::Entity, card_issuance::Column::FeePaise)).sum(),
                Alias::new("bigint"),
            )),
            "fees_paise",
        )
        .join(JoinType::LeftJoin, login_of_card())
        .filter(condition)
        .group_by(card_issuance::Column::IssuedOn)
        .group_by(card_issuance::Column::OperatorId)
        .group_by(card_issuance::Column::CentreId)
        .group_by(card_issuance::Column::DistrictCode)
        .group_by(card_issuance::Column::Channel)
        .group_by(operator::Column::Kind)
        .order_by_asc(card_issuance::Column::IssuedOn)
        .order_by_asc(card_issuance::Column::OperatorId)
        .order_by_asc(card_issuance::Column::CentreId)
        .into_model::<ActivityCounts>()
        .all(db)
        .await
}

pub async fn find_campaign(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<campaign::Model>, DbErr> {
    campaign::Entity::find_by_id(id.to_owned()).one(db).await
}

pub async fn camps_of(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<Vec<camp::Model>, DbErr> {
    camp::Entity::find()
        .filter(camp::Column::CampaignId.eq(campaign_id))
        .order_by_asc(camp::Column::CampId)
        .all(db)
        .await
}

pub async fn blocks_of(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<Vec<campaign_block::Model>, DbErr> {
    campaign_block::Entity::find()
        .filter(campaign_block::Column::CampaignId.eq(campaign_id))
        .order_by_asc(campaign_block::Column::BlockCode)
        .all(db)
        .await
}

/// Writes a campaign and replaces its camps and blocks.
pub async fn save_campaign(
    db: &impl ConnectionTrait,
    row: campaign::Model,
    camps: Vec<camp::Model>,
    blocks: Vec<campaign_block::Model>,
    exists: bool,
) -> Result<(), DbErr> {
    let id = row.campaign_id.clone();
    if exists {
        row.into_active_model().reset_all().update(db).await?;
    } else {
        campaign::Entity::insert(row.into_active_model())
            .exec_without_returning(db)
            .await?;
    }
    camp::Entity::delete_many()
        .filter(camp::Column::CampaignId.eq(id.clone()))
        .exec(db)
        .await?;
    campaign_block::Entity::delete_many()
        .filter(campaign_block::Column::CampaignId.eq(id))
        .exec(db)
        .await?;
    if !camps.is_empty() {
        camp::Entity::insert_many(camps.into_iter().map(IntoActiveModel::into_active_model))
            .exec_without_returning(db)
            .await?;
    }
    if !blocks.is_empty() {
        campaign_block::Entity::insert_many(
            blocks.into_iter().map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Campaigns, newest first by id (ids are time-ordered), before `before`; one more than `size`.
pub async fn list_campaigns(
    db: &impl ConnectionTrait,
    state_code: Option<&str>,
    district_code: Option<&str>,
    status: Option<&str>,
    before: Option<&str>,
    size: u64,
) -> Result<Vec<campaign::Model>, DbErr> {
    let mut query = campaign::Entity::find()
        .order_by_desc(campaign::Column::CampaignId)
        .limit(size + 1);
    if let Some(v) = state_code {
        query = query.filter(campaign::Column::StateCode.eq(v));
    }
    if let Some(v) = district_code {
        query = query.filter(campaign::Column::DistrictCode.eq(v));
    }
    if let Some(v) = status {
        query = query.filter(campaign::Column::Status.eq(v));
    }
    if let Some(v) = before {
        query = query.filter(campaign::Column::CampaignId.lt(v));
    }
    query.all(db).await
}

/// Camps of these campaigns.
pub async fn camps_of_campaigns(
    db: &impl ConnectionTrait,
    campaign_ids: Vec<String>,
) -> Result<Vec<camp::Model>, DbErr> {
    if campaign_ids.is_empty() {
        return Ok(Vec::new());
    }
    camp::Entity::find()
        .filter(camp::Column::CampaignId.is_in(campaign_ids))
        .order_by_asc(camp::Column::CampId)
        .all(db)
        .await
}

/// Blocks of these campaigns.
pub async fn blocks_of_campaigns(
    db: &impl ConnectionTrait,
    campaign_ids: Vec<String>,
) -> Result<Vec<campaign_block::Model>, DbErr> {
    if campaign_ids.is_empty() {
        return Ok(Vec::new());
    }
    campaign_block::Entity::find()
        .filter(campaign_block::Column::CampaignId.is_in(campaign_ids))
        .order_by_asc(campaign_block::Column::BlockCode)
        .all(db)
        .await
}

/// A block's people at the start of a drive and at the end of a day.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct BlockCoverage {
    pub block_code: String,
    pub eligible: i64,
    pub carded_at_start: i64,
    pub carded_by_day_end: i64,
}

/// Per block of a district: eligible, carded before `start`, carded before `day_end`.
pub async fn district_coverage_by_block(
    db: &impl ConnectionTrait,
    district_code: &str,
    start: DateTime<Utc>,
    day_end: DateTime<Utc>,
    issued_status: &str,
) -> Result<Vec<BlockCoverage>, DbErr> {
    beneficiary::Entity::find()
        .select_only()
        .column(beneficiary::Column::BlockCode)
        .column_as(
            Expr::col(beneficiary::Column::BeneficiaryId).count(),
            "eligible",
        )
        .column_as(
            count_where(carded_before(issued_status, start)),
            "carded_at_start",
        )
        .column_as(
            count_where(carded_before(issued_status, day_end)),
            "carded_by_day_end",
        )
        .filter(beneficiary::Column::DistrictCode.eq(district_code))
        .group_by(beneficiary::Column::BlockCode)
        .order_by_asc(beneficiary::Column::BlockCode)
        .into_model::<BlockCoverage>()
        .all(db)
        .await
}

/// Cards made in a block from a drive's start to a day, and on that day.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct BlockCards {
    pub block_code: String,
    pub cards_to_date: i64,
    pub cards_today: i64,
    pub self_service_to_date: i64,
    pub self_service_today: i64,
}

/// Per block of a district: cards made from `from` to `day`, and on `day`.
pub async fn district_cards_by_block(
    db: &impl ConnectionTrait,
    district_code: &str,
    from: NaiveDate,
    day: NaiveDate,
    self_service: &str,
) -> Result<Vec<BlockCards>, DbErr> {
    let today = || Expr::col(card_issuance::Column::IssuedOn).eq(day);
    let own = || Expr::col(card_issuance::Column::Channel).eq(self_service);
    card_issuance::Entity::find()
        .select_only()
        .column(card_issuance::Column::BlockCode)
        .column_as(
            Expr::col(card_issuance::Column::CardNumber).count(),
            "cards_to_date",
        )
        .column_as(count_where(today()), "cards_today")
        .column_as(count_where(own()), "self_service_to_date")
        .column_as(count_where(own().and(today())), "self_service_today")
        .filter(card_issuance::Column::DistrictCode.eq(district_code))
        .filter(card_issuance::Column::IssuedOn.between(from, day))
        .group_by(card_issuance::Column::BlockCode)
        .into_model::<BlockCards>()
        .all(db)
        .await
}

/// Every card issued for a campaign up to `day`: (day, operator, centre).
pub async fn campaign_issuances(
    db: &impl ConnectionTrait,
    campaign_id: &str,
    day: NaiveDate,
) -> Result<Vec<(NaiveDate, String, String)>, DbErr> {
    card_issuance::Entity::find()
        .select_only()
        .column(card_issuance::Column::IssuedOn)
        .column(card_issuance::Column::OperatorId)
        .column(card_issuance::Column::CentreId)
        .filter(card_issuance::Column::CampaignId.eq(campaign_id))
        .filter(card_issuance::Column::IssuedOn.lte(day))
        .into_tuple()
        .all(db)
        .await
}

/// Cards made at these centres on `day`: (centre, operator, cards).
pub async fn cards_at_centres(
    db: &impl ConnectionTrait,
    centres: &HashSet<String>,
    day: NaiveDate,
) -> Result<Vec<(String, String, i64)>, DbErr> {
    if centres.is_empty() {
        return Ok(Vec::new());
    }
    card_issuance::Entity::find()
        .select_only()
        .column(card_issuance::Column::CentreId)
        .column(card_issuance::Column::OperatorId)
        .column_as(
            Expr::col(card_issuance::Column::CardNumber).count(),
            "cards",
        )
        .filter(card_issuance::Column::CentreId.is_in(centres.iter().cloned()))
        .filter(card_issuance::Column::IssuedOn.eq(day))
        .group_by(card_issuance::Column::CentreId)
        .group_by(card_issuance::Column::OperatorId)
        .order_by_asc(card_issuance::Column::CentreId)
        .order_by_asc(card_issuance::Column::OperatorId)
        .into_tuple()
        .all(db)
        .await
}

/// Per mobiliser credited with people of a district carded in
/// [`from`, `until`): (mobiliser, families, cards).
pub async fn mobiliser_credits(
    db: &impl ConnectionTrait,
    district_code: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(String, i64, i64)>, DbErr> {
    beneficiary::Entity::find()
        .select_only()
        .column(beneficiary::Column::CardMobiliserId)
        .column_as(
            Expr::col(beneficiary::Column::FamilyId).count_distinct(),
            "families",
        )
        .column_as(
            Expr::col(beneficiary::Column::BeneficiaryId).count(),
            "cards",
        )
        .filter(beneficiary::Column::DistrictCode.eq(district_code))
        .filter(beneficiary::Column::CardMobiliserId.ne(""))
        .filter(beneficiary::Column::CardIssuedAt.gte(from))
        .filter(beneficiary::Column::CardIssuedAt.lt(until))
        .group_by(beneficiary::Column::CardMobiliserId)
        .into_tuple()
        .all(db)
        .await
}

//! Every SQL statement of the claims service.

use ayushman_platform::{db::insert_one, lifecycle::Stored};
use ayushman_proto::claims::v1::ClaimStatus;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

use super::entities::{
    claim::{self, MoneyState},
    payment_batch, society_credit,
};

pub async fn find_claim(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<claim::Model>, DbErr> {
    claim::Entity::find_by_id(id.to_owned()).one(db).await
}

pub async fn claim_of_preauth(
    db: &impl ConnectionTrait,
    preauth_id: &str,
) -> Result<Option<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::PreauthId.eq(preauth_id))
        .one(db)
        .await
}

pub async fn insert_claim(db: &impl ConnectionTrait, row: claim::Model) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

/// Filters of ListClaims and the claims report.
#[derive(Debug, Default)]
pub struct ClaimFilter {
    pub hfr_id: Option<String>,
    pub district_code: Option<String>,
    pub state_code: Option<String>,
    pub status: Option<Stored<ClaimStatus>>,
    pub payer_state_code: Option<String>,
    pub ownership: Option<String>,
    pub submitted_from: Option<chrono::DateTime<chrono::Utc>>,
    pub submitted_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Only claims treated in or paid by this state (a state partner's view).
    pub concerning_state: Option<String>,
}

fn condition(filter: &ClaimFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(status) = filter.status {
        condition = condition.add(claim::Column::Status.eq(status));
    }
    for (column, value) in [
        (claim::Column::HfrId, &filter.hfr_id),
        (claim::Column::DistrictCode, &filter.district_code),
        (claim::Column::FacilityStateCode, &filter.state_code),
        (claim::Column::PayerStateCode, &filter.payer_state_code),
        (claim::Column::Ownership, &filter.ownership),
    ] {
        if let Some(value) = value {
            condition = condition.add(column.eq(value.clone()));
        }
    }
    if let Some(state) = &filter.concerning_state {
        condition = condition.add(
            Condition::any()
                .add(claim::Column::FacilityStateCode.eq(state.clone()))
                .add(claim::Column::PayerStateCode.eq(state.clone())),
        );
    }
    if let Some(from) = filter.submitted_from {
        condition = condition.add(claim::Column::SubmittedAt.gte(from));
    }
    if let Some(before) = filter.submitted_before {
        condition = condition.add(claim::Column::SubmittedAt.lt(before));
    }
    condition
}

/// Claims matching `filter`, newest first (ids are time-ordered), before `before`; one more than `size`.
pub async fn list_claims(
    db: &impl ConnectionTrait,
    filter: &ClaimFilter,
    before: Option<&str>,
    size: u64,
) -> Result<Vec<claim::Model>, DbErr> {
    let mut query = claim::Entity::find()
        .filter(condition(filter))
        .order_by_desc(claim::Column::ClaimId)
        .limit(size + 1);
    if let Some(before) = before {
        query = query.filter(claim::Column::ClaimId.lt(before));
    }
    query.all(db).await
}

/// Every claim matching `filter` (for reports).
pub async fn all_claims(
    db: &impl ConnectionTrait,
    filter: &ClaimFilter,
) -> Result<Vec<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(condition(filter))
        .all(db)
        .await
}

/// The statuses of a claim approved and not yet in a batch.
const APPROVED: [ClaimStatus; 2] = [ClaimStatus::Approved, ClaimStatus::PartiallyApproved];

/// Ids of a payer's approved claims, approved before `cutoff`, whose money
/// moves are done and that are in no batch yet, locked for the rest of the
/// transaction (PostgreSQL; SQLite's writer already excludes others).
pub async fn payable(
    db: &impl ConnectionTrait,
    scheme: &str,
    state: &str,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, DbErr> {
    claim::Entity::find()
        .select_only()
        .column(claim::Column::ClaimId)
        .filter(claim::Column::PayerSchemeCode.eq(scheme))
        .filter(claim::Column::PayerStateCode.eq(state))
        .filter(claim::Column::Status.is_in(APPROVED.map(Stored)))
        .filter(claim::Column::MoneyState.eq(MoneyState::Settled))
        .filter(claim::Column::ApprovedAt.lt(cutoff))
        .filter(claim::Column::PaymentBatchId.eq(""))
        .order_by_asc(claim::Column::ClaimId)
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await
}

/// Puts the claims `ids` into batch `batch_id` — only those still approved and
/// in no batch — as one statement; returns how many it moved.
pub async fn put_in_batch(
    db: &impl ConnectionTrait,
    batch_id: &str,
    ids: &[String],
) -> Result<u64, DbErr> {
    claim::Entity::update_many()
        .col_expr(
            claim::Column::Status,
            Expr::value(Stored(ClaimStatus::InPaymentBatch)),
        )
        .col_expr(claim::Column::PaymentBatchId, Expr::value(batch_id))
        .filter(claim::Column::ClaimId.is_in(ids.iter().map(String::as_str)))
        .filter(claim::Column::Status.is_in(APPROVED.map(Stored)))
        .filter(claim::Column::PaymentBatchId.eq(""))
        .exec(db)
        .await
        .map(|result| result.rows_affected)
}

/// Marks a claim of the batch paid at `paid_at` with its penalty, only if it
/// is still in the batch; returns whether it did.
pub async fn mark_claim_paid(
    db: &impl ConnectionTrait,
    claim_id: &str,
    batch_id: &str,
    paid_at: chrono::DateTime<chrono::Utc>,
    penalty_paise: i64,
) -> Result<bool, DbErr> {
    claim::Entity::update_many()
        .col_expr(
            claim::Column::Status,
            Expr::value(Stored(ClaimStatus::Paid)),
        )
        .col_expr(claim::Column::PaidAt, Expr::value(paid_at))
        .col_expr(claim::Column::PenaltyPaise, Expr::value(penalty_paise))
        .filter(claim::Column::ClaimId.eq(claim_id))
        .filter(claim::Column::PaymentBatchId.eq(batch_id))
        .filter(claim::Column::Status.eq(Stored(ClaimStatus::InPaymentBatch)))
        .exec(db)
        .await
        .map(|result| result.rows_affected == 1)
}

/// Decided claims whose wallet moves are still owed.
pub async fn money_owed(db: &impl ConnectionTrait) -> Result<Vec<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::MoneyState.is_in([MoneyState::ConsumeOwed, MoneyState::ReleaseOwed]))
        .order_by_asc(claim::Column::ClaimId)
        .all(db)
        .await
}

/// Records that the moves a claim owed (`owed`) are done, only if that is
/// still what it owes; returns whether it did.
pub async fn money_settled(
    db: &impl ConnectionTrait,
    claim_id: &str,
    owed: MoneyState,
) -> Result<bool, DbErr> {
    claim::Entity::update_many()
        .col_expr(claim::Column::MoneyState, Expr::value(MoneyState::Settled))
        .filter(claim::Column::ClaimId.eq(claim_id))
        .filter(claim::Column::MoneyState.eq(owed))
        .exec(db)
        .await
        .map(|result| result.rows_affected == 1)
}

pub async fn claims_of_batch(
    db: &impl ConnectionTrait,
    batch_id: &str,
) -> Result<Vec<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::PaymentBatchId.eq(batch_id))
        .order_by_asc(claim::Column::ClaimId)
        .all(db)
        .await
}

pub async fn find_batch(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<payment_batch::Model>, DbErr> {
    payment_batch::Entity::find_by_id(id.to_owned())
        .one(db)
        .await
}

pub async fn insert_batch(
    db: &impl ConnectionTrait,
    row: payment_batch::Model,
) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

pub async fn insert_credit(
    db: &impl ConnectionTrait,
    row: society_credit::Model,
) -> Result<(), DbErr> {
    society_credit::Entity::insert(row.into_active_model())
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(society_credit::Column::ClaimId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

pub async fn credits_of(
    db: &impl ConnectionTrait,
    hfr_id: &str,
) -> Result<Vec<society_credit::Model>, DbErr> {
    society_credit::Entity::find()
        .filter(society_credit::Column::HfrId.eq(hfr_id))
        .order_by_asc(society_credit::Column::CreditedAt)
        .all(db)
        .await
}

/// Claim ids only (keeps a select small when only ids are wanted).
pub async fn ids(db: &impl ConnectionTrait, batch_id: &str) -> Result<Vec<String>, DbErr> {
    claim::Entity::find()
        .select_only()
        .column(claim::Column::ClaimId)
        .filter(claim::Column::PaymentBatchId.eq(batch_id))
        .into_tuple()
        .all(db)
        .await
}

/// Inserts claims not yet known (by id); returns how many were new.
pub async fn insert_new_claims(
    db: &impl ConnectionTrait,
    rows: Vec<claim::Model>,
) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    claim::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .on_conflict(
            sea_orm::sea_query::OnConflict::new()
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
}

/// Claims paid in `[from, until)`, of a payer state or of a treating state.
pub async fn paid_between(
    db: &impl ConnectionTrait,
    from: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    payer_state: Option<&str>,
    treating_state: Option<&str>,
) -> Result<Vec<claim::Model>, DbErr> {
    let mut query = claim::Entity::find().filter(claim::Column::PaidAt.is_not_null());
    if let Some(from) = from {
        query = query.filter(claim::Column::PaidAt.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(claim::Column::PaidAt.lt(until));
    }
    if let Some(state) = payer_state {
        query = query.filter(claim::Column::PayerStateCode.eq(state));
    }
    if let Some(state) = treating_state {
        query = query.filter(claim::Column::FacilityStateCode.eq(state));
    }
    query.all(db).await
}

//! Every SQL statement of the portability service. Functions take any
//! connection or transaction, so callers decide what runs atomically.

use ayushman_platform::db::insert_one;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

use ayushman_platform::lifecycle::Stored;
use ayushman_proto::portability::v1::AgreementStatus;

use super::entities::{agreement, netting_statement, settlement};

pub async fn find_agreement(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<agreement::Model>, DbErr> {
    agreement::Entity::find_by_id(id.to_owned()).one(db).await
}

pub async fn insert_agreement(
    db: &impl ConnectionTrait,
    row: agreement::Model,
) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

/// Every agreement of a home scheme, whatever its status (routing explains refusals).
pub async fn agreements_of_scheme(
    db: &impl ConnectionTrait,
    home_scheme: &str,
) -> Result<Vec<agreement::Model>, DbErr> {
    agreement::Entity::find()
        .filter(agreement::Column::HomeSchemeCode.eq(home_scheme))
        .order_by_asc(agreement::Column::AgreementId)
        .all(db)
        .await
}

/// Agreements by id after `after`, optionally of one home scheme and status; one more than `size`.
pub async fn list_agreements(
    db: &impl ConnectionTrait,
    home_scheme: Option<&str>,
    status: Option<Stored<AgreementStatus>>,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<agreement::Model>, DbErr> {
    let mut query = agreement::Entity::find()
        .order_by_asc(agreement::Column::AgreementId)
        .limit(size + 1);
    if let Some(scheme) = home_scheme {
        query = query.filter(agreement::Column::HomeSchemeCode.eq(scheme));
    }
    if let Some(status) = status {
        query = query.filter(agreement::Column::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(agreement::Column::AgreementId.gt(after));
    }
    query.all(db).await
}

pub async fn find_settlement(
    db: &impl ConnectionTrait,
    claim_id: &str,
) -> Result<Option<settlement::Model>, DbErr> {
    settlement::Entity::find_by_id(claim_id.to_owned())
        .one(db)
        .await
}

pub async fn insert_settlement(
    db: &impl ConnectionTrait,
    row: settlement::Model,
) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

/// Settlements matching the filters, by claim id after `after`; one more than `size`.
pub async fn list_settlements(
    db: &impl ConnectionTrait,
    month: Option<i32>,
    payer_state: Option<&str>,
    treating_state: Option<&str>,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<settlement::Model>, DbErr> {
    let mut query = settlement::Entity::find()
        .order_by_asc(settlement::Column::ClaimId)
        .limit(size + 1);
    if let Some(month) = month {
        query = query.filter(settlement::Column::Month.eq(month));
    }
    if let Some(state) = payer_state {
        query = query.filter(settlement::Column::PayerStateCode.eq(state));
    }
    if let Some(state) = treating_state {
        query = query.filter(settlement::Column::TreatingStateCode.eq(state));
    }
    if let Some(after) = after {
        query = query.filter(settlement::Column::ClaimId.gt(after));
    }
    query.all(db).await
}

/// Every settlement of a month, by claim id.
pub async fn settlements_of_month(
    db: &impl ConnectionTrait,
    month: i32,
) -> Result<Vec<settlement::Model>, DbErr> {
    settlement::Entity::find()
        .filter(settlement::Column::Month.eq(month))
        .order_by_asc(settlement::Column::ClaimId)
        .all(db)
        .await
}

/// Marks every settlement of `month` as netted in `statement_id`.
pub async fn assign_statement(
    db: &impl ConnectionTrait,
    month: i32,
    statement_id: &str,
) -> Result<(), DbErr> {
    settlement::Entity::update_many()
        .col_expr(settlement::Column::StatementId, Expr::value(statement_id))
        .filter(settlement::Column::Month.eq(month))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn find_statement(
    db: &impl ConnectionTrait,
    statement_id: &str,
) -> Result<Option<netting_statement::Model>, DbErr> {
    netting_statement::Entity::find_by_id(statement_id.to_owned())
        .one(db)
        .await
}

pub async fn statement_of_month(
    db: &impl ConnectionTrait,
    month: i32,
) -> Result<Option<netting_statement::Model>, DbErr> {
    netting_statement::Entity::find()
        .filter(netting_statement::Column::Month.eq(month))
        .one(db)
        .await
}

pub async fn insert_statement(
    db: &impl ConnectionTrait,
    row: netting_statement::Model,
) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

pub async fn settle_statement(
    db: &impl ConnectionTrait,
    row: netting_statement::Model,
    status: &str,
    reference: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<netting_statement::Model, DbErr> {
    let mut active = row.into_active_model();
    active.status = Set(status.to_owned());
    active.settlement_reference = Set(reference.to_owned());
    active.settled_at = Set(Some(at));
    active.update(db).await
}

/// Cases and amounts by (month, payer state, treating state) for months in `[from, to]`.
pub async fn cases_by_state_pair(
    db: &impl ConnectionTrait,
    from: i32,
    to: i32,
    payer_state: Option<&str>,
) -> Result<Vec<(i32, String, String, i64, i64)>, DbErr> {
    let mut query = settlement::Entity::find()
        .select_only()
        .column(settlement::Column::Month)
        .column(settlement::Column::PayerStateCode)
        .column(settlement::Column::TreatingStateCode)
        .column_as(Expr::col(settlement::Column::ClaimId).count(), "cases")
        // PostgreSQL sums BIGINT into NUMERIC; cast back so both backends return i64.
        .column_as(Expr::cust("CAST(SUM(amount_paise) AS BIGINT)"), "amount")
        .filter(settlement::Column::Month.between(from, to))
        .group_by(settlement::Column::Month)
        .group_by(settlement::Column::PayerStateCode)
        .group_by(settlement::Column::TreatingStateCode)
        .order_by_asc(settlement::Column::Month)
        .order_by_asc(settlement::Column::PayerStateCode)
        .order_by_asc(settlement::Column::TreatingStateCode);
    if let Some(state) = payer_state {
        query = query.filter(settlement::Column::PayerStateCode.eq(state));
    }
    query.into_tuple().all(db).await
}

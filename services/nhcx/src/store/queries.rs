//! Every SQL statement of the NHCX service. Functions take any connection or
//! transaction, so callers decide what runs atomically. Every change of an
//! exchange's or case's state is one compare-and-set UPDATE, so two replicas
//! (or a replica and its own background pass) never both act on one row.

use ayushman_platform::db::{insert_one, now};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};

use super::entities::{case, exchange, mesh_key, participant};
use crate::answers::Milestone;

pub async fn find_participant(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<participant::Model>, DbErr> {
    participant::Entity::find_by_id(code.to_owned())
        .one(db)
        .await
}

/// Inserts the participant, or replaces the one with its code.
pub async fn save_participant(
    db: &impl ConnectionTrait,
    row: participant::Model,
) -> Result<(), DbErr> {
    use participant::Column as C;
    participant::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::column(C::ParticipantCode)
                .update_columns([
                    C::Name,
                    C::Role,
                    C::HfrId,
                    C::EndpointUrl,
                    C::EncryptionCertificate,
                    C::Active,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

pub async fn list_participants(
    db: &impl ConnectionTrait,
) -> Result<Vec<participant::Model>, DbErr> {
    participant::Entity::find()
        .order_by_asc(participant::Column::ParticipantCode)
        .all(db)
        .await
}

pub async fn find_exchange(
    db: &impl ConnectionTrait,
    exchange_id: &str,
) -> Result<Option<exchange::Model>, DbErr> {
    exchange::Entity::find_by_id(exchange_id.to_owned())
        .one(db)
        .await
}

pub async fn insert_exchange(db: &impl ConnectionTrait, row: exchange::Model) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

/// Takes the row for `lease` from now if it is in `status` and nobody holds
/// it; whether this caller got it.
pub async fn lease_exchange(
    db: &impl ConnectionTrait,
    exchange_id: &str,
    status: &str,
    lease: chrono::Duration,
) -> Result<bool, DbErr> {
    use exchange::Column as C;
    let now = now();
    let result = exchange::Entity::update_many()
        .col_expr(C::LeaseUntil, Expr::value(Some(now + lease)))
        .filter(C::ExchangeId.eq(exchange_id))
        .filter(C::Status.eq(status))
        .filter(
            Condition::any()
                .add(C::LeaseUntil.is_null())
                .add(C::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives the row back to be taken again after `until` (a retry after the
/// mesh was unavailable), if it is still in `status`.
pub async fn release_exchange(
    db: &impl ConnectionTrait,
    exchange_id: &str,
    status: &str,
    until: DateTime<Utc>,
    error: &str,
) -> Result<(), DbErr> {
    use exchange::Column as C;
    exchange::Entity::update_many()
        .col_expr(C::LeaseUntil, Expr::value(Some(until)))
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::UpdatedAt, Expr::value(now()))
        .filter(C::ExchangeId.eq(exchange_id))
        .filter(C::Status.eq(status))
        .exec(db)
        .await
        .map(|_| ())
}

/// Moves the exchange from `from` to `to`, recording `mesh_reference` and
/// `error` when given (a delivery keeps the error of its last failed try);
/// whether it was still in `from`.
pub async fn finish_exchange(
    db: &impl ConnectionTrait,
    exchange_id: &str,
    from: &str,
    to: &str,
    mesh_reference: Option<&str>,
    error: Option<&str>,
) -> Result<bool, DbErr> {
    use exchange::Column as C;
    let mut update = exchange::Entity::update_many()
        .col_expr(C::Status, Expr::value(to))
        .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::UpdatedAt, Expr::value(now()));
    if let Some(reference) = mesh_reference {
        update = update.col_expr(C::MeshReference, Expr::value(reference));
    }
    if let Some(error) = error {
        update = update.col_expr(C::LastError, Expr::value(error));
    }
    let result = update
        .filter(C::ExchangeId.eq(exchange_id))
        .filter(C::Status.eq(from))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A failed delivery: one more attempt counted, the next one at `next`
/// (or given up when `gave_up`).
pub async fn delivery_failed(
    db: &impl ConnectionTrait,
    exchange_id: &str,
    attempts: i32,
    next: DateTime<Utc>,
    error: &str,
    status: &str,
) -> Result<bool, DbErr> {
    use exchange::Column as C;
    let result = exchange::Entity::update_many()
        .col_expr(C::Attempts, Expr::value(attempts))
        .col_expr(C::NextAttemptAt, Expr::value(next))
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::Status, Expr::value(status))
        .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::UpdatedAt, Expr::value(now()))
        .filter(C::ExchangeId.eq(exchange_id))
        .filter(C::Attempts.eq(attempts - 1))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Exchanges in `status` whose next attempt is due and that nobody holds, oldest first.
pub async fn due_exchanges(
    db: &impl ConnectionTrait,
    status: &str,
    limit: u64,
) -> Result<Vec<exchange::Model>, DbErr> {
    use exchange::Column as C;
    let now = now();
    exchange::Entity::find()
        .filter(C::Status.eq(status))
        .filter(C::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(C::LeaseUntil.is_null())
                .add(C::LeaseUntil.lt(now)),
        )
        .order_by_asc(C::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await
}

/// The mesh's message that opened a cycle (to correlate a hospital's answer).
pub async fn outbound_of_correlation(
    db: &impl ConnectionTrait,
    correlation_id: &str,
    participant_code: &str,
) -> Result<Option<exchange::Model>, DbErr> {
    use exchange::Column as C;
    exchange::Entity::find()
        .filter(C::CorrelationId.eq(correlation_id))
        .filter(C::ParticipantCode.eq(participant_code))
        .filter(C::Direction.eq(crate::exchanges::OUTBOUND))
        .order_by_desc(C::CreatedAt)
        .one(db)
        .await
}

/// Newest exchanges first, optionally of one cycle or participant.
pub async fn list_exchanges(
    db: &impl ConnectionTrait,
    correlation_id: Option<&str>,
    participant_code: Option<&str>,
    limit: u64,
) -> Result<Vec<exchange::Model>, DbErr> {
    use exchange::Column as C;
    let mut query = exchange::Entity::find()
        .order_by_desc(C::CreatedAt)
        .order_by_desc(C::ExchangeId)
        .limit(limit);
    if let Some(correlation_id) = correlation_id {
        query = query.filter(C::CorrelationId.eq(correlation_id));
    }
    if let Some(participant_code) = participant_code {
        query = query.filter(C::ParticipantCode.eq(participant_code));
    }
    query.all(db).await
}

/// Starts following a case; a case already followed is left as it is.
pub async fn follow_case(db: &impl ConnectionTrait, row: case::Model) -> Result<(), DbErr> {
    case::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::column(case::Column::MeshReference)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

pub async fn find_case(
    db: &impl ConnectionTrait,
    mesh_reference: &str,
) -> Result<Option<case::Model>, DbErr> {
    case::Entity::find_by_id(mesh_reference.to_owned())
        .one(db)
        .await
}

/// Open cases, least recently reported first.
pub async fn open_cases(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<case::Model>, DbErr> {
    case::Entity::find()
        .filter(case::Column::Open.eq(true))
        .order_by_asc(case::Column::UpdatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Records that `to` was reported for the case, if `from` still was the last.
pub async fn advance_case(
    db: &impl ConnectionTrait,
    mesh_reference: &str,
    from: Milestone,
    to: Milestone,
    open: bool,
) -> Result<bool, DbErr> {
    use case::Column as C;
    let result = case::Entity::update_many()
        .col_expr(C::Reported, Expr::value(to))
        .col_expr(C::Open, Expr::value(open))
        .col_expr(C::UpdatedAt, Expr::value(now()))
        .filter(C::MeshReference.eq(mesh_reference))
        .filter(C::Reported.eq(from))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks the case as looked at, so the oldest-looked-at come first next time.
pub async fn touch_case(db: &impl ConnectionTrait, mesh_reference: &str) -> Result<(), DbErr> {
    case::Entity::update_many()
        .col_expr(case::Column::UpdatedAt, Expr::value(now()))
        .filter(case::Column::MeshReference.eq(mesh_reference))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn find_mesh_key(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<mesh_key::Model>, DbErr> {
    mesh_key::Entity::find_by_id(name.to_owned()).one(db).await
}

/// Keeps the key unless one of that name is kept already (another replica won).
pub async fn keep_mesh_key(db: &impl ConnectionTrait, row: mesh_key::Model) -> Result<(), DbErr> {
    mesh_key::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::column(mesh_key::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

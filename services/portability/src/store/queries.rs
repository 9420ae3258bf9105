//! Every SQL statement of the portability service. Functions take any
//! connection or transaction, so callers decide what runs atomically.

use ayushman_platform::db::insert_one;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

use ayushman_platform::lifecycle::Stored;
use ayushman_proto::portability::v1::AgreementStatus;

use super::entities::agreement;

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

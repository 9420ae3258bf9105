//! Every SQL statement of the gateway.

use ayushman_platform::db::insert_one;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use super::entities::{api_key, audit_record, client_certificate, partner, user};

pub async fn find_partner(
    db: &impl ConnectionTrait,
    partner_id: &str,
) -> Result<Option<partner::Model>, DbErr> {
    partner::Entity::find_by_id(partner_id.to_owned())
        .one(db)
        .await
}

pub async fn insert_partner(db: &impl ConnectionTrait, row: partner::Model) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

pub async fn save_partner(
    db: &impl ConnectionTrait,
    row: partner::Model,
) -> Result<partner::Model, DbErr> {
    row.into_active_model().reset_all().update(db).await
}

/// Partners by id after `after`, optionally of one state; one more than `size`.
pub async fn list_partners(
    db: &impl ConnectionTrait,
    home_state: Option<&str>,
    after: Option<&str>,
    size: u64,
) -> Result<Vec<partner::Model>, DbErr> {
    let mut query = partner::Entity::find()
        .order_by_asc(partner::Column::PartnerId)
        .limit(size + 1);
    if let Some(state) = home_state {
        query = query.filter(partner::Column::HomeStateCode.eq(state));
    }
    if let Some(after) = after {
        query = query.filter(partner::Column::PartnerId.gt(after));
    }
    query.all(db).await
}

/// The partner whose users' tokens `issuer` signs.
pub async fn partner_by_issuer(
    db: &impl ConnectionTrait,
    issuer: &str,
) -> Result<Option<partner::Model>, DbErr> {
    partner::Entity::find()
        .filter(partner::Column::OidcIssuer.eq(issuer))
        .one(db)
        .await
}

/// The partner a client certificate identifies.
pub async fn partner_by_certificate(
    db: &impl ConnectionTrait,
    sha256: &str,
) -> Result<Option<partner::Model>, DbErr> {
    let Some(certificate) = client_certificate::Entity::find_by_id(sha256.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    find_partner(db, &certificate.partner_id).await
}

pub async fn insert_certificates(
    db: &impl ConnectionTrait,
    rows: Vec<client_certificate::Model>,
) -> Result<(), DbErr> {
    for row in rows {
        insert_one(db, row.into_active_model()).await?;
    }
    Ok(())
}

/// The fingerprints of a partner's client certificates, sorted.
pub async fn certificates_of(
    db: &impl ConnectionTrait,
    partner_id: &str,
) -> Result<Vec<String>, DbErr> {
    Ok(client_certificate::Entity::find()
        .filter(client_certificate::Column::PartnerId.eq(partner_id))
        .order_by_asc(client_certificate::Column::Sha256)
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.sha256)
        .collect())
}

pub async fn find_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(user_id.to_owned()).one(db).await
}

/// The user of `partner_id` whose tokens carry `subject`.
pub async fn user_by_subject(
    db: &impl ConnectionTrait,
    partner_id: &str,
    subject: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::PartnerId.eq(partner_id))
        .filter(user::Column::Subject.eq(subject))
        .one(db)
        .await
}

pub async fn insert_user(db: &impl ConnectionTrait, row: user::Model) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

pub async fn save_user(db: &impl ConnectionTrait, row: user::Model) -> Result<user::Model, DbErr> {
    row.into_active_model().reset_all().update(db).await
}

/// A partner's users by id.
pub async fn users_of(
    db: &impl ConnectionTrait,
    partner_id: &str,
) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::PartnerId.eq(partner_id))
        .order_by_asc(user::Column::UserId)
        .all(db)
        .await
}

pub async fn find_key(
    db: &impl ConnectionTrait,
    key_id: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find_by_id(key_id.to_owned()).one(db).await
}

/// The key with this hash and its partner.
pub async fn key_by_hash(
    db: &impl ConnectionTrait,
    key_hash: &str,
) -> Result<Option<(api_key::Model, partner::Model)>, DbErr> {
    let Some(key) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(key_hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(find_partner(db, &key.partner_id)
        .await?
        .map(|partner| (key, partner)))
}

pub async fn insert_key(db: &impl ConnectionTrait, row: api_key::Model) -> Result<(), DbErr> {
    insert_one(db, row.into_active_model()).await
}

pub async fn save_key(
    db: &impl ConnectionTrait,
    row: api_key::Model,
) -> Result<api_key::Model, DbErr> {
    row.into_active_model().reset_all().update(db).await
}

/// A partner's keys, newest first.
pub async fn keys_of(
    db: &impl ConnectionTrait,
    partner_id: &str,
) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::PartnerId.eq(partner_id))
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::KeyId)
        .all(db)
        .await
}

pub async fn insert_audit(
    db: &impl ConnectionTrait,
    rows: Vec<audit_record::Model>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    audit_record::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Moves a key's `last_used_at` forward to `at` (never back).
pub async fn touch_key(
    db: &impl ConnectionTrait,
    key_id: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(at))
        .filter(api_key::Column::KeyId.eq(key_id))
        .filter(
            api_key::Column::LastUsedAt
                .is_null()
                .or(api_key::Column::LastUsedAt.lt(at)),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// Filters of QueryAudit; `None` matches everything.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub partner_id: Option<String>,
    pub user_id: Option<String>,
    pub method: Option<String>,
    pub status_code: Option<i32>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Audit rows matching `filter`, newest first, older than the row `before`;
/// one more than `size`.
pub async fn query_audit(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    before: Option<&str>,
    size: u64,
) -> Result<Vec<audit_record::Model>, DbErr> {
    let mut query = audit_record::Entity::find()
        .order_by_desc(audit_record::Column::AuditId)
        .limit(size + 1);
    if let Some(partner) = &filter.partner_id {
        query = query.filter(audit_record::Column::PartnerId.eq(partner.as_str()));
    }
    if let Some(user) = &filter.user_id {
        query = query.filter(audit_record::Column::UserId.eq(user.as_str()));
    }
    if let Some(method) = &filter.method {
        query = query.filter(audit_record::Column::Method.eq(method.as_str()));
    }
    if let Some(code) = filter.status_code {
        query = query.filter(audit_record::Column::StatusCode.eq(code));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_record::Column::ReceivedAt.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_record::Column::ReceivedAt.lt(until));
    }
    if let Some(before) = before {
        query = query.filter(audit_record::Column::AuditId.lt(before));
    }
    query.all(db).await
}

//! Idempotent mutating RPCs (DESIGN §3): the first reply to an idempotency key is
//! kept with a fingerprint of its request; a repeat of the same request gets the
//! same reply, a different request under the same key is refused.
//!
//! Every service's migrator includes [`Migration`], so each database has its own
//! `idempotency_records` table (no table is shared between services).

use prost::Message;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, entity::prelude::*};
use sha2::{Digest, Sha256};

pub use schema::Migration;

/// What an idempotency key says about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Recall {
    /// The key is new: do the work, then [`remember`] the reply.
    New,
    /// The same request was answered before: return this encoded reply.
    Replay(Vec<u8>),
    /// The key was used for a different request.
    Conflict,
}

/// SHA-256 of a request's encoding, hex: equal requests, equal fingerprints.
pub fn fingerprint(request: &impl Message) -> String {
    hex::encode(Sha256::digest(request.encode_to_vec()))
}

/// Looks up `key` within `scope` (usually the RPC name).
pub async fn recall(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Recall, DbErr> {
    let found = Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(db)
        .await?;
    Ok(match found {
        None => Recall::New,
        Some(record) if record.request_fingerprint == fingerprint => {
            Recall::Replay(record.response)
        }
        Some(_) => Recall::Conflict,
    })
}

/// Keeps the reply to `key`; call it in the same transaction as the work it answers.
pub async fn remember(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    fingerprint: &str,
    response: &impl Message,
) -> Result<(), DbErr> {
    let record = ActiveModel {
        scope: Set(scope.to_owned()),
        idempotency_key: Set(key.to_owned()),
        request_fingerprint: Set(fingerprint.to_owned()),
        response: Set(response.encode_to_vec()),
        created_at: Set(crate::db::now()),
    };
    Entity::insert(record).exec_without_returning(db).await?;
    Ok(())
}

/// One remembered reply.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_records")]
pub struct Model {
    /// The RPC the key belongs to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// The caller's idempotency key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub idempotency_key: String,
    /// SHA-256 of the first request, hex.
    pub request_fingerprint: String,
    /// The encoded first reply.
    pub response: Vec<u8>,
    /// When it was first answered.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

mod schema {
    use sea_orm_migration::prelude::*;

    /// Creates `idempotency_records`.
    #[derive(DeriveMigrationName)]
    pub struct Migration;

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Records::Table)
                        .if_not_exists()
                        .col(ColumnDef::new(Records::Scope).string().not_null())
                        .col(ColumnDef::new(Records::IdempotencyKey).string().not_null())
                        .col(
                            ColumnDef::new(Records::RequestFingerprint)
                                .string()
                                .not_null(),
                        )
                        .col(ColumnDef::new(Records::Response).binary().not_null())
                        .col(
                            ColumnDef::new(Records::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .primary_key(
                            Index::create()
                                .col(Records::Scope)
                                .col(Records::IdempotencyKey),
                        )
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(Records::Table).to_owned())
                .await
        }
    }

    #[derive(DeriveIden)]
    enum Records {
        #[sea_orm(iden = "idempotency_records")]
        Table,
        Scope,
        IdempotencyKey,
        RequestFingerprint,
        Response,
        CreatedAt,
    }
}

/// The work of a mutating RPC, run inside the transaction that also keeps its reply.
pub type Work<'c, T> =
    std::pin::Pin<Box<dyn Future<Output = Result<T, crate::ApiError>> + Send + 'c>>;

/// Runs `work` once per idempotency key: in one transaction, looks the key up,
/// replays the first reply for a repeat, refuses a different request under the
/// same key (ALREADY_EXISTS), or does the work and keeps its reply. A concurrent
/// request with the same key that loses the race gets the winner's reply.
pub async fn once<Req, Resp, F>(
    db: &sea_orm::DatabaseConnection,
    scope: &str,
    key: &str,
    request: &Req,
    work: F,
) -> Result<Resp, crate::ApiError>
where
    Req: Message,
    Resp: Message + Default,
    F: for<'c> FnOnce(&'c sea_orm::DatabaseTransaction) -> Work<'c, Resp>,
{
    let fingerprint = fingerprint_of_keyed(key, request)?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(answer) = settled(recall(&txn, scope, key, &fingerprint).await?) {
        return answer;
    }
    let response = work(&txn).await?;
    let kept = remember(&txn, scope, key, &fingerprint, &response).await;
    match kept.and(Ok(())) {
        Ok(()) => {
            txn.commit().await?;
            Ok(response)
        }
        Err(_) => {
            drop(txn);
            winners_answer(db, scope, key, &fingerprint).await
        }
    }
}

/// The request's fingerprint, once its idempotency key is known to be there.
fn fingerprint_of_keyed<Req: Message>(key: &str, request: &Req) -> Result<String, crate::ApiError> {
    if key.trim().is_empty() {
        return Err(crate::ApiError::invalid("idempotency_key", "is required"));
    }
    Ok(fingerprint(request))
}

/// What an earlier request under the key settles: its reply, or a conflict;
/// `None` when the key is new.
fn settled<Resp: Message + Default>(recall: Recall) -> Option<Result<Resp, crate::ApiError>> {
    match recall {
        Recall::Replay(bytes) => Some(decode(&bytes)),
        Recall::Conflict => Some(Err(conflict())),
        Recall::New => None,
    }
}

/// The reply of the request that kept its reply under the key before this
/// one could: answer as it did.
async fn winners_answer<Resp: Message + Default>(
    db: &sea_orm::DatabaseConnection,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Resp, crate::ApiError> {
    settled(recall(db, scope, key, fingerprint).await?).unwrap_or_else(|| {
        Err(crate::ApiError::Unavailable(
            "idempotency record could not be written; retry".into(),
        ))
    })
}

fn decode<Resp: Message + Default>(bytes: &[u8]) -> Result<Resp, crate::ApiError> {
    Resp::decode(bytes).map_err(crate::ApiError::internal)
}

fn conflict() -> crate::ApiError {
    crate::ApiError::AlreadyExists(
        "idempotency_key was already used for a different request".into(),
    )
}

/// Runs `work` once per idempotency key when it cannot sit inside one
/// transaction with its reply because it calls other services: the key is
/// looked up first and a repeat gets the first reply; otherwise the work runs
/// and its reply is kept. If the work fails because a concurrent request with
/// the same key got there first, that request's reply is the answer. A crash
/// between the work and keeping its reply leaves the key unused; a retry then
/// meets the work's own state checks (e.g. "already approved").
pub async fn replayed<Req, Resp, F, Fut>(
    db: &sea_orm::DatabaseConnection,
    scope: &str,
    key: &str,
    request: &Req,
    work: F,
) -> Result<Resp, crate::ApiError>
where
    Req: Message,
    Resp: Message + Default,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Resp, crate::ApiError>>,
{
    let fingerprint = fingerprint_of_keyed(key, request)?;
    if let Some(answer) = settled(recall(db, scope, key, &fingerprint).await?) {
        return answer;
    }
    let response = match work().await {
        Ok(response) => response,
        Err(error) => {
            return match recall(db, scope, key, &fingerprint).await? {
                Recall::Replay(bytes) => decode(&bytes),
                _ => Err(error),
            };
        }
    };
    if remember(db, scope, key, &fingerprint, &response)
        .await
        .is_err()
    {
        return winners_answer(db, scope, key, &fingerprint).await;
    }
    Ok(response)
}

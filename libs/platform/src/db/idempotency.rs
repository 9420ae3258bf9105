//! Idempotent mutating RPCs (DESIGN §3): every mutating RPC takes an
//! idempotency key; repeating the request under it returns the first reply,
//! a different request under it is refused (ALREADY_EXISTS).
//!
//! One mode: the reply is kept in the same transaction that commits the
//! request's work ([`Keyed::keep`]), so a crash either loses both or keeps
//! both. Work that is all local runs through [`Keyed::once`]; a use case that
//! first calls other services (with idempotent, derived keys) keeps the reply
//! in the transaction that commits its decision, through an [`OnCommit`] hook.
//!
//! Keys belong to the caller: a partner's keys never meet another partner's or
//! the mesh's own. What is stored of a request is an HMAC-SHA256 under the
//! service's secret fingerprint key, never an unkeyed function of the request
//! (a request may carry an Aadhaar number, which an unkeyed hash would reveal).
//!
//! Every service's migrator includes [`Migration`], so each database has its own
//! `idempotency_records` table (no table is shared between services).

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    entity::prelude::*,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

pub use schema::Migration;

use ayushman_proto::Idempotent;

use crate::{ApiError, Caller, caller::PartnerIdentity};

/// The key used when none is configured: fine on a laptop, warned about at start.
pub const DEVELOPMENT_FINGERPRINT_KEY: &str = "ayushman-development-only-fingerprint-key";

/// What a service needs to key requests: its secret fingerprint key.
#[derive(Clone)]
pub struct Idempotency {
    secret: Arc<SecretString>,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Idempotency { .. }")
    }
}

impl Idempotency {
    /// Fingerprints under `secret` (config `database.fingerprint_key`).
    pub fn new(secret: SecretString) -> Self {
        Self {
            secret: Arc::new(secret),
        }
    }

    /// A request of a mutating RPC under its idempotency key, in the key
    /// space of whoever sent it: INVALID_ARGUMENT when the key is missing.
    pub fn keyed<R: Idempotent>(&self, request: &tonic::Request<R>) -> Result<Keyed, ApiError> {
        let message = request.get_ref();
        self.keyed_as(
            &Caller::of(request),
            R::RPC,
            message.idempotency_key(),
            message,
        )
    }

    /// Like [`Idempotency::keyed`], for a request already taken out of its
    /// envelope: `caller` is who sent it.
    pub fn keyed_by<R: Idempotent>(&self, caller: &Caller, message: &R) -> Result<Keyed, ApiError> {
        self.keyed_as(caller, R::RPC, message.idempotency_key(), message)
    }

    /// Like [`Idempotency::keyed`], for a key carried elsewhere than in the
    /// request itself (the header of a streamed import).
    pub fn keyed_as<R: Message>(
        &self,
        caller: &Caller,
        rpc: &'static str,
        key: &str,
        request: &R,
    ) -> Result<Keyed, ApiError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(ApiError::invalid("idempotency_key", "is required"));
        }
        if key.chars().count() > 200 {
            return Err(ApiError::invalid(
                "idempotency_key",
                "must be at most 200 characters",
            ));
        }
        let scoped = format!("{}/{key}", owner(caller));
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(rpc.as_bytes());
        mac.update(b"\n");
        mac.update(scoped.as_bytes());
        mac.update(b"\n");
        mac.update(&request.encode_to_vec());
        Ok(Keyed {
            rpc,
            key: scoped,
            fingerprint: hex::encode(mac.finalize().into_bytes()),
            kept: Arc::new(Mutex::new(None)),
        })
    }
}

/// Whose key space a key belongs to: the partner's own, or the mesh's.
fn owner(caller: &Caller) -> String {
    match caller {
        Caller::Mesh => "mesh".to_owned(),
        Caller::Partner(PartnerIdentity { partner_id, .. }) => format!("partner:{partner_id}"),
    }
}

/// One request under its idempotency key.
#[derive(Clone)]
pub struct Keyed {
    rpc: &'static str,
    key: String,
    fingerprint: String,
    /// The encoded reply kept by [`Keyed::keep`], for the request that kept it.
    kept: Arc<Mutex<Option<Vec<u8>>>>,
}

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyed")
            .field("rpc", &self.rpc)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Keyed {
    /// The key in its caller's space (`partner:PTN-X/abc`), for records that
    /// keep their request's key themselves.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The keyed fingerprint of the request.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The reply given before under this key, `None` when the key is new;
    /// ALREADY_EXISTS when it was used for a different request.
    pub async fn recall<Resp: Message + Default>(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<Resp>, ApiError> {
        match self.record(db).await? {
            None => Ok(None),
            Some(record) if record.request_fingerprint == self.fingerprint => {
                decode(&record.response).map(Some)
            }
            Some(_) => Err(conflict()),
        }
    }

    /// Keeps `reply` under the key. Call it in the transaction that commits
    /// the work; when a concurrent request with the same key kept its reply
    /// first this fails, the transaction must roll back, and
    /// [`Keyed::settle`] answers with that request's reply.
    pub async fn keep(
        &self,
        txn: &DatabaseTransaction,
        reply: &impl Message,
    ) -> Result<(), ApiError> {
        let (record, response) = self.record_of(reply);
        let inserted = Entity::insert(record)
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([Column::Scope, Column::IdempotencyKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        if inserted == 0 {
            return Err(ApiError::Aborted(
                "a request with the same idempotency_key finished first".into(),
            ));
        }
        *self.kept.lock().expect("kept reply lock") = Some(response);
        Ok(())
    }

    /// The row that keeps `reply` under the key, for work that commits in
    /// one write of its own (a [`Guarded`](crate::db::Guarded) or
    /// [`Batch`](crate::db::Batch)) rather than in a transaction. When a
    /// request with the same key kept its reply first, that write fails as a
    /// unique violation, and [`Keyed::settle`] answers with the first reply.
    pub fn reply_row(&self, reply: &impl Message) -> crate::db::Rows {
        let (record, response) = self.record_of(reply);
        *self.kept.lock().expect("kept reply lock") = Some(response);
        crate::db::Rows::of(&record)
    }

    /// The record keeping `reply` under the key, and the reply encoded.
    fn record_of(&self, reply: &impl Message) -> (ActiveModel, Vec<u8>) {
        let response = reply.encode_to_vec();
        let record = ActiveModel {
            scope: Set(self.rpc.to_owned()),
            idempotency_key: Set(self.key.clone()),
            request_fingerprint: Set(self.fingerprint.clone()),
            response: Set(response.clone()),
            created_at: Set(crate::db::now()),
        };
        (record, response)
    }

    /// Whether a reply is kept under the key (by this request's key, or
    /// another request's), once every write begun before is settled.
    pub async fn is_kept(&self, db: &DatabaseConnection) -> Result<bool, ApiError> {
        crate::db::settle_writes(db).await?;
        Ok(self.record(db).await?.is_some())
    }

    /// The record kept under the key, if any.
    async fn record(&self, db: &impl ConnectionTrait) -> Result<Option<Model>, DbErr> {
        Entity::find_by_id((self.rpc.to_owned(), self.key.clone()))
            .one(db)
            .await
    }

    /// [`Self::recall`] once every write begun before is settled: a
    /// concurrent duplicate's reply, seen by this request's failed
    /// transaction, is then read back too.
    async fn recall_settled<Resp: Message + Default>(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Option<Resp>, ApiError> {
        crate::db::settle_writes(db).await?;
        self.recall(db).await
    }

    /// The reply this request kept, once its transaction committed.
    pub fn kept<Resp: Message + Default>(&self) -> Result<Resp, ApiError> {
        let kept = self.kept.lock().expect("kept reply lock").clone();
        match kept {
            Some(bytes) => decode(&bytes),
            None => Err(ApiError::internal(format!(
                "{} finished without keeping its reply",
                self.rpc
            ))),
        }
    }

    /// The answer to this request once its work is done: the reply it kept,
    /// or, when the work failed, the reply a concurrent request with the same
    /// key kept meanwhile (it did the work), or the failure itself.
    pub async fn settle<Resp: Message + Default, T>(
        &self,
        db: &DatabaseConnection,
        outcome: Result<T, ApiError>,
    ) -> Result<Resp, ApiError> {
        match outcome {
            Ok(_) => self.kept(),
            Err(error) => match self.recall_settled(db).await {
                Ok(Some(reply)) => Ok(reply),
                Ok(None) => Err(error),
                // The key was taken meanwhile by a different request.
                Err(taken @ ApiError::AlreadyExists(_)) => Err(taken),
                Err(recall_error) => {
                    log_db_trouble("idempotency record could not be read", &recall_error);
                    Err(error)
                }
            },
        }
    }

    /// The answer to this request: the first reply when the key was used
    /// before, otherwise what `work` leads to — `work` keeps its reply in the
    /// transaction that commits its decision (through [`KeepReply`]).
    pub async fn run<Resp, T, F, Fut>(
        &self,
        db: &DatabaseConnection,
        work: F,
    ) -> Result<Resp, ApiError>
    where
        Resp: Message + Default,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        if let Some(reply) = self.recall(db).await? {
            return Ok(reply);
        }
        let outcome = work().await;
        self.settle(db, outcome).await
    }

    /// Runs `work` once for this key, in one transaction with keeping its
    /// reply: a repeat gets the first reply, a different request under the
    /// key ALREADY_EXISTS, a concurrent duplicate the winner's reply.
    pub async fn once<Resp, F>(&self, db: &DatabaseConnection, work: F) -> Result<Resp, ApiError>
    where
        Resp: Message + Default,
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> Work<'c, Resp>,
    {
        if let Some(reply) = self.recall(db).await? {
            return Ok(reply);
        }
        self.once_optimistic(db, work).await
    }

    /// [`Self::once`] without reading the key first, one statement fewer for
    /// a new request: the work runs, keeping its reply finds a repeat, and
    /// the repeat's work rolls back. Only for work whose every effect is in
    /// the transaction and that is cheap to do again (a money move on a hot
    /// path); a repeat of an import or a call to a peer must use [`Self::once`].
    pub async fn once_optimistic<Resp, F>(
        &self,
        db: &DatabaseConnection,
        work: F,
    ) -> Result<Resp, ApiError>
    where
        Resp: Message + Default,
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> Work<'c, Resp>,
    {
        let outcome = async {
            let txn = crate::db::begin_write(db).await?;
            let reply = work(&txn).await?;
            self.keep(&txn, &reply).await?;
            txn.commit().await?;
            Ok::<_, ApiError>(reply)
        }
        .await;
        self.settle(db, outcome).await
    }
}

/// The work of a mutating RPC, run inside the transaction that also keeps its reply.
pub type Work<'c, T> = BoxFuture<'c, Result<T, ApiError>>;

/// What a use case runs inside the transaction that commits its decision
/// about a record `M` — keeping the request's reply, built from the record as
/// committed. The use case knows only this trait; the handler chooses the reply.
pub trait OnCommit<M>: Send + Sync {
    /// Runs in `txn`, after the decision about `record` was written.
    fn run<'c>(
        &'c self,
        txn: &'c DatabaseTransaction,
        record: &'c M,
    ) -> BoxFuture<'c, Result<(), ApiError>>;
}

/// Nothing to run: work with no request behind it (a background pass).
pub struct Nothing;

impl<M: Sync> OnCommit<M> for Nothing {
    fn run<'c>(
        &'c self,
        _txn: &'c DatabaseTransaction,
        _record: &'c M,
    ) -> BoxFuture<'c, Result<(), ApiError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Keeps the reply `build` makes of the committed record under `keyed`.
pub struct KeepReply<'a, F> {
    keyed: &'a Keyed,
    build: F,
}

impl<'a, F> KeepReply<'a, F> {
    /// The reply to keep under `keyed`, made by `build` inside the transaction.
    pub fn new<M, Resp>(keyed: &'a Keyed, build: F) -> Self
    where
        F: for<'c> Fn(&'c DatabaseTransaction, &'c M) -> Work<'c, Resp> + Send + Sync,
        Resp: Message,
    {
        Self { keyed, build }
    }
}

impl<M, Resp, F> OnCommit<M> for KeepReply<'_, F>
where
    M: Sync,
    Resp: Message,
    F: for<'c> Fn(&'c DatabaseTransaction, &'c M) -> Work<'c, Resp> + Send + Sync,
{
    fn run<'c>(
        &'c self,
        txn: &'c DatabaseTransaction,
        record: &'c M,
    ) -> BoxFuture<'c, Result<(), ApiError>> {
        Box::pin(async move {
            let reply = (self.build)(txn, record).await?;
            self.keyed.keep(txn, &reply).await
        })
    }
}

/// Logs a database error the caller cannot act on, with the trace id.
fn log_db_trouble(what: &str, error: &ApiError) {
    let trace_id = crate::telemetry::current_trace_id().unwrap_or_default();
    tracing::error!(%error, trace_id, "{what}");
}

fn decode<Resp: Message + Default>(bytes: &[u8]) -> Result<Resp, ApiError> {
    Resp::decode(bytes).map_err(ApiError::internal)
}

fn conflict() -> ApiError {
    ApiError::AlreadyExists("idempotency_key was already used for a different request".into())
}

/// One remembered reply.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_records")]
pub struct Model {
    /// The RPC the key belongs to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// The caller's idempotency key, prefixed with whose it is.
    #[sea_orm(primary_key, auto_increment = false)]
    pub idempotency_key: String,
    /// HMAC-SHA256 of the first request under the service's fingerprint key, hex.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn idempotency() -> Idempotency {
        Idempotency::new(SecretString::from("test-fingerprint-key"))
    }

    fn partner(id: &str) -> Caller {
        Caller::Partner(PartnerIdentity {
            partner_id: id.into(),
            state_code: None,
            hfr_ids: Vec::new(),
            user: None,
        })
    }

    #[test]
    fn keys_belong_to_their_caller() {
        let request = ayushman_proto::common::v1::Location::default();
        let ours = idempotency()
            .keyed_as(&partner("PTN-A"), "Rpc", "k-1", &request)
            .expect("keyed");
        let theirs = idempotency()
            .keyed_as(&partner("PTN-B"), "Rpc", "k-1", &request)
            .expect("keyed");
        assert_eq!(ours.key(), "partner:PTN-A/k-1");
        assert_eq!(theirs.key(), "partner:PTN-B/k-1");
        assert_eq!(
            idempotency()
                .keyed_as(&Caller::Mesh, "Rpc", " k-1 ", &request)
                .expect("keyed")
                .key(),
            "mesh/k-1"
        );
    }

    #[test]
    fn a_fingerprint_is_keyed_by_the_service_secret() {
        let request = ayushman_proto::common::v1::Location {
            state_code: "10".into(),
            ..Default::default()
        };
        let mesh = Caller::Mesh;
        let one = idempotency()
            .keyed_as(&mesh, "Rpc", "k", &request)
            .expect("keyed");
        let again = idempotency()
            .keyed_as(&mesh, "Rpc", "k", &request)
            .expect("keyed");
        let other_secret = Idempotency::new(SecretString::from("another-secret"))
            .keyed_as(&mesh, "Rpc", "k", &request)
            .expect("keyed");
        assert_eq!(one.fingerprint(), again.fingerprint());
        assert_ne!(one.fingerprint(), other_secret.fingerprint());
        use sha2::Digest;
        let unkeyed = hex::encode(Sha256::digest(request.encode_to_vec()));
        assert_ne!(one.fingerprint(), unkeyed);
    }

    #[test]
    fn a_missing_key_is_named() {
        let error = idempotency()
            .keyed_as(
                &Caller::Mesh,
                "Rpc",
                "  ",
                &ayushman_proto::common::v1::Location::default(),
            )
            .unwrap_err();
        assert_eq!(
            tonic::Status::from(error).message(),
            "idempotency_key: is required"
        );
    }
}

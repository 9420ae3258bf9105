//! Transactions that write, and on SQLite the process's writers of one file:
//! their turn, and group commit.
//!
//! A SQLite file has one writer at a time, and each commit costs an fsync
//! plus a WAL frame for every page it touched. Writers of this process wait
//! in line for their turn (first come, first served) instead of in SQLite's
//! busy handler, which sleeps longer the longer it waits. Writers that meet
//! in the line share one commit: the first opens a transaction (BEGIN
//! IMMEDIATE, so it never fails with SQLITE_BUSY halfway), each runs as a
//! savepoint inside it, and one COMMIT makes them all durable. A writer's
//! `commit` returns only after that COMMIT, so an acknowledged write is as
//! durable as with a commit of its own; a writer that fails or is dropped
//! rolls back to its savepoint and leaves the others' work in place.
//!
//! Who commits: after its own part, each writer queues for the turn again,
//! behind those that were waiting; the first of them to get it commits the
//! group (they have all joined it by then), the rest find it committed. A
//! group also commits at once when it reaches [`MAX_GROUP`] writers, and
//! before a writer on another pool of the same file (an import's own
//! connection) starts. The second pass runs in a task of its own, so a
//! writer whose request is cancelled still leaves the group committed.
//! PostgreSQL has none of this: its writers run side by side and commit on
//! their own.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, LazyLock},
};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::sqlite::SqliteConnectOptions,
};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// The most writers one commit makes durable: bounds how long the first
/// waits for the last.
const MAX_GROUP: usize = 64;

/// Starts a transaction that will write (on SQLite, once it is this
/// process's turn to write the file).
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let Some((writers, pool)) = writers_of(db) else {
        return Ok(WriteTransaction {
            txn: db.begin().await?,
            member: None,
        });
    };
    let mut turn = writers.clone().lock_owned().await;
    if turn
        .open
        .as_ref()
        .is_some_and(|open| !Arc::ptr_eq(&open.pool, &pool))
    {
        // Another pool's group (an import's own connection): it cannot be
        // joined from here, so it is made durable before this one starts.
        turn = commit_in_task(turn).await;
    }
    if turn.open.is_none() {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        turn.opened += 1;
        turn.open = Some(OpenGroup {
            id: turn.opened,
            txn,
            pool,
            writers: 0,
            committed: watch::channel(None).0,
        });
    }
    let open = turn.open.as_ref().expect("a group is open");
    // From here this writer owes the group a commit, whatever happens.
    let mut member = Member {
        group: open.id,
        committed: open.committed.subscribe(),
        writers,
        turn: Some(turn),
    };
    let txn = member.open_group().txn.begin().await?;
    member.open_group().writers += 1;
    Ok(WriteTransaction {
        txn,
        member: Some(member),
    })
}

/// Returns once every write transaction begun on `db`'s file before the
/// call has committed or rolled back, so that a read afterwards sees all of
/// them: a writer that failed on a row a concurrent writer added (the same
/// idempotency key, say) reads it back after this. Nothing to wait for on
/// PostgreSQL, where a row another transaction has not committed is never
/// seen.
pub async fn settle_writes(db: &DatabaseConnection) -> Result<(), DbErr> {
    let Some((writers, _)) = writers_of(db) else {
        return Ok(());
    };
    let turn = writers.lock_owned().await;
    let Some(open) = turn.open.as_ref() else {
        return Ok(());
    };
    let mut committed = open.committed.subscribe();
    drop(commit_in_task(turn).await);
    let outcome = committed.borrow_and_update().clone();
    outcome.unwrap_or(Ok(()))
}

/// A transaction that writes. On SQLite it holds this process's turn to
/// write the file until it commits or is dropped.
pub struct WriteTransaction {
    // Dropped first: a dropped transaction queues its rollback on the
    // connection before the turn (in `member`) is given back.
    txn: DatabaseTransaction,
    member: Option<Member>,
}

impl WriteTransaction {
    /// Commits; returns once the writes are durable.
    pub async fn commit(self) -> Result<(), DbErr> {
        let WriteTransaction { txn, member } = self;
        let Some(mut member) = member else {
            return txn.commit().await;
        };
        let released = txn.commit().await;
        if released.is_ok() && member.open_group().writers >= MAX_GROUP {
            member.commit_now().await;
        } else {
            member.leave();
        }
        released?;
        member.outcome().await
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for WriteTransaction {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// The writers of one SQLite file: whose turn it is, and the group open.
#[derive(Default)]
struct Writers {
    open: Option<OpenGroup>,
    /// Groups opened so far, which is the id of the latest.
    opened: u64,
}

/// A transaction that writers join as savepoints until it commits.
struct OpenGroup {
    id: u64,
    txn: DatabaseTransaction,
    /// The pool whose connection holds `txn`.
    pool: Arc<SqliteConnectOptions>,
    writers: usize,
    /// The COMMIT's outcome, once it ran.
    committed: watch::Sender<Option<Result<(), DbErr>>>,
}

impl Writers {
    /// Commits the open group, if any, and tells its writers how it went.
    async fn commit_open(&mut self) {
        if let Some(open) = self.open.take() {
            let outcome = open.txn.commit().await;
            open.committed.send_replace(Some(outcome));
        }
    }
}

/// A writer's place in a group: the turn while it writes, and its share of
/// committing the group afterwards.
struct Member {
    group: u64,
    committed: watch::Receiver<Option<Result<(), DbErr>>>,
    writers: Arc<Mutex<Writers>>,
    /// Held while this writer writes.
    turn: Option<OwnedMutexGuard<Writers>>,
}

impl Member {
    fn open_group(&mut self) -> &mut OpenGroup {
        self.turn
            .as_mut()
            .and_then(|turn| turn.open.as_mut())
            .expect("a writer holds the turn of an open group")
    }

    /// Commits the group now, with the turn still held.
    async fn commit_now(&mut self) {
        if let Some(turn) = self.turn.take() {
            drop(commit_in_task(turn).await);
        }
    }

    /// Gives the turn back and leaves committing the group to a task that
    /// queues for the turn again: it commits the group unless someone did
    /// first. A task of its own, so that it runs even if this writer's
    /// request is cancelled meanwhile.
    fn leave(&mut self) {
        if let Some(turn) = self.turn.take() {
            drop(turn);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(commit_group(self.writers.clone(), self.group));
            }
        }
    }

    /// How the group's COMMIT went.
    async fn outcome(&mut self) -> Result<(), DbErr> {
        match self.committed.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().expect("an outcome"),
            Err(_) => Err(DbErr::Custom(
                "the group commit ended without an outcome".into(),
            )),
        }
    }
}

impl Drop for Member {
    /// A writer dropped before its commit (an error, a cancelled request):
    /// its savepoint's rollback is already queued, and the group still needs
    /// its commit.
    fn drop(&mut self) {
        self.leave();
    }
}

/// Commits the open group, holding `turn`, in a task of its own: a COMMIT
/// cut short by a cancelled request would leave the group's writers without
/// an outcome. Gives the turn back afterwards.
async fn commit_in_task(mut turn: OwnedMutexGuard<Writers>) -> OwnedMutexGuard<Writers> {
    let task = tokio::spawn(async move {
        turn.commit_open().await;
        turn
    });
    match task.await {
        Ok(turn) => turn,
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
}

/// Commits group `id` once it is this task's turn, unless it already was.
async fn commit_group(writers: Arc<Mutex<Writers>>, id: u64) {
    let mut turn = writers.lock().await;
    if turn.open.as_ref().is_some_and(|open| open.id == id) {
        turn.commit_open().await;
    }
}

/// Each SQLite database file's writers, shared by every pool on that file.
static WRITERS: LazyLock<std::sync::Mutex<HashMap<PathBuf, Arc<Mutex<Writers>>>>> =
    LazyLock::new(Default::default);

/// The writers of `db` when it is a SQLite file, with its pool's options
/// (which tell pools apart); PostgreSQL has none.
fn writers_of(db: &DatabaseConnection) -> Option<(Arc<Mutex<Writers>>, Arc<SqliteConnectOptions>)> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let pool = db.get_sqlite_connection_pool().connect_options();
    let mut writers = WRITERS.lock().expect("SQLite writers");
    let file = writers
        .entry(pool.get_filename().to_path_buf())
        .or_default()
        .clone();
    Some((file, pool))
}

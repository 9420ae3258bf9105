//! Statements run on the calling thread instead of the connection's worker
//! thread (a patch of the Ayushman mesh; see third_party/README.md).
//!
//! Upstream hands every statement to the worker thread and streams its rows
//! back: two thread wake-ups per statement, which cost more than a lookup by
//! key costs SQLite itself. Only statements that cannot wait on anything run
//! here: a SELECT (stopped after [`READ_BUDGET`] and handed to the worker
//! instead, so a long report never holds the caller's async thread), and a
//! data change inside a transaction that already holds the write lock (it
//! only touches the page cache; COMMIT, which syncs the disk, stays on the
//! worker, as do BEGIN, PRAGMAs and anything that could wait for a lock).

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::ptr;
use std::time::{Duration, Instant};

use libsqlite3_sys::{sqlite3, sqlite3_progress_handler, sqlite3_txn_state, SQLITE_TXN_WRITE};
use sqlx_core::sql_str::SqlStr;
use sqlx_core::Either;

use crate::connection::ConnectionState;
use crate::error::Error;
use crate::logger::QueryLogger;
use crate::{SqliteArguments, SqliteQueryResult, SqliteRow};

/// How long a read may run on the caller's thread before it is stopped and
/// run again by the worker thread.
const READ_BUDGET: Duration = Duration::from_millis(2);

/// How many virtual machine instructions pass between checks of the budget.
const OPS_BETWEEN_CHECKS: c_int = 1_000;

type Results = Vec<Result<Either<SqliteQueryResult, SqliteRow>, Error>>;

/// Runs `query` here and returns its results, or `None` when it must go to
/// the worker thread (nothing was run, or a read ran out of its budget and
/// was stopped; a read has no effect to undo).
pub(crate) fn execute(
    conn: &mut ConnectionState,
    query: &SqlStr,
    args: &Option<SqliteArguments>,
    persistent: bool,
    limit: Option<usize>,
) -> Option<Results> {
    if conn.progress_handler_callback.is_some() {
        return None;
    }
    let db = conn.handle.as_ptr();
    let statement = match conn.statements.get(query.as_str(), persistent) {
        Ok(statement) => statement,
        Err(error) => return Some(vec![Err(error)]),
    };
    // A failed prepare is reported here: the worker would report the same.
    let read = match statement.prepare_next(&mut conn.handle) {
        Ok(Some(prepared)) => match kind_of(prepared.handle.sql(), prepared.handle.read_only(), db)
        {
            Some(kind) => kind == Kind::Read,
            None => return reset(statement),
        },
        Ok(None) => return reset(statement),
        Err(error) => {
            statement.reset().ok();
            return Some(vec![Err(error)]);
        }
    };
    if !statement.is_single() {
        return reset(statement);
    }
    let prepared = statement.current()?;

    let mut results = Results::new();
    let mut logger = QueryLogger::new(query.clone(), conn.log_settings.clone());
    prepared.handle.clear_bindings();
    if let Err(error) = args
        .as_ref()
        .map_or(Ok(0), |args| args.bind(prepared.handle, 0))
    {
        statement.reset().ok();
        return Some(vec![Err(error)]);
    }

    let deadline = Deadline {
        at: Instant::now() + READ_BUDGET,
        passed: Cell::new(false),
    };
    if read {
        deadline.watch(db);
    }
    let mut rows = 0;
    loop {
        match prepared.handle.step() {
            Ok(true) => {
                logger.increment_rows_returned();
                results.push(Ok(Either::Right(SqliteRow::current(
                    prepared.handle,
                    prepared.columns,
                    prepared.column_names,
                ))));
                rows += 1;
                if limit.is_some_and(|limit| rows >= limit) {
                    break;
                }
            }
            Ok(false) => {
                let changes = prepared.handle.changes();
                logger.increase_rows_affected(changes);
                results.push(Ok(Either::Left(SqliteQueryResult {
                    changes,
                    last_insert_rowid: conn.handle.last_insert_rowid(),
                })));
                break;
            }
            Err(error) => {
                results.push(Err(error.into()));
                break;
            }
        }
    }
    if read {
        Deadline::unwatch(db);
    }
    statement.reset().ok();
    if deadline.passed.get() {
        tracing::debug!(
            target: "sqlx::sqlite::inline",
            budget = ?READ_BUDGET,
            sql = query.as_str(),
            "a read ran past its budget on the calling thread; the worker runs it again"
        );
        return None;
    }
    Some(results)
}

#[derive(PartialEq)]
enum Kind {
    /// A SELECT: may run here within the budget.
    Read,
    /// A data change in a transaction that holds the write lock.
    WriteInTransaction,
}

/// Which statements may run here, judged by their first keyword (SQLite
/// counts BEGIN and COMMIT as read-only) and the transaction's state.
fn kind_of(sql: &str, read_only: bool, db: *mut sqlite3) -> Option<Kind> {
    let keyword = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let is = |words: &[&str]| words.contains(&keyword.as_str());
    if read_only && is(&["SELECT", "WITH", "VALUES"]) {
        return Some(Kind::Read);
    }
    // SAFETY: `db` is the open connection this thread holds the lock of.
    let writing = unsafe { sqlite3_txn_state(db, ptr::null()) } == SQLITE_TXN_WRITE;
    (writing && is(&["INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "SELECT"]))
        .then_some(Kind::WriteInTransaction)
}

fn reset(statement: &mut crate::statement::VirtualStatement) -> Option<Results> {
    statement.reset().ok();
    None
}

/// Stops a read that outlives its budget (SQLite's progress handler).
struct Deadline {
    at: Instant,
    passed: Cell<bool>,
}

impl Deadline {
    /// Checks `self` every [`OPS_BETWEEN_CHECKS`] instructions until
    /// [`Deadline::unwatch`]; `self` must not move in between.
    fn watch(&self, db: *mut sqlite3) {
        // SAFETY: the handler is removed before `self` goes out of scope,
        // and SQLite calls it only on this thread, inside `step`.
        unsafe {
            sqlite3_progress_handler(
                db,
                OPS_BETWEEN_CHECKS,
                Some(Self::check),
                self as *const Self as *mut c_void,
            );
        }
    }

    fn unwatch(db: *mut sqlite3) {
        // SAFETY: removing the handler has no precondition.
        unsafe { sqlite3_progress_handler(db, 0, None, ptr::null_mut()) };
    }

    extern "C" fn check(deadline: *mut c_void) -> c_int {
        // SAFETY: `watch` registered a `Deadline` that outlives the handler.
        let deadline = unsafe { &*(deadline as *const Self) };
        if Instant::now() >= deadline.at {
            deadline.passed.set(true);
            1
        } else {
            0
        }
    }
}

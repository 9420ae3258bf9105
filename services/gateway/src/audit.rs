//! The audit log (DESIGN §6): one row for every call through the gateway —
//! partner, user, key, method, status code, latency, trace id, time, transport.
//! Calls hand their row to a writer task that inserts in batches, so auditing
//! never holds a response back; [`AuditLog::flush`] waits until every row
//! handed over so far is stored (QueryAudit reads its own calls).

use std::time::Duration;

use ayushman_platform::{db, ids};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use crate::store::{entities::audit_record, queries};

/// Most rows written in one INSERT.
const BATCH: usize = 1000;

/// How a call arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    HttpJson,
}

impl Transport {
    /// As stored and reported.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::HttpJson => "http-json",
        }
    }
}

/// One call, filled in as it is handled.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub partner_id: String,
    pub key_id: String,
    pub user_id: String,
    pub method: String,
    pub trace_id: String,
    pub received_at: DateTime<Utc>,
    pub transport: Transport,
    started: std::time::Instant,
}

impl AuditEntry {
    /// A call to `method` arriving now.
    pub fn begin(method: &str, transport: Transport, trace_id: String) -> Self {
        Self {
            partner_id: String::new(),
            key_id: String::new(),
            user_id: String::new(),
            method: method.to_owned(),
            trace_id,
            received_at: db::now(),
            transport,
            started: std::time::Instant::now(),
        }
    }

    fn finish(self, status_code: i32) -> audit_record::Model {
        audit_record::Model {
            audit_id: ids::ordered_id("AUD"),
            partner_id: self.partner_id,
            key_id: self.key_id,
            method: self.method,
            status_code,
            latency_micros: i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX),
            trace_id: self.trace_id,
            received_at: self.received_at,
            transport: self.transport.as_str().to_owned(),
            user_id: self.user_id,
        }
    }
}

enum Message {
    Row(audit_record::Model),
    Flush(oneshot::Sender<()>),
}

/// Hands rows to the writer task.
#[derive(Clone)]
pub struct AuditLog {
    sender: mpsc::UnboundedSender<Message>,
}

impl AuditLog {
    /// Starts the writer task on `db`. Must be called inside a Tokio runtime.
    pub fn start(db: DatabaseConnection) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_rows(db, receiver));
        Self { sender }
    }

    /// Records a finished call with its gRPC status code.
    pub fn record(&self, entry: AuditEntry, status_code: i32) {
        if self
            .sender
            .send(Message::Row(entry.finish(status_code)))
            .is_err()
        {
            tracing::error!("audit writer has stopped; an audit row is lost");
        }
    }

    /// Waits until every row recorded before this call is stored.
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).is_ok() {
            let _ = stored.await;
        }
    }
}

/// Writes rows as they come, up to [`BATCH`] per INSERT; a failed write is
/// retried (rows are never dropped), and keys' last use moves forward.
async fn write_rows(db: DatabaseConnection, mut receiver: mpsc::UnboundedReceiver<Message>) {
    while let Some(first) = receiver.recv().await {
        let mut rows = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Row(row) => rows.push(row),
                Message::Flush(done) => flushes.push(done),
            }
            if rows.len() < BATCH {
                next = receiver.try_recv().ok();
            }
        }
        while let Err(error) = store(&db, &rows).await {
            tracing::error!(%error, rows = rows.len(), "audit rows not stored yet; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Inserts the rows and moves their keys' last use, in one transaction so a
/// retry never inserts a row twice.
async fn store(
    db: &DatabaseConnection,
    rows: &[audit_record::Model],
) -> Result<(), sea_orm::DbErr> {
    let txn = db::begin_write(db).await?;
    queries::insert_audit(&txn, rows.to_vec()).await?;
    let mut last_use: std::collections::BTreeMap<&str, DateTime<Utc>> = Default::default();
    for row in rows.iter().filter(|r| !r.key_id.is_empty()) {
        let seen = last_use.entry(&row.key_id).or_insert(row.received_at);
        *seen = (*seen).max(row.received_at);
    }
    for (key_id, at) in last_use {
        queries::touch_key(&txn, key_id, at).await?;
    }
    txn.commit().await
}

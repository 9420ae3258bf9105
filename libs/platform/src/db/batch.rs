//! Inserts that need nothing from each other, committed together in as few
//! round trips as the backend allows.

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    sea_query::{Alias, CommonTableExpression, InsertStatement, WithClause},
};

use super::begin_write;

/// Inserts (upserts among them) committed together, all or none. None may
/// depend on another: each sees the database as it was before any of them.
///
/// On PostgreSQL the batch is one statement, each insert but the last a
/// data-modifying `WITH` of it: one round trip, which commits on its own,
/// where a transaction of the same inserts costs two more (BEGIN, COMMIT)
/// and one per insert. On SQLite, which has no writes in `WITH` and whose
/// statements cost no round trip, they run in turn in one write transaction.
#[derive(Debug, Default)]
pub struct Batch {
    inserts: Vec<InsertStatement>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `insert` to the batch.
    pub fn insert(&mut self, insert: InsertStatement) -> &mut Self {
        self.inserts.push(insert);
        self
    }

    /// Commits every insert, or none when one fails (with that one's error).
    pub async fn commit(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let mut inserts = self.inserts;
        let Some(last) = inserts.pop() else {
            return Ok(());
        };
        if db.get_database_backend() == DatabaseBackend::Postgres {
            if inserts.is_empty() {
                return db.execute(&last).await.map(drop);
            }
            let mut with = WithClause::new();
            for (n, insert) in inserts.into_iter().enumerate() {
                with.cte(
                    CommonTableExpression::new()
                        .table_name(Alias::new(format!("insert_{n}")))
                        .query(insert)
                        .to_owned(),
                );
            }
            return db.execute(&with.query(last)).await.map(drop);
        }
        let txn = begin_write(db).await?;
        for insert in inserts.iter().chain([&last]) {
            txn.execute(insert).await?;
        }
        txn.commit().await
    }
}

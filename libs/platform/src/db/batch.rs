//! Writes that need nothing from each other, committed together in as few
//! round trips as the backend allows.

use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseBackend,
    DatabaseConnection, DbErr, EntityName, EntityTrait, FromQueryResult, Iterable, QueryResult,
    sea_query::{
        Alias, Asterisk, CommonTableExpression, DynIden, Expr, InsertStatement, IntoIden,
        OnConflict, Query, SelectStatement, UnionType, UpdateStatement, WithClause,
    },
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
    pub fn insert(&mut self, insert: impl Into<InsertStatement>) -> &mut Self {
        self.inserts.push(insert.into());
        self
    }

    /// Commits every insert, or none when one fails (with that one's error).
    pub async fn commit(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            return self.run_in(db).await;
        }
        let txn = begin_write(db).await?;
        self.run_in(&txn).await?;
        txn.commit().await
    }

    /// [`Batch::commit`] as part of the transaction `txn`, which commits it.
    pub async fn run_in(self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        let mut inserts = self.inserts;
        let Some(last) = inserts.pop() else {
            return Ok(());
        };
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            return match inserts_before(inserts) {
                Some(with) => txn.execute(&with.query(last)).await.map(drop),
                None => txn.execute(&last).await.map(drop),
            };
        }
        for insert in inserts.iter().chain([&last]) {
            txn.execute(insert).await?;
        }
        Ok(())
    }

    /// [`Batch::commit`], reading with `read` the database as it was just
    /// before the batch: what a write needs to know of the others. On
    /// PostgreSQL the batch's statement ends with the read, which sees the
    /// statement's snapshot, at no round trip of its own. On SQLite the read
    /// runs just before the batch's write transaction, so the one writer's
    /// lock is not held for it (another writer may commit in between).
    pub async fn commit_reading(
        self,
        db: &DatabaseConnection,
        read: SelectStatement,
    ) -> Result<Vec<QueryResult>, DbErr> {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            return match inserts_before(self.inserts) {
                Some(with) => db.query_all(&with.query(read)).await,
                None => db.query_all(&read).await,
            };
        }
        let rows = db.query_all(&read).await?;
        self.commit(db).await?;
        Ok(rows)
    }
}

/// Rows for one table, as the columns they set and their values. The rows
/// of one `Rows` are one insert, written in their order (an id the table
/// assigns follows it); separate inserts of a [`Batch`] or [`Guarded`] run
/// in no fixed order on PostgreSQL.
#[derive(Debug, Clone)]
pub struct Rows {
    table: DynIden,
    columns: Vec<DynIden>,
    values: Vec<Vec<Expr>>,
    on_conflict: Option<OnConflict>,
}

impl Rows {
    /// A row of `table` setting `columns` to `values`, in order.
    ///
    /// # Panics
    ///
    /// When written, if `columns` and `values` differ in number.
    pub fn new<C: IntoIden>(
        table: impl IntoIden,
        columns: impl IntoIterator<Item = C>,
        values: impl IntoIterator<Item = Expr>,
    ) -> Self {
        Self {
            table: table.into_iden(),
            columns: columns.into_iter().map(IntoIden::into_iden).collect(),
            values: vec![values.into_iter().collect()],
            on_conflict: None,
        }
    }

    /// The row `model` makes: the columns it sets (an auto-increment id left
    /// unset is left to the database).
    pub fn of<A: ActiveModelTrait>(model: &A) -> Self {
        let (mut columns, mut values) = (Vec::new(), Vec::new());
        for column in <A::Entity as EntityTrait>::Column::iter() {
            if let ActiveValue::Set(value) | ActiveValue::Unchanged(value) = model.get(column) {
                columns.push(column.into_iden());
                values.push(column.save_as(Expr::val(value)));
            }
        }
        Self::new(
            <A::Entity as Default>::default().table_name(),
            columns,
            values,
        )
    }

    /// The rows `models` make, in order; `None` for no models. Each must
    /// set the same columns.
    pub fn of_all<A: ActiveModelTrait>(models: &[A]) -> Option<Self> {
        models.iter().map(Self::of).reduce(Self::and)
    }

    /// These rows, then `more`'s, as one insert. `more` must be of the same
    /// table and set the same columns.
    pub fn and(mut self, more: Rows) -> Self {
        debug_assert_eq!(self.columns, more.columns, "rows of one insert");
        self.values.extend(more.values);
        self
    }

    /// What to do when a row collides with one stored (an upsert).
    pub fn on_conflict(mut self, on_conflict: OnConflict) -> Self {
        self.on_conflict = Some(on_conflict);
        self
    }

    /// The insert of these rows, provided `table` has a row: for a write
    /// that only follows another's (see [`Guarded`]).
    fn inserted_if_in(self, table: DynIden) -> Result<InsertStatement, DbErr> {
        let mut rows = self
            .values
            .into_iter()
            .map(|values| Query::select().exprs(values).from(table.clone()).to_owned());
        let mut select = rows.next().unwrap_or_default();
        for row in rows {
            select.union(UnionType::All, row);
        }
        let mut insert = Query::insert();
        insert
            .into_table(self.table)
            .columns(self.columns)
            .select_from(select)
            .map_err(|error| DbErr::Custom(error.to_string()))?;
        if let Some(on_conflict) = self.on_conflict {
            insert.on_conflict(on_conflict);
        }
        Ok(insert)
    }
}

impl From<Rows> for InsertStatement {
    fn from(rows: Rows) -> Self {
        let mut insert = Query::insert();
        insert.into_table(rows.table).columns(rows.columns);
        for values in rows.values {
            insert.values_panic(values);
        }
        if let Some(on_conflict) = rows.on_conflict {
            insert.on_conflict(on_conflict);
        }
        insert
    }
}

/// A change of one record on the state it was read in (an UPDATE whose
/// WHERE names that state), and rows inserted only if it finds the record
/// so: all committed together, or none when another request changed the
/// record first. The rows may not depend on one another.
///
/// On PostgreSQL one statement (the update and each insert a data-modifying
/// `WITH`, the inserts selecting from the update's result), so it costs one
/// round trip; on SQLite the update, then the inserts, in one write
/// transaction.
#[derive(Debug)]
pub struct Guarded {
    update: UpdateStatement,
    rows: Vec<Rows>,
}

impl Guarded {
    /// `update` must change at most one record.
    pub fn new(update: UpdateStatement) -> Self {
        Self {
            update,
            rows: Vec::new(),
        }
    }

    /// Adds `rows`, inserted only if the update finds its record.
    pub fn insert(&mut self, rows: Rows) -> &mut Self {
        self.rows.push(rows);
        self
    }

    /// Commits; the record as updated, or `None` (and nothing written) when
    /// the update found no record in the state it names.
    pub async fn commit<M: FromQueryResult>(
        self,
        db: &DatabaseConnection,
    ) -> Result<Option<M>, DbErr> {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            return self.run_in(db).await;
        }
        let txn = begin_write(db).await?;
        let Some(changed) = self.run_in(&txn).await? else {
            return Ok(None);
        };
        txn.commit().await?;
        Ok(Some(changed))
    }

    /// [`Guarded::commit`] as part of the transaction `txn`, which commits it.
    pub async fn run_in<M: FromQueryResult>(
        self,
        txn: &impl ConnectionTrait,
    ) -> Result<Option<M>, DbErr> {
        let Self { mut update, rows } = self;
        update.returning_all();
        let changed = if txn.get_database_backend() == DatabaseBackend::Postgres {
            let guard = Alias::new("guard").into_iden();
            let mut with = WithClause::new();
            with.cte(
                CommonTableExpression::new()
                    .table_name(guard.clone())
                    .query(update)
                    .to_owned(),
            );
            for (n, row) in rows.into_iter().enumerate() {
                with.cte(insert_cte(n, row.inserted_if_in(guard.clone())?));
            }
            let changed = Query::select().column(Asterisk).from(guard).to_owned();
            txn.query_one(&with.query(changed)).await?
        } else {
            let Some(changed) = txn.query_one(&update).await? else {
                return Ok(None);
            };
            for row in rows {
                txn.execute(&InsertStatement::from(row)).await?;
            }
            Some(changed)
        };
        changed
            .map(|row| M::from_query_result(&row, ""))
            .transpose()
    }
}

/// `inserts` as the data-modifying `WITH`s of the statement they precede;
/// `None` when there are none (sea-query refuses a WITH of no expressions).
fn inserts_before(inserts: Vec<InsertStatement>) -> Option<WithClause> {
    if inserts.is_empty() {
        return None;
    }
    let mut with = WithClause::new();
    for (n, insert) in inserts.into_iter().enumerate() {
        with.cte(insert_cte(n, insert));
    }
    Some(with)
}

/// The `n`th data-modifying `WITH` of a batch.
fn insert_cte(n: usize, insert: InsertStatement) -> CommonTableExpression {
    CommonTableExpression::new()
        .table_name(Alias::new(format!("insert_{n}")))
        .query(insert)
        .to_owned()
}

//! Status histories: one append-only table per kind of record, all of one
//! shape — an id, the record's key columns, the status entered, why, who and
//! in which trace, and when — created, written and read here alone.

use std::collections::BTreeMap;

use ayushman_proto::common::v1::{ActorKind, StatusChange};
use sea_orm::{
    ConnectionTrait, DbErr, QueryResult,
    sea_query::{
        ColumnDef, Expr, ExprTrait, Index, IndexCreateStatement, InsertStatement, Order, Query,
        Table,
    },
};

use super::Actor;
use crate::{convert::timestamp_to_proto, db::Rows};

const ID: &str = "id";
const STATUS: &str = "status";
const REASON: &str = "reason";
const ACTOR_ID: &str = "actor_id";
const ACTOR_KIND: &str = "actor_kind";
const TRACE_ID: &str = "trace_id";
const CHANGED_AT: &str = "changed_at";

/// A history table: its name and the columns naming the record it follows
/// (`["preauth_id"]`, `["hfr_id", "scheme_code"]`).
#[derive(Debug, Clone, Copy)]
pub struct HistoryTable {
    /// e.g. `preauth_history`.
    pub table: &'static str,
    /// The record's key columns, in order.
    pub key: &'static [&'static str],
}

/// One change, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The record's key values, in the order of [`HistoryTable::key`].
    pub key: Vec<String>,
    /// The status entered, as its contract value name.
    pub status: String,
    /// Why, in words a district officer can read.
    pub reason: String,
    /// Who, and in which trace.
    pub actor: Actor,
    /// When.
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

impl HistoryRow {
    /// As the contracts show it.
    pub fn to_proto(&self) -> StatusChange {
        StatusChange {
            status: self.status.clone(),
            changed_at: Some(timestamp_to_proto(self.changed_at)),
            actor: Some(self.actor.to_proto()),
            reason: self.reason.clone(),
            trace_id: self.actor.trace_id.clone(),
        }
    }
}

impl HistoryTable {
    /// The migration that creates the table.
    pub fn create(&self) -> sea_orm::sea_query::TableCreateStatement {
        let mut table = Table::create();
        table.table(self.table).if_not_exists().col(
            ColumnDef::new(ID)
                .big_integer()
                .not_null()
                .primary_key()
                .auto_increment(),
        );
        for column in self.key {
            table.col(ColumnDef::new(*column).string().not_null());
        }
        for column in [STATUS, REASON, ACTOR_ID, ACTOR_KIND, TRACE_ID] {
            table.col(ColumnDef::new(column).string().not_null());
        }
        table.col(
            ColumnDef::new(CHANGED_AT)
                .timestamp_with_time_zone()
                .not_null(),
        );
        table.to_owned()
    }

    /// The index that finds a record's history (and histories of a page of records).
    pub fn index(&self) -> IndexCreateStatement {
        let mut index = Index::create();
        index
            .if_not_exists()
            .name(format!("idx_{}_record", self.table))
            .table(self.table);
        for column in self.key {
            index.col(*column);
        }
        index.col(ID);
        index.to_owned()
    }

    /// The migration that adds [`HistoryTable::index`] to a table made before it.
    pub fn index_migration(self) -> Box<dyn sea_orm_migration::MigrationTrait> {
        Box::new(IndexMigration {
            name: format!("history_index_{}", self.table),
            table: self,
        })
    }

    /// Appends that the record `key` entered `status`, why and by whom;
    /// returns the change as written (a reply can show it without reading it back).
    pub async fn append(
        &self,
        db: &impl ConnectionTrait,
        key: &[&str],
        status: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<HistoryRow, DbErr> {
        let (row, change) = self.entry(key, status, reason, actor);
        db.execute(&InsertStatement::from(row)).await?;
        Ok(change)
    }

    /// [`HistoryTable::append`]'s row, to be written with others (a
    /// [`crate::db::Batch`]), and the change it records.
    pub fn entry(
        &self,
        key: &[&str],
        status: &str,
        reason: &str,
        actor: &Actor,
    ) -> (Rows, HistoryRow) {
        debug_assert_eq!(key.len(), self.key.len(), "{} key", self.table);
        let changed_at = crate::db::now();
        let mut columns: Vec<&'static str> = self.key.to_vec();
        columns.extend([STATUS, REASON, ACTOR_ID, ACTOR_KIND, TRACE_ID, CHANGED_AT]);
        let mut values: Vec<Expr> = key.iter().map(|v| Expr::val(*v)).collect();
        values.extend([
            Expr::val(status),
            Expr::val(reason),
            Expr::val(actor.id.as_str()),
            Expr::val(actor.kind.as_str_name()),
            Expr::val(actor.trace_id.as_str()),
            Expr::val(changed_at),
        ]);
        (
            Rows::new(self.table, columns, values),
            HistoryRow {
                key: key.iter().map(|k| (*k).to_owned()).collect(),
                status: status.to_owned(),
                reason: reason.to_owned(),
                actor: actor.clone(),
                changed_at,
            },
        )
    }

    /// The history of the record `key`, oldest first.
    pub async fn of(
        &self,
        db: &impl ConnectionTrait,
        key: &[&str],
    ) -> Result<Vec<HistoryRow>, DbErr> {
        let mut select = self.select();
        for (column, value) in self.key.iter().zip(key) {
            select.and_where(Expr::col(*column).eq(*value));
        }
        self.read(db, &select).await
    }

    /// The histories of several records of a one-column key, oldest first
    /// each, in one query (a page of a list).
    pub async fn of_many(
        &self,
        db: &impl ConnectionTrait,
        ids: &[String],
    ) -> Result<BTreeMap<String, Vec<HistoryRow>>, DbErr> {
        let mut histories: BTreeMap<String, Vec<HistoryRow>> = BTreeMap::new();
        if ids.is_empty() {
            return Ok(histories);
        }
        let mut select = self.select();
        select.and_where(Expr::col(self.key[0]).is_in(ids.iter().map(String::as_str)));
        for row in self.read(db, &select).await? {
            histories.entry(row.key[0].clone()).or_default().push(row);
        }
        Ok(histories)
    }

    fn select(&self) -> sea_orm::sea_query::SelectStatement {
        let mut columns: Vec<&'static str> = self.key.to_vec();
        columns.extend([STATUS, REASON, ACTOR_ID, ACTOR_KIND, TRACE_ID, CHANGED_AT]);
        Query::select()
            .columns(columns)
            .from(self.table)
            .order_by(ID, Order::Asc)
            .to_owned()
    }

    async fn read(
        &self,
        db: &impl ConnectionTrait,
        select: &sea_orm::sea_query::SelectStatement,
    ) -> Result<Vec<HistoryRow>, DbErr> {
        db.query_all(select)
            .await?
            .iter()
            .map(|row| self.row(row))
            .collect()
    }

    fn row(&self, row: &QueryResult) -> Result<HistoryRow, DbErr> {
        let text = |column: &str| row.try_get::<String>("", column);
        Ok(HistoryRow {
            key: self
                .key
                .iter()
                .map(|column| text(column))
                .collect::<Result<_, _>>()?,
            status: text(STATUS)?,
            reason: text(REASON)?,
            actor: Actor {
                id: text(ACTOR_ID)?,
                kind: ActorKind::from_str_name(&text(ACTOR_KIND)?).unwrap_or_default(),
                trace_id: text(TRACE_ID)?,
            },
            changed_at: row.try_get("", CHANGED_AT)?,
        })
    }
}

/// Adds a history table's index; named after the table, so each database
/// records it once.
struct IndexMigration {
    table: HistoryTable,
    name: String,
}

impl sea_orm_migration::MigrationName for IndexMigration {
    fn name(&self) -> &str {
        &self.name
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for IndexMigration {
    async fn up(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), DbErr> {
        manager.create_index(self.table.index()).await
    }

    async fn down(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(format!("idx_{}_record", self.table.table))
                    .table(self.table.table)
                    .to_owned(),
            )
            .await
    }
}

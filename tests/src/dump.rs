//! Every stored value of a service's database as text, for tests that search
//! what a copy of the database would reveal.

use ayushman_platform::{MeshService, db, testing::TestDatabase};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TryGetable};

/// The first column of every row `sql` reads, in the order read.
pub async fn first_column<T: TryGetable>(connection: &DatabaseConnection, sql: &str) -> Vec<T> {
    connection
        .query_all_raw(Statement::from_string(
            connection.get_database_backend(),
            sql,
        ))
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .iter()
        .map(|row| row.try_get_by_index(0).expect("the first column"))
        .collect()
}

/// One line per row of every table: `table: value | value | …`, text as
/// stored and binary values in hex (as `psql` and `sqlite3` show them).
pub async fn dump(service: MeshService, database: &TestDatabase) -> Vec<String> {
    let connection = db::connect(service, &database.settings)
        .await
        .expect("connect to the service's database");
    let backend = connection.get_database_backend();
    let tables_sql = match backend {
        DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    };
    let tables: Vec<String> = first_column(&connection, tables_sql).await;
    let mut lines = Vec::new();
    for table in tables {
        let row_sql = match backend {
            DatabaseBackend::Sqlite => {
                let columns: Vec<String> = first_column(
                    &connection,
                    &format!("SELECT name FROM pragma_table_info('{table}')"),
                )
                .await;
                let values: Vec<String> = columns
                    .iter()
                    .map(|c| format!("coalesce(quote(\"{c}\"), '')"))
                    .collect();
                format!("SELECT {} FROM \"{table}\"", values.join(" || ' | ' || "))
            }
            _ => format!("SELECT t::text FROM \"{table}\" t"),
        };
        for row in connection
            .query_all_raw(Statement::from_string(backend, row_sql))
            .await
            .expect("dump table")
        {
            let text: String = row.try_get_by_index(0).expect("row as text");
            lines.push(format!("{table}: {text}"));
        }
    }
    lines
}

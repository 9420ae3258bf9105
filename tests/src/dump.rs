//! Every stored value of a service's database as text, for tests that search
//! what a copy of the database would reveal.

use ayushman_platform::{MeshService, db, testing::TestDatabase};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

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
    let tables: Vec<String> = connection
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .expect("list tables")
        .iter()
        .map(|row| row.try_get_by_index(0).expect("table name"))
        .collect();
    let mut lines = Vec::new();
    for table in tables {
        let row_sql = match backend {
            DatabaseBackend::Sqlite => {
                let columns: Vec<String> = connection
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .expect("columns")
                    .iter()
                    .map(|row| row.try_get_by_index(0).expect("column name"))
                    .collect();
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

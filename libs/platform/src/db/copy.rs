//! Bulk inserts on PostgreSQL at `COPY` speed, skipping rows already
//! present (by any unique key) and counting them, as a multi-row
//! `INSERT … ON CONFLICT DO NOTHING` would, but without binding one
//! parameter per value.
//!
//! A batch is first copied straight into its table under a savepoint: a new
//! list (the usual import) costs one COPY. If a row collides, COPY stops
//! with a unique violation and nothing of that attempt stays; the batch then
//! goes into a temporary table shaped like the target and moves over in one
//! `INSERT … SELECT … ON CONFLICT DO NOTHING`.

use std::fmt::Write as _;

use sea_orm::{
    DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait, Value,
    sqlx::{self, AssertSqlSafe, PgConnection},
};

/// Inserts the `rows` of entity `E` that collide with no unique key of its
/// table; returns how many were inserted. `conn` must be in a transaction.
pub async fn insert_new<E>(conn: &mut PgConnection, rows: &[E::Model]) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E>,
{
    if rows.is_empty() {
        return Ok(0);
    }
    // Names come from the entity's definition, never from input.
    let table = E::default().table_name().to_owned();
    let columns = E::Column::iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut csv = String::with_capacity(rows.len() * 256);
    for row in rows {
        for (n, column) in E::Column::iter().enumerate() {
            if n > 0 {
                csv.push(',');
            }
            push_field(&mut csv, row.get(column))?;
        }
        csv.push('\n');
    }
    let failed = |e: sqlx::Error| DbErr::Custom(format!("copy into {table}: {e}"));
    execute(conn, "SAVEPOINT direct_copy".to_owned())
        .await
        .map_err(failed)?;
    match copy_in(conn, &table, &columns, &csv).await {
        Ok(copied) => {
            execute(conn, "RELEASE SAVEPOINT direct_copy".to_owned())
                .await
                .map_err(failed)?;
            return Ok(copied);
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            execute(conn, "ROLLBACK TO SAVEPOINT direct_copy".to_owned())
                .await
                .map_err(failed)?;
        }
        Err(e) => return Err(failed(e)),
    }
    let staging = format!("incoming_{table}");
    // ON COMMIT DROP cleans up after a failure; the DROP below lets the
    // same transaction copy again.
    execute(
        conn,
        format!(
            "CREATE TEMPORARY TABLE \"{staging}\" (LIKE \"{table}\" INCLUDING DEFAULTS) ON COMMIT DROP"
        ),
    )
    .await
    .map_err(failed)?;
    copy_in(conn, &staging, &columns, &csv)
        .await
        .map_err(failed)?;
    let inserted = execute(
        conn,
        format!(
            "INSERT INTO \"{table}\" ({columns}) SELECT {columns} FROM \"{staging}\" ON CONFLICT DO NOTHING"
        ),
    )
    .await
    .map_err(failed)?;
    execute(conn, format!("DROP TABLE \"{staging}\""))
        .await
        .map_err(failed)?;
    Ok(inserted)
}

/// Streams `csv` into `table`; the rows copied.
async fn copy_in(
    conn: &mut PgConnection,
    table: &str,
    columns: &str,
    csv: &str,
) -> Result<u64, sqlx::Error> {
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY \"{table}\" ({columns}) FROM STDIN (FORMAT csv)"
        ))
        .await?;
    copy.send(csv.as_bytes()).await?;
    copy.finish().await
}

/// Runs one statement made from the entity's names; the rows it touched.
async fn execute(conn: &mut PgConnection, statement: String) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(AssertSqlSafe(statement))
        .execute(conn)
        .await?
        .rows_affected())
}

/// One CSV field as PostgreSQL reads it: NULL is an unquoted empty field,
/// every value is quoted (so an empty string stays an empty string).
fn push_field(csv: &mut String, value: Value) -> Result<(), DbErr> {
    let quoted = |csv: &mut String, text: &str| {
        csv.push('"');
        csv.push_str(&text.replace('"', "\"\""));
        csv.push('"');
    };
    match value {
        Value::String(Some(text)) => quoted(csv, &text),
        Value::Bool(Some(b)) => csv.push_str(if b { "t" } else { "f" }),
        Value::Int(Some(n)) => write!(csv, "{n}").expect("writes to a String"),
        Value::BigInt(Some(n)) => write!(csv, "{n}").expect("writes to a String"),
        Value::ChronoDate(Some(date)) => write!(csv, "{date}").expect("writes to a String"),
        Value::ChronoDateTimeUtc(Some(at)) => {
            csv.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        }
        Value::String(None)
        | Value::Bool(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::ChronoDate(None)
        | Value::ChronoDateTimeUtc(None) => {}
        other => {
            return Err(DbErr::Custom(format!(
                "copy: no CSV form for a value of type {other:?}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: Value) -> String {
        let mut csv = String::new();
        push_field(&mut csv, value).expect("has a CSV form");
        csv
    }

    #[test]
    fn null_is_unquoted_and_an_empty_string_is_quoted() {
        assert_eq!(field(Value::String(None)), "");
        assert_eq!(field(Value::String(Some(String::new()))), "\"\"");
    }

    #[test]
    fn quotes_commas_and_newlines_survive() {
        assert_eq!(
            field(Value::String(Some("Ram \"Bhai\", Chapra\nBihar".into()))),
            "\"Ram \"\"Bhai\"\", Chapra\nBihar\""
        );
    }

    #[test]
    fn timestamps_keep_microseconds_in_utc() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-06T10:15:30.123456+05:30")
            .expect("a time")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            field(Value::ChronoDateTimeUtc(Some(at))),
            "2026-12-06T04:45:30.123456Z"
        );
    }
}

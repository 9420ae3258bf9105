//! Each service's own database (DESIGN §5, Database): a SQLite file under the
//! data folder by default (WAL, full sync: an acknowledged write survives a
//! crash), PostgreSQL when a `postgres://` URL is configured. Migrations run at
//! start, before the service reports SERVING.

mod batch;
pub mod copy;
pub mod idempotency;
mod writers;

pub use batch::{Batch, Guarded, Rows};
pub use writers::{WriteTransaction, begin_write, settle_writes};

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
};
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;

use crate::{config::DatabaseSettings, mesh::MeshService};

/// Opens the service's database and brings its schema up to date.
pub async fn connect_and_migrate<M: MigratorTrait>(
    service: MeshService,
    settings: &DatabaseSettings,
) -> Result<DatabaseConnection, DbErr> {
    let db = connect(service, settings).await?;
    M::up(&db, None).await?;
    Ok(db)
}

/// Opens the service's database without migrating it.
pub async fn connect(
    service: MeshService,
    settings: &DatabaseSettings,
) -> Result<DatabaseConnection, DbErr> {
    let url = match &settings.url {
        Some(url) => url.expose_secret().to_owned(),
        None => {
            std::fs::create_dir_all(&settings.data_dir).map_err(|error| {
                DbErr::Custom(format!(
                    "cannot create data folder {}: {error}",
                    settings.data_dir.display()
                ))
            })?;
            let file = settings.data_dir.join(format!("{}.db", service.name()));
            format!("sqlite://{}?mode=rwc", file.display())
        }
    };
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // A ping on every checkout is a round trip per statement (on SQLite,
        // two thread hand-offs): only a connection idle long enough to have
        // been dropped by the server or a firewall is tested first.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        // SQLite has one writer at a time: under a burst of writes a
        // transaction waits its turn rather than failing after sqlx's 5 s.
        .map_sqlx_sqlite_opts(|options| options.busy_timeout(Duration::from_secs(30)))
        .map_sqlx_postgres_opts(plain_on_loopback);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        // WAL lets readers run while one writer commits; it is a property of the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// `sslmode=prefer` (sqlx's default, as libpq's) asks for TLS and settles for
/// none; on the machine's own loopback, where no one can listen in, it
/// settles for none at once: TLS there costs an eighth of a preauth's CPU and
/// protects nothing. Any other mode, or any other host, is left as asked.
fn plain_on_loopback(
    options: sea_orm::sqlx::postgres::PgConnectOptions,
) -> sea_orm::sqlx::postgres::PgConnectOptions {
    use sea_orm::sqlx::postgres::PgSslMode;
    if is_loopback(options.get_host()) && matches!(options.get_ssl_mode(), PgSslMode::Prefer) {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    }
}

/// Whether `host` (a name or an address, IPv6 bracketed or not) is this machine's loopback.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The URL of `database` on the server `server_url` names: its last path
/// segment swapped, its parameters (`?sslmode=…`) kept; `None` when it has
/// no path to swap.
pub fn url_of_database(server_url: &str, database: &str) -> Option<String> {
    let (server, rest) = server_url.rsplit_once('/')?;
    let parameters = rest.find('?').map_or("", |at| &rest[at..]);
    Some(format!("{server}/{database}{parameters}"))
}

/// The current instant at the precision every backend keeps (microseconds), so a
/// reply built before a write equals one read back after it.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Inserts one row without `RETURNING`, which behaves the same on every backend.
pub async fn insert_one<A>(db: &impl ConnectionTrait, row: A) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    use sea_orm::EntityTrait;
    A::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Selects every column of `E` from the table aliased `alias`, named
/// `{alias}_{column}` as `FromQueryResult::from_query_result(row, "{alias}_")`
/// reads them: several entities from one joined statement, without declaring
/// relations between them.
pub fn select_prefixed<E: sea_orm::EntityTrait>(
    query: &mut sea_orm::sea_query::SelectStatement,
    alias: &str,
) {
    use sea_orm::{ColumnTrait, IdenStatic, Iterable, sea_query::Expr};
    for column in E::Column::iter() {
        query.expr_as(
            column.select_as(Expr::col((alias.to_owned(), column))),
            format!("{alias}_{}", column.as_str()),
        );
    }
}

/// Where a long run of bulk writes (an import) goes. On SQLite, a connection
/// of its own to the same file whose page cache holds `cache_mib`: an
/// import's inserts land all over its indexes, and once those outgrow the
/// pool's default cache (2 MiB) every insert re-reads pages from the file.
/// It waits for the same turn to write as the pool's writers, and closing it
/// frees the cache. On PostgreSQL, the pool itself: the server keeps the cache.
pub struct BulkWriter {
    db: DatabaseConnection,
    own_connection: bool,
}

impl BulkWriter {
    pub async fn open(db: &DatabaseConnection, cache_mib: u32) -> Result<Self, DbErr> {
        if db.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(Self {
                db: db.clone(),
                own_connection: false,
            });
        }
        let pool = db.get_sqlite_connection_pool();
        let options = pool
            .connect_options()
            .as_ref()
            .clone()
            // Negative: a size in KiB rather than in pages.
            .pragma("cache_size", format!("-{}", u64::from(cache_mib) * 1024));
        let own = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|error| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(error.into())))?;
        Ok(Self {
            db: sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(own),
            own_connection: true,
        })
    }

    /// Closes its own connection, if it has one, freeing its cache.
    pub async fn close(self) -> Result<(), DbErr> {
        if self.own_connection {
            self.db.close().await?;
        }
        Ok(())
    }
}

impl std::ops::Deref for BulkWriter {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Whether `error` means a unique key was taken (another request inserted
/// the same thing first).
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use std::mem::discriminant;

    use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};

    use super::{plain_on_loopback, url_of_database};

    /// Asserts the TLS mode each URL connects with (PgSslMode has no
    /// PartialEq; its variants carry nothing, so their discriminants say it).
    fn assert_modes(cases: &[(&str, PgSslMode)]) {
        for (url, expected) in cases {
            let mode =
                plain_on_loopback(url.parse::<PgConnectOptions>().expect(url)).get_ssl_mode();
            assert_eq!(
                discriminant(&mode),
                discriminant(expected),
                "{url}: {mode:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn a_loopback_server_is_reached_without_tls_unless_tls_is_required() {
        assert_modes(&[
            ("postgres://u@127.0.0.1/db", PgSslMode::Disable),
            ("postgres://u@localhost:5433/db", PgSslMode::Disable),
            ("postgres://u@[::1]/db", PgSslMode::Disable),
            (
                "postgres://u@127.0.0.1/db?sslmode=require",
                PgSslMode::Require,
            ),
        ]);
    }

    #[test]
    fn any_other_server_is_asked_for_tls_as_configured() {
        assert_modes(&[
            ("postgres://u@db.example.in/db", PgSslMode::Prefer),
            ("postgres://u@10.0.0.7/db", PgSslMode::Prefer),
            (
                "postgres://u@db.example.in/db?sslmode=verify-full",
                PgSslMode::VerifyFull,
            ),
        ]);
    }

    #[test]
    fn another_database_on_the_same_server_keeps_the_urls_parameters() {
        assert_eq!(
            url_of_database(
                "postgres://u@127.0.0.1:5432/test?sslmode=disable",
                "bench_1"
            )
            .as_deref(),
            Some("postgres://u@127.0.0.1:5432/bench_1?sslmode=disable")
        );
        assert_eq!(
            url_of_database("postgres://u@127.0.0.1:5432/test", "bench_1").as_deref(),
            Some("postgres://u@127.0.0.1:5432/bench_1")
        );
        assert_eq!(url_of_database("test", "bench_1"), None);
    }
}

//! Each service's own database (DESIGN §5, Database): a SQLite file under the
//! data folder by default (WAL, full sync: an acknowledged write survives a
//! crash), PostgreSQL when a `postgres://` URL is configured. Migrations run at
//! start, before the service reports SERVING.

pub mod idempotency;

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
        .sqlx_logging(false)
        // SQLite has one writer at a time: under a burst of writes a
        // transaction waits its turn rather than failing after sqlx's 5 s.
        .map_sqlx_sqlite_opts(|options| options.busy_timeout(Duration::from_secs(30)));
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        // WAL lets readers run while one writer commits; it is a property of the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
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

/// Starts a transaction that will write. On SQLite it takes the write lock at
/// BEGIN (IMMEDIATE): a deferred transaction that reads first and writes later
/// fails with SQLITE_BUSY when another writer got in between, and busy_timeout
/// cannot help there. PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Whether `error` means a unique key was taken (another request inserted
/// the same thing first).
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

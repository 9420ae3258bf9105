//! Migrations and the idempotency store on SQLite always, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (CI sets it). Each test gets a fresh database.

use ayushman_platform::{
    Caller, MeshService,
    caller::PartnerIdentity,
    db::{self, idempotency::Idempotency},
    testing,
};
use ayushman_proto::facility::v1::{GetFacilityRequest, RecordOpdRegistrationResponse};
use mesh_tests::dump::first_column;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use secrecy::ExposeSecret;
use tonic::Code;

fn partner(id: &str) -> Caller {
    Caller::Partner(PartnerIdentity {
        partner_id: id.into(),
        state_code: None,
        hfr_ids: Vec::new(),
        user: None,
    })
}

/// Keeps `registration_id` as the reply of `request` under `key`, as a
/// mutating RPC does, and returns the reply given.
async fn once(
    connection: &sea_orm::DatabaseConnection,
    idempotency: &Idempotency,
    caller: &Caller,
    key: &str,
    request: &GetFacilityRequest,
    registration_id: &str,
) -> Result<RecordOpdRegistrationResponse, tonic::Status> {
    let reply = RecordOpdRegistrationResponse {
        registration_id: registration_id.into(),
    };
    idempotency
        .keyed_as(caller, "RecordOpdRegistration", key, request)?
        .once(connection, |_| Box::pin(async move { Ok(reply) }))
        .await
        .map_err(tonic::Status::from)
}

#[tokio::test]
async fn every_service_migrates_a_fresh_database_on_every_backend() {
    for (service, migrate) in [
        (
            MeshService::BeneficiaryRegistry,
            migrate_beneficiary as fn(_, _) -> _,
        ),
        (MeshService::FacilityRegistry, migrate_facility),
        (MeshService::Portability, migrate_portability),
    ] {
        // Database per service, as deployed: a fresh one for each.
        for database in testing::all_databases().await {
            let connection = migrate(service, database.settings.clone()).await;
            once(
                &connection,
                &database.settings.idempotency(),
                &Caller::Mesh,
                "k",
                &GetFacilityRequest::default(),
                "OPD-1",
            )
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{service} on {}: idempotency table missing after migration: {e}",
                    database.backend
                )
            });
        }
    }
}

type Migrated = std::pin::Pin<Box<dyn Future<Output = sea_orm::DatabaseConnection>>>;

fn migrate_beneficiary(
    service: MeshService,
    settings: ayushman_platform::config::DatabaseSettings,
) -> Migrated {
    Box::pin(async move {
        db::connect_and_migrate::<beneficiary_registry::store::Migrator>(service, &settings)
            .await
            .expect("migrate")
    })
}

fn migrate_facility(
    service: MeshService,
    settings: ayushman_platform::config::DatabaseSettings,
) -> Migrated {
    Box::pin(async move {
        db::connect_and_migrate::<facility_registry::store::Migrator>(service, &settings)
            .await
            .expect("migrate")
    })
}

fn migrate_portability(
    service: MeshService,
    settings: ayushman_platform::config::DatabaseSettings,
) -> Migrated {
    Box::pin(async move {
        db::connect_and_migrate::<portability::store::Migrator>(service, &settings)
            .await
            .expect("migrate")
    })
}

#[tokio::test]
async fn migrating_twice_is_harmless() {
    for database in testing::all_databases().await {
        let service = MeshService::FacilityRegistry;
        migrate_facility(service, database.settings.clone()).await;
        migrate_facility(service, database.settings.clone()).await;
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_reply_and_refuses_a_different_request() {
    for database in testing::all_databases().await {
        let connection =
            migrate_facility(MeshService::FacilityRegistry, database.settings.clone()).await;
        let idempotency = database.settings.idempotency();
        let request = GetFacilityRequest {
            hfr_id: "IN2210000123".into(),
        };
        let other = GetFacilityRequest {
            hfr_id: "IN2210000124".into(),
        };
        let his = partner("PTN-HIS");
        let first = once(&connection, &idempotency, &his, "key-1", &request, "OPD-42").await;
        assert_eq!(first.expect("first").registration_id, "OPD-42");
        let replay = once(&connection, &idempotency, &his, "key-1", &request, "OPD-43").await;
        assert_eq!(
            replay.expect("replay").registration_id,
            "OPD-42",
            "{}: the first reply, not a second effect",
            database.backend
        );
        let conflict = once(&connection, &idempotency, &his, "key-1", &other, "OPD-44").await;
        assert_eq!(
            conflict.expect_err("conflict").code(),
            Code::AlreadyExists,
            "{}",
            database.backend
        );
        let tpa = once(
            &connection,
            &idempotency,
            &partner("PTN-TPA"),
            "key-1",
            &other,
            "OPD-45",
        )
        .await;
        assert_eq!(
            tpa.expect("another partner's key").registration_id,
            "OPD-45",
            "{}: another partner's key of the same name is its own",
            database.backend
        );
    }
}

#[tokio::test]
async fn a_postgres_server_on_loopback_is_spoken_to_without_tls() {
    let Some(database) = testing::postgres().await else {
        return;
    };
    let url = database.settings.url.as_ref().expect("a PostgreSQL URL");
    let server: sea_orm::sqlx::postgres::PgConnectOptions =
        url.expose_secret().parse().expect("a PostgreSQL URL");
    if !db::is_loopback(server.get_host()) {
        return;
    }
    let connection = db::connect(MeshService::FacilityRegistry, &database.settings)
        .await
        .expect("connect");
    let row = connection
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .expect("pg_stat_ssl")
        .expect("this connection's row");
    let tls: bool = row.try_get_by_index(0).expect("ssl");
    assert!(!tls, "a loopback connection negotiated TLS");
}

#[tokio::test]
async fn the_default_sqlite_file_is_in_wal_mode() {
    let database = testing::sqlite();
    let connection =
        migrate_facility(MeshService::FacilityRegistry, database.settings.clone()).await;
    let mode: String = sqlite_pragma(&connection, "journal_mode").await;
    assert_eq!(mode, "wal");
    assert!(
        database
            .settings
            .data_dir
            .join("facility-registry.db")
            .exists()
    );
}

/// The first column of the one row `sql` answers on SQLite.
async fn sqlite_value<T: sea_orm::TryGetable>(db: &impl ConnectionTrait, sql: &str) -> T {
    db.query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
        .await
        .expect(sql)
        .expect("one row")
        .try_get_by_index(0)
        .expect(sql)
}

/// The value of SQLite's `PRAGMA name` on the connection `db` hands out next.
async fn sqlite_pragma<T: sea_orm::TryGetable>(db: &impl ConnectionTrait, name: &str) -> T {
    sqlite_value(db, &format!("PRAGMA {name}")).await
}

#[tokio::test]
async fn a_bulk_writer_on_sqlite_has_its_own_cache_and_waits_its_turn_to_write() {
    let database = testing::sqlite();
    let pool = migrate_facility(MeshService::FacilityRegistry, database.settings.clone()).await;
    let bulk = db::BulkWriter::open(&pool, 8).await.expect("bulk writer");
    // Negative: KiB rather than pages.
    assert_eq!(sqlite_pragma::<i64>(&*bulk, "cache_size").await, -8 * 1024);
    assert_eq!(
        sqlite_pragma::<i64>(&pool, "cache_size").await,
        -2_000,
        "the pool keeps SQLite's default"
    );

    let first = db::begin_write(&pool).await.expect("the pool writes first");
    let bulk_connection = (*bulk).clone();
    let mut second = tokio::spawn(async move {
        let txn = db::begin_write(&bulk_connection).await?;
        txn.commit().await
    });
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(200), &mut second)
            .await
            .is_err(),
        "the bulk writer waits while the pool's writer holds the turn"
    );
    first.commit().await.expect("commit");
    second
        .await
        .expect("the bulk writer's turn comes")
        .expect("commit");
    bulk.close().await.expect("close");
}

/// A SQLite pool on `database`'s file, with a table `counted (n UNIQUE)`.
async fn sqlite_with_counted(database: &testing::TestDatabase) -> sea_orm::DatabaseConnection {
    let pool = db::connect(MeshService::FacilityRegistry, &database.settings)
        .await
        .expect("connect");
    pool.execute_unprepared("CREATE TABLE counted (n INTEGER NOT NULL UNIQUE)")
        .await
        .expect("create table");
    pool
}

/// A SQLite pool of one connection with a table `counted (n UNIQUE)`.
async fn sqlite_with_one_connection() -> (testing::TestDatabase, sea_orm::DatabaseConnection) {
    let mut database = testing::sqlite();
    database.settings.max_connections = 1;
    let pool = sqlite_with_counted(&database).await;
    (database, pool)
}

/// A SELECT runs on the caller's thread only for a couple of milliseconds
/// (third_party/sqlx-sqlite); one that takes longer is stopped and run again
/// by the connection's worker thread.
#[tokio::test]
async fn a_long_read_on_sqlite_is_answered_whole_and_its_write_transaction_goes_on() {
    let (_database, pool) = sqlite_with_one_connection().await;
    let txn = db::begin_write(&pool).await.expect("begin");
    txn.execute_unprepared("INSERT INTO counted VALUES (1)")
        .await
        .expect("first insert");
    let counted = sqlite_value::<i64>(
        &txn,
        "WITH RECURSIVE up(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM up WHERE n < 2000000) \
         SELECT count(*) + (SELECT sum(n) FROM counted) FROM up",
    )
    .await;
    assert_eq!(counted, 2_000_001, "two million rows and the row written");
    txn.execute_unprepared("INSERT INTO counted VALUES (2)")
        .await
        .expect("second insert");
    txn.commit().await.expect("commit");
    assert_eq!(
        sqlite_value::<i64>(&pool, "SELECT sum(n) FROM counted").await,
        3
    );
}

/// A statement run on the caller's thread never overtakes one already handed
/// to the worker: here the rollback a dropped transaction leaves queued.
#[tokio::test]
async fn a_read_on_sqlite_never_overtakes_the_rollback_of_a_dropped_transaction() {
    let (_database, pool) = sqlite_with_one_connection().await;
    for attempt in 0..50 {
        let txn = db::begin_write(&pool).await.expect("begin");
        txn.execute_unprepared("INSERT INTO counted VALUES (1)")
            .await
            .expect("insert");
        drop(txn);
        assert_eq!(
            sqlite_value::<i64>(&pool, "SELECT count(*) FROM counted").await,
            0,
            "attempt {attempt}: the dropped transaction's row is gone"
        );
    }
}

#[tokio::test]
async fn a_hospitals_daily_counts_survive_the_move_to_shards_and_back() {
    use preauth::store::{
        Migrator,
        queries::{Admission, fraud_facts},
    };
    use sea_orm_migration::MigratorTrait;

    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).expect("date");
    for database in testing::all_databases().await {
        let connection = db::connect(MeshService::Preauth, &database.settings)
            .await
            .expect("connect");
        // The idempotency table and m0001 to m0005: one row per hospital and day.
        Migrator::up(&connection, Some(6))
            .await
            .expect("migrate to m0005");
        connection
            .execute_unprepared(
                "INSERT INTO facility_days (hfr_id, admission_date, preauths) VALUES \
                 ('IN2210000001', '2026-12-06', 7), ('IN2210000001', '2026-12-01', 40), \
                 ('IN2210000002', '2026-12-06', 3)",
            )
            .await
            .expect("counts as m0005 kept them");

        Migrator::up(&connection, None).await.expect("migrate");
        let admission = Admission {
            preauth_id: "PA-1",
            beneficiary_id: "BEN-1",
            hfr_id: "IN2210000001",
            day,
        };
        let facts = fraud_facts(&connection, admission, &[], 30)
            .await
            .expect("volume");
        assert_eq!(
            (facts.on_day, facts.before),
            (7, 40),
            "{}",
            database.backend
        );

        Migrator::down(&connection, Some(1))
            .await
            .expect("undo m0006");
        let rows = connection
            .query_all_raw(Statement::from_string(
                connection.get_database_backend(),
                "SELECT hfr_id, preauths FROM facility_days ORDER BY hfr_id, admission_date",
            ))
            .await
            .expect("counts back in one row per day");
        let counts: Vec<(String, i64)> = rows
            .iter()
            .map(|row| {
                (
                    row.try_get("", "hfr_id").expect("hfr_id"),
                    row.try_get("", "preauths").expect("preauths"),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                ("IN2210000001".to_owned(), 40),
                ("IN2210000001".to_owned(), 7),
                ("IN2210000002".to_owned(), 3),
            ],
            "{}",
            database.backend
        );
    }
}

/// A SQLite file with a table `counted (n UNIQUE)`: the services' pool, and
/// a pool of its own that sees only what was committed.
async fn sqlite_with_a_reader() -> (
    testing::TestDatabase,
    sea_orm::DatabaseConnection,
    sea_orm::DatabaseConnection,
) {
    let database = testing::sqlite();
    let pool = sqlite_with_counted(&database).await;
    let reader = db::connect(MeshService::FacilityRegistry, &database.settings)
        .await
        .expect("connect a reader");
    (database, pool, reader)
}

/// Starts a writer in a task of its own that inserts `n` into `counted`,
/// then commits when `commits`, or fails (is dropped) when not.
fn spawn_writer(
    pool: &sea_orm::DatabaseConnection,
    n: i64,
    commits: bool,
) -> tokio::task::JoinHandle<Result<(), sea_orm::DbErr>> {
    let pool = pool.clone();
    tokio::spawn(async move {
        let txn = db::begin_write(&pool).await?;
        txn.execute_unprepared(&format!("INSERT INTO counted VALUES ({n})"))
            .await?;
        if commits {
            txn.commit().await
        } else {
            Err(sea_orm::DbErr::Custom("this writer fails".into()))
        }
    })
}

/// The numbers in `counted`, in order, as `db` sees them.
async fn counted(db: &sea_orm::DatabaseConnection) -> Vec<i64> {
    first_column(db, "SELECT n FROM counted ORDER BY n").await
}

/// A writer that has inserted `n` into `counted` and holds the turn.
async fn writer_holding_the_turn(
    pool: &sea_orm::DatabaseConnection,
    n: i64,
) -> db::WriteTransaction {
    let txn = db::begin_write(pool).await.expect("begin");
    txn.execute_unprepared(&format!("INSERT INTO counted VALUES ({n})"))
        .await
        .expect("insert");
    txn
}

/// Lets spawned writers reach the line for the turn.
async fn let_writers_queue() {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writers_waiting_in_line_are_made_durable_by_the_first_ones_commit() {
    let (_database, pool, reader) = sqlite_with_a_reader().await;
    let first = writer_holding_the_turn(&pool, 1).await;
    let waiting: Vec<_> = (2..=5).map(|n| spawn_writer(&pool, n, true)).collect();
    let_writers_queue().await;
    assert_eq!(
        counted(&reader).await,
        Vec::<i64>::new(),
        "nothing committed yet"
    );

    first.commit().await.expect("commit");
    assert_eq!(
        counted(&reader).await,
        vec![1, 2, 3, 4, 5],
        "the writers that were waiting joined the first one's commit"
    );
    for writer in waiting {
        writer.await.expect("writer task").expect("commit");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_writer_that_fails_in_a_shared_commit_rolls_back_alone() {
    let (_database, pool, reader) = sqlite_with_a_reader().await;
    let first = writer_holding_the_turn(&pool, 1).await;
    let failing = spawn_writer(&pool, 2, false);
    let_writers_queue().await;
    let after = spawn_writer(&pool, 3, true);
    let_writers_queue().await;

    first.commit().await.expect("commit");
    failing
        .await
        .expect("writer task")
        .expect_err("the second writer fails");
    after.await.expect("writer task").expect("commit");
    assert_eq!(counted(&reader).await, vec![1, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_writer_that_met_a_concurrent_writers_row_reads_it_back_once_writes_settle() {
    let (_database, pool, reader) = sqlite_with_a_reader().await;
    let first = writer_holding_the_turn(&pool, 7).await;
    let first_commits = tokio::spawn(first.commit());
    let duplicate = db::begin_write(&pool).await.expect("begin");
    let met = duplicate
        .execute_unprepared("INSERT INTO counted VALUES (7)")
        .await
        .expect_err("the first writer's row is there");
    assert!(db::is_unique_violation(&met), "{met}");
    drop(duplicate);

    db::settle_writes(&pool).await.expect("settle");
    assert_eq!(counted(&reader).await, vec![7]);
    first_commits.await.expect("task").expect("commit");
}

/// A pool on `database`, after running `statements` on it.
async fn connected_after(
    database: &testing::TestDatabase,
    statements: &[&str],
) -> sea_orm::DatabaseConnection {
    let pool = db::connect(MeshService::FacilityRegistry, &database.settings)
        .await
        .expect("connect");
    for statement in statements {
        pool.execute_unprepared(statement).await.expect("arrange");
    }
    pool
}

/// An insert into `table` of one row of text values.
fn insert_into(table: &str, values: &[&str]) -> sea_orm::sea_query::InsertStatement {
    use sea_orm::sea_query::{Alias, Expr, Query};
    let columns: Vec<Alias> = ["id", "parent_id"][..values.len()]
        .iter()
        .map(|c| Alias::new(*c))
        .collect();
    Query::insert()
        .into_table(Alias::new(table))
        .columns(columns)
        .values(values.iter().map(|v| Expr::val(*v)))
        .expect("as many values as columns")
        .to_owned()
}

/// The ids in `table`, in order.
async fn ids_in(db: &sea_orm::DatabaseConnection, table: &str) -> Vec<String> {
    first_column(db, &format!("SELECT id FROM {table} ORDER BY id")).await
}

#[tokio::test]
async fn a_batch_commits_all_its_inserts_or_none_on_every_backend() {
    for database in testing::all_databases().await {
        let backend = database.backend;
        let pool = connected_after(
            &database,
            &[
                "CREATE TABLE parent (id TEXT PRIMARY KEY)",
                "CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id))",
            ],
        )
        .await;
        let mut first = db::Batch::new();
        first
            .insert(insert_into("parent", &["p1"]))
            .insert(insert_into("child", &["c1", "p1"]))
            .insert(insert_into("child", &["c2", "p1"]));
        first
            .commit(&pool)
            .await
            .expect("a batch whose inserts fit");
        assert_eq!(ids_in(&pool, "child").await, ["c1", "c2"], "{backend}");

        let mut second = db::Batch::new();
        second
            .insert(insert_into("parent", &["p2"]))
            .insert(insert_into("child", &["c3", "p2"]))
            .insert(insert_into("child", &["c1", "p2"]));
        let error = second.commit(&pool).await.expect_err("c1 is taken");
        assert!(db::is_unique_violation(&error), "{backend}: {error}");
        assert_eq!(
            ids_in(&pool, "parent").await,
            ["p1"],
            "{backend}: none of the batch"
        );
        assert_eq!(ids_in(&pool, "child").await, ["c1", "c2"], "{backend}");
    }
}

#[tokio::test]
async fn a_batch_reads_the_database_as_it_was_before_its_inserts_on_every_backend() {
    use sea_orm::sea_query::{Alias, Expr, Func, Query};
    for database in testing::all_databases().await {
        let backend = database.backend;
        let pool = connected_after(
            &database,
            &[
                "CREATE TABLE parent (id TEXT PRIMARY KEY)",
                "INSERT INTO parent VALUES ('p1')",
            ],
        )
        .await;
        let parents = Query::select()
            .expr_as(
                Func::count(Expr::col(Alias::new("id"))),
                Alias::new("parents"),
            )
            .from(Alias::new("parent"))
            .to_owned();
        let mut batch = db::Batch::new();
        batch
            .insert(insert_into("parent", &["p2"]))
            .insert(insert_into("parent", &["p3"]));
        let rows = batch
            .commit_reading(&pool, parents.clone())
            .await
            .expect("a batch whose inserts fit");
        let counted: Vec<i64> = rows
            .iter()
            .map(|row| row.try_get("", "parents").expect("parents"))
            .collect();
        assert_eq!(counted, [1], "{backend}: the read saw only p1");
        assert_eq!(
            ids_in(&pool, "parent").await,
            ["p1", "p2", "p3"],
            "{backend}"
        );

        let mut taken = db::Batch::new();
        taken.insert(insert_into("parent", &["p1"]));
        let error = taken
            .commit_reading(&pool, parents)
            .await
            .expect_err("p1 is taken");
        assert!(db::is_unique_violation(&error), "{backend}: {error}");
    }
}

#[derive(Debug, PartialEq, sea_orm::FromQueryResult)]
struct Record {
    id: String,
    status: String,
}

/// A guarded write closing record `r1` if it is still open, with a note `note`.
fn close_r1_noting(note: &str) -> db::Guarded {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let mut close = db::Guarded::new(
        Query::update()
            .table(Alias::new("record"))
            .value(Alias::new("status"), "closed")
            .and_where(Expr::col(Alias::new("id")).eq("r1"))
            .and_where(Expr::col(Alias::new("status")).eq("open"))
            .to_owned(),
    );
    close.insert(db::Rows::new(
        Alias::new("child"),
        [Alias::new("id"), Alias::new("parent_id")],
        [Expr::val(note), Expr::val("r1")],
    ));
    close
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_ten_guarded_writes_at_once_one_changes_the_record_and_only_its_rows_are_written() {
    for database in testing::all_databases().await {
        let backend = database.backend;
        let pool = connected_after(
            &database,
            &[
                "CREATE TABLE record (id TEXT PRIMARY KEY, status TEXT NOT NULL)",
                "CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES record (id))",
                "INSERT INTO record VALUES ('r1', 'open')",
            ],
        )
        .await;
        let writers: Vec<_> = (0..10)
            .map(|n| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    close_r1_noting(&format!("note-{n}"))
                        .commit::<Record>(&pool)
                        .await
                })
            })
            .collect();
        let mut changed = Vec::new();
        for writer in writers {
            changed.extend(writer.await.expect("join").expect("commit"));
        }
        assert_eq!(
            changed,
            [Record {
                id: "r1".into(),
                status: "closed".into()
            }],
            "{backend}: one write found the record open"
        );
        assert_eq!(
            ids_in(&pool, "child").await.len(),
            1,
            "{backend}: its note alone"
        );
        let late = close_r1_noting("late").commit::<Record>(&pool).await;
        assert_eq!(late.expect("commit"), None, "{backend}");
        assert_eq!(ids_in(&pool, "child").await.len(), 1, "{backend}");
    }
}

//! Migrations and the idempotency store on SQLite always, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (CI sets it). Each test gets a fresh database.

use ayushman_platform::{
    MeshService,
    db::{
        self,
        idempotency::{self, Recall},
    },
    testing,
};
use ayushman_proto::facility::v1::{GetFacilityRequest, RecordOpdRegistrationResponse};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

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
            let reply = RecordOpdRegistrationResponse {
                registration_id: "OPD-1".into(),
            };
            idempotency::remember(&connection, "probe", "k", "f", &reply)
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
        let request = GetFacilityRequest {
            hfr_id: "IN2210000123".into(),
        };
        let other = GetFacilityRequest {
            hfr_id: "IN2210000124".into(),
        };
        let reply = RecordOpdRegistrationResponse {
            registration_id: "OPD-42".into(),
        };
        let scope = "RecordOpdRegistration";

        let fingerprint = idempotency::fingerprint(&request);
        assert_eq!(
            idempotency::recall(&connection, scope, "key-1", &fingerprint)
                .await
                .expect("recall"),
            Recall::New
        );
        idempotency::remember(&connection, scope, "key-1", &fingerprint, &reply)
            .await
            .expect("remember");

        let replay = idempotency::recall(&connection, scope, "key-1", &fingerprint)
            .await
            .expect("recall");
        assert_eq!(
            replay,
            Recall::Replay(prost::Message::encode_to_vec(&reply)),
            "{}",
            database.backend
        );
        let conflict = idempotency::recall(
            &connection,
            scope,
            "key-1",
            &idempotency::fingerprint(&other),
        )
        .await;
        assert_eq!(
            conflict.expect("recall"),
            Recall::Conflict,
            "{}",
            database.backend
        );
        let other_scope =
            idempotency::recall(&connection, "IssueCard", "key-1", &fingerprint).await;
        assert_eq!(
            other_scope.expect("recall"),
            Recall::New,
            "{}",
            database.backend
        );
    }
}

#[tokio::test]
async fn the_default_sqlite_file_is_in_wal_mode() {
    let database = testing::sqlite();
    let connection =
        migrate_facility(MeshService::FacilityRegistry, database.settings.clone()).await;
    let row = connection
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await
        .expect("pragma")
        .expect("one row");
    let mode: String = row.try_get_by_index(0).expect("journal mode");
    assert_eq!(mode, "wal");
    assert!(
        database
            .settings
            .data_dir
            .join("facility-registry.db")
            .exists()
    );
}

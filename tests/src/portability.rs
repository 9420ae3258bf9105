//! Typed helpers for tests of the portability service, which needs a real
//! facility registry beside it.

use ayushman_platform::{MeshService, client, config::ClientSettings, db, testing};
use ayushman_proto::{
    common::v1::{Location, Ownership},
    facility::v1 as facility_pb,
    google::r#type::Date,
    portability::v1::{self as pb, portability_service_client::PortabilityServiceClient},
};
use tonic::transport::Channel;

use crate::facility::{self, FacilityRegistry};

/// A portability service and the facility registry it asks, each on its own database.
pub struct Mesh {
    /// The facility registry.
    pub facilities: FacilityRegistry,
    /// The portability service.
    pub server: testing::RunningServer,
    /// A client of the portability service.
    pub client: PortabilityServiceClient<Channel>,
    _databases: (testing::TestDatabase, testing::TestDatabase),
}

/// Starts both services on fresh databases of `backend` ("sqlite" or "postgres").
pub async fn spawn(backend: &str) -> Mesh {
    let (facility_db, portability_db) = (
        testing::database(backend).await,
        testing::database(backend).await,
    );
    let facilities = facility::spawn(&facility_db).await;
    let connection = db::connect_and_migrate::<portability::store::Migrator>(
        MeshService::Portability,
        &portability_db.settings,
    )
    .await
    .expect("migrate portability");
    let client_settings = ClientSettings {
        deadline_ms: 2_000,
        connect_timeout_ms: 500,
    };
    let channel =
        client::channel(&facilities.server.url(), &client_settings).expect("facility channel");
    let state = portability::AppState {
        db: connection,
        idempotency: portability_db.settings.idempotency(),
        facilities: portability::facility::FacilityDirectory::new(channel),
        max_message_bytes: 4 * 1024 * 1024,
    };
    let server = testing::spawn(MeshService::Portability, portability::router(state)).await;
    let client = PortabilityServiceClient::new(crate::connect(&server.url()).await);
    Mesh {
        facilities,
        server,
        client,
        _databases: (facility_db, portability_db),
    }
}

/// The backends this run covers: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<&'static str> {
    let mut backends = vec!["sqlite"];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        backends.push("postgres");
    }
    backends
}

/// A private cardiac hospital in Ahmedabad, Gujarat, empanelled under PM-JAY.
pub fn ahmedabad_heart_hospital() -> facility_pb::Facility {
    facility_pb::Facility {
        hfr_id: "IN2410000077".into(),
        name: "Sabarmati Heart Hospital".into(),
        facility_type: facility_pb::FacilityType::PrivateHospital as i32,
        ownership: Ownership::Private as i32,
        location: Some(Location {
            state_code: "24".into(),
            district_code: "24-438".into(),
            ..Default::default()
        }),
        beds: 120,
        abdm_enabled: true,
        ..Default::default()
    }
}

/// Rajasthan MAA outbound portability to every state, treating-state rates,
/// hospitals qualified by their PM-JAY empanelment.
pub fn maa_outbound(status: pb::AgreementStatus) -> pb::Agreement {
    pb::Agreement {
        agreement_id: "AGR-RJ-MAA-OUT".into(),
        home_scheme_code: "RJ-MAA".into(),
        home_state_code: "08".into(),
        all_states: true,
        effective_from: Some(Date {
            year: 2025,
            month: 1,
            day: 1,
        }),
        effective_until: Some(Date {
            year: 2027,
            month: 3,
            day: 31,
        }),
        rate_rule: pb::RateRule::TreatingState as i32,
        payer_scheme_code: "RJ-MAA".into(),
        empanelment_scheme_code: "PMJAY".into(),
        status: status as i32,
        ..Default::default()
    }
}

impl Mesh {
    /// Creates an agreement under a key derived from its id.
    pub async fn agree(&mut self, agreement: pb::Agreement) -> pb::Agreement {
        let key = format!("create-{}", agreement.agreement_id);
        self.client
            .create_agreement(pb::CreateAgreementRequest {
                idempotency_key: key,
                agreement: Some(agreement),
            })
            .await
            .expect("create agreement")
            .into_inner()
            .agreement
            .expect("agreement in reply")
    }

    /// Routes a cardiology case on 2025-06-01.
    pub async fn route(
        &mut self,
        home_state: &str,
        scheme: &str,
        hfr_id: &str,
    ) -> Result<pb::RouteCaseResponse, tonic::Status> {
        self.client
            .route_case(pb::RouteCaseRequest {
                home_state_code: home_state.into(),
                scheme_code: scheme.into(),
                hfr_id: hfr_id.into(),
                specialty_code: "CARDIOLOGY".into(),
                treatment_date: Some(Date {
                    year: 2025,
                    month: 6,
                    day: 1,
                }),
                treating_hpr_id: String::new(),
            })
            .await
            .map(tonic::Response::into_inner)
    }
}

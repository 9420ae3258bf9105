//! Typed helpers for tests that need a facility registry and its records.

use std::sync::Arc;

use ayushman_platform::{MeshService, db, testing};
use ayushman_proto::{
    common::v1::{Location, Ownership},
    facility::v1::{self as pb, facility_registry_service_client::FacilityRegistryServiceClient},
    google::r#type::Date,
};
use tonic::transport::Channel;

/// How many OPD registrations `hfr_id` recorded in one month of `year`.
pub async fn opd_registrations_in_month(
    client: &mut FacilityRegistryServiceClient<Channel>,
    hfr_id: &str,
    year: i32,
    month: i32,
) -> i64 {
    let month = ayushman_proto::common::v1::YearMonth { year, month };
    client
        .opd_registration_report(pb::OpdRegistrationReportRequest {
            hfr_id: hfr_id.into(),
            from_month: Some(month),
            to_month: Some(month),
            ..Default::default()
        })
        .await
        .expect("OPD report")
        .into_inner()
        .total
        .expect("report total")
        .total
}

/// A facility registry served in-process on its own database.
pub struct FacilityRegistry {
    /// The running server.
    pub server: testing::RunningServer,
    /// A client connected to it.
    pub client: FacilityRegistryServiceClient<Channel>,
}

/// An HFR id the tests' stand-in of ABDM does not know.
pub const UNKNOWN_HFR: &str = "IN2299999999";
/// An HPR id the tests' stand-in of ABDM does not know.
pub const UNKNOWN_HPR: &str = "71-9999-9999-9999";
/// An ABHA number the tests' stand-in of ABDM does not know.
pub const UNKNOWN_ABHA: &str = "91-9999-9999-9999";

/// Starts a facility registry on `database`, its ABDM the offline stand-in
/// (knowing every id but [`UNKNOWN_HFR`] and [`UNKNOWN_HPR`]).
pub async fn spawn(database: &testing::TestDatabase) -> FacilityRegistry {
    spawn_with_abdm(
        database,
        Arc::new(ayushman_abdm::OfflineRegistries::new(vec![
            UNKNOWN_HFR.into(),
            UNKNOWN_HPR.into(),
        ])),
    )
    .await
}

/// Like [`spawn`], asking `abdm` (e.g. the HTTP client against a test server).
pub async fn spawn_with_abdm(
    database: &testing::TestDatabase,
    abdm: Arc<dyn ayushman_abdm::Registries>,
) -> FacilityRegistry {
    let _telemetry =
        ayushman_platform::telemetry::init("facility-test", &testing::test_telemetry());
    let connection = db::connect_and_migrate::<facility_registry::store::Migrator>(
        MeshService::FacilityRegistry,
        &database.settings,
    )
    .await
    .expect("migrate facility registry");
    let state = facility_registry::AppState {
        db: connection,
        idempotency: database.settings.idempotency(),
        abdm,
        max_message_bytes: 4 * 1024 * 1024,
    };
    let server = testing::spawn(
        MeshService::FacilityRegistry,
        facility_registry::router(state),
    )
    .await;
    let client = FacilityRegistryServiceClient::new(crate::connect(&server.url()).await);
    FacilityRegistry { server, client }
}

/// A calendar date.
pub fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

/// A public district hospital in Bastar (Chhattisgarh) with its society.
pub fn bastar_district_hospital() -> pb::Facility {
    pb::Facility {
        hfr_id: "IN2210000001".into(),
        name: "Maharani District Hospital, Jagdalpur".into(),
        facility_type: pb::FacilityType::DistrictHospital as i32,
        ownership: Ownership::Public as i32,
        location: Some(Location {
            state_code: "22".into(),
            district_code: "22-414".into(),
            block_code: "22-414-2201".into(),
            village_code: String::new(),
        }),
        beds: 400,
        abdm_enabled: true,
        society_name: "Jeevandeep Samiti, DH Jagdalpur".into(),
        society_account_id: "JDS-BASTAR-01".into(),
        ..Default::default()
    }
}

/// A private hospital in Jaipur (Rajasthan).
pub fn jaipur_private_hospital() -> pb::Facility {
    pb::Facility {
        hfr_id: "IN0810000042".into(),
        name: "Pink City Heart Institute".into(),
        facility_type: pb::FacilityType::PrivateHospital as i32,
        ownership: Ownership::Private as i32,
        location: Some(Location {
            state_code: "08".into(),
            district_code: "08-110".into(),
            ..Default::default()
        }),
        beds: 150,
        abdm_enabled: true,
        ..Default::default()
    }
}

/// A cardiologist's registration.
pub fn cardiologist() -> pb::Professional {
    pb::Professional {
        hpr_check: None,
        hpr_id: "71-4324-5678-1234".into(),
        name: "Dr. Anjali Verma".into(),
        council: "Chhattisgarh Medical Council".into(),
        registration_number: "CGMC-2011-4471".into(),
        system_of_medicine: pb::SystemOfMedicine::Modern as i32,
        qualifications: vec!["MBBS".into(), "DM (Cardiology)".into()],
        specialty_codes: vec!["CARDIOLOGY".into()],
        links: Vec::new(),
    }
}

impl FacilityRegistry {
    /// Registers `facility` under a fresh idempotency key.
    pub async fn register(&mut self, facility: pb::Facility) -> pb::Facility {
        let key = format!("register-{}", facility.hfr_id);
        self.client
            .register_facility(pb::RegisterFacilityRequest {
                idempotency_key: key,
                facility: Some(facility),
            })
            .await
            .expect("register facility")
            .into_inner()
            .facility
            .expect("facility in reply")
    }

    /// Empanels `hfr_id` under PM-JAY from 2024-04-01 for the given specialties (open-ended).
    pub async fn empanel(&mut self, hfr_id: &str, specialties: &[&str]) -> pb::Empanelment {
        let empanelment = pb::Empanelment {
            hfr_id: hfr_id.into(),
            scheme_code: "PMJAY".into(),
            specialties: specialties
                .iter()
                .map(|code| pb::EmpanelledSpecialty {
                    specialty_code: (*code).into(),
                    effective_from: Some(date(2024, 4, 1)),
                    effective_until: None,
                })
                .collect(),
            status: pb::EmpanelmentStatus::Empanelled as i32,
            accreditation_level: pb::AccreditationLevel::NabhEntry as i32,
            valid_from: Some(date(2024, 4, 1)),
            ..Default::default()
        };
        self.client
            .upsert_empanelment(pb::UpsertEmpanelmentRequest {
                idempotency_key: format!("empanel-{hfr_id}"),
                empanelment: Some(empanelment),
            })
            .await
            .expect("empanel")
            .into_inner()
            .empanelment
            .expect("empanelment in reply")
    }

    /// Registers `professional` under a fresh idempotency key.
    pub async fn register_professional(&mut self, professional: pb::Professional) {
        self.client
            .register_professional(pb::RegisterProfessionalRequest {
                idempotency_key: format!("register-{}", professional.hpr_id),
                professional: Some(professional),
            })
            .await
            .expect("register professional");
    }

    /// Links `hpr_id` to `hfr_id` as a treating doctor from `from`
    /// (open-ended); the professional as the reply shows them.
    pub async fn link_doctor(
        &mut self,
        hpr_id: &str,
        hfr_id: &str,
        from: Date,
    ) -> pb::Professional {
        self.client
            .link_professional(pb::LinkProfessionalRequest {
                idempotency_key: format!("link-{hpr_id}-{hfr_id}"),
                hpr_id: hpr_id.into(),
                hfr_id: hfr_id.into(),
                role: pb::ProfessionalRole::TreatingDoctor as i32,
                linked_from: Some(from),
            })
            .await
            .expect("link doctor")
            .into_inner()
            .professional
            .expect("professional in reply")
    }

    /// CheckEmpanelment for PM-JAY on `on`.
    pub async fn check(
        &mut self,
        hfr_id: &str,
        specialty: &str,
        on: Date,
    ) -> pb::CheckEmpanelmentResponse {
        self.client
            .check_empanelment(pb::CheckEmpanelmentRequest {
                hfr_id: hfr_id.into(),
                scheme_code: "PMJAY".into(),
                specialty_code: specialty.into(),
                date: Some(on),
                treating_hpr_id: String::new(),
            })
            .await
            .expect("check empanelment")
            .into_inner()
    }

    /// OPD totals for a district, May to July 2025: (registrations, via ABHA, share in basis points).
    pub async fn opd_totals_may_to_july_2025(&mut self, district_code: &str) -> (i64, i64, i32) {
        let report = self
            .client
            .opd_registration_report(pb::OpdRegistrationReportRequest {
                district_code: district_code.into(),
                from_month: Some(ayushman_proto::common::v1::YearMonth {
                    year: 2025,
                    month: 5,
                }),
                to_month: Some(ayushman_proto::common::v1::YearMonth {
                    year: 2025,
                    month: 7,
                }),
                ..Default::default()
            })
            .await
            .expect("OPD report")
            .into_inner();
        let total = report.total.expect("report total");
        (total.total, total.via_abha, total.abha_share_basis_points)
    }
}

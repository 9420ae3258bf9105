//! Portability over real gRPC with a real facility registry, on SQLite and (with
//! TEST_DATABASE_URL) PostgreSQL: routing in-state and out-of-state cases with
//! every refusal. Nothing is owed between states: the home state pays the
//! treating hospital (see the claims tests for the out-of-state spend view).

use ayushman_proto::{
    common::v1::Ownership,
    portability::v1::{self as pb, RouteDenial},
};
use mesh_tests::{
    bad_fields,
    facility::{bastar_district_hospital, cardiologist, date, jaipur_private_hospital},
    portability::{self, ahmedabad_heart_hospital, backends, maa_outbound},
};
use tonic::Code;

async fn mesh_with_hospitals(backend: &str) -> portability::Mesh {
    let mut mesh = portability::spawn(backend).await;
    for hospital in [
        bastar_district_hospital(),
        jaipur_private_hospital(),
        ahmedabad_heart_hospital(),
    ] {
        let hfr_id = hospital.hfr_id.clone();
        mesh.facilities.register(hospital).await;
        mesh.facilities.empanel(&hfr_id, &["CARDIOLOGY"]).await;
    }
    mesh
}

#[tokio::test]
async fn an_in_state_case_is_not_a_portability_case() {
    for backend in backends() {
        let mut mesh = mesh_with_hospitals(backend).await;
        let route = mesh
            .route("22", "PMJAY", "IN2210000001")
            .await
            .expect("route");
        assert!(route.allowed, "{route:?}");
        assert!(!route.portability_case);
        assert_eq!(
            (
                route.payer_scheme_code.as_str(),
                route.payer_state_code.as_str()
            ),
            ("PMJAY", "22")
        );
        assert_eq!(
            (
                route.treating_state_code.as_str(),
                route.treating_district_code.as_str()
            ),
            ("22", "22-414")
        );
        assert_eq!(route.treating_ownership, Ownership::Public as i32);
        assert!(route.agreement_id.is_empty());
    }
}

#[tokio::test]
async fn a_route_says_whether_the_treating_doctor_is_linked_to_the_hospital() {
    for backend in backends() {
        let mut mesh = mesh_with_hospitals(backend).await;
        mesh.facilities.register_professional(cardiologist()).await;
        mesh.facilities
            .link_doctor("71-4324-5678-1234", "IN2210000001", date(2025, 1, 1))
            .await;
        let route = |hfr_id: &str, doctor: &str| {
            let mut client = mesh.client.clone();
            let request = pb::RouteCaseRequest {
                home_state_code: "22".into(),
                scheme_code: "PMJAY".into(),
                hfr_id: hfr_id.into(),
                specialty_code: "CARDIOLOGY".into(),
                treatment_date: Some(date(2025, 6, 1)),
                treating_hpr_id: doctor.into(),
            };
            async move {
                let answer = client
                    .route_case(request)
                    .await
                    .expect("route")
                    .into_inner();
                (answer.allowed, answer.professional_linked)
            }
        };
        assert_eq!(
            route("IN2210000001", "71432456781234").await,
            (true, Some(true)),
            "{backend}: linked there"
        );
        assert_eq!(
            route("IN2210000001", "71-9999-0000-1111").await,
            (true, Some(false)),
            "{backend}: a doctor not linked there"
        );
        assert_eq!(
            route("IN2299999999", "71-4324-5678-1234").await,
            (false, Some(false)),
            "{backend}: an unknown hospital"
        );
        assert_eq!(
            route("IN2210000001", "").await,
            (true, None),
            "{backend}: no doctor asked about"
        );
    }
}

#[tokio::test]
async fn a_maa_card_holder_in_gujarat_is_treated_at_gujarat_rates_with_rajasthan_paying() {
    for backend in backends() {
        let mut mesh = mesh_with_hospitals(backend).await;
        mesh.agree(maa_outbound(pb::AgreementStatus::Active)).await;
        let route = mesh
            .route("08", "RJ-MAA", "IN2410000077")
            .await
            .expect("route");
        assert!(route.allowed, "{backend}: {route:?}");
        assert!(route.portability_case);
        assert_eq!(route.treating_state_code, "24");
        assert_eq!(
            (
                route.payer_scheme_code.as_str(),
                route.payer_state_code.as_str()
            ),
            ("RJ-MAA", "08")
        );
        assert_eq!(route.rate_rule, pb::RateRule::TreatingState as i32);
        assert_eq!(route.agreement_id, "AGR-RJ-MAA-OUT");
    }
}

#[tokio::test]
async fn a_scheme_without_an_agreement_is_refused_with_the_reason() {
    let mut mesh = mesh_with_hospitals("sqlite").await;
    let route = mesh
        .route("10", "BR-MJAY", "IN2410000077")
        .await
        .expect("route");
    assert_eq!(
        (route.allowed, route.denial),
        (false, RouteDenial::NoAgreement as i32)
    );
    assert_eq!(
        route.message,
        "no portability agreement lets BR-MJAY card holders from Bihar be treated in Gujarat"
    );
    assert!(route.portability_case);
}

#[tokio::test]
async fn a_draft_agreement_turns_on_with_one_call() {
    let mut mesh = mesh_with_hospitals("sqlite").await;
    mesh.agree(maa_outbound(pb::AgreementStatus::Draft)).await;
    assert_eq!(
        mesh.route("08", "RJ-MAA", "IN2410000077")
            .await
            .expect("route")
            .denial,
        RouteDenial::NoAgreement as i32
    );
    let activated = mesh
        .client
        .activate_agreement(pb::ActivateAgreementRequest {
            idempotency_key: "activate".into(),
            agreement_id: "agr-rj-maa-out".into(),
            reason: "MoU 2025/17 signed".into(),
            actor: None,
        })
        .await
        .expect("activate")
        .into_inner()
        .agreement
        .expect("agreement");
    let statuses: Vec<_> = activated
        .history
        .iter()
        .map(|h| h.status.as_str())
        .collect();
    assert_eq!(
        statuses,
        ["AGREEMENT_STATUS_DRAFT", "AGREEMENT_STATUS_ACTIVE"]
    );
    assert!(
        mesh.route("08", "RJ-MAA", "IN2410000077")
            .await
            .expect("route")
            .allowed
    );
}

#[tokio::test]
async fn suspended_agreements_and_cases_outside_its_dates_are_refused() {
    for backend in backends() {
        let mut mesh = mesh_with_hospitals(backend).await;
        mesh.agree(maa_outbound(pb::AgreementStatus::Active)).await;
        let late = mesh
            .client
            .route_case(pb::RouteCaseRequest {
                home_state_code: "08".into(),
                scheme_code: "RJ-MAA".into(),
                hfr_id: "IN2410000077".into(),
                specialty_code: "CARDIOLOGY".into(),
                treatment_date: Some(mesh_tests::facility::date(2027, 4, 1)),
                treating_hpr_id: String::new(),
            })
            .await
            .expect("route")
            .into_inner();
        assert_eq!(late.denial, RouteDenial::NoAgreement as i32);
        assert_eq!(
            late.message,
            "agreement AGR-RJ-MAA-OUT is in force from 2025-01-01 to 2027-03-31, not on 2027-04-01"
        );

        mesh.client
            .suspend_agreement(pb::SuspendAgreementRequest {
                idempotency_key: "suspend".into(),
                agreement_id: "AGR-RJ-MAA-OUT".into(),
                reason: "dues unpaid for 3 months".into(),
                actor: None,
            })
            .await
            .expect("suspend");
        let suspended = mesh
            .route("08", "RJ-MAA", "IN2410000077")
            .await
            .expect("route");
        assert_eq!(
            suspended.denial,
            RouteDenial::AgreementSuspended as i32,
            "{backend}"
        );
        assert_eq!(
            suspended.message,
            "agreement AGR-RJ-MAA-OUT is suspended: dues unpaid for 3 months"
        );
    }
}

#[tokio::test]
async fn an_out_of_state_hospital_must_be_empanelled_under_the_agreements_scheme() {
    let mut mesh = mesh_with_hospitals("sqlite").await;
    mesh.agree(maa_outbound(pb::AgreementStatus::Active)).await;
    let mut unempanelled = ahmedabad_heart_hospital();
    unempanelled.hfr_id = "IN2410000078".into();
    unempanelled.name = "Riverfront Clinic".into();
    mesh.facilities.register(unempanelled).await;
    let route = mesh
        .route("08", "RJ-MAA", "IN2410000078")
        .await
        .expect("route");
    assert_eq!(route.denial, RouteDenial::FacilityNotEmpanelled as i32);
    assert_eq!(
        route.message,
        "Riverfront Clinic is not empanelled under PMJAY"
    );

    let unknown = mesh
        .route("08", "RJ-MAA", "IN2499999999")
        .await
        .expect("route");
    assert_eq!(unknown.denial, RouteDenial::FacilityUnknown as i32);
}

#[tokio::test]
async fn the_facility_registry_being_down_is_unavailable_not_a_wrong_answer() {
    let mut mesh = mesh_with_hospitals("sqlite").await;
    mesh.facilities
        .server
        .stop()
        .await
        .expect("facility registry stops");
    let status = mesh.route("22", "PMJAY", "IN2210000001").await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        status.message(),
        "facility-registry is unavailable (The service is currently unavailable); retry later"
    );
}

#[tokio::test]
async fn route_requests_are_validated_field_by_field() {
    let mut mesh = portability::spawn("sqlite").await;
    let status = mesh
        .client
        .route_case(pb::RouteCaseRequest {
            home_state_code: "99".into(),
            hfr_id: "IN24".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        ["home_state_code", "scheme_code", "hfr_id", "specialty_code"]
    );
}

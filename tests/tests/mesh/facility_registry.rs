//! The facility registry over real gRPC, on SQLite and (with TEST_DATABASE_URL)
//! PostgreSQL: facilities, professionals and links, empanelment checks with
//! every refusal, idempotent OPD registrations and exact OPD reports.

use ayushman_platform::testing;
use ayushman_proto::{
    common::v1::{Ownership, YearMonth},
    facility::v1::{self as pb, EmpanelmentDenial},
};
use mesh_tests::{
    bad_fields,
    facility::{self, bastar_district_hospital, cardiologist, date, jaipur_private_hospital},
};
use tonic::Code;

#[tokio::test]
async fn a_registered_facility_can_be_fetched_and_found_by_district_type_and_specialty() {
    for database in testing::all_databases().await {
        let mut registry = facility::spawn(&database).await;
        let registered = registry.register(bastar_district_hospital()).await;
        assert_eq!(registered.status, pb::FacilityStatus::Active as i32);
        registry.register(jaipur_private_hospital()).await;
        registry
            .empanel("IN2210000001", &["CARDIOLOGY", "GENERAL_SURGERY"])
            .await;

        let fetched = registry
            .client
            .get_facility(pb::GetFacilityRequest {
                hfr_id: "in2210000001".into(),
            })
            .await
            .expect("get")
            .into_inner();
        assert_eq!(fetched.facility, Some(registered), "{}", database.backend);

        let list = |request: pb::ListFacilitiesRequest| {
            let mut client = registry.client.clone();
            async move {
                let reply = client
                    .list_facilities(request)
                    .await
                    .expect("list")
                    .into_inner();
                reply
                    .facilities
                    .into_iter()
                    .map(|f| f.hfr_id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            list(pb::ListFacilitiesRequest {
                district_code: "22-414".into(),
                ..Default::default()
            })
            .await,
            ["IN2210000001"]
        );
        assert_eq!(
            list(pb::ListFacilitiesRequest {
                ownership: Ownership::Private as i32,
                ..Default::default()
            })
            .await,
            ["IN0810000042"]
        );
        assert_eq!(
            list(pb::ListFacilitiesRequest {
                facility_type: pb::FacilityType::DistrictHospital as i32,
                ..Default::default()
            })
            .await,
            ["IN2210000001"]
        );
        assert_eq!(
            list(pb::ListFacilitiesRequest {
                scheme_code: "pmjay".into(),
                specialty_code: "cardiology".into(),
                ..Default::default()
            })
            .await,
            ["IN2210000001"]
        );
        assert!(
            list(pb::ListFacilitiesRequest {
                specialty_code: "ONCOLOGY".into(),
                ..Default::default()
            })
            .await
            .is_empty()
        );
    }
}

#[tokio::test]
async fn listing_pages_through_every_facility_once() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    for serial in 1..=5 {
        let mut hospital = jaipur_private_hospital();
        hospital.hfr_id = format!("IN08100000{serial:02}");
        registry.register(hospital).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let reply = registry
            .client
            .list_facilities(pb::ListFacilitiesRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        seen.extend(reply.facilities.into_iter().map(|f| f.hfr_id));
        if reply.next_page_token.is_empty() {
            break;
        }
        token = reply.next_page_token;
    }
    assert_eq!(
        seen,
        [
            "IN0810000001",
            "IN0810000002",
            "IN0810000003",
            "IN0810000004",
            "IN0810000005"
        ]
    );
}

#[tokio::test]
async fn bad_facilities_are_refused_naming_every_field_at_fault() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    let mut bad = bastar_district_hospital();
    bad.hfr_id = "IN22100".into();
    bad.name = String::new();
    bad.society_name = String::new();
    bad.beds = -1;
    let status = registry
        .client
        .register_facility(pb::RegisterFacilityRequest {
            idempotency_key: "k".into(),
            facility: Some(bad),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        [
            "facility.hfr_id",
            "facility.name",
            "facility.beds",
            "facility.society_name"
        ]
    );

    let mut wrong_state = jaipur_private_hospital();
    wrong_state.location.as_mut().expect("location").state_code = "10".into();
    let status = registry
        .client
        .register_facility(pb::RegisterFacilityRequest {
            idempotency_key: "k2".into(),
            facility: Some(wrong_state),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["facility.location.state_code"]);
    assert_eq!(
        status.message(),
        "facility.location.state_code: is 10 but the HFR id is of state 08"
    );

    let missing_key = registry
        .client
        .register_facility(pb::RegisterFacilityRequest {
            idempotency_key: String::new(),
            facility: Some(jaipur_private_hospital()),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&missing_key), ["idempotency_key"]);

    let unknown = registry
        .client
        .get_facility(pb::GetFacilityRequest {
            hfr_id: "IN2299999999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = registry
        .client
        .get_facility(pb::GetFacilityRequest {
            hfr_id: "XX".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&malformed), ["hfr_id"]);
}

#[tokio::test]
async fn registering_again_returns_the_facility_but_other_details_are_refused() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    let first = registry.register(bastar_district_hospital()).await;
    let again = registry
        .client
        .register_facility(pb::RegisterFacilityRequest {
            idempotency_key: "another-key".into(),
            facility: Some(bastar_district_hospital()),
        })
        .await
        .expect("same facility again")
        .into_inner();
    assert_eq!(again.facility, Some(first));

    let mut renamed = bastar_district_hospital();
    renamed.name = "Somewhere else".into();
    let status = registry
        .client
        .register_facility(pb::RegisterFacilityRequest {
            idempotency_key: "third-key".into(),
            facility: Some(renamed.clone()),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);

    let reused_key = registry
        .client
        .register_facility(pb::RegisterFacilityRequest {
            idempotency_key: "register-IN2210000001".into(),
            facility: Some(renamed),
        })
        .await
        .unwrap_err();
    assert_eq!(reused_key.code(), Code::AlreadyExists);
    assert_eq!(
        reused_key.message(),
        "idempotency_key was already used for a different request"
    );
}

#[tokio::test]
async fn professionals_link_to_facilities_and_unlinking_ends_the_link() {
    for database in testing::all_databases().await {
        let mut registry = facility::spawn(&database).await;
        registry.register(bastar_district_hospital()).await;
        let registered = registry
            .client
            .register_professional(pb::RegisterProfessionalRequest {
                idempotency_key: "p".into(),
                professional: Some(cardiologist()),
            })
            .await
            .expect("register professional")
            .into_inner()
            .professional
            .expect("professional");
        assert_eq!(registered.hpr_id, "71-4324-5678-1234");

        let link_checker = registry.client.clone();
        // CheckEmpanelment answers the link too (the read every preauth makes
        // through portability); it must always agree with CheckProfessionalLink.
        let check = |on: ayushman_proto::google::r#type::Date| {
            let mut client = link_checker.clone();
            async move {
                let link = client
                    .check_professional_link(pb::CheckProfessionalLinkRequest {
                        hpr_id: "71432456781234".into(),
                        hfr_id: "IN2210000001".into(),
                        date: Some(on),
                    })
                    .await
                    .expect("check link")
                    .into_inner();
                let with_empanelment = client
                    .check_empanelment(pb::CheckEmpanelmentRequest {
                        hfr_id: "IN2210000001".into(),
                        scheme_code: "PMJAY".into(),
                        specialty_code: "CARDIOLOGY".into(),
                        date: Some(on),
                        treating_hpr_id: "71432456781234".into(),
                    })
                    .await
                    .expect("check empanelment with the doctor")
                    .into_inner();
                assert_eq!(
                    with_empanelment.professional_linked,
                    Some(link.linked),
                    "CheckEmpanelment and CheckProfessionalLink on {on:?}"
                );
                link
            }
        };
        assert!(
            !check(date(2025, 6, 1)).await.linked,
            "not linked before LinkProfessional"
        );

        let linked = registry
            .link_doctor("71-4324-5678-1234", "IN2210000001", date(2025, 1, 1))
            .await;
        assert_eq!(linked.links.len(), 1);
        let on_duty = check(date(2025, 6, 1)).await;
        assert!(on_duty.linked);
        assert_eq!(on_duty.role, pb::ProfessionalRole::TreatingDoctor as i32);
        assert!(
            !check(date(2024, 12, 31)).await.linked,
            "not linked before linked_from"
        );

        let doctors = registry
            .client
            .list_professionals(pb::ListProfessionalsRequest {
                hfr_id: "IN2210000001".into(),
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        assert_eq!(
            doctors
                .professionals
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["Dr. Anjali Verma"]
        );

        registry
            .client
            .unlink_professional(pb::UnlinkProfessionalRequest {
                idempotency_key: "unlink".into(),
                hpr_id: "71-4324-5678-1234".into(),
                hfr_id: "IN2210000001".into(),
                linked_until: Some(date(2025, 6, 30)),
            })
            .await
            .expect("unlink");
        assert!(
            check(date(2025, 6, 30)).await.linked,
            "the last day still counts"
        );
        assert!(
            !check(date(2025, 7, 1)).await.linked,
            "{}",
            database.backend
        );

        let again = registry
            .client
            .unlink_professional(pb::UnlinkProfessionalRequest {
                idempotency_key: "unlink-again".into(),
                hpr_id: "71-4324-5678-1234".into(),
                hfr_id: "IN2210000001".into(),
                linked_until: None,
            })
            .await
            .unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition);
        assert_eq!(
            again.message(),
            "71-4324-5678-1234 is not linked to IN2210000001"
        );
    }
}

#[tokio::test]
async fn bad_professional_ids_and_unknown_parties_are_refused() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    let mut bad = cardiologist();
    bad.hpr_id = "71-4324".into();
    let status = registry
        .client
        .register_professional(pb::RegisterProfessionalRequest {
            idempotency_key: "p".into(),
            professional: Some(bad),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["professional.hpr_id"]);
    assert_eq!(
        status.message(),
        "professional.hpr_id: HPR id must have 14 digits"
    );

    let status = registry
        .client
        .link_professional(pb::LinkProfessionalRequest {
            idempotency_key: "l".into(),
            hpr_id: "71-4324-5678-1234".into(),
            hfr_id: "IN2210000001".into(),
            role: pb::ProfessionalRole::TreatingDoctor as i32,
            linked_from: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), "no facility with id IN2210000001");
}

#[tokio::test]
async fn check_empanelment_allows_a_covered_specialty_and_names_each_refusal() {
    for database in testing::all_databases().await {
        let mut registry = facility::spawn(&database).await;
        registry.register(bastar_district_hospital()).await;
        let on = date(2025, 6, 1);

        let allowed = registry.check("IN2210000001", "CARDIOLOGY", on).await;
        assert_eq!(
            allowed.denial,
            EmpanelmentDenial::NotEmpanelled as i32,
            "before empanelment"
        );

        registry.empanel("IN2210000001", &["CARDIOLOGY"]).await;
        let allowed = registry.check("IN2210000001", "cardiology", on).await;
        assert!(allowed.allowed, "{allowed:?}");
        assert_eq!(allowed.state_code, "22");
        assert_eq!(allowed.district_code, "22-414");
        assert_eq!(allowed.ownership, Ownership::Public as i32);
        assert_eq!(
            allowed.accreditation_level,
            pb::AccreditationLevel::NabhEntry as i32
        );
        assert_eq!(
            allowed.professional_linked, None,
            "no doctor asked about, no link answered"
        );

        let oncology = registry.check("IN2210000001", "ONCOLOGY", on).await;
        assert_eq!(
            (oncology.allowed, oncology.denial),
            (false, EmpanelmentDenial::SpecialtyNotCovered as i32)
        );
        let too_early = registry
            .check("IN2210000001", "CARDIOLOGY", date(2024, 3, 31))
            .await;
        assert_eq!(too_early.denial, EmpanelmentDenial::OutsideValidity as i32);
        assert_eq!(
            too_early.message,
            "empanelment is valid from 2024-04-01 to open, not on 2024-03-31"
        );
        let unknown = registry.check("IN2299999999", "CARDIOLOGY", on).await;
        assert_eq!(unknown.denial, EmpanelmentDenial::FacilityUnknown as i32);

        let suspended = registry
            .client
            .update_empanelment_status(pb::UpdateEmpanelmentStatusRequest {
                idempotency_key: "suspend".into(),
                hfr_id: "IN2210000001".into(),
                scheme_code: "PMJAY".into(),
                status: pb::EmpanelmentStatus::Suspended as i32,
                reason: "inquiry 14/2025".into(),
                actor: None,
            })
            .await
            .expect("suspend")
            .into_inner()
            .empanelment
            .expect("empanelment");
        let statuses: Vec<_> = suspended
            .history
            .iter()
            .map(|h| h.status.as_str())
            .collect();
        assert_eq!(
            statuses,
            [
                "EMPANELMENT_STATUS_EMPANELLED",
                "EMPANELMENT_STATUS_SUSPENDED"
            ]
        );
        let refused = registry.check("IN2210000001", "CARDIOLOGY", on).await;
        assert_eq!(refused.denial, EmpanelmentDenial::Suspended as i32);
        assert_eq!(refused.message, "empanelment suspended: inquiry 14/2025");

        registry
            .client
            .update_facility_status(pb::UpdateFacilityStatusRequest {
                idempotency_key: "close".into(),
                hfr_id: "IN2210000001".into(),
                status: pb::FacilityStatus::Inactive as i32,
                reason: "renovation".into(),
            })
            .await
            .expect("facility status");
        let inactive = registry.check("IN2210000001", "CARDIOLOGY", on).await;
        assert_eq!(
            inactive.denial,
            EmpanelmentDenial::FacilityInactive as i32,
            "{}",
            database.backend
        );
    }
}

#[tokio::test]
async fn suspending_without_a_reason_is_refused() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    registry.register(bastar_district_hospital()).await;
    registry.empanel("IN2210000001", &["CARDIOLOGY"]).await;
    let status = registry
        .client
        .update_empanelment_status(pb::UpdateEmpanelmentStatusRequest {
            idempotency_key: "s".into(),
            hfr_id: "IN2210000001".into(),
            scheme_code: "PMJAY".into(),
            status: pb::EmpanelmentStatus::Suspended as i32,
            reason: " ".into(),
            actor: None,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["reason"]);
}

async fn record(
    registry: &mut facility::FacilityRegistry,
    key: &str,
    hfr_id: &str,
    visit: (i32, i32, i32),
    abha: bool,
) -> tonic::Result<String> {
    let (mode, abha_number) = if abha {
        (
            pb::OpdRegistrationMode::AbhaScanAndShare,
            "91-2345-6789-0123".to_owned(),
        )
    } else {
        (pb::OpdRegistrationMode::Counter, String::new())
    };
    registry
        .client
        .record_opd_registration(pb::RecordOpdRegistrationRequest {
            idempotency_key: key.into(),
            hfr_id: hfr_id.into(),
            visit_date: Some(date(visit.0, visit.1, visit.2)),
            mode: mode as i32,
            abha_number,
            token_number: format!("T-{key}"),
        })
        .await
        .map(|reply| reply.into_inner().registration_id)
}

#[tokio::test]
async fn the_opd_report_counts_registrations_and_the_abha_share_exactly() {
    for database in testing::all_databases().await {
        let mut registry = facility::spawn(&database).await;
        registry.register(bastar_district_hospital()).await;
        registry.register(jaipur_private_hospital()).await;
        // Bastar: May 3 of 4 via ABHA, June 1 of 2; Jaipur (another district) 1 in May.
        for (i, (visit, abha)) in [
            ((2025, 5, 2), true),
            ((2025, 5, 9), true),
            ((2025, 5, 30), true),
            ((2025, 5, 31), false),
            ((2025, 6, 1), true),
            ((2025, 6, 2), false),
        ]
        .into_iter()
        .enumerate()
        {
            record(
                &mut registry,
                &format!("bastar-{i}"),
                "IN2210000001",
                visit,
                abha,
            )
            .await
            .expect("record");
        }
        record(
            &mut registry,
            "jaipur-0",
            "IN0810000042",
            (2025, 5, 2),
            true,
        )
        .await
        .expect("record");

        let report = registry
            .client
            .opd_registration_report(pb::OpdRegistrationReportRequest {
                district_code: "22-414".into(),
                from_month: Some(YearMonth {
                    year: 2025,
                    month: 5,
                }),
                to_month: Some(YearMonth {
                    year: 2025,
                    month: 7,
                }),
                ..Default::default()
            })
            .await
            .expect("report")
            .into_inner();
        let rows: Vec<_> = report
            .rows
            .iter()
            .map(|r| {
                (
                    r.hfr_id.as_str(),
                    r.month.map(|m| m.month),
                    r.total,
                    r.via_abha,
                    r.abha_share_basis_points,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("IN2210000001", Some(5), 4, 3, 7500),
                ("IN2210000001", Some(6), 2, 1, 5000)
            ],
            "{}",
            database.backend
        );
        assert_eq!(
            report.rows[0].facility_name,
            "Maharani District Hospital, Jagdalpur"
        );
        let total = report.total.expect("total");
        assert_eq!(
            (total.total, total.via_abha, total.abha_share_basis_points),
            (6, 4, 6667)
        );
    }
}

#[tokio::test]
async fn repeating_an_opd_registration_with_its_key_records_it_once() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    registry.register(bastar_district_hospital()).await;
    let first = record(
        &mut registry,
        "token-0042",
        "IN2210000001",
        (2025, 5, 2),
        true,
    )
    .await
    .expect("first");
    let again = record(
        &mut registry,
        "token-0042",
        "IN2210000001",
        (2025, 5, 2),
        true,
    )
    .await
    .expect("repeat");
    assert_eq!(first, again);
    let report = registry
        .client
        .opd_registration_report(pb::OpdRegistrationReportRequest {
            hfr_id: "IN2210000001".into(),
            from_month: Some(YearMonth {
                year: 2025,
                month: 5,
            }),
            to_month: Some(YearMonth {
                year: 2025,
                month: 5,
            }),
            ..Default::default()
        })
        .await
        .expect("report")
        .into_inner();
    assert_eq!(report.total.map(|t| t.total), Some(1));
}

#[tokio::test]
async fn opd_registrations_are_validated_field_by_field() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    registry.register(bastar_district_hospital()).await;
    let status = registry
        .client
        .record_opd_registration(pb::RecordOpdRegistrationRequest {
            idempotency_key: "k".into(),
            hfr_id: "IN2210000001".into(),
            visit_date: Some(date(2025, 2, 30)),
            mode: pb::OpdRegistrationMode::AbhaScanAndShare as i32,
            abha_number: "12345".into(),
            token_number: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        ["visit_date", "abha_number", "token_number"]
    );

    let unknown = record(&mut registry, "k2", "IN2299999999", (2025, 5, 2), false)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let no_scope = registry
        .client
        .opd_registration_report(pb::OpdRegistrationReportRequest {
            from_month: Some(YearMonth {
                year: 2025,
                month: 5,
            }),
            to_month: Some(YearMonth {
                year: 2025,
                month: 5,
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&no_scope), ["hfr_id"]);
}

fn opd_row(
    token: &str,
    hfr_id: &str,
    visit: (i32, i32, i32),
    abha: bool,
) -> pb::ImportOpdRegistrationsRequest {
    pb::ImportOpdRegistrationsRequest {
        hfr_id: hfr_id.into(),
        visit_date: Some(date(visit.0, visit.1, visit.2)),
        mode: if abha {
            pb::OpdRegistrationMode::AbhaScanAndShare
        } else {
            pb::OpdRegistrationMode::Counter
        } as i32,
        abha_number: if abha {
            "91-2345-6789-0123".into()
        } else {
            String::new()
        },
        token_number: token.into(),
    }
}

#[tokio::test]
async fn an_opd_batch_records_new_rows_counts_repeats_and_lists_each_reject() {
    for database in testing::all_databases().await {
        let mut registry = facility::spawn(&database).await;
        registry.register(bastar_district_hospital()).await;
        let mut rows: Vec<_> = (0..2500)
            .map(|i| {
                opd_row(
                    &format!("T{i:05}"),
                    "IN2210000001",
                    (2025, 5, 1 + i % 28),
                    i % 2 == 0,
                )
            })
            .collect();
        rows.push(opd_row("T99999", "IN2299999999", (2025, 5, 1), false));
        let mut bad = opd_row("", "IN2210000001", (2025, 5, 1), true);
        bad.abha_number = "12".into();
        rows.push(bad);

        let first = registry
            .client
            .import_opd_registrations(tokio_stream::iter(rows.clone()))
            .await
            .expect("import")
            .into_inner();
        assert_eq!(
            (
                first.rows_received,
                first.recorded,
                first.duplicates,
                first.rejected
            ),
            (2502, 2500, 0, 2),
            "{}",
            database.backend
        );
        let rejects: Vec<_> = first
            .rejects
            .iter()
            .map(|r| (r.row_number, r.field.as_str()))
            .collect();
        assert_eq!(
            rejects,
            [
                (2501, "hfr_id"),
                (2502, "abha_number"),
                (2502, "token_number")
            ]
        );

        let again = registry
            .client
            .import_opd_registrations(tokio_stream::iter(rows))
            .await
            .expect("re-import")
            .into_inner();
        assert_eq!(
            (again.recorded, again.duplicates, again.rejected),
            (0, 2500, 2),
            "{}",
            database.backend
        );

        let report = registry
            .client
            .opd_registration_report(pb::OpdRegistrationReportRequest {
                hfr_id: "IN2210000001".into(),
                from_month: Some(YearMonth {
                    year: 2025,
                    month: 5,
                }),
                to_month: Some(YearMonth {
                    year: 2025,
                    month: 5,
                }),
                ..Default::default()
            })
            .await
            .expect("report")
            .into_inner();
        let total = report.total.expect("total");
        assert_eq!((total.total, total.via_abha), (2500, 1250));
    }
}

#[tokio::test]
async fn a_token_is_registered_once_a_day_at_a_facility() {
    let database = testing::sqlite();
    let mut registry = facility::spawn(&database).await;
    registry.register(bastar_district_hospital()).await;
    let request = |key: &str| pb::RecordOpdRegistrationRequest {
        idempotency_key: key.into(),
        hfr_id: "IN2210000001".into(),
        visit_date: Some(date(2025, 5, 2)),
        mode: pb::OpdRegistrationMode::Counter as i32,
        abha_number: String::new(),
        token_number: "OPD-17".into(),
    };
    registry
        .client
        .record_opd_registration(request("first"))
        .await
        .expect("first");
    let status = registry
        .client
        .record_opd_registration(request("second"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(
        status.message(),
        "token OPD-17 on 2025-05-02 is already registered at IN2210000001"
    );
}

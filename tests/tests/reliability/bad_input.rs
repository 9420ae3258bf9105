//! A table of malformed requests across every service — empty and oversized
//! fields, wrong check digits, negative and overflowing amounts, unknown enum
//! values, impossible dates, an oversized message, wrong types over JSON —
//! each answered with the right code naming the field, and every service
//! still serving afterwards.

use std::{future::Future, pin::Pin};

use ayushman_proto::{
    beneficiary::v1::{self as b, import_eligibility_request::Item},
    claims::v1 as c,
    common::v1::{Actor, YearMonth},
    facility::v1 as f,
    gateway::v1 as g,
    google::r#type::Date,
    portability::v1 as p,
    preauth::v1 as pa,
};
use mesh_tests::{
    bad_fields,
    gateway::{self, ADMIN_KEY, with_key},
    health_of,
    preauth::{self, CG_FAMILY, DOCTOR, quick_settings, today},
    record_figure,
};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

type Answer = Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send>>;

/// What a malformed request must get.
enum Expect {
    /// INVALID_ARGUMENT with a field violation on this field.
    Field(&'static str),
    /// One of these codes (limits enforced by the transport).
    Code(&'static [Code]),
}

struct Case {
    name: &'static str,
    expect: Expect,
    answer: Answer,
}

fn case<T, F>(name: &'static str, expect: Expect, call: F) -> Case
where
    F: Future<Output = Result<tonic::Response<T>, tonic::Status>> + Send + 'static,
{
    Case {
        name,
        expect,
        answer: Box::pin(async move { call.await.map(drop) }),
    }
}

fn field(name: &'static str) -> Expect {
    Expect::Field(name)
}

fn day(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

#[tokio::test]
async fn every_malformed_request_is_refused_naming_the_field_and_nothing_falls_over() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let gateway = gateway::spawn(&flow, "sqlite").await;
    let person = flow.member(CG_FAMILY).await;
    let people = flow.people.client.clone();
    let facilities = flow.facilities.client.clone();
    let preauths = flow.client.clone();
    let claims = flow.claims.clone();
    let portability = flow.portability.clone();
    let admin = gateway.admin().await;
    let operator = Some(Actor {
        actor_id: "CSC-1".into(),
        ..Default::default()
    });
    let block = |amount_paise: i64, scheme: &str, date: Option<Date>| b::BlockAmountRequest {
        scheme_codes: Vec::new(),
        idempotency_key: format!("bad-block-{amount_paise}-{scheme}"),
        beneficiary_id: person.clone(),
        scheme_code: scheme.into(),
        preauth_id: "PA-BAD".into(),
        amount_paise,
        treatment_date: date,
        reason: "bad input".into(),
        actor: None,
    };
    let raise = |change: fn(&mut pa::RaisePreauthRequest)| {
        let mut request = pa::RaisePreauthRequest {
            idempotency_key: "bad-raise".into(),
            beneficiary_id: person.clone(),
            hfr_id: "IN2210000001".into(),
            treating_hpr_id: DOCTOR.into(),
            packages: vec![pa::PackageChoice {
                package_code: "MC011A".into(),
                add_on_codes: Vec::new(),
            }],
            admission_date: Some(today()),
            ..Default::default()
        };
        change(&mut request);
        request
    };
    let long_name = "ब".repeat(5_000);

    let mut cases = vec![
        // Beneficiary registry
        case(
            "verify with neither id nor card",
            field("beneficiary_id"),
            {
                let mut c = people.clone();
                async move {
                    c.verify_eligibility(b::VerifyEligibilityRequest::default())
                        .await
                }
            },
        ),
        case("verify on 32 May", field("treatment_date"), {
            let mut c = people.clone();
            let r = b::VerifyEligibilityRequest {
                card_number: "CARD-CG-FAM-1".into(),
                treatment_date: day(2025, 5, 32),
                ..Default::default()
            };
            async move { c.verify_eligibility(r).await }
        }),
        case("get with an empty id", field("beneficiary_id"), {
            let mut c = people.clone();
            async move { c.get_beneficiary(b::GetBeneficiaryRequest::default()).await }
        }),
        case("family with an empty id", field("family_id"), {
            let mut c = people.clone();
            async move { c.get_family(b::GetFamilyRequest::default()).await }
        }),
        case("search without a query", field("query"), {
            let mut c = people.clone();
            async move {
                c.search_beneficiaries(b::SearchBeneficiariesRequest::default())
                    .await
            }
        }),
        case("name search of two letters", field("name.name_prefix"), {
            let mut c = people.clone();
            let r = b::SearchBeneficiariesRequest {
                query: Some(b::search_beneficiaries_request::Query::Name(b::NameQuery {
                    name_prefix: "ab".into(),
                    district_code: "10-230".into(),
                })),
                ..Default::default()
            };
            async move { c.search_beneficiaries(r).await }
        }),
        case(
            "name search without a district",
            field("name.district_code"),
            {
                let mut c = people.clone();
                let r = b::SearchBeneficiariesRequest {
                    query: Some(b::search_beneficiaries_request::Query::Name(b::NameQuery {
                        name_prefix: "sunita".into(),
                        district_code: String::new(),
                    })),
                    ..Default::default()
                };
                async move { c.search_beneficiaries(r).await }
            },
        ),
        case("Aadhaar with a wrong check digit", field("aadhaar"), {
            let mut c = people.clone();
            let r = b::SearchBeneficiariesRequest {
                query: Some(b::search_beneficiaries_request::Query::Aadhaar(
                    "234567890125".into(),
                )),
                ..Default::default()
            };
            async move { c.search_beneficiaries(r).await }
        }),
        case("ABHA number too short", field("abha"), {
            let mut c = people.clone();
            let r = b::SearchBeneficiariesRequest {
                query: Some(b::search_beneficiaries_request::Query::Abha(
                    "91-2345".into(),
                )),
                ..Default::default()
            };
            async move { c.search_beneficiaries(r).await }
        }),
        case("ABHA address without a name", field("abha"), {
            let mut c = people.clone();
            let r = b::SearchBeneficiariesRequest {
                query: Some(b::search_beneficiaries_request::Query::Abha("@abdm".into())),
                ..Default::default()
            };
            async move { c.search_beneficiaries(r).await }
        }),
        case("card with a wrong Aadhaar check digit", field("aadhaar"), {
            let mut c = people.clone();
            let r = b::IssueCardRequest {
                mobiliser_id: String::new(),
                self_service: false,
                kyc_proof: String::new(),
                idempotency_key: "bad-card-1".into(),
                beneficiary_id: person.clone(),
                aadhaar: "234567890125".into(),
                kyc_method: b::KycMethod::AadhaarOtp as i32,
                operator: operator.clone(),
                centre_id: "C-1".into(),
                campaign_id: String::new(),
            };
            async move { c.issue_card(r).await }
        }),
        case("card without a KYC method", field("kyc_method"), {
            let mut c = people.clone();
            let r = b::IssueCardRequest {
                mobiliser_id: String::new(),
                self_service: false,
                kyc_proof: String::new(),
                idempotency_key: "bad-card-2".into(),
                beneficiary_id: person.clone(),
                aadhaar: "234567890124".into(),
                kyc_method: 0,
                operator: operator.clone(),
                centre_id: "C-1".into(),
                campaign_id: String::new(),
            };
            async move { c.issue_card(r).await }
        }),
        case("card with an unknown KYC method", field("kyc_method"), {
            let mut c = people.clone();
            let r = b::IssueCardRequest {
                mobiliser_id: String::new(),
                self_service: false,
                idempotency_key: "bad-card-3".into(),
                beneficiary_id: person.clone(),
                aadhaar: "234567890124".into(),
                kyc_method: 99,
                operator: operator.clone(),
                centre_id: "C-1".into(),
                campaign_id: String::new(),
                kyc_proof: String::new(),
            };
            async move { c.issue_card(r).await }
        }),
        case("card without an operator", field("operator.actor_id"), {
            let mut c = people.clone();
            let r = b::IssueCardRequest {
                mobiliser_id: String::new(),
                self_service: false,
                idempotency_key: "bad-card-4".into(),
                beneficiary_id: person.clone(),
                aadhaar: "234567890124".into(),
                kyc_method: b::KycMethod::AadhaarOtp as i32,
                operator: None,
                centre_id: "C-1".into(),
                campaign_id: String::new(),
                kyc_proof: String::new(),
            };
            async move { c.issue_card(r).await }
        }),
        case("ABHA link with 13 digits", field("abha_number"), {
            let mut c = people.clone();
            let r = b::LinkAbhaRequest {
                idempotency_key: "bad-abha-1".into(),
                beneficiary_id: person.clone(),
                abha_number: "9123456789012".into(),
                abha_address: String::new(),
            };
            async move { c.link_abha(r).await }
        }),
        case("ABHA link with a bad address", field("abha_address"), {
            let mut c = people.clone();
            let r = b::LinkAbhaRequest {
                idempotency_key: "bad-abha-2".into(),
                beneficiary_id: person.clone(),
                abha_number: "91234567890123".into(),
                abha_address: "no spaces allowed@abdm".into(),
            };
            async move { c.link_abha(r).await }
        }),
        case("block a negative amount", field("amount_paise"), {
            let mut c = people.clone();
            let r = block(-5_00, "PMJAY", Some(today()));
            async move { c.block_amount(r).await }
        }),
        case("block nothing", field("amount_paise"), {
            let mut c = people.clone();
            let r = block(0, "PMJAY", Some(today()));
            async move { c.block_amount(r).await }
        }),
        case("block more than any cover", field("amount_paise"), {
            let mut c = people.clone();
            let r = block(i64::MAX, "PMJAY", Some(today()));
            async move { c.block_amount(r).await }
        }),
        case("block on an unknown scheme", field("scheme_code"), {
            let mut c = people.clone();
            let r = block(1_00, "NO-SUCH", Some(today()));
            async move { c.block_amount(r).await }
        }),
        case("block in month 13", field("treatment_date"), {
            let mut c = people.clone();
            let r = block(1_00, "PMJAY", day(2025, 13, 1));
            async move { c.block_amount(r).await }
        }),
        case("release a negative amount", field("amount_paise"), {
            let mut c = people.clone();
            let r = b::ReleaseAmountRequest {
                idempotency_key: "bad-release".into(),
                preauth_id: "PA-BAD".into(),
                amount_paise: -1,
                ..Default::default()
            };
            async move { c.release_amount(r).await }
        }),
        case("consume nothing", field("amount_paise"), {
            let mut c = people.clone();
            let r = b::ConsumeAmountRequest {
                idempotency_key: "bad-consume".into(),
                preauth_id: "PA-BAD".into(),
                claim_id: "CL-BAD".into(),
                amount_paise: 0,
                ..Default::default()
            };
            async move { c.consume_amount(r).await }
        }),
        case("ledger page of -1", field("page_size"), {
            let mut c = people.clone();
            let r = b::ListLedgerEntriesRequest {
                wallet_id: "WAL-X".into(),
                page_size: -1,
                ..Default::default()
            };
            async move { c.list_ledger_entries(r).await }
        }),
        case("ledger page of a million", field("page_size"), {
            let mut c = people.clone();
            let r = b::ListLedgerEntriesRequest {
                wallet_id: "WAL-X".into(),
                page_size: 1_000_000,
                ..Default::default()
            };
            async move { c.list_ledger_entries(r).await }
        }),
        case("coverage of state 99", field("state_code"), {
            let mut c = people.clone();
            let r = b::CoverageReportRequest {
                state_code: "99".into(),
                ..Default::default()
            };
            async move { c.coverage_report(r).await }
        }),
        case("balance of nobody", field("family_id"), {
            let mut c = people.clone();
            async move { c.get_balance(b::GetBalanceRequest::default()).await }
        }),
        case("campaign without a campaign", field("campaign"), {
            let mut c = people.clone();
            let r = b::CreateCampaignRequest {
                idempotency_key: "bad-campaign".into(),
                campaign: None,
            };
            async move { c.create_campaign(r).await }
        }),
        case("import that starts with a row", field("header"), {
            let mut c = people.clone();
            let row = b::ImportEligibilityRequest {
                item: Some(Item::Row(b::EligibilityRow::default())),
            };
            async move { c.import_eligibility(tokio_stream::iter([row])).await }
        }),
        case(
            "a 17 MB import row",
            Expect::Code(&[Code::OutOfRange, Code::ResourceExhausted]),
            {
                let mut c = people.clone();
                let header = b::ImportEligibilityRequest {
                    item: Some(Item::Header(b::ImportHeader {
                        idempotency_key: "bad-big".into(),
                        file_name: "big.csv".into(),
                        actor: None,
                    })),
                };
                let row = b::ImportEligibilityRequest {
                    item: Some(Item::Row(b::EligibilityRow {
                        member_name: "x".repeat(17 << 20),
                        ..Default::default()
                    })),
                };
                async move {
                    c.import_eligibility(tokio_stream::iter([header, row]))
                        .await
                }
            },
        ),
        // Facility registry
        case("facility id without IN", field("hfr_id"), {
            let mut c = facilities.clone();
            let r = f::GetFacilityRequest {
                hfr_id: "XX2210000001".into(),
            };
            async move { c.get_facility(r).await }
        }),
        case("facility with a short id", field("facility.hfr_id"), {
            let mut c = facilities.clone();
            let r = f::RegisterFacilityRequest {
                idempotency_key: "bad-f1".into(),
                facility: Some(f::Facility {
                    hfr_id: "IN22".into(),
                    name: "A".into(),
                    ..Default::default()
                }),
            };
            async move { c.register_facility(r).await }
        }),
        case("facility without a name", field("facility.name"), {
            let mut c = facilities.clone();
            let r = f::RegisterFacilityRequest {
                idempotency_key: "bad-f2".into(),
                facility: Some(f::Facility {
                    hfr_id: "IN2210000099".into(),
                    ..Default::default()
                }),
            };
            async move { c.register_facility(r).await }
        }),
        case(
            "facility with a 5,000-letter name",
            field("facility.name"),
            {
                let mut c = facilities.clone();
                let r = f::RegisterFacilityRequest {
                    idempotency_key: "bad-f3".into(),
                    facility: Some(f::Facility {
                        hfr_id: "IN2210000098".into(),
                        name: long_name.clone(),
                        ..Default::default()
                    }),
                };
                async move { c.register_facility(r).await }
            },
        ),
        case("facility with negative beds", field("facility.beds"), {
            let mut c = facilities.clone();
            let mut facility = mesh_tests::facility::bastar_district_hospital();
            facility.hfr_id = "IN2210000097".into();
            facility.beds = -3;
            let r = f::RegisterFacilityRequest {
                idempotency_key: "bad-f4".into(),
                facility: Some(facility),
            };
            async move { c.register_facility(r).await }
        }),
        case("doctor with a bad HPR id", field("professional.hpr_id"), {
            let mut c = facilities.clone();
            let r = f::RegisterProfessionalRequest {
                idempotency_key: "bad-p1".into(),
                professional: Some(f::Professional {
                    hpr_id: "12-34".into(),
                    name: "Dr A".into(),
                    ..Default::default()
                }),
            };
            async move { c.register_professional(r).await }
        }),
        case(
            "empanelment check without a scheme",
            field("scheme_code"),
            {
                let mut c = facilities.clone();
                let r = f::CheckEmpanelmentRequest {
                    hfr_id: "IN2210000001".into(),
                    specialty_code: "CARDIOLOGY".into(),
                    ..Default::default()
                };
                async move { c.check_empanelment(r).await }
            },
        ),
        case("empanelment check on 30 February", field("date"), {
            let mut c = facilities.clone();
            let r = f::CheckEmpanelmentRequest {
                hfr_id: "IN2210000001".into(),
                scheme_code: "PMJAY".into(),
                specialty_code: "CARDIOLOGY".into(),
                date: day(2025, 2, 30),
                treating_hpr_id: String::new(),
            };
            async move { c.check_empanelment(r).await }
        }),
        case(
            "empanelment check for a malformed doctor",
            field("treating_hpr_id"),
            {
                let mut c = facilities.clone();
                let r = f::CheckEmpanelmentRequest {
                    hfr_id: "IN2210000001".into(),
                    scheme_code: "PMJAY".into(),
                    specialty_code: "CARDIOLOGY".into(),
                    treating_hpr_id: "71-4324".into(),
                    ..Default::default()
                };
                async move { c.check_empanelment(r).await }
            },
        ),
        case("ABHA registration without an ABHA", field("abha_number"), {
            let mut c = facilities.clone();
            let r = f::RecordOpdRegistrationRequest {
                idempotency_key: "bad-opd-1".into(),
                hfr_id: "IN2210000001".into(),
                visit_date: day(2025, 6, 1),
                mode: f::OpdRegistrationMode::AbhaScanAndShare as i32,
                abha_number: String::new(),
                token_number: "T1".into(),
            };
            async move { c.record_opd_registration(r).await }
        }),
        case("registration by an unknown mode", field("mode"), {
            let mut c = facilities.clone();
            let r = f::RecordOpdRegistrationRequest {
                idempotency_key: "bad-opd-2".into(),
                hfr_id: "IN2210000001".into(),
                visit_date: day(2025, 6, 1),
                mode: 42,
                abha_number: String::new(),
                token_number: "T2".into(),
            };
            async move { c.record_opd_registration(r).await }
        }),
        case("facilities page of -5", field("page_size"), {
            let mut c = facilities.clone();
            let r = f::ListFacilitiesRequest {
                page_size: -5,
                ..Default::default()
            };
            async move { c.list_facilities(r).await }
        }),
        case("OPD report ending before it starts", field("to_month"), {
            let mut c = facilities.clone();
            let r = f::OpdRegistrationReportRequest {
                hfr_id: "IN2210000001".into(),
                from_month: Some(YearMonth {
                    year: 2025,
                    month: 7,
                }),
                to_month: Some(YearMonth {
                    year: 2025,
                    month: 5,
                }),
                ..Default::default()
            };
            async move { c.opd_registration_report(r).await }
        }),
        case("facility status unspecified", field("status"), {
            let mut c = facilities.clone();
            let r = f::UpdateFacilityStatusRequest {
                idempotency_key: "bad-status".into(),
                hfr_id: "IN2210000001".into(),
                status: 0,
                reason: String::new(),
            };
            async move { c.update_facility_status(r).await }
        }),
        // Preauth
        case("preauth without packages", field("packages"), {
            let mut c = preauths.clone();
            let r = raise(|r| r.packages.clear());
            async move { c.raise_preauth(r).await }
        }),
        case("preauth admitted next year", field("admission_date"), {
            let mut c = preauths.clone();
            let r = raise(|r| {
                r.admission_date = Some(Date {
                    year: 2099,
                    month: 1,
                    day: 1,
                })
            });
            async move { c.raise_preauth(r).await }
        }),
        case("preauth by a bad HPR id", field("treating_hpr_id"), {
            let mut c = preauths.clone();
            let r = raise(|r| r.treating_hpr_id = "71-0".into());
            async move { c.raise_preauth(r).await }
        }),
        case(
            "preauth of an unknown package",
            field("packages[0].package_code"),
            {
                let mut c = preauths.clone();
                let r = raise(|r| r.packages[0].package_code = "ZZ999".into());
                async move { c.raise_preauth(r).await }
            },
        ),
        case("preauth at a bad HFR id", field("hfr_id"), {
            let mut c = preauths.clone();
            let r = raise(|r| r.hfr_id = "IN22".into());
            async move { c.raise_preauth(r).await }
        }),
        case("rejection without a reason", field("reason"), {
            let mut c = preauths.clone();
            let r = pa::ReviewPreauthRequest {
                idempotency_key: "bad-review-1".into(),
                preauth_id: "PA-X".into(),
                decision: pa::ReviewDecision::Reject as i32,
                ..Default::default()
            };
            async move { c.review_preauth(r).await }
        }),
        case(
            "approval of a negative amount",
            field("approved_amount_paise"),
            {
                let mut c = preauths.clone();
                let r = pa::ReviewPreauthRequest {
                    idempotency_key: "bad-review-2".into(),
                    preauth_id: "PA-X".into(),
                    decision: pa::ReviewDecision::Approve as i32,
                    approved_amount_paise: -1,
                    ..Default::default()
                };
                async move { c.review_preauth(r).await }
            },
        ),
        case(
            "enhancement by a negative amount",
            field("additional_amount_paise"),
            {
                let mut c = preauths.clone();
                let r = pa::RequestEnhancementRequest {
                    idempotency_key: "bad-enh".into(),
                    preauth_id: "PA-X".into(),
                    additional_amount_paise: -10,
                    reason: "x".into(),
                    ..Default::default()
                };
                async move { c.request_enhancement(r).await }
            },
        ),
        case("preauths of an unknown status", field("status"), {
            let mut c = preauths.clone();
            let r = pa::ListPreauthsRequest {
                status: 77,
                ..Default::default()
            };
            async move { c.list_preauths(r).await }
        }),
        // Claims
        case("claim without a bill", field("bill_items"), {
            let mut c = claims.clone();
            let r = c::SubmitClaimRequest {
                idempotency_key: "bad-claim-1".into(),
                preauth_id: "PA-X".into(),
                ..Default::default()
            };
            async move { c.submit_claim(r).await }
        }),
        case(
            "claim with a negative bill item",
            field("bill_items[0].amount_paise"),
            {
                let mut c = claims.clone();
                let r = c::SubmitClaimRequest {
                    idempotency_key: "bad-claim-2".into(),
                    preauth_id: "PA-X".into(),
                    bill_items: vec![c::BillItem {
                        description: "x".into(),
                        package_code: String::new(),
                        amount_paise: -100,
                    }],
                    ..Default::default()
                };
                async move { c.submit_claim(r).await }
            },
        ),
        case(
            "partial approval without deductions",
            field("deductions"),
            {
                let mut c = claims.clone();
                let r = c::AdjudicateClaimRequest {
                    idempotency_key: "bad-adj".into(),
                    claim_id: "CL-X".into(),
                    decision: c::AdjudicationDecision::PartiallyApprove as i32,
                    ..Default::default()
                };
                async move { c.adjudicate_claim(r).await }
            },
        ),
        case("claims report without months", field("from_month"), {
            let mut c = claims.clone();
            async move { c.claims_report(c::ClaimsReportRequest::default()).await }
        }),
        case("payment batch for state 00", field("payer_state_code"), {
            let mut c = claims.clone();
            let r = c::CreatePaymentBatchRequest {
                idempotency_key: "bad-batch".into(),
                payer_scheme_code: "PMJAY".into(),
                payer_state_code: "00".into(),
                approved_up_to: Some(today()),
                actor: None,
            };
            async move { c.create_payment_batch(r).await }
        }),
        // Portability
        case("route from state 00", field("home_state_code"), {
            let mut c = portability.clone();
            let r = p::RouteCaseRequest {
                home_state_code: "00".into(),
                scheme_code: "PMJAY".into(),
                hfr_id: "IN2210000001".into(),
                specialty_code: "CARDIOLOGY".into(),
                ..Default::default()
            };
            async move { c.route_case(r).await }
        }),
        case("route with a malformed doctor", field("treating_hpr_id"), {
            let mut c = portability.clone();
            let r = p::RouteCaseRequest {
                home_state_code: "22".into(),
                scheme_code: "PMJAY".into(),
                hfr_id: "IN2210000001".into(),
                specialty_code: "CARDIOLOGY".into(),
                treating_hpr_id: "HPR".into(),
                ..Default::default()
            };
            async move { c.route_case(r).await }
        }),
        case("route to a bad HFR id", field("hfr_id"), {
            let mut c = portability.clone();
            let r = p::RouteCaseRequest {
                home_state_code: "08".into(),
                scheme_code: "RJ-MAA".into(),
                hfr_id: "IN".into(),
                specialty_code: "CARDIOLOGY".into(),
                ..Default::default()
            };
            async move { c.route_case(r).await }
        }),
        case("out-of-state spend of month 13", field("from_month"), {
            let mut c = claims.clone();
            let r = c::OutOfStateSpendReportRequest {
                home_state_code: "10".into(),
                from_month: Some(YearMonth {
                    year: 2025,
                    month: 13,
                }),
                ..Default::default()
            };
            async move { c.out_of_state_spend_report(r).await }
        }),
        case(
            "out-of-state spend naming both directions",
            field("home_state_code"),
            {
                let mut c = claims.clone();
                let r = c::OutOfStateSpendReportRequest {
                    home_state_code: "10".into(),
                    treating_state_code: "22".into(),
                    ..Default::default()
                };
                async move { c.out_of_state_spend_report(r).await }
            },
        ),
        // Gateway
        case("partner with an unknown scope", field("partner.scopes"), {
            let mut c = admin.clone();
            let r = with_key(
                g::CreatePartnerRequest {
                    idempotency_key: "bad-partner-1".into(),
                    partner: Some(g::Partner {
                        name: "P".into(),
                        kind: g::PartnerKind::Tpa as i32,
                        scopes: vec!["everything".into()],
                        ..Default::default()
                    }),
                },
                ADMIN_KEY,
            );
            async move { c.create_partner(r).await }
        }),
        case("partner without a name", field("partner.name"), {
            let mut c = admin.clone();
            let r = with_key(
                g::CreatePartnerRequest {
                    idempotency_key: "bad-partner-2".into(),
                    partner: Some(g::Partner {
                        kind: g::PartnerKind::Tpa as i32,
                        ..Default::default()
                    }),
                },
                ADMIN_KEY,
            );
            async move { c.create_partner(r).await }
        }),
        case("audit of status code 99", field("status_code"), {
            let mut c = admin.clone();
            let r = with_key(
                g::QueryAuditRequest {
                    status_code: Some(99),
                    ..Default::default()
                },
                ADMIN_KEY,
            );
            async move { c.query_audit(r).await }
        }),
    ];

    let total = cases.len() + 2;
    assert!(total >= 50, "the table has {total} cases");
    let mut failures = Vec::new();
    for Case {
        name,
        expect,
        answer,
    } in cases.drain(..)
    {
        let outcome = answer.await;
        let ok = match (&outcome, &expect) {
            (Err(status), Expect::Field(field)) => {
                status.code() == Code::InvalidArgument
                    && bad_fields(status).iter().any(|f| f == field)
            }
            (Err(status), Expect::Code(codes)) => codes.contains(&status.code()),
            (Ok(()), _) => false,
        };
        if !ok {
            let wanted = match expect {
                Expect::Field(field) => format!("INVALID_ARGUMENT on {field}"),
                Expect::Code(codes) => format!("{codes:?}"),
            };
            failures.push(format!("{name}: wanted {wanted}, got {outcome:?}"));
        }
    }

    // Over JSON, through the gateway: a wrong type, and a body that is not JSON.
    let portal = gateway
        .partner("Bad input portal", "", &["beneficiary.read"])
        .await;
    let bearer = format!("Bearer {}", portal.key);
    let path = "/v1/ayushman.beneficiary.v1.BeneficiaryRegistryService/VerifyEligibility";
    for (name, body) in [
        (
            "JSON with a number for a card",
            r#"{"cardNumber": 42, "treatmentDate": "today"}"#,
        ),
        ("a body that is not JSON", "card=42"),
    ] {
        let (status, _, answer) = gateway
            .post_json(path, &[("authorization", &bearer)], body)
            .await;
        if status != 400 || answer["error"]["status"] != "INVALID_ARGUMENT" {
            failures.push(format!(
                "{name}: wanted 400 INVALID_ARGUMENT, got {status} {answer}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );

    for (name, url) in [
        ("beneficiary registry", flow.people.server.url()),
        ("facility registry", flow.facilities.server.url()),
        ("portability", flow.servers[0].url()),
        ("preauth", flow.servers[1].url()),
        ("claims", flow.servers[2].url()),
        ("gateway", gateway.server.url()),
    ] {
        assert_eq!(
            health_of(mesh_tests::connect(&url).await, "").await,
            ServingStatus::Serving,
            "{name} still serves"
        );
    }
    record_figure(
        "bad input",
        &format!("{total} malformed requests across the six services, gRPC and JSON"),
        "every kind of malformed field, an oversized message",
        "nothing: each refused with the right code naming the field; every service still SERVING",
    );
}

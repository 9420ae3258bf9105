//! Ayushman Vay Vandana over real gRPC on SQLite and PostgreSQL: a 72-year-old
//! in a PM-JAY family is treated from the senior top-up once the family's
//! floater is used, one preauth split across both wallets and every later
//! move following the split; his son never draws the top-up; a citizen of 70+
//! on no list is enrolled by Aadhaar e-KYC and covered on a family basis.

use ayushman_platform::convert::today_in_india;
use ayushman_proto::{
    beneficiary::v1 as b,
    claims::v1 as c,
    common::v1::{Actor, Gender, Location},
    preauth::v1 as pb,
};
use chrono::Datelike;
use mesh_tests::{
    beneficiary::aadhaar,
    cases::bill,
    portability::backends,
    preauth::{self, DOCTOR, Flow, SENIOR_FAMILY, quick_settings, today},
};
use tonic::Code;

const BASTAR_HOSPITAL: &str = "IN2210000001";

async fn schemes_of(flow: &mut Flow, beneficiary_id: &str) -> Vec<String> {
    flow.people
        .client
        .get_beneficiary(b::GetBeneficiaryRequest {
            beneficiary_id: beneficiary_id.into(),
        })
        .await
        .expect("beneficiary")
        .into_inner()
        .beneficiary
        .expect("beneficiary")
        .scheme_codes
}

/// (blocked, consumed, available) of the family's wallet of `scheme`, in rupees.
async fn wallet(flow: &mut Flow, scheme: &str) -> (i64, i64, i64) {
    let w = flow.wallet(SENIOR_FAMILY, scheme).await;
    (
        w.blocked_paise / 100,
        w.consumed_paise / 100,
        w.available_paise / 100,
    )
}

fn raise_under(scheme: &str, beneficiary_id: &str, key: &str) -> pb::RaisePreauthRequest {
    pb::RaisePreauthRequest {
        idempotency_key: key.into(),
        beneficiary_id: beneficiary_id.into(),
        scheme_code: scheme.into(),
        hfr_id: BASTAR_HOSPITAL.into(),
        treating_hpr_id: DOCTOR.into(),
        packages: vec![pb::PackageChoice {
            package_code: "MC011A".into(),
            add_on_codes: Vec::new(),
        }],
        admission_date: Some(today()),
        provisional_diagnosis: "unstable angina".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_senior_is_treated_from_the_top_up_once_the_floater_is_used_and_his_son_never_draws_it()
{
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let (senior, son) = flow.senior_family().await;
        assert_eq!(
            schemes_of(&mut flow, &senior).await,
            ["PMJAY", "PMJAY-70PLUS"]
        );
        assert_eq!(schemes_of(&mut flow, &son).await, ["PMJAY"]);

        let sons_case = flow
            .raise_for("son-ptca", &son, BASTAR_HOSPITAL, &["MC011A"])
            .await
            .expect("the son is treated from the floater");
        assert_eq!(sons_case.drawn_scheme_codes, ["PMJAY"]);

        // ₹5,40,000 at Chhattisgarh's rate: ₹4,19,000 left on the floater, the rest from the top-up.
        let seniors_case = flow
            .raise_for("senior-big", &senior, BASTAR_HOSPITAL, &["MC999X"])
            .await
            .expect("the senior's case");
        assert_eq!(
            (
                seniors_case.status,
                seniors_case.blocked_amount_paise,
                seniors_case.drawn_scheme_codes.clone()
            ),
            (
                pb::PreauthStatus::Raised as i32,
                5_40_000_00,
                vec!["PMJAY".to_owned(), "PMJAY-70PLUS".to_owned()]
            ),
            "{backend}"
        );
        assert_eq!(wallet(&mut flow, "PMJAY").await, (5_00_000, 0, 0));
        assert_eq!(
            wallet(&mut flow, "PMJAY-70PLUS").await,
            (1_21_000, 0, 3_79_000)
        );

        let refused = flow
            .raise_for("son-again", &son, BASTAR_HOSPITAL, &["SG039A"])
            .await
            .expect_err("the floater is used up and the top-up is not his");
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(
            refused
                .message()
                .contains("cover could not be blocked: only ₹0 of PMJAY cover is available in "),
            "{refused:?}"
        );
        assert_eq!(
            wallet(&mut flow, "PMJAY-70PLUS").await,
            (1_21_000, 0, 3_79_000),
            "nothing of the top-up moved for the son"
        );

        // Approved ₹5,00,000 of ₹5,40,000 (and finally approved, being above
        // ₹1,00,000): consumed floater first, the remainder released from the top-up.
        let id = seniors_case.preauth_id.clone();
        flow.approve(&id).await;
        flow.discharge(&id).await;
        let claim = flow
            .submit_claim(&id, bill("MC999X", 5_40_000))
            .await
            .expect("claim");
        let approved = flow
            .adjudicate(
                &claim.claim_id,
                c::AdjudicationDecision::PartiallyApprove,
                vec![c::Deduction {
                    code: c::DeductionCode::ShortStay as i32,
                    amount_paise: 40_000_00,
                    reason: "two days fewer than the package".into(),
                }],
                "",
            )
            .await
            .expect("adjudicate");
        assert_eq!(approved.approved_amount_paise, 5_00_000_00);
        flow.final_approval(&claim.claim_id).await;
        assert_eq!(
            wallet(&mut flow, "PMJAY").await,
            (81_000, 4_19_000, 0),
            "{backend}: the son's ₹81,000 is still blocked"
        );
        assert_eq!(
            wallet(&mut flow, "PMJAY-70PLUS").await,
            (0, 81_000, 4_19_000)
        );
    }
}

#[tokio::test]
async fn naming_the_senior_scheme_draws_only_on_the_top_up_at_a_pm_jay_hospital() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let (senior, son) = flow.senior_family().await;
    let raised = flow
        .client
        .raise_preauth(raise_under("PMJAY-70PLUS", &senior, "senior-named"))
        .await
        .expect("a PM-JAY hospital treats top-up holders")
        .into_inner()
        .preauth
        .expect("preauth");
    assert_eq!(
        (
            raised.drawn_scheme_codes.clone(),
            raised.payer_scheme_code.as_str()
        ),
        (vec!["PMJAY-70PLUS".to_owned()], "PMJAY"),
        "PM-JAY's agency pays the top-up through PM-JAY's batches"
    );
    assert_eq!(wallet(&mut flow, "PMJAY").await, (0, 0, 5_00_000));
    assert_eq!(
        wallet(&mut flow, "PMJAY-70PLUS").await,
        (81_000, 0, 4_19_000)
    );

    let refused = flow
        .client
        .raise_preauth(raise_under("PMJAY-70PLUS", &son, "son-named"))
        .await
        .expect_err("the son is 35");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .ends_with("not eligible under PMJAY-70PLUS: the patient is not enrolled in it (or too young for a senior cover)"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_citizen_of_seventy_on_no_list_is_enrolled_by_e_kyc_and_covered_on_a_family_basis() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let year = today_in_india().year();
        let enrol = |key: &str, seed: u64, born: i32| b::EnrolSeniorCitizenRequest {
            mobiliser_id: String::new(),
            self_service: false,
            kyc_proof: String::new(),
            idempotency_key: key.into(),
            aadhaar: aadhaar(seed),
            kyc_method: b::KycMethod::AadhaarOtp as i32,
            name: "Budhri Bai".into(),
            gender: Gender::Female as i32,
            year_of_birth: born,
            location: Some(Location {
                state_code: "22".into(),
                district_code: "22-414".into(),
                ..Default::default()
            }),
            operator: Some(Actor {
                actor_id: "CSC-BASTAR-004".into(),
                ..Default::default()
            }),
            centre_id: "CSC-22414-004".into(),
        };
        let enrolled = flow
            .people
            .client
            .enrol_senior_citizen(enrol("budhri", 7_001, year - 75))
            .await
            .expect("enrolled")
            .into_inner()
            .beneficiary
            .expect("beneficiary");
        assert_eq!(
            (
                enrolled.scheme_codes.clone(),
                enrolled.card_status,
                enrolled.year_of_birth
            ),
            (
                vec!["PMJAY-70PLUS".to_owned()],
                b::CardStatus::Issued as i32,
                year - 75
            ),
            "{backend}"
        );
        let family = flow.people.family(&enrolled.family_id).await;
        let wallets: Vec<_> = family
            .wallets
            .iter()
            .map(|w| (w.scheme_code.as_str(), w.cover_paise, w.available_paise))
            .collect();
        assert_eq!(wallets, [("PMJAY-70PLUS", 5_00_000_00, 5_00_000_00)]);

        let raised = flow
            .raise_for(
                "budhri-ptca",
                &enrolled.beneficiary_id,
                BASTAR_HOSPITAL,
                &["MC011A"],
            )
            .await
            .expect("treated");
        assert_eq!(raised.drawn_scheme_codes, ["PMJAY-70PLUS"]);

        let too_young = flow
            .people
            .client
            .enrol_senior_citizen(enrol("young", 7_002, year - 60))
            .await
            .expect_err("60 is too young");
        assert_eq!(too_young.code(), Code::InvalidArgument);
        assert_eq!(mesh_tests::bad_fields(&too_young), ["year_of_birth"]);
    }
}

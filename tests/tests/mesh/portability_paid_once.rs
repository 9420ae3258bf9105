//! A Rajasthan MAA family treated at a private hospital in Gujarat, end to end
//! through the partner gateway on SQLite and PostgreSQL: only Rajasthan decides
//! the case, Rajasthan's batch pays the hospital once, nothing is owed between
//! the states, and both see the payment in the out-of-state spend view.

use ayushman_platform::convert::today_in_india;
use ayushman_proto::{
    claims::v1::{self as c, claims_service_client::ClaimsServiceClient},
    common::v1::{Role, YearMonth},
    preauth::v1::{self as pb, preauth_service_client::PreauthServiceClient},
};
use chrono::Datelike;
use mesh_tests::{
    cases::bill,
    gateway::{self, as_user, with_key},
    portability::backends,
    preauth::{self, GUJARAT_HOSPITAL, RJ_FAMILY, quick_settings},
};
use tonic::Code;

fn this_month() -> YearMonth {
    let today = today_in_india();
    YearMonth {
        year: today.year(),
        month: today.month() as i32,
    }
}

#[tokio::test]
async fn a_rajasthan_case_at_a_gujarat_hospital_is_decided_by_rajasthan_and_paid_once() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await
            .with_gujarat_hospital()
            .await;
        let gateway = gateway::spawn(&flow, backend).await;
        let reviewer_scopes = [
            "preauth.read",
            "preauth.review",
            "claims.read",
            "claims.adjudicate",
        ];
        let gujarat = gateway.partner("Gujarat SHA", "24", &reviewer_scopes).await;
        let rajasthan = gateway
            .partner("Rajasthan SHA", "08", &reviewer_scopes)
            .await;
        let doctors = [Role::Ppd, Role::Cpd];
        let gujarat_doctor = gateway.user(&gujarat, "Dr. Mehta", &doctors).await;
        let rajasthan_doctor = gateway.user(&rajasthan, "Dr. Meena", &doctors).await;
        let (gj, rj) = (
            (gujarat.key.as_str(), gujarat_doctor.as_str()),
            (rajasthan.key.as_str(), rajasthan_doctor.as_str()),
        );
        let preauths = PreauthServiceClient::new(gateway.channel().await);
        let claims = ClaimsServiceClient::new(gateway.channel().await);

        let raised = flow
            .raise("maa-in-gujarat", RJ_FAMILY, GUJARAT_HOSPITAL, &["MC011A"])
            .await
            .expect("raise");
        assert_eq!(
            (
                raised.portability_case,
                raised.payer_scheme_code.as_str(),
                raised.payer_state_code.as_str()
            ),
            (true, "RJ-MAA", "08"),
            "{backend}"
        );
        let id = raised.preauth_id.clone();
        let review = |key: &str| pb::ReviewPreauthRequest {
            idempotency_key: key.into(),
            preauth_id: id.clone(),
            decision: pb::ReviewDecision::Approve as i32,
            ..Default::default()
        };

        let refused = preauths
            .clone()
            .review_preauth(as_user(review("gj-approves"), gj.0, gj.1))
            .await
            .expect_err("the treating state does not decide");
        assert_eq!(refused.code(), Code::PermissionDenied);
        assert_eq!(
            refused.message(),
            format!(
                "partner {} acts for state 24; only the patient's home state 08 decides preauth {id}",
                gujarat.partner_id
            )
        );
        let seen = preauths
            .clone()
            .get_preauth(with_key(
                pb::GetPreauthRequest {
                    preauth_id: id.clone(),
                },
                &gujarat.key,
            ))
            .await
            .expect("the treating state sees the case")
            .into_inner()
            .preauth
            .expect("preauth");
        assert_eq!(seen.status, pb::PreauthStatus::Raised as i32);
        let approved = preauths
            .clone()
            .review_preauth(as_user(review("rj-approves"), rj.0, rj.1))
            .await
            .expect("the home state decides")
            .into_inner()
            .preauth
            .expect("preauth");
        assert_eq!(approved.status, pb::PreauthStatus::Approved as i32);

        flow.discharge(&id).await;
        let claim = flow
            .submit_claim(&id, bill("MC011A", 90_000))
            .await
            .expect("submit");
        let adjudicate = |key: &str| c::AdjudicateClaimRequest {
            idempotency_key: key.into(),
            claim_id: claim.claim_id.clone(),
            decision: c::AdjudicationDecision::Approve as i32,
            ..Default::default()
        };
        let refused = claims
            .clone()
            .adjudicate_claim(as_user(adjudicate("gj-adjudicates"), gj.0, gj.1))
            .await
            .expect_err("the treating state does not adjudicate");
        assert_eq!(refused.code(), Code::PermissionDenied);
        claims
            .clone()
            .adjudicate_claim(as_user(adjudicate("rj-adjudicates"), rj.0, rj.1))
            .await
            .expect("the home state adjudicates");

        let batch = flow.pay("RJ-MAA", "08").await;
        let wallet = flow.wallet(RJ_FAMILY, "RJ-MAA").await;
        assert_eq!(
            (
                batch.claim_ids.clone(),
                batch.total_approved_paise,
                wallet.consumed_paise
            ),
            (vec![claim.claim_id.clone()], 90_000_00, 90_000_00),
            "{backend}: the hospital is paid what the wallet gave, once"
        );

        let month = this_month();
        let spend = |home: &str, treating: &str| c::OutOfStateSpendReportRequest {
            home_state_code: home.into(),
            treating_state_code: treating.into(),
            from_month: Some(month),
            to_month: Some(month),
        };
        let outbound = claims
            .clone()
            .out_of_state_spend_report(with_key(spend("08", ""), &rajasthan.key))
            .await
            .expect("Rajasthan's spend")
            .into_inner();
        let rows: Vec<_> = outbound
            .rows
            .iter()
            .map(|r| {
                (
                    r.home_state_code.as_str(),
                    r.treating_state_code.as_str(),
                    r.specialty_code.as_str(),
                    r.claims_paid,
                    r.paid_paise,
                )
            })
            .collect();
        assert_eq!(rows, [("08", "24", "CARDIOLOGY", 1, 90_000_00)]);
        let share = &outbound.months[0];
        assert_eq!(
            (
                share.total_paid_paise,
                share.out_of_state_paid_paise,
                share.out_of_state_basis_points
            ),
            (90_000_00, 90_000_00, 10_000)
        );
        let inbound = claims
            .clone()
            .out_of_state_spend_report(with_key(spend("", "24"), &gujarat.key))
            .await
            .expect("Gujarat's receipts")
            .into_inner();
        assert_eq!(
            inbound.rows, outbound.rows,
            "the same payment, seen inbound"
        );
        let other_state = claims
            .clone()
            .out_of_state_spend_report(with_key(spend("08", ""), &gujarat.key))
            .await
            .expect_err("Gujarat does not read Rajasthan's books");
        assert_eq!(other_state.code(), Code::PermissionDenied);
    }
}

#[tokio::test]
async fn a_package_the_home_state_reserves_is_not_offered_at_a_private_hospital_outside_it() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await
        .with_gujarat_hospital()
        .await;
    let mut maa = flow
        .people
        .client
        .get_scheme(ayushman_proto::beneficiary::v1::GetSchemeRequest {
            scheme_code: "RJ-MAA".into(),
        })
        .await
        .expect("MAA")
        .into_inner()
        .scheme
        .expect("scheme");
    maa.reserved_package_codes = vec!["MC011A".into()];
    flow.people
        .client
        .update_scheme(ayushman_proto::beneficiary::v1::UpdateSchemeRequest {
            idempotency_key: "maa-reserves-ptca".into(),
            scheme: Some(maa),
        })
        .await
        .expect("reserve");

    let refused = flow
        .raise("maa-reserved", RJ_FAMILY, GUJARAT_HOSPITAL, &["MC011A"])
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().ends_with(
            "package MC011A is reserved by RJ-MAA for public hospitals; it is not offered at private hospitals outside state 08"
        ),
        "{refused:?}"
    );
    let at_public = flow
        .raise(
            "maa-reserved-public",
            RJ_FAMILY,
            "IN2210000001",
            &["MC011A"],
        )
        .await
        .expect("raise");
    assert_eq!(
        at_public.status,
        pb::PreauthStatus::Raised as i32,
        "a public hospital outside the state still offers it"
    );
    assert_eq!(
        flow.wallet(RJ_FAMILY, "RJ-MAA").await.blocked_paise,
        81_000_00
    );
}

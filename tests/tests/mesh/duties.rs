//! Who may act on a case, through the partner gateway on SQLite and
//! PostgreSQL (DESIGN §4): a hospital's system acts for its own hospital
//! only; the user who raised a preauth does not decide it; the user who
//! adjudicated a claim does not give its final approval; a user who approved
//! a claim does not mark it paid; and every history names the authenticated
//! user, whatever the request body says.

use ayushman_proto::{
    claims::v1::{self as c, claims_service_client::ClaimsServiceClient},
    common::v1::{Actor, Role},
    preauth::v1::{self as pa, preauth_service_client::PreauthServiceClient},
};
use mesh_tests::{
    cases::bill,
    gateway::{self, as_user},
    portability::backends,
    preauth::{self, CG_FAMILY, DOCTOR, quick_settings, today},
};
use tonic::Code;

fn raise(key: &str, beneficiary_id: &str, hfr_id: &str) -> pa::RaisePreauthRequest {
    pa::RaisePreauthRequest {
        idempotency_key: key.into(),
        beneficiary_id: beneficiary_id.into(),
        hfr_id: hfr_id.into(),
        treating_hpr_id: DOCTOR.into(),
        packages: vec![pa::PackageChoice {
            package_code: "MC011A".into(),
            add_on_codes: vec!["IMP-DES".into()],
        }],
        admission_date: Some(today()),
        ..Default::default()
    }
}

fn approve(key: &str, preauth_id: &str) -> pa::ReviewPreauthRequest {
    pa::ReviewPreauthRequest {
        idempotency_key: key.into(),
        preauth_id: preauth_id.into(),
        decision: pa::ReviewDecision::Approve as i32,
        actor: Some(Actor {
            actor_id: "whoever-the-body-says".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn one_person_never_does_two_duties_on_a_case_and_a_hospital_acts_for_itself() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let gateway = gateway::spawn(&flow, backend).await;
        let his = gateway
            .hospital("Bastar DH system", &["IN2210000001"], &["preauth.write"])
            .await;
        let mitra = gateway.user(&his, "Arogya Mitra", &[Role::Pmam]).await;
        let sha = gateway
            .partner(
                "Chhattisgarh SHA",
                "22",
                &[
                    "preauth.read",
                    "preauth.write",
                    "preauth.review",
                    "claims.read",
                    "claims.adjudicate",
                    "claims.pay",
                ],
            )
            .await;
        let both = gateway
            .user(&sha, "Raises and reviews", &[Role::Pmam, Role::Ppd])
            .await;
        let ppd = gateway.user(&sha, "Dr. Second PPD", &[Role::Ppd]).await;
        let cpd_aco = gateway
            .user(&sha, "Claim doctor who also pays", &[Role::Cpd, Role::Aco])
            .await;
        let cpd = gateway.user(&sha, "Dr. Senior CPD", &[Role::Cpd]).await;
        let aco = gateway.user(&sha, "Accounts officer", &[Role::Aco]).await;
        let preauths = PreauthServiceClient::new(gateway.channel().await);
        let claims = ClaimsServiceClient::new(gateway.channel().await);
        let person = flow.member(CG_FAMILY).await;

        let elsewhere = preauths
            .clone()
            .raise_preauth(as_user(
                raise("his-jaipur", &person, "IN0810000042"),
                &his.key,
                &mitra,
            ))
            .await
            .expect_err("another hospital's case");
        assert_eq!(elsewhere.code(), Code::PermissionDenied, "{backend}");
        assert_eq!(
            elsewhere.message(),
            format!(
                "partner {} acts for hospital IN2210000001 only; this case is at IN0810000042",
                his.partner_id
            )
        );

        let raised = preauths
            .clone()
            .raise_preauth(as_user(
                raise("sha-raise", &person, "IN2210000001"),
                &sha.key,
                &both,
            ))
            .await
            .expect("raise")
            .into_inner()
            .preauth
            .expect("preauth");
        let id = raised.preauth_id.clone();
        let own = preauths
            .clone()
            .review_preauth(as_user(approve("own", &id), &sha.key, &both))
            .await
            .expect_err("the raiser decides");
        assert_eq!(own.code(), Code::PermissionDenied);
        assert_eq!(
            own.message(),
            format!("user {both} raised preauth {id}; another user must decide it")
        );
        let approved = preauths
            .clone()
            .review_preauth(as_user(approve("other", &id), &sha.key, &ppd))
            .await
            .expect("another user decides")
            .into_inner()
            .preauth
            .expect("preauth");
        let approver = approved.history.last().and_then(|h| h.actor.clone());
        assert_eq!(
            approver.map(|a| a.actor_id),
            Some(ppd.clone()),
            "{backend}: the history names the authenticated user"
        );

        flow.discharge(&id).await;
        let claim = flow
            .submit_claim(&id, bill("MC011A", 1_11_000))
            .await
            .expect("claim");
        let cid = claim.claim_id.clone();
        let adjudicated = claims
            .clone()
            .adjudicate_claim(as_user(
                c::AdjudicateClaimRequest {
                    idempotency_key: "adjudicate".into(),
                    claim_id: cid.clone(),
                    decision: c::AdjudicationDecision::Approve as i32,
                    ..Default::default()
                },
                &sha.key,
                &cpd_aco,
            ))
            .await
            .expect("adjudicate")
            .into_inner()
            .claim
            .expect("claim");
        assert_eq!(
            adjudicated.status,
            c::ClaimStatus::PendingFinalApproval as i32
        );
        let final_approval = |key: &str| c::ApproveClaimRequest {
            idempotency_key: key.into(),
            claim_id: cid.clone(),
            ..Default::default()
        };
        let own = claims
            .clone()
            .approve_claim(as_user(final_approval("own-final"), &sha.key, &cpd_aco))
            .await
            .expect_err("the adjudicator approves");
        assert_eq!(
            own.message(),
            format!(
                "user {cpd_aco} adjudicated claim {cid}; another user must give its final approval"
            )
        );
        claims
            .clone()
            .approve_claim(as_user(final_approval("final"), &sha.key, &cpd))
            .await
            .expect("another claim doctor approves");

        let batch = claims
            .clone()
            .create_payment_batch(as_user(
                c::CreatePaymentBatchRequest {
                    idempotency_key: "batch".into(),
                    payer_scheme_code: "PMJAY".into(),
                    payer_state_code: "22".into(),
                    approved_up_to: Some(today()),
                    actor: None,
                },
                &sha.key,
                &aco,
            ))
            .await
            .expect("batch")
            .into_inner()
            .batch
            .expect("batch");
        let paid = |key: &str| c::MarkPaidRequest {
            idempotency_key: key.into(),
            payment_batch_id: batch.payment_batch_id.clone(),
            payment_reference: "UTR-CG-0001".into(),
            ..Default::default()
        };
        let own = claims
            .clone()
            .mark_paid(as_user(paid("own-paid"), &sha.key, &cpd_aco))
            .await
            .expect_err("the approver pays");
        assert_eq!(own.code(), Code::PermissionDenied);
        assert_eq!(
            own.message(),
            format!(
                "user {cpd_aco} approved claim {cid}; another user must mark payment batch {} paid",
                batch.payment_batch_id
            )
        );
        let done = claims
            .clone()
            .mark_paid(as_user(paid("paid"), &sha.key, &aco))
            .await
            .expect("the accounts officer pays")
            .into_inner()
            .batch
            .expect("batch");
        assert_eq!(done.status, c::PaymentBatchStatus::Paid as i32, "{backend}");
    }
}

//! The turnaround rules (DESIGN §4) over real gRPC: deemed approval waits for
//! a reviewer on flagged and high-value cases and counts from the hospital's
//! last answer; a claim's payment clock stops while it is queried back; a
//! claim is capped at the approved amount. Clocks are moved in the database
//! rather than waited for.

use std::time::Duration;

use ayushman_proto::{claims::v1 as c, preauth::v1 as pb};
use mesh_tests::{
    cases::bill,
    portability::backends,
    preauth::{self, CG_FAMILY, Flow, RJ_FAMILY, quick_settings},
};

/// Deemed approval after an hour, for cases up to the default ₹1,00,000.
fn an_hour_to_review() -> ::preauth::config::PreauthSettings {
    preauth::preauth_settings_with_deemed_minutes(60)
}

async fn status_of(flow: &mut Flow, id: &str) -> i32 {
    flow.get(id).await.status
}

/// Waits (up to 5 s) until the background pass approves `id`.
async fn deemed(flow: &mut Flow, id: &str) -> pb::Preauth {
    for _ in 0..100 {
        let preauth = flow.get(id).await;
        if preauth.status == pb::PreauthStatus::Approved as i32 {
            return preauth;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} was not deemed approved");
}

#[tokio::test]
async fn deemed_approval_waits_for_a_reviewer_on_flagged_and_high_value_cases() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, an_hour_to_review())
            .await
            .with_everything()
            .await;
        let (senior, _) = flow.senior_family().await;
        let plain = flow
            .raise("plain", CG_FAMILY, "IN2210000001", &["MC011A"])
            .await
            .expect("raise");
        let flagged = flow
            .raise("overlapping", CG_FAMILY, "IN0810000042", &["SG039A"])
            .await
            .expect("raise");
        assert_eq!(
            flagged.fraud_flags[0].kind,
            pb::FraudFlagKind::OverlappingAdmission as i32
        );
        let high = flow
            .raise_for("high", &senior, "IN2210000001", &["MC999X"])
            .await
            .expect("raise");
        assert_eq!(high.requested_amount_paise, 5_40_000_00);
        for id in [&plain.preauth_id, &flagged.preauth_id, &high.preauth_id] {
            flow.backdate_review_clock(id, 2).await;
        }

        let approved = deemed(&mut flow, &plain.preauth_id).await;
        assert!(approved.deemed_approval, "{backend}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (id, why) in [
            (&flagged.preauth_id, "flagged"),
            (&high.preauth_id, "above ₹1,00,000"),
        ] {
            assert_eq!(
                status_of(&mut flow, id).await,
                pb::PreauthStatus::Raised as i32,
                "{backend}: {why} cases wait for a reviewer"
            );
        }
    }
}

#[tokio::test]
async fn the_review_clock_counts_from_the_hospitals_answer_to_a_query() {
    let mut flow = preauth::spawn("sqlite", an_hour_to_review())
        .await
        .with_everything()
        .await;
    let raised = flow
        .raise("queried", RJ_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("raise");
    let id = raised.preauth_id.clone();
    flow.client
        .review_preauth(pb::ReviewPreauthRequest {
            idempotency_key: "query".into(),
            preauth_id: id.clone(),
            decision: pb::ReviewDecision::Query as i32,
            reason: "angiography report needed".into(),
            ..Default::default()
        })
        .await
        .expect("query");
    // Raised two hours ago, and queried since: a queried case is never deemed.
    flow.backdate_review_clock(&id, 2).await;
    let answered = flow
        .client
        .respond_to_query(pb::RespondToQueryRequest {
            idempotency_key: "answer".into(),
            preauth_id: id.clone(),
            response: "report attached".into(),
            actor: None,
        })
        .await
        .expect("answer")
        .into_inner()
        .preauth
        .expect("preauth");
    let (created, clock) = (
        answered.created_at.expect("created").seconds,
        answered.review_clock_from.expect("clock").seconds,
    );
    assert!(
        clock - created >= -5,
        "the clock restarted at the answer: created {created}, clock {clock}"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        status_of(&mut flow, &id).await,
        pb::PreauthStatus::Raised as i32,
        "two hours since the raise, minutes since the answer: not deemed yet"
    );
    flow.backdate_review_clock(&id, 2).await;
    let approved = deemed(&mut flow, &id).await;
    assert!(approved.deemed_approval);
}

/// Raises, approves and discharges a case of `family` for MC011A (₹81,000).
async fn discharged(flow: &mut Flow, key: &str, family: &str) -> String {
    let id = flow
        .raise(key, family, "IN2210000001", &["MC011A"])
        .await
        .expect("raise")
        .preauth_id;
    flow.approve(&id).await;
    flow.discharge(&id).await;
    id
}

#[tokio::test]
async fn a_claims_payment_clock_stops_while_it_is_queried_back_to_the_hospital() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let id = discharged(&mut flow, "tat", CG_FAMILY).await;
        let claim = flow
            .submit_claim(&id, bill("MC011A", 81_000))
            .await
            .expect("claim");
        let due = claim.payment_due_at.expect("due").seconds;
        flow.adjudicate(
            &claim.claim_id,
            c::AdjudicationDecision::Query,
            Vec::new(),
            "discharge summary is unsigned",
        )
        .await
        .expect("query");
        flow.backdate_claim_query(&claim.claim_id, 3).await;
        let answered = flow
            .claims
            .respond_to_claim_query(c::RespondToClaimQueryRequest {
                idempotency_key: "tat-answer".into(),
                claim_id: claim.claim_id.clone(),
                response: "signed summary attached".into(),
                ..Default::default()
            })
            .await
            .expect("answer")
            .into_inner()
            .claim
            .expect("claim");
        let moved = answered.payment_due_at.expect("due").seconds - due;
        assert!(
            (3 * 86_400..3 * 86_400 + 60).contains(&moved),
            "{backend}: the due date moved by the three days the hospital held it, not {moved} s"
        );
    }
}

#[tokio::test]
async fn a_claim_is_capped_at_the_amount_the_reviewer_approved() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let id = flow
        .raise("capped", CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("raise")
        .preauth_id;
    let approved = flow
        .client
        .review_preauth(pb::ReviewPreauthRequest {
            idempotency_key: "capped-approve".into(),
            preauth_id: id.clone(),
            decision: pb::ReviewDecision::Approve as i32,
            approved_amount_paise: 70_000_00,
            reason: "stent not indicated".into(),
            ..Default::default()
        })
        .await
        .expect("approve")
        .into_inner()
        .preauth
        .expect("preauth");
    assert_eq!(approved.approved_amount_paise, 70_000_00);
    flow.discharge(&id).await;
    let claim = flow
        .submit_claim(&id, bill("MC011A", 85_000))
        .await
        .expect("claim");
    assert_eq!(
        claim.claimed_amount_paise, 70_000_00,
        "capped at the ₹70,000 approved, not the ₹81,000 once blocked"
    );
}

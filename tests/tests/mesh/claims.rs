//! Claims across preauth, the beneficiary registry, the facility registry and
//! portability, in-process over real gRPC, on SQLite and (with TEST_DATABASE_URL)
//! PostgreSQL: the life cycle, the money it moves, and the refusals.

use ayushman_proto::{
    beneficiary::v1 as b,
    claims::v1::{self as pb, ClaimStatus},
    common::v1::YearMonth,
    preauth::v1 as pa,
};
use mesh_tests::{
    bad_fields,
    cases::bill,
    portability::backends,
    preauth::{self, CG_FAMILY, Flow, RJ_FAMILY, quick_settings, today},
};
use tonic::Code;

/// Raises `packages` at the Bastar district hospital, approves and discharges
/// the case; returns its id.
async fn discharged(flow: &mut Flow, key: &str, family: &str, packages: &[&str]) -> String {
    let id = flow
        .raise(key, family, "IN2210000001", packages)
        .await
        .expect("raise")
        .preauth_id;
    flow.approve(&id).await;
    flow.discharge(&id).await;
    id
}

/// SubmitClaim of one MC011A bill line of `rupees`.
async fn submit(
    flow: &mut Flow,
    preauth_id: &str,
    rupees: i64,
) -> Result<pb::Claim, tonic::Status> {
    flow.submit_claim(preauth_id, bill("MC011A", rupees)).await
}

#[tokio::test]
async fn a_claim_goes_from_submission_to_payment_and_every_rupee_is_accounted_for() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let preauth_id = discharged(&mut flow, "pa-claim", CG_FAMILY, &["MC011A"]).await;
        let claim = submit(&mut flow, &preauth_id, 85_000)
            .await
            .expect("submit");
        assert_eq!(
            (claim.status, claim.claimed_amount_paise),
            (ClaimStatus::Submitted as i32, 81_000_00),
            "capped at what the preauth holds"
        );

        let deduction = pb::Deduction {
            code: pb::DeductionCode::ShortStay as i32,
            amount_paise: 6_000_00,
            reason: "discharged a day early".into(),
        };
        let approved = flow
            .adjudicate(
                &claim.claim_id,
                pb::AdjudicationDecision::PartiallyApprove,
                vec![deduction],
                "",
            )
            .await
            .expect("adjudicate");
        assert_eq!(
            (approved.status, approved.approved_amount_paise),
            (ClaimStatus::PartiallyApproved as i32, 75_000_00),
            "{backend}"
        );

        let wallet = flow.wallet(CG_FAMILY, "PMJAY").await;
        assert_eq!(
            (
                wallet.blocked_paise,
                wallet.consumed_paise,
                wallet.available_paise
            ),
            (0, 75_000_00, 4_25_000_00)
        );
        let ledger = flow
            .people
            .client
            .list_ledger_entries(b::ListLedgerEntriesRequest {
                wallet_id: wallet.wallet_id,
                ..Default::default()
            })
            .await
            .expect("ledger")
            .into_inner();
        let total = |kind: b::LedgerEntryKind| {
            ledger
                .entries
                .iter()
                .filter(|e| e.kind == kind as i32)
                .map(|e| e.amount_paise)
                .sum::<i64>()
        };
        assert_eq!(
            total(b::LedgerEntryKind::Block),
            total(b::LedgerEntryKind::Consume) + total(b::LedgerEntryKind::Release),
            "blocked = consumed + released"
        );
        assert_eq!(total(b::LedgerEntryKind::Consume), 75_000_00);

        let society = flow
            .claims
            .facility_society_ledger(pb::FacilitySocietyLedgerRequest {
                hfr_id: "IN2210000001".into(),
                ..Default::default()
            })
            .await
            .expect("society ledger")
            .into_inner();
        assert_eq!(
            (
                society.society_name.as_str(),
                society.balance_paise,
                society.patients
            ),
            ("Jeevandeep Samiti, DH Jagdalpur", 75_000_00, 1)
        );

        let batch = flow
            .claims
            .create_payment_batch(pb::CreatePaymentBatchRequest {
                idempotency_key: "batch-1".into(),
                payer_scheme_code: "PMJAY".into(),
                payer_state_code: "22".into(),
                approved_up_to: Some(today()),
                actor: None,
            })
            .await
            .expect("batch")
            .into_inner()
            .batch
            .expect("batch");
        assert_eq!(batch.claim_ids, std::slice::from_ref(&claim.claim_id));
        let paid = flow
            .claims
            .mark_paid(pb::MarkPaidRequest {
                idempotency_key: "paid-1".into(),
                payment_batch_id: batch.payment_batch_id.clone(),
                payment_reference: "UTR-2025-0001".into(),
                paid_at: None,
                actor: None,
            })
            .await
            .expect("paid")
            .into_inner()
            .batch
            .expect("batch");
        assert_eq!(
            (
                paid.status,
                paid.total_approved_paise,
                paid.total_penalty_paise
            ),
            (pb::PaymentBatchStatus::Paid as i32, 75_000_00, 0)
        );
        let final_claim = flow
            .claims
            .get_claim(pb::GetClaimRequest {
                claim_id: claim.claim_id.clone(),
            })
            .await
            .expect("get")
            .into_inner()
            .claim
            .expect("claim");
        let statuses: Vec<_> = final_claim
            .history
            .iter()
            .map(|h| h.status.trim_start_matches("CLAIM_STATUS_"))
            .collect();
        assert_eq!(
            statuses,
            [
                "SUBMITTED",
                "PARTIALLY_APPROVED",
                "IN_PAYMENT_BATCH",
                "PAID"
            ]
        );

        let now = ayushman_platform::convert::today_in_india();
        let month = YearMonth {
            year: chrono::Datelike::year(&now),
            month: chrono::Datelike::month(&now) as i32,
        };
        let report = flow
            .claims
            .claims_report(pb::ClaimsReportRequest {
                from_month: Some(month),
                to_month: Some(month),
                ..Default::default()
            })
            .await
            .expect("report")
            .into_inner()
            .total
            .expect("total");
        assert_eq!(
            (
                report.claims_submitted,
                report.approved_paise,
                report.paid_paise,
                report.claims_paid
            ),
            (1, 75_000_00, 75_000_00, 1)
        );
    }
}

#[tokio::test]
async fn a_rejected_claim_releases_the_block() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let preauth_id = discharged(&mut flow, "pa-reject", CG_FAMILY, &["MC011A"]).await;
    let claim = submit(&mut flow, &preauth_id, 81_000)
        .await
        .expect("submit");
    let rejected = flow
        .adjudicate(
            &claim.claim_id,
            pb::AdjudicationDecision::Reject,
            Vec::new(),
            "procedure not done",
        )
        .await
        .expect("reject");
    assert_eq!(rejected.status, ClaimStatus::Rejected as i32);
    let wallet = flow.wallet(CG_FAMILY, "PMJAY").await;
    assert_eq!(
        (
            wallet.blocked_paise,
            wallet.consumed_paise,
            wallet.available_paise
        ),
        (0, 0, 5_00_000_00)
    );
}

#[tokio::test]
async fn large_claims_wait_for_final_approval_before_money_moves() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let preauth_id = discharged(&mut flow, "pa-big", CG_FAMILY, &["MC011A", "SG039A"]).await;
    let claim = submit(&mut flow, &preauth_id, 1_03_500)
        .await
        .expect("submit");
    let waiting = flow
        .adjudicate(
            &claim.claim_id,
            pb::AdjudicationDecision::Approve,
            Vec::new(),
            "",
        )
        .await
        .expect("adjudicate");
    assert_eq!(waiting.status, ClaimStatus::PendingFinalApproval as i32);
    assert_eq!(
        flow.wallet(CG_FAMILY, "PMJAY").await.consumed_paise,
        0,
        "nothing consumed before final approval"
    );
    let approved = flow
        .claims
        .approve_claim(pb::ApproveClaimRequest {
            idempotency_key: "final".into(),
            claim_id: claim.claim_id.clone(),
            reason: "checked".into(),
            actor: None,
        })
        .await
        .expect("final approval")
        .into_inner()
        .claim
        .expect("claim");
    assert_eq!(approved.status, ClaimStatus::Approved as i32);
    assert_eq!(
        flow.wallet(CG_FAMILY, "PMJAY").await.consumed_paise,
        1_03_500_00
    );
}

#[tokio::test]
async fn submitting_again_makes_one_claim_and_a_claim_needs_a_discharge() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let preauth_id = discharged(&mut flow, "pa-once", CG_FAMILY, &["MC011A"]).await;
    let first = submit(&mut flow, &preauth_id, 81_000)
        .await
        .expect("submit");
    let again = submit(&mut flow, &preauth_id, 81_000).await.expect("again");
    assert_eq!(first.claim_id, again.claim_id);
    let all = flow
        .claims
        .list_claims(pb::ListClaimsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.claims.len(), 1);

    let raised = flow
        .raise("pa-not-discharged", CG_FAMILY, "IN2210000001", &["SG039A"])
        .await
        .expect("raise");
    let refused = submit(&mut flow, &raised.preauth_id, 25_000)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        refused.message(),
        format!(
            "preauth {} is RAISED; a claim needs a discharged preauth",
            raised.preauth_id
        )
    );
    let empty = flow
        .claims
        .submit_claim(pb::SubmitClaimRequest {
            idempotency_key: "k".into(),
            preauth_id: preauth_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&empty), ["bill_items"]);
}

#[tokio::test]
async fn a_claim_submitted_after_the_window_is_refused_with_the_reason() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let beneficiary_id = flow.member(CG_FAMILY).await;
    let admitted = ayushman_platform::convert::today_in_india() - chrono::Duration::days(20);
    let raised = flow
        .client
        .raise_preauth(pa::RaisePreauthRequest {
            idempotency_key: "pa-late".into(),
            beneficiary_id,
            hfr_id: "IN2210000001".into(),
            treating_hpr_id: preauth::DOCTOR.into(),
            packages: vec![pa::PackageChoice {
                package_code: "MC011A".into(),
                add_on_codes: Vec::new(),
            }],
            admission_date: Some(ayushman_platform::convert::date_to_proto(admitted)),
            ..Default::default()
        })
        .await
        .expect("raise")
        .into_inner()
        .preauth
        .expect("preauth");
    flow.client
        .review_preauth(pa::ReviewPreauthRequest {
            idempotency_key: "late-approve".into(),
            preauth_id: raised.preauth_id.clone(),
            decision: pa::ReviewDecision::Approve as i32,
            ..Default::default()
        })
        .await
        .expect("approve");
    let discharged_on = admitted + chrono::Duration::days(3);
    flow.client
        .discharge(pa::DischargeRequest {
            idempotency_key: "late-discharge".into(),
            preauth_id: raised.preauth_id.clone(),
            discharge_date: Some(ayushman_platform::convert::date_to_proto(discharged_on)),
            ..Default::default()
        })
        .await
        .expect("discharge");
    let late = submit(&mut flow, &raised.preauth_id, 81_000)
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert_eq!(
        late.message(),
        format!(
            "submitted 17 days after discharge on {discharged_on}; claims must be submitted within 15 days"
        )
    );
}

#[tokio::test]
async fn a_batch_paid_within_the_turnaround_costs_nothing_and_one_paid_after_it_a_week() {
    // Portability claims are due the moment they are submitted here, so
    // paying the Rajasthan case now is late; the Chhattisgarh one is in time.
    let claims_settings = claims::config::ClaimsSettings {
        tat_days_portability: 0,
        ..preauth::quick_claims_settings()
    };
    let mut flow = preauth::spawn_with_claims("sqlite", quick_settings(), claims_settings)
        .await
        .with_everything()
        .await;
    let mut payers = Vec::new();
    for (key, family) in [("pa-on-time", CG_FAMILY), ("pa-late-pay", RJ_FAMILY)] {
        let preauth_id = discharged(&mut flow, key, family, &["MC011A"]).await;
        let claim = submit(&mut flow, &preauth_id, 81_000)
            .await
            .expect("submit");
        flow.adjudicate(
            &claim.claim_id,
            pb::AdjudicationDecision::Approve,
            Vec::new(),
            "",
        )
        .await
        .expect("approve");
        payers.push((claim.payer_scheme_code, claim.payer_state_code));
    }
    let mut penalties = Vec::new();
    for (i, (scheme, state)) in payers.into_iter().enumerate() {
        let batch = flow
            .claims
            .create_payment_batch(pb::CreatePaymentBatchRequest {
                idempotency_key: format!("b{i}"),
                payer_scheme_code: scheme,
                payer_state_code: state,
                approved_up_to: Some(today()),
                actor: None,
            })
            .await
            .expect("batch")
            .into_inner()
            .batch
            .expect("batch");
        let paid = flow
            .claims
            .mark_paid(pb::MarkPaidRequest {
                idempotency_key: format!("p{i}"),
                payment_batch_id: batch.payment_batch_id,
                payment_reference: format!("UTR-{i}"),
                paid_at: None,
                actor: None,
            })
            .await
            .expect("paid")
            .into_inner()
            .batch
            .expect("batch");
        penalties.push(paid.total_penalty_paise);
    }
    assert_eq!(
        penalties,
        [0, 81_000],
        "1 % of ₹81,000 for the started week"
    );
}

#[tokio::test]
async fn a_payment_cannot_be_dated_before_its_batch_or_in_the_future() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let preauth_id = discharged(&mut flow, "pa-dated", CG_FAMILY, &["MC011A"]).await;
    let claim = submit(&mut flow, &preauth_id, 81_000)
        .await
        .expect("submit");
    flow.adjudicate(
        &claim.claim_id,
        pb::AdjudicationDecision::Approve,
        Vec::new(),
        "",
    )
    .await
    .expect("approve");
    let batch = flow
        .claims
        .create_payment_batch(pb::CreatePaymentBatchRequest {
            idempotency_key: "b-dated".into(),
            payer_scheme_code: claim.payer_scheme_code,
            payer_state_code: claim.payer_state_code,
            approved_up_to: Some(today()),
            actor: None,
        })
        .await
        .expect("batch")
        .into_inner()
        .batch
        .expect("batch");
    let created = batch.created_at.expect("created at");
    for (key, seconds, why) in [
        (
            "p-back-dated",
            created.seconds - 86_400,
            "is before the batch was made",
        ),
        (
            "p-future",
            created.seconds + 30 * 86_400,
            "is in the future",
        ),
    ] {
        let refused = flow
            .claims
            .mark_paid(pb::MarkPaidRequest {
                idempotency_key: key.into(),
                payment_batch_id: batch.payment_batch_id.clone(),
                payment_reference: "UTR-DATED".into(),
                paid_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
                actor: None,
            })
            .await
            .expect_err("refused");
        assert_eq!(bad_fields(&refused), ["paid_at"]);
        assert!(refused.message().contains(why), "{}", refused.message());
    }
}

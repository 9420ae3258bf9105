//! Decisions and money moves that race, on SQLite and PostgreSQL: of two
//! concurrent decisions on one case exactly one wins and the money follows
//! the winner; no sequence of releases and consumptions under any keys moves
//! more than a preauth holds; a payment batch is made whole or not at all.
//! Every test ends with the wallet reconciled against its ledger and holds.

use ayushman_platform::{MeshService, db, testing};
use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    claims::v1 as c,
    preauth::v1::{self as pa, PreauthStatus},
};
use futures::future::join_all;
use mesh_tests::{
    beneficiary,
    portability::backends,
    preauth::{self, CG_FAMILY, Flow, quick_settings, today},
    record_figure,
};
use sea_orm::ConnectionTrait;
use tonic::{Code, transport::Channel};

/// The wallet beside its ledger and holds; fails the test unless they agree.
async fn reconciled(
    registry: &mut BeneficiaryRegistryServiceClient<Channel>,
    wallet_id: &str,
    backend: &str,
) -> b::Wallet {
    let reconciliation = registry
        .reconcile_wallet(b::ReconcileWalletRequest {
            wallet_id: wallet_id.into(),
        })
        .await
        .expect("reconcile wallet")
        .into_inner();
    assert!(
        reconciliation.consistent,
        "{backend}: wallet, ledger and holds disagree: {reconciliation:?}"
    );
    reconciliation.wallet.expect("wallet")
}

/// Releases everything, consumes ₹60,000 (releasing the rest) or releases
/// ₹40,000 of `preauth_id`, by `n`, each under a key of its own.
async fn move_money(
    mut registry: BeneficiaryRegistryServiceClient<Channel>,
    n: usize,
    preauth_id: &str,
) -> Result<(), tonic::Status> {
    let key = format!("race-move-{n}");
    match n % 3 {
        0 => registry
            .release_amount(b::ReleaseAmountRequest {
                idempotency_key: key,
                preauth_id: preauth_id.into(),
                reason: "cancelled".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        1 => registry
            .consume_amount(b::ConsumeAmountRequest {
                idempotency_key: key,
                preauth_id: preauth_id.into(),
                claim_id: format!("CL-RACE-{n}"),
                amount_paise: 60_000_00,
                release_remainder: true,
                reason: "claim approved".into(),
                actor: None,
            })
            .await
            .map(drop),
        _ => registry
            .release_amount(b::ReleaseAmountRequest {
                idempotency_key: key,
                preauth_id: preauth_id.into(),
                amount_paise: 40_000_00,
                reason: "approved for less".into(),
                ..Default::default()
            })
            .await
            .map(drop),
    }
}

#[tokio::test]
async fn racing_releases_and_consumptions_of_one_preauth_never_free_another_preauths_cover() {
    let mut calls = 0;
    for backend in backends() {
        let database = testing::database(backend).await;
        let mut registry = beneficiary::spawn(&database).await;
        let person = registry
            .carded_person("RC-RACE-1", "Race Person", 7_001)
            .await;
        let first = registry
            .block("race-a", &person.beneficiary_id, "PA-RACE-A", 1_00_000_00)
            .await
            .expect("block the first preauth");
        registry
            .block("race-b", &person.beneficiary_id, "PA-RACE-B", 1_00_000_00)
            .await
            .expect("block the second preauth");
        let wallet_id = first.wallet.expect("wallet").wallet_id;

        let outcomes =
            join_all((0..24).map(|n| move_money(registry.client.clone(), n, "PA-RACE-A"))).await;
        calls += outcomes.len();
        for outcome in &outcomes {
            if let Err(status) = outcome {
                assert!(
                    matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
                    "{backend}: a losing move is refused, not broken: {status:?}"
                );
            }
        }
        assert!(
            outcomes.iter().any(Result::is_ok),
            "{backend}: some move won"
        );

        let wallet = reconciled(&mut registry.client, &wallet_id, backend).await;
        assert_eq!(
            wallet.blocked_paise, 1_00_000_00,
            "{backend}: the second preauth still holds all of its ₹1,00,000"
        );
        assert!(
            [0, 60_000_00].contains(&wallet.consumed_paise),
            "{backend}: the first preauth's ₹1,00,000 was consumed at most once: {wallet:?}"
        );
    }
    record_figure(
        "wallet races",
        &format!("{calls} releases and consumptions of one preauth at once, under distinct keys"),
        "none",
        "nothing: the other preauth's hold intact, wallet = ledger = holds",
    );
}

/// A raised CG case at the Bastar district hospital.
async fn raised(flow: &mut Flow, key: &str) -> pa::Preauth {
    let preauth = flow
        .raise(key, CG_FAMILY, "IN2210000001", &["MC011A"])
        .await
        .expect("raise");
    assert_eq!(preauth.status, PreauthStatus::Raised as i32);
    preauth
}

async fn review(
    flow: &Flow,
    key: String,
    preauth_id: &str,
    decision: pa::ReviewDecision,
) -> Result<pa::Preauth, tonic::Status> {
    flow.client
        .clone()
        .review_preauth(pa::ReviewPreauthRequest {
            idempotency_key: key,
            preauth_id: preauth_id.into(),
            decision: decision as i32,
            reason: "reviewed".into(),
            ..Default::default()
        })
        .await
        .map(|reply| reply.into_inner().preauth.expect("preauth"))
}

/// Exactly one of two concurrent outcomes won; the loser was refused as a
/// lost race or a move no longer allowed. Returns the winner.
fn exactly_one<T: std::fmt::Debug>(
    backend: &str,
    what: &str,
    outcomes: [Result<T, tonic::Status>; 2],
) -> T {
    let [first, second] = outcomes;
    match (first, second) {
        (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => {
            assert!(
                matches!(loser.code(), Code::FailedPrecondition | Code::Aborted),
                "{backend}: the losing {what} is refused: {loser:?}"
            );
            winner
        }
        both => panic!("{backend}: exactly one {what} must win, got {both:?}"),
    }
}

/// Waits until a preauth holds what its status says (its compensation ran).
async fn settled(flow: &mut Flow, preauth_id: &str) -> pa::Preauth {
    for _ in 0..200 {
        let preauth = flow.get(preauth_id).await;
        let ended = [
            PreauthStatus::Rejected as i32,
            PreauthStatus::Cancelled as i32,
        ];
        if !ended.contains(&preauth.status) || preauth.blocked_amount_paise == 0 {
            return preauth;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("preauth {preauth_id} still holds cover after it ended");
}

#[tokio::test]
async fn of_an_approval_and_a_rejection_of_one_preauth_exactly_one_wins() {
    let mut rounds = 0;
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let mut approved_held = 0;
        let mut wallet_id = String::new();
        for round in 0..4 {
            let preauth = raised(&mut flow, &format!("race-preauth-{round}")).await;
            let id = preauth.preauth_id.clone();
            let outcomes = futures::join!(
                review(
                    &flow,
                    format!("approve-{round}"),
                    &id,
                    pa::ReviewDecision::Approve
                ),
                review(
                    &flow,
                    format!("reject-{round}"),
                    &id,
                    pa::ReviewDecision::Reject
                ),
            );
            let winner = exactly_one(backend, "review", [outcomes.0, outcomes.1]);
            let after = settled(&mut flow, &id).await;
            assert_eq!(
                after.status, winner.status,
                "{backend}: the winner's status stands"
            );
            if after.status == PreauthStatus::Approved as i32 {
                assert_eq!(after.blocked_amount_paise, preauth.blocked_amount_paise);
                approved_held += after.blocked_amount_paise;
            } else {
                assert_eq!(after.status, PreauthStatus::Rejected as i32);
            }
            wallet_id = flow.wallet(CG_FAMILY, "PMJAY").await.wallet_id;
            rounds += 1;
        }
        let wallet = reconciled(&mut flow.people.client, &wallet_id, backend).await;
        assert_eq!(
            wallet.blocked_paise, approved_held,
            "{backend}: only the approved preauths hold cover"
        );
    }
    record_figure(
        "decision races (preauth)",
        &format!("{rounds} preauths approved and rejected at once"),
        "none",
        "nothing: exactly one decision each, money follows the winner",
    );
}

/// A discharged preauth's claim of ₹70,000, submitted.
async fn submitted_claim(flow: &mut Flow, round: usize) -> (pa::Preauth, c::Claim) {
    let preauth = raised(flow, &format!("race-claim-{round}")).await;
    let id = preauth.preauth_id.clone();
    review(
        flow,
        format!("claim-approve-{round}"),
        &id,
        pa::ReviewDecision::Approve,
    )
    .await
    .expect("approve");
    flow.client
        .discharge(pa::DischargeRequest {
            idempotency_key: format!("discharge-{round}"),
            preauth_id: id.clone(),
            discharge_date: Some(today()),
            ..Default::default()
        })
        .await
        .expect("discharge");
    let claim = flow
        .claims
        .submit_claim(c::SubmitClaimRequest {
            idempotency_key: format!("claim-{round}"),
            preauth_id: id,
            bill_items: vec![c::BillItem {
                description: "PTCA".into(),
                package_code: "MC011A".into(),
                amount_paise: 70_000_00,
            }],
            ..Default::default()
        })
        .await
        .expect("submit claim")
        .into_inner()
        .claim
        .expect("claim");
    (preauth, claim)
}

async fn adjudicate(
    flow: &Flow,
    key: String,
    claim_id: &str,
    decision: c::AdjudicationDecision,
) -> Result<c::Claim, tonic::Status> {
    flow.claims
        .clone()
        .adjudicate_claim(c::AdjudicateClaimRequest {
            idempotency_key: key,
            claim_id: claim_id.into(),
            decision: decision as i32,
            reason: if decision == c::AdjudicationDecision::Reject {
                "documents do not support the procedure".into()
            } else {
                String::new()
            },
            ..Default::default()
        })
        .await
        .map(|reply| reply.into_inner().claim.expect("claim"))
}

#[tokio::test]
async fn of_an_approval_and_a_rejection_of_one_claim_exactly_one_wins_and_moves_the_money() {
    let mut rounds = 0;
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let mut consumed = 0;
        for round in 0..4 {
            let (_, claim) = submitted_claim(&mut flow, round).await;
            let id = claim.claim_id.clone();
            let outcomes = futures::join!(
                adjudicate(
                    &flow,
                    format!("c-approve-{round}"),
                    &id,
                    c::AdjudicationDecision::Approve
                ),
                adjudicate(
                    &flow,
                    format!("c-reject-{round}"),
                    &id,
                    c::AdjudicationDecision::Reject
                ),
            );
            let winner = exactly_one(backend, "adjudication", [outcomes.0, outcomes.1]);
            if winner.status == c::ClaimStatus::Approved as i32 {
                consumed += 70_000_00;
            } else {
                assert_eq!(winner.status, c::ClaimStatus::Rejected as i32);
            }
            rounds += 1;
        }
        let wallet_id = flow.wallet(CG_FAMILY, "PMJAY").await.wallet_id;
        let mut wallet = reconciled(&mut flow.people.client, &wallet_id, backend).await;
        for _ in 0..200 {
            if wallet.consumed_paise == consumed && wallet.blocked_paise == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            wallet = reconciled(&mut flow.people.client, &wallet_id, backend).await;
        }
        assert_eq!(
            (wallet.consumed_paise, wallet.blocked_paise),
            (consumed, 0),
            "{backend}: approved claims consumed, rejected ones released, nothing still held"
        );
    }
    record_figure(
        "decision races (claims)",
        &format!("{rounds} claims approved and rejected at once"),
        "none",
        "nothing: exactly one adjudication each, money follows the winner",
    );
}

async fn approved_claim(flow: &mut Flow, round: usize) -> c::Claim {
    let (_, claim) = submitted_claim(flow, round).await;
    adjudicate(
        flow,
        format!("batch-approve-{round}"),
        &claim.claim_id,
        c::AdjudicationDecision::Approve,
    )
    .await
    .expect("approve claim")
}

async fn create_batch(flow: &Flow, key: &str) -> Result<c::PaymentBatch, tonic::Status> {
    flow.claims
        .clone()
        .create_payment_batch(c::CreatePaymentBatchRequest {
            idempotency_key: key.into(),
            payer_scheme_code: "PMJAY".into(),
            payer_state_code: "22".into(),
            approved_up_to: Some(today()),
            actor: None,
        })
        .await
        .map(|reply| reply.into_inner().batch.expect("batch"))
}

#[tokio::test]
async fn a_payment_batch_that_fails_half_way_puts_no_claim_in_a_batch() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let claims = [
            approved_claim(&mut flow, 0).await,
            approved_claim(&mut flow, 1).await,
        ];
        // The history table goes missing: the batch fails after its claims
        // were moved into it, within its transaction.
        let database = flow.database(MeshService::Claims);
        let connection = db::connect(MeshService::Claims, &database.settings)
            .await
            .expect("claims database");
        connection
            .execute_unprepared("ALTER TABLE claim_history RENAME TO claim_history_away")
            .await
            .expect("hide the history table");
        let failed = create_batch(&flow, "batch-fails").await.expect_err("fails");
        assert_eq!(failed.code(), Code::Internal, "{backend}: {failed:?}");
        assert!(
            failed.message().contains("trace id") || failed.message().contains("log"),
            "{backend}: no internals in the message: {}",
            failed.message()
        );
        let in_batches: Vec<String> = connection
            .query_all_raw(sea_orm::Statement::from_string(
                connection.get_database_backend(),
                "SELECT claim_id FROM claims WHERE payment_batch_id <> '' OR status = 'CLAIM_STATUS_IN_PAYMENT_BATCH'",
            ))
            .await
            .expect("claims in a batch")
            .iter()
            .map(|row| row.try_get_by_index(0).expect("claim id"))
            .collect();
        assert!(
            in_batches.is_empty(),
            "{backend}: {in_batches:?} were left in a batch"
        );
        let batches: i64 = connection
            .query_one_raw(sea_orm::Statement::from_string(
                connection.get_database_backend(),
                "SELECT COUNT(*) FROM payment_batches",
            ))
            .await
            .expect("count batches")
            .expect("a row")
            .try_get_by_index(0)
            .expect("count");
        assert_eq!(batches, 0, "{backend}: no half-made batch is left");

        connection
            .execute_unprepared("ALTER TABLE claim_history_away RENAME TO claim_history")
            .await
            .expect("bring the history table back");
        let batch = create_batch(&flow, "batch-works").await.expect("batch");
        let mut ids = batch.claim_ids.clone();
        ids.sort();
        let mut expected: Vec<String> = claims.iter().map(|c| c.claim_id.clone()).collect();
        expected.sort();
        assert_eq!(
            ids, expected,
            "{backend}: every approved claim in the batch"
        );
        assert_eq!(batch.total_approved_paise, 2 * 70_000_00);
    }
}

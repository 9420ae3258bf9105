//! Many preauths and claims at once on the same families and the same
//! hospital, on SQLite and PostgreSQL; afterwards every rupee is where the
//! ledgers say: no wallet negative or over its cover, every block either
//! consumed, released or still held by a live case, nothing held by a dead one.

use ayushman_proto::{
    beneficiary::v1 as b,
    claims::v1 as c,
    preauth::v1::{self as pa, PreauthStatus},
};
use futures::future::join_all;
use mesh_tests::{
    portability::backends,
    preauth::{self, DOCTOR, Flow, SENIOR_FAMILY, quick_settings, today},
    record_figure,
};
use tonic::Code;

use crate::money::check_family;

/// Package MC011A at Chhattisgarh's rate: six fit in a ₹5,00,000 wallet.
const CASE_PAISE: i64 = 81_000_00;
const HOSPITAL: &str = "IN2210000001";

fn family(n: usize) -> String {
    format!("CG-CONC-{n:04}")
}

/// A call as a hospital's system sends it: with a deadline of its own, long
/// enough for a burst of writers queued on one SQLite file (the mesh's 10 s
/// default is for callers that set none; latency is measured in `make bench`).
fn with_deadline<T>(message: T) -> tonic::Request<T> {
    let mut call = tonic::Request::new(message);
    call.set_timeout(std::time::Duration::from_secs(60));
    call
}

/// RaisePreauth with its own deadline, and again with the same key while the
/// mesh says to retry.
async fn raise(
    flow: &Flow,
    key: String,
    beneficiary_id: String,
) -> Result<pa::Preauth, tonic::Status> {
    let request = pa::RaisePreauthRequest {
        idempotency_key: key,
        beneficiary_id,
        hfr_id: HOSPITAL.into(),
        treating_hpr_id: DOCTOR.into(),
        packages: vec![pa::PackageChoice {
            package_code: "MC011A".into(),
            add_on_codes: Vec::new(),
        }],
        admission_date: Some(today()),
        ..Default::default()
    };
    let mut attempt = 0;
    loop {
        match flow
            .client
            .clone()
            .raise_preauth(with_deadline(request.clone()))
            .await
        {
            // Retry later: the mesh is busy (UNAVAILABLE) or this connection
            // has as many calls open as the server takes (RESOURCE_EXHAUSTED).
            Err(status)
                if matches!(status.code(), Code::Unavailable | Code::ResourceExhausted)
                    && attempt < 50 =>
            {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            outcome => return outcome.map(|reply| reply.into_inner().preauth.expect("preauth")),
        }
    }
}

/// What happens to a raised case: cancelled, taken to an approved claim, or left open.
async fn follow_up(flow: &Flow, n: usize, preauth_id: String) -> Result<(), tonic::Status> {
    let mut preauths = flow.client.clone();
    match n % 3 {
        0 => {
            preauths
                .cancel_preauth(with_deadline(pa::CancelPreauthRequest {
                    idempotency_key: format!("cancel-{preauth_id}"),
                    preauth_id,
                    reason: "patient chose another hospital".into(),
                    actor: None,
                }))
                .await?;
        }
        1 => {
            preauths
                .review_preauth(with_deadline(pa::ReviewPreauthRequest {
                    idempotency_key: format!("approve-{preauth_id}"),
                    preauth_id: preauth_id.clone(),
                    decision: pa::ReviewDecision::Approve as i32,
                    ..Default::default()
                }))
                .await?;
            preauths
                .discharge(with_deadline(pa::DischargeRequest {
                    idempotency_key: format!("discharge-{preauth_id}"),
                    preauth_id: preauth_id.clone(),
                    discharge_date: Some(today()),
                    ..Default::default()
                }))
                .await?;
            let mut claims = flow.claims.clone();
            let claim = claims
                .submit_claim(with_deadline(c::SubmitClaimRequest {
                    idempotency_key: format!("claim-{preauth_id}"),
                    preauth_id,
                    bill_items: vec![c::BillItem {
                        description: "PTCA".into(),
                        package_code: "MC011A".into(),
                        amount_paise: 70_000_00,
                    }],
                    ..Default::default()
                }))
                .await?
                .into_inner()
                .claim
                .expect("claim");
            claims
                .adjudicate_claim(with_deadline(c::AdjudicateClaimRequest {
                    idempotency_key: format!("adjudicate-{}", claim.claim_id),
                    claim_id: claim.claim_id,
                    decision: c::AdjudicationDecision::Approve as i32,
                    ..Default::default()
                }))
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Raises `per_family` cases at once for each of `families` families, follows
/// each up at once, then checks every wallet. Returns (calls, ledger rows).
pub async fn run(backend: &str, families: usize, per_family: usize) -> (usize, usize) {
    let mut flow = preauth::spawn(backend, quick_settings())
        .await
        .with_everything()
        .await;
    let names: Vec<String> = (0..families).map(family).collect();
    let members = flow
        .bastar_heads("concurrency", &names, "Concurrent Patient")
        .await;
    let raised = join_all((0..families * per_family).map(|i| {
        let person = members[i % families].clone();
        raise(&flow, format!("conc-{i}"), person)
    }))
    .await;
    let mut calls = raised.len();
    let mut open = Vec::new();
    for outcome in raised {
        match outcome {
            Ok(preauth) => {
                assert_eq!(preauth.status, PreauthStatus::Raised as i32);
                open.push(preauth.preauth_id);
            }
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert!(
                    status.message().contains("cover could not be blocked"),
                    "{status:?}"
                );
            }
        }
    }
    // Exactly as many cases as the cover allows, for every family.
    assert_eq!(
        open.len(),
        families * per_family.min(6),
        "{backend}: six ₹81,000 cases fit in ₹5,00,000"
    );
    let followed = join_all(
        open.iter()
            .enumerate()
            .map(|(n, id)| follow_up(&flow, n, id.clone())),
    )
    .await;
    calls += followed.len();
    for outcome in followed {
        outcome.expect("follow-up");
    }
    // Let background work (deferred releases) settle, then read every case.
    let mut cases = Vec::new();
    for _ in 0..100 {
        cases = flow
            .client
            .list_preauths(pa::ListPreauthsRequest {
                page_size: 500,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner()
            .preauths;
        let settled = cases
            .iter()
            .all(|p| p.status != PreauthStatus::Cancelled as i32 || p.blocked_amount_paise == 0);
        if settled {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut ledger_rows = 0;
    for n in 0..families {
        ledger_rows += check_family(
            &mut flow.people.client,
            &family(n),
            "PMJAY",
            &cases,
            CASE_PAISE,
        )
        .await;
    }
    (calls, ledger_rows)
}

#[tokio::test]
async fn concurrent_preauths_and_claims_never_overdraw_and_every_ledger_balances() {
    let mut calls = 0;
    for backend in backends() {
        calls += run(backend, 4, 10).await.0;
    }
    record_figure(
        "concurrency",
        &format!("{calls} preauth and claim calls at once, 4 families x 10 cases"),
        "none",
        "nothing: no wallet negative, every ledger balanced",
    );
}

#[tokio::test]
#[ignore = "soak: make soak"]
async fn soak_concurrent_preauths_and_claims() {
    let mut calls = 0;
    let mut rows = 0;
    for backend in backends() {
        let (c, r) = run(backend, 40, 10).await;
        calls += c;
        rows += r;
    }
    record_figure(
        "concurrency (soak)",
        &format!(
            "{calls} preauth and claim calls at once, 40 families x 10 cases, SQLite and PostgreSQL"
        ),
        "none",
        &format!("nothing: {rows} ledger rows balanced, no wallet negative"),
    );
}

/// Every ledger row of a family's wallet of `scheme`, and the wallet.
async fn wallet_and_ledger(flow: &mut Flow, scheme: &str) -> (b::Wallet, Vec<b::LedgerEntry>) {
    let wallet = flow.wallet(SENIOR_FAMILY, scheme).await;
    let ledger = flow
        .people
        .client
        .list_ledger_entries(b::ListLedgerEntriesRequest {
            wallet_id: wallet.wallet_id.clone(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("ledger")
        .into_inner()
        .entries;
    let reconciled = flow
        .people
        .client
        .reconcile_wallet(b::ReconcileWalletRequest {
            wallet_id: wallet.wallet_id.clone(),
        })
        .await
        .expect("reconcile")
        .into_inner();
    assert!(reconciled.consistent, "{scheme}: {reconciled:?}");
    (wallet, ledger)
}

#[tokio::test]
async fn concurrent_cases_of_a_senior_and_his_son_split_cover_without_overdraw() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let (senior, son) = flow.senior_family().await;
        let raised = join_all((0..16).map(|i| {
            let person = if i % 2 == 0 { &senior } else { &son };
            raise(&flow, format!("split-{i}"), person.clone())
        }))
        .await;
        let (mut seniors, mut sons, mut refused) = (Vec::new(), Vec::new(), (0, 0));
        for (i, outcome) in raised.into_iter().enumerate() {
            match (outcome, i % 2 == 0) {
                (Ok(case), true) => seniors.push(case),
                (Ok(case), false) => sons.push(case),
                (Err(status), senior) => {
                    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                    if senior {
                        refused.0 += 1;
                    } else {
                        refused.1 += 1;
                    }
                }
            }
        }
        let (floater, floater_rows) = wallet_and_ledger(&mut flow, "PMJAY").await;
        let (top_up, top_up_rows) = wallet_and_ledger(&mut flow, "PMJAY-70PLUS").await;
        for wallet in [&floater, &top_up] {
            assert!(
                wallet.blocked_paise <= wallet.cover_paise,
                "{backend}: overdrawn {wallet:?}"
            );
        }
        let held = (seniors.len() + sons.len()) as i64 * CASE_PAISE;
        assert_eq!(
            floater.blocked_paise + top_up.blocked_paise,
            held,
            "{backend}: every case holds its ₹81,000, across both wallets"
        );
        assert!(
            sons.iter().all(|case| case.drawn_scheme_codes == ["PMJAY"]),
            "{backend}: the son draws on the floater only"
        );
        let sons_cases: Vec<String> = flow
            .client
            .list_preauths(pa::ListPreauthsRequest {
                beneficiary_id: son.clone(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("the son's cases")
            .into_inner()
            .preauths
            .into_iter()
            .map(|case| case.preauth_id)
            .collect();
        assert!(
            top_up_rows
                .iter()
                .all(|row| !sons_cases.contains(&row.preauth_id)),
            "{backend}: no case of the son ever touched the top-up"
        );
        // What each case still holds, blocks less releases, across both wallets.
        let held_by = |id: &str| {
            floater_rows
                .iter()
                .chain(&top_up_rows)
                .filter(|r| r.preauth_id == id)
                .map(|r| match b::LedgerEntryKind::try_from(r.kind) {
                    Ok(b::LedgerEntryKind::Block) => r.amount_paise,
                    _ => -r.amount_paise,
                })
                .sum::<i64>()
        };
        for case in seniors.iter().chain(&sons) {
            assert_eq!(
                held_by(&case.preauth_id),
                CASE_PAISE,
                "{backend}: {} is split exactly",
                case.preauth_id
            );
        }
        // Nobody was turned away while cover for them remained.
        if refused.1 > 0 {
            assert!(
                floater.available_paise < CASE_PAISE,
                "{backend}: {floater:?}"
            );
        }
        if refused.0 > 0 {
            assert!(
                floater.available_paise + top_up.available_paise < CASE_PAISE,
                "{backend}: {floater:?} {top_up:?}"
            );
        }
    }
}

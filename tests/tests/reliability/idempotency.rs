//! A mutating call whose answer is lost — the connection drops after the
//! service acted — and is then retried with the same key has exactly one
//! effect, in every service: the retry gets the first answer.

use std::{future::Future, time::Duration};

use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    claims::v1::{self as c, claims_service_client::ClaimsServiceClient},
    facility::v1::{self as f, facility_registry_service_client::FacilityRegistryServiceClient},
    gateway::v1 as g,
    google::r#type::Date,
    portability::v1::{self as p, portability_service_client::PortabilityServiceClient},
    preauth::v1::{self as pa, preauth_service_client::PreauthServiceClient},
};
use mesh_tests::{
    connect,
    facility::{date, opd_registrations_in_month},
    gateway::{self, ADMIN_KEY, with_key},
    portability::backends,
    preauth::{self, CG_FAMILY, DOCTOR, quick_settings, today},
    proxy::Proxy,
    record_figure,
};
use tonic::transport::Channel;

/// A channel to `addr` through a proxy that will drop the answer.
async fn lossy(addr: std::net::SocketAddr) -> (Proxy, Channel) {
    let proxy = Proxy::start(addr).await;
    let channel = connect(&proxy.url()).await;
    (proxy, channel)
}

/// Runs `call` with its answer swallowed, then cuts the connection: the
/// caller never learns what happened.
async fn answer_lost<T>(proxy: &Proxy, call: impl Future<Output = Result<T, tonic::Status>>) {
    proxy.mute_replies();
    let outcome = tokio::time::timeout(Duration::from_millis(1500), call).await;
    proxy.down();
    assert!(
        !matches!(outcome, Ok(Ok(_))),
        "the answer was meant to be lost"
    );
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_has_exactly_one_effect_in_every_service() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let gateway = gateway::spawn(&flow, "sqlite").await;
    let person = flow.member(CG_FAMILY).await;
    let mut retried = 0;

    // Beneficiary registry: a block.
    let block = b::BlockAmountRequest {
        scheme_codes: Vec::new(),
        idempotency_key: "idem-block".into(),
        beneficiary_id: person.clone(),
        scheme_code: "PMJAY".into(),
        preauth_id: "PA-IDEM-1".into(),
        amount_paise: 10_000_00,
        treatment_date: Some(today()),
        reason: "idempotency".into(),
        actor: None,
    };
    let (proxy, channel) = lossy(flow.people.server.addr).await;
    answer_lost(
        &proxy,
        BeneficiaryRegistryServiceClient::new(channel).block_amount(block.clone()),
    )
    .await;
    let first = flow
        .people
        .client
        .block_amount(block.clone())
        .await
        .expect("retry")
        .into_inner();
    let second = flow
        .people
        .client
        .block_amount(block)
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(first, second);
    assert_eq!(
        flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
        10_000_00,
        "blocked once"
    );
    retried += 1;

    // Facility registry: an OPD registration.
    let opd = f::RecordOpdRegistrationRequest {
        idempotency_key: "idem-opd".into(),
        hfr_id: "IN2210000001".into(),
        visit_date: Some(date(2025, 6, 2)),
        mode: f::OpdRegistrationMode::Counter as i32,
        abha_number: String::new(),
        token_number: "T-IDEM".into(),
    };
    let (proxy, channel) = lossy(flow.facilities.server.addr).await;
    answer_lost(
        &proxy,
        FacilityRegistryServiceClient::new(channel).record_opd_registration(opd.clone()),
    )
    .await;
    let mut facilities = flow.facilities.client.clone();
    let first = facilities
        .record_opd_registration(opd.clone())
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        first,
        facilities
            .record_opd_registration(opd)
            .await
            .expect("retry")
            .into_inner()
    );
    assert_eq!(
        opd_registrations_in_month(&mut facilities, "IN2210000001", 2025, 6).await,
        1,
        "registered once"
    );
    retried += 1;

    // Preauth: the whole saga behind one key.
    let raise = pa::RaisePreauthRequest {
        idempotency_key: "idem-raise".into(),
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
    let (proxy, channel) = lossy(flow.servers[1].addr).await;
    answer_lost(
        &proxy,
        PreauthServiceClient::new(channel).raise_preauth(raise.clone()),
    )
    .await;
    let first = flow
        .client
        .raise_preauth(raise.clone())
        .await
        .expect("retry")
        .into_inner();
    let again = flow
        .client
        .raise_preauth(raise)
        .await
        .expect("retry")
        .into_inner();
    let preauth_id = first.preauth.as_ref().expect("preauth").preauth_id.clone();
    assert_eq!(preauth_id, again.preauth.expect("preauth").preauth_id);
    let of_person = flow
        .client
        .list_preauths(pa::ListPreauthsRequest {
            beneficiary_id: person.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .preauths;
    assert_eq!(of_person.len(), 1, "one preauth");
    assert_eq!(
        flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
        10_000_00 + 81_000_00,
        "one more block"
    );
    retried += 1;

    // Preauth: a review.
    let review = pa::ReviewPreauthRequest {
        idempotency_key: "idem-review".into(),
        preauth_id: preauth_id.clone(),
        decision: pa::ReviewDecision::Approve as i32,
        ..Default::default()
    };
    let (proxy, channel) = lossy(flow.servers[1].addr).await;
    answer_lost(
        &proxy,
        PreauthServiceClient::new(channel).review_preauth(review.clone()),
    )
    .await;
    let reviewed = flow
        .client
        .review_preauth(review)
        .await
        .expect("retry")
        .into_inner();
    let approvals = reviewed
        .preauth
        .expect("preauth")
        .history
        .iter()
        .filter(|h| h.status == "PREAUTH_STATUS_APPROVED")
        .count();
    assert_eq!(approvals, 1, "approved once");
    retried += 1;

    // Claims: a submission after discharge.
    flow.client
        .discharge(pa::DischargeRequest {
            idempotency_key: "idem-discharge".into(),
            preauth_id: preauth_id.clone(),
            discharge_date: Some(today()),
            ..Default::default()
        })
        .await
        .expect("discharge");
    let submit = c::SubmitClaimRequest {
        idempotency_key: "idem-claim".into(),
        preauth_id: preauth_id.clone(),
        bill_items: vec![c::BillItem {
            description: "PTCA".into(),
            package_code: "MC011A".into(),
            amount_paise: 80_000_00,
        }],
        ..Default::default()
    };
    let (proxy, channel) = lossy(flow.servers[2].addr).await;
    answer_lost(
        &proxy,
        ClaimsServiceClient::new(channel).submit_claim(submit.clone()),
    )
    .await;
    let first = flow
        .claims
        .submit_claim(submit.clone())
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        first,
        flow.claims
            .submit_claim(submit)
            .await
            .expect("retry")
            .into_inner()
    );
    let claims = flow
        .claims
        .list_claims(c::ListClaimsRequest {
            hfr_id: "IN2210000001".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .claims;
    assert_eq!(claims.len(), 1, "one claim");
    retried += 1;

    // Portability: an agreement.
    let agreement = p::CreateAgreementRequest {
        idempotency_key: "idem-agreement".into(),
        agreement: Some(p::Agreement {
            agreement_id: "AGR-IDEM-1".into(),
            home_scheme_code: "BR-MJAY".into(),
            home_state_code: "10".into(),
            all_states: true,
            effective_from: Some(Date {
                year: 2025,
                month: 4,
                day: 1,
            }),
            rate_rule: p::RateRule::TreatingState as i32,
            payer_scheme_code: "BR-MJAY".into(),
            empanelment_scheme_code: "PMJAY".into(),
            status: p::AgreementStatus::Draft as i32,
            status_reason: "awaiting the state's order".into(),
            ..Default::default()
        }),
    };
    let (proxy, channel) = lossy(flow.servers[0].addr).await;
    answer_lost(
        &proxy,
        PortabilityServiceClient::new(channel).create_agreement(agreement.clone()),
    )
    .await;
    let first = flow
        .portability
        .create_agreement(agreement.clone())
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        first,
        flow.portability
            .create_agreement(agreement)
            .await
            .expect("retry")
            .into_inner()
    );
    let agreements = flow
        .portability
        .list_agreements(p::ListAgreementsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .agreements;
    assert_eq!(
        agreements
            .iter()
            .filter(|a| a.agreement_id == "AGR-IDEM-1")
            .count(),
        1
    );
    retried += 1;

    // Gateway: a partner.
    let create = g::CreatePartnerRequest {
        idempotency_key: "idem-partner".into(),
        partner: Some(g::Partner {
            name: "Idempotent portal".into(),
            kind: g::PartnerKind::StatePortal as i32,
            home_state_code: "10".into(),
            scopes: vec!["beneficiary.read".into()],
            ..Default::default()
        }),
    };
    let (proxy, channel) = lossy(gateway.server.addr).await;
    answer_lost(
        &proxy,
        ayushman_proto::gateway::v1::gateway_admin_service_client::GatewayAdminServiceClient::new(
            channel,
        )
        .create_partner(with_key(create.clone(), ADMIN_KEY)),
    )
    .await;
    let mut admin = gateway.admin().await;
    let first = admin
        .create_partner(with_key(create.clone(), ADMIN_KEY))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        first,
        admin
            .create_partner(with_key(create, ADMIN_KEY))
            .await
            .expect("retry")
            .into_inner()
    );
    let partners = admin
        .list_partners(with_key(g::ListPartnersRequest::default(), ADMIN_KEY))
        .await
        .expect("list")
        .into_inner()
        .partners;
    assert_eq!(
        partners
            .iter()
            .filter(|p| p.name == "Idempotent portal")
            .count(),
        1
    );
    retried += 1;

    record_figure(
        "idempotency",
        &format!(
            "{retried} mutating calls, one per service and more, each retried twice with its key"
        ),
        &format!("{retried} answers lost after the service acted (connection dropped)"),
        "nothing, and nothing doubled: one effect each",
    );
}

/// Sends `request` to `client.method` twice: the second answer is the first.
macro_rules! twice {
    ($what:expr, $client:expr, $method:ident, $request:expr) => {{
        let request = $request;
        let first = $client
            .clone()
            .$method(request.clone())
            .await
            .unwrap_or_else(|status| panic!("{}: {status:?}", $what))
            .into_inner();
        let again = $client
            .clone()
            .$method(request)
            .await
            .unwrap_or_else(|status| panic!("{} again: {status:?}", $what))
            .into_inner();
        assert_eq!(first, again, "{}: a repeat answers as the first did", $what);
        first
    }};
}

/// How often `status` appears in a history.
fn entered(history: &[ayushman_proto::common::v1::StatusChange], status: &str) -> usize {
    history.iter().filter(|h| h.status == status).count()
}

#[tokio::test]
async fn every_decision_repeated_with_its_key_has_one_effect() {
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let person = flow.member(CG_FAMILY).await;
        let raise = |key: &'static str| pa::RaisePreauthRequest {
            idempotency_key: key.into(),
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
        let preauths = flow.client.clone();
        let id = twice!("raise", preauths, raise_preauth, raise("once-raise"))
            .preauth
            .expect("preauth")
            .preauth_id;
        let review = |key: &str, decision: pa::ReviewDecision| pa::ReviewPreauthRequest {
            idempotency_key: key.into(),
            preauth_id: id.clone(),
            decision: decision as i32,
            reason: "operative notes needed".into(),
            ..Default::default()
        };
        twice!(
            "query",
            preauths,
            review_preauth,
            review("once-query", pa::ReviewDecision::Query)
        );
        twice!(
            "answer",
            preauths,
            respond_to_query,
            pa::RespondToQueryRequest {
                idempotency_key: "once-answer".into(),
                preauth_id: id.clone(),
                response: "notes attached".into(),
                actor: None,
            }
        );
        twice!(
            "approve",
            preauths,
            review_preauth,
            review("once-approve", pa::ReviewDecision::Approve)
        );
        let blocked_before = flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise;
        let asked = twice!(
            "enhance",
            preauths,
            request_enhancement,
            pa::RequestEnhancementRequest {
                idempotency_key: "once-enhance".into(),
                preauth_id: id.clone(),
                additional_amount_paise: 5_000_00,
                reason: "two more days in the ICU".into(),
                ..Default::default()
            }
        );
        twice!(
            "approve the enhancement",
            preauths,
            decide_enhancement,
            pa::DecideEnhancementRequest {
                idempotency_key: "once-enhance-approve".into(),
                preauth_id: id.clone(),
                enhancement_id: asked.enhancement_id,
                decision: pa::EnhancementDecision::Approve as i32,
                ..Default::default()
            }
        );
        assert_eq!(
            flow.wallet(CG_FAMILY, "PMJAY").await.blocked_paise,
            blocked_before + 5_000_00,
            "{backend}: the enhancement blocked once"
        );
        let discharged = twice!(
            "discharge",
            preauths,
            discharge,
            pa::DischargeRequest {
                idempotency_key: "once-discharge".into(),
                preauth_id: id.clone(),
                discharge_date: Some(today()),
                ..Default::default()
            }
        )
        .preauth
        .expect("preauth");
        for status in ["PREAUTH_STATUS_QUERY", "PREAUTH_STATUS_DISCHARGED"] {
            assert_eq!(
                entered(&discharged.history, status),
                1,
                "{backend}: {status}"
            );
        }
        let steps: Vec<&str> = discharged
            .history
            .iter()
            .filter(|h| h.status == "PREAUTH_STATUS_APPROVED")
            .map(|h| {
                if h.reason.ends_with("requested: two more days in the ICU") {
                    "enhancement asked"
                } else if h.reason.ends_with("approved and blocked") {
                    "enhancement approved"
                } else {
                    "approved"
                }
            })
            .collect();
        assert_eq!(
            steps,
            ["approved", "enhancement asked", "enhancement approved"],
            "{backend}: one approval, one enhancement asked and approved"
        );

        let claims = flow.claims.clone();
        let claim_id = twice!(
            "submit",
            claims,
            submit_claim,
            c::SubmitClaimRequest {
                idempotency_key: "once-claim".into(),
                preauth_id: id.clone(),
                bill_items: vec![c::BillItem {
                    description: "PTCA".into(),
                    package_code: "MC011A".into(),
                    amount_paise: 80_000_00,
                }],
                ..Default::default()
            }
        )
        .claim
        .expect("claim")
        .claim_id;
        twice!(
            "adjudicate",
            claims,
            adjudicate_claim,
            c::AdjudicateClaimRequest {
                idempotency_key: "once-adjudicate".into(),
                claim_id: claim_id.clone(),
                decision: c::AdjudicationDecision::Approve as i32,
                ..Default::default()
            }
        );
        let batch = twice!(
            "batch",
            claims,
            create_payment_batch,
            c::CreatePaymentBatchRequest {
                idempotency_key: "once-batch".into(),
                payer_scheme_code: "PMJAY".into(),
                payer_state_code: "22".into(),
                approved_up_to: Some(today()),
                actor: None,
            }
        )
        .batch
        .expect("batch");
        assert_eq!(
            batch.claim_ids,
            std::slice::from_ref(&claim_id),
            "{backend}"
        );
        twice!(
            "pay",
            claims,
            mark_paid,
            c::MarkPaidRequest {
                idempotency_key: "once-pay".into(),
                payment_batch_id: batch.payment_batch_id.clone(),
                payment_reference: "UTR-ONCE".into(),
                paid_at: None,
                actor: None,
            }
        );
        let paid = flow
            .claims
            .get_claim(c::GetClaimRequest {
                claim_id: claim_id.clone(),
            })
            .await
            .expect("claim")
            .into_inner()
            .claim
            .expect("claim");
        for status in [
            "CLAIM_STATUS_SUBMITTED",
            "CLAIM_STATUS_APPROVED",
            "CLAIM_STATUS_IN_PAYMENT_BATCH",
            "CLAIM_STATUS_PAID",
        ] {
            assert_eq!(entered(&paid.history, status), 1, "{backend}: {status}");
        }
        assert_eq!(
            flow.wallet(CG_FAMILY, "PMJAY").await.consumed_paise,
            80_000_00,
            "{backend}: consumed once"
        );

        let other = twice!(
            "raise another",
            preauths,
            raise_preauth,
            raise("once-raise-2")
        )
        .preauth
        .expect("preauth")
        .preauth_id;
        let cancelled = twice!(
            "cancel",
            preauths,
            cancel_preauth,
            pa::CancelPreauthRequest {
                idempotency_key: "once-cancel".into(),
                preauth_id: other.clone(),
                reason: "patient went home".into(),
                actor: None,
            }
        )
        .preauth
        .expect("preauth");
        assert_eq!(entered(&cancelled.history, "PREAUTH_STATUS_CANCELLED"), 1);
    }
}

#[tokio::test]
async fn two_partners_choosing_the_same_key_get_two_effects() {
    use ayushman_platform::testing;
    use mesh_tests::{beneficiary, gateway::as_partner};
    for backend in backends() {
        let database = testing::database(backend).await;
        let mut registry = beneficiary::spawn(&database).await;
        let person = registry
            .carded_person("RC-KEYS-1", "Keyed Person", 7_101)
            .await;
        let block = |preauth_id: &str, amount_paise: i64| b::BlockAmountRequest {
            scheme_codes: Vec::new(),
            idempotency_key: "block-1".into(),
            beneficiary_id: person.beneficiary_id.clone(),
            scheme_code: "PMJAY".into(),
            preauth_id: preauth_id.into(),
            amount_paise,
            treatment_date: Some(today()),
            reason: "preauth raised".into(),
            actor: None,
        };
        let hospital = registry
            .client
            .block_amount(as_partner(block("PA-HIS-1", 10_000_00), "PTN-HIS"))
            .await
            .expect("the hospital's block")
            .into_inner();
        let tpa = registry
            .client
            .block_amount(as_partner(block("PA-TPA-1", 20_000_00), "PTN-TPA"))
            .await
            .expect("the TPA's block under the same key")
            .into_inner();
        assert_eq!(
            tpa.wallet.expect("wallet").blocked_paise,
            30_000_00,
            "{backend}: both blocks took effect"
        );
        let replay = registry
            .client
            .block_amount(as_partner(block("PA-HIS-1", 10_000_00), "PTN-HIS"))
            .await
            .expect("replay")
            .into_inner();
        assert_eq!(
            replay, hospital,
            "{backend}: the hospital's repeat replays its own"
        );
        let conflict = registry
            .client
            .block_amount(as_partner(block("PA-HIS-2", 10_000_00), "PTN-HIS"))
            .await
            .expect_err("a different request under the hospital's key");
        assert_eq!(conflict.code(), tonic::Code::AlreadyExists, "{backend}");
    }
}

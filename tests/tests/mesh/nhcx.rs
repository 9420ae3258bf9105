//! NHCX: a hospital played by jwcrypto and fhir.resources (tools/nhcx/hospital.py)
//! checks eligibility, asks for preauths and claims over the HCX protocol, and
//! hears the mesh's decisions as callbacks it decrypts and validates.

use ayushman_proto::{
    claims::v1 as c,
    preauth::v1::{self as p, PreauthStatus},
};
use mesh_tests::{
    nhcx::{self, Exchange, HOSPITAL_CODE},
    portability::backends,
    preauth::{CG_FAMILY, DOCTOR, RJ_FAMILY, today},
};
use serde_json::{Value, json};

fn admitted_today() -> String {
    let day = today();
    format!("{:04}-{:02}-{:02}", day.year, day.month, day.day)
}

/// A preauth of MC011A at the Bastar hospital for `family`'s card.
fn preauth_args(request_id: &str, family: &str, packages: &[&str]) -> Value {
    json!({
        "request_id": request_id,
        "card": format!("CARD-{family}"),
        "hfr_id": nhcx::HOSPITAL_HFR,
        "hpr_id": DOCTOR,
        "packages": packages,
        "admission_date": admitted_today(),
        "diagnosis": "triple vessel disease",
    })
}

fn rupees(money: &Value) -> f64 {
    money["value"].as_f64().unwrap_or(f64::NAN)
}

fn total(resource: &Value, category: &str) -> f64 {
    resource["total"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["category"]["coding"][0]["code"] == category)
        .map_or(f64::NAN, |t| rupees(&t["amount"]))
}

/// Submits a preauth and waits for its first on_submit; the preauth id.
async fn submit_preauth(exchange: &Exchange, request_id: &str, family: &str) -> (String, String) {
    let sent = exchange
        .send(
            "preauth",
            preauth_args(request_id, family, &["MC011A"]),
            &[],
        )
        .await;
    assert_eq!(sent.status, 202, "{:?}", sent.body);
    let queued = exchange
        .callback("/preauth/on_submit", &sent.correlation_id, |_| true)
        .await;
    assert_eq!(
        queued.resource()["outcome"],
        "queued",
        "{:#?}",
        queued.bundle
    );
    let preauth_id = queued.resource()["preAuthRef"]
        .as_str()
        .expect("preAuthRef")
        .to_owned();
    (preauth_id, sent.correlation_id)
}

#[tokio::test]
async fn a_hospital_checks_eligibility_and_hears_the_cover_on_check() {
    for backend in backends() {
        let exchange = nhcx::spawn(backend, 0).await;
        let sent = exchange
            .send(
                "eligibility",
                json!({"request_id": "ELIG-1", "card": format!("CARD-{CG_FAMILY}")}),
                &[],
            )
            .await;
        assert_eq!(sent.status, 202, "{:?}", sent.body);
        assert_eq!(sent.body["api_call_id"], sent.api_call_id.as_str());
        let answer = exchange
            .callback(
                "/coverageeligibility/on_check",
                &sent.correlation_id,
                |_| true,
            )
            .await;
        assert_eq!(answer.header("x-hcx-status"), "response.complete");
        assert_eq!(answer.header("x-hcx-recipient_code"), HOSPITAL_CODE);
        let response = answer.resource();
        assert_eq!(response["resourceType"], "CoverageEligibilityResponse");
        assert_eq!(response["outcome"], "complete");
        assert_eq!(response["insurance"][0]["inforce"], true);
        assert_eq!(
            response["insurance"][0]["coverage"]["display"],
            "scheme PMJAY"
        );
        let benefit = &response["insurance"][0]["item"][0]["benefit"][0];
        assert_eq!(rupees(&benefit["allowedMoney"]), 5_00_000.0);
        assert_eq!(response["request"]["identifier"]["value"], "ELIG-1");
        exchange.assert_every_callback_valid();
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_preauth_over_the_exchange_is_queued_then_approved_by_the_reviewer() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let (preauth_id, correlation) = submit_preauth(&exchange, "HIS-PA-1", CG_FAMILY).await;
        let raised = exchange.flow.get(&preauth_id).await;
        assert_eq!(raised.status(), PreauthStatus::Raised);
        assert_eq!(raised.hfr_id, nhcx::HOSPITAL_HFR);
        assert_eq!(raised.treating_hpr_id, DOCTOR);

        exchange.flow.approve(&preauth_id).await;
        let decided = exchange
            .callback("/preauth/on_submit", &correlation, |c| {
                c.resource()["outcome"] == "complete"
            })
            .await;
        assert_eq!(decided.header("x-hcx-status"), "response.complete");
        let response = decided.resource();
        assert_eq!(response["use"], "preauthorization");
        assert_eq!(response["disposition"], "approved");
        assert_eq!(total(response, "benefit"), 81_000.0);
        assert_eq!(response["request"]["identifier"]["value"], "HIS-PA-1");
        exchange.assert_every_callback_valid();
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_reviewers_query_reaches_the_hospital_and_its_answer_returns_the_case_to_review() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let (preauth_id, correlation) = submit_preauth(&exchange, "HIS-PA-7", CG_FAMILY).await;
        exchange
            .flow
            .client
            .review_preauth(p::ReviewPreauthRequest {
                idempotency_key: format!("{preauth_id}-query"),
                preauth_id: preauth_id.clone(),
                decision: p::ReviewDecision::Query as i32,
                reason: "attach the angiography report".into(),
                ..Default::default()
            })
            .await
            .expect("query");
        let query = exchange
            .callback("/preauth/on_submit", &correlation, |c| {
                c.resource()["disposition"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("query"))
            })
            .await;
        assert_eq!(
            query.resource()["disposition"],
            "query: attach the angiography report"
        );
        assert_eq!(query.resource()["outcome"], "queued");

        let answer = exchange
            .send(
                "communication",
                json!({"text": "angiography report attached: 90% LAD stenosis"}),
                &[
                    "--status",
                    "response.complete",
                    "--correlation-id",
                    &correlation,
                ],
            )
            .await;
        assert_eq!(answer.status, 202, "{:?}", answer.body);
        let mut status = PreauthStatus::Query;
        for _ in 0..100 {
            status = exchange.flow.get(&preauth_id).await.status();
            if status == PreauthStatus::Raised {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            status,
            PreauthStatus::Raised,
            "the answer returns it to review"
        );
        exchange.assert_every_callback_valid();
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_message_acknowledged_while_the_mesh_is_down_is_answered_once_it_is_back() {
    for backend in backends() {
        let exchange = nhcx::spawn(backend, 0).await;
        exchange.flow.beneficiary_link.down();
        let sent = exchange
            .send(
                "eligibility",
                json!({"request_id": "ELIG-3", "card": format!("CARD-{CG_FAMILY}")}),
                &[],
            )
            .await;
        assert_eq!(
            sent.status, 202,
            "acknowledged, though the registry is down"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            exchange.callbacks().is_empty(),
            "answered while the registry was down: {:?}",
            exchange.callbacks().first().map(|c| c.headers.clone())
        );
        exchange.flow.beneficiary_link.up();
        let answer = exchange
            .callback(
                "/coverageeligibility/on_check",
                &sent.correlation_id,
                |_| true,
            )
            .await;
        assert_eq!(answer.resource()["outcome"], "complete");
        assert_eq!(exchange.callbacks().len(), 1, "answered once");
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_claim_is_adjudicated_with_a_deduction_and_its_payment_noticed() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let (preauth_id, _) = submit_preauth(&exchange, "HIS-PA-2", CG_FAMILY).await;
        exchange.flow.approve(&preauth_id).await;
        exchange.flow.discharge(&preauth_id).await;

        let sent = exchange
            .send(
                "claim",
                json!({
                    "request_id": "HIS-CL-2",
                    "card": format!("CARD-{CG_FAMILY}"),
                    "hfr_id": nhcx::HOSPITAL_HFR,
                    "preauth_id": preauth_id,
                    "bill": [{"package_code": "MC011A", "description": "PTCA as treated", "rupees": 81_000.0}],
                }),
                &[],
            )
            .await;
        assert_eq!(sent.status, 202, "{:?}", sent.body);
        let queued = exchange
            .callback("/claim/on_submit", &sent.correlation_id, |_| true)
            .await;
        assert_eq!(queued.resource()["outcome"], "queued");
        let claim_id = exchange
            .exchanges()
            .await
            .into_iter()
            .find(|e| e.api_call_id == sent.api_call_id)
            .map(|e| e.mesh_reference)
            .expect("the claim's exchange");

        exchange
            .flow
            .adjudicate(
                &claim_id,
                c::AdjudicationDecision::PartiallyApprove,
                vec![c::Deduction {
                    code: c::DeductionCode::ShortStay as i32,
                    amount_paise: 6_000_00,
                    reason: "discharged a day early".into(),
                }],
                "",
            )
            .await
            .expect("adjudicate");
        let adjudicated = exchange
            .callback("/claim/on_submit", &sent.correlation_id, |c| {
                c.resource()["outcome"] == "partial"
            })
            .await;
        let response = adjudicated.resource();
        assert_eq!(total(response, "submitted"), 81_000.0);
        assert_eq!(total(response, "benefit"), 75_000.0);
        assert_eq!(rupees(&response["payment"]["amount"]), 75_000.0);
        assert_eq!(rupees(&response["payment"]["adjustment"]), -6_000.0);
        assert_eq!(
            response["payment"]["adjustmentReason"]["text"],
            "SHORT_STAY: discharged a day early"
        );

        exchange.flow.pay("PMJAY", "22").await;
        let notice = exchange
            .callback("/paymentnotice/request", "", |_| true)
            .await;
        assert_eq!(notice.header("x-hcx-status"), "request.initiated");
        assert_eq!(notice.resource()["resourceType"], "PaymentNotice");
        assert_eq!(rupees(&notice.resource()["amount"]), 75_000.0);
        assert_eq!(
            notice.resource()["paymentStatus"]["coding"][0]["code"],
            "paid"
        );

        let notice_cycle = notice.header("x-hcx-correlation_id").to_owned();
        let ack = exchange
            .send(
                "paymentack",
                json!({"rupees": 75_000.0}),
                &[
                    "--status",
                    "response.complete",
                    "--correlation-id",
                    &notice_cycle,
                ],
            )
            .await;
        assert_eq!(ack.status, 202, "{:?}", ack.body);
        let acknowledged = async {
            for _ in 0..100 {
                let statuses: Vec<(String, String)> = exchange
                    .exchanges()
                    .await
                    .into_iter()
                    .filter(|e| e.correlation_id == notice_cycle)
                    .map(|e| (e.action, e.status))
                    .collect();
                if statuses.contains(&("/paymentnotice/request".into(), "acknowledged".into())) {
                    return statuses;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the payment notice was not acknowledged");
        };
        let statuses = acknowledged.await;
        assert!(
            statuses.contains(&("/paymentnotice/on_request".into(), "processed".into())),
            "{statuses:?}"
        );
        exchange.assert_every_callback_valid();
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_portability_case_is_raised_for_the_home_state_to_decide() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let (preauth_id, _) = submit_preauth(&exchange, "HIS-PA-3", RJ_FAMILY).await;
        let raised = exchange.flow.get(&preauth_id).await;
        assert!(raised.portability_case);
        assert_eq!(
            (
                raised.payer_scheme_code.as_str(),
                raised.payer_state_code.as_str()
            ),
            ("RJ-MAA", "08")
        );
        exchange.assert_every_callback_valid();
        exchange.stop().await;
    }
}

#[tokio::test]
async fn workers_racing_over_one_decision_send_its_answer_once() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let (preauth_id, correlation) = submit_preauth(&exchange, "HIS-PA-8", CG_FAMILY).await;
        exchange.flow.approve(&preauth_id).await;
        // Eight replicas' background passes at once, besides the service's own.
        let passes: Vec<_> = (0..8)
            .map(|_| {
                let context = exchange.context.clone();
                tokio::spawn(async move { ::nhcx::background_pass(&context).await })
            })
            .collect();
        for pass in passes {
            pass.await.expect("pass");
        }
        exchange
            .callback("/preauth/on_submit", &correlation, |c| {
                c.resource()["outcome"] == "complete"
            })
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let answers: Vec<String> = exchange
            .callbacks()
            .iter()
            .filter(|c| c.header("x-hcx-correlation_id") == correlation)
            .map(|c| {
                c.resource()["outcome"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(answers, ["queued", "complete"], "each answer sent once");
        let queued = exchange
            .exchanges()
            .await
            .into_iter()
            .filter(|e| e.correlation_id == correlation && e.action == "/preauth/on_submit")
            .count();
        assert_eq!(queued, 2);
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_message_sent_twice_is_acted_on_once_and_acknowledged_the_same() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let first = exchange
            .send(
                "preauth",
                preauth_args("HIS-PA-4", CG_FAMILY, &["MC011A"]),
                &[],
            )
            .await;
        exchange
            .callback("/preauth/on_submit", &first.correlation_id, |_| true)
            .await;
        let again = exchange
            .send(
                "preauth",
                preauth_args("HIS-PA-4", CG_FAMILY, &["MC011A"]),
                &[
                    "--api-call-id",
                    &first.api_call_id,
                    "--correlation-id",
                    &first.correlation_id,
                    "--status",
                    "request.retry",
                ],
            )
            .await;
        assert_eq!(again.status, 202);
        assert_eq!(again.body["timestamp"], first.body["timestamp"]);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(exchange.preauths().await.len(), 1);
        assert_eq!(exchange.received().await, 1);
        exchange.stop().await;
    }
}

#[tokio::test]
async fn the_same_message_sent_eight_times_at_once_is_stored_and_acted_on_once() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let correlation_id = "5a1e0000-0000-4000-8000-000000000002";
        let ids = [
            "--api-call-id",
            "5a1e0000-0000-4000-8000-000000000001",
            "--correlation-id",
            correlation_id,
        ];
        let sent = futures::future::join_all((0..8).map(|_| {
            exchange.send(
                "preauth",
                preauth_args("HIS-PA-8", CG_FAMILY, &["MC011A"]),
                &ids,
            )
        }))
        .await;
        assert_eq!(
            sent.iter().map(|s| s.status).collect::<Vec<_>>(),
            [202; 8],
            "{backend}"
        );
        assert!(
            sent.iter()
                .all(|s| s.body["timestamp"] == sent[0].body["timestamp"]),
            "{backend}: every copy is acknowledged as the one stored"
        );
        exchange
            .callback("/preauth/on_submit", correlation_id, |_| true)
            .await;
        assert_eq!(exchange.preauths().await.len(), 1, "{backend}");
        assert_eq!(exchange.received().await, 1, "{backend}");
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_preauth_the_mesh_refuses_is_answered_with_a_domain_error() {
    for backend in backends() {
        let exchange = nhcx::spawn(backend, 0).await;
        let sent = exchange
            .send(
                "preauth",
                preauth_args("HIS-PA-5", CG_FAMILY, &["XX000Z"]),
                &[],
            )
            .await;
        assert_eq!(sent.status, 202);
        let answer = exchange
            .callback("/preauth/on_submit", &sent.correlation_id, |_| true)
            .await;
        assert_eq!(answer.header("x-hcx-status"), "response.error");
        assert_eq!(
            answer.headers["x-hcx-error_details"]["code"],
            "ERR_DOMAIN_PROCESSING"
        );
        assert_eq!(answer.resource()["outcome"], "error");
        let message = answer.resource()["error"][0]["code"]["coding"][0]["display"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains("XX000Z"), "{message}");
        exchange.assert_every_callback_valid();
        exchange.stop().await;
    }
}

#[tokio::test]
async fn a_callback_the_hospital_cannot_take_is_retried_until_it_is() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 2).await;
        let sent = exchange
            .send(
                "eligibility",
                json!({"request_id": "ELIG-2", "card": format!("CARD-{CG_FAMILY}")}),
                &[],
            )
            .await;
        exchange
            .callback(
                "/coverageeligibility/on_check",
                &sent.correlation_id,
                |_| true,
            )
            .await;
        let answer = exchange.settled("/coverageeligibility/on_check").await;
        assert_eq!((answer.status.as_str(), answer.attempts), ("delivered", 2));
        assert!(answer.last_error.contains("503"), "{}", answer.last_error);
        exchange.stop().await;
    }
}

/// What is wrong, the hospital tool's message kind, its arguments and options,
/// and the HTTP status and protocol error code the mesh must answer.
type BadMessage = (
    &'static str,
    &'static str,
    Value,
    Vec<&'static str>,
    u16,
    &'static str,
);

#[tokio::test]
async fn bad_messages_are_refused_with_the_protocols_codes_and_nothing_is_written() {
    for backend in backends() {
        let mut exchange = nhcx::spawn(backend, 0).await;
        let preauth = preauth_args("HIS-PA-6", CG_FAMILY, &["MC011A"]);
        let cases: Vec<BadMessage> = vec![
            (
                "tampered ciphertext",
                "preauth",
                preauth.clone(),
                vec!["--tamper"],
                400,
                "ERR_INVALID_ENCRYPTION",
            ),
            (
                "another recipient",
                "preauth",
                preauth.clone(),
                vec!["--recipient", "other-payer@hcx"],
                400,
                "ERR_WRONG_RECIPIENT",
            ),
            (
                "unknown sender",
                "preauth",
                preauth.clone(),
                vec!["--sender", "stranger@hcx"],
                401,
                "ERR_INVALID_SENDER",
            ),
            (
                "token signed by another key",
                "preauth",
                preauth.clone(),
                vec!["--token", "forged"],
                401,
                "ERR_INVALID_SIGNATURE",
            ),
            (
                "no token",
                "preauth",
                preauth.clone(),
                vec!["--token", "none"],
                401,
                "ERR_ACCESS_DENIED",
            ),
            (
                "missing api_call_id",
                "preauth",
                preauth.clone(),
                vec!["--omit-header", "x-hcx-api_call_id"],
                400,
                "ERR_MANDATORY_HEADER_MISSING",
            ),
            (
                "a response status on a request",
                "preauth",
                preauth.clone(),
                vec!["--status", "response.complete"],
                400,
                "ERR_INVALID_STATUS",
            ),
            (
                "invalid FHIR",
                "raw",
                json!({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Claim", "status": "active"}}]}),
                vec!["--path", "/preauth/submit"],
                400,
                "ERR_INVALID_DOMAIN_PAYLOAD",
            ),
            (
                "an eligibility check sent as a preauth",
                "raw",
                json!({"resourceType": "Bundle", "type": "collection", "entry": []}),
                vec!["--path", "/preauth/submit"],
                400,
                "ERR_WRONG_DOMAIN_PAYLOAD",
            ),
            (
                "another hospital's HFR id",
                "preauth",
                {
                    let mut other = preauth.clone();
                    other["hfr_id"] = json!("IN0810000042");
                    other
                },
                vec![],
                400,
                "ERR_INVALID_DOMAIN_PAYLOAD",
            ),
            (
                "an answer to no message of the mesh",
                "communication",
                json!({"text": "the patient is stable"}),
                vec!["--status", "response.complete"],
                400,
                "ERR_INVALID_CORRELATION_ID",
            ),
        ];
        for (what, kind, args, options, status, code) in cases {
            let sent = exchange.send(kind, args, &options).await;
            assert_eq!(
                (sent.status, sent.error_code()),
                (status, code),
                "{what}: {:?}",
                sent.body
            );
        }
        assert!(
            exchange.exchanges().await.is_empty(),
            "a refused message was stored"
        );
        assert!(
            exchange.preauths().await.is_empty(),
            "a refused message raised a preauth"
        );

        let accepted = exchange
            .send("preauth", preauth, &["--alg", "RSA-OAEP"])
            .await;
        assert_eq!(
            accepted.status, 202,
            "RSA-OAEP is accepted too: {:?}",
            accepted.body
        );
        exchange.stop().await;
    }
}

//! Past its concurrency limit a service refuses at once instead of queueing
//! without bound, and serves again as soon as load falls; a call that sets no
//! deadline gets the server's, and a caller may ask for a longer one.

use std::time::{Duration, Instant};

use ayushman_platform::testing;
use ayushman_proto::beneficiary::v1::{self as pb, import_eligibility_request::Item};
use mesh_tests::{
    beneficiary::{self, saran_row},
    record_figure,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

/// An import stream left open: it holds one of the server's slots until its
/// sender is dropped.
fn open_import(
    registry: &beneficiary::BeneficiaryRegistry,
    key: &str,
    deadline: Option<Duration>,
) -> (
    mpsc::Sender<pb::ImportEligibilityRequest>,
    tokio::task::JoinHandle<Result<pb::ImportEligibilityResponse, tonic::Status>>,
) {
    let (sender, receiver) = mpsc::channel(4);
    sender
        .try_send(pb::ImportEligibilityRequest {
            item: Some(Item::Header(pb::ImportHeader {
                idempotency_key: key.into(),
                file_name: format!("{key}.csv"),
                actor: None,
            })),
        })
        .expect("header fits");
    let mut client = registry.client.clone();
    let call = tokio::spawn(async move {
        let mut request = tonic::Request::new(ReceiverStream::new(receiver));
        if let Some(deadline) = deadline {
            request.set_timeout(deadline);
        }
        client
            .import_eligibility(request)
            .await
            .map(tonic::Response::into_inner)
    });
    (sender, call)
}

async fn verify(registry: &beneficiary::BeneficiaryRegistry) -> Result<(), tonic::Status> {
    registry
        .client
        .clone()
        .verify_eligibility(pb::VerifyEligibilityRequest {
            card_number: "NO-SUCH-CARD".into(),
            ..Default::default()
        })
        .await
        .map(drop)
}

#[tokio::test]
async fn past_its_limit_a_service_refuses_at_once_and_recovers() {
    let database = testing::sqlite();
    let registry = beneficiary::spawn_with(
        &database,
        ayushman_platform::config::ServerSettings {
            concurrency_limit: 4,
            ..testing::server_settings()
        },
    )
    .await;
    let open: Vec<_> = (0..4)
        .map(|n| open_import(&registry, &format!("hold-{n}"), None))
        .collect();
    // Let the four streams reach the server and take the four slots.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut refused = 0;
    let mut slowest = Duration::ZERO;
    for _ in 0..50 {
        let started = Instant::now();
        let answer = verify(&registry).await.unwrap_err();
        slowest = slowest.max(started.elapsed());
        assert_eq!(answer.code(), Code::ResourceExhausted, "{answer:?}");
        assert_eq!(
            answer.message(),
            "the service is at its limit of 4 calls in flight; retry shortly"
        );
        refused += 1;
    }
    assert!(
        slowest < Duration::from_millis(200),
        "refusals waited {slowest:?}"
    );

    for (sender, call) in open {
        drop(sender);
        call.await
            .expect("joins")
            .expect("the held streams complete");
    }
    assert_eq!(
        verify(&registry).await.unwrap_err().code(),
        Code::NotFound,
        "served again once the load is gone"
    );
    record_figure(
        "load shedding",
        &format!("{refused} calls past a limit of 4 in flight"),
        "4 streams holding every slot",
        &format!(
            "nothing: each refused within {} ms, served again after",
            slowest.as_millis().max(1)
        ),
    );
}

#[tokio::test]
async fn a_call_without_a_deadline_gets_the_server_s_and_a_caller_may_ask_for_longer() {
    let database = testing::sqlite();
    let registry = beneficiary::spawn_with(
        &database,
        ayushman_platform::config::ServerSettings {
            request_timeout_ms: 300,
            ..testing::server_settings()
        },
    )
    .await;
    let (sender, call) = open_import(&registry, "no-deadline", None);
    let started = Instant::now();
    let cut = call.await.expect("joins").unwrap_err();
    drop(sender);
    assert_eq!(cut.code(), Code::DeadlineExceeded, "{cut:?}");
    assert!(started.elapsed() < Duration::from_secs(3));

    let (sender, call) = open_import(&registry, "long-deadline", Some(Duration::from_secs(5)));
    tokio::time::sleep(Duration::from_millis(700)).await;
    sender
        .send(pb::ImportEligibilityRequest {
            item: Some(Item::Row(saran_row("RC-LATE", "Late Row", 1980))),
        })
        .await
        .expect("still open after the server's default deadline");
    drop(sender);
    let summary = call
        .await
        .expect("joins")
        .expect("a longer deadline is kept");
    assert_eq!(summary.accepted, 1);
}

//! The server bootstrap every service uses: health per service name, reflection,
//! UNIMPLEMENTED for RPCs not built yet, metrics, and NOT_SERVING on shutdown.

use ayushman_platform::{MeshService, testing};
use ayushman_proto::facility::v1::{
    GetFacilityRequest,
    facility_registry_service_client::FacilityRegistryServiceClient,
    facility_registry_service_server::{FacilityRegistryService, FacilityRegistryServiceServer},
};
use mesh_tests::{connect, health_of, http_get, reflected_services};
use tonic::{Code, service::Routes};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A facility registry with no RPCs built: every call answers UNIMPLEMENTED.
struct NothingBuilt;

#[tonic::async_trait]
impl FacilityRegistryService for NothingBuilt {}

async fn spawn_facility_registry() -> testing::RunningServer {
    let _telemetry =
        ayushman_platform::telemetry::init("platform-server-test", &testing::test_telemetry());
    testing::spawn(
        MeshService::FacilityRegistry,
        Routes::new(FacilityRegistryServiceServer::new(NothingBuilt)),
    )
    .await
}

#[tokio::test]
async fn a_server_on_port_0_reports_serving_for_its_service_and_overall() {
    let server = spawn_facility_registry().await;
    let channel = connect(&server.url()).await;
    assert_eq!(
        health_of(
            channel.clone(),
            "ayushman.facility.v1.FacilityRegistryService"
        )
        .await,
        ServingStatus::Serving
    );
    assert_eq!(health_of(channel, "").await, ServingStatus::Serving);
}

#[tokio::test]
async fn health_of_an_unknown_service_is_not_found() {
    let server = spawn_facility_registry().await;
    let status = HealthClient::new(connect(&server.url()).await)
        .check(HealthCheckRequest {
            service: "ayushman.claims.v1.ClaimsService".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn reflection_lists_exactly_the_service_health_and_reflection() {
    let server = spawn_facility_registry().await;
    assert_eq!(
        reflected_services(connect(&server.url()).await).await,
        [
            "ayushman.facility.v1.FacilityRegistryService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    );
}

#[tokio::test]
async fn rpcs_not_built_yet_answer_unimplemented() {
    let server = spawn_facility_registry().await;
    let status = FacilityRegistryServiceClient::new(connect(&server.url()).await)
        .get_facility(GetFacilityRequest {
            hfr_id: "IN2210000123".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

#[tokio::test]
async fn metrics_count_requests_by_method_and_status_code() {
    let server = spawn_facility_registry().await;
    let mut client = FacilityRegistryServiceClient::new(connect(&server.url()).await);
    for _ in 0..3 {
        let _ = client.get_facility(GetFacilityRequest::default()).await;
    }
    let metrics = http_get(server.admin_addr, "/metrics").await;
    let line = metrics
        .lines()
        .find(|l| l.starts_with("grpc_server_handled_total") && l.contains("GetFacility"))
        .unwrap_or_else(|| panic!("no GetFacility counter in:\n{metrics}"));
    assert!(line.contains(r#"grpc_code="12""#), "{line}");
    assert!(line.ends_with(" 3"), "{line}");
    assert!(
        metrics.contains("grpc_server_handling_seconds_bucket"),
        "latency histogram missing"
    );
}

#[tokio::test]
async fn shutdown_reports_not_serving_before_the_server_stops() {
    let mut server = spawn_facility_registry().await;
    let mut watch = HealthClient::new(connect(&server.url()).await)
        .watch(HealthCheckRequest {
            service: "ayushman.facility.v1.FacilityRegistryService".into(),
        })
        .await
        .expect("watch health")
        .into_inner();
    let first = watch
        .message()
        .await
        .expect("watch stream")
        .expect("first status");
    assert_eq!(first.status(), ServingStatus::Serving);

    let stopping = tokio::spawn(async move { server.stop().await });
    let next = watch
        .message()
        .await
        .expect("watch stream")
        .expect("status on shutdown");
    assert_eq!(next.status(), ServingStatus::NotServing);
    drop(watch); // an open stream is an in-flight request the drain would wait for
    stopping
        .await
        .expect("stop task")
        .expect("server drains cleanly");
}

#[tokio::test]
async fn a_peer_with_several_addresses_gets_requests_on_each() {
    let (first, second) = (
        spawn_facility_registry().await,
        spawn_facility_registry().await,
    );
    let addresses = vec![first.addr, second.addr];
    // What DNS answers for a headless Service with two pods.
    let resolve: ayushman_platform::client::Resolve = std::sync::Arc::new(move || {
        let addresses = addresses.clone();
        Box::pin(async move { Ok(addresses) })
    });
    let settings = ayushman_platform::config::ClientSettings {
        deadline_ms: 5_000,
        connect_timeout_ms: 1_000,
    };
    let channel = ayushman_platform::client::balanced_channel(
        "http://facility-registry:50052",
        &settings,
        resolve,
    )
    .expect("channel");
    let calls = (0..40).map(|_| {
        let mut client = FacilityRegistryServiceClient::new(channel.clone());
        async move {
            client
                .get_facility(GetFacilityRequest::default())
                .await
                .unwrap_err()
                .code()
        }
    });
    let codes = futures::future::join_all(calls).await;
    assert!(
        codes.iter().all(|code| *code == Code::Unimplemented),
        "{codes:?}"
    );
    for server in [&first, &second] {
        let metrics = http_get(server.admin_addr, "/metrics").await;
        assert!(
            metrics.contains(
                "grpc_method=\"/ayushman.facility.v1.FacilityRegistryService/GetFacility\""
            ),
            "a pod got no request: {metrics}"
        );
    }
}

#[tokio::test]
async fn a_peer_whose_name_does_not_resolve_fails_at_once_as_unavailable() {
    let resolve: ayushman_platform::client::Resolve =
        std::sync::Arc::new(|| Box::pin(async { Err(std::io::Error::other("no such host")) }));
    let settings = ayushman_platform::config::ClientSettings {
        deadline_ms: 5_000,
        connect_timeout_ms: 500,
    };
    let channel = ayushman_platform::client::balanced_channel(
        "http://nowhere.invalid:50052",
        &settings,
        resolve,
    )
    .expect("channel");
    let mut client = FacilityRegistryServiceClient::new(channel);
    let error = tokio::time::timeout(
        std::time::Duration::from_secs(4),
        client.get_facility(GetFacilityRequest::default()),
    )
    .await
    .expect("fails within 4 s instead of waiting for an address")
    .unwrap_err();
    assert_eq!(error.code(), Code::Unavailable, "{error:?}");
}

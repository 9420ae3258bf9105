//! W3C trace context crosses a hop: a caller's `traceparent` is picked up by the
//! first service, and the platform channel carries it on to the second, so all
//! three share one trace id. Own test binary: it installs the global subscriber.

use std::time::Duration;

use ayushman_platform::{MeshService, client, config::ClientSettings, testing};
use ayushman_proto::{
    facility::v1::{
        CheckEmpanelmentRequest,
        facility_registry_service_client::FacilityRegistryServiceClient,
        facility_registry_service_server::{
            FacilityRegistryService, FacilityRegistryServiceServer,
        },
    },
    portability::v1::{
        RouteCaseRequest, RouteCaseResponse,
        portability_service_client::PortabilityServiceClient,
        portability_service_server::{PortabilityService, PortabilityServiceServer},
    },
};
use mesh_tests::connect;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use tonic::{Request, Response, Status, service::Routes};

struct NothingBuilt;

#[tonic::async_trait]
impl FacilityRegistryService for NothingBuilt {}

/// Routes a case by asking the facility registry, as the real service will.
struct AsksTheFacilityRegistry {
    facility: FacilityRegistryServiceClient<client::TracedChannel>,
}

#[tonic::async_trait]
impl PortabilityService for AsksTheFacilityRegistry {
    async fn route_case(
        &self,
        _: Request<RouteCaseRequest>,
    ) -> Result<Response<RouteCaseResponse>, Status> {
        let _unimplemented = self
            .facility
            .clone()
            .check_empanelment(CheckEmpanelmentRequest::default())
            .await;
        Ok(Response::new(RouteCaseResponse::default()))
    }
}

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

async fn finished_span(exporter: &InMemorySpanExporter, name: &str) -> SpanData {
    for _ in 0..100 {
        let spans = exporter.get_finished_spans().expect("read exported spans");
        if let Some(span) = spans.into_iter().find(|s| s.name == name) {
            return span;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no span named {name} was exported");
}

#[tokio::test]
async fn one_trace_id_spans_the_caller_and_both_services() {
    let exporter = InMemorySpanExporter::default();
    let _telemetry = ayushman_platform::telemetry::init_with_exporter(
        "trace-test",
        &testing::test_telemetry(),
        exporter.clone(),
    );

    let facility = testing::spawn(
        MeshService::FacilityRegistry,
        Routes::new(FacilityRegistryServiceServer::new(NothingBuilt)),
    )
    .await;
    let client_settings = ClientSettings {
        deadline_ms: 5_000,
        connect_timeout_ms: 1_000,
    };
    let facility_client = FacilityRegistryServiceClient::new(
        client::channel(&facility.url(), &client_settings).expect("channel"),
    );
    let portability = testing::spawn(
        MeshService::Portability,
        Routes::new(PortabilityServiceServer::new(AsksTheFacilityRegistry {
            facility: facility_client,
        })),
    )
    .await;

    let mut request = Request::new(RouteCaseRequest::default());
    let traceparent = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().expect("ascii"));
    PortabilityServiceClient::new(connect(&portability.url()).await)
        .route_case(request)
        .await
        .expect("route case");

    let first = finished_span(
        &exporter,
        "/ayushman.portability.v1.PortabilityService/RouteCase",
    )
    .await;
    let second = finished_span(
        &exporter,
        "/ayushman.facility.v1.FacilityRegistryService/CheckEmpanelment",
    )
    .await;
    let caller_trace = TraceId::from_hex(CALLER_TRACE).expect("hex");
    assert_eq!(first.span_context.trace_id(), caller_trace);
    assert_eq!(
        first.parent_span_id,
        SpanId::from_hex(CALLER_SPAN).expect("hex")
    );
    assert_eq!(second.span_context.trace_id(), caller_trace);
    assert_eq!(second.parent_span_id, first.span_context.span_id());
}

//! One trace across the whole preauth saga, entered through the partner
//! gateway: the spans of the gateway and all four services (a portability
//! case, so that portability routes it) carry the caller's trace id, and so
//! does the gateway's audit row. Own test binary: it installs the global
//! subscriber.

use std::{collections::BTreeSet, time::Duration};

use ayushman_platform::testing;
use ayushman_proto::preauth::v1::preauth_service_client::PreauthServiceClient;
use ayushman_proto::{common::v1::Role, preauth::v1 as pb};
use mesh_tests::{
    gateway::{self, as_user},
    preauth::{self, RJ_FAMILY, quick_settings, today},
};
use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::InMemorySpanExporter;

const CALLER_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

#[tokio::test]
async fn through_the_gateway_the_spans_of_every_service_share_the_caller_s_trace_id() {
    let exporter = InMemorySpanExporter::default();
    let _telemetry = ayushman_platform::telemetry::init_with_exporter(
        "preauth-trace-test",
        &testing::test_telemetry(),
        exporter.clone(),
    );
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let gateway = gateway::spawn(&flow, "sqlite").await;
    let hospital = gateway
        .partner("Maharani District Hospital HIS", "22", &["preauth.write"])
        .await;
    let mitra = gateway.user(&hospital, "Arogya Mitra", &[Role::Pmam]).await;
    // A Rajasthan MAA card holder at a Chhattisgarh hospital.
    let beneficiary_id = flow.member(RJ_FAMILY).await;

    let mut request = as_user(
        pb::RaisePreauthRequest {
            idempotency_key: "traced".into(),
            beneficiary_id,
            hfr_id: "IN2210000001".into(),
            treating_hpr_id: preauth::DOCTOR.into(),
            packages: vec![pb::PackageChoice {
                package_code: "MC011A".into(),
                add_on_codes: Vec::new(),
            }],
            admission_date: Some(today()),
            ..Default::default()
        },
        &hospital.key,
        &mitra,
    );
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{CALLER_TRACE}-b7ad6b7169203331-01")
            .parse()
            .expect("ascii"),
    );
    PreauthServiceClient::new(gateway.channel().await)
        .raise_preauth(request)
        .await
        .expect("raise through the gateway");

    let trace = TraceId::from_hex(CALLER_TRACE).expect("hex");
    let expected: BTreeSet<&str> = [
        "/ayushman.preauth.v1.PreauthService/RaisePreauth",
        "/ayushman.beneficiary.v1.BeneficiaryRegistryService/VerifyEligibility",
        "/ayushman.portability.v1.PortabilityService/RouteCase",
        "/ayushman.facility.v1.FacilityRegistryService/CheckEmpanelment",
        "/ayushman.beneficiary.v1.BeneficiaryRegistryService/BlockAmount",
    ]
    .into();
    let mut seen = BTreeSet::new();
    let mut raise_spans = 0;
    for _ in 0..100 {
        let spans = exporter.get_finished_spans().expect("spans");
        let in_trace: Vec<_> = spans
            .iter()
            .filter(|s| s.span_context.trace_id() == trace)
            .collect();
        seen = in_trace.iter().map(|s| s.name.to_string()).collect();
        // One at the gateway, one at the preauth service.
        raise_spans = in_trace
            .iter()
            .filter(|s| s.name == "/ayushman.preauth.v1.PreauthService/RaisePreauth")
            .count();
        if raise_spans == 2 && expected.iter().all(|name| seen.contains(*name)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(raise_spans, 2, "gateway and preauth spans of RaisePreauth");
    let audit = gateway.audit(&hospital.partner_id).await;
    assert_eq!(audit[0].trace_id, CALLER_TRACE);
    let missing: Vec<_> = expected
        .iter()
        .filter(|name| !seen.contains(**name))
        .collect();
    assert!(
        missing.is_empty(),
        "spans missing from the caller's trace: {missing:?}; seen {seen:?}"
    );
}

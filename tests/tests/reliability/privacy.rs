//! Nothing secret leaves a process: the gateway and the beneficiary registry
//! run as real binaries logging at debug and exporting every span over OTLP to
//! a collector in this test; a partner imports and cards people with Aadhaar
//! numbers through the gateway; then every log line and every exported span is
//! searched for each Aadhaar number, the partner's key, the operator's key and
//! the services' secrets.

use std::sync::{Arc, Mutex};

use ayushman_platform::MeshService;
use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        import_eligibility_request::Item,
    },
    common::v1::{Actor, ActorKind, Role},
    gateway::v1::{self as g, gateway_admin_service_client::GatewayAdminServiceClient},
};
use mesh_tests::{
    ServiceProcess,
    beneficiary::{aadhaar, saran_row},
    connect,
    gateway::{as_user, with_key},
    record_figure,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};

/// A collector that keeps every span it is sent.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().expect("spans").push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

const OPERATOR_KEY: &str = "aym_privacy_operator_key_0123456789ab";
const IDENTITY_KEY: &str = "privacy-test-identity-key-0123456789";
const HMAC_KEY: &str = "privacy-test-aadhaar-hmac-key-012345";

#[tokio::test]
async fn no_log_line_or_span_carries_an_aadhaar_number_a_key_or_a_secret() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let data = tempfile::tempdir().expect("data");
    let common = [
        (
            "AYUSHMAN__TELEMETRY__LOG_FILTER",
            "debug,h2=info,hyper=info,tower=info",
        ),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("AYUSHMAN__SERVER__PARTNER_IDENTITY_KEY", IDENTITY_KEY),
    ];
    let mut registry_env = common.to_vec();
    registry_env.push(("AYUSHMAN__SERVICE__AADHAAR_HMAC_KEY", HMAC_KEY));
    let registry = ServiceProcess::start_in(
        MeshService::BeneficiaryRegistry,
        data.path(),
        None,
        &registry_env,
    )
    .await;
    let registry_url = registry.url();
    let mut gateway_env = common.to_vec();
    gateway_env.push(("AYUSHMAN__SERVICE__BOOTSTRAP_ADMIN_KEY", OPERATOR_KEY));
    gateway_env.push((
        "AYUSHMAN__PEERS__BENEFICIARY_REGISTRY__URL",
        registry_url.as_str(),
    ));
    let gateway =
        ServiceProcess::start_in(MeshService::Gateway, data.path(), None, &gateway_env).await;

    let channel = connect(&gateway.url()).await;
    let mut admin = GatewayAdminServiceClient::new(channel.clone());
    let partner = admin
        .create_partner(with_key(
            g::CreatePartnerRequest {
                idempotency_key: "privacy".into(),
                partner: Some(g::Partner {
                    name: "Saran card camp".into(),
                    kind: g::PartnerKind::StatePortal as i32,
                    home_state_code: "10".into(),
                    scopes: vec![
                        "beneficiary.read".into(),
                        "beneficiary.write".into(),
                        "beneficiary.import".into(),
                    ],
                    ..Default::default()
                }),
            },
            OPERATOR_KEY,
        ))
        .await
        .expect("partner")
        .into_inner()
        .partner
        .expect("partner");
    let user = admin
        .create_user(with_key(
            g::CreateUserRequest {
                idempotency_key: "privacy-user".into(),
                user: Some(g::User {
                    partner_id: partner.partner_id.clone(),
                    name: "Camp in-charge".into(),
                    roles: vec![Role::ShaAdmin as i32, Role::Operator as i32],
                    ..Default::default()
                }),
            },
            OPERATOR_KEY,
        ))
        .await
        .expect("user")
        .into_inner()
        .user
        .expect("user")
        .user_id;
    let key = admin
        .issue_api_key(with_key(
            g::IssueApiKeyRequest {
                idempotency_key: "privacy-key".into(),
                partner_id: partner.partner_id,
            },
            OPERATOR_KEY,
        ))
        .await
        .expect("key")
        .into_inner()
        .api_key;

    let numbers: Vec<String> = (0..12).map(|n| aadhaar(31_000 + n)).collect();
    let mut people = BeneficiaryRegistryServiceClient::new(channel);
    let header = b::ImportEligibilityRequest {
        item: Some(Item::Header(b::ImportHeader {
            idempotency_key: "privacy-import".into(),
            file_name: "camp.csv".into(),
            actor: None,
        })),
    };
    let rows = numbers.iter().enumerate().map(|(n, number)| {
        let mut row = saran_row(
            &format!("RC-PRIV-{n}"),
            &format!("Private Person {n}"),
            1970 + n as i32,
        );
        row.aadhaar = number.clone();
        b::ImportEligibilityRequest {
            item: Some(Item::Row(row)),
        }
    });
    let messages: Vec<_> = std::iter::once(header).chain(rows).collect();
    people
        .import_eligibility(as_user(tokio_stream::iter(messages), &key, &user))
        .await
        .expect("import through the gateway");
    let mut calls = 1;
    for (n, number) in numbers.iter().enumerate() {
        let found = people
            .search_beneficiaries(with_key(
                b::SearchBeneficiariesRequest {
                    query: Some(b::search_beneficiaries_request::Query::Aadhaar(
                        number.clone(),
                    )),
                    ..Default::default()
                },
                &key,
            ))
            .await
            .expect("search by Aadhaar")
            .into_inner()
            .beneficiaries;
        let person = found
            .first()
            .expect("found by Aadhaar")
            .beneficiary_id
            .clone();
        // Spaced as on the card, as operators type it.
        let spaced = format!("{} {} {}", &number[..4], &number[4..8], &number[8..]);
        people
            .issue_card(as_user(
                b::IssueCardRequest {
                    mobiliser_id: String::new(),
                    self_service: false,
                    kyc_proof: String::new(),
                    idempotency_key: format!("privacy-card-{n}"),
                    beneficiary_id: person,
                    aadhaar: spaced,
                    kyc_method: b::KycMethod::AadhaarOtp as i32,
                    operator: Some(Actor {
                        actor_id: "CSC-SARAN-1".into(),
                        kind: ActorKind::Operator as i32,
                        display_name: String::new(),
                    }),
                    centre_id: "CSC-10230-1".into(),
                    campaign_id: String::new(),
                },
                &key,
                &user,
            ))
            .await
            .expect("card through the gateway");
        calls += 2;
    }

    // SIGTERM flushes the span exporters.
    let mut lines = gateway.log_lines();
    lines.extend(registry.log_lines());
    assert_eq!(gateway.terminate().await, Some(0));
    assert_eq!(registry.terminate().await, Some(0));
    let spans: Vec<String> = collector
        .0
        .lock()
        .expect("spans")
        .iter()
        .map(|export| format!("{export:?}"))
        .collect();
    assert!(!spans.is_empty(), "spans were exported to the collector");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("eligibility imported")),
        "the services logged the calls: {lines:#?}"
    );

    let mut secrets: Vec<(String, String)> = Vec::new();
    for number in &numbers {
        secrets.push((format!("Aadhaar {}", &number[8..]), number.clone()));
        secrets.push((
            format!("spaced Aadhaar {}", &number[8..]),
            format!("{} {} {}", &number[..4], &number[4..8], &number[8..]),
        ));
    }
    secrets.push(("the partner's API key".into(), key.clone()));
    secrets.push(("the operator's key".into(), OPERATOR_KEY.into()));
    secrets.push(("the identity key".into(), IDENTITY_KEY.into()));
    secrets.push(("the Aadhaar HMAC key".into(), HMAC_KEY.into()));
    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        for line in &lines {
            if line.contains(secret.as_str()) {
                leaks.push(format!("{what} in a log line: {line}"));
            }
        }
        for span in &spans {
            if span.contains(secret.as_str()) {
                leaks.push(format!("{what} in an exported span"));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    record_figure(
        "privacy",
        &format!(
            "{calls} calls through the gateway with {} Aadhaar numbers; {} log lines and {} span exports searched",
            numbers.len(),
            lines.len(),
            spans.len()
        ),
        "debug logging, every span exported",
        &format!("nothing: none of {} secrets appeared", secrets.len()),
    );
}

#[tokio::test]
async fn no_stored_value_of_any_service_reveals_an_aadhaar_number() {
    use mesh_tests::{
        dump::dump,
        portability::backends,
        preauth::{self, quick_settings},
    };
    use prost::Message;
    use sha2::{Digest, Sha256};

    let mut rows_searched = 0;
    let mut numbers_searched = 0;
    for backend in backends() {
        let mut flow = preauth::spawn(backend, quick_settings())
            .await
            .with_everything()
            .await;
        let numbers: Vec<String> = (0..6).map(|n| aadhaar(41_000 + n)).collect();
        let rows = numbers
            .iter()
            .enumerate()
            .map(|(n, number)| {
                let mut row = saran_row(
                    &format!("RC-STORE-{n}"),
                    &format!("Stored Person {n}"),
                    1960 + n as i32,
                );
                row.aadhaar = number.clone();
                row
            })
            .collect();
        flow.people
            .import("stored-import", rows)
            .await
            .expect("import with Aadhaar");
        let mut requests_with_aadhaar = Vec::new();
        for (n, number) in numbers.iter().enumerate() {
            let search = b::SearchBeneficiariesRequest {
                query: Some(b::search_beneficiaries_request::Query::Aadhaar(
                    number.clone(),
                )),
                ..Default::default()
            };
            requests_with_aadhaar.push(search.encode_to_vec());
            let person = flow
                .people
                .client
                .search_beneficiaries(search)
                .await
                .expect("search by Aadhaar")
                .into_inner()
                .beneficiaries
                .remove(0);
            let card = b::IssueCardRequest {
                mobiliser_id: String::new(),
                self_service: false,
                kyc_proof: String::new(),
                idempotency_key: format!("stored-card-{n}"),
                beneficiary_id: person.beneficiary_id,
                aadhaar: number.clone(),
                kyc_method: b::KycMethod::AadhaarOtp as i32,
                operator: Some(Actor {
                    actor_id: "CSC-SARAN-2".into(),
                    kind: ActorKind::Operator as i32,
                    display_name: String::new(),
                }),
                centre_id: "CSC-10230-2".into(),
                campaign_id: String::new(),
            };
            requests_with_aadhaar.push(card.encode_to_vec());
            flow.people
                .client
                .issue_card(card)
                .await
                .expect("card with e-KYC");
        }
        let mut needles: Vec<(String, String)> = Vec::new();
        for number in &numbers {
            let last4 = &number[8..];
            needles.push((format!("Aadhaar ..{last4}"), number.clone()));
            needles.push((
                format!("Aadhaar ..{last4} as hex"),
                hex::encode(number.as_bytes()),
            ));
        }
        for (n, request) in requests_with_aadhaar.iter().enumerate() {
            needles.push((
                format!("unkeyed SHA-256 of request {n} carrying an Aadhaar number"),
                hex::encode(Sha256::digest(request)),
            ));
        }
        let mut found = Vec::new();
        for (service, database) in flow.databases() {
            let lines = dump(service, database).await;
            rows_searched += lines.len();
            for line in &lines {
                let line = line.to_ascii_lowercase();
                for (what, needle) in &needles {
                    if line.contains(needle.as_str()) {
                        found.push(format!("{backend} {service}: {what} in {line}"));
                    }
                }
            }
        }
        numbers_searched += numbers.len();
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
    record_figure(
        "privacy (stored)",
        &format!(
            "{numbers_searched} Aadhaar numbers imported, searched and carded; {rows_searched} stored rows of every service dumped on every backend"
        ),
        "a copy of every database",
        "nothing: no Aadhaar number, nor an unkeyed hash of a request carrying one",
    );
}

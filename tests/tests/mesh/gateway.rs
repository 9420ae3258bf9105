//! The partner gateway in front of the real services, in-process over real
//! gRPC and HTTP/1.1: keys, scopes, state scoping enforced by the services,
//! rate limits, the audit row of every call, the transparent proxy (unary and
//! client-streaming), JSON that answers as gRPC does, and grpcurl through it.

use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        import_eligibility_request::Item,
    },
    common::v1::{Location, Role},
    gateway::v1 as g,
    preauth::v1::{self as pa, preauth_service_client::PreauthServiceClient},
};
use mesh_tests::{
    gateway::{self, ADMIN_KEY, Gateway, TestPartner, as_user, with_key},
    grpcurl, leading_comments,
    portability::backends,
    preauth::{self, BR_FAMILY, CG_FAMILY, DOCTOR, Flow, RJ_FAMILY, quick_settings, today},
    reflected_files,
};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

const VERIFY: &str = "/ayushman.beneficiary.v1.BeneficiaryRegistryService/VerifyEligibility";

async fn mesh(backend: &str) -> (Flow, Gateway) {
    let flow = preauth::spawn(backend, quick_settings())
        .await
        .with_everything()
        .await;
    let gateway = gateway::spawn(&flow, backend).await;
    (flow, gateway)
}

async fn registry(gateway: &Gateway) -> BeneficiaryRegistryServiceClient<Channel> {
    BeneficiaryRegistryServiceClient::new(gateway.channel().await)
}

fn verify(beneficiary_id: &str) -> b::VerifyEligibilityRequest {
    b::VerifyEligibilityRequest {
        beneficiary_id: beneficiary_id.into(),
        ..Default::default()
    }
}

async fn verify_as(
    gateway: &Gateway,
    key: &str,
    beneficiary_id: &str,
) -> Result<b::VerifyEligibilityResponse, tonic::Status> {
    registry(gateway)
        .await
        .verify_eligibility(with_key(verify(beneficiary_id), key))
        .await
        .map(tonic::Response::into_inner)
}

async fn bihar_portal(gateway: &Gateway, scopes: &[&str]) -> TestPartner {
    gateway
        .partner("Bihar State Health Society portal", "10", scopes)
        .await
}

fn codes(records: &[g::AuditRecord]) -> Vec<(String, i32)> {
    let mut codes: Vec<(String, i32)> = records
        .iter()
        .map(|r| {
            (
                r.method.rsplit('/').next().unwrap_or("").to_owned(),
                r.status_code,
            )
        })
        .collect();
    codes.reverse();
    codes
}

#[tokio::test]
async fn a_call_needs_a_valid_key_and_every_refusal_leaves_an_audit_row() {
    for backend in backends() {
        let (mut flow, gateway) = mesh(backend).await;
        let person = flow.member(BR_FAMILY).await;

        let no_key = registry(&gateway)
            .await
            .verify_eligibility(verify(&person))
            .await
            .unwrap_err();
        assert_eq!(no_key.code(), Code::Unauthenticated, "{backend}");
        assert!(
            no_key.message().contains("authorization: Bearer"),
            "{no_key:?}"
        );
        let unknown = verify_as(&gateway, "aym_00000000000000000000000000000000", &person)
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::Unauthenticated);

        let portal = bihar_portal(&gateway, &["beneficiary.read"]).await;
        let answer = verify_as(&gateway, &portal.key, &person)
            .await
            .expect("verify");
        assert_eq!(answer.home_state_code, "10");

        gateway
            .admin()
            .await
            .revoke_api_key(with_key(
                g::RevokeApiKeyRequest {
                    idempotency_key: "revoke-1".into(),
                    key_id: portal.key_id.clone(),
                },
                ADMIN_KEY,
            ))
            .await
            .expect("revoke");
        let revoked = verify_as(&gateway, &portal.key, &person).await.unwrap_err();
        assert_eq!(revoked.code(), Code::Unauthenticated);
        assert_eq!(
            revoked.message(),
            format!("API key {} was revoked", portal.key_id)
        );

        assert_eq!(
            codes(&gateway.audit(&portal.partner_id).await),
            [
                ("VerifyEligibility".to_owned(), 0),
                ("VerifyEligibility".to_owned(), 16)
            ],
            "{backend}"
        );
        let anonymous = gateway.audit("").await;
        assert_eq!(
            codes(&anonymous),
            [
                ("VerifyEligibility".to_owned(), 16),
                ("VerifyEligibility".to_owned(), 16)
            ]
        );
        assert!(
            anonymous
                .iter()
                .all(|r| r.transport == "grpc" && r.latency_micros > 0)
        );
    }
}

#[tokio::test]
async fn a_state_key_reads_its_own_people_only_and_forged_identity_is_ignored() {
    for backend in backends() {
        let (mut flow, gateway) = mesh(backend).await;
        let (bihari, rajasthani) = (flow.member(BR_FAMILY).await, flow.member(RJ_FAMILY).await);
        let portal = bihar_portal(&gateway, &["beneficiary.read"]).await;

        assert!(verify_as(&gateway, &portal.key, &bihari).await.is_ok());
        let denied = verify_as(&gateway, &portal.key, &rajasthani)
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{backend}");
        assert_eq!(
            denied.message(),
            format!(
                "partner {} acts for state 10; beneficiary {rajasthani} belongs to state 08",
                portal.partner_id
            )
        );
        let get = registry(&gateway)
            .await
            .get_beneficiary(with_key(
                b::GetBeneficiaryRequest {
                    beneficiary_id: rajasthani.clone(),
                },
                &portal.key,
            ))
            .await
            .unwrap_err();
        assert_eq!(get.code(), Code::PermissionDenied);
        let search = registry(&gateway)
            .await
            .search_beneficiaries(with_key(
                b::SearchBeneficiariesRequest {
                    query: Some(b::search_beneficiaries_request::Query::FamilyId(
                        RJ_FAMILY.into(),
                    )),
                    ..Default::default()
                },
                &portal.key,
            ))
            .await
            .expect("search")
            .into_inner();
        assert!(
            search.beneficiaries.is_empty(),
            "another state's family is invisible"
        );

        // Identity sent from outside is dropped at the gateway, signed or not.
        let mut forged = with_key(verify(&rajasthani), &portal.key);
        for (name, value) in [
            ("x-ayushman-partner-id", "PTN-MESH-OPERATOR"),
            ("x-ayushman-partner-state", "08"),
            ("x-ayushman-partner-signature", "00ff"),
        ] {
            forged
                .metadata_mut()
                .insert(name, value.parse().expect("ascii"));
        }
        let forged = registry(&gateway)
            .await
            .verify_eligibility(forged)
            .await
            .unwrap_err();
        assert_eq!(forged.code(), Code::PermissionDenied);

        let national = gateway
            .partner("National Health Authority", "", &["beneficiary.read"])
            .await;
        assert_eq!(
            verify_as(&gateway, &national.key, &rajasthani)
                .await
                .expect("a national partner sees every state")
                .home_state_code,
            "08"
        );
        assert_eq!(
            codes(&gateway.audit(&portal.partner_id).await)
                .iter()
                .map(|(_, code)| *code)
                .collect::<Vec<_>>(),
            [0, 7, 7, 0, 7]
        );
    }
}

#[tokio::test]
async fn scopes_decide_which_methods_a_partner_may_call() {
    let (mut flow, gateway) = mesh("sqlite").await;
    let portal = bihar_portal(&gateway, &["beneficiary.read"]).await;
    let person = flow.member(BR_FAMILY).await;

    let raise = PreauthServiceClient::new(gateway.channel().await)
        .raise_preauth(with_key(
            pa::RaisePreauthRequest {
                idempotency_key: "scoped-out".into(),
                beneficiary_id: person.clone(),
                ..Default::default()
            },
            &portal.key,
        ))
        .await
        .unwrap_err();
    assert_eq!(raise.code(), Code::PermissionDenied);
    assert_eq!(
        raise.message(),
        format!(
            "partner {} lacks scope preauth.write, which /ayushman.preauth.v1.PreauthService/RaisePreauth needs",
            portal.partner_id
        )
    );

    let block = registry(&gateway)
        .await
        .block_amount(with_key(
            b::BlockAmountRequest {
                idempotency_key: "steal".into(),
                beneficiary_id: person,
                scheme_code: "BR-MJAY".into(),
                preauth_id: "PA-FAKE".into(),
                amount_paise: 1_00,
                ..Default::default()
            },
            &portal.key,
        ))
        .await
        .unwrap_err();
    assert_eq!(block.code(), Code::PermissionDenied);
    assert!(
        block
            .message()
            .contains("internal to the beneficiary-registry service"),
        "{block:?}"
    );

    let admin = gateway
        .admin()
        .await
        .list_partners(with_key(g::ListPartnersRequest::default(), &portal.key))
        .await
        .unwrap_err();
    assert_eq!(admin.code(), Code::PermissionDenied);

    let health = tonic_health::pb::health_client::HealthClient::new(gateway.channel().await)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health needs no key");
    assert_eq!(health.into_inner().status, 1);
}

#[tokio::test]
async fn over_its_limit_a_partner_is_told_when_to_retry() {
    let (mut flow, gateway) = mesh("sqlite").await;
    let person = flow.member(BR_FAMILY).await;
    let slow = gateway
        .partner_with_rate("Slow portal", "10", &["beneficiary.read"], 1, 2)
        .await;
    assert!(verify_as(&gateway, &slow.key, &person).await.is_ok());
    assert!(verify_as(&gateway, &slow.key, &person).await.is_ok());
    let limited = verify_as(&gateway, &slow.key, &person).await.unwrap_err();
    assert_eq!(limited.code(), Code::ResourceExhausted);
    let delay = limited
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("retry info");
    assert!(
        delay > std::time::Duration::ZERO && delay <= std::time::Duration::from_secs(1),
        "{delay:?}"
    );
    assert_eq!(
        codes(&gateway.audit(&slow.partner_id).await)
            .iter()
            .map(|(_, code)| *code)
            .collect::<Vec<_>>(),
        [0, 0, 8]
    );
}

#[tokio::test]
async fn an_eligibility_list_streams_through_the_gateway_and_rows_of_other_states_are_refused() {
    let (_flow, gateway) = mesh("sqlite").await;
    let portal = bihar_portal(&gateway, &["beneficiary.import"]).await;
    let admin = gateway
        .user(&portal, "SHA list officer", &[Role::ShaAdmin])
        .await;
    let row = |family: &str, state: &str, district: &str| b::ImportEligibilityRequest {
        item: Some(Item::Row(b::EligibilityRow {
            source_list: b::SourceList::Nfsa as i32,
            family_id: family.into(),
            member_name: "Sunita Kumari".into(),
            gender: ayushman_proto::common::v1::Gender::Female as i32,
            year_of_birth: 1984,
            relation: b::Relation::Head as i32,
            location: Some(Location {
                state_code: state.into(),
                district_code: district.into(),
                ..Default::default()
            }),
            eligibility_category: "NFSA-PHH".into(),
            ..Default::default()
        })),
    };
    let messages = vec![
        b::ImportEligibilityRequest {
            item: Some(Item::Header(b::ImportHeader {
                idempotency_key: "gateway-import".into(),
                file_name: "saran.csv".into(),
                actor: None,
            })),
        },
        row("BR-NEW-1", "10", "10-230"),
        row("RJ-NEW-1", "08", "08-110"),
    ];
    let summary = registry(&gateway)
        .await
        .import_eligibility(as_user(tokio_stream::iter(messages), &portal.key, &admin))
        .await
        .expect("import through the gateway")
        .into_inner();
    assert_eq!((summary.accepted, summary.rejected), (1, 1));
    assert_eq!(summary.rejects[0].row_number, 2);
    assert_eq!(summary.rejects[0].field, "location.state_code");
    assert!(
        summary.rejects[0]
            .reason
            .ends_with("this row belongs to state 08"),
        "{:?}",
        summary.rejects
    );
}

#[tokio::test]
async fn the_same_call_over_json_and_grpc_gives_the_same_answer() {
    for backend in backends() {
        let (mut flow, gateway) = mesh(backend).await;
        let (bihari, rajasthani) = (flow.member(BR_FAMILY).await, flow.member(RJ_FAMILY).await);
        let portal = bihar_portal(&gateway, &["beneficiary.read"]).await;

        let over_grpc = verify_as(&gateway, &portal.key, &bihari)
            .await
            .expect("gRPC");
        let pool = prost_reflect::DescriptorPool::decode(ayushman_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptors");
        let descriptor = pool
            .get_message_by_name("ayushman.beneficiary.v1.VerifyEligibilityResponse")
            .expect("message");
        let expected = serde_json::to_value(
            prost_reflect::DynamicMessage::decode(
                descriptor,
                prost::Message::encode_to_vec(&over_grpc).as_slice(),
            )
            .expect("decode"),
        )
        .expect("to JSON");

        let bearer = format!("Bearer {}", portal.key);
        let (status, _, over_json) = gateway
            .post_json(
                &format!("/v1{VERIFY}"),
                &[("Authorization", &bearer)],
                &format!(r#"{{"beneficiaryId":"{bihari}"}}"#),
            )
            .await;
        assert_eq!(status, 200, "{over_json}");
        assert_eq!(over_json, expected, "{backend}");

        let (status, _, denied) = gateway
            .post_json(
                &format!("/v1{VERIFY}"),
                &[("x-api-key", &portal.key)],
                &format!(r#"{{"beneficiary_id":"{rajasthani}"}}"#),
            )
            .await;
        assert_eq!(status, 403);
        assert_eq!(denied["error"]["status"], "PERMISSION_DENIED");

        let (status, _, bad) = gateway
            .post_json(
                &format!("/v1{VERIFY}"),
                &[("Authorization", &bearer)],
                r#"{"treatmentDate":"yesterday"}"#,
            )
            .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(bad["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(
            bad["error"]["details"][0]["fieldViolations"][0]["field"],
            "body"
        );

        let (status, _, anonymous) = gateway.post_json(&format!("/v1{VERIFY}"), &[], "{}").await;
        assert_eq!(status, 401);
        assert_eq!(anonymous["error"]["status"], "UNAUTHENTICATED");

        let transports: Vec<String> = gateway
            .audit(&portal.partner_id)
            .await
            .into_iter()
            .map(|r| r.transport)
            .collect();
        assert_eq!(transports, ["http-json", "http-json", "http-json", "grpc"]);
    }
}

#[tokio::test]
async fn a_hospital_raises_a_preauth_through_the_gateway_and_other_states_cannot_see_it() {
    let (mut flow, gateway) = mesh("sqlite").await;
    let hospital = gateway
        .hospital(
            "Maharani District Hospital HIS",
            &["IN2210000001"],
            &["preauth.read", "preauth.write"],
        )
        .await;
    let mitra = gateway
        .user(&hospital, "Arogya Mitra, help desk", &[Role::Pmam])
        .await;
    let portal = bihar_portal(&gateway, &["preauth.read", "preauth.write"]).await;
    let clerk = gateway.user(&portal, "Bihar clerk", &[Role::Pmam]).await;
    let raise = |(key, user): (&str, &str), person: String, idempotency: &str| {
        as_user(
            pa::RaisePreauthRequest {
                idempotency_key: idempotency.into(),
                beneficiary_id: person,
                hfr_id: "IN2210000001".into(),
                treating_hpr_id: DOCTOR.into(),
                packages: vec![pa::PackageChoice {
                    package_code: "MC011A".into(),
                    add_on_codes: Vec::new(),
                }],
                admission_date: Some(today()),
                ..Default::default()
            },
            key,
            user,
        )
    };
    let mut client = PreauthServiceClient::new(gateway.channel().await);
    let raised = client
        .raise_preauth(raise(
            (&hospital.key, &mitra),
            flow.member(CG_FAMILY).await,
            "his-1",
        ))
        .await
        .expect("raise through the gateway")
        .into_inner()
        .preauth
        .expect("preauth");
    assert_eq!(raised.status, pa::PreauthStatus::Raised as i32);

    let elsewhere = client
        .raise_preauth(raise(
            (&portal.key, &clerk),
            flow.member(CG_FAMILY).await,
            "br-1",
        ))
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), Code::PermissionDenied, "{elsewhere:?}");
    let read = client
        .get_preauth(with_key(
            pa::GetPreauthRequest {
                preauth_id: raised.preauth_id.clone(),
            },
            &portal.key,
        ))
        .await
        .unwrap_err();
    assert_eq!(read.code(), Code::PermissionDenied);
    let listed = client
        .list_preauths(with_key(pa::ListPreauthsRequest::default(), &portal.key))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.preauths.is_empty(), "{listed:?}");
    let own = client
        .list_preauths(with_key(pa::ListPreauthsRequest::default(), &hospital.key))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(own.preauths.len(), 1);
}

#[tokio::test]
async fn grpcurl_through_the_gateway_lists_and_describes_only_what_partners_may_call() {
    let (_flow, gateway) = mesh("sqlite").await;
    let portal = bihar_portal(&gateway, &["beneficiary.read"]).await;
    let address = gateway.server.addr.to_string();
    let header = format!("authorization: Bearer {}", portal.key);
    // tokio's Command: the gateway is served by this test's own runtime.
    let run = async |args: &[&str]| {
        tokio::process::Command::new(grpcurl())
            .arg("-plaintext")
            .args(args)
            .output()
            .await
            .expect("grpcurl runs")
    };
    let list = run(&["-H", &header, &address, "list"]).await;
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&list.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            "ayushman.beneficiary.v1.BeneficiaryRegistryService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ],
        "a portal that may only read beneficiaries sees only that service"
    );
    let described = run(&[
        "-H",
        &header,
        &address,
        "describe",
        "ayushman.beneficiary.v1.BeneficiaryRegistryService",
    ])
    .await;
    let described = String::from_utf8_lossy(&described.stdout);
    assert!(described.contains("rpc VerifyEligibility"), "{described}");
    assert!(!described.contains("rpc BlockAmount"), "{described}");

    let verify = run(&[
        "-H",
        &header,
        "-d",
        r#"{"card_number":"CARD-BR-FAM-1"}"#,
        &address,
        "ayushman.beneficiary.v1.BeneficiaryRegistryService/VerifyEligibility",
    ])
    .await;
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains(r#""homeStateCode": "10""#));

    let without_key = run(&[&address, "list"]).await;
    assert!(!without_key.status.success());
    assert!(
        String::from_utf8_lossy(&without_key.stderr).contains("Unauthenticated"),
        "{}",
        String::from_utf8_lossy(&without_key.stderr)
    );
}

#[tokio::test]
async fn every_comment_a_partner_sees_through_the_gateway_is_the_one_its_service_serves() {
    let (flow, gateway) = mesh("sqlite").await;
    let hospital = gateway
        .partner(
            "Comment check hospital",
            "",
            &[
                "preauth.read",
                "preauth.write",
                "claims.write",
                "beneficiary.read",
            ],
        )
        .await;
    let mut direct = std::collections::BTreeMap::new();
    for url in [
        flow.people.server.url(),
        flow.facilities.server.url(),
        flow.servers[0].url(),
        flow.servers[1].url(),
        flow.servers[2].url(),
    ] {
        direct.extend(leading_comments(
            &reflected_files(mesh_tests::connect(&url).await, None).await,
        ));
    }
    // The admin service is the gateway's own: its comments are the contract's.
    let contracts = <prost_types::FileDescriptorSet as prost::Message>::decode(
        ayushman_proto::FILE_DESCRIPTOR_SET,
    )
    .expect("contracts");
    direct.extend(
        leading_comments(&contracts.file)
            .into_iter()
            .filter(|(name, _)| name.starts_with("ayushman.gateway.")),
    );
    for (key, expected, at_least) in [
        (hospital.key.as_str(), "PreauthService.RaisePreauth", 100),
        (gateway::ADMIN_KEY, "GatewayAdminService.IssueApiKey", 20),
    ] {
        let seen = leading_comments(&reflected_files(gateway.channel().await, Some(key)).await);
        assert!(
            seen.keys().any(|name| name.ends_with(expected)),
            "the partner sees {expected}"
        );
        let mut compared = 0;
        for (element, comment) in &seen {
            if let Some(own) = direct.get(element) {
                assert_eq!(comment, own, "the comment of {element} through the gateway");
                compared += 1;
            }
        }
        assert!(compared >= at_least, "only {compared} elements compared");
    }
    let hospital_view =
        leading_comments(&reflected_files(gateway.channel().await, Some(&hospital.key)).await);
    assert!(
        !hospital_view
            .keys()
            .any(|name| name.contains("GatewayAdminService") || name.ends_with(".BlockAmount")),
        "a hospital sees neither the admin service nor internal methods"
    );
}

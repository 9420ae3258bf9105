//! Through the gateway, every way in that must be shut is shut: no key, a
//! revoked key, a missing scope, another state's data, forged identity, the
//! rate limit, the gateway's own admin service, and each internal RPC of the
//! services — even for a national partner holding every partner scope. Each
//! refusal leaves its audit row.

use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    claims::v1::{self as c, claims_service_client::ClaimsServiceClient},
    gateway::v1 as g,
    portability::v1::{self as p, portability_service_client::PortabilityServiceClient},
    preauth::v1::{self as pa, preauth_service_client::PreauthServiceClient},
};
use mesh_tests::{
    gateway::{self, ADMIN_KEY, with_key},
    preauth::{self, BR_FAMILY, RJ_FAMILY, quick_settings},
    record_figure,
};
use tonic::Code;

/// Every partner scope (not the admin's).
const ALL_PARTNER_SCOPES: [&str; 14] = [
    "beneficiary.read",
    "beneficiary.write",
    "beneficiary.import",
    "facility.read",
    "facility.write",
    "facility.opd",
    "preauth.read",
    "preauth.write",
    "preauth.review",
    "claims.read",
    "claims.write",
    "claims.adjudicate",
    "claims.pay",
    "portability.read",
];

#[tokio::test]
async fn every_shut_door_through_the_gateway_stays_shut_and_is_audited() {
    let mut flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let gateway = gateway::spawn(&flow, "sqlite").await;
    let national = gateway
        .partner("National everything", "", &ALL_PARTNER_SCOPES)
        .await;
    let bihar = gateway
        .partner("Bihar reader", "10", &["beneficiary.read"])
        .await;
    let slow = gateway
        .partner_with_rate("Bihar slow", "10", &["beneficiary.read"], 1, 1)
        .await;
    let revoked = gateway
        .partner("Revoked portal", "10", &["beneficiary.read"])
        .await;
    gateway
        .admin()
        .await
        .revoke_api_key(with_key(
            g::RevokeApiKeyRequest {
                idempotency_key: "revoke".into(),
                key_id: revoked.key_id.clone(),
            },
            ADMIN_KEY,
        ))
        .await
        .expect("revoke");
    let rajasthani = flow.member(RJ_FAMILY).await;
    let bihari = flow.member(BR_FAMILY).await;
    let channel = gateway.channel().await;
    let people = || BeneficiaryRegistryServiceClient::new(channel.clone());
    let verify = |id: &str| b::VerifyEligibilityRequest {
        beneficiary_id: id.into(),
        ..Default::default()
    };

    let mut refusals: Vec<(&str, Result<(), tonic::Status>, Code)> = Vec::new();
    refusals.push((
        "no key",
        people().verify_eligibility(verify(&bihari)).await.map(drop),
        Code::Unauthenticated,
    ));
    refusals.push((
        "revoked key",
        people()
            .verify_eligibility(with_key(verify(&bihari), &revoked.key))
            .await
            .map(drop),
        Code::Unauthenticated,
    ));
    refusals.push((
        "an unknown key",
        people()
            .verify_eligibility(with_key(
                verify(&bihari),
                "aym_ffffffffffffffffffffffffffffffff",
            ))
            .await
            .map(drop),
        Code::Unauthenticated,
    ));
    refusals.push((
        "missing scope",
        PreauthServiceClient::new(channel.clone())
            .list_preauths(with_key(pa::ListPreauthsRequest::default(), &bihar.key))
            .await
            .map(drop),
        Code::PermissionDenied,
    ));
    refusals.push((
        "another state's person",
        people()
            .verify_eligibility(with_key(verify(&rajasthani), &bihar.key))
            .await
            .map(drop),
        Code::PermissionDenied,
    ));
    let mut forged = with_key(verify(&rajasthani), &bihar.key);
    forged
        .metadata_mut()
        .insert("x-ayushman-partner-state", "08".parse().expect("ascii"));
    forged.metadata_mut().insert(
        "x-ayushman-partner-id",
        "PTN-MESH-OPERATOR".parse().expect("ascii"),
    );
    refusals.push((
        "forged identity",
        people().verify_eligibility(forged).await.map(drop),
        Code::PermissionDenied,
    ));
    let _ = people()
        .verify_eligibility(with_key(verify(&bihari), &slow.key))
        .await;
    refusals.push((
        "over the rate limit",
        people()
            .verify_eligibility(with_key(verify(&bihari), &slow.key))
            .await
            .map(drop),
        Code::ResourceExhausted,
    ));
    refusals.push((
        "the gateway's admin service",
        gateway
            .admin()
            .await
            .issue_api_key(with_key(
                g::IssueApiKeyRequest {
                    idempotency_key: "self-service".into(),
                    partner_id: national.partner_id.clone(),
                },
                &national.key,
            ))
            .await
            .map(drop),
        Code::PermissionDenied,
    ));

    // The services' internal RPCs, for a national partner with every scope.
    let key = national.key.as_str();
    let internal: Vec<(&str, Result<(), tonic::Status>)> = vec![
        (
            "BlockAmount",
            people()
                .block_amount(with_key(
                    b::BlockAmountRequest {
                        idempotency_key: "x".into(),
                        beneficiary_id: bihari.clone(),
                        scheme_code: "PMJAY".into(),
                        preauth_id: "PA-STEAL".into(),
                        amount_paise: 1,
                        ..Default::default()
                    },
                    key,
                ))
                .await
                .map(drop),
        ),
        (
            "ReleaseAmount",
            people()
                .release_amount(with_key(
                    b::ReleaseAmountRequest {
                        idempotency_key: "x".into(),
                        preauth_id: "PA-STEAL".into(),
                        ..Default::default()
                    },
                    key,
                ))
                .await
                .map(drop),
        ),
        (
            "ConsumeAmount",
            people()
                .consume_amount(with_key(
                    b::ConsumeAmountRequest {
                        idempotency_key: "x".into(),
                        preauth_id: "PA-STEAL".into(),
                        amount_paise: 1,
                        ..Default::default()
                    },
                    key,
                ))
                .await
                .map(drop),
        ),
        (
            "UpsertPackage",
            PreauthServiceClient::new(channel.clone())
                .upsert_package(with_key(pa::UpsertPackageRequest::default(), key))
                .await
                .map(drop),
        ),
        (
            "ImportClaimHistory",
            ClaimsServiceClient::new(channel.clone())
                .import_claim_history(with_key(
                    tokio_stream::iter(Vec::<c::ImportClaimHistoryRequest>::new()),
                    key,
                ))
                .await
                .map(drop),
        ),
        (
            "CreateAgreement",
            PortabilityServiceClient::new(channel.clone())
                .create_agreement(with_key(p::CreateAgreementRequest::default(), key))
                .await
                .map(drop),
        ),
        (
            "SuspendAgreement",
            PortabilityServiceClient::new(channel.clone())
                .suspend_agreement(with_key(p::SuspendAgreementRequest::default(), key))
                .await
                .map(drop),
        ),
        (
            "ActivateAgreement",
            PortabilityServiceClient::new(channel.clone())
                .activate_agreement(with_key(p::ActivateAgreementRequest::default(), key))
                .await
                .map(drop),
        ),
    ];
    for (name, answer) in internal {
        refusals.push((name, answer, Code::PermissionDenied));
    }

    let mut wrong = Vec::new();
    for (name, answer, code) in &refusals {
        match answer {
            Err(status) if status.code() == *code => {}
            other => wrong.push(format!("{name}: wanted {code:?}, got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let mut rows = 0;
    for partner in [
        "",
        national.partner_id.as_str(),
        bihar.partner_id.as_str(),
        slow.partner_id.as_str(),
        revoked.partner_id.as_str(),
    ] {
        rows += gateway
            .audit(partner)
            .await
            .iter()
            .filter(|r| r.status_code != 0)
            .count();
    }
    assert_eq!(rows, refusals.len(), "every refusal has its audit row");
    record_figure(
        "authorisation",
        &format!(
            "{} calls that must be refused, through the gateway",
            refusals.len()
        ),
        "no, unknown and revoked keys; missing scope; another state; forged identity; rate limit; admin and internal RPCs",
        "nothing let through; every refusal audited",
    );
}

//! The gateway over TLS with optional mutual TLS, certificates made at test
//! time: a partner registered by its client certificate's SHA-256 calls with
//! the certificate alone; a key from another partner beside it is refused; a
//! certificate the gateway does not know identifies nobody; one from an
//! untrusted CA does not get a connection; plaintext gets no answer; and a
//! partner with a key alone is still served.

use ayushman_proto::{
    beneficiary::v1::{
        VerifyEligibilityRequest,
        beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    gateway::v1 as g,
};
use mesh_tests::{
    gateway::{self, with_key},
    preauth::{self, quick_settings},
    tls::TestPki,
};
use tonic::{Code, transport::Channel};

fn verify() -> VerifyEligibilityRequest {
    VerifyEligibilityRequest {
        card_number: "CARD-RJ-FAM-1".into(),
        ..Default::default()
    }
}

async fn verify_on(channel: Channel, key: Option<&str>) -> Result<String, tonic::Status> {
    let request = match key {
        Some(key) => with_key(verify(), key),
        None => tonic::Request::new(verify()),
    };
    BeneficiaryRegistryServiceClient::new(channel)
        .verify_eligibility(request)
        .await
        .map(|reply| reply.into_inner().home_state_code)
}

#[tokio::test]
async fn partners_reach_the_gateway_over_tls_by_key_or_by_client_certificate() {
    let pki = TestPki::new();
    let flow = preauth::spawn("sqlite", quick_settings())
        .await
        .with_everything()
        .await;
    let gateway = gateway::spawn_with_tls(&flow, "sqlite", pki.server.clone()).await;
    let url = format!("https://localhost:{}", gateway.server.addr.port());
    // The admin API is behind the same TLS port.
    let admin_channel = pki
        .channel(&url, None)
        .await
        .expect("TLS without a client certificate");
    let admin = gateway::AdminOver(admin_channel);
    let his = admin
        .create_partner(g::Partner {
            name: "Hospital system with a certificate".into(),
            kind: g::PartnerKind::HospitalHis as i32,
            scopes: vec!["beneficiary.read".into()],
            hfr_ids: vec!["IN2210000001".into()],
            client_certificate_sha256: vec![pki.client.sha256.clone()],
            ..Default::default()
        })
        .await;
    let tpa = admin
        .create_partner(g::Partner {
            name: "TPA with a key".into(),
            kind: g::PartnerKind::Tpa as i32,
            scopes: vec!["beneficiary.read".into()],
            ..Default::default()
        })
        .await;

    let with_certificate = pki
        .channel(&url, Some(&pki.client))
        .await
        .expect("mutual TLS");
    assert_eq!(
        verify_on(with_certificate.clone(), None)
            .await
            .expect("the certificate alone"),
        "08"
    );
    assert_eq!(
        verify_on(with_certificate.clone(), Some(&his.key))
            .await
            .expect("certificate and its partner's key"),
        "08"
    );
    let mixed = verify_on(with_certificate, Some(&tpa.key))
        .await
        .unwrap_err();
    assert_eq!(mixed.code(), Code::Unauthenticated);
    assert!(
        mixed
            .message()
            .starts_with("the credentials name different partners"),
        "{mixed:?}"
    );

    let unknown = pki
        .channel(&url, Some(&pki.another_client))
        .await
        .expect("a trusted but unregistered certificate connects");
    let refused = verify_on(unknown.clone(), None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.message(),
        format!(
            "the client certificate (SHA-256 {}) identifies no partner",
            pki.another_client.sha256
        )
    );
    assert_eq!(
        verify_on(unknown, Some(&tpa.key))
            .await
            .expect("a key beside it"),
        "08"
    );

    let untrusted = match pki.channel(&url, Some(&pki.untrusted_client)).await {
        Err(_) => None,
        Ok(channel) => Some(verify_on(channel, Some(&tpa.key)).await),
    };
    assert!(
        matches!(untrusted, None | Some(Err(_))),
        "a certificate from an untrusted CA must not be served: {untrusted:?}"
    );

    let plaintext =
        Channel::from_shared(format!("http://localhost:{}", gateway.server.addr.port()))
            .expect("url")
            .connect()
            .await;
    if let Ok(channel) = plaintext {
        let answer = verify_on(channel, Some(&tpa.key)).await;
        assert!(answer.is_err(), "plaintext must not be served: {answer:?}");
    }
}

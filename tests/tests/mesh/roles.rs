//! Roles and authority through the partner gateway (DESIGN §4): for every
//! mutating RPC a partner may call, the roles the mesh's authority table
//! names get past authority and every other role is PERMISSION_DENIED naming
//! the role — with the user asserted beside the partner's key, and with the
//! user's OpenID Connect token (minted by jwcrypto, an implementation the
//! gateway did not write, and verified against its JWKS served over HTTP);
//! a user of another partner is refused; expired, wrong-audience, unsigned,
//! forged and unknown-issuer tokens are UNAUTHENTICATED; every audit row
//! names its user and trace.

use std::str::FromStr;

use ayushman_platform::{MeshService, authority};
use ayushman_proto::{common::v1::Role, gateway::v1 as g};
use mesh_tests::{
    gateway::{self, Gateway, TestPartner},
    oidc::{self, AUDIENCE, ISSUER, TokenSpec},
    preauth::{self, quick_settings},
};
use serde_json::json;
use tonic::{Code, transport::Channel};

const ROLES: [Role; 9] = [
    Role::Pmam,
    Role::Medco,
    Role::Ppd,
    Role::Cpd,
    Role::Cex,
    Role::Aco,
    Role::ShaAdmin,
    Role::Operator,
    Role::DistrictCoordinator,
];

/// How a call says who makes it.
#[derive(Clone)]
enum Who {
    /// The partner's key, and the user it asserts.
    Asserted { key: String, user_id: String },
    /// The user's OpenID Connect token.
    Token(String),
}

/// Calls `method` of `service` through the gateway with an empty request:
/// the empty message is every request's default, so the call reaches the
/// service's authority check and, past it, the handler's validation.
async fn call(channel: &Channel, service: MeshService, method: &str, who: &Who) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("gateway ready");
    let mut request = tonic::Request::new(());
    let metadata = request.metadata_mut();
    match who {
        Who::Asserted { key, user_id } => {
            metadata.insert(
                "authorization",
                format!("Bearer {key}").parse().expect("ascii"),
            );
            metadata.insert("x-partner-user", user_id.parse().expect("ascii"));
        }
        Who::Token(token) => {
            metadata.insert(
                "authorization",
                format!("Bearer {token}").parse().expect("ascii"),
            );
        }
    }
    let path = http::uri::PathAndQuery::from_str(&format!("/{}/{method}", service.grpc_service()))
        .expect("path");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc.unary(request, path, codec).await {
        Ok(_) => tonic::Status::ok(""),
        Err(status) => status,
    }
}

/// Every scope a partner can hold.
fn all_scopes() -> Vec<String> {
    gateway::scopes()
}

/// The payer-and-hospital partner of the matrix: national, every scope, its
/// users' tokens issued by the test provider at `jwks_url`.
async fn everyone(gateway: &Gateway, jwks_url: &str) -> TestPartner {
    gateway
        .create_partner(g::Partner {
            name: "Every role".into(),
            kind: g::PartnerKind::StatePortal as i32,
            scopes: all_scopes(),
            rate_limit_per_second: 100_000,
            rate_limit_burst: 100_000,
            identity_provider: Some(g::IdentityProvider {
                issuer: ISSUER.into(),
                audience: AUDIENCE.into(),
                jwks_url: jwks_url.into(),
            }),
            ..Default::default()
        })
        .await
}

fn subject(role: Role) -> String {
    format!("sub-{}", role.as_str_name().to_ascii_lowercase())
}

#[tokio::test]
async fn each_mutating_rpc_admits_its_roles_and_refuses_every_other() {
    let flow = preauth::spawn("sqlite", quick_settings()).await;
    let gateway = gateway::spawn(&flow, "sqlite").await;
    let specs: Vec<TokenSpec> = ROLES
        .iter()
        .map(|role| TokenSpec::for_subject(&subject(*role)))
        .collect();
    let minted = oidc::mint(&specs).await;
    let jwks = oidc::serve_jwks(minted.jwks).await;
    let partner = everyone(&gateway, &jwks.url).await;
    let mut callers = Vec::new();
    for (role, token) in ROLES.iter().zip(&minted.tokens) {
        let user_id = gateway
            .user_with_subject(&partner, role.as_str_name(), &subject(*role), &[*role])
            .await;
        let asserted = Who::Asserted {
            key: partner.key.clone(),
            user_id,
        };
        callers.push((*role, asserted, Who::Token(token.clone())));
    }
    let stranger_partner = gateway
        .partner("Another state", "10", &["preauth.read"])
        .await;
    let stranger = Who::Asserted {
        key: partner.key.clone(),
        user_id: gateway.user(&stranger_partner, "Everyone", &ROLES).await,
    };

    let channel = gateway.channel().await;
    let visible: Vec<_> = authority::ROLES
        .iter()
        .filter(|(service, method, _)| gateway::partner_visible(*service, method))
        .collect();
    assert!(visible.len() > 25, "only {} methods checked", visible.len());
    let mut wrong = Vec::new();
    for (service, method, allowed) in visible {
        for (role, asserted, token) in &callers {
            for (way, who) in [("asserted", asserted), ("token", token)] {
                let status = call(&channel, *service, method, who).await;
                let refused = status.code() == Code::PermissionDenied
                    && status.message().contains("needs role");
                let admitted = !matches!(
                    status.code(),
                    Code::PermissionDenied | Code::Unauthenticated
                );
                if allowed.contains(role) && !admitted {
                    wrong.push(format!("{method} refused {role:?} ({way}): {status:?}"));
                }
                if !allowed.contains(role) && !refused {
                    wrong.push(format!("{method} admitted {role:?} ({way}): {status:?}"));
                }
            }
        }
        let status = call(&channel, *service, method, &stranger).await;
        if status.code() != Code::PermissionDenied
            || !status.message().contains("is not a user of partner")
        {
            wrong.push(format!(
                "{method} admitted another partner's user: {status:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let rows = gateway.audit(&partner.partner_id).await;
    assert!(rows.len() > 500, "{} audit rows", rows.len());
    let unattributed: Vec<_> = rows
        .iter()
        .filter(|r| r.user_id.is_empty() || r.trace_id.len() != 32)
        .map(|r| {
            format!(
                "{} {} user {:?} trace {:?}",
                r.method, r.status_code, r.user_id, r.trace_id
            )
        })
        .collect();
    assert!(
        unattributed.is_empty(),
        "every audit row names its user and trace: {unattributed:#?}"
    );
}

#[tokio::test]
async fn a_token_is_accepted_only_signed_by_the_provider_for_this_gateway_and_unexpired() {
    let flow = preauth::spawn("sqlite", quick_settings()).await;
    let gateway = gateway::spawn(&flow, "sqlite").await;
    let claims = |changes: serde_json::Value| {
        let mut claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "sub-ppd", "iat_in": 0, "exp_in": 300
        });
        for (name, value) in changes.as_object().expect("object") {
            claims[name] = value.clone();
        }
        claims
    };
    let spec = |kid, alg, changes| TokenSpec {
        kid,
        alg,
        claims: claims(changes),
    };
    let minted = oidc::mint(&[
        spec("rsa-1", "RS256", json!({})),
        spec("ec-1", "ES256", json!({})),
        spec("rsa-1", "RS256", json!({"exp_in": -600})),
        spec("rsa-1", "RS256", json!({"aud": "another-service"})),
        spec(
            "rsa-1",
            "RS256",
            json!({"iss": "https://sso.elsewhere.example"}),
        ),
        spec("rsa-1", "RS256", json!({"sub": "sub-nobody"})),
        spec("rsa-1", "RS384", json!({})),
        spec("rsa-1", "RS256", json!({"nbf_in": 3600})),
    ])
    .await;
    let jwks = oidc::serve_jwks(minted.jwks).await;
    let partner = everyone(&gateway, &jwks.url).await;
    gateway
        .user_with_subject(&partner, "Dr. PPD", "sub-ppd", &[Role::Ppd])
        .await;
    let channel = gateway.channel().await;
    let review = |token: &str| {
        let channel = channel.clone();
        let who = Who::Token(token.to_owned());
        async move { call(&channel, MeshService::Preauth, "ReviewPreauth", &who).await }
    };
    let t = &minted.tokens;
    for (token, why) in [(&t[0], "RS256"), (&t[1], "ES256")] {
        let status = review(token).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{why}: {status:?}");
    }
    let forged = {
        let mut parts: Vec<&str> = t[0].split('.').collect();
        let other = t[1].split('.').nth(2).expect("signature");
        parts[2] = other;
        parts.join(".")
    };
    for (token, message) in [
        (t[2].clone(), "the token is not valid: it has expired"),
        (
            t[3].clone(),
            "the token is not valid: it is not meant for this gateway (aud)",
        ),
        (
            t[4].clone(),
            "no partner trusts tokens of issuer \"https://sso.elsewhere.example\"",
        ),
        (
            t[5].clone(),
            "the token's subject \"sub-nobody\" is no active user of partner",
        ),
        (t[6].clone(), "tokens signed with RS384 are not accepted"),
        (t[7].clone(), "the token is not valid: it is not valid yet"),
        (
            forged,
            "the token is not valid: its signature does not verify",
        ),
        (oidc::unsigned("sub-ppd"), "the bearer token is not a JWT"),
    ] {
        let status = review(&token).await;
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "{message}: {status:?}"
        );
        assert!(
            status.message().starts_with(message),
            "{message}: {status:?}"
        );
    }
}

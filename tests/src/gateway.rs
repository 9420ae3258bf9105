//! A partner gateway in front of the preauth flow's services, with helpers to
//! create partners, call as them over gRPC and HTTP/JSON, and read the audit log.

use std::sync::Arc;

use ayushman_platform::{MeshService, caller::IdentityKey, client, db, testing};
use ayushman_proto::gateway::v1::{
    self as pb, gateway_admin_service_client::GatewayAdminServiceClient,
};
use secrecy::SecretString;
use tonic::transport::Channel;

use crate::preauth::Flow;

/// The mesh operator's key of test gateways.
pub const ADMIN_KEY: &str = "aym_test_operator_key_0123456789abcdef";

/// A gateway served in-process, routing to a [`Flow`]'s services.
pub struct Gateway {
    /// The running server.
    pub server: testing::RunningServer,
    _database: testing::TestDatabase,
}

/// A partner created for a test, with its one key.
#[derive(Debug, Clone)]
pub struct TestPartner {
    pub partner_id: String,
    pub key_id: String,
    pub key: String,
}

/// `message` with `authorization: Bearer <key>`.
pub fn with_key<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {key}").parse().expect("ascii key"),
    );
    request
}

/// `message` as the gateway forwards a call of national partner `partner_id`:
/// with its identity signed by the (test servers') development identity key.
pub fn as_partner<T>(message: T, partner_id: &str) -> tonic::Request<T> {
    use ayushman_platform::caller::{DEVELOPMENT_IDENTITY_KEY, IdentityKey, PartnerIdentity};
    let mut headers = http::HeaderMap::new();
    IdentityKey::new(secrecy::SecretString::from(DEVELOPMENT_IDENTITY_KEY)).stamp(
        &mut headers,
        &PartnerIdentity {
            partner_id: partner_id.into(),
            state_code: None,
        },
    );
    let mut request = tonic::Request::new(message);
    *request.metadata_mut() = tonic::metadata::MetadataMap::from_headers(headers);
    request
}

/// Starts a gateway whose upstreams are `flow`'s services, on `backend`.
pub async fn spawn(flow: &Flow, backend: &str) -> Gateway {
    let database = testing::database(backend).await;
    let connection = db::connect_and_migrate::<gateway::store::Migrator>(
        MeshService::Gateway,
        &database.settings,
    )
    .await
    .expect("migrate gateway");
    gateway::partners::ensure_operator(&connection, &SecretString::from(ADMIN_KEY), (1000, 1000))
        .await
        .expect("bootstrap admin key");
    let settings = ayushman_platform::config::ClientSettings {
        deadline_ms: 5_000,
        connect_timeout_ms: 500,
    };
    let channel = |url: String| client::forwarding_channel(&url, &settings).expect("channel");
    let upstreams = gateway::proxy::Upstreams::new(vec![
        (
            MeshService::BeneficiaryRegistry,
            channel(flow.people.server.url()),
        ),
        (
            MeshService::FacilityRegistry,
            channel(flow.facilities.server.url()),
        ),
        (MeshService::Portability, channel(flow.servers[0].url())),
        (MeshService::Preauth, channel(flow.servers[1].url())),
        (MeshService::Claims, channel(flow.servers[2].url())),
    ]);
    let state = gateway::AppState {
        audit: gateway::audit::AuditLog::start(connection.clone()),
        db: connection,
        idempotency: database.settings.idempotency(),
        settings: Arc::new(gateway::config::GatewaySettings::default()),
        max_message_bytes: 4 << 20,
    };
    let app = gateway::app(
        state,
        upstreams,
        IdentityKey::new(SecretString::from(
            ayushman_platform::caller::DEVELOPMENT_IDENTITY_KEY,
        )),
    )
    .expect("gateway app");
    let server = testing::spawn(MeshService::Gateway, app).await;
    Gateway {
        server,
        _database: database,
    }
}

impl Gateway {
    /// A channel to the gateway's port.
    pub async fn channel(&self) -> Channel {
        crate::connect(&self.server.url()).await
    }

    /// The admin client; calls need [`with_key`] and [`ADMIN_KEY`].
    pub async fn admin(&self) -> GatewayAdminServiceClient<Channel> {
        GatewayAdminServiceClient::new(self.channel().await)
    }

    /// Creates a partner of `state` ("" for national) with `scopes` and a key.
    pub async fn partner(&self, name: &str, state: &str, scopes: &[&str]) -> TestPartner {
        self.partner_with_rate(name, state, scopes, 1000, 1000)
            .await
    }

    /// Like [`Gateway::partner`], with its own rate limit.
    pub async fn partner_with_rate(
        &self,
        name: &str,
        state: &str,
        scopes: &[&str],
        per_second: i32,
        burst: i32,
    ) -> TestPartner {
        let mut admin = self.admin().await;
        let partner = admin
            .create_partner(with_key(
                pb::CreatePartnerRequest {
                    idempotency_key: format!("partner-{name}"),
                    partner: Some(pb::Partner {
                        name: name.into(),
                        kind: pb::PartnerKind::StatePortal as i32,
                        home_state_code: state.into(),
                        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                        rate_limit_per_second: per_second,
                        rate_limit_burst: burst,
                        ..Default::default()
                    }),
                },
                ADMIN_KEY,
            ))
            .await
            .expect("create partner")
            .into_inner()
            .partner
            .expect("partner");
        let issued = admin
            .issue_api_key(with_key(
                pb::IssueApiKeyRequest {
                    idempotency_key: format!("key-{name}"),
                    partner_id: partner.partner_id.clone(),
                },
                ADMIN_KEY,
            ))
            .await
            .expect("issue key")
            .into_inner();
        TestPartner {
            partner_id: partner.partner_id,
            key_id: issued.key.expect("key metadata").key_id,
            key: issued.api_key,
        }
    }

    /// The audit rows of a partner ("" for calls without a valid key), newest first.
    pub async fn audit(&self, partner_id: &str) -> Vec<pb::AuditRecord> {
        self.admin()
            .await
            .query_audit(with_key(
                pb::QueryAuditRequest {
                    partner_id: partner_id.into(),
                    page_size: 1000,
                    ..Default::default()
                },
                ADMIN_KEY,
            ))
            .await
            .expect("query audit")
            .into_inner()
            .records
            .into_iter()
            .filter(|r| r.partner_id == partner_id)
            .collect()
    }

    /// POSTs `body` to `path` over HTTP/1.1 with `headers`; returns status, headers and body.
    pub async fn post_json(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Vec<(String, String)>, serde_json::Value) {
        crate::http::post(self.server.addr, path, headers, body).await
    }
}

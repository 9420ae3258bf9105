//! A partner gateway in front of the preauth flow's services, with helpers to
//! create partners, call as them over gRPC and HTTP/JSON, and read the audit log.

use std::sync::Arc;

use ayushman_platform::{MeshService, caller::IdentityKey, client, db, testing};
use ayushman_proto::{
    common::v1::Role,
    gateway::v1::{self as pb, gateway_admin_service_client::GatewayAdminServiceClient},
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

/// Every scope a partner can be granted (the admin scope aside).
pub fn scopes() -> Vec<String> {
    gateway::scopes::SCOPES
        .iter()
        .map(|(scope, _)| (*scope).to_owned())
        .collect()
}

/// Whether partners may call `method` of `service` through the gateway.
pub fn partner_visible(service: MeshService, method: &str) -> bool {
    gateway::scopes::METHODS
        .iter()
        .any(|(s, m, _)| *s == service && *m == method)
}

/// `message` with the partner's key and the user the partner's system asserts.
pub fn as_user<T>(message: T, key: &str, user_id: &str) -> tonic::Request<T> {
    let mut request = with_key(message, key);
    request
        .metadata_mut()
        .insert("x-partner-user", user_id.parse().expect("ascii user id"));
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
            hfr_ids: Vec::new(),
            user: None,
        },
    );
    let mut request = tonic::Request::new(message);
    *request.metadata_mut() = tonic::metadata::MetadataMap::from_headers(headers);
    request
}

/// The admin API over a channel of the test's own (e.g. TLS).
pub struct AdminOver(pub Channel);

impl AdminOver {
    /// Creates `partner` with the operator's key and issues it a key.
    pub async fn create_partner(&self, partner: pb::Partner) -> TestPartner {
        create_partner_with(GatewayAdminServiceClient::new(self.0.clone()), partner).await
    }
}

/// Starts a gateway whose upstreams are `flow`'s services, on `backend`.
pub async fn spawn(flow: &Flow, backend: &str) -> Gateway {
    spawn_with(flow, backend, testing::server_settings()).await
}

/// Like [`spawn`], serving TLS (and asking for client certificates) as `tls` says.
pub async fn spawn_with_tls(
    flow: &Flow,
    backend: &str,
    tls: ayushman_platform::config::TlsSettings,
) -> Gateway {
    let server = ayushman_platform::config::ServerSettings {
        tls: Some(tls),
        ..testing::server_settings()
    };
    spawn_with(flow, backend, server).await
}

async fn spawn_with(
    flow: &Flow,
    backend: &str,
    server: ayushman_platform::config::ServerSettings,
) -> Gateway {
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
    let server = testing::spawn_with(MeshService::Gateway, app, server).await;
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
        self.create_partner(pb::Partner {
            name: name.into(),
            kind: pb::PartnerKind::StatePortal as i32,
            home_state_code: state.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            rate_limit_per_second: per_second,
            rate_limit_burst: burst,
            ..Default::default()
        })
        .await
    }

    /// A hospital's system, national (it treats every state's patients),
    /// acting for `hfr_ids` only.
    pub async fn hospital(&self, name: &str, hfr_ids: &[&str], scopes: &[&str]) -> TestPartner {
        self.create_partner(pb::Partner {
            name: name.into(),
            kind: pb::PartnerKind::HospitalHis as i32,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            rate_limit_per_second: 1000,
            rate_limit_burst: 1000,
            hfr_ids: hfr_ids.iter().map(|h| (*h).to_owned()).collect(),
            ..Default::default()
        })
        .await
    }

    /// Creates `partner` and issues it a key.
    pub async fn create_partner(&self, partner: pb::Partner) -> TestPartner {
        create_partner_with(self.admin().await, partner).await
    }

    /// Creates a user of `partner` holding `roles`; returns the user id.
    pub async fn user(&self, partner: &TestPartner, name: &str, roles: &[Role]) -> String {
        self.user_with_subject(partner, name, "", roles).await
    }

    /// Like [`Gateway::user`], for a user whose tokens carry `subject`.
    pub async fn user_with_subject(
        &self,
        partner: &TestPartner,
        name: &str,
        subject: &str,
        roles: &[Role],
    ) -> String {
        self.admin()
            .await
            .create_user(with_key(
                pb::CreateUserRequest {
                    idempotency_key: format!("user-{}-{name}", partner.partner_id),
                    user: Some(pb::User {
                        partner_id: partner.partner_id.clone(),
                        name: name.into(),
                        subject: subject.into(),
                        roles: roles.iter().map(|r| *r as i32).collect(),
                        ..Default::default()
                    }),
                },
                ADMIN_KEY,
            ))
            .await
            .expect("create user")
            .into_inner()
            .user
            .expect("user")
            .user_id
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

/// Creates `partner` through `admin` and issues it a key.
async fn create_partner_with(
    mut admin: GatewayAdminServiceClient<Channel>,
    partner: pb::Partner,
) -> TestPartner {
    let name = partner.name.clone();
    let partner = admin
        .create_partner(with_key(
            pb::CreatePartnerRequest {
                idempotency_key: format!("partner-{name}"),
                partner: Some(partner),
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

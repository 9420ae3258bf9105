//! The partner edge (DESIGN §6): a tower layer in front of everything the
//! gateway serves. For each call, in this order:
//!
//! 1. health passes untouched (load balancers and probes carry no key);
//! 2. who is calling: the partner, named by its API key (`authorization:
//!    Bearer` or `x-api-key`), by its client certificate over mutual TLS, or
//!    by a user's OpenID Connect token (`authorization: Bearer <jwt>`) — all
//!    that are presented must name the same partner; and the user, named by
//!    the token or, with a key or certificate, by `x-partner-user` —
//!    UNAUTHENTICATED without valid credentials, PERMISSION_DENIED for a
//!    user of another partner or a disabled one;
//! 3. the partner's token bucket — RESOURCE_EXHAUSTED with RetryInfo when empty,
//!    before any further work is spent on it;
//! 4. the method must be offered to partners and the partner must hold its
//!    scope — PERMISSION_DENIED otherwise (the role a method needs is the
//!    service's to check, from the identity stamped next);
//! 5. every `x-ayushman-*` header the caller sent is dropped, the gateway's
//!    signed identity (partner, state, hospitals, user and roles) is stamped
//!    in their place, and the credentials are removed so they never travel
//!    further;
//! 6. the call goes on (to the admin service, an upstream service through the
//!    proxy, or reflection of just what this partner may call), and when its
//!    response ends an audit row records partner, user, method, status,
//!    latency and trace id.
//!
//! HTTP/JSON calls (`POST /v1/{package.Service}/{Method}`) take the same path;
//! only the last step differs: the JSON body is translated to protobuf and back.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use ayushman_platform::{caller::IdentityKey, grpc_outcome, telemetry::current_trace_id};
use http::{Request, Response};
use sea_orm::DatabaseConnection;
use tonic::{Code, Status, body::Body};
use tonic_types::{ErrorDetails, StatusExt};
use tower::ServiceExt;

use crate::{
    audit::{AuditEntry, AuditLog, Transport},
    json::JsonTranscoder,
    oidc::{self, TokenRefusal, TokenVerifier},
    partners::{self, KeyRefusal, Principal},
    rate_limit::RateLimits,
    reflection::PartnerReflections,
    scopes::{self, Route},
    store::{entities::partner, queries},
    users::{self, USER_HEADER, UserRefusal},
};

/// What the edge needs, shared by every request.
pub struct Edge {
    pub db: DatabaseConnection,
    pub identity: IdentityKey,
    pub limits: RateLimits,
    pub audit: AuditLog,
    pub json: JsonTranscoder,
    pub reflections: PartnerReflections,
    pub tokens: TokenVerifier,
}

/// See the module documentation.
#[derive(Clone)]
pub struct PartnerEdgeLayer {
    edge: Arc<Edge>,
}

impl PartnerEdgeLayer {
    pub fn new(edge: Edge) -> Self {
        Self {
            edge: Arc::new(edge),
        }
    }
}

impl<S> tower_layer::Layer<S> for PartnerEdgeLayer {
    type Service = PartnerEdge<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PartnerEdge {
            inner,
            edge: self.edge.clone(),
        }
    }
}

/// See [`PartnerEdgeLayer`].
#[derive(Clone)]
pub struct PartnerEdge<S> {
    inner: S,
    edge: Arc<Edge>,
}

impl<S> tower_service::Service<Request<Body>> for PartnerEdge<S>
where
    S: tower_service::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call; the fresh one waits.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let edge = self.edge.clone();
        Box::pin(async move { Ok(edge.handle(ready, request).await) })
    }
}

/// A call refused before it reached a service, with what is known of the caller.
struct Refusal {
    status: Status,
    partner_id: String,
    key_id: String,
    user_id: String,
}

impl Refusal {
    fn anonymous(status: Status) -> Self {
        Self {
            status,
            partner_id: String::new(),
            key_id: String::new(),
            user_id: String::new(),
        }
    }

    fn of(principal: &Principal, status: Status) -> Self {
        Self {
            status,
            partner_id: principal.partner.partner_id.clone(),
            key_id: principal.key_id.clone(),
            user_id: principal
                .user
                .as_ref()
                .map(|u| u.user_id.clone())
                .unwrap_or_default(),
        }
    }

    fn of_partner(partner: &partner::Model, key_id: &str, status: Status) -> Self {
        Self {
            status,
            partner_id: partner.partner_id.clone(),
            key_id: key_id.to_owned(),
            user_id: String::new(),
        }
    }
}

/// What a call presented to say who it is.
struct Credentials {
    key: Option<String>,
    token: Option<String>,
    certificate: Option<String>,
    user: Option<String>,
}

impl Credentials {
    fn of(request: &Request<Body>) -> Self {
        let headers = request.headers();
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let bearer = text(http::header::AUTHORIZATION.as_str()).and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .map(str::trim)
        });
        let (token, bearer_key) = match bearer {
            Some(b) if oidc::is_token(b) => (Some(b), None),
            other => (None, other),
        };
        Self {
            key: bearer_key
                .or_else(|| text(API_KEY_HEADER))
                .map(str::to_owned),
            token: token.map(str::to_owned),
            certificate: client_certificate(request),
            user: text(USER_HEADER).map(str::to_owned),
        }
    }
}

/// Hex SHA-256 of the client certificate presented over mutual TLS.
fn client_certificate(request: &Request<Body>) -> Option<String> {
    use sha2::{Digest, Sha256};
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    let certificates = request
        .extensions()
        .get::<TlsConnectInfo<TcpConnectInfo>>()?
        .peer_certs()?;
    let first = certificates.first()?;
    Some(hex::encode(Sha256::digest(first.as_ref())))
}

fn unavailable(error: &sea_orm::DbErr) -> Refusal {
    tracing::error!(%error, "partners cannot be read");
    Refusal::anonymous(Status::unavailable(
        "the gateway cannot check credentials right now; retry later",
    ))
}

fn key_refusal(refusal: KeyRefusal) -> Refusal {
    match refusal {
        KeyRefusal::Unknown => Refusal::anonymous(Status::unauthenticated(refusal.to_string())),
        KeyRefusal::Revoked {
            ref partner_id,
            ref key_id,
        } => Refusal {
            status: Status::unauthenticated(refusal.to_string()),
            partner_id: partner_id.clone(),
            key_id: key_id.clone(),
            user_id: String::new(),
        },
        KeyRefusal::Disabled {
            ref partner_id,
            ref key_id,
        } => Refusal {
            status: Status::permission_denied(refusal.to_string()),
            partner_id: partner_id.clone(),
            key_id: key_id.clone(),
            user_id: String::new(),
        },
        KeyRefusal::Database(error) => unavailable(&error),
    }
}

impl Edge {
    async fn handle<S>(&self, inner: S, mut request: Request<Body>) -> Response<Body>
    where
        S: tower_service::Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
    {
        let path = request.uri().path().to_owned();
        let (transport, method) = match JsonTranscoder::grpc_path(&path) {
            Some(method) => (Transport::HttpJson, method),
            None => (Transport::Grpc, path),
        };
        let route = scopes::route(&method);
        if route == Route::Health && transport == Transport::Grpc {
            return pass(inner.oneshot(request).await);
        }
        let trace_id = trace_of(&mut request);
        let mut entry = AuditEntry::begin(&method, transport, trace_id);
        let presented = Credentials::of(&request);
        let principal = match self.admit(&presented, route, &method).await {
            Ok(principal) => principal,
            Err(refusal) => {
                entry.partner_id = refusal.partner_id;
                entry.key_id = refusal.key_id;
                // Who the partner said was acting, even when refused.
                entry.user_id = if refusal.user_id.is_empty() {
                    presented.user.clone().unwrap_or_default()
                } else {
                    refusal.user_id
                };
                self.audit.record(entry, refusal.status.code() as i32);
                return match transport {
                    Transport::Grpc => refusal.status.into_http(),
                    Transport::HttpJson => JsonTranscoder::error_response(&refusal.status),
                };
            }
        };
        entry.partner_id = principal.partner.partner_id.clone();
        entry.key_id = principal.key_id.clone();
        entry.user_id = principal
            .user
            .as_ref()
            .map(|u| u.user_id.clone())
            .unwrap_or_default();
        let headers = request.headers_mut();
        headers.remove(http::header::AUTHORIZATION);
        headers.remove(API_KEY_HEADER);
        headers.remove(USER_HEADER);
        self.identity.stamp(headers, &principal.identity());
        match transport {
            Transport::Grpc if route == Route::Reflection => {
                let response = match self.reflections.of(&principal) {
                    Ok(reflection) => pass(reflection.oneshot(request).await),
                    Err(error) => {
                        Status::from(ayushman_platform::ApiError::internal(error)).into_http()
                    }
                };
                let audit = self.audit.clone();
                grpc_outcome::on_end(response, move |code| audit.record(entry, code)).map(Body::new)
            }
            Transport::Grpc => {
                let response = pass(inner.oneshot(request).await);
                let audit = self.audit.clone();
                grpc_outcome::on_end(response, move |code| audit.record(entry, code)).map(Body::new)
            }
            Transport::HttpJson => {
                let (response, code) = self.json.call(inner, request, &method).await;
                self.audit.record(entry, code);
                response
            }
        }
    }

    /// Steps 2 to 4: who is calling, whether they still have tokens, whether
    /// they may call this method.
    async fn admit(
        &self,
        presented: &Credentials,
        route: Route,
        method: &str,
    ) -> Result<Principal, Refusal> {
        let principal = self.authenticate(presented).await?;
        let partner = &principal.partner;
        if let Err(wait) = self.limits.check(
            &partner.partner_id,
            partner.rate_limit_per_second,
            partner.rate_limit_burst,
        ) {
            return Err(Refusal::of(&principal, rate_limited(partner, wait)));
        }
        let needed = match route {
            Route::Health | Route::Reflection => None,
            Route::Admin => Some(scopes::ADMIN_SCOPE),
            Route::Upstream(_, scope) => Some(scope),
            Route::Internal(service) => {
                return Err(Refusal::of(
                    &principal,
                    Status::permission_denied(format!(
                        "{method} is internal to the {service} service and not offered to partners"
                    )),
                ));
            }
            Route::Unknown => {
                return Err(Refusal::of(
                    &principal,
                    Status::unimplemented(format!("no method {method} behind the gateway")),
                ));
            }
        };
        if let Some(scope) = needed
            && !principal.has_scope(scope)
        {
            return Err(Refusal::of(
                &principal,
                Status::permission_denied(format!(
                    "partner {} lacks scope {scope}, which {method} needs",
                    partner.partner_id
                )),
            ));
        }
        Ok(principal)
    }
}

impl Edge {
    /// Step 2: the partner every presented credential names, and the user.
    async fn authenticate(&self, presented: &Credentials) -> Result<Principal, Refusal> {
        let mut partner: Option<partner::Model> = None;
        let mut key_id = String::new();
        let mut same = |found: partner::Model, how: &str| match &partner {
            Some(first) if first.partner_id != found.partner_id => {
                Err(Refusal::anonymous(Status::unauthenticated(format!(
                    "the credentials name different partners: {} and, by {how}, {}",
                    first.partner_id, found.partner_id
                ))))
            }
            _ => {
                partner = Some(found);
                Ok(())
            }
        };
        if let Some(key) = &presented.key {
            let principal = partners::authenticate(&self.db, key)
                .await
                .map_err(key_refusal)?;
            key_id = principal.key_id;
            same(principal.partner, "its key")?;
        }
        let mut token_user = None;
        if let Some(token) = &presented.token {
            let (issuer_partner, subject) =
                self.tokens
                    .verify(&self.db, token)
                    .await
                    .map_err(|refusal| match refusal {
                        TokenRefusal::Database(error) => unavailable(&error),
                        TokenRefusal::KeysUnavailable { .. } => {
                            Refusal::anonymous(Status::unavailable(refusal.to_string()))
                        }
                        other => Refusal::anonymous(Status::unauthenticated(other.to_string())),
                    })?;
            token_user = Some(subject);
            same(issuer_partner, "the token's issuer")?;
        }
        if let Some(certificate) = &presented.certificate {
            match queries::partner_by_certificate(&self.db, certificate).await {
                Ok(Some(found)) => same(found, "its client certificate")?,
                // An unregistered certificate counts only when nothing else was presented.
                Ok(None) if partner.is_none() => {
                    return Err(Refusal::anonymous(Status::unauthenticated(format!(
                        "the client certificate (SHA-256 {certificate}) identifies no partner"
                    ))));
                }
                Ok(None) => {}
                Err(error) => return Err(unavailable(&error)),
            }
        }
        let Some(partner) = partner else {
            return Err(Refusal::anonymous(Status::unauthenticated(
                "no credentials: send an API key as `authorization: Bearer <key>` or \
                 `x-api-key: <key>`, a user's OpenID Connect token, or a registered client certificate",
            )));
        };
        if partner.status != ayushman_proto::gateway::v1::PartnerStatus::Active.as_str_name() {
            return Err(Refusal::of_partner(
                &partner,
                &key_id,
                Status::permission_denied(format!("partner {} is disabled", partner.partner_id)),
            ));
        }
        let user = match (token_user, presented.user.as_deref()) {
            (Some(subject), asserted) => {
                let user = users::by_subject(&self.db, &partner, &subject).await;
                let user = user.map_err(|r| self.user_refusal(&partner, &key_id, r))?;
                if let Some(asserted) = asserted.filter(|a| *a != user.user_id) {
                    return Err(Refusal::of_partner(
                        &partner,
                        &key_id,
                        Status::permission_denied(format!(
                            "{USER_HEADER} names {asserted}, but the token is user {}'s",
                            user.user_id
                        )),
                    ));
                }
                Some(user)
            }
            (None, Some(asserted)) => Some(
                users::asserted(&self.db, &partner, asserted)
                    .await
                    .map_err(|r| self.user_refusal(&partner, &key_id, r))?,
            ),
            (None, None) => None,
        };
        Ok(Principal {
            partner,
            key_id,
            user,
        })
    }

    fn user_refusal(
        &self,
        partner: &partner::Model,
        key_id: &str,
        refusal: UserRefusal,
    ) -> Refusal {
        let status = match &refusal {
            UserRefusal::UnknownSubject { .. } => Status::unauthenticated(refusal.to_string()),
            UserRefusal::Database(error) => return unavailable(error),
            _ => Status::permission_denied(refusal.to_string()),
        };
        Refusal::of_partner(partner, key_id, status)
    }
}

/// The other header a key may come in.
const API_KEY_HEADER: &str = "x-api-key";

/// The trace a partner's call belongs to: the caller's own when it sent a
/// W3C `traceparent`, else this process's span's, else a new one. A call that
/// came without a `traceparent` is given one, so the services it reaches join
/// the same trace and its audit row always names it.
fn trace_of(request: &mut Request<Body>) -> String {
    if let Some(trace_id) = caller_trace_id(request.headers()) {
        return trace_id;
    }
    let trace_id = current_trace_id().unwrap_or_else(|| random_hex(16));
    let traceparent = format!("00-{trace_id}-{}-01", random_hex(8));
    if let Ok(value) = http::HeaderValue::from_str(&traceparent) {
        request.headers_mut().insert("traceparent", value);
    }
    trace_id
}

/// `bytes` random bytes as lowercase hex.
fn random_hex(bytes: usize) -> String {
    let random = uuid::Uuid::new_v4();
    hex::encode(&random.as_bytes()[..bytes])
}

/// The trace id of the caller's W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
fn caller_trace_id(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let trace_id = value.split('-').nth(1)?;
    (trace_id.len() == 32 && trace_id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| trace_id.to_ascii_lowercase())
}

fn rate_limited(partner: &crate::store::entities::partner::Model, wait: Duration) -> Status {
    let details = ErrorDetails::with_retry_info(Some(wait));
    Status::with_error_details(
        Code::ResourceExhausted,
        format!(
            "partner {} is over its limit of {} calls a second (burst {}); retry in {} ms",
            partner.partner_id,
            partner.rate_limit_per_second,
            partner.rate_limit_burst,
            wait.as_millis().max(1)
        ),
        details,
    )
}

fn pass(result: Result<Response<Body>, Infallible>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

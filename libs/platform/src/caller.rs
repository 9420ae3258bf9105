//! Who is calling (DESIGN §6, state scoping). Partners reach the mesh only
//! through the gateway, which strips any identity a caller sends and stamps its
//! own, signed with a key shared with the services. [`CallerLayer`] checks that
//! signature on every request and puts the [`Caller`] into the request's
//! extensions; handlers ask it whether the caller may touch a state's data.
//! A request without partner identity comes from inside the mesh.

use std::task::{Context, Poll};

use hmac::{Hmac, Mac};
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::ApiError;

/// Partner id, e.g. `PTN-BR-SHA`.
pub const PARTNER_ID_HEADER: &str = "x-ayushman-partner-id";
/// The census code of the state the partner acts for; empty for a national partner.
pub const PARTNER_STATE_HEADER: &str = "x-ayushman-partner-state";
/// Hex HMAC-SHA256 of id and state under the shared identity key.
pub const PARTNER_SIGNATURE_HEADER: &str = "x-ayushman-partner-signature";
/// Every header whose name starts with this is the mesh's own; the gateway
/// removes all of them from partner requests before stamping its own.
pub const INTERNAL_HEADER_PREFIX: &str = "x-ayushman-";

/// The key used when none is configured: fine on a laptop, warned about at start.
pub const DEVELOPMENT_IDENTITY_KEY: &str = "ayushman-development-only-identity-key";

/// A partner as the gateway vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerIdentity {
    /// Partner id.
    pub partner_id: String,
    /// The state it acts for; `None` for a national partner.
    pub state_code: Option<String>,
}

/// Who sent a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Another service of the mesh, or an operator inside the cluster.
    Mesh,
    /// A partner, through the gateway.
    Partner(PartnerIdentity),
}

impl Caller {
    /// The caller of a request that passed [`CallerLayer`]; requests that did
    /// not (a handler called directly in a unit test) come from the mesh.
    pub fn of<T>(request: &tonic::Request<T>) -> Self {
        request
            .extensions()
            .get::<Self>()
            .cloned()
            .unwrap_or(Self::Mesh)
    }

    /// The state a state-scoped partner is confined to; `None` for the mesh and
    /// national partners.
    pub fn state_scope(&self) -> Option<&str> {
        match self {
            Self::Partner(PartnerIdentity {
                state_code: Some(state),
                ..
            }) => Some(state),
            _ => None,
        }
    }

    /// PERMISSION_DENIED unless the caller may act on `what`, which belongs to
    /// `state_code`.
    pub fn ensure_state(&self, state_code: &str, what: &str) -> Result<(), ApiError> {
        self.ensure_any_state(&[state_code], what)
    }

    /// PERMISSION_DENIED unless the caller may act on `what`, which concerns
    /// each of `state_codes` (a portability case concerns the home state and
    /// the treating state: either may see it).
    pub fn ensure_any_state(&self, state_codes: &[&str], what: &str) -> Result<(), ApiError> {
        match (self, self.state_scope()) {
            (Self::Partner(partner), Some(own)) if !state_codes.contains(&own) => {
                Err(ApiError::PermissionDenied(format!(
                    "partner {} acts for state {own}; {what} belongs to state {}",
                    partner.partner_id,
                    state_codes.join(" and ")
                )))
            }
            _ => Ok(()),
        }
    }

    /// PERMISSION_DENIED unless the caller may decide `what`, a case paid by
    /// `home_state_code`: a portability case is decided by the patient's home
    /// state alone (DESIGN §4); the treating state sees it read-only.
    pub fn ensure_decides(&self, home_state_code: &str, what: &str) -> Result<(), ApiError> {
        match (self, self.state_scope()) {
            (Self::Partner(partner), Some(own)) if own != home_state_code => {
                Err(ApiError::PermissionDenied(format!(
                    "partner {} acts for state {own}; only the patient's home state {home_state_code} decides {what}",
                    partner.partner_id
                )))
            }
            _ => Ok(()),
        }
    }

    /// The state filter of a list or report: a state-scoped partner gets its own
    /// state when it asked for none, and PERMISSION_DENIED when it asked for
    /// another. `field` names the request field, e.g. `state_code`.
    pub fn scoped_state_filter(
        &self,
        requested: Option<String>,
        field: &str,
    ) -> Result<Option<String>, ApiError> {
        match (self.state_scope(), requested) {
            (None, requested) => Ok(requested),
            (Some(own), None) => Ok(Some(own.to_owned())),
            (Some(_), Some(requested)) => {
                self.ensure_state(&requested, &format!("{field} {requested}"))?;
                Ok(Some(requested))
            }
        }
    }

    /// PERMISSION_DENIED when a state-scoped partner names a district of
    /// another state (district codes start with their state's code, `10-230`).
    pub fn ensure_district(&self, district_code: &str, field: &str) -> Result<(), ApiError> {
        self.ensure_state(
            state_of_district(district_code),
            &format!("{field} {district_code}"),
        )
    }
}

/// The state part of a district code such as `10-230`.
pub fn state_of_district(district_code: &str) -> &str {
    district_code
        .split_once('-')
        .map_or(district_code, |(state, _)| state)
}

/// The secret shared by the gateway (which signs) and the services (which verify).
#[derive(Clone)]
pub struct IdentityKey(SecretString);

impl IdentityKey {
    /// A key from configuration.
    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    fn mac(&self, partner_id: &str, state_code: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(partner_id.as_bytes());
        mac.update(b"\n");
        mac.update(state_code.as_bytes());
        mac
    }

    /// Replaces every `x-ayushman-*` header with the signed identity of `partner`.
    pub fn stamp(&self, headers: &mut HeaderMap, partner: &PartnerIdentity) {
        strip_internal_headers(headers);
        let state = partner.state_code.as_deref().unwrap_or("");
        let signature = hex::encode(self.mac(&partner.partner_id, state).finalize().into_bytes());
        for (name, value) in [
            (PARTNER_ID_HEADER, partner.partner_id.as_str()),
            (PARTNER_STATE_HEADER, state),
            (PARTNER_SIGNATURE_HEADER, signature.as_str()),
        ] {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
    }

    /// The caller the headers describe: the mesh when they carry no partner
    /// identity, the partner when its signature is right, `Err` otherwise.
    pub fn verify(&self, headers: &HeaderMap) -> Result<Caller, &'static str> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let Some(partner_id) = text(PARTNER_ID_HEADER) else {
            return Ok(Caller::Mesh);
        };
        let state = text(PARTNER_STATE_HEADER).unwrap_or("");
        let signature = text(PARTNER_SIGNATURE_HEADER)
            .and_then(|s| hex::decode(s).ok())
            .ok_or("partner identity carries no signature")?;
        self.mac(partner_id, state)
            .verify_slice(&signature)
            .map_err(|_| "partner identity is not signed by the gateway")?;
        Ok(Caller::Partner(PartnerIdentity {
            partner_id: partner_id.to_owned(),
            state_code: (!state.is_empty()).then(|| state.to_owned()),
        }))
    }
}

/// Removes every header of the mesh's own (`x-ayushman-*`).
pub fn strip_internal_headers(headers: &mut HeaderMap) {
    let internal: Vec<http::HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with(INTERNAL_HEADER_PREFIX))
        .cloned()
        .collect();
    for name in internal {
        headers.remove(name);
    }
}

/// Tower layer that resolves the [`Caller`] of every request, refusing partner
/// identity that the gateway did not sign.
#[derive(Clone)]
pub struct CallerLayer {
    key: IdentityKey,
}

impl CallerLayer {
    /// Verifies with `key`.
    pub fn new(key: IdentityKey) -> Self {
        Self { key }
    }
}

impl<S> tower_layer::Layer<S> for CallerLayer {
    type Service = CallerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallerService {
            inner,
            key: self.key.clone(),
        }
    }
}

/// See [`CallerLayer`].
#[derive(Clone)]
pub struct CallerService<S> {
    inner: S,
    key: IdentityKey,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for CallerService<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        match self.key.verify(request.headers()) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                Box::pin(self.inner.call(request))
            }
            Err(reason) => {
                tracing::warn!(reason, "refused a request with forged partner identity");
                let response = tonic::Status::unauthenticated(reason).into_http();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> IdentityKey {
        IdentityKey::new(SecretString::from(secret))
    }

    fn bihar() -> PartnerIdentity {
        PartnerIdentity {
            partner_id: "PTN-BR".into(),
            state_code: Some("10".into()),
        }
    }

    #[test]
    fn a_stamped_identity_verifies_and_replaces_anything_sent_before() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ayushman-partner-state", "08".parse().expect("header"));
        headers.insert("x-ayushman-anything", "forged".parse().expect("header"));
        key("shared").stamp(&mut headers, &bihar());
        assert_eq!(key("shared").verify(&headers), Ok(Caller::Partner(bihar())));
        assert!(!headers.contains_key("x-ayushman-anything"));
    }

    #[test]
    fn an_identity_signed_with_another_key_or_altered_is_refused() {
        let mut headers = HeaderMap::new();
        key("shared").stamp(&mut headers, &bihar());
        assert!(key("other").verify(&headers).is_err());
        headers.insert(PARTNER_STATE_HEADER, "".parse().expect("header"));
        assert!(key("shared").verify(&headers).is_err());
    }

    #[test]
    fn no_identity_is_the_mesh() {
        assert_eq!(key("shared").verify(&HeaderMap::new()), Ok(Caller::Mesh));
    }

    #[test]
    fn a_state_partner_is_confined_to_its_state() {
        let caller = Caller::Partner(bihar());
        assert!(caller.ensure_state("10", "beneficiary B-1").is_ok());
        let denied = caller.ensure_state("08", "beneficiary B-2").unwrap_err();
        assert_eq!(
            denied.to_string(),
            "partner PTN-BR acts for state 10; beneficiary B-2 belongs to state 08"
        );
        assert!(caller.ensure_any_state(&["08", "10"], "case").is_ok());
        assert_eq!(
            caller.scoped_state_filter(None, "state_code").ok(),
            Some(Some("10".to_owned()))
        );
        assert!(
            caller
                .scoped_state_filter(Some("08".into()), "state_code")
                .is_err()
        );
        assert!(caller.ensure_district("08-110", "district_code").is_err());
        assert!(Caller::Mesh.ensure_state("08", "anything").is_ok());
    }
}

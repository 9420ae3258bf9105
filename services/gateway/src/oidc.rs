//! Users' OpenID Connect tokens (DESIGN §4, roles and authority). A partner
//! may trust an identity provider for its users (a state's single sign-on);
//! a call then presents the user's token as `authorization: Bearer <jwt>`.
//! The token's (not yet trusted) issuer picks the partner; the token is
//! accepted only when a key of that provider's JWKS verifies its RS256 or
//! ES256 signature, it names the partner's audience and issuer, it has not
//! expired, and its subject is an active user of the partner. Keys are
//! fetched from the provider's `jwks_url` and kept; a token signed with a
//! key not yet seen (the provider rotated) fetches them again, at most twice
//! a minute.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    dangerous::insecure_decode_claims,
    decode, decode_header,
    errors::ErrorKind,
    jwk::{Jwk, JwkSet},
};
use sea_orm::ConnectionTrait;
use serde::Deserialize;

use crate::store::{entities::partner, queries};

/// Keys older than this are fetched again before use.
const KEYS_KEPT_FOR: Duration = Duration::from_secs(600);
/// A token with an unknown key fetches the keys again no sooner than this.
const REFETCH_NO_SOONER: Duration = Duration::from_secs(30);
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 60;

/// Why a token was not accepted; every one answers UNAUTHENTICATED.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the bearer token is not a JWT: {0}")]
    Malformed(String),
    #[error("tokens signed with {0} are not accepted; RS256 or ES256 only")]
    Algorithm(String),
    #[error("no partner trusts tokens of issuer {0:?}")]
    UnknownIssuer(String),
    #[error("the token is not valid: {0}")]
    Invalid(&'static str),
    #[error("the token's signing key {kid:?} is not among the keys of {issuer}")]
    UnknownKey { kid: String, issuer: String },
    #[error("the signing keys of {issuer} could not be fetched; retry later")]
    KeysUnavailable { issuer: String },
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// Whether a bearer credential is a token rather than an API key.
pub fn is_token(bearer: &str) -> bool {
    !bearer.starts_with(crate::partners::KEY_PREFIX) && bearer.split('.').count() == 3
}

#[derive(Deserialize)]
struct Unverified {
    iss: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

struct Fetched {
    keys: Arc<JwkSet>,
    at: Instant,
}

/// Verifies tokens, keeping each provider's keys.
pub struct TokenVerifier {
    http: reqwest::Client,
    keys: Mutex<HashMap<String, Fetched>>,
}

impl Default for TokenVerifier {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            keys: Mutex::new(HashMap::new()),
        }
    }
}

fn invalid(kind: &ErrorKind) -> TokenRefusal {
    TokenRefusal::Invalid(match kind {
        ErrorKind::ExpiredSignature => "it has expired",
        ErrorKind::ImmatureSignature => "it is not valid yet",
        ErrorKind::InvalidAudience => "it is not meant for this gateway (aud)",
        ErrorKind::InvalidIssuer => "its issuer does not match",
        ErrorKind::InvalidSignature => "its signature does not verify",
        ErrorKind::MissingRequiredClaim(_) => "it lacks exp, iss, aud or sub",
        ErrorKind::InvalidAlgorithm => "its algorithm does not match its key",
        _ => "it cannot be read",
    })
}

impl TokenVerifier {
    /// The partner and the subject of a valid token.
    pub async fn verify(
        &self,
        db: &impl ConnectionTrait,
        token: &str,
    ) -> Result<(partner::Model, String), TokenRefusal> {
        let header = decode_header(token).map_err(|e| TokenRefusal::Malformed(e.to_string()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(TokenRefusal::Algorithm(format!("{:?}", header.alg)));
        }
        let issuer = insecure_decode_claims::<Unverified>(token)
            .map_err(|e| TokenRefusal::Malformed(e.to_string()))?
            .iss;
        let partner = queries::partner_by_issuer(db, &issuer)
            .await?
            .filter(|p| !p.oidc_jwks_url.is_empty())
            .ok_or_else(|| TokenRefusal::UnknownIssuer(issuer.clone()))?;
        let jwk = self.key(&partner, header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(e.kind()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&partner.oidc_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| invalid(e.kind()))?
            .claims;
        Ok((partner, claims.sub))
    }

    /// The provider's key `kid` (or its only key when the token names none).
    async fn key(&self, partner: &partner::Model, kid: Option<&str>) -> Result<Jwk, TokenRefusal> {
        let pick = |keys: &JwkSet| match kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        let url = &partner.oidc_jwks_url;
        let (kept, may_refetch) = {
            let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            match keys.get(url) {
                Some(f) if f.at.elapsed() < KEYS_KEPT_FOR => {
                    (Some(f.keys.clone()), f.at.elapsed() >= REFETCH_NO_SOONER)
                }
                _ => (None, true),
            }
        };
        if let Some(jwk) = kept.as_deref().and_then(pick) {
            return Ok(jwk);
        }
        let unknown = || TokenRefusal::UnknownKey {
            kid: kid.unwrap_or_default().to_owned(),
            issuer: partner.oidc_issuer.clone(),
        };
        if !may_refetch {
            return Err(unknown());
        }
        let fetched = self.fetch(url).await.map_err(|error| {
            tracing::warn!(%error, url, "JWKS not fetched");
            TokenRefusal::KeysUnavailable {
                issuer: partner.oidc_issuer.clone(),
            }
        })?;
        let jwk = pick(&fetched).ok_or_else(unknown);
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).insert(
            url.clone(),
            Fetched {
                keys: Arc::new(fetched),
                at: Instant::now(),
            },
        );
        jwk
    }

    async fn fetch(&self, url: &str) -> Result<JwkSet, reqwest::Error> {
        self.http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json::<JwkSet>()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_tokens_are_told_apart() {
        assert!(is_token("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(!is_token("aym_0123456789abcdef0123456789abcdef"));
        assert!(!is_token("not-a-token"));
    }
}

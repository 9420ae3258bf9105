//! Who sent a message. The JWE only proves the payload was meant for the
//! mesh; anyone holding the mesh's public key can make one. So every request
//! also carries `Authorization: Bearer <JWT>`, signed RS256 with the sender's
//! own private key (the half of the certificate it registered), its `iss`
//! the sender's participant code and its `exp` a few minutes ahead.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;

use super::{ErrorCode, ProtocolError, PublicKey};

#[derive(Deserialize)]
struct Claims {
    #[serde(rename = "iss")]
    _issuer: String,
}

/// OK when `authorization` (the header's value) is a bearer token of
/// `sender_code`, signed with `key` and not expired.
pub fn verify_sender(
    authorization: Option<&str>,
    sender_code: &str,
    key: &PublicKey,
) -> Result<(), ProtocolError> {
    let token = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::AccessDenied,
                "Authorization: Bearer <JWT signed by the sender's key> is required",
            )
        })?;
    let decoding = DecodingKey::from_rsa_pem(key.pem().as_bytes()).map_err(|_| {
        ProtocolError::new(
            ErrorCode::InvalidSender,
            format!("participant {sender_code} has no usable RSA key registered"),
        )
    })?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.set_issuer(&[sender_code]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Claims>(token, &decoding, &validation)
        .map(|_| ())
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidSignature => ProtocolError::new(
                ErrorCode::InvalidSignature,
                format!("the bearer token is not signed by the key {sender_code} registered"),
            ),
            ErrorKind::InvalidIssuer => ProtocolError::new(
                ErrorCode::AccessDenied,
                format!("the bearer token's iss is not the sender {sender_code}"),
            ),
            ErrorKind::ExpiredSignature => {
                ProtocolError::new(ErrorCode::AccessDenied, "the bearer token has expired")
            }
            ErrorKind::MissingRequiredClaim(claim) => ProtocolError::new(
                ErrorCode::AccessDenied,
                format!("the bearer token has no {claim} claim"),
            ),
            _ => ProtocolError::new(
                ErrorCode::AccessDenied,
                format!("the bearer token is not an RS256 JWT: {error}"),
            ),
        })
}

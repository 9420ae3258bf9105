//! The identity the gateway stamps on a partner's call and every service
//! verifies: partner, state, the hospitals a hospital's system acts for, and
//! the authenticated user with their roles, signed with a key shared by the
//! gateway and the services.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::{Caller, PartnerIdentity, UserIdentity, parse_roles, role_names};

/// Partner id, e.g. `PTN-BR-SHA`.
pub const PARTNER_ID_HEADER: &str = "x-ayushman-partner-id";
/// The census code of the state the partner acts for; empty for a national partner.
pub const PARTNER_STATE_HEADER: &str = "x-ayushman-partner-state";
/// The HFR ids a hospital's system acts for, comma-separated; empty for others.
pub const PARTNER_HFR_IDS_HEADER: &str = "x-ayushman-partner-hfr-ids";
/// The authenticated user's id; absent when the call names no user.
pub const USER_ID_HEADER: &str = "x-ayushman-user-id";
/// The user's roles, comma-separated names without the prefix (`PPD,CPD`).
pub const USER_ROLES_HEADER: &str = "x-ayushman-user-roles";
/// Hex HMAC-SHA256 of everything above under the shared identity key.
pub const PARTNER_SIGNATURE_HEADER: &str = "x-ayushman-partner-signature";
/// Every header whose name starts with this is the mesh's own; the gateway
/// removes all of them from partner requests before stamping its own.
pub const INTERNAL_HEADER_PREFIX: &str = "x-ayushman-";

/// The key used when none is configured: fine on a laptop, warned about at start.
pub const DEVELOPMENT_IDENTITY_KEY: &str = "ayushman-development-only-identity-key";

/// The secret shared by the gateway (which signs) and the services (which verify).
#[derive(Clone)]
pub struct IdentityKey(SecretString);

/// The identity as header values, in the order they are signed.
struct Stamped {
    partner_id: String,
    state: String,
    hfr_ids: String,
    user_id: String,
    roles: String,
}

impl Stamped {
    fn of(partner: &PartnerIdentity) -> Self {
        Self {
            partner_id: partner.partner_id.clone(),
            state: partner.state_code.clone().unwrap_or_default(),
            hfr_ids: partner.hfr_ids.join(","),
            user_id: partner
                .user
                .as_ref()
                .map(|u| u.user_id.clone())
                .unwrap_or_default(),
            roles: partner
                .user
                .as_ref()
                .map(|u| role_names(&u.roles))
                .unwrap_or_default(),
        }
    }

    fn read(headers: &HeaderMap) -> Option<Self> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        headers.get(PARTNER_ID_HEADER)?;
        Some(Self {
            partner_id: text(PARTNER_ID_HEADER),
            state: text(PARTNER_STATE_HEADER),
            hfr_ids: text(PARTNER_HFR_IDS_HEADER),
            user_id: text(USER_ID_HEADER),
            roles: text(USER_ROLES_HEADER),
        })
    }

    fn identity(self) -> PartnerIdentity {
        let list = |text: &str| -> Vec<String> {
            text.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        PartnerIdentity {
            state_code: (!self.state.is_empty()).then_some(self.state),
            hfr_ids: list(&self.hfr_ids),
            user: (!self.user_id.is_empty()).then(|| UserIdentity {
                user_id: self.user_id,
                roles: parse_roles(&self.roles),
            }),
            partner_id: self.partner_id,
        }
    }
}

impl IdentityKey {
    /// A key from configuration.
    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    fn mac(&self, stamped: &Stamped) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        for part in [
            &stamped.partner_id,
            &stamped.state,
            &stamped.hfr_ids,
            &stamped.user_id,
            &stamped.roles,
        ] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac
    }

    /// Replaces every `x-ayushman-*` header with the signed identity of `partner`.
    pub fn stamp(&self, headers: &mut HeaderMap, partner: &PartnerIdentity) {
        strip_internal_headers(headers);
        let stamped = Stamped::of(partner);
        let signature = hex::encode(self.mac(&stamped).finalize().into_bytes());
        for (name, value) in [
            (PARTNER_ID_HEADER, &stamped.partner_id),
            (PARTNER_STATE_HEADER, &stamped.state),
            (PARTNER_HFR_IDS_HEADER, &stamped.hfr_ids),
            (USER_ID_HEADER, &stamped.user_id),
            (USER_ROLES_HEADER, &stamped.roles),
            (PARTNER_SIGNATURE_HEADER, &signature),
        ] {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
    }

    /// The caller the headers describe: the mesh when they carry no partner
    /// identity, the partner when its signature is right, `Err` otherwise.
    pub fn verify(&self, headers: &HeaderMap) -> Result<Caller, &'static str> {
        let Some(stamped) = Stamped::read(headers) else {
            return Ok(Caller::Mesh);
        };
        let signature = headers
            .get(PARTNER_SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| hex::decode(s).ok())
            .ok_or("partner identity carries no signature")?;
        self.mac(&stamped)
            .verify_slice(&signature)
            .map_err(|_| "partner identity is not signed by the gateway")?;
        Ok(Caller::Partner(stamped.identity()))
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

#[cfg(test)]
mod tests {
    use ayushman_proto::common::v1::Role;

    use super::*;

    fn key(secret: &str) -> IdentityKey {
        IdentityKey::new(SecretString::from(secret))
    }

    fn bihar_reviewer() -> PartnerIdentity {
        PartnerIdentity {
            partner_id: "PTN-BR".into(),
            state_code: Some("10".into()),
            hfr_ids: Vec::new(),
            user: Some(UserIdentity {
                user_id: "USR-1".into(),
                roles: vec![Role::Ppd, Role::Cpd],
            }),
        }
    }

    #[test]
    fn a_stamped_identity_verifies_and_replaces_anything_sent_before() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ayushman-partner-state", "08".parse().expect("header"));
        headers.insert("x-ayushman-anything", "forged".parse().expect("header"));
        key("shared").stamp(&mut headers, &bihar_reviewer());
        assert_eq!(
            key("shared").verify(&headers),
            Ok(Caller::Partner(bihar_reviewer()))
        );
        assert!(!headers.contains_key("x-ayushman-anything"));
    }

    #[test]
    fn an_identity_signed_with_another_key_or_altered_is_refused() {
        let mut headers = HeaderMap::new();
        key("shared").stamp(&mut headers, &bihar_reviewer());
        assert!(key("other").verify(&headers).is_err());
        for (name, forged) in [
            (PARTNER_STATE_HEADER, ""),
            (USER_ROLES_HEADER, "PPD,CPD,ACO"),
            (USER_ID_HEADER, "USR-2"),
            (PARTNER_HFR_IDS_HEADER, "IN2210000001"),
        ] {
            let mut altered = headers.clone();
            altered.insert(name, forged.parse().expect("header"));
            assert!(key("shared").verify(&altered).is_err(), "{name} altered");
        }
    }

    #[test]
    fn no_identity_is_the_mesh() {
        assert_eq!(key("shared").verify(&HeaderMap::new()), Ok(Caller::Mesh));
    }
}

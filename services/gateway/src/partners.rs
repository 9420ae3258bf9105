//! Partners and their API keys (DESIGN §6). A key is 128 random bits shown
//! once; the gateway keeps its SHA-256 (a fast hash is enough for a random
//! secret of that size: there is nothing to guess from a dictionary) and a
//! short prefix to tell keys apart. A partner may also be bound to hospitals
//! (a hospital's system acts for its own HFR ids only), identified by client
//! certificates over mutual TLS, and trust an OpenID Connect provider for its
//! users.

use ayushman_domain::StateCode;
use ayushman_platform::{ApiError, caller::PartnerIdentity, db, ids};
use ayushman_proto::gateway::v1::{PartnerKind, PartnerStatus};
use sea_orm::ConnectionTrait;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{
    scopes,
    store::{
        entities::{api_key, client_certificate, partner, user},
        queries,
    },
};

/// What every key starts with, so a leaked one is recognisable in a scan.
pub const KEY_PREFIX: &str = "aym_";
/// The partner behind the bootstrap admin key.
pub const OPERATOR_PARTNER_ID: &str = "PTN-MESH-OPERATOR";
/// The bootstrap admin key's id.
pub const OPERATOR_KEY_ID: &str = "KEY-BOOTSTRAP";

/// A partner to create.
pub struct NewPartner {
    pub name: String,
    pub kind: PartnerKind,
    pub home_state: Option<StateCode>,
    pub rate_limit_per_second: i32,
    pub rate_limit_burst: i32,
    /// The hospitals a hospital's system acts for.
    pub hfr_ids: Vec<String>,
    /// Hex SHA-256 of its client certificates.
    pub certificates: Vec<String>,
    /// Its users' OpenID Connect provider.
    pub identity_provider: Option<IdentityProvider>,
}

/// An OpenID Connect provider trusted for one partner's users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
}

/// Scopes as stored: known, sorted, without repeats; `Err` names the first unknown one.
pub fn normalise_scopes(scopes: &[String]) -> Result<String, String> {
    let mut clean: Vec<&str> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        let scope = scope.trim();
        if !scopes::is_known_scope(scope) {
            return Err(format!("unknown scope {scope:?}"));
        }
        clean.push(scope);
    }
    clean.sort_unstable();
    clean.dedup();
    Ok(clean.join(","))
}

/// Stores a new partner, active, with a fresh id.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewPartner,
    scopes: String,
) -> Result<partner::Model, ApiError> {
    let provider = new.identity_provider.unwrap_or(IdentityProvider {
        issuer: String::new(),
        audience: String::new(),
        jwks_url: String::new(),
    });
    if !provider.issuer.is_empty()
        && let Some(other) = queries::partner_by_issuer(db, &provider.issuer).await?
    {
        return Err(ApiError::AlreadyExists(format!(
            "issuer {} already authenticates the users of partner {}",
            provider.issuer, other.partner_id
        )));
    }
    let row = partner::Model {
        partner_id: ids::new_id("PTN"),
        name: new.name.trim().to_owned(),
        kind: new.kind.as_str_name().to_owned(),
        home_state_code: new.home_state.map(|s| s.code()).unwrap_or_default(),
        scopes,
        rate_limit_per_second: new.rate_limit_per_second,
        rate_limit_burst: new.rate_limit_burst,
        status: PartnerStatus::Active.as_str_name().to_owned(),
        created_at: db::now(),
        hfr_ids: new.hfr_ids.join(","),
        oidc_issuer: provider.issuer,
        oidc_audience: provider.audience,
        oidc_jwks_url: provider.jwks_url,
    };
    queries::insert_partner(db, row.clone()).await?;
    for sha256 in new.certificates {
        if let Some(other) = queries::partner_by_certificate(db, &sha256).await? {
            return Err(ApiError::AlreadyExists(format!(
                "client certificate {sha256} already identifies partner {}",
                other.partner_id
            )));
        }
        queries::insert_certificates(
            db,
            vec![client_certificate::Model {
                sha256,
                partner_id: row.partner_id.clone(),
            }],
        )
        .await?;
    }
    Ok(row)
}

/// The partner, or NOT_FOUND.
pub async fn get(db: &impl ConnectionTrait, partner_id: &str) -> Result<partner::Model, ApiError> {
    queries::find_partner(db, partner_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no partner {partner_id}")))
}

/// Replaces the partner's scopes.
pub async fn set_scopes(
    db: &impl ConnectionTrait,
    partner_id: &str,
    scopes: String,
) -> Result<partner::Model, ApiError> {
    let partner = get(db, partner_id).await?;
    Ok(queries::save_partner(db, partner::Model { scopes, ..partner }).await?)
}

/// Hex SHA-256 of a key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A fresh key: the prefix and 128 random bits in hex.
pub fn generate_key() -> Result<String, ApiError> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| ApiError::internal(error.to_string()))?;
    Ok(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

fn key_row(key_id: String, partner_id: &str, key: &str) -> api_key::Model {
    api_key::Model {
        key_id,
        partner_id: partner_id.to_owned(),
        prefix: key.chars().take(KEY_PREFIX.len() + 4).collect(),
        key_hash: hash_key(key),
        created_at: db::now(),
        revoked_at: None,
        last_used_at: None,
    }
}

/// Issues a key for an active partner; returns its row and the key itself.
pub async fn issue_key(
    db: &impl ConnectionTrait,
    partner_id: &str,
) -> Result<(api_key::Model, String), ApiError> {
    let partner = get(db, partner_id).await?;
    if partner.status != PartnerStatus::Active.as_str_name() {
        return Err(ApiError::FailedPrecondition(format!(
            "partner {partner_id} is disabled; keys are issued to active partners"
        )));
    }
    let key = generate_key()?;
    let row = key_row(ids::new_id("KEY"), partner_id, &key);
    queries::insert_key(db, row.clone()).await?;
    Ok((row, key))
}

/// Revokes a key at once; revoking twice keeps the first time.
pub async fn revoke_key(
    db: &impl ConnectionTrait,
    key_id: &str,
) -> Result<api_key::Model, ApiError> {
    let key = queries::find_key(db, key_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no API key {key_id}")))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    Ok(queries::save_key(
        db,
        api_key::Model {
            revoked_at: Some(db::now()),
            ..key
        },
    )
    .await?)
}

/// A partner authenticated by a key, a client certificate or a user's token,
/// and the user the call names, if any.
#[derive(Debug, Clone)]
pub struct Principal {
    pub partner: partner::Model,
    /// The key presented; empty when the partner was identified otherwise.
    pub key_id: String,
    pub user: Option<user::Model>,
}

impl Principal {
    /// Whether the partner was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.partner.scopes.split(',').any(|s| s == scope)
    }

    /// The identity the gateway stamps on the partner's requests.
    pub fn identity(&self) -> PartnerIdentity {
        PartnerIdentity {
            partner_id: self.partner.partner_id.clone(),
            state_code: (!self.partner.home_state_code.is_empty())
                .then(|| self.partner.home_state_code.clone()),
            hfr_ids: self.partner.hfr_ids(),
            user: self.user.as_ref().map(crate::users::identity),
        }
    }
}

/// Why a key was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeyRefusal {
    #[error("the API key is not valid")]
    Unknown,
    #[error("API key {key_id} was revoked")]
    Revoked { partner_id: String, key_id: String },
    #[error("partner {partner_id} is disabled")]
    Disabled { partner_id: String, key_id: String },
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// The partner a presented key belongs to.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    presented: &str,
) -> Result<Principal, KeyRefusal> {
    let (key, partner) = queries::key_by_hash(db, &hash_key(presented))
        .await?
        .ok_or(KeyRefusal::Unknown)?;
    if key.revoked_at.is_some() {
        return Err(KeyRefusal::Revoked {
            partner_id: partner.partner_id,
            key_id: key.key_id,
        });
    }
    if partner.status != PartnerStatus::Active.as_str_name() {
        return Err(KeyRefusal::Disabled {
            partner_id: partner.partner_id,
            key_id: key.key_id,
        });
    }
    Ok(Principal {
        partner,
        key_id: key.key_id,
        user: None,
    })
}

/// Makes sure the mesh operator partner exists and `key` is its bootstrap key
/// (replacing the previous bootstrap key, so a restart with a new key revokes the old).
pub async fn ensure_operator(
    db: &impl ConnectionTrait,
    key: &SecretString,
    rate: (i32, i32),
) -> Result<(), ApiError> {
    if queries::find_partner(db, OPERATOR_PARTNER_ID)
        .await?
        .is_none()
    {
        queries::insert_partner(
            db,
            partner::Model {
                partner_id: OPERATOR_PARTNER_ID.into(),
                name: "Mesh operator".into(),
                kind: PartnerKind::MeshOperator.as_str_name().into(),
                home_state_code: String::new(),
                scopes: scopes::ADMIN_SCOPE.into(),
                rate_limit_per_second: rate.0,
                rate_limit_burst: rate.1,
                status: PartnerStatus::Active.as_str_name().into(),
                created_at: db::now(),
                hfr_ids: String::new(),
                oidc_issuer: String::new(),
                oidc_audience: String::new(),
                oidc_jwks_url: String::new(),
            },
        )
        .await?;
    }
    let row = key_row(
        OPERATOR_KEY_ID.into(),
        OPERATOR_PARTNER_ID,
        key.expose_secret(),
    );
    match queries::find_key(db, OPERATOR_KEY_ID).await? {
        Some(existing) if existing.key_hash == row.key_hash && existing.revoked_at.is_none() => {}
        Some(_) => {
            queries::save_key(db, row).await?;
        }
        None => queries::insert_key(db, row).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hashed() {
        let (a, b) = (
            generate_key().expect("random"),
            generate_key().expect("random"),
        );
        assert!(a.starts_with("aym_") && a.len() == 36, "{a}");
        assert_ne!(a, b);
        assert_eq!(hash_key(&a).len(), 64);
        assert_ne!(hash_key(&a), hash_key(&b));
    }

    #[test]
    fn scopes_are_checked_sorted_and_deduplicated() {
        let scopes = ["preauth.write", "beneficiary.read", "preauth.write"].map(String::from);
        assert_eq!(
            normalise_scopes(&scopes),
            Ok("beneficiary.read,preauth.write".to_owned())
        );
        assert_eq!(
            normalise_scopes(&["everything".to_owned()]),
            Err("unknown scope \"everything\"".to_owned())
        );
    }
}

//! The mesh's own key pair: participants encrypt to its public half, the
//! mesh decrypts with the private half and signs its bearer tokens with it.

use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::{
    protocol::EnvelopeKey,
    store::{entities::mesh_key, queries},
};

/// The name the generated development key is kept under.
const DEVELOPMENT_KEY: &str = "development";

/// How long the mesh's bearer tokens are good for, in seconds.
const TOKEN_SECONDS: i64 = 300;
/// A token is used until this many seconds before it expires: signing is an
/// RSA private-key operation, too dear to repeat for every callback.
const TOKEN_MARGIN: i64 = 60;

/// The mesh's keys.
#[derive(Clone)]
pub struct MeshKeys {
    /// Decrypts what participants send.
    pub envelope: Arc<EnvelopeKey>,
    signing: Arc<EncodingKey>,
    participant_code: String,
    /// The token in use and when it expires.
    token: Arc<Mutex<Option<(String, i64)>>>,
}

/// Why the mesh's key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The configured or kept key is not a usable RSA private key.
    #[error("service.private_key_pem: {0}")]
    Unusable(String),
    /// The kept key could not be read or kept.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

#[derive(Serialize)]
struct TokenClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
}

impl MeshKeys {
    /// The keys of `pem`, or (when `None`) the development key kept in the
    /// database, made on first start.
    pub async fn load(
        pem: Option<&SecretString>,
        participant_code: &str,
        db: &DatabaseConnection,
    ) -> Result<Self, KeyError> {
        let pem = match pem {
            Some(pem) => pem.clone(),
            None => {
                tracing::warn!(
                    "service.private_key_pem is not set: using a development key kept in the database; \
                     set AYUSHMAN__SERVICE__PRIVATE_KEY_PEM from a secret outside a laptop"
                );
                development_key(db).await?
            }
        };
        Self::from_pem(&pem, participant_code)
    }

    /// The keys of a PEM RSA private key.
    pub fn from_pem(pem: &SecretString, participant_code: &str) -> Result<Self, KeyError> {
        let envelope = EnvelopeKey::from_pem(pem).map_err(KeyError::Unusable)?;
        let signing = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes())
            .map_err(|e| KeyError::Unusable(e.to_string()))?;
        Ok(Self {
            envelope: Arc::new(envelope),
            signing: Arc::new(signing),
            participant_code: participant_code.to_owned(),
            token: Arc::default(),
        })
    }

    /// A bearer token of the mesh, for its calls to participants.
    pub fn bearer_token(&self) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let mut kept = self.token.lock().map_err(|_| "token lock poisoned")?;
        if let Some((token, expires)) = kept.as_ref()
            && *expires - TOKEN_MARGIN > now
        {
            return Ok(token.clone());
        }
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &TokenClaims {
                iss: &self.participant_code,
                iat: now,
                exp: now + TOKEN_SECONDS,
            },
            &self.signing,
        )
        .map_err(|e| e.to_string())?;
        *kept = Some((token.clone(), now + TOKEN_SECONDS));
        Ok(token)
    }
}

async fn development_key(db: &DatabaseConnection) -> Result<SecretString, KeyError> {
    if let Some(kept) = queries::find_mesh_key(db, DEVELOPMENT_KEY).await? {
        return Ok(SecretString::from(kept.pem));
    }
    let made = EnvelopeKey::generate_pem().map_err(KeyError::Unusable)?;
    queries::keep_mesh_key(
        db,
        mesh_key::Model {
            name: DEVELOPMENT_KEY.into(),
            pem: made.expose_secret().to_owned(),
        },
    )
    .await?;
    // Another replica may have kept its own first: everyone uses the kept one.
    let kept = queries::find_mesh_key(db, DEVELOPMENT_KEY)
        .await?
        .ok_or_else(|| KeyError::Unusable("the development key vanished".into()))?;
    Ok(SecretString::from(kept.pem))
}

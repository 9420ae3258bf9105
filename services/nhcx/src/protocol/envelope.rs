//! The JWE envelope of every message: RSA-OAEP-256 (RSA-OAEP accepted) wraps
//! an A256GCM key; the protocol headers ride in the protected header, so
//! they are authenticated with the payload and readable before decrypting.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use josekit::{
    jwe::{self, JweDecrypter, JweHeader, RSA_OAEP, RSA_OAEP_256, alg::rsaes::RsaesJweDecrypter},
    jwk::KeyPair,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::{ErrorCode, ProtocolError};

/// The content encryption every message uses.
pub const CONTENT_ENCRYPTION: &str = "A256GCM";
/// The key management the mesh sends with.
pub const KEY_MANAGEMENT: &str = "RSA-OAEP-256";

/// A participant's RSA public key, from its certificate or a bare public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pem: String,
}

impl PublicKey {
    /// The public key of a PEM X.509 certificate or RSA public key of 2048
    /// bits or more; `Err` says what is wrong with it.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let key = if text.contains("BEGIN CERTIFICATE") {
            openssl::x509::X509::from_pem(text.as_bytes())
                .and_then(|certificate| certificate.public_key())
                .map_err(|_| "is not a readable PEM certificate".to_owned())?
        } else {
            openssl::pkey::PKey::public_key_from_pem(text.as_bytes())
                .or_else(|_| {
                    openssl::rsa::Rsa::public_key_from_pem_pkcs1(text.as_bytes())
                        .and_then(openssl::pkey::PKey::from_rsa)
                })
                .map_err(|_| "is neither a PEM certificate nor a PEM public key".to_owned())?
        };
        let rsa = key
            .rsa()
            .map_err(|_| "must hold an RSA key (RSA-OAEP-256 needs one)".to_owned())?;
        if rsa.size() * 8 < 2048 {
            return Err("must hold an RSA key of 2048 bits or more".into());
        }
        let der = key
            .public_key_to_pem()
            .map_err(|_| "cannot be written back as PEM".to_owned())?;
        Ok(Self {
            pem: String::from_utf8_lossy(&der).into_owned(),
        })
    }

    /// The key as SubjectPublicKeyInfo PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// `payload` encrypted to this key, with `claims` (the protocol headers)
    /// in the protected header: a JWE in compact serialisation.
    pub fn encrypt(&self, claims: &Map<String, Value>, payload: &[u8]) -> Result<String, String> {
        let mut header = JweHeader::new();
        for (name, value) in claims {
            header
                .set_claim(name, Some(value.clone()))
                .map_err(|e| e.to_string())?;
        }
        header.set_algorithm(KEY_MANAGEMENT);
        header.set_content_encryption(CONTENT_ENCRYPTION);
        let encrypter = RSA_OAEP_256
            .encrypter_from_pem(&self.pem)
            .map_err(|e| e.to_string())?;
        jwe::serialize_compact(payload, &header, &encrypter).map_err(|e| e.to_string())
    }
}

/// The mesh's own private key: participants encrypt to its public half.
pub struct EnvelopeKey {
    oaep_256: RsaesJweDecrypter,
    oaep: RsaesJweDecrypter,
    public: PublicKey,
}

impl EnvelopeKey {
    /// The key of a PEM RSA private key (PKCS#8 or PKCS#1).
    pub fn from_pem(pem: &SecretString) -> Result<Self, String> {
        let pem = pem.expose_secret().as_bytes();
        let oaep_256 = RSA_OAEP_256
            .decrypter_from_pem(pem)
            .map_err(|e| format!("the private key is not usable: {e}"))?;
        let oaep = RSA_OAEP
            .decrypter_from_pem(pem)
            .map_err(|e| format!("the private key is not usable: {e}"))?;
        let pair = RSA_OAEP_256
            .key_pair_from_pem(pem)
            .map_err(|e| format!("the private key is not usable: {e}"))?;
        let public = PublicKey::from_pem(&String::from_utf8_lossy(&pair.to_pem_public_key()))?;
        Ok(Self {
            oaep_256,
            oaep,
            public,
        })
    }

    /// A new 2048-bit key, as PEM (PKCS#8).
    pub fn generate_pem() -> Result<SecretString, String> {
        let pair = RSA_OAEP_256
            .generate_key_pair(2048)
            .map_err(|e| e.to_string())?;
        Ok(SecretString::from(
            String::from_utf8_lossy(&pair.to_pem_private_key()).into_owned(),
        ))
    }

    /// The public half, to hand to participants.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The payload of a JWE encrypted to this key, and its protected header.
    /// A JWE that is not RSA-OAEP(-256) with A256GCM, or that does not
    /// decrypt (another key, or altered on the way), is ERR_INVALID_ENCRYPTION.
    pub fn decrypt(&self, compact: &str) -> Result<(Map<String, Value>, Vec<u8>), ProtocolError> {
        let header = peek_header(compact)?;
        let decrypter: &dyn JweDecrypter = match header.get("alg").and_then(Value::as_str) {
            Some("RSA-OAEP-256") => &self.oaep_256,
            Some("RSA-OAEP") => &self.oaep,
            other => {
                return Err(ProtocolError::new(
                    ErrorCode::InvalidEncryption,
                    format!("alg must be RSA-OAEP-256 or RSA-OAEP, not {other:?}"),
                ));
            }
        };
        let enc = header.get("enc").and_then(Value::as_str);
        if enc != Some(CONTENT_ENCRYPTION) {
            return Err(ProtocolError::new(
                ErrorCode::InvalidEncryption,
                format!("enc must be {CONTENT_ENCRYPTION}, not {enc:?}"),
            ));
        }
        let (payload, header) = jwe::deserialize_compact(compact, decrypter).map_err(|_| {
            ProtocolError::new(
                ErrorCode::InvalidEncryption,
                "the payload does not decrypt with the mesh's key: it was encrypted to \
                 another key or altered on the way",
            )
        })?;
        Ok((header.into_map(), payload))
    }
}

/// The protected header of a compact JWE, read without decrypting it.
pub fn peek_header(compact: &str) -> Result<Map<String, Value>, ProtocolError> {
    let parts: Vec<&str> = compact.split('.').collect();
    if parts.len() != 5 {
        return Err(ProtocolError::new(
            ErrorCode::InvalidPayload,
            format!(
                "payload must be a JWE in compact serialisation (five parts separated by '.'), \
                 found {} part(s)",
                parts.len()
            ),
        ));
    }
    URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::InvalidPayload,
                "the JWE's protected header is not base64url-encoded JSON",
            )
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mesh_key() -> EnvelopeKey {
        EnvelopeKey::from_pem(&EnvelopeKey::generate_pem().expect("generate")).expect("key")
    }

    fn claims() -> Map<String, Value> {
        json!({ "x-hcx-sender_code": "hosp@hcx" })
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn what_is_encrypted_to_the_public_half_decrypts_with_its_headers() {
        let key = mesh_key();
        let jwe = key
            .public_key()
            .encrypt(&claims(), b"{\"resourceType\":\"Bundle\"}")
            .expect("encrypt");
        let (header, payload) = key.decrypt(&jwe).expect("decrypt");
        assert_eq!(payload, b"{\"resourceType\":\"Bundle\"}");
        assert_eq!(header["x-hcx-sender_code"], "hosp@hcx");
        assert_eq!(header["alg"], "RSA-OAEP-256");
        assert_eq!(header["enc"], "A256GCM");
    }

    #[test]
    fn an_altered_ciphertext_or_another_key_is_invalid_encryption() {
        let key = mesh_key();
        let jwe = key.public_key().encrypt(&claims(), b"{}").expect("encrypt");
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        parts[3] = URL_SAFE_NO_PAD.encode(b"tampered ciphertext");
        let error = key.decrypt(&parts.join(".")).expect_err("tampered");
        assert_eq!(error.code, ErrorCode::InvalidEncryption);
        let error = mesh_key().decrypt(&jwe).expect_err("other key");
        assert_eq!(error.code, ErrorCode::InvalidEncryption);
    }

    #[test]
    fn a_payload_that_is_not_a_jwe_is_invalid_payload() {
        let error = mesh_key().decrypt("not.a.jwe").expect_err("refused");
        assert_eq!(error.code, ErrorCode::InvalidPayload);
    }

    #[test]
    fn a_small_or_unreadable_key_is_refused_with_the_reason() {
        assert!(PublicKey::from_pem("hello").is_err());
        let small = openssl::rsa::Rsa::generate(1024)
            .and_then(|rsa| rsa.public_key_to_pem())
            .expect("small key");
        let reason = PublicKey::from_pem(&String::from_utf8_lossy(&small)).expect_err("small");
        assert!(reason.contains("2048"), "{reason}");
    }
}

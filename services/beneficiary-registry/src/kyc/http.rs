//! e-KYC over HTTP against the state's Aadhaar authentication service (a KUA
//! in UIDAI's terms), in the JSON shape docs/OPERATIONS.md documents:
//!
//! `POST {url}/v1/kyc/verify` with HTTP basic authentication (client id and
//! secret) and
//! `{"aadhaar", "method": "OTP"|"BIOMETRIC"|"FACE", "proof", "name",
//! "transaction_id", "consent": true}`, answered
//! `{"verified", "name", "year_of_birth", "gender", "reference", "reason"}`.
//!
//! An OTP is consumed by the call, so it is never retried: a timeout, a 5xx
//! or an answer of another shape is the provider being unavailable, and the
//! operator asks again.

use std::time::Duration;

use ayushman_platform::outbound::OutboundClient;
use ayushman_proto::beneficiary::v1::KycMethod;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{KycOutcome, KycProvider, KycRequest};

/// See the module documentation.
pub struct HttpKycProvider {
    url: String,
    client_id: String,
    client_secret: SecretString,
    client: OutboundClient,
}

#[derive(Deserialize)]
struct Answer {
    verified: bool,
    #[serde(default)]
    name: String,
    #[serde(default)]
    year_of_birth: i32,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
}

impl HttpKycProvider {
    /// A client of the service at `url`, each call at most `timeout`.
    pub fn new(
        url: String,
        client_id: String,
        client_secret: SecretString,
        timeout: Duration,
    ) -> Self {
        Self {
            url,
            client_id,
            client_secret,
            client: OutboundClient::new("e-KYC", timeout),
        }
    }
}

fn method_name(method: KycMethod) -> &'static str {
    match method {
        KycMethod::AadhaarBiometric => "BIOMETRIC",
        KycMethod::AadhaarFace => "FACE",
        _ => "OTP",
    }
}

#[tonic::async_trait]
impl KycProvider for HttpKycProvider {
    async fn verify(&self, request: &KycRequest) -> Result<KycOutcome, String> {
        let url = format!("{}/v1/kyc/verify", self.url.trim_end_matches('/'));
        let body = json!({
            "aadhaar": request.aadhaar.expose_digits(),
            "method": method_name(request.method),
            "proof": request.proof.expose_secret(),
            "name": request.listed_name,
            "transaction_id": uuid::Uuid::new_v4().to_string(),
            "consent": true,
        });
        let call = self
            .client
            .http()
            .post(&url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .json(&body);
        let answer: Answer = self
            .client
            .json("verify", call)
            .await
            .map_err(|error| error.to_string())?;
        Ok(KycOutcome {
            verified: answer.verified,
            name_on_record: answer.name,
            failure_reason: if answer.verified || !answer.reason.is_empty() {
                answer.reason
            } else {
                "the e-KYC service refused without a reason".into()
            },
            reference: answer.reference,
            year_of_birth: answer.year_of_birth,
        })
    }

    fn needs_proof(&self) -> bool {
        true
    }
}

//! B5's hospital: it submits preauths to the NHCX service as FHIR bundles in
//! JWE envelopes, and serves the callback endpoint that learns of each
//! on_submit; a call lasts from the encrypted submit to the on_submit that
//! reports the preauth raised (ClaimResponse outcome `queued`).
//!
//! It encrypts with the mesh's own envelope code: interoperability with
//! outside implementations is the interop tests' job (jwcrypto,
//! fhir.resources); this measures the service.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use axum::{Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use ayushman_proto::nhcx::v1::{self as pb, nhcx_service_client::NhcxServiceClient};
use nhcx::protocol::{EnvelopeKey, PublicKey, headers};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tonic::transport::Channel;

use super::load::Call;

/// The bench hospital's participant code.
const CODE: &str = "bench-hospital@hcx";
/// The mesh's participant code (the service's default).
const MESH: &str = "ayushman-mesh@hcx";

type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<Result<(), String>>>>>;

/// A hospital ready to submit.
#[derive(Clone)]
pub struct Hospital {
    url: String,
    mesh_key: PublicKey,
    token: String,
    waiting: Waiting,
    http: reqwest::Client,
    cards: Arc<Vec<String>>,
    hfr_id: String,
    hpr_id: String,
    run: String,
}

/// Makes the hospital's key, starts its callback endpoint, and registers it
/// with the NHCX service at `url` as the facility `hfr_id`.
pub async fn start(
    url: &str,
    cards: Arc<Vec<String>>,
    hfr_id: String,
    hpr_id: String,
) -> anyhow::Result<Hospital> {
    let pem = EnvelopeKey::generate_pem().map_err(anyhow::Error::msg)?;
    let key = Arc::new(EnvelopeKey::from_pem(&pem).map_err(anyhow::Error::msg)?);
    let waiting: Waiting = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let router = Router::new()
        .route("/v0.7/preauth/on_submit", post(on_submit))
        .with_state((key.clone(), waiting.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    NhcxServiceClient::new(Channel::from_shared(url.to_owned())?.connect().await?)
        .upsert_participant(pb::UpsertParticipantRequest {
            idempotency_key: format!("bench-{}", std::process::id()),
            participant: Some(pb::Participant {
                participant_code: CODE.into(),
                name: "Bench hospital".into(),
                role: pb::ParticipantRole::Provider as i32,
                hfr_id: hfr_id.clone(),
                endpoint_url: endpoint,
                encryption_certificate: key.public_key().pem().to_owned(),
                active: true,
                updated_at: None,
            }),
        })
        .await
        .context("registering the bench hospital")?;
    let http = reqwest::Client::new();
    let mesh_pem = http
        .get(format!("{url}/nhcx/encryption-key.pem"))
        .send()
        .await?
        .text()
        .await?;
    let now = chrono::Utc::now().timestamp();
    // One token for the run: it is good for an hour.
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"iss": CODE, "iat": now, "exp": now + 3600}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes())?,
    )?;
    Ok(Hospital {
        url: url.to_owned(),
        mesh_key: PublicKey::from_pem(&mesh_pem).map_err(anyhow::Error::msg)?,
        token,
        waiting,
        http,
        cards,
        hfr_id,
        hpr_id,
        run: ayushman_platform::ids::new_id("RUN"),
    })
}

async fn on_submit(
    State((key, waiting)): State<(Arc<EnvelopeKey>, Waiting)>,
    body: Bytes,
) -> StatusCode {
    let opened = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["payload"].as_str().map(str::to_owned))
        .and_then(|jwe| key.decrypt(&jwe).ok());
    let Some((claims, payload)) = opened else {
        return StatusCode::BAD_REQUEST;
    };
    let correlation = claims[headers::CORRELATION_ID].as_str().unwrap_or_default();
    let outcome = serde_json::from_slice::<Value>(&payload)
        .map(|bundle| bundle["entry"][0]["resource"]["outcome"].clone())
        .unwrap_or_default();
    let result = if outcome == "queued" {
        Ok(())
    } else {
        Err(format!("on_submit outcome {outcome}"))
    };
    if let Some(waiter) = waiting.lock().ok().and_then(|mut w| w.remove(correlation)) {
        let _ = waiter.send(result);
    }
    StatusCode::ACCEPTED
}

impl Hospital {
    fn bundle(&self, seq: u64) -> Value {
        let card = &self.cards[(seq % self.cards.len() as u64) as usize];
        let today = ayushman_platform::convert::today_in_india().to_string();
        json!({
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": "urn:uuid:claim", "resource": {
                    "resourceType": "Claim",
                    "identifier": [{"system": "https://bench.example/claim", "value": format!("{}-{seq}", self.run)}],
                    "status": "active",
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}]},
                    "use": "preauthorization",
                    "patient": {"reference": "urn:uuid:patient"},
                    "created": chrono::Utc::now().to_rfc3339(),
                    "provider": {"identifier": {"system": "https://facility.abdm.gov.in", "value": self.hfr_id}},
                    "priority": {"coding": [{"code": "normal"}]},
                    "insurance": [{"sequence": 1, "focal": true, "coverage": {"display": "PM-JAY"}}],
                    "billablePeriod": {"start": today},
                    "careTeam": [{"sequence": 1, "provider": {"identifier": {"system": "https://doctor.abdm.gov.in", "value": self.hpr_id}}}],
                    "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"text": "acute coronary syndrome"}}],
                    "item": [{"sequence": 1, "productOrService": {"coding": [{"system": "https://pmjay.gov.in/hbp-package-code", "code": super::scenarios::BENCH_PACKAGE}]}}],
                }},
                {"fullUrl": "urn:uuid:patient", "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "https://pmjay.gov.in/identifier/card-number", "value": card}],
                }},
            ],
        })
    }
}

impl Call for Hospital {
    async fn call(&self, seq: u64) -> Result<(), String> {
        let correlation = uuid::Uuid::new_v4().to_string();
        let claims = json!({
            headers::SENDER_CODE: CODE,
            headers::RECIPIENT_CODE: MESH,
            headers::API_CALL_ID: uuid::Uuid::new_v4().to_string(),
            headers::CORRELATION_ID: correlation,
            headers::TIMESTAMP: chrono::Utc::now().to_rfc3339(),
            headers::STATUS: "request.initiated",
        });
        let claims = claims.as_object().cloned().unwrap_or_default();
        let payload = serde_json::to_vec(&self.bundle(seq)).map_err(|e| e.to_string())?;
        let jwe = self.mesh_key.encrypt(&claims, &payload)?;
        let (answered, answer) = oneshot::channel();
        self.waiting
            .lock()
            .map_err(|_| "waiting lock poisoned")?
            .insert(correlation.clone(), answered);
        let sent = self
            .http
            .post(format!("{}/v0.7/preauth/submit", self.url))
            .bearer_auth(&self.token)
            .json(&json!({ "payload": jwe }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if sent.status() != reqwest::StatusCode::ACCEPTED {
            let status = sent.status();
            let body = sent.text().await.unwrap_or_default();
            return Err(format!("submit answered {status}: {body}"));
        }
        match tokio::time::timeout(Duration::from_secs(30), answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the callback endpoint stopped".into()),
            Err(_) => {
                if let Ok(mut waiting) = self.waiting.lock() {
                    waiting.remove(&correlation);
                }
                Err("no on_submit within 30 s".into())
            }
        }
    }
}

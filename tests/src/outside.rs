//! Stand-ins of the services outside the mesh, speaking over real HTTP on
//! loopback the request and response shapes docs/OPERATIONS.md documents:
//! ABDM's session, HFR, HPR and ABHA lookups, and a state's e-KYC service.
//! Particular ids make them fail the ways real services do: a 5xx, an answer
//! slower than the client waits, an answer of the wrong shape.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

/// A facility the HFR knows.
pub const KNOWN_HFR: &str = "IN2210000001";
/// A professional the HPR knows.
pub const KNOWN_HPR: &str = "71-4324-5678-1234";
/// An ABHA account the registry knows.
pub const KNOWN_ABHA: &str = "91-2345-6789-0123";
/// Ids whose lookups answer HTTP 503.
pub const FAILING_HFR: &str = "IN2299999998";
/// Ids whose lookups answer after 3 s.
pub const SLOW_HFR: &str = "IN2299999997";
/// Ids whose lookups answer JSON of another shape.
pub const GARBLED_HFR: &str = "IN2299999996";
/// The Aadhaar the e-KYC service knows, with its OTP.
pub const KNOWN_AADHAAR: &str = "234567890124";
pub const RIGHT_OTP: &str = "123456";
/// Aadhaar numbers for which e-KYC answers 503, late, or garbled.
pub const FAILING_AADHAAR: &str = "567890123458";
pub const SLOW_AADHAAR: &str = "456789012341";
pub const GARBLED_AADHAAR: &str = "345678901238";
/// The credentials the stand-ins accept.
pub const CLIENT_ID: &str = "mesh-test";
pub const CLIENT_SECRET: &str = "mesh-test-secret";

/// How often each endpoint was called, to tell retries apart.
#[derive(Default)]
pub struct Calls {
    pub sessions: AtomicUsize,
    pub lookups: AtomicUsize,
    pub kyc: AtomicUsize,
}

/// The stand-ins, served until dropped.
pub struct OutsideServices {
    pub url: String,
    pub calls: Arc<Calls>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OutsideServices {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn refuse(reason: &str) -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": reason}))).into_response()
}

/// The headers ABDM requires on a registry call, and the bearer token.
fn abdm_headers_ok(headers: &HeaderMap, with_token: bool) -> bool {
    let present = |name: &str| headers.get(name).is_some_and(|v| !v.is_empty());
    present("request-id")
        && present("timestamp")
        && present("x-cm-id")
        && (!with_token
            || headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == "Bearer session-token-1"))
}

async fn session(
    State(calls): State<Arc<Calls>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    calls.sessions.fetch_add(1, Ordering::SeqCst);
    if !abdm_headers_ok(&headers, false)
        || body["clientId"] != CLIENT_ID
        || body["clientSecret"] != CLIENT_SECRET
    {
        return refuse("Invalid user credentials");
    }
    Json(json!({"accessToken": "session-token-1", "expiresIn": 1200, "tokenType": "bearer"}))
        .into_response()
}

/// The failure a test id asks for, if any.
async fn failure(id: &str, failing: &str, slow: &str, garbled: &str) -> Option<Response> {
    if id == failing {
        return Some((StatusCode::SERVICE_UNAVAILABLE, "upstream down").into_response());
    }
    if id == slow {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    (id == garbled)
        .then(|| Json(json!({"facilities": "not a list", "verified": "maybe"})).into_response())
}

async fn facility_search(
    State(calls): State<Arc<Calls>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    calls.lookups.fetch_add(1, Ordering::SeqCst);
    if !abdm_headers_ok(&headers, true) {
        return refuse("missing headers");
    }
    let id = body["facilityId"].as_str().unwrap_or_default().to_owned();
    if let Some(failed) = failure(&id, FAILING_HFR, SLOW_HFR, GARBLED_HFR).await {
        return failed;
    }
    let facilities = if id == KNOWN_HFR {
        vec![json!({
            "facilityId": KNOWN_HFR,
            "facilityName": "MAHARANI HOSPITAL JAGDALPUR",
            "ownership": "Government",
            "facilityType": "Hospital",
            "facilityStatus": "Approved",
            "stateName": "CHHATTISGARH",
        })]
    } else {
        Vec::new()
    };
    let total = facilities.len();
    Json(json!({"facilities": facilities, "totalFacilities": total, "numberOfPages": 1}))
        .into_response()
}

async fn professional(
    State(calls): State<Arc<Calls>>,
    headers: HeaderMap,
    Path(hpr_id): Path<String>,
) -> Response {
    calls.lookups.fetch_add(1, Ordering::SeqCst);
    if !abdm_headers_ok(&headers, true) {
        return refuse("missing headers");
    }
    if hpr_id != KNOWN_HPR {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"code": "HIS-404", "message": "not found"})),
        )
            .into_response();
    }
    Json(json!({
        "hprIdNumber": KNOWN_HPR,
        "hprId": "anjali.verma@hpr.abdm",
        "name": "Dr. Anjali Verma",
        "councilName": "Chhattisgarh Medical Council",
        "registrationNumber": "CGMC-2011-4471",
    }))
    .into_response()
}

async fn abha_search(
    State(calls): State<Arc<Calls>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    calls.lookups.fetch_add(1, Ordering::SeqCst);
    if !abdm_headers_ok(&headers, true) {
        return refuse("missing headers");
    }
    if body["healthId"] != KNOWN_ABHA {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"code": "ABDM-1114", "message": "not found"})),
        )
            .into_response();
    }
    Json(json!({
        "healthIdNumber": KNOWN_ABHA,
        "healthId": "lakshmi.devi@abdm",
        "name": "Lakshmi Devi",
        "status": "ACTIVE",
    }))
    .into_response()
}

async fn kyc(
    State(calls): State<Arc<Calls>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    calls.kyc.fetch_add(1, Ordering::SeqCst);
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{CLIENT_ID}:{CLIENT_SECRET}")
        )
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return refuse("unknown client");
    }
    let aadhaar = body["aadhaar"].as_str().unwrap_or_default().to_owned();
    if let Some(failed) = failure(&aadhaar, FAILING_AADHAAR, SLOW_AADHAAR, GARBLED_AADHAAR).await {
        return failed;
    }
    let known = aadhaar == KNOWN_AADHAAR && body["consent"] == true;
    Json(
        if known && body["method"] == "OTP" && body["proof"] == RIGHT_OTP {
            json!({"verified": true, "name": body["name"], "year_of_birth": 1981, "gender": "F",
               "reference": "UIDAI-TXN-0001", "reason": ""})
        } else if known {
            json!({"verified": false, "reference": "UIDAI-TXN-0002",
               "reason": "the OTP does not match; ask for a new one"})
        } else {
            json!({"verified": false, "reason": "Aadhaar number does not exist"})
        },
    )
    .into_response()
}

/// Starts the stand-ins on a free loopback port.
pub async fn start() -> OutsideServices {
    let calls = Arc::new(Calls::default());
    let app = Router::new()
        .route("/api/hiecm/gateway/v3/sessions", post(session))
        .route(
            "/FacilityManagement/v1.5/facility/search",
            post(facility_search),
        )
        .route("/v1/search/searchByHprId/{hpr_id}", get(professional))
        .route("/v1/search/searchByHealthId", post(abha_search))
        .route("/v1/kyc/verify", post(kyc))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    OutsideServices { url, calls, task }
}

impl OutsideServices {
    /// ABDM settings pointing every registry at these stand-ins.
    pub fn abdm_settings(&self, timeout_ms: u64) -> ayushman_abdm::AbdmSettings {
        ayushman_abdm::AbdmSettings {
            provider: Some(ayushman_platform::config::Provider::Http),
            gateway_url: self.url.clone(),
            hfr_url: self.url.clone(),
            hpr_url: self.url.clone(),
            abha_url: self.url.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.to_owned().into(),
            cm_id: "sbx".into(),
            timeout_ms,
            offline_unknown: Vec::new(),
        }
    }
}

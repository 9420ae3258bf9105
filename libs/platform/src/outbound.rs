//! Calls to services outside the mesh over HTTP (e-KYC, ABDM's registries):
//! one client per provider with its timeouts, the caller's trace carried in
//! `traceparent`, each call's outcome on a span, and retries only for calls
//! that may be repeated (lookups), never for one that consumes something (an
//! OTP).

use std::{future::Future, time::Duration};

use opentelemetry::global;
use serde::{Serialize, de::DeserializeOwned};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Why an outside service gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("answered something that is not the documented reply: {0}")]
    Malformed(String),
}

impl OutboundError {
    /// Whether trying again might help (the service was down or slow, not
    /// refusing the request).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Connect(_) => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Malformed(_) => false,
        }
    }
}

/// An HTTP client to one outside service.
#[derive(Clone, Debug)]
pub struct OutboundClient {
    http: reqwest::Client,
    timeout: Duration,
    /// Named in spans and errors, e.g. `e-KYC`, `HFR`.
    pub peer: &'static str,
}

impl OutboundClient {
    /// A client to `peer` whose calls take at most `timeout` each.
    pub fn new(peer: &'static str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("ayushman-mesh/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            http,
            timeout,
            peer,
        }
    }

    /// The underlying client, to build a request with the peer's own headers.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` with the current trace, and reads a JSON reply of 2xx;
    /// any other answer is an [`OutboundError`]. The outcome is recorded on a
    /// span of its own.
    pub async fn json<T: DeserializeOwned>(
        &self,
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, OutboundError> {
        let span = tracing::info_span!(
            "outbound",
            otel.name = %format!("{} {what}", self.peer),
            peer = self.peer,
            http.status_code = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let timeout = self.timeout.as_millis();
        async move {
            let mut headers = http::HeaderMap::new();
            let context = tracing::Span::current().context();
            global::get_text_map_propagator(|propagator| {
                propagator.inject_context(&context, &mut HeaderInjector(&mut headers));
            });
            let answer = request.headers(headers).send().await.map_err(|error| {
                if error.is_timeout() {
                    OutboundError::Timeout(timeout)
                } else {
                    OutboundError::Connect(error.to_string())
                }
            });
            let result = match answer {
                Err(error) => Err(error),
                Ok(response) => {
                    let status = response.status();
                    tracing::Span::current().record("http.status_code", status.as_u16());
                    let body = response.bytes().await.map_err(|error| {
                        if error.is_timeout() {
                            OutboundError::Timeout(timeout)
                        } else {
                            OutboundError::Connect(error.to_string())
                        }
                    })?;
                    if status.is_success() {
                        serde_json::from_slice(&body)
                            .map_err(|error| OutboundError::Malformed(error.to_string()))
                    } else {
                        Err(OutboundError::Status {
                            status: status.as_u16(),
                            body: String::from_utf8_lossy(&body).chars().take(300).collect(),
                        })
                    }
                }
            };
            let outcome = match &result {
                Ok(_) => "ok".to_owned(),
                Err(error) => error.to_string(),
            };
            tracing::Span::current().record("outcome", outcome.as_str());
            result
        }
        .instrument(span)
        .await
    }

    /// [`OutboundClient::json`] of a POST of `body` as JSON.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        what: &'static str,
        url: &str,
        body: &B,
        headers: http::HeaderMap,
    ) -> Result<T, OutboundError> {
        self.json(what, self.http.post(url).headers(headers).json(body))
            .await
    }
}

/// Runs `call` up to `attempts` times while it fails transiently, waiting a
/// little longer each time. Only for calls that may be repeated.
pub async fn retry_transient<T, F, Fut>(attempts: u32, mut call: F) -> Result<T, OutboundError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OutboundError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(error) if error.is_transient() && attempt < attempts => {
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

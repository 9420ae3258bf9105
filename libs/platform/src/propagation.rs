//! W3C trace context across gRPC hops (DESIGN §5): the server side extracts
//! `traceparent` from request headers and parents its span on it; the client
//! side injects the current span's context into outgoing metadata.

use opentelemetry::{
    global,
    propagation::{Extractor, Injector},
};
use tonic::{
    metadata::{MetadataKey, MetadataMap, MetadataValue},
    service::Interceptor,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The span for one incoming gRPC request, child of the caller's trace if any.
/// Used as tonic's `trace_fn`, so it wraps the whole request, handler included.
pub fn server_span(request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    let span = tracing::info_span!(
        "grpc.request",
        otel.name = %path,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    // Without the OpenTelemetry layer (no export configured) there is nothing to parent.
    let _ = span.set_parent(parent);
    span
}

/// Injects the current span's trace context and a default deadline into every
/// outgoing request.
#[derive(Debug, Clone)]
pub struct TraceContextInjector {
    default_deadline: Option<std::time::Duration>,
}

impl TraceContextInjector {
    /// Sets `grpc-timeout` to `default_deadline` when the caller set none;
    /// `None` forwards the caller's deadline, if any, as it is (a proxy).
    pub fn new(default_deadline: Option<std::time::Duration>) -> Self {
        Self { default_deadline }
    }
}

impl Interceptor for TraceContextInjector {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let context = tracing::Span::current().context();
        global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()));
        });
        if let Some(deadline) = self.default_deadline
            && !request.metadata().contains_key("grpc-timeout")
        {
            request.set_timeout(deadline);
        }
        Ok(request)
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

//! Prometheus metrics of the gRPC server, served on the admin port: requests by
//! method and status code, and a latency histogram by method.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use http_body::{Body, Frame, SizeHint};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The server's metric families in their own registry (one per service, so
/// services started in one test process do not mix).
#[derive(Clone)]
pub struct GrpcMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl GrpcMetrics {
    /// Creates and registers the metric families, labelled with the service name.
    pub fn new(service: &str) -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "grpc_server_handled_total",
                "gRPC requests completed, by method and status code",
            )
            .const_label("service", service),
            &["grpc_method", "grpc_code"],
        )
        .expect("metric definition is valid");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "grpc_server_handling_seconds",
                "gRPC request latency until the last byte, by method",
            )
            .const_label("service", service)
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["grpc_method"],
        )
        .expect("metric definition is valid");
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        registry
            .register(Box::new(latency.clone()))
            .expect("registered once");
        Self {
            registry,
            requests,
            latency,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(error) = encoder.encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(%error, "metrics could not be encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }

    fn observe(&self, method: &str, code: &str, started: Instant) {
        self.requests.with_label_values(&[method, code]).inc();
        self.latency
            .with_label_values(&[method])
            .observe(started.elapsed().as_secs_f64());
    }
}

/// Tower layer that counts and times every request.
#[derive(Clone)]
pub struct MetricsLayer {
    metrics: GrpcMetrics,
}

impl MetricsLayer {
    /// Records into `metrics`.
    pub fn new(metrics: GrpcMetrics) -> Self {
        Self { metrics }
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// See [`MetricsLayer`].
#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: GrpcMetrics,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for MetricsService<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = http::Response<RecordingBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let mut recorder = Recorder {
            metrics: self.metrics.clone(),
            method: Arc::from(request.uri().path()),
            started: Instant::now(),
            code: None,
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            // A trailers-only response (most errors) carries the status in its headers.
            if let Some(code) = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
            {
                recorder.code = Some(code.to_owned());
            }
            Ok(response.map(|body| RecordingBody {
                inner: body,
                recorder: Some(recorder),
            }))
        })
    }
}

/// Records one request when its response ends; a response dropped before its
/// trailers (client went away) counts as CANCELLED (code 1).
struct Recorder {
    metrics: GrpcMetrics,
    method: Arc<str>,
    started: Instant,
    code: Option<String>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let code = self.code.as_deref().unwrap_or("1");
        self.metrics.observe(&self.method, code, self.started);
    }
}

pin_project_lite::pin_project! {
    /// Response body that reads `grpc-status` from the trailers as they pass.
    pub struct RecordingBody<B> {
        #[pin]
        inner: B,
        recorder: Option<Recorder>,
    }
}

impl<B: Body> Body for RecordingBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame
                    .trailers_ref()
                    .and_then(|t| t.get("grpc-status"))
                    .and_then(|v| v.to_str().ok())
                    && let Some(recorder) = this.recorder.as_mut()
                {
                    recorder.code = Some(code.to_owned());
                }
            }
            Poll::Ready(None) => {
                if let Some(mut recorder) = this.recorder.take()
                    && recorder.code.is_none()
                {
                    // Ended without trailers or a status header: not a gRPC answer.
                    recorder.code = Some("2".to_owned());
                }
            }
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

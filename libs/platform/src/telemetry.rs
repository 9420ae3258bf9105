//! Logs and traces (DESIGN §5, Telemetry).
//!
//! [`init`] installs one subscriber: an EnvFilter, a pretty or JSON log layer,
//! and — when an OTLP endpoint is configured — a tracing-opentelemetry layer
//! exporting in batches. The W3C trace-context propagator is installed so
//! `traceparent` crosses every hop. It never panics when called twice (tests).

use std::time::Duration;

use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkResult,
    propagation::TraceContextPropagator,
    trace::{SdkTracerProvider, SpanData, SpanExporter},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{LogFormat, TelemetrySettings};

/// Keeps trace export alive; dropping it flushes the spans still buffered.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("trace export did not flush cleanly: {error}");
        }
    }
}

/// Installs logging, and trace export when `settings.otlp_endpoint` is set.
pub fn init(service: &str, settings: &TelemetrySettings) -> TelemetryGuard {
    let provider = settings.otlp_endpoint.as_deref().and_then(|endpoint| {
        match OwnRuntimeExporter::otlp(endpoint) {
            Ok(exporter) => Some(
                provider_builder(service)
                    .with_batch_exporter(exporter)
                    .build(),
            ),
            Err(error) => {
                eprintln!(
                    "trace export disabled: cannot build OTLP exporter for {endpoint}: {error}"
                );
                None
            }
        }
    });
    install(service, settings, provider)
}

/// Installs logging and exports every span synchronously to `exporter`
/// (tests use an in-memory exporter to assert on spans).
pub fn init_with_exporter<E>(
    service: &str,
    settings: &TelemetrySettings,
    exporter: E,
) -> TelemetryGuard
where
    E: SpanExporter + 'static,
{
    let provider = provider_builder(service)
        .with_simple_exporter(exporter)
        .build();
    install(service, settings, Some(provider))
}

fn provider_builder(service: &str) -> opentelemetry_sdk::trace::TracerProviderBuilder {
    SdkTracerProvider::builder().with_resource(
        Resource::builder()
            .with_service_name(service.to_owned())
            .build(),
    )
}

fn install(
    service: &str,
    settings: &TelemetrySettings,
    provider: Option<SdkTracerProvider>,
) -> TelemetryGuard {
    global::set_text_map_propagator(TraceContextPropagator::new());
    // Log verbosity and trace export are filtered apart: quiet logs must not
    // silence the spans a collector (or a test) relies on.
    let log_filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match settings.log_format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_target(false)
            .compact()
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed(),
    }
    .with_filter(log_filter);
    let traces = provider.as_ref().map(|provider| {
        global::set_tracer_provider(provider.clone());
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(service.to_owned()))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
    });
    // A second init in the same process (tests) keeps the first subscriber.
    let _already_installed = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init();
    TelemetryGuard { provider }
}

/// The W3C trace id of the current span, if it is being traced.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// Wraps the OTLP exporter with a Tokio runtime of its own: the SDK's batch
/// processor exports from a plain OS thread, but tonic needs a reactor.
#[derive(Debug)]
struct OwnRuntimeExporter {
    exporter: opentelemetry_otlp::SpanExporter,
    runtime: Option<tokio::runtime::Runtime>,
}

impl OwnRuntimeExporter {
    fn otlp(endpoint: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otlp-export")
            .enable_all()
            .build()?;
        let exporter = {
            let _entered = runtime.enter();
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_timeout(Duration::from_secs(5))
                .build()?
        };
        Ok(Self {
            exporter,
            runtime: Some(runtime),
        })
    }
}

impl SpanExporter for OwnRuntimeExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        match &self.runtime {
            Some(runtime) => runtime.handle().block_on(self.exporter.export(batch)),
            None => Ok(()),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.exporter.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.exporter.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}

impl Drop for OwnRuntimeExporter {
    fn drop(&mut self) {
        // Dropping a runtime inside async code panics; let it wind down on its own.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

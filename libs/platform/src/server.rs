//! Server bootstrap shared by every service (DESIGN §5, Server): gRPC health per
//! service name, reflection v1 and v1alpha, request timeout, global concurrency
//! limit with load shedding, Prometheus metrics on the admin port, graceful
//! shutdown that reports NOT_SERVING before draining.

use std::{fmt::Display, future::Future, io, net::SocketAddr, process::ExitCode, time::Duration};

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tower::ServiceBuilder;

use crate::{
    config::{self, ConfigSource, ServerSettings, Settings, Validate},
    mesh::MeshService,
    metrics::{GrpcMetrics, MetricsLayer},
    propagation, telemetry,
};

/// Exit status for a configuration error (EX_USAGE from sysexits.h).
const EXIT_BAD_CONFIG: u8 = 64;

/// A whole service process: config (one line and exit 64 on error) -> telemetry
/// -> bind -> `build` (database, migrations, routes) -> serve until SIGTERM or
/// Ctrl-C -> drain -> flush traces. Each service's `main` is a call to this.
pub async fn run<S, F, Fut, E>(service: MeshService, build: F) -> ExitCode
where
    S: serde::de::DeserializeOwned + Default + Validate,
    F: FnOnce(Settings<S>) -> Fut,
    Fut: Future<Output = Result<Routes, E>>,
    E: Display,
{
    let settings = match config::load::<S>(service, &ConfigSource::from_process()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{service}: {error}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let _telemetry = telemetry::init(service.name(), &settings.telemetry);
    let server_settings = settings.server.clone();
    let listeners = match Listeners::bind(&server_settings).await {
        Ok(listeners) => listeners,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let routes = match build(settings).await {
        Ok(routes) => routes,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    match serve(
        service,
        &server_settings,
        routes,
        listeners,
        shutdown_signal(),
    )
    .await
    {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listener could not be bound (port taken, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// Reflection descriptors could not be loaded (a build bug).
    #[error("reflection setup failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The gRPC transport failed.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// The bound gRPC and admin listeners. Binding first, serving later lets tests
/// use port 0 and read the real ports, and lets `main` fail before starting work.
pub struct Listeners {
    grpc: TcpListener,
    admin: TcpListener,
}

impl Listeners {
    /// Binds `host:port` and `host:admin_port`.
    pub async fn bind(settings: &ServerSettings) -> Result<Self, ServeError> {
        let bind = |port| async move {
            let addr = SocketAddr::new(settings.host, port);
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })
        };
        Ok(Self {
            grpc: bind(settings.port).await?,
            admin: bind(settings.admin_port).await?,
        })
    }

    /// The address gRPC is served on.
    pub fn grpc_addr(&self) -> io::Result<SocketAddr> {
        self.grpc.local_addr()
    }

    /// The address metrics are served on.
    pub fn admin_addr(&self) -> io::Result<SocketAddr> {
        self.admin.local_addr()
    }
}

/// Serves `routes` (the service's own gRPC services) plus health and reflection
/// until `shutdown` resolves, then drains in-flight requests for up to the grace period.
pub async fn serve(
    service: MeshService,
    settings: &ServerSettings,
    routes: Routes,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection = |builder: tonic_reflection::server::Builder<'static>| {
        builder
            .register_encoded_file_descriptor_set(ayushman_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // google.rpc.BadRequest and friends, so grpcurl can show error details.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
            .include_reflection_service(false)
            .with_service_name(service.grpc_service())
            .with_service_name("grpc.health.v1.Health")
            .with_service_name("grpc.reflection.v1.ServerReflection")
            .with_service_name("grpc.reflection.v1alpha.ServerReflection")
    };
    let reflection_v1 = reflection(tonic_reflection::server::Builder::configure()).build_v1()?;
    let reflection_v1alpha =
        reflection(tonic_reflection::server::Builder::configure()).build_v1alpha()?;
    let routes = routes
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);

    let metrics = GrpcMetrics::new(service.name());

    // Outermost first. Metrics see every request, including shed ones; load
    // shedding answers RESOURCE_EXHAUSTED at once instead of queueing when the
    // concurrency limit (shared by all connections) is reached.
    let layers = ServiceBuilder::new()
        .layer(MetricsLayer::new(metrics.clone()))
        .load_shed()
        .concurrency_limit(settings.concurrency_limit)
        .into_inner();

    // Report NOT_SERVING as soon as shutdown starts so balancers stop sending work,
    // then let tonic stop accepting and drain.
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown_reporter = health.clone();
    let grpc_service = service.grpc_service();
    let signal = async move {
        shutdown.await;
        shutdown_reporter
            .set_service_status(grpc_service, ServingStatus::NotServing)
            .await;
        shutdown_reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = draining_tx.send(());
    };

    let grpc_addr = listeners.grpc_addr().map_err(|source| ServeError::Bind {
        addr: SocketAddr::new(settings.host, settings.port),
        source,
    })?;
    let admin_addr = listeners.admin_addr().map_err(|source| ServeError::Bind {
        addr: SocketAddr::new(settings.host, settings.admin_port),
        source,
    })?;
    let admin = tokio::spawn(serve_admin(listeners.admin, metrics.clone()));
    let server = tonic::transport::Server::builder()
        .trace_fn(propagation::server_span)
        .timeout(settings.request_timeout())
        .tcp_nodelay(true)
        .layer(layers)
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listeners.grpc), signal);

    health
        .set_service_status(service.grpc_service(), ServingStatus::Serving)
        .await;
    health.set_service_status("", ServingStatus::Serving).await;
    tracing::info!(service = service.name(), %grpc_addr, %admin_addr, "serving gRPC");

    let grace = settings.shutdown_grace();
    let result = drain_within(server, draining_rx, grace).await;
    admin.abort();
    result
}

/// Runs the server; once draining starts, gives it `grace` to finish.
async fn drain_within(
    server: impl Future<Output = Result<(), tonic::transport::Error>>,
    draining: tokio::sync::oneshot::Receiver<()>,
    grace: Duration,
) -> Result<(), ServeError> {
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result.map_err(ServeError::from),
        _ = draining => {}
    }
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result.map_err(ServeError::from),
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "grace period over; dropping unfinished requests"
            );
            Ok(())
        }
    }
}

async fn serve_admin(listener: TcpListener, metrics: GrpcMetrics) {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    metrics.render(),
                )
            }
        }),
    );
    if let Err(error) = axum::serve(listener, app).await {
        tracing::error!(%error, "admin server failed");
    }
}

/// Resolves on SIGTERM (Kubernetes) or Ctrl-C (a terminal).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

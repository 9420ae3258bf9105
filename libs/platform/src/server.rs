//! Server bootstrap shared by every service (DESIGN §5, Server): gRPC health per
//! service name, reflection v1 and v1alpha, request timeout, global concurrency
//! limit with load shedding, Prometheus metrics on the admin port, graceful
//! shutdown that reports NOT_SERVING before draining.

use std::{
    convert::Infallible, fmt::Display, future::Future, io, net::SocketAddr, process::ExitCode,
    time::Duration,
};

use prost::Message;
use prost_types::FileDescriptorSet;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::{Certificate, Identity, ServerTlsConfig, server::TcpIncoming};
use tonic_health::ServingStatus;
use tower::ServiceBuilder;

use crate::{
    authority::{EnforceRoles, authority_layer},
    caller::{IdentityKey, VerifyCaller, caller_layer},
    config::{self, ConfigSource, ServerSettings, Settings, Validate},
    deadline::DefaultDeadlineLayer,
    gate::Gate,
    mesh::MeshService,
    metrics::{GrpcMetrics, MetricsLayer},
    propagation, telemetry,
};

/// Exit status for a configuration error (EX_USAGE from sysexits.h).
const EXIT_BAD_CONFIG: u8 = 64;

/// A whole service process: config (one line and exit 64 on error) -> telemetry
/// -> bind -> `build` (database, migrations, routes) -> serve until SIGTERM or
/// Ctrl-C -> drain -> flush traces. Each service's `main` is a call to this.
pub async fn run<S, F, Fut, A, E>(service: MeshService, build: F) -> ExitCode
where
    S: serde::de::DeserializeOwned + Default + Validate,
    F: FnOnce(Settings<S>) -> Fut,
    Fut: Future<Output = Result<A, E>>,
    A: Into<App>,
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
    if settings.server.uses_development_identity_key() {
        tracing::warn!(
            "server.partner_identity_key is the development key; set AYUSHMAN__SERVER__PARTNER_IDENTITY_KEY outside a laptop"
        );
    }
    if settings.database.uses_development_fingerprint_key() {
        tracing::warn!(
            "database.fingerprint_key is the development key; set AYUSHMAN__DATABASE__FINGERPRINT_KEY from a secret outside a laptop"
        );
    }
    let server_settings = settings.server.clone();
    let listeners = match Listeners::bind(&server_settings).await {
        Ok(listeners) => listeners,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let app = match build(settings).await {
        Ok(app) => app.into(),
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    match serve(service, &server_settings, app, listeners, shutdown_signal()).await {
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
    /// The descriptor sets compiled into the binary do not decode (a build bug).
    #[error("reflection descriptors do not decode: {0}")]
    Descriptors(#[from] prost::DecodeError),
    /// The gRPC transport failed.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// A TLS file named in `server.tls` could not be read.
    #[error("{key}: cannot read {path}: {source}")]
    TlsFile {
        /// The setting naming the file.
        key: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// The TLS configuration of `server.tls`: the server's certificate, and the
/// CAs whose client certificates are accepted (optional, so partners that
/// authenticate with a key alone are still served).
fn tls_config(tls: &crate::config::TlsSettings) -> Result<ServerTlsConfig, ServeError> {
    let read = |key: &'static str, path: &std::path::Path| {
        std::fs::read(path).map_err(|source| ServeError::TlsFile {
            key,
            path: path.to_owned(),
            source,
        })
    };
    let identity = Identity::from_pem(
        read("server.tls.cert_path", &tls.cert_path)?,
        read("server.tls.key_path", &tls.key_path)?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &tls.client_ca_path {
        config = config
            .client_ca_root(Certificate::from_pem(read(
                "server.tls.client_ca_path",
                ca,
            )?))
            .client_auth_optional(true);
    }
    Ok(config)
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

/// A layer in front of everything a server serves, health and reflection
/// included: the gateway's partner edge (authentication, scopes, audit).
pub type EdgeLayer = tower::util::BoxCloneSyncServiceLayer<
    Gate<Gate<Routes, EnforceRoles>, VerifyCaller>,
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    Infallible,
>;

/// Reflection as a service of its own (see [`Reflection::service`]).
pub type ReflectionService = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    Infallible,
>;

/// What reflection describes: descriptor sets and the services it lists.
pub struct Reflection {
    /// Every file the listed services need, dependencies included.
    pub files: FileDescriptorSet,
    /// Fully qualified services to list, e.g. `ayushman.claims.v1.ClaimsService`.
    pub services: Vec<String>,
}

impl Reflection {
    /// The mesh's contracts plus health, reflection and `google.rpc` error
    /// details (so grpcurl can show them), listing `services` with health and reflection.
    pub fn of_mesh(services: impl IntoIterator<Item = String>) -> Result<Self, prost::DecodeError> {
        let mut files = FileDescriptorSet::decode(ayushman_proto::FILE_DESCRIPTOR_SET)?;
        for set in [
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_types::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ] {
            let extra = FileDescriptorSet::decode(set)?;
            for file in extra.file {
                if !files.file.iter().any(|f| f.name == file.name) {
                    files.file.push(file);
                }
            }
        }
        let mut services: Vec<String> = services.into_iter().collect();
        services.extend(
            [
                "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
            ]
            .map(String::from),
        );
        Ok(Self { files, services })
    }

    /// Reflection v1 and v1alpha of these descriptors as one service, for a
    /// server that chooses per caller what to describe (the gateway).
    pub fn service(&self) -> Result<ReflectionService, ServeError> {
        let routes = Routes::new(self.builder().build_v1()?)
            .add_service(self.builder().build_v1alpha()?)
            .prepare();
        Ok(tower::util::BoxCloneSyncService::new(routes))
    }

    fn builder(&self) -> tonic_reflection::server::Builder<'static> {
        self.services.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_file_descriptor_set(self.files.clone())
                .include_reflection_service(false),
            |builder, name| builder.with_service_name(name),
        )
    }
}

/// What a service serves: its routes, and what only the gateway needs — its
/// own reflection, an edge layer, HTTP/1.1 for JSON clients.
pub struct App {
    routes: Routes,
    reflection: Option<Reflection>,
    edge: Option<EdgeLayer>,
    accept_http1: bool,
}

impl App {
    /// Routes with the default reflection (the service itself, health, reflection).
    pub fn new(routes: Routes) -> Self {
        Self {
            routes,
            reflection: None,
            edge: None,
            accept_http1: false,
        }
    }

    /// Reflection describing `reflection` instead of the service itself.
    pub fn with_reflection(mut self, reflection: Reflection) -> Self {
        self.reflection = Some(reflection);
        self
    }

    /// `edge` in front of every request, health and reflection included.
    pub fn with_edge(mut self, edge: EdgeLayer) -> Self {
        self.edge = Some(edge);
        self
    }

    /// Accepts HTTP/1.1 connections besides HTTP/2 (for JSON clients such as curl).
    pub fn accepting_http1(mut self) -> Self {
        self.accept_http1 = true;
        self
    }
}

impl From<Routes> for App {
    fn from(routes: Routes) -> Self {
        Self::new(routes)
    }
}

/// Serves `app` (the service's own gRPC services) plus health and reflection
/// until `shutdown` resolves, then drains in-flight requests for up to the grace period.
pub async fn serve(
    service: MeshService,
    settings: &ServerSettings,
    app: impl Into<App>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = app.into();
    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection = match app.reflection {
        Some(reflection) => reflection,
        None => Reflection::of_mesh([service.grpc_service().to_owned()])?,
    };
    let reflection_v1 = reflection.builder().build_v1()?;
    let reflection_v1alpha = reflection.builder().build_v1alpha()?;
    let routes = app
        .routes
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);

    let metrics = GrpcMetrics::new(service.name());

    // Outermost first. Metrics see every request, including shed ones; load
    // shedding answers RESOURCE_EXHAUSTED at once instead of queueing when the
    // concurrency limit (shared by all connections) is reached. The gateway's
    // edge then authenticates partners and stamps their identity, which the
    // caller layer verifies (and, on every other service, is the only check
    // that identity passes through).
    let limit = settings.concurrency_limit;
    let layers = ServiceBuilder::new()
        .layer(MetricsLayer::new(metrics.clone()))
        // Say what was refused and why, not tonic's generic overload message.
        .map_result(
            move |answer: Result<http::Response<tonic::body::Body>, tower::BoxError>| match answer {
                Err(error) if error.is::<tower::load_shed::error::Overloaded>() => {
                    Ok(tonic::Status::resource_exhausted(format!(
                        "the service is at its limit of {limit} calls in flight; retry shortly"
                    ))
                    .into_http())
                }
                other => other,
            },
        )
        .load_shed()
        .concurrency_limit(settings.concurrency_limit)
        // After admission, so a call waits for nothing but its own work.
        .layer(DefaultDeadlineLayer::new(settings.request_timeout()))
        .option_layer(app.edge)
        .layer(caller_layer(IdentityKey::new(
            settings.partner_identity_key.clone(),
        )))
        .layer(authority_layer(service))
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
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &settings.tls {
        builder = builder.tls_config(tls_config(tls)?)?;
    }
    let server = builder
        .accept_http1(app.accept_http1)
        .trace_fn(propagation::server_span)
        .layer(layers)
        .add_routes(routes)
        // TCP_NODELAY on every accepted connection: tonic sets it only on
        // listeners it binds itself, and with Nagle on, a reply written in two
        // parts waits for the caller's delayed ACK (40 ms on Linux).
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listeners.grpc).with_nodelay(Some(true)),
            signal,
        );

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

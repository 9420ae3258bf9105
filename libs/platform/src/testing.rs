//! Shared test support: fresh databases per test on SQLite and, when
//! `TEST_DATABASE_URL` is set, PostgreSQL; quiet logs unless `TEST_LOG=1`.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;

use crate::config::{DatabaseSettings, LogFormat, TelemetrySettings};

/// The fingerprint key of test databases.
pub const TEST_FINGERPRINT_KEY: &str = "test-only-fingerprint-key-0123";

/// A database made for one test. SQLite files live in a temporary folder removed
/// on drop; PostgreSQL databases are created fresh with a unique name.
pub struct TestDatabase {
    /// Settings that point a service at this database.
    pub settings: DatabaseSettings,
    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub backend: &'static str,
    _folder: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server's admin URL and this database's name, dropped on drop.
    postgres: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on async work:
        // a short-lived thread with its own runtime drops the database.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("test database was not dropped: {error}");
        }
    }
}

/// A fresh SQLite database in its own temporary folder.
pub fn sqlite() -> TestDatabase {
    let folder = tempfile::tempdir().expect("temporary folder for a test database");
    TestDatabase {
        settings: DatabaseSettings {
            url: None,
            data_dir: folder.path().to_owned(),
            max_connections: 5,
            fingerprint_key: SecretString::from(TEST_FINGERPRINT_KEY),
        },
        backend: "sqlite",
        _folder: Some(folder),
        postgres: None,
    }
}

/// A fresh PostgreSQL database on the server at `TEST_DATABASE_URL`, or `None` when it is unset.
pub async fn postgres() -> Option<TestDatabase> {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "ayushman_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    let admin = Database::connect(&admin_url)
        .await
        .expect("TEST_DATABASE_URL answers");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    let url =
        crate::db::url_of_database(&admin_url, &name).expect("TEST_DATABASE_URL ends in /database");
    Some(TestDatabase {
        settings: DatabaseSettings {
            url: Some(SecretString::from(url)),
            data_dir: std::env::temp_dir(),
            max_connections: 5,
            fingerprint_key: SecretString::from(TEST_FINGERPRINT_KEY),
        },
        backend: "postgres",
        _folder: None,
        postgres: Some((admin_url, name)),
    })
}

/// Every backend available to this run: SQLite always, PostgreSQL when configured.
pub async fn all_databases() -> Vec<TestDatabase> {
    let mut databases = vec![sqlite()];
    databases.extend(postgres().await);
    databases
}

/// Telemetry settings for tests: silent unless `TEST_LOG=1`.
pub fn test_telemetry() -> TelemetrySettings {
    let verbose = std::env::var("TEST_LOG").is_ok_and(|v| v == "1");
    TelemetrySettings {
        log_format: LogFormat::Pretty,
        log_filter: if verbose {
            "debug,h2=info,hyper=info,tower=info".into()
        } else {
            "off".into()
        },
        otlp_endpoint: None,
    }
}

/// Server settings for an in-process test server: loopback, port 0, small limits.
pub fn server_settings() -> crate::config::ServerSettings {
    crate::config::ServerSettings {
        host: std::net::IpAddr::from([127, 0, 0, 1]),
        port: 0,
        admin_port: 0,
        max_message_bytes: 4 * 1024 * 1024,
        concurrency_limit: 256,
        request_timeout_ms: 10_000,
        shutdown_grace_secs: 5,
        partner_identity_key: secrecy::SecretString::from(crate::caller::DEVELOPMENT_IDENTITY_KEY),
        tls: None,
    }
}

/// A service served in-process on loopback for one test.
pub struct RunningServer {
    /// Where gRPC is served.
    pub addr: std::net::SocketAddr,
    /// Where metrics are served.
    pub admin_addr: std::net::SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), crate::server::ServeError>>,
}

impl RunningServer {
    /// `http://127.0.0.1:<port>`, for channels.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Asks the server to shut down and waits until it has drained.
    pub async fn stop(&mut self) -> Result<(), crate::server::ServeError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await.expect("server task does not panic")
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `app` as `service` on a port the OS picks; returns once bound.
pub async fn spawn(
    service: crate::MeshService,
    app: impl Into<crate::server::App>,
) -> RunningServer {
    spawn_with(service, app, server_settings()).await
}

/// Like [`spawn`], with server settings of the test's own (e.g. a small
/// concurrency limit); the port is always one the OS picks.
pub async fn spawn_with(
    service: crate::MeshService,
    app: impl Into<crate::server::App>,
    settings: crate::config::ServerSettings,
) -> RunningServer {
    let app = app.into();
    let settings = crate::config::ServerSettings {
        port: 0,
        admin_port: 0,
        ..settings
    };
    let listeners = crate::server::Listeners::bind(&settings)
        .await
        .expect("bind loopback port 0");
    let addr = listeners.grpc_addr().expect("bound address");
    let admin_addr = listeners.admin_addr().expect("bound address");
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = shutdown_rx.await;
        };
        crate::server::serve(service, &settings, app, listeners, shutdown).await
    });
    RunningServer {
        addr,
        admin_addr,
        shutdown: Some(shutdown_tx),
        task,
    }
}

/// A fresh database of `backend`: "postgres" (needs `TEST_DATABASE_URL`) or SQLite.
pub async fn database(backend: &str) -> TestDatabase {
    match backend {
        "postgres" => postgres()
            .await
            .expect("TEST_DATABASE_URL is set for the postgres backend"),
        _ => sqlite(),
    }
}

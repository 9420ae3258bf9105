//! Layered, typed, validated configuration (DESIGN §5).
//!
//! Layers, later winning: built-in defaults -> optional `config/<service>.toml`
//! -> environment `AYUSHMAN__SECTION__KEY` (plus the conventional `DATABASE_URL`
//! and `OTEL_EXPORTER_OTLP_ENDPOINT`). This module is the only code that reads
//! the process environment; tests hand [`ConfigSource::from_map`] a map instead.

use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
    path::PathBuf,
    time::Duration,
};

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use serde::{Deserialize, de::DeserializeOwned};

use crate::mesh::MeshService;

/// Why configuration could not be loaded; its `Display` is the one line printed
/// before the process exits with status 64.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type.
    #[error("invalid configuration: {0}")]
    Source(#[from] config::ConfigError),
    /// A value has the right type but is not acceptable.
    #[error("invalid configuration: {key}: {reason}")]
    Invalid {
        /// Dotted key, e.g. `server.concurrency_limit`.
        key: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
}

impl ConfigError {
    /// A value that failed validation.
    pub fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Where configuration comes from: environment variables and a config folder.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    env: HashMap<String, String>,
    config_dir: PathBuf,
}

impl ConfigSource {
    /// The process environment and `./config` (or `AYUSHMAN_CONFIG_DIR`).
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let config_dir = env
            .get("AYUSHMAN_CONFIG_DIR")
            .map_or_else(|| PathBuf::from("config"), PathBuf::from);
        Self { env, config_dir }
    }

    /// An explicit environment and config folder (tests, tools).
    pub fn from_map(env: HashMap<String, String>, config_dir: impl Into<PathBuf>) -> Self {
        Self {
            env,
            config_dir: config_dir.into(),
        }
    }

    /// The raw environment, for handing on to child processes (`ayushctl up`).
    pub fn env(&self) -> &HashMap<String, String> {
        &self.env
    }
}

/// Checks values that deserialised but may still be unacceptable.
pub trait Validate {
    /// `Err` names the first bad key.
    fn validate(&self) -> Result<(), ConfigError>;

    /// Checks that depend on where the service runs; by default, [`Validate::validate`].
    fn validate_for(&self, env: Deployment) -> Result<(), ConfigError> {
        let _ = env;
        self.validate()
    }
}

impl Validate for () {
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// Where a service runs. Outside development nothing falls back to a
/// stand-in: a setting that would (an offline e-KYC provider) must be chosen
/// explicitly or the service does not start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Deployment {
    /// A laptop, `make run`, the tests: stand-ins allowed and warned about.
    Development,
    /// Anywhere else (the default).
    #[default]
    Production,
}

/// Which implementation of an outside service (e-KYC, ABDM's registries) a
/// service uses: the real one over HTTP, or an offline stand-in for demos
/// and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Http,
    Offline,
}

/// The provider configured at `key`. Unset is the offline stand-in in
/// development and a refusal to start anywhere else: nothing outside a
/// laptop may card people or register hospitals against a stand-in by
/// default.
pub fn choose_provider(
    key: &str,
    chosen: Option<Provider>,
    env: Deployment,
) -> Result<Provider, ConfigError> {
    match (chosen, env) {
        (Some(provider), _) => Ok(provider),
        (None, Deployment::Development) => Ok(Provider::Offline),
        (None, Deployment::Production) => Err(ConfigError::invalid(
            key,
            "is required outside development: \"http\" for the real service, or \"offline\" \
             for the stand-in (AYUSHMAN__ENV=development chooses offline for you)",
        )),
    }
}

/// A service's configuration: the platform sections plus its own `[service]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings<S = ()> {
    /// Where it runs (`AYUSHMAN__ENV=development` on a laptop).
    #[serde(default)]
    pub env: Deployment,
    /// The gRPC and admin listeners and their limits.
    pub server: ServerSettings,
    /// Where the service's own database is.
    pub database: DatabaseSettings,
    /// Logs and trace export.
    pub telemetry: TelemetrySettings,
    /// Deadlines and retries of outgoing calls.
    pub client: ClientSettings,
    /// Addresses of the services this one calls, by config key.
    #[serde(default)]
    pub peers: BTreeMap<String, PeerSettings>,
    /// Settings of this service alone.
    #[serde(default)]
    pub service: S,
}

/// Listeners and limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to bind, e.g. `0.0.0.0` in a container, `127.0.0.1` locally.
    pub host: IpAddr,
    /// gRPC port; 0 picks a free one (tests).
    pub port: u16,
    /// Prometheus metrics port; 0 picks a free one.
    pub admin_port: u16,
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// Requests handled at once; more are refused with UNAVAILABLE (load shedding).
    pub concurrency_limit: usize,
    /// Longest a request may run when the caller sets no deadline, in
    /// milliseconds; a caller's own deadline (grpc-timeout) may be longer.
    pub request_timeout_ms: u64,
    /// How long in-flight requests get to finish after SIGTERM, in seconds.
    pub shutdown_grace_secs: u64,
    /// Secret shared by the gateway and the services: the gateway signs partner
    /// identity with it, services accept partner identity only when so signed.
    pub partner_identity_key: SecretString,
    /// TLS on the gRPC port (the gateway's, facing partners); unset serves
    /// plaintext (inside the cluster, behind the network policies).
    #[serde(default)]
    pub tls: Option<TlsSettings>,
}

/// The certificate a server presents, and whose client certificates it asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain presented to callers.
    pub cert_path: PathBuf,
    /// PEM private key of that certificate.
    pub key_path: PathBuf,
    /// PEM CA certificates: when set, callers may present a client certificate
    /// signed by one of them (mutual TLS); callers without one are still served.
    pub client_ca_path: Option<PathBuf>,
}

impl ServerSettings {
    /// Whether the built-in development identity key is in use.
    pub fn uses_development_identity_key(&self) -> bool {
        use secrecy::ExposeSecret;
        self.partner_identity_key.expose_secret() == crate::caller::DEVELOPMENT_IDENTITY_KEY
    }

    /// `request_timeout_ms` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `shutdown_grace_secs` as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// The service's own database (DESIGN §5: database per service).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://...` or `sqlite://...`; unset means a SQLite file in `data_dir`.
    pub url: Option<SecretString>,
    /// Folder for the default SQLite file `<service>.db`.
    pub data_dir: PathBuf,
    /// Most pooled connections.
    pub max_connections: u32,
    /// Secret key of the request fingerprints kept with idempotency keys: what
    /// is stored of a request is an HMAC under it, never a plain hash.
    pub fingerprint_key: SecretString,
}

impl DatabaseSettings {
    /// Whether the built-in development fingerprint key is in use.
    pub fn uses_development_fingerprint_key(&self) -> bool {
        use secrecy::ExposeSecret;
        self.fingerprint_key.expose_secret() == crate::db::idempotency::DEVELOPMENT_FINGERPRINT_KEY
    }

    /// The idempotency keying of this database's service.
    pub fn idempotency(&self) -> crate::db::idempotency::Idempotency {
        crate::db::idempotency::Idempotency::new(self.fingerprint_key.clone())
    }
}

/// Log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logs and traces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `pretty` or `json`.
    pub log_format: LogFormat,
    /// `tracing` EnvFilter directives, e.g. `info,sqlx=warn`.
    pub log_filter: String,
    /// OTLP/gRPC endpoint for traces, e.g. `http://otel-collector:4317`; unset disables export.
    pub otlp_endpoint: Option<String>,
}

/// Outgoing calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// Deadline of each outgoing call, in milliseconds.
    pub deadline_ms: u64,
    /// Time to establish a connection, in milliseconds.
    pub connect_timeout_ms: u64,
}

impl ClientSettings {
    /// `deadline_ms` as a duration.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// `connect_timeout_ms` as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
}

/// A peer service's address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSettings {
    /// e.g. `http://127.0.0.1:50052` or `http://facility-registry:50052` in Kubernetes.
    pub url: String,
}

impl<S> Settings<S> {
    /// The configured address of a peer this service calls.
    pub fn peer_url(&self, peer: MeshService) -> Option<&str> {
        self.peers.get(peer.config_key()).map(|p| p.url.as_str())
    }
}

impl<S: Validate> Validate for Settings<S> {
    fn validate(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if !(1024..=64 * 1024 * 1024).contains(&server.max_message_bytes) {
            return Err(ConfigError::invalid(
                "server.max_message_bytes",
                "must be between 1024 and 67108864 bytes",
            ));
        }
        if server.concurrency_limit == 0 {
            return Err(ConfigError::invalid(
                "server.concurrency_limit",
                "must be at least 1",
            ));
        }
        if server.request_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "server.request_timeout_ms",
                "must be at least 1",
            ));
        }
        if secrecy::ExposeSecret::expose_secret(&server.partner_identity_key).len() < 16 {
            return Err(ConfigError::invalid(
                "server.partner_identity_key",
                "must be at least 16 characters",
            ));
        }
        if secrecy::ExposeSecret::expose_secret(&self.database.fingerprint_key).len() < 16 {
            return Err(ConfigError::invalid(
                "database.fingerprint_key",
                "must be at least 16 characters",
            ));
        }
        if let Some(tls) = &server.tls {
            for (key, path) in [
                ("server.tls.cert_path", Some(&tls.cert_path)),
                ("server.tls.key_path", Some(&tls.key_path)),
                ("server.tls.client_ca_path", tls.client_ca_path.as_ref()),
            ] {
                if let Some(path) = path
                    && !path.is_file()
                {
                    return Err(ConfigError::invalid(
                        key,
                        format!("{} is not a readable file", path.display()),
                    ));
                }
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::invalid(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        if let Some(url) = &self.database.url {
            use secrecy::ExposeSecret;
            let url = url.expose_secret();
            if !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
            {
                return Err(ConfigError::invalid(
                    "database.url",
                    "must start with postgres://, postgresql:// or sqlite:",
                ));
            }
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&self.telemetry.log_filter) {
            return Err(ConfigError::invalid(
                "telemetry.log_filter",
                error.to_string(),
            ));
        }
        for (key, peer) in &self.peers {
            if peer
                .url
                .parse::<http::Uri>()
                .map_or(true, |uri| uri.scheme().is_none())
            {
                return Err(ConfigError::invalid(
                    format!("peers.{key}.url"),
                    format!("{:?} is not a URL like http://host:port", peer.url),
                ));
            }
        }
        if self.client.deadline_ms == 0 {
            return Err(ConfigError::invalid(
                "client.deadline_ms",
                "must be at least 1",
            ));
        }
        self.service.validate_for(self.env)
    }
}

/// Loads and validates a service's settings from all layers.
pub fn load<S>(service: MeshService, source: &ConfigSource) -> Result<Settings<S>, ConfigError>
where
    S: DeserializeOwned + Default + Validate,
{
    let mut builder = Config::builder()
        .set_default("server.host", "127.0.0.1")?
        .set_default("server.port", service.default_port())?
        .set_default("server.admin_port", service.default_admin_port())?
        .set_default("server.max_message_bytes", 4 * 1024 * 1024)?
        .set_default("server.concurrency_limit", 256)?
        .set_default("server.request_timeout_ms", 30_000)?
        .set_default("server.shutdown_grace_secs", 20)?
        .set_default(
            "server.partner_identity_key",
            crate::caller::DEVELOPMENT_IDENTITY_KEY,
        )?
        .set_default("database.data_dir", "data")?
        .set_default("database.max_connections", 10)?
        .set_default(
            "database.fingerprint_key",
            crate::db::idempotency::DEVELOPMENT_FINGERPRINT_KEY,
        )?
        .set_default("telemetry.log_format", "pretty")?
        .set_default(
            "telemetry.log_filter",
            "info,sqlx=warn,sea_orm=warn,h2=warn",
        )?
        .set_default("client.deadline_ms", 5_000)?
        .set_default("client.connect_timeout_ms", 2_000)?;
    for peer in service.calls() {
        builder = builder.set_default(
            format!("peers.{}.url", peer.config_key()),
            format!("http://127.0.0.1:{}", peer.default_port()),
        )?;
    }
    let file = source.config_dir.join(format!("{}.toml", service.name()));
    builder = builder
        .add_source(File::from(file).format(FileFormat::Toml).required(false))
        .add_source(
            Environment::with_prefix("AYUSHMAN")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(source.env.clone())),
        )
        .set_override_option("database.url", source.env.get("DATABASE_URL").cloned())?
        .set_override_option(
            "telemetry.otlp_endpoint",
            source.env.get("OTEL_EXPORTER_OTLP_ENDPOINT").cloned(),
        )?;
    let settings: Settings<S> = builder.build()?.try_deserialize()?;
    settings.validate()?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> ConfigSource {
        let env = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ConfigSource::from_map(env, "/nonexistent")
    }

    fn load_preauth(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        load(MeshService::Preauth, &source(pairs))
    }

    #[test]
    fn defaults_give_the_service_its_own_port_and_its_peers() {
        let settings = load_preauth(&[]).expect("defaults are valid");
        assert_eq!(settings.server.port, 50053);
        assert_eq!(settings.server.admin_port, 51053);
        assert_eq!(
            settings.peer_url(MeshService::FacilityRegistry),
            Some("http://127.0.0.1:50052")
        );
        assert_eq!(settings.peer_url(MeshService::Claims), None);
        assert!(settings.database.url.is_none());
    }

    #[test]
    fn an_environment_override_wins_over_defaults_and_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("preauth.toml"),
            "[server]\nport = 6000\nconcurrency_limit = 9\n",
        )
        .expect("write file");
        let env = HashMap::from([("AYUSHMAN__SERVER__PORT".to_owned(), "7000".to_owned())]);
        let settings: Settings = load(
            MeshService::Preauth,
            &ConfigSource::from_map(env, dir.path()),
        )
        .expect("valid");
        assert_eq!(settings.server.port, 7000);
        assert_eq!(settings.server.concurrency_limit, 9);
    }

    #[test]
    fn conventional_variables_set_the_database_and_trace_endpoint() {
        let settings = load_preauth(&[
            ("DATABASE_URL", "postgres://localhost/preauth"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ])
        .expect("valid");
        use secrecy::ExposeSecret;
        assert_eq!(
            settings
                .database
                .url
                .as_ref()
                .map(|u| u.expose_secret().to_owned()),
            Some("postgres://localhost/preauth".to_owned())
        );
        assert_eq!(
            settings.telemetry.otlp_endpoint.as_deref(),
            Some("http://collector:4317")
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_fails_naming_the_key() {
        let error = load_preauth(&[("AYUSHMAN__SERVER__PORT", "fifty")])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("invalid configuration: "), "{error}");
        assert!(error.contains("server.port"), "{error}");
    }

    #[test]
    fn an_unacceptable_value_fails_naming_the_key() {
        let error = load_preauth(&[("AYUSHMAN__SERVER__CONCURRENCY_LIMIT", "0")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid configuration: server.concurrency_limit: must be at least 1"
        );
        let error =
            load_preauth(&[("AYUSHMAN__PEERS__FACILITY_REGISTRY__URL", "nowhere")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid configuration: peers.facility_registry.url: \"nowhere\" is not a URL like http://host:port"
        );
    }

    #[test]
    fn a_misspelt_key_is_refused_rather_than_ignored() {
        let error = load_preauth(&[("AYUSHMAN__SERVER__PROT", "1")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("prot"), "{error}");
    }
}

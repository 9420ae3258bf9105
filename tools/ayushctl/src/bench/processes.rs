//! The processes under test: service binaries (and the bare tonic baseline)
//! started as children on loopback, each with its own data, and their memory.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context, bail};
use ayushman_platform::MeshService;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// A service binary running for a benchmark, killed on drop.
pub struct Service {
    pub service: MeshService,
    pub port: u16,
    child: Child,
}

impl Service {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Resident and peak resident memory now, in KiB (`VmRSS`, `VmHWM`).
    pub fn memory(&self) -> (u64, u64) {
        self.child.id().map_or((0, 0), memory_of)
    }

    /// Its name and process id, for CPU accounting (0 once it has exited).
    pub fn process(&self) -> (String, u32) {
        (self.service.name().to_owned(), self.child.id().unwrap_or(0))
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
pub fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Where the service binaries are: next to ayushctl (`target/release`).
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .context("ayushctl has no folder")?
        .to_owned())
}

/// Starts `service` with its data in `data_dir` (or `database_url`) and its
/// peers at `peers` on a port the OS picks; returns once it reports SERVING.
pub async fn start(
    service: MeshService,
    data_dir: &Path,
    database_url: Option<&str>,
    peers: &[&Service],
) -> anyhow::Result<Service> {
    let binary = bin_dir()?.join(service.name());
    if !binary.is_file() {
        bail!(
            "{} is missing: build with `cargo build --release --workspace` (make bench does)",
            binary.display()
        );
    }
    let mut command = Command::new(&binary);
    command
        .env_clear()
        .env("AYUSHMAN__SERVER__PORT", "0")
        .env("AYUSHMAN__SERVER__ADMIN_PORT", "0")
        .env("AYUSHMAN__SERVER__CONCURRENCY_LIMIT", "4096")
        .env("AYUSHMAN__DATABASE__DATA_DIR", data_dir)
        .env("AYUSHMAN__DATABASE__MAX_CONNECTIONS", "16")
        .env("AYUSHMAN__TELEMETRY__LOG_FORMAT", "json")
        // Only the line announcing the address, and problems.
        .env(
            "AYUSHMAN__TELEMETRY__LOG_FILTER",
            "warn,ayushman_platform::server=info",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    // The benchmark measures the mesh, not e-KYC or ABDM: their stand-ins.
    for provider in service.outside_providers() {
        command.env(provider, "offline");
    }
    for peer in peers {
        command.env(
            format!(
                "AYUSHMAN__PEERS__{}__URL",
                peer.service.config_key().to_uppercase()
            ),
            peer.url(),
        );
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("start {}", binary.display()))?;
    let mut lines = BufReader::new(child.stdout.take().context("piped stdout")?).lines();
    let port = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await? {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if event["message"] == "serving gRPC" {
                let addr = event["grpc_addr"].as_str().unwrap_or_default();
                return addr
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .context("no port in the serving line");
            }
        }
        bail!("{service} exited while starting")
    })
    .await
    .with_context(|| format!("{service} did not report SERVING within 120 s"))??;
    // Keep draining its output so a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Service {
        service,
        port,
        child,
    })
}

/// The bare tonic baseline server, a child process of its own.
pub struct Echo {
    pub port: u16,
    child: Child,
}

impl Echo {
    /// Starts `ayushctl bench-echo` and reads the port it announces.
    pub async fn start() -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("bench-echo")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("start the echo server")?;
        let stdout = child.stdout.take().context("echo stdout")?;
        let line = tokio::time::timeout(
            Duration::from_secs(10),
            BufReader::new(stdout).lines().next_line(),
        )
        .await
        .context("echo server did not start")??
        .context("echo server printed nothing")?;
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim().parse().ok())
            .with_context(|| format!("no port in {line:?}"))?;
        Ok(Self { port, child })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Resident and peak resident memory, in KiB.
    pub fn memory(&self) -> (u64, u64) {
        self.child.id().map_or((0, 0), memory_of)
    }
}

/// The baseline's server: tonic with the health service only, no middleware.
pub async fn serve_echo() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("echo listening on {}", listener.local_addr()?);
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    tonic::transport::Server::builder()
        .add_service(health)
        // As `Server::serve` would: TCP_NODELAY on every connection.
        .serve_with_incoming(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
        )
        .await?;
    Ok(())
}

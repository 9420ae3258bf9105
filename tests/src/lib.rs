//! Test support shared by every test in this crate: typed helpers to start the
//! real service binaries, reach them over gRPC, and run the real grpcurl.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use ayushman_platform::MeshService;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The folder cargo put this test's binaries in (`target/debug`).
fn target_dir() -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> -> target/debug
    test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_owned()
}

/// The path of a service binary built by `cargo build --workspace`.
pub fn service_binary(service: MeshService) -> PathBuf {
    let path = target_dir().join(service.name());
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        path.display()
    );
    path
}

/// The grpcurl installed by `make tools` into `.tools/bin`.
pub fn grpcurl() -> PathBuf {
    let path = workspace_root().join(".tools/bin/grpcurl");
    assert!(
        path.exists(),
        "{} is missing: run `make tools` (make test does)",
        path.display()
    );
    path
}

/// A service binary running as a child process on loopback, killed on drop.
pub struct ServiceProcess {
    /// Which service it is.
    pub service: MeshService,
    /// Where it serves gRPC.
    pub addr: SocketAddr,
    /// Where it serves metrics.
    pub admin_addr: SocketAddr,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// The temporary data folder it owns, removed when it is dropped.
    owned_data: Option<tempfile::TempDir>,
}

/// Appends every line of `stream` to `log` until it closes.
fn collect_lines(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            log.lock().expect("log lock").push(line);
        }
    });
}

impl ServiceProcess {
    /// Starts `service` on ports the OS picks, with its own SQLite data folder
    /// (or `database_url`), and waits until it logs that it is serving.
    pub async fn start(service: MeshService, database_url: Option<&str>) -> Self {
        Self::start_with_log_filter(service, database_url, "info").await
    }

    /// Like [`ServiceProcess::start`], logging at `log_filter` (e.g. "debug").
    pub async fn start_with_log_filter(
        service: MeshService,
        database_url: Option<&str>,
        log_filter: &str,
    ) -> Self {
        let data = tempfile::Builder::new()
            .prefix(&format!("ayushman-{}-", service.name()))
            .tempdir()
            .expect("temporary data folder");
        let mut process = Self::launch(service, data.path(), database_url, log_filter, &[]).await;
        process.owned_data = Some(data);
        process
    }

    /// Starts `service` keeping its SQLite file in `data_dir` (which outlives
    /// the process, so a test can start it again on the same data), with
    /// extra `env` such as `AYUSHMAN__SERVICE__...` settings or peer addresses.
    pub async fn start_in(
        service: MeshService,
        data_dir: &Path,
        database_url: Option<&str>,
        env: &[(&str, &str)],
    ) -> Self {
        Self::launch(service, data_dir, database_url, "info", env).await
    }

    async fn launch(
        service: MeshService,
        data_dir: &Path,
        database_url: Option<&str>,
        log_filter: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let mut command = Command::new(service_binary(service));
        command
            .env_clear()
            .env("AYUSHMAN__SERVER__PORT", "0")
            .env("AYUSHMAN__SERVER__ADMIN_PORT", "0")
            .env("AYUSHMAN__DATABASE__DATA_DIR", data_dir)
            .env("AYUSHMAN__TELEMETRY__LOG_FORMAT", "json")
            .env("AYUSHMAN__TELEMETRY__LOG_FILTER", log_filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = database_url {
            command.env("DATABASE_URL", url);
        }
        if service == MeshService::Gateway {
            command.env("AYUSHMAN__SERVICE__BOOTSTRAP_ADMIN_KEY", gateway::ADMIN_KEY);
        }
        // The tests choose the offline stand-ins of e-KYC and ABDM explicitly.
        for provider in service.outside_providers() {
            command.env(provider, "offline");
        }
        // The test's own settings last: they win over the defaults above.
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("service binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        collect_lines(child.stderr.take().expect("piped stderr"), log.clone());
        collect_lines(child.stdout.take().expect("piped stdout"), log.clone());
        let serving = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let announced = log.lock().expect("log lock").iter().find_map(|line| {
                    let event = serde_json::from_str::<serde_json::Value>(line).ok()?;
                    (event["message"] == "serving gRPC").then(|| {
                        let addr = |key: &str| {
                            event[key]
                                .as_str()
                                .and_then(|a| a.parse().ok())
                                .expect("address in log")
                        };
                        (addr("grpc_addr"), addr("admin_addr"))
                    })
                });
                if let Some(addresses) = announced {
                    return addresses;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{} exited ({status}) before serving: {:?}",
                        service.name(),
                        log.lock().expect("log lock")
                    );
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{} did not start serving within 60 s", service.name()));
        Self {
            service,
            addr: serving.0,
            admin_addr: serving.1,
            child,
            log,
            owned_data: None,
        }
    }

    /// SIGKILL: the process dies at once, as in a crash or an OOM kill.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("kill the service");
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything the process printed so far, stdout and stderr, line by line.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("service stops within 30 s of SIGTERM")
            .expect("wait for service");
        status.code()
    }
}

/// A plain channel to `url`, connected now.
pub async fn connect(url: &str) -> Channel {
    Channel::from_shared(url.to_owned())
        .expect("valid url")
        .connect()
        .await
        .expect("connect to service")
}

/// The health status a server reports for `service_name` ("" for the server as a whole).
pub async fn health_of(channel: Channel, service_name: &str) -> ServingStatus {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service_name.to_owned(),
        })
        .await
        .expect("health check answers");
    response.into_inner().status()
}

/// The service names a server lists over reflection v1.
pub async fn reflected_services(channel: Channel) -> Vec<String> {
    reflected_services_as(channel, None).await
}

/// Like [`reflected_services`], sending `api_key` (the gateway wants one).
pub async fn reflected_services_as(channel: Channel, api_key: Option<&str>) -> Vec<String> {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut call = tonic::Request::new(tokio_stream::iter([request]));
    if let Some(key) = api_key {
        call.metadata_mut().insert(
            "authorization",
            format!("Bearer {key}").parse().expect("ascii key"),
        );
    }
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(call)
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("reflection stream")
        .expect("one response");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            names.sort();
            names
        }
        other => panic!("unexpected reflection response {other:?}"),
    }
}

/// Every file a server describes over reflection v1 (each listed service's
/// file and its dependencies), sending `api_key` when given.
pub async fn reflected_files(
    channel: Channel,
    api_key: Option<&str>,
) -> Vec<prost_types::FileDescriptorProto> {
    use prost::Message;
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let services = reflected_services_as(channel.clone(), api_key).await;
    let requests: Vec<ServerReflectionRequest> = services
        .iter()
        .map(|service| ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(service.clone())),
        })
        .collect();
    let mut call = tonic::Request::new(tokio_stream::iter(requests));
    if let Some(key) = api_key {
        call.metadata_mut().insert(
            "authorization",
            format!("Bearer {key}").parse().expect("ascii key"),
        );
    }
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(call)
        .await
        .expect("reflection answers")
        .into_inner();
    let mut files: Vec<prost_types::FileDescriptorProto> = Vec::new();
    while let Some(response) = responses.message().await.expect("reflection stream") {
        if let Some(MessageResponse::FileDescriptorResponse(found)) = response.message_response {
            for bytes in found.file_descriptor_proto {
                let file = prost_types::FileDescriptorProto::decode(bytes.as_slice())
                    .expect("file descriptor");
                if !files.iter().any(|f| f.name == file.name) {
                    files.push(file);
                }
            }
        }
    }
    files
}

/// The leading comment of every service, method, message, field and enum
/// the files describe, by fully qualified name (`pkg.Service.Method`).
pub fn leading_comments(
    files: &[prost_types::FileDescriptorProto],
) -> std::collections::BTreeMap<String, String> {
    use prost_types::DescriptorProto;
    fn messages(
        out: &mut Vec<(Vec<i32>, String)>,
        prefix: &str,
        path: Vec<i32>,
        message: &DescriptorProto,
    ) {
        let name = format!("{prefix}.{}", message.name());
        for (i, field) in message.field.iter().enumerate() {
            let mut at = path.clone();
            at.extend([2, i as i32]);
            out.push((at, format!("{name}.{}", field.name())));
        }
        for (i, nested) in message.nested_type.iter().enumerate() {
            let mut at = path.clone();
            at.extend([3, i as i32]);
            messages(out, &name, at, nested);
        }
        out.push((path, name));
    }
    let mut comments = std::collections::BTreeMap::new();
    for file in files {
        let package = file.package();
        let mut elements: Vec<(Vec<i32>, String)> = Vec::new();
        for (s, service) in file.service.iter().enumerate() {
            let name = format!("{package}.{}", service.name());
            for (m, method) in service.method.iter().enumerate() {
                elements.push((
                    vec![6, s as i32, 2, m as i32],
                    format!("{name}.{}", method.name()),
                ));
            }
            elements.push((vec![6, s as i32], name));
        }
        for (i, message) in file.message_type.iter().enumerate() {
            messages(&mut elements, package, vec![4, i as i32], message);
        }
        for (i, enumeration) in file.enum_type.iter().enumerate() {
            elements.push((
                vec![5, i as i32],
                format!("{package}.{}", enumeration.name()),
            ));
        }
        let located: std::collections::HashMap<&[i32], &str> = file
            .source_code_info
            .iter()
            .flat_map(|info| &info.location)
            .filter_map(|l| Some((l.path.as_slice(), l.leading_comments.as_deref()?)))
            .collect();
        for (path, name) in elements {
            if let Some(comment) = located.get(path.as_slice()) {
                comments.insert(name, (*comment).to_owned());
            }
        }
    }
    comments
}

/// Fetches `http://<addr><path>` with a bare HTTP/1.0 request; returns the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect admin port");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .expect("send request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read response");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// The field names of the `google.rpc.BadRequest` violations in an INVALID_ARGUMENT status.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Records one figure of the reliability suite (what was tried, which faults
/// were injected, what was lost) under `target/reliability/`; `make soak`
/// gathers them into docs/RELIABILITY.md.
pub fn record_figure(name: &str, tried: &str, faults: &str, lost: &str) {
    let folder = workspace_root().join("target/reliability");
    let written = std::fs::create_dir_all(&folder).and_then(|()| {
        std::fs::write(
            folder.join(format!("{name}.md")),
            format!("| {name} | {tried} | {faults} | {lost} |\n"),
        )
    });
    if let Err(error) = written {
        eprintln!("figure {name} not recorded: {error}");
    }
}

pub mod beneficiary;
pub mod cases;
pub mod dump;
pub mod facility;
pub mod gateway;
pub mod http;
pub mod nhcx;
pub mod oidc;
pub mod outside;
pub mod portability;
pub mod preauth;
pub mod proxy;
pub mod tls;

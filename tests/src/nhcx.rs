//! A hospital on the exchange, played by `tools/nhcx/hospital.py` (jwcrypto
//! and fhir.resources, installed into `.tools` by `make tools`), in front of
//! the NHCX service in-process and the preauth flow's services behind it.

use std::{process::Stdio, sync::Arc, time::Duration};

use ayushman_platform::{
    MeshService, caller::IdentityKey, client, config::ClientSettings, db, testing,
};
use ayushman_proto::nhcx::v1::{self as pb, nhcx_service_client::NhcxServiceClient};
use secrecy::SecretString;
use serde_json::Value;
use tonic::transport::Channel;

use crate::{
    preauth::{self, Flow},
    workspace_root,
};

/// The mesh's participant code in these tests.
pub const MESH_CODE: &str = "ayushman-mesh@hcx";
/// The Bastar district hospital's participant code.
pub const HOSPITAL_CODE: &str = "bastar-dh@hcx";
/// Its HFR id (the flow's Bastar district hospital).
pub const HOSPITAL_HFR: &str = "IN2210000001";

/// The hospital, the exchange service and the mesh behind it.
pub struct Exchange {
    /// The mesh's services, for the reviewers' side of each story.
    pub flow: Flow,
    /// The NHCX service's registry API.
    pub registry: NhcxServiceClient<Channel>,
    /// Where the NHCX service listens (gRPC and HTTP).
    pub url: String,
    /// The service's context, to run its background passes from a test.
    pub context: nhcx::Context,
    server: testing::RunningServer,
    _database: testing::TestDatabase,
    dir: tempfile::TempDir,
    receiver: tokio::process::Child,
}

/// What the hospital's endpoint received: one callback of the mesh.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The path called, e.g. `/v0.7/preauth/on_submit`.
    pub path: String,
    /// The protected header, decrypted.
    pub headers: Value,
    /// The FHIR bundle, decrypted.
    pub bundle: Value,
    /// Whether fhir.resources validated the bundle.
    pub valid: bool,
    /// Whether the bearer token verified with the mesh's public key.
    pub token_ok: bool,
    /// Why not, when either is false.
    pub error: String,
}

impl Callback {
    /// The first resource of the bundle (the answer itself).
    pub fn resource(&self) -> &Value {
        &self.bundle["entry"][0]["resource"]
    }

    /// A protocol header, e.g. `x-hcx-status`.
    pub fn header(&self, name: &str) -> &str {
        self.headers[name].as_str().unwrap_or_default()
    }
}

/// The answer of the mesh's endpoint to one message.
#[derive(Debug, Clone)]
pub struct Sent {
    /// HTTP status.
    pub status: u16,
    /// The body: the acknowledgement, or the error.
    pub body: Value,
    /// The message's api_call_id.
    pub api_call_id: String,
    /// Its correlation_id.
    pub correlation_id: String,
}

impl Sent {
    /// The protocol's error code of a refusal.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

fn python_path() -> String {
    let tools = workspace_root().join(".tools");
    assert!(
        tools.join("python-fhir/fhir/resources").exists() && tools.join("python/jwcrypto").exists(),
        "fhir.resources or jwcrypto is missing from {}: run `make tools` (make test does)",
        tools.display()
    );
    format!(
        "{}:{}",
        tools.join("python-fhir").display(),
        tools.join("python").display()
    )
}

fn hospital_py() -> tokio::process::Command {
    let mut command = tokio::process::Command::new("python3");
    command
        .arg(workspace_root().join("tools/nhcx/hospital.py"))
        .env("PYTHONPATH", python_path())
        .kill_on_drop(true);
    command
}

/// Settings that retry and follow quickly.
pub fn quick_settings() -> nhcx::config::NhcxSettings {
    nhcx::config::NhcxSettings {
        participant_code: MESH_CODE.into(),
        background_interval_ms: 50,
        retry_base_ms: 50,
        callback_timeout_ms: 3_000,
        ..Default::default()
    }
}

/// The preauth flow with everything, the NHCX service in front of it, and
/// the hospital's callback endpoint registered as participant [`HOSPITAL_CODE`];
/// the endpoint refuses its first `fail_first` callbacks. The service reaches
/// the beneficiary registry through the flow's `beneficiary_link`, which a
/// test may cut.
pub async fn spawn(backend: &str, fail_first: u32) -> Exchange {
    let flow = preauth::spawn(backend, preauth::quick_settings())
        .await
        .with_everything()
        .await;
    let database = testing::database(backend).await;
    let connection =
        db::connect_and_migrate::<nhcx::store::Migrator>(MeshService::Nhcx, &database.settings)
            .await
            .expect("migrate nhcx");
    let settings = quick_settings();
    let key = nhcx::protocol::EnvelopeKey::generate_pem().expect("mesh key");
    let keys = nhcx::keys::MeshKeys::from_pem(&key, MESH_CODE).expect("mesh keys");
    let channel = |url: String| {
        client::channel(
            &url,
            &ClientSettings {
                deadline_ms: 5_000,
                connect_timeout_ms: 500,
            },
        )
        .expect("channel")
    };
    let context = nhcx::Context {
        db: connection,
        idempotency: database.settings.idempotency(),
        peers: nhcx::peers::Peers::new(
            channel(flow.beneficiary_link.url()),
            channel(flow.servers[1].url()),
            channel(flow.servers[2].url()),
            IdentityKey::new(SecretString::from(
                ayushman_platform::caller::DEVELOPMENT_IDENTITY_KEY,
            )),
        ),
        keys,
        settings: Arc::new(settings),
        http: reqwest::Client::new(),
        max_message_bytes: 4 << 20,
    };
    nhcx::start_background(context.clone());
    let server = testing::spawn(MeshService::Nhcx, nhcx::app(context.clone())).await;
    let url = server.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let keygen = hospital_py()
        .args(["keygen", "--out"])
        .arg(dir.path())
        .status()
        .await
        .expect("keygen runs");
    assert!(keygen.success(), "hospital.py keygen failed");
    let port_file = dir.path().join("port");
    let receiver = hospital_py()
        .arg("receive")
        .arg("--key")
        .arg(dir.path().join("hospital-key.pem"))
        .args(["--mesh", &url, "--mesh-code", MESH_CODE, "--log"])
        .arg(dir.path().join("callbacks.jsonl"))
        .arg("--port-file")
        .arg(&port_file)
        .args(["--fail-first", &fail_first.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("receiver starts");
    let port = wait_for(|| {
        std::fs::read_to_string(&port_file)
            .ok()
            .filter(|p| !p.is_empty())
    })
    .await
    .expect("the receiver writes its port");
    let mut registry = NhcxServiceClient::new(crate::connect(&url).await);
    let certificate =
        std::fs::read_to_string(dir.path().join("hospital-public.pem")).expect("public key");
    registry
        .upsert_participant(pb::UpsertParticipantRequest {
            idempotency_key: "register-bastar".into(),
            participant: Some(pb::Participant {
                participant_code: HOSPITAL_CODE.into(),
                name: "Maharani District Hospital, Jagdalpur".into(),
                role: pb::ParticipantRole::Provider as i32,
                hfr_id: HOSPITAL_HFR.into(),
                endpoint_url: format!("http://127.0.0.1:{port}"),
                encryption_certificate: certificate,
                active: true,
                updated_at: None,
            }),
        })
        .await
        .expect("register the hospital");
    Exchange {
        flow,
        registry,
        url,
        context,
        server,
        _database: database,
        dir,
        receiver,
    }
}

async fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..200 {
        if let Some(found) = probe() {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

impl Exchange {
    /// Sends a `kind` message built from `args` as the hospital;
    /// `options` are extra `hospital.py send` flags (faults).
    pub async fn send(&self, kind: &str, args: Value, options: &[&str]) -> Sent {
        let output = hospital_py()
            .args(["send", kind, "--mesh", &self.url])
            .args(["--sender", HOSPITAL_CODE, "--recipient", MESH_CODE, "--key"])
            .arg(self.dir.path().join("hospital-key.pem"))
            .args(["--args", &args.to_string()])
            .args(options)
            .output()
            .await
            .expect("hospital.py send runs");
        assert!(
            output.status.success(),
            "hospital.py send failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let reply: Value = serde_json::from_slice(&output.stdout).expect("send prints JSON");
        Sent {
            status: u16::try_from(reply["status"].as_u64().unwrap_or(0)).unwrap_or(0),
            body: reply["body"].clone(),
            api_call_id: reply["api_call_id"].as_str().unwrap_or_default().to_owned(),
            correlation_id: reply["correlation_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Every callback received so far, in order.
    pub fn callbacks(&self) -> Vec<Callback> {
        let text =
            std::fs::read_to_string(self.dir.path().join("callbacks.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|record| Callback {
                path: record["path"].as_str().unwrap_or_default().to_owned(),
                headers: record["headers"].clone(),
                bundle: record["bundle"].clone(),
                valid: record["valid"].as_bool().unwrap_or(false),
                token_ok: record["token_ok"].as_bool().unwrap_or(false),
                error: format!(
                    "{} {}",
                    record["error"].as_str().unwrap_or_default(),
                    record["token_error"].as_str().unwrap_or_default()
                ),
            })
            .collect()
    }

    /// The first callback to `path` in the cycle `correlation_id` (any cycle
    /// when empty) that `test` accepts, waiting up to ten seconds for it.
    pub async fn callback(
        &self,
        path: &str,
        correlation_id: &str,
        test: impl Fn(&Callback) -> bool,
    ) -> Callback {
        let found = wait_for(|| {
            self.callbacks().into_iter().find(|c| {
                c.path == format!("/v0.7{path}")
                    && (correlation_id.is_empty()
                        || c.header("x-hcx-correlation_id") == correlation_id)
                    && test(c)
            })
        })
        .await;
        found.unwrap_or_else(|| {
            panic!(
                "no {path} callback for {correlation_id}; received: {:#?}",
                self.callbacks()
                    .iter()
                    .map(|c| (
                        c.path.clone(),
                        c.headers.clone(),
                        c.resource()["outcome"].clone()
                    ))
                    .collect::<Vec<_>>()
            )
        })
    }

    /// Every callback validated with fhir.resources and carried the mesh's token.
    pub fn assert_every_callback_valid(&self) {
        let callbacks = self.callbacks();
        assert!(!callbacks.is_empty(), "no callbacks received");
        for callback in callbacks {
            assert!(
                callback.valid && callback.token_ok,
                "{} was not valid: {}",
                callback.path,
                callback.error
            );
        }
    }

    /// The exchanges the service recorded, newest first.
    pub async fn exchanges(&mut self) -> Vec<pb::Exchange> {
        self.registry
            .list_exchanges(pb::ListExchangesRequest {
                page_size: 500,
                ..Default::default()
            })
            .await
            .expect("list exchanges")
            .into_inner()
            .exchanges
    }

    /// How many messages the service received (each stored once however
    /// often it was sent).
    pub async fn received(&mut self) -> usize {
        self.exchanges()
            .await
            .into_iter()
            .filter(|e| e.direction == pb::Direction::Inbound as i32)
            .count()
    }

    /// The outbound exchange of `action` once the mesh has recorded how its
    /// delivery ended: the hospital can take a callback a moment before the
    /// mesh writes down that it was taken.
    pub async fn settled(&mut self, action: &str) -> pb::Exchange {
        for _ in 0..200 {
            let found = self
                .exchanges()
                .await
                .into_iter()
                .find(|e| e.action == action);
            match found {
                Some(exchange) if exchange.status != "queued" => return exchange,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("the exchange of {action} was still queued after 10 s")
    }

    /// Every preauth in the mesh.
    pub async fn preauths(&mut self) -> Vec<ayushman_proto::preauth::v1::Preauth> {
        self.flow
            .client
            .list_preauths(ayushman_proto::preauth::v1::ListPreauthsRequest::default())
            .await
            .expect("list preauths")
            .into_inner()
            .preauths
    }

    /// Stops the hospital's endpoint and the service.
    pub async fn stop(mut self) {
        let _ = self.receiver.kill().await;
        self.server.stop().await.expect("the service stops");
    }
}

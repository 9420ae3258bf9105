//! An OpenID Connect provider for tests: keys and tokens made by jwcrypto
//! (`tools/jose/oidc.py`, installed into `.tools` by `make tools`), and its
//! JWKS served over real HTTP on loopback, as a state's single sign-on
//! publishes it.

use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::workspace_root;

/// The issuer the tests' provider signs as.
pub const ISSUER: &str = "https://sso.test.example/realms/sha";
/// The audience the gateway is registered under at the provider.
pub const AUDIENCE: &str = "ayushman-gateway";

/// A token to mint: which key signs it, with which algorithm, and its claims
/// (`exp_in`, `nbf_in`, `iat_in`: seconds from now).
pub struct TokenSpec {
    pub kid: &'static str,
    pub alg: &'static str,
    pub claims: Value,
}

impl TokenSpec {
    /// A token of `subject` for the gateway, valid for five minutes, signed
    /// with the RSA key.
    pub fn for_subject(subject: &str) -> Self {
        Self {
            kid: "rsa-1",
            alg: "RS256",
            claims: json!({
                "iss": ISSUER,
                "aud": AUDIENCE,
                "sub": subject,
                "iat_in": 0,
                "exp_in": 300,
            }),
        }
    }
}

/// What the provider published and signed.
pub struct Minted {
    /// The public keys (`{"keys": [...]}`): one RSA (`rsa-1`), one P-256 (`ec-1`).
    pub jwks: Value,
    /// The tokens, in the order asked for.
    pub tokens: Vec<String>,
}

/// Makes the provider's keys and signs `tokens` with them.
pub async fn mint(tokens: &[TokenSpec]) -> Minted {
    let python = workspace_root().join(".tools/python");
    assert!(
        python.join("jwcrypto").exists(),
        "jwcrypto is missing from {}: run `make tools` (make test does)",
        python.display()
    );
    let spec = json!({
        "keys": [{"kid": "rsa-1", "kty": "RSA"}, {"kid": "ec-1", "kty": "EC"}],
        "tokens": tokens
            .iter()
            .map(|t| json!({"kid": t.kid, "alg": t.alg, "claims": t.claims}))
            .collect::<Vec<_>>(),
    });
    let mut child = tokio::process::Command::new("python3")
        .arg(workspace_root().join("tools/jose/oidc.py"))
        .env("PYTHONPATH", &python)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(spec.to_string().as_bytes())
        .await
        .expect("write the spec");
    drop(stdin);
    let output = child.wait_with_output().await.expect("oidc.py ends");
    assert!(
        output.status.success(),
        "oidc.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let made: Value = serde_json::from_slice(&output.stdout).expect("oidc.py writes JSON");
    Minted {
        jwks: made["jwks"].clone(),
        tokens: made["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| t.as_str().expect("a token").to_owned())
            .collect(),
    }
}

/// The JWKS served at `http://127.0.0.1:<port>/certs` until dropped.
pub struct JwksServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `jwks` over HTTP on a free loopback port.
pub async fn serve_jwks(jwks: Value) -> JwksServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!(
        "http://{}/certs",
        listener.local_addr().expect("bound address")
    );
    let body = jwks.to_string();
    let app = axum::Router::new().route(
        "/certs",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    JwksServer { url, task }
}

/// A token with no signature (`alg: none`), which no gateway may accept.
pub fn unsigned(subject: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let encode = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let far = chrono::Utc::now().timestamp() + 300;
    format!(
        "{}.{}.",
        encode(json!({"alg": "none", "typ": "JWT"})),
        encode(json!({"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "exp": far}))
    )
}

//! Certificates made at test time (rcgen): a CA, the gateway's server
//! certificate for `localhost`, a client certificate it signed, and one
//! signed by a CA the gateway does not trust.

use std::path::PathBuf;

use ayushman_platform::config::TlsSettings;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use sha2::{Digest, Sha256};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A certificate and its private key, PEM, and the certificate's SHA-256.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
    /// Hex SHA-256 of the certificate's DER, as partners register it.
    pub sha256: String,
}

/// The test PKI, its files in a folder removed on drop.
pub struct TestPki {
    pub ca: String,
    pub client: Pem,
    pub another_client: Pem,
    pub untrusted_client: Pem,
    pub server: TlsSettings,
    _folder: tempfile::TempDir,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

fn leaf(names: &[&str], issuer: &CertifiedIssuer<'static, KeyPair>) -> Pem {
    let key = KeyPair::generate().expect("key");
    let params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
        .expect("params");
    let cert = params.signed_by(&key, issuer).expect("signed");
    Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
        sha256: hex::encode(Sha256::digest(cert.der())),
    }
}

impl TestPki {
    /// A fresh PKI.
    pub fn new() -> Self {
        let folder = tempfile::tempdir().expect("tempdir");
        let trusted = ca("Ayushman test CA");
        let stranger = ca("Someone else's CA");
        let server = leaf(&["localhost"], &trusted);
        let write = |name: &str, text: &str| -> PathBuf {
            let path = folder.path().join(name);
            std::fs::write(&path, text).expect("write PEM");
            path
        };
        let settings = TlsSettings {
            cert_path: write("server.pem", &server.cert),
            key_path: write("server.key", &server.key),
            client_ca_path: Some(write("ca.pem", &trusted.pem())),
        };
        Self {
            ca: trusted.pem(),
            client: leaf(&["his.example"], &trusted),
            another_client: leaf(&["tpa.example"], &trusted),
            untrusted_client: leaf(&["intruder.example"], &stranger),
            server: settings,
            _folder: folder,
        }
    }

    /// A TLS channel to `url` (`https://localhost:<port>`), presenting `client` if given.
    pub async fn channel(
        &self,
        url: &str,
        client: Option<&Pem>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca))
            .domain_name("localhost");
        if let Some(client) = client {
            tls = tls.identity(Identity::from_pem(&client.cert, &client.key));
        }
        Channel::from_shared(url.to_owned())
            .expect("url")
            .tls_config(tls)?
            .connect()
            .await
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

//! `ayushctl participant`: the NHCX service's participant registry, and the
//! demo hospital `ayushctl up` registers.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ayushman_proto::nhcx::v1::{self as pb, nhcx_service_client::NhcxServiceClient};
use comfy_table::Table;
use tonic::transport::Channel;

/// The demo hospital's participant code.
pub const DEMO_HOSPITAL: &str = "maharani-dh@hcx";
/// Its HFR id (Maharani District Hospital, Jagdalpur, in the demo data).
pub const DEMO_HOSPITAL_HFR: &str = "IN2214000001";
/// Where its callback endpoint listens in the demo (tools/nhcx/hospital.py receive --port).
pub const DEMO_HOSPITAL_PORT: u16 = 58_056;

/// What `participant register` is given.
pub struct Registration {
    pub code: String,
    pub name: String,
    pub payer: bool,
    pub hfr_id: String,
    pub endpoint: String,
    pub certificate: PathBuf,
    pub inactive: bool,
}

/// Registers (or replaces) a participant and prints it.
pub async fn register(channel: Channel, registration: Registration) -> anyhow::Result<()> {
    let certificate = std::fs::read_to_string(&registration.certificate)
        .with_context(|| format!("cannot read {}", registration.certificate.display()))?;
    let role = if registration.payer {
        pb::ParticipantRole::Payer
    } else {
        pb::ParticipantRole::Provider
    };
    let stored = NhcxServiceClient::new(channel)
        .upsert_participant(pb::UpsertParticipantRequest {
            idempotency_key: format!(
                "ayushctl-{}-{}",
                registration.code,
                chrono::Utc::now().timestamp_millis()
            ),
            participant: Some(pb::Participant {
                participant_code: registration.code,
                name: registration.name,
                role: role as i32,
                hfr_id: registration.hfr_id,
                endpoint_url: registration.endpoint,
                encryption_certificate: certificate,
                active: !registration.inactive,
                updated_at: None,
            }),
        })
        .await?
        .into_inner()
        .participant
        .context("the service answered no participant")?;
    print_table(&[stored]);
    Ok(())
}

/// Prints every participant.
pub async fn list(channel: Channel) -> anyhow::Result<()> {
    let participants = NhcxServiceClient::new(channel)
        .list_participants(pb::ListParticipantsRequest {})
        .await?
        .into_inner()
        .participants;
    print_table(&participants);
    Ok(())
}

fn print_table(participants: &[pb::Participant]) {
    let mut table = Table::new();
    table.set_header(["code", "name", "role", "HFR id", "endpoint", "active"]);
    for p in participants {
        table.add_row([
            p.participant_code.clone(),
            p.name.clone(),
            p.role()
                .as_str_name()
                .trim_start_matches("PARTICIPANT_ROLE_")
                .to_lowercase(),
            p.hfr_id.clone(),
            p.endpoint_url.clone(),
            if p.active { "yes" } else { "no" }.to_owned(),
        ]);
    }
    println!("{table}");
}

/// Makes the demo hospital's key pair under `dir` (once) and registers it,
/// its callback endpoint on [`DEMO_HOSPITAL_PORT`].
pub async fn register_demo_hospital(channel: Channel, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let private = dir.join("demo-hospital-key.pem");
    let public = dir.join("demo-hospital-public.pem");
    if !private.exists() || !public.exists() {
        let pem = nhcx::protocol::EnvelopeKey::generate_pem().map_err(anyhow::Error::msg)?;
        let key = nhcx::protocol::EnvelopeKey::from_pem(&pem).map_err(anyhow::Error::msg)?;
        std::fs::write(&private, secrecy::ExposeSecret::expose_secret(&pem))?;
        std::fs::write(&public, key.public_key().pem())?;
    }
    let certificate = std::fs::read_to_string(&public)?;
    NhcxServiceClient::new(channel)
        .upsert_participant(pb::UpsertParticipantRequest {
            idempotency_key: format!("demo-hospital-{}", chrono::Utc::now().timestamp_millis()),
            participant: Some(pb::Participant {
                participant_code: DEMO_HOSPITAL.into(),
                name: "Maharani District Hospital, Jagdalpur".into(),
                role: pb::ParticipantRole::Provider as i32,
                hfr_id: DEMO_HOSPITAL_HFR.into(),
                endpoint_url: format!("http://127.0.0.1:{DEMO_HOSPITAL_PORT}"),
                encryption_certificate: certificate,
                active: true,
                updated_at: None,
            }),
        })
        .await?;
    Ok(())
}

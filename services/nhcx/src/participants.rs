//! The participant registry: who may send to the mesh, where the mesh
//! answers them, and the key it encrypts to and checks their tokens with.

use ayushman_platform::{ApiError, FieldViolations, convert};
use ayushman_proto::nhcx::v1::{self as pb, ParticipantRole};
use sea_orm::ConnectionTrait;

use crate::{
    protocol::{ErrorCode, ProtocolError, PublicKey},
    store::{entities::participant, queries},
};

/// A hospital that may send, with its key.
#[derive(Debug, Clone)]
pub struct Sender {
    /// Its row.
    pub row: participant::Model,
    /// Its public key.
    pub key: PublicKey,
}

/// The registered, active hospital with this code; anyone else is
/// ERR_INVALID_SENDER.
pub async fn sender(db: &impl ConnectionTrait, code: &str) -> Result<Sender, ProtocolError> {
    let refuse = |why: String| ProtocolError::new(ErrorCode::InvalidSender, why);
    let row = queries::find_participant(db, code)
        .await
        .map_err(|_| {
            ProtocolError::new(ErrorCode::ServiceUnavailable, "the registry cannot be read")
        })?
        .ok_or_else(|| {
            refuse(format!(
                "{code} is not a participant registered with this payer"
            ))
        })?;
    if !row.active {
        return Err(refuse(format!("participant {code} is not active")));
    }
    if row.role != ParticipantRole::Provider.as_str_name() || row.hfr_id.is_empty() {
        return Err(refuse(format!(
            "participant {code} is not a hospital (role provider with an HFR id)"
        )));
    }
    let key = PublicKey::from_pem(&row.encryption_certificate)
        .map_err(|reason| refuse(format!("participant {code}'s certificate {reason}")))?;
    Ok(Sender { row, key })
}

/// A participant as asked for, checked; every bad field is named at once.
pub fn validate(participant: Option<&pb::Participant>) -> Result<participant::Model, ApiError> {
    let Some(p) = participant else {
        return Err(ApiError::invalid("participant", "is required"));
    };
    let mut violations = FieldViolations::new();
    violations.require("participant.participant_code", &p.participant_code);
    violations.max_chars("participant.participant_code", &p.participant_code, 100);
    violations.require("participant.name", &p.name);
    violations.max_chars("participant.name", &p.name, 200);
    let role = violations.check(
        "participant.role",
        convert::required_enum::<ParticipantRole>("participant.role", p.role)
            .map_err(|_| "must be PARTICIPANT_ROLE_PROVIDER or PARTICIPANT_ROLE_PAYER"),
    );
    if role == Some(ParticipantRole::Provider) && p.hfr_id.trim().is_empty() {
        violations.add(
            "participant.hfr_id",
            "is required for a hospital (role provider)",
        );
    }
    let endpoint = p.endpoint_url.trim();
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        || reqwest::Url::parse(endpoint).is_err()
    {
        violations.add(
            "participant.endpoint_url",
            "must be an http:// or https:// URL, e.g. https://his.example.org/hcx",
        );
    }
    violations.check(
        "participant.encryption_certificate",
        PublicKey::from_pem(&p.encryption_certificate),
    );
    violations.into_result()?;
    Ok(participant::Model {
        participant_code: p.participant_code.trim().to_owned(),
        name: p.name.trim().to_owned(),
        role: role.unwrap_or_default().as_str_name().to_owned(),
        hfr_id: p.hfr_id.trim().to_ascii_uppercase(),
        endpoint_url: endpoint.trim_end_matches('/').to_owned(),
        encryption_certificate: p.encryption_certificate.trim().to_owned(),
        active: p.active,
        updated_at: ayushman_platform::db::now(),
    })
}

/// The participant as the contract shows it.
pub fn to_proto(row: participant::Model) -> pb::Participant {
    pb::Participant {
        participant_code: row.participant_code,
        name: row.name,
        role: ParticipantRole::from_str_name(&row.role).unwrap_or_default() as i32,
        hfr_id: row.hfr_id,
        endpoint_url: row.endpoint_url,
        encryption_certificate: row.encryption_certificate,
        active: row.active,
        updated_at: Some(convert::timestamp_to_proto(row.updated_at)),
    }
}

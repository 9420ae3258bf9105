//! Every message in and out is an exchange row: an inbound one is received,
//! then processed (or failed); an outbound one is queued, then delivered (or
//! given up), and a payment notice is acknowledged by the hospital's
//! on_request. Rows keep the JWE as it travelled, never the clear text.

use chrono::{DateTime, Utc};
use fhir_model::r4b::resources::Bundle;

use crate::{
    protocol::{Action, HcxStatus, ProtocolError, ProtocolHeaders, PublicKey},
    store::entities::{exchange, participant},
};

/// `Direction` value name of a message a participant sent.
pub const INBOUND: &str = "DIRECTION_INBOUND";
/// `Direction` value name of a message the mesh sent.
pub const OUTBOUND: &str = "DIRECTION_OUTBOUND";

/// Received and stored; the mesh has not acted on it yet.
pub const RECEIVED: &str = "received";
/// The mesh acted on it; its answer (if any) is queued.
pub const PROCESSED: &str = "processed";
/// The mesh could not read it after all (see last_error).
pub const FAILED: &str = "failed";
/// Waiting to be delivered (again).
pub const QUEUED: &str = "queued";
/// The participant's endpoint took it.
pub const DELIVERED: &str = "delivered";
/// The participant answered it (a payment notice's on_request).
pub const ACKNOWLEDGED: &str = "acknowledged";
/// Delivery failed max_attempts times.
pub const GAVE_UP: &str = "gave_up";

/// The row id of a participant's message: its api_call_id is unique per sender.
pub fn inbound_id(sender_code: &str, api_call_id: &str) -> String {
    format!("in:{sender_code}:{api_call_id}")
}

/// The row id of a message of the mesh.
pub fn outbound_id(api_call_id: &str) -> String {
    format!("out:{api_call_id}")
}

/// A participant's message as received, before the mesh acts on it.
pub fn received(headers: &ProtocolHeaders, action: Action, jwe: &str) -> exchange::Model {
    let now = ayushman_platform::db::now();
    exchange::Model {
        exchange_id: inbound_id(&headers.sender_code, &headers.api_call_id),
        api_call_id: headers.api_call_id.clone(),
        correlation_id: headers.correlation_id.clone(),
        workflow_id: headers.workflow_id.clone(),
        direction: INBOUND.into(),
        action: action.path().into(),
        participant_code: headers.sender_code.clone(),
        status: RECEIVED.into(),
        hcx_status: headers.status.as_str().into(),
        mesh_reference: String::new(),
        payload: jwe.to_owned(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: None,
        last_error: String::new(),
        created_at: now,
        updated_at: now,
    }
}

/// What the mesh sends: the action, its headers, the bundle.
pub struct Message {
    /// Where it goes.
    pub action: Action,
    /// Its protocol headers (the api_call_id is the row's).
    pub headers: ProtocolHeaders,
    /// Its payload.
    pub bundle: Bundle,
    /// The mesh case it concerns.
    pub mesh_reference: String,
}

impl Message {
    /// A message of the mesh to `recipient` in the cycle `correlation_id`.
    pub fn new(
        mesh_code: &str,
        recipient: &str,
        (correlation_id, workflow_id): (&str, &str),
        action: Action,
        status: HcxStatus,
        bundle: Bundle,
        mesh_reference: &str,
    ) -> Self {
        Self {
            action,
            headers: ProtocolHeaders::reply(
                mesh_code,
                recipient,
                correlation_id,
                workflow_id,
                status,
            ),
            bundle,
            mesh_reference: mesh_reference.to_owned(),
        }
    }

    /// The same message reporting `error` in `x-hcx-error_details`.
    pub fn with_error(mut self, error: &ProtocolError) -> Self {
        self.headers.error_details = Some(error.details());
        self
    }

    /// The message encrypted to `recipient`, as a row queued for delivery now.
    pub fn queued(
        self,
        recipient: &participant::Model,
        now: DateTime<Utc>,
    ) -> Result<exchange::Model, String> {
        let key = PublicKey::from_pem(&recipient.encryption_certificate).map_err(|reason| {
            format!(
                "participant {}: certificate {reason}",
                recipient.participant_code
            )
        })?;
        let payload = serde_json::to_vec(&self.bundle).map_err(|e| e.to_string())?;
        let jwe = key.encrypt(&self.headers.to_claims(), &payload)?;
        Ok(exchange::Model {
            exchange_id: outbound_id(&self.headers.api_call_id),
            api_call_id: self.headers.api_call_id.clone(),
            correlation_id: self.headers.correlation_id.clone(),
            workflow_id: self.headers.workflow_id.clone(),
            direction: OUTBOUND.into(),
            action: self.action.path().into(),
            participant_code: recipient.participant_code.clone(),
            status: QUEUED.into(),
            hcx_status: self.headers.status.as_str().into(),
            mesh_reference: self.mesh_reference,
            payload: jwe,
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            last_error: String::new(),
            created_at: now,
            updated_at: now,
        })
    }
}

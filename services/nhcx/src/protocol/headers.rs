//! The protocol headers every message carries in its JWE protected header.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::{ErrorCode, ProtocolError};

/// `x-hcx-sender_code`.
pub const SENDER_CODE: &str = "x-hcx-sender_code";
/// `x-hcx-recipient_code`.
pub const RECIPIENT_CODE: &str = "x-hcx-recipient_code";
/// `x-hcx-api_call_id`: one per message.
pub const API_CALL_ID: &str = "x-hcx-api_call_id";
/// `x-hcx-correlation_id`: one per request and its responses.
pub const CORRELATION_ID: &str = "x-hcx-correlation_id";
/// `x-hcx-workflow_id`: one per case, across its cycles.
pub const WORKFLOW_ID: &str = "x-hcx-workflow_id";
/// `x-hcx-timestamp`.
pub const TIMESTAMP: &str = "x-hcx-timestamp";
/// `x-hcx-status`.
pub const STATUS: &str = "x-hcx-status";
/// `x-hcx-error_details`, on a `response.error`.
pub const ERROR_DETAILS: &str = "x-hcx-error_details";

/// `x-hcx-status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HcxStatus {
    /// A new request.
    RequestInitiated,
    /// A request sent again after no answer.
    RequestRetry,
    /// The final answer.
    ResponseComplete,
    /// An answer with more to come (e.g. a preauth queued for review).
    ResponsePartial,
    /// The request could not be acted on; `x-hcx-error_details` says why.
    ResponseError,
}

impl HcxStatus {
    /// The value as written in the header.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RequestInitiated => "request.initiated",
            Self::RequestRetry => "request.retry",
            Self::ResponseComplete => "response.complete",
            Self::ResponsePartial => "response.partial",
            Self::ResponseError => "response.error",
        }
    }

    /// The status with this value.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::RequestInitiated,
            Self::RequestRetry,
            Self::ResponseComplete,
            Self::ResponsePartial,
            Self::ResponseError,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }

    /// Whether a request (not a response) carries it.
    pub const fn is_request(self) -> bool {
        matches!(self, Self::RequestInitiated | Self::RequestRetry)
    }
}

/// The protocol headers of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolHeaders {
    /// Who sent it.
    pub sender_code: String,
    /// To whom.
    pub recipient_code: String,
    /// This message's id (a UUID).
    pub api_call_id: String,
    /// The request-response cycle's id (a UUID).
    pub correlation_id: String,
    /// The case's id across cycles; the correlation id when the sender gave none.
    pub workflow_id: String,
    /// When the sender sent it.
    pub timestamp: DateTime<FixedOffset>,
    /// Request or response, and how final.
    pub status: HcxStatus,
    /// Why, on a `response.error`.
    pub error_details: Option<Value>,
}

impl ProtocolHeaders {
    /// Reads the headers of a protected header, refusing a message that lacks
    /// one the protocol requires or carries one that cannot be read.
    pub fn read(header: &Map<String, Value>) -> Result<Self, ProtocolError> {
        let text = |name: &str| -> Result<String, ProtocolError> {
            match header.get(name) {
                Some(Value::String(value)) if !value.trim().is_empty() => {
                    Ok(value.trim().to_owned())
                }
                Some(_) => Err(ProtocolError::new(
                    ErrorCode::MandatoryHeaderMissing,
                    format!("{name} must be a non-empty string"),
                )),
                None => Err(ProtocolError::new(
                    ErrorCode::MandatoryHeaderMissing,
                    format!("{name} is missing from the protected header"),
                )),
            }
        };
        let sender_code = text(SENDER_CODE)?;
        let recipient_code = text(RECIPIENT_CODE)?;
        let api_call_id = text(API_CALL_ID)?;
        let correlation_id = text(CORRELATION_ID)?;
        let timestamp = text(TIMESTAMP)?;
        let status = text(STATUS)?;
        let refuse = |code, message: String| {
            Err(ProtocolError::new(code, message).about(&api_call_id, &correlation_id))
        };
        if uuid::Uuid::parse_str(&api_call_id).is_err() {
            return refuse(
                ErrorCode::InvalidApiCallId,
                format!("{API_CALL_ID} must be a UUID, not {api_call_id:?}"),
            );
        }
        if uuid::Uuid::parse_str(&correlation_id).is_err() {
            return refuse(
                ErrorCode::InvalidCorrelationId,
                format!("{CORRELATION_ID} must be a UUID, not {correlation_id:?}"),
            );
        }
        let Some(timestamp) = parse_timestamp(&timestamp) else {
            return refuse(
                ErrorCode::InvalidTimestamp,
                format!("{TIMESTAMP} must be an ISO 8601 instant with offset, not {timestamp:?}"),
            );
        };
        let Some(status) = HcxStatus::parse(&status) else {
            return refuse(
                ErrorCode::InvalidStatus,
                format!("{STATUS} {status:?} is not a protocol status"),
            );
        };
        let workflow_id = match header.get(WORKFLOW_ID) {
            Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => correlation_id.clone(),
        };
        Ok(Self {
            sender_code,
            recipient_code,
            api_call_id,
            correlation_id,
            workflow_id,
            timestamp,
            status,
            error_details: header.get(ERROR_DETAILS).cloned(),
        })
    }

    /// The headers of a new message of the mesh (a fresh api_call_id, now).
    pub fn reply(
        sender_code: &str,
        recipient_code: &str,
        correlation_id: &str,
        workflow_id: &str,
        status: HcxStatus,
    ) -> Self {
        Self {
            sender_code: sender_code.to_owned(),
            recipient_code: recipient_code.to_owned(),
            api_call_id: uuid::Uuid::new_v4().to_string(),
            correlation_id: correlation_id.to_owned(),
            workflow_id: workflow_id.to_owned(),
            timestamp: Utc::now().fixed_offset(),
            status,
            error_details: None,
        }
    }

    /// The headers as protected-header claims.
    pub fn to_claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        for (name, value) in [
            (SENDER_CODE, &self.sender_code),
            (RECIPIENT_CODE, &self.recipient_code),
            (API_CALL_ID, &self.api_call_id),
            (CORRELATION_ID, &self.correlation_id),
            (WORKFLOW_ID, &self.workflow_id),
        ] {
            claims.insert(name.into(), Value::String(value.clone()));
        }
        claims.insert(
            TIMESTAMP.into(),
            Value::String(self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, false)),
        );
        claims.insert(STATUS.into(), Value::String(self.status.as_str().into()));
        if let Some(details) = &self.error_details {
            claims.insert(ERROR_DETAILS.into(), details.clone());
        }
        claims
    }
}

/// RFC 3339, or the protocol's examples' `2021-10-27T20:35:52.636+0530`.
fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn header(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn complete() -> Value {
        json!({
            SENDER_CODE: "hosp@hcx",
            RECIPIENT_CODE: "mesh@hcx",
            API_CALL_ID: "6b0c5d3e-1f7a-4a58-9d55-0d2f1b0c9a11",
            CORRELATION_ID: "0c4a7e2f-6a8e-4bb4-8f3b-31d6a1f6c2d2",
            TIMESTAMP: "2026-12-06T10:15:00.000+0530",
            STATUS: "request.initiated",
        })
    }

    #[test]
    fn headers_of_the_protocols_examples_read_with_the_correlation_id_as_workflow() {
        let headers = ProtocolHeaders::read(&header(complete())).expect("headers");
        assert_eq!(headers.sender_code, "hosp@hcx");
        assert_eq!(headers.workflow_id, headers.correlation_id);
        assert_eq!(headers.status, HcxStatus::RequestInitiated);
        assert_eq!(headers.timestamp.offset().local_minus_utc(), 19_800);
    }

    #[test]
    fn a_missing_header_is_named() {
        let mut value = complete();
        value.as_object_mut().map(|m| m.remove(RECIPIENT_CODE));
        let error = ProtocolHeaders::read(&header(value)).expect_err("refused");
        assert_eq!(error.code, ErrorCode::MandatoryHeaderMissing);
        assert!(error.message.contains(RECIPIENT_CODE), "{}", error.message);
    }

    #[test]
    fn ids_must_be_uuids_and_statuses_the_protocols() {
        let mut value = complete();
        value[API_CALL_ID] = json!("call-1");
        let error = ProtocolHeaders::read(&header(value)).expect_err("refused");
        assert_eq!(error.code, ErrorCode::InvalidApiCallId);
        let mut value = complete();
        value[STATUS] = json!("request.sent");
        let error = ProtocolHeaders::read(&header(value)).expect_err("refused");
        assert_eq!(error.code, ErrorCode::InvalidStatus);
    }

    #[test]
    fn claims_read_back_as_the_same_headers() {
        let headers = ProtocolHeaders::reply(
            "mesh@hcx",
            "hosp@hcx",
            "0c4a7e2f-6a8e-4bb4-8f3b-31d6a1f6c2d2",
            "wf-1",
            HcxStatus::ResponseComplete,
        );
        let read = ProtocolHeaders::read(&headers.to_claims()).expect("read back");
        assert_eq!(read.api_call_id, headers.api_call_id);
        assert_eq!(read.workflow_id, "wf-1");
        assert_eq!(read.status, HcxStatus::ResponseComplete);
    }
}

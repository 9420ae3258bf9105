//! The protocol's error codes, and the error answer of a refused request.

use std::fmt;

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// An error code of the HCX protocol (`x-hcx-error_details.code`, or the
/// `error.code` of a synchronous refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The body is not `{"payload": "<JWE>"}`, or the JWE is malformed.
    InvalidPayload,
    /// A protected header the protocol requires is missing.
    MandatoryHeaderMissing,
    /// `x-hcx-api_call_id` is not a usable id.
    InvalidApiCallId,
    /// `x-hcx-correlation_id` is not a usable id.
    InvalidCorrelationId,
    /// `x-hcx-timestamp` is not an RFC 3339 instant.
    InvalidTimestamp,
    /// `x-hcx-status` is not one the action allows.
    InvalidStatus,
    /// The message is addressed to another participant.
    WrongRecipient,
    /// The sender is not a registered, active participant.
    InvalidSender,
    /// The sender's bearer token is missing or names someone else.
    AccessDenied,
    /// The sender's bearer token is not signed by the sender's key.
    InvalidSignature,
    /// The JWE cannot be decrypted with the mesh's key, or fails its integrity check.
    InvalidEncryption,
    /// The decrypted payload is not the FHIR bundle the action carries.
    WrongDomainPayload,
    /// The FHIR bundle is not valid, or lacks what the mesh needs.
    InvalidDomainPayload,
    /// The mesh could not act on a valid request (e.g. the patient is unknown).
    DomainProcessing,
    /// A service of the mesh is down; the participant may retry.
    ServiceUnavailable,
}

impl ErrorCode {
    /// The code as the protocol writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidPayload => "ERR_INVALID_PAYLOAD",
            Self::MandatoryHeaderMissing => "ERR_MANDATORY_HEADER_MISSING",
            Self::InvalidApiCallId => "ERR_INVALID_API_CALL_ID",
            Self::InvalidCorrelationId => "ERR_INVALID_CORRELATION_ID",
            Self::InvalidTimestamp => "ERR_INVALID_TIMESTAMP",
            Self::InvalidStatus => "ERR_INVALID_STATUS",
            Self::WrongRecipient => "ERR_WRONG_RECIPIENT",
            Self::InvalidSender => "ERR_INVALID_SENDER",
            Self::AccessDenied => "ERR_ACCESS_DENIED",
            Self::InvalidSignature => "ERR_INVALID_SIGNATURE",
            Self::InvalidEncryption => "ERR_INVALID_ENCRYPTION",
            Self::WrongDomainPayload => "ERR_WRONG_DOMAIN_PAYLOAD",
            Self::InvalidDomainPayload => "ERR_INVALID_DOMAIN_PAYLOAD",
            Self::DomainProcessing => "ERR_DOMAIN_PROCESSING",
            Self::ServiceUnavailable => "ERR_SERVICE_UNAVAILABLE",
        }
    }

    /// The HTTP status of a synchronous refusal with this code.
    pub const fn http_status(self) -> StatusCode {
        match self {
            Self::InvalidSender | Self::AccessDenied | Self::InvalidSignature => {
                StatusCode::UNAUTHORIZED
            }
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::DomainProcessing => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message was refused, or could not be acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProtocolError {
    /// The protocol's code.
    pub code: ErrorCode,
    /// What was wrong, naming the header or FHIR element.
    pub message: String,
    /// The refused message's api_call_id, when it could be read.
    pub api_call_id: Option<String>,
    /// The refused message's correlation_id, when it could be read.
    pub correlation_id: Option<String>,
}

impl ProtocolError {
    /// An error with `code` explained by `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            api_call_id: None,
            correlation_id: None,
        }
    }

    /// The same error, naming the message it refuses.
    pub fn about(mut self, api_call_id: &str, correlation_id: &str) -> Self {
        self.api_call_id = Some(api_call_id.to_owned());
        self.correlation_id = Some(correlation_id.to_owned());
        self
    }

    /// `x-hcx-error_details` of a callback reporting this error.
    pub fn details(&self) -> serde_json::Value {
        json!({ "code": self.code.as_str(), "message": self.message, "trace": "" })
    }
}

impl IntoResponse for ProtocolError {
    fn into_response(self) -> Response {
        let body = json!({
            "timestamp": chrono::Utc::now().timestamp_millis(),
            "api_call_id": self.api_call_id,
            "correlation_id": self.correlation_id,
            "error": self.details(),
        });
        (self.code.http_status(), Json(body)).into_response()
    }
}

//! The one place where service errors become gRPC statuses (DESIGN §5, Errors).
//!
//! Each service has its own error enum and converts it into [`ApiError`], a
//! deliberately small set of outcomes; `From<ApiError> for Status` is the only
//! mapping. Internal errors are logged with the trace id and answered with a
//! generic message that carries the trace id, never the cause.

use std::fmt::Display;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::telemetry::current_trace_id;

/// Field violations collected while validating a request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldViolations(Vec<(String, String)>);

impl FieldViolations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (its proto name, dotted for nesting) is wrong.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push((field.into(), reason.into()));
    }

    /// Records a violation when `value` is an error, passing the value through.
    pub fn check<T, E: Display>(&mut self, field: &str, value: Result<T, E>) -> Option<T> {
        value
            .map_err(|error| self.add(field, error.to_string()))
            .ok()
    }

    /// Records that `paise` is not an amount one case can move: it must be
    /// positive and at most [`Money::LARGEST_CASE_AMOUNT`](ayushman_domain::Money).
    pub fn amount(&mut self, field: &str, paise: i64) {
        let largest = ayushman_domain::Money::LARGEST_CASE_AMOUNT;
        if paise <= 0 {
            self.add(field, "must be positive");
        } else if paise > largest.paise() {
            self.add(field, format!("must be at most {largest}"));
        }
    }

    /// Records that a text field is longer than `max` characters.
    pub fn max_chars(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// Records that a required string field is empty.
    pub fn require(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.add(field, "is required");
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded, else the INVALID_ARGUMENT error.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidArgument(self))
        }
    }

    /// The violations as (field, reason) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(f, r)| (f.as_str(), r.as_str()))
    }
}

/// What went wrong, in the few kinds a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; each field at fault is named.
    #[error("invalid request")]
    InvalidArgument(FieldViolations),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// It exists already, or the idempotency key was used for a different request.
    #[error("{0}")]
    AlreadyExists(String),
    /// The system is not in a state that allows it (e.g. claim before discharge).
    #[error("{0}")]
    FailedPrecondition(String),
    /// Another request changed the same thing first; reading it again and
    /// deciding anew may succeed.
    #[error("{0}")]
    Aborted(String),
    /// The caller may not do this (e.g. another state's data).
    #[error("{0}")]
    PermissionDenied(String),
    /// A dependency is down; retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or broken dependency; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// INVALID_ARGUMENT for one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut violations = FieldViolations::new();
        violations.add(field, reason);
        Self::InvalidArgument(violations)
    }

    /// INTERNAL, keeping the cause for the log.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }
}

impl ApiError {
    /// What a failed call to a peer service means for our caller: a peer that is
    /// down or too slow is UNAVAILABLE (retry later), never a wrong answer; any
    /// other failure is ours to investigate (INTERNAL).
    pub fn from_peer(peer: crate::MeshService, status: &Status) -> Self {
        match status.code() {
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Cancelled => Self::Unavailable(format!(
                "{peer} is unavailable ({}); retry later",
                status.code().description()
            )),
            code => Self::internal(format!("{peer} answered {code:?}: {}", status.message())),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        // A database too busy to take the work now (its one writer, or every
        // pooled connection, taken) is a reason to retry, not a bug.
        let busy = matches!(error, sea_orm::DbErr::ConnectionAcquire(_))
            || error.to_string().contains("database is locked");
        if busy {
            tracing::warn!(%error, "database busy");
            return Self::Unavailable(
                "the database is busy; retry with the same idempotency_key".into(),
            );
        }
        Self::internal(error)
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::InvalidArgument(violations) => {
                let summary = violations
                    .iter()
                    .map(|(field, reason)| format!("{field}: {reason}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut details = ErrorDetails::new();
                for (field, reason) in violations.iter() {
                    details.add_bad_request_violation(field, reason);
                }
                Status::with_error_details(Code::InvalidArgument, summary, details)
            }
            ApiError::NotFound(message) => Status::not_found(message),
            ApiError::AlreadyExists(message) => Status::already_exists(message),
            ApiError::FailedPrecondition(message) => Status::failed_precondition(message),
            ApiError::Aborted(message) => Status::aborted(message),
            ApiError::PermissionDenied(message) => Status::permission_denied(message),
            ApiError::Unavailable(message) => Status::unavailable(message),
            ApiError::Internal(cause) => {
                let trace_id = current_trace_id();
                let shown = trace_id.as_deref().unwrap_or("");
                tracing::error!(error = %cause, trace_id = shown, "internal error");
                match trace_id {
                    Some(id) => {
                        Status::internal(format!("internal error; quote trace id {id} to support"))
                    }
                    None => Status::internal("internal error; the service log has the details"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_bad_request_field_violations() {
        let mut violations = FieldViolations::new();
        violations.require("family_id", " ");
        violations.check::<(), _>("aadhaar", Err("Aadhaar check digit is wrong"));
        let status = Status::from(violations.into_result().unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "family_id: is required; aadhaar: Aadhaar check digit is wrong"
        );
        let bad_request = status
            .get_details_bad_request()
            .expect("bad request details");
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["family_id", "aadhaar"]);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let status = Status::from(ApiError::internal(
            "password authentication failed for user root",
        ));
        assert_eq!(status.code(), Code::Internal);
        assert!(
            !status.message().contains("password"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn no_violations_is_ok() {
        assert!(FieldViolations::new().into_result().is_ok());
    }
}

//! The HCX protocol as the mesh speaks it: the protected headers every
//! message carries, the error codes, the JWE envelope and the sender's
//! bearer token. Nothing here knows FHIR or the mesh's services.

pub mod envelope;
pub mod errors;
pub mod headers;
pub mod token;

pub use envelope::{EnvelopeKey, PublicKey};
pub use errors::{ErrorCode, ProtocolError};
pub use headers::{HcxStatus, ProtocolHeaders};

/// The protocol's actions the mesh serves or calls, by path after the version prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A hospital asks whether a patient is covered.
    EligibilityCheck,
    /// The mesh answers an eligibility check.
    EligibilityOnCheck,
    /// A hospital asks for pre-authorisation.
    PreauthSubmit,
    /// The mesh answers a preauth (queued, then decided).
    PreauthOnSubmit,
    /// A hospital claims for a discharged case.
    ClaimSubmit,
    /// The mesh answers a claim (queued, then adjudicated).
    ClaimOnSubmit,
    /// The mesh asks a hospital something about a case.
    CommunicationRequest,
    /// A hospital answers the mesh's communication.
    CommunicationOnRequest,
    /// The mesh tells a hospital a claim was paid.
    PaymentNoticeRequest,
    /// A hospital acknowledges a payment notice.
    PaymentNoticeOnRequest,
}

impl Action {
    /// Every action, for routing and lookups.
    pub const ALL: [Self; 10] = [
        Self::EligibilityCheck,
        Self::EligibilityOnCheck,
        Self::PreauthSubmit,
        Self::PreauthOnSubmit,
        Self::ClaimSubmit,
        Self::ClaimOnSubmit,
        Self::CommunicationRequest,
        Self::CommunicationOnRequest,
        Self::PaymentNoticeRequest,
        Self::PaymentNoticeOnRequest,
    ];

    /// The path after the version prefix, e.g. `/preauth/submit`.
    pub const fn path(self) -> &'static str {
        match self {
            Self::EligibilityCheck => "/coverageeligibility/check",
            Self::EligibilityOnCheck => "/coverageeligibility/on_check",
            Self::PreauthSubmit => "/preauth/submit",
            Self::PreauthOnSubmit => "/preauth/on_submit",
            Self::ClaimSubmit => "/claim/submit",
            Self::ClaimOnSubmit => "/claim/on_submit",
            Self::CommunicationRequest => "/communication/request",
            Self::CommunicationOnRequest => "/communication/on_request",
            Self::PaymentNoticeRequest => "/paymentnotice/request",
            Self::PaymentNoticeOnRequest => "/paymentnotice/on_request",
        }
    }

    /// The action with this path.
    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.path() == path)
    }

    /// The actions participants send to the mesh.
    pub const INBOUND: [Self; 5] = [
        Self::EligibilityCheck,
        Self::PreauthSubmit,
        Self::ClaimSubmit,
        Self::CommunicationOnRequest,
        Self::PaymentNoticeOnRequest,
    ];
}

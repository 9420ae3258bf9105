//! The mesh services a hospital's message reaches, called as that hospital:
//! each call carries the identity the gateway would stamp for a hospital
//! system (the participant, its one HFR id, a user with the help desk's and
//! the medical coordinator's roles), signed with the shared identity key, so
//! the services apply exactly the rules they apply to a hospital's own calls.

use ayushman_platform::{
    MeshService,
    caller::{IdentityKey, PartnerIdentity, UserIdentity},
    client::TracedChannel,
};
use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        search_beneficiaries_request::Query,
    },
    claims::v1::{self as c, claims_service_client::ClaimsServiceClient},
    common::v1::Role,
    preauth::v1::{self as p, preauth_service_client::PreauthServiceClient},
};
use tonic::{Code, Status};

use crate::fhir::read::PatientId;

/// Who a call is made for: a registered hospital participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hospital {
    /// Participant code.
    pub participant_code: String,
    /// Its HFR id.
    pub hfr_id: String,
}

impl Hospital {
    fn identity(&self) -> PartnerIdentity {
        PartnerIdentity {
            partner_id: format!("nhcx:{}", self.participant_code),
            state_code: None,
            hfr_ids: vec![self.hfr_id.clone()],
            user: Some(UserIdentity {
                user_id: format!("nhcx:{}", self.participant_code),
                roles: vec![Role::Pmam, Role::Medco],
            }),
        }
    }
}

/// Why a call to the mesh did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// The service is down or slow: try again later.
    #[error("{service} is unavailable: {message}")]
    Unavailable {
        /// Which.
        service: MeshService,
        /// What it said.
        message: String,
    },
    /// The service refused the request; the hospital must change it.
    #[error("{0}")]
    Refused(String),
}

fn peer_error(service: MeshService) -> impl Fn(Status) -> PeerError {
    move |status| match status.code() {
        // Cancelled: the connection to the service dropped mid-call.
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Cancelled => PeerError::Unavailable {
            service,
            message: status.message().to_owned(),
        },
        _ => PeerError::Refused(status.message().to_owned()),
    }
}

/// Clients of the three services, and the key that signs the hospital's identity.
#[derive(Clone)]
pub struct Peers {
    beneficiary: BeneficiaryRegistryServiceClient<TracedChannel>,
    preauth: PreauthServiceClient<TracedChannel>,
    claims: ClaimsServiceClient<TracedChannel>,
    identity: IdentityKey,
}

impl Peers {
    /// Peers over these channels, signing with `identity`.
    pub fn new(
        beneficiary: TracedChannel,
        preauth: TracedChannel,
        claims: TracedChannel,
        identity: IdentityKey,
    ) -> Self {
        Self {
            beneficiary: BeneficiaryRegistryServiceClient::new(beneficiary),
            preauth: PreauthServiceClient::new(preauth),
            claims: ClaimsServiceClient::new(claims),
            identity,
        }
    }

    fn request<T>(&self, hospital: &Hospital, message: T) -> tonic::Request<T> {
        let mut headers = http::HeaderMap::new();
        self.identity.stamp(&mut headers, &hospital.identity());
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = tonic::metadata::MetadataMap::from_headers(headers);
        request
    }

    /// The beneficiary id or card number the services take for `patient`
    /// (an ABHA is looked up in the registry first).
    async fn patient_key(
        &self,
        hospital: &Hospital,
        patient: &PatientId,
    ) -> Result<(String, String), PeerError> {
        match patient {
            PatientId::Beneficiary(id) => Ok((id.clone(), String::new())),
            PatientId::Card(card) => Ok((String::new(), card.clone())),
            PatientId::Abha(abha) => {
                let found = self
                    .beneficiary
                    .clone()
                    .search_beneficiaries(self.request(
                        hospital,
                        b::SearchBeneficiariesRequest {
                            query: Some(Query::Abha(abha.clone())),
                            page_size: 2,
                            page_token: String::new(),
                        },
                    ))
                    .await
                    .map_err(peer_error(MeshService::BeneficiaryRegistry))?
                    .into_inner()
                    .beneficiaries;
                match found.as_slice() {
                    [one] => Ok((one.beneficiary_id.clone(), String::new())),
                    [] => Err(PeerError::Refused(format!(
                        "no beneficiary is linked to ABHA {abha}"
                    ))),
                    _ => Err(PeerError::Refused(format!(
                        "ABHA {abha} is linked to more than one beneficiary; name the patient by card number"
                    ))),
                }
            }
        }
    }

    /// VerifyEligibility of the patient on `date` (today when `None`).
    pub async fn verify_eligibility(
        &self,
        hospital: &Hospital,
        patient: &PatientId,
        date: Option<chrono::NaiveDate>,
    ) -> Result<b::VerifyEligibilityResponse, PeerError> {
        let (beneficiary_id, card_number) = self.patient_key(hospital, patient).await?;
        self.beneficiary
            .clone()
            .verify_eligibility(self.request(
                hospital,
                b::VerifyEligibilityRequest {
                    beneficiary_id,
                    card_number,
                    scheme_code: String::new(),
                    treatment_date: date.map(ayushman_platform::convert::date_to_proto),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
            .map_err(peer_error(MeshService::BeneficiaryRegistry))
    }

    /// RaisePreauth, keyed so that the same message raises one preauth however often it is processed.
    pub async fn raise_preauth(
        &self,
        hospital: &Hospital,
        patient: &PatientId,
        mut request: p::RaisePreauthRequest,
    ) -> Result<p::Preauth, PeerError> {
        let (beneficiary_id, card_number) = self.patient_key(hospital, patient).await?;
        request.beneficiary_id = beneficiary_id;
        request.card_number = card_number;
        request.hfr_id.clone_from(&hospital.hfr_id);
        self.preauth
            .clone()
            .raise_preauth(self.request(hospital, request))
            .await
            .map_err(peer_error(MeshService::Preauth))?
            .into_inner()
            .preauth
            .ok_or_else(|| PeerError::Refused("RaisePreauth answered no preauth".into()))
    }

    /// GetPreauth.
    pub async fn preauth(
        &self,
        hospital: &Hospital,
        preauth_id: &str,
    ) -> Result<p::Preauth, PeerError> {
        self.preauth
            .clone()
            .get_preauth(self.request(
                hospital,
                p::GetPreauthRequest {
                    preauth_id: preauth_id.to_owned(),
                },
            ))
            .await
            .map_err(peer_error(MeshService::Preauth))?
            .into_inner()
            .preauth
            .ok_or_else(|| PeerError::Refused("GetPreauth answered no preauth".into()))
    }

    /// RespondToQuery with the hospital's answer.
    pub async fn answer_query(
        &self,
        hospital: &Hospital,
        idempotency_key: String,
        preauth_id: &str,
        response: String,
    ) -> Result<p::Preauth, PeerError> {
        self.preauth
            .clone()
            .respond_to_query(self.request(
                hospital,
                p::RespondToQueryRequest {
                    idempotency_key,
                    preauth_id: preauth_id.to_owned(),
                    response,
                    actor: None,
                },
            ))
            .await
            .map_err(peer_error(MeshService::Preauth))?
            .into_inner()
            .preauth
            .ok_or_else(|| PeerError::Refused("RespondToQuery answered no preauth".into()))
    }

    /// SubmitClaim, keyed like [`Peers::raise_preauth`].
    pub async fn submit_claim(
        &self,
        hospital: &Hospital,
        request: c::SubmitClaimRequest,
    ) -> Result<c::Claim, PeerError> {
        self.claims
            .clone()
            .submit_claim(self.request(hospital, request))
            .await
            .map_err(peer_error(MeshService::Claims))?
            .into_inner()
            .claim
            .ok_or_else(|| PeerError::Refused("SubmitClaim answered no claim".into()))
    }

    /// GetClaim.
    pub async fn claim(&self, hospital: &Hospital, claim_id: &str) -> Result<c::Claim, PeerError> {
        self.claims
            .clone()
            .get_claim(self.request(
                hospital,
                c::GetClaimRequest {
                    claim_id: claim_id.to_owned(),
                },
            ))
            .await
            .map_err(peer_error(MeshService::Claims))?
            .into_inner()
            .claim
            .ok_or_else(|| PeerError::Refused("GetClaim answered no claim".into()))
    }
}

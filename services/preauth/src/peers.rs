//! What the saga asks of the other services, over traced channels with
//! deadlines, answered as plain values. Reads are retried while a peer is
//! briefly unavailable; wallet moves are idempotent by key, so they may be too.

use ayushman_domain::{HfrId, Money};
use ayushman_platform::{
    ApiError, MeshService,
    client::{TracedChannel, retry_idempotent},
    convert,
};
use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    common::v1::{Actor, ActorKind, Ownership},
    facility::v1::{
        CheckEmpanelmentRequest, CheckProfessionalLinkRequest, EmpanelmentDenial,
        facility_registry_service_client::FacilityRegistryServiceClient,
    },
    portability::v1::{
        RateRule, RouteCaseRequest, portability_service_client::PortabilityServiceClient,
    },
};
use chrono::NaiveDate;
use tonic::Code;

const ATTEMPTS: u32 = 3;

/// The three services the saga crosses.
#[derive(Clone)]
pub struct Peers {
    beneficiary: BeneficiaryRegistryServiceClient<TracedChannel>,
    facility: FacilityRegistryServiceClient<TracedChannel>,
    portability: PortabilityServiceClient<TracedChannel>,
}

/// Who the patient is and what each of their schemes allows, in draw order.
#[derive(Debug, Clone)]
pub struct Eligibility {
    pub beneficiary_id: String,
    pub card_number: String,
    pub family_id: String,
    pub home_state: String,
    pub schemes: Vec<SchemeCover>,
}

/// What one of a patient's schemes allows.
#[derive(Debug, Clone)]
pub struct SchemeCover {
    pub code: String,
    /// Why not, when the patient may not be treated under it.
    pub refusal: Option<String>,
    /// The scheme whose hospitals and agreements serve it.
    pub network: String,
    /// Packages it reserves for public hospitals.
    pub reserved_packages: Vec<String>,
    /// Whether the only objection is that its cover is used up: it stays a
    /// scheme to draw on (the block finds what is left, and a resumed saga
    /// asks for what it asked before its own block used the cover).
    pub exhausted: bool,
}

impl Eligibility {
    /// The schemes treatment may draw on, in draw order.
    pub fn usable(&self) -> impl Iterator<Item = &SchemeCover> {
        self.schemes
            .iter()
            .filter(|s| s.refusal.is_none() || s.exhausted)
    }

    /// Why no scheme may be used: the first scheme's reason.
    pub fn refusal(&self) -> String {
        self.schemes.first().map_or_else(
            || "covered by no scheme".to_owned(),
            |s| {
                format!(
                    "not eligible under {}: {}",
                    s.code,
                    s.refusal.as_deref().unwrap_or("not eligible")
                )
            },
        )
    }
}

/// Where and on whose account a case may be treated.
#[derive(Debug, Clone)]
pub struct Route {
    pub refusal: Option<String>,
    pub portability_case: bool,
    pub treating_state: String,
    pub treating_district: String,
    pub treating_ownership: Ownership,
    pub payer_scheme: String,
    pub payer_state: String,
    pub rate_rule: RateRule,
    pub agreement_id: String,
    /// Whether the treating doctor is linked to the facility on the day;
    /// `None` from a portability service that does not answer it yet.
    pub doctor_linked: Option<bool>,
}

/// A specialty of a case to route: the patient's home state and scheme
/// network, the hospital, the treating doctor and the day.
pub struct CaseToRoute<'a> {
    pub home_state: &'a str,
    /// The network (scheme) whose hospitals and agreements serve the patient.
    pub scheme: &'a str,
    pub hfr_id: &'a str,
    pub specialty: &'a str,
    pub treating_hpr: &'a str,
    pub date: NaiveDate,
}

/// Cover to hold on a wallet for a preauth.
pub struct Hold<'a> {
    /// Idempotency key of the block.
    pub key: &'a str,
    pub beneficiary_id: &'a str,
    /// The schemes whose wallets pay, drawn in this order.
    pub schemes: &'a [String],
    pub preauth_id: &'a str,
    pub amount: Money,
    /// Day of treatment: it picks the policy year.
    pub date: NaiveDate,
    pub reason: &'a str,
}

/// The outcome of a wallet move.
#[derive(Debug)]
pub enum Move {
    /// Done; the schemes the preauth now holds cover on, in draw order.
    Done(Vec<String>),
    /// The registry refused (e.g. not enough cover); the reason is for people.
    Refused(String),
}

fn peer(service: MeshService, status: &tonic::Status) -> ApiError {
    ApiError::from_peer(service, status)
}

/// A read of `service` through `client`, retried while the service is
/// briefly unavailable; any other refusal is the peer's error.
async fn read<Client, Req, Resp, Call, Answer>(
    client: &Client,
    service: MeshService,
    request: Req,
    call: Call,
) -> Result<Resp, ApiError>
where
    Client: Clone,
    Req: Clone,
    Call: Fn(Client, Req) -> Answer,
    Answer: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    retry_idempotent(ATTEMPTS, || call(client.clone(), request.clone()))
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| peer(service, &status))
}

fn system() -> Option<Actor> {
    Some(Actor {
        actor_id: "preauth".into(),
        kind: ActorKind::System as i32,
        display_name: String::new(),
    })
}

impl Peers {
    /// Clients over the given channels.
    pub fn new(
        beneficiary: TracedChannel,
        facility: TracedChannel,
        portability: TracedChannel,
    ) -> Self {
        Self {
            beneficiary: BeneficiaryRegistryServiceClient::new(beneficiary),
            facility: FacilityRegistryServiceClient::new(facility),
            portability: PortabilityServiceClient::new(portability),
        }
    }

    /// VerifyEligibility under `scheme` (or every scheme of the patient).
    pub async fn eligibility(
        &self,
        beneficiary_id: &str,
        card_number: &str,
        scheme: &str,
        date: NaiveDate,
    ) -> Result<Eligibility, ApiError> {
        let request = b::VerifyEligibilityRequest {
            beneficiary_id: beneficiary_id.into(),
            card_number: card_number.into(),
            scheme_code: scheme.into(),
            treatment_date: Some(convert::date_to_proto(date)),
        };
        let reply = retry_idempotent(ATTEMPTS, || {
            let (mut client, request) = (self.beneficiary.clone(), request.clone());
            async move { client.verify_eligibility(request).await }
        })
        .await;
        let reply = match reply {
            Ok(reply) => reply.into_inner(),
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                return Err(ApiError::invalid(
                    if beneficiary_id.is_empty() {
                        "card_number"
                    } else {
                        "beneficiary_id"
                    },
                    status.message().to_owned(),
                ));
            }
            Err(status) => return Err(peer(MeshService::BeneficiaryRegistry, &status)),
        };
        let person = reply.beneficiary.unwrap_or_default();
        let schemes = reply
            .schemes
            .into_iter()
            .map(|answer| SchemeCover {
                refusal: (!answer.eligible).then(|| refusal(&answer)),
                exhausted: answer.reason == b::IneligibilityReason::CoverExhausted as i32,
                network: if answer.network_scheme_code.is_empty() {
                    answer.scheme_code.clone()
                } else {
                    answer.network_scheme_code.clone()
                },
                reserved_packages: answer.reserved_package_codes,
                code: answer.scheme_code,
            })
            .collect();
        Ok(Eligibility {
            beneficiary_id: person.beneficiary_id,
            card_number: person.card_number,
            family_id: person.family_id,
            home_state: reply.home_state_code,
            schemes,
        })
    }

    /// CheckProfessionalLink: is the doctor linked to the facility on the day?
    pub async fn doctor_linked(
        &self,
        hpr_id: &str,
        hfr_id: &str,
        date: NaiveDate,
    ) -> Result<bool, ApiError> {
        let request = CheckProfessionalLinkRequest {
            hpr_id: hpr_id.into(),
            hfr_id: hfr_id.into(),
            date: Some(convert::date_to_proto(date)),
        };
        let reply = read(
            &self.facility,
            MeshService::FacilityRegistry,
            request,
            |mut client, request| async move { client.check_professional_link(request).await },
        )
        .await?;
        Ok(reply.linked)
    }

    /// The route of one specialty, with the treating doctor's link to the
    /// facility. Only a case outside the patient's home state is routed
    /// through portability (DESIGN §4); a hospital of the home state, by its
    /// HFR id, is asked for its empanelment directly, one call fewer.
    pub async fn route(&self, case: &CaseToRoute<'_>) -> Result<Route, ApiError> {
        let in_home_state =
            HfrId::parse(case.hfr_id).is_ok_and(|id| id.state().code() == case.home_state);
        if in_home_state && let Some(route) = self.route_in_state(case).await? {
            return Ok(route);
        }
        self.route_case(case).await
    }

    /// CheckEmpanelment under the patient's own scheme, answered as the
    /// in-state route: the home state pays at the treating (its own) state's
    /// rates. `None` when the registry places the facility in another state
    /// than its id does; portability routes that case.
    async fn route_in_state(&self, case: &CaseToRoute<'_>) -> Result<Option<Route>, ApiError> {
        let request = CheckEmpanelmentRequest {
            hfr_id: case.hfr_id.into(),
            scheme_code: case.scheme.into(),
            specialty_code: case.specialty.into(),
            date: Some(convert::date_to_proto(case.date)),
            treating_hpr_id: case.treating_hpr.into(),
        };
        let reply = read(
            &self.facility,
            MeshService::FacilityRegistry,
            request,
            |mut client, request| async move { client.check_empanelment(request).await },
        )
        .await?;
        let refusal = if reply.denial() == EmpanelmentDenial::FacilityUnknown {
            Some(format!("no facility with id {}", case.hfr_id))
        } else if reply.state_code != case.home_state {
            return Ok(None);
        } else {
            (!reply.allowed).then(|| reply.message.clone())
        };
        Ok(Some(Route {
            refusal,
            portability_case: false,
            treating_ownership: reply.ownership(),
            treating_state: reply.state_code,
            treating_district: reply.district_code,
            payer_scheme: case.scheme.to_owned(),
            payer_state: case.home_state.to_owned(),
            rate_rule: RateRule::TreatingState,
            agreement_id: String::new(),
            doctor_linked: reply.professional_linked,
        }))
    }

    /// RouteCase for one specialty (it checks empanelment, in state or out,
    /// and the treating doctor's link to the facility).
    async fn route_case(&self, case: &CaseToRoute<'_>) -> Result<Route, ApiError> {
        let request = RouteCaseRequest {
            home_state_code: case.home_state.into(),
            scheme_code: case.scheme.into(),
            hfr_id: case.hfr_id.into(),
            specialty_code: case.specialty.into(),
            treatment_date: Some(convert::date_to_proto(case.date)),
            treating_hpr_id: case.treating_hpr.into(),
        };
        let reply = read(
            &self.portability,
            MeshService::Portability,
            request,
            |mut client, request| async move { client.route_case(request).await },
        )
        .await?;
        Ok(Route {
            refusal: (!reply.allowed).then(|| reply.message.clone()),
            portability_case: reply.portability_case,
            treating_state: reply.treating_state_code.clone(),
            treating_district: reply.treating_district_code.clone(),
            treating_ownership: reply.treating_ownership(),
            payer_scheme: reply.payer_scheme_code.clone(),
            payer_state: reply.payer_state_code.clone(),
            rate_rule: reply.rate_rule(),
            agreement_id: reply.agreement_id,
            doctor_linked: reply.professional_linked,
        })
    }

    /// BlockAmount on the schemes of `hold`, drawn in order; idempotent by `hold.key`.
    pub async fn block(&self, hold: &Hold<'_>) -> Result<Move, ApiError> {
        let request = b::BlockAmountRequest {
            idempotency_key: hold.key.into(),
            beneficiary_id: hold.beneficiary_id.into(),
            scheme_code: String::new(),
            scheme_codes: hold.schemes.to_vec(),
            preauth_id: hold.preauth_id.into(),
            amount_paise: hold.amount.paise(),
            treatment_date: Some(convert::date_to_proto(hold.date)),
            reason: hold.reason.into(),
            actor: system(),
        };
        let reply = retry_idempotent(ATTEMPTS, || {
            let (mut client, request) = (self.beneficiary.clone(), request.clone());
            async move { client.block_amount(request).await }
        })
        .await;
        match reply {
            Ok(reply) => {
                let mut held = Vec::new();
                for hold in reply.into_inner().holds {
                    if !held.contains(&hold.scheme_code) {
                        held.push(hold.scheme_code);
                    }
                }
                Ok(Move::Done(held))
            }
            Err(status)
                if matches!(
                    status.code(),
                    Code::FailedPrecondition | Code::NotFound | Code::InvalidArgument
                ) =>
            {
                Ok(Move::Refused(status.message().to_owned()))
            }
            Err(status) => Err(peer(MeshService::BeneficiaryRegistry, &status)),
        }
    }

    /// ReleaseAmount of what a preauth still holds (all of it, or `amount`), idempotent by `key`.
    /// A preauth that holds nothing has nothing to release.
    pub async fn release(
        &self,
        key: &str,
        preauth_id: &str,
        amount: Option<Money>,
        reason: &str,
    ) -> Result<(), ApiError> {
        let request = b::ReleaseAmountRequest {
            idempotency_key: key.into(),
            preauth_id: preauth_id.into(),
            amount_paise: amount.map_or(0, Money::paise),
            claim_id: String::new(),
            reason: reason.into(),
            actor: system(),
        };
        let reply = retry_idempotent(ATTEMPTS, || {
            let (mut client, request) = (self.beneficiary.clone(), request.clone());
            async move { client.release_amount(request).await }
        })
        .await;
        match reply {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => Ok(()),
            Err(status) => Err(peer(MeshService::BeneficiaryRegistry, &status)),
        }
    }
}

/// Why the registry says a patient may not be treated under a scheme, in words.
fn refusal(answer: &b::SchemeEligibility) -> String {
    match b::IneligibilityReason::try_from(answer.reason).unwrap_or_default() {
        b::IneligibilityReason::NotInScheme => {
            "the patient is not enrolled in it (or too young for a senior cover)".to_owned()
        }
        b::IneligibilityReason::NoCard => "no card has been issued yet".to_owned(),
        b::IneligibilityReason::CardSuspended => "the card is suspended".to_owned(),
        b::IneligibilityReason::CoverExhausted => {
            "the cover for the policy year is used up".to_owned()
        }
        b::IneligibilityReason::Unspecified => "not eligible".to_owned(),
    }
}

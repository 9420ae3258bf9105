//! What claims asks of the other services, idempotent by claim-derived keys,
//! answered as plain values.

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError, MeshService,
    client::{TracedChannel, retry_idempotent},
};
use ayushman_proto::{
    beneficiary::v1::{
        ConsumeAmountRequest, ReleaseAmountRequest,
        beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    common::v1::{Actor, ActorKind},
    facility::v1::{
        GetFacilityRequest, facility_registry_service_client::FacilityRegistryServiceClient,
    },
    preauth::v1::{GetPreauthRequest, Preauth, preauth_service_client::PreauthServiceClient},
};
use tonic::Code;

const ATTEMPTS: u32 = 3;

/// The three services a claim touches.
#[derive(Clone)]
pub struct Peers {
    preauth: PreauthServiceClient<TracedChannel>,
    beneficiary: BeneficiaryRegistryServiceClient<TracedChannel>,
    facility: FacilityRegistryServiceClient<TracedChannel>,
}

fn system() -> Option<Actor> {
    Some(Actor {
        actor_id: "claims".into(),
        kind: ActorKind::System as i32,
        display_name: String::new(),
    })
}

impl Peers {
    /// Clients over the given channels.
    pub fn new(
        preauth: TracedChannel,
        beneficiary: TracedChannel,
        facility: TracedChannel,
    ) -> Self {
        Self {
            preauth: PreauthServiceClient::new(preauth),
            beneficiary: BeneficiaryRegistryServiceClient::new(beneficiary),
            facility: FacilityRegistryServiceClient::new(facility),
        }
    }

    /// The pre-authorisation a claim is for.
    pub async fn preauth(&self, preauth_id: &str) -> Result<Preauth, ApiError> {
        let request = GetPreauthRequest {
            preauth_id: preauth_id.into(),
        };
        let reply = retry_idempotent(ATTEMPTS, || {
            let (mut client, request) = (self.preauth.clone(), request.clone());
            async move { client.get_preauth(request).await }
        })
        .await;
        match reply {
            Ok(reply) => reply
                .into_inner()
                .preauth
                .ok_or_else(|| ApiError::internal("preauth missing from reply")),
            Err(status) if status.code() == Code::NotFound => Err(ApiError::invalid(
                "preauth_id",
                format!("no preauth {preauth_id}"),
            )),
            Err(status) => Err(ApiError::from_peer(MeshService::Preauth, &status)),
        }
    }

    /// Consumes the approved amount and releases the rest of the preauth's block.
    pub async fn consume(
        &self,
        claim_id: &str,
        preauth_id: &str,
        amount: Money,
    ) -> Result<(), ApiError> {
        let request = ConsumeAmountRequest {
            idempotency_key: format!("{claim_id}/consume"),
            preauth_id: preauth_id.into(),
            claim_id: claim_id.into(),
            amount_paise: amount.paise(),
            release_remainder: true,
            reason: "claim approved".into(),
            actor: system(),
        };
        retry_idempotent(ATTEMPTS, || {
            let (mut client, request) = (self.beneficiary.clone(), request.clone());
            async move { client.consume_amount(request).await }
        })
        .await
        .map(|_| ())
        .map_err(|status| ApiError::from_peer(MeshService::BeneficiaryRegistry, &status))
    }

    /// Releases everything the preauth still holds (a rejected claim).
    pub async fn release(&self, claim_id: &str, preauth_id: &str) -> Result<(), ApiError> {
        let request = ReleaseAmountRequest {
            idempotency_key: format!("{claim_id}/release"),
            preauth_id: preauth_id.into(),
            amount_paise: 0,
            claim_id: claim_id.into(),
            reason: "claim rejected".into(),
            actor: system(),
        };
        match retry_idempotent(ATTEMPTS, || {
            let (mut client, request) = (self.beneficiary.clone(), request.clone());
            async move { client.release_amount(request).await }
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => Ok(()),
            Err(status) => Err(ApiError::from_peer(
                MeshService::BeneficiaryRegistry,
                &status,
            )),
        }
    }

    /// The society a public hospital's claim money is credited to.
    pub async fn society(&self, hfr_id: &str) -> Result<String, ApiError> {
        let request = GetFacilityRequest {
            hfr_id: hfr_id.into(),
        };
        let reply = retry_idempotent(ATTEMPTS, || {
            let (mut client, request) = (self.facility.clone(), request.clone());
            async move { client.get_facility(request).await }
        })
        .await
        .map_err(|status| ApiError::from_peer(MeshService::FacilityRegistry, &status))?;
        Ok(reply
            .into_inner()
            .facility
            .map(|f| f.society_name)
            .unwrap_or_default())
    }
}

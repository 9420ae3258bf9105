//! What routing needs from the facility registry, asked over gRPC with the
//! platform's deadline and trace context, and answered as plain values.

use ayushman_platform::{ApiError, MeshService, client::TracedChannel, convert};
use ayushman_proto::{
    common::v1::Ownership,
    facility::v1::{
        CheckEmpanelmentRequest, EmpanelmentDenial,
        facility_registry_service_client::FacilityRegistryServiceClient,
    },
};
use chrono::NaiveDate;

/// Tries per call while the registry answers UNAVAILABLE (CheckEmpanelment is a read).
const ATTEMPTS: u32 = 3;

/// The facility registry as routing sees it.
#[derive(Clone)]
pub struct FacilityDirectory {
    client: FacilityRegistryServiceClient<TracedChannel>,
}

/// A facility's answer to "may you treat this specialty under this scheme on this day?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Empanelment {
    /// `None` when the registry knows no such facility.
    pub facility: Option<FacilityFacts>,
    /// `Err(reason)` when the facility may not treat the case.
    pub allowed: Result<(), String>,
    /// Whether the treating professional asked about is linked to the
    /// facility on the day; `None` when none was asked about.
    pub professional_linked: Option<bool>,
}

/// Where the facility is and who owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilityFacts {
    pub state_code: String,
    pub district_code: String,
    pub ownership: Ownership,
}

impl FacilityDirectory {
    /// Asks the registry over `channel`.
    pub fn new(channel: TracedChannel) -> Self {
        Self {
            client: FacilityRegistryServiceClient::new(channel),
        }
    }

    /// CheckEmpanelment (with the link of `treating_hpr`, when given),
    /// retried while the registry is briefly unavailable.
    pub async fn check(
        &self,
        hfr_id: &str,
        scheme: &str,
        specialty: &str,
        treating_hpr: Option<&str>,
        date: NaiveDate,
    ) -> Result<Empanelment, ApiError> {
        let request = CheckEmpanelmentRequest {
            hfr_id: hfr_id.to_owned(),
            scheme_code: scheme.to_owned(),
            specialty_code: specialty.to_owned(),
            date: Some(convert::date_to_proto(date)),
            treating_hpr_id: treating_hpr.unwrap_or_default().to_owned(),
        };
        let reply = ayushman_platform::client::retry_idempotent(ATTEMPTS, || {
            let mut client = self.client.clone();
            let request = request.clone();
            async move { client.check_empanelment(request).await }
        })
        .await
        .map_err(|status| ApiError::from_peer(MeshService::FacilityRegistry, &status))?
        .into_inner();
        let facility =
            (reply.denial() != EmpanelmentDenial::FacilityUnknown).then(|| FacilityFacts {
                state_code: reply.state_code.clone(),
                district_code: reply.district_code.clone(),
                ownership: reply.ownership(),
            });
        let allowed = if reply.allowed {
            Ok(())
        } else {
            Err(reply.message)
        };
        Ok(Empanelment {
            facility,
            allowed,
            professional_linked: reply.professional_linked,
        })
    }
}

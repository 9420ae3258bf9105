//! gRPC handlers of `FacilityRegistryService`, one file per area: facilities,
//! professionals, empanelments, OPD registrations. Each validates and
//! translates the request, calls a use case in `registry`, and translates
//! the answer back.

mod empanelments;
mod facilities;
mod opd;
mod professionals;

use ayushman_domain::{AbhaNumber, HfrId, HprId, StateCode};
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
    lifecycle::{Actor, Stored},
};
use ayushman_proto::{
    common::v1::{Location, Ownership, RowReject, YearMonth},
    facility::v1::{self as pb, facility_registry_service_server::FacilityRegistryService},
};
use chrono::{Datelike, NaiveDate};
use tonic::{Request, Response, Status};

use crate::{
    AppState, registry,
    store::{
        entities::{
            empanelled_specialty, empanelment, facility, opd_registration, professional,
            professional_link,
        },
        queries::{FacilityFilter, FullEmpanelment, Page},
    },
};

/// The `FacilityRegistryService` implementation.
pub struct FacilityRegistryApi {
    /// Database and limits shared by the handlers.
    pub state: AppState,
}

type Reply<T> = Result<Response<T>, Status>;

fn hfr_id(field: &str, value: &str) -> Result<String, ApiError> {
    HfrId::parse(value)
        .map(|id| id.to_string())
        .map_err(|e| ApiError::invalid(field, e.reason().to_owned()))
}

/// PERMISSION_DENIED unless the caller may act on the facility `hfr` (its
/// state is part of its HFR id).
fn ensure_facility(caller: &Caller, hfr: &str) -> Result<(), ApiError> {
    match HfrId::parse(hfr) {
        Ok(id) => caller.ensure_state(&id.state().code(), &format!("facility {hfr}")),
        Err(_) => Ok(()),
    }
}

fn hpr_id(field: &str, value: &str) -> Result<String, ApiError> {
    HprId::parse(value)
        .map(|id| id.to_string())
        .map_err(|e| ApiError::invalid(field, e.reason().to_owned()))
}

fn code(field: &str, value: &str) -> Result<String, ApiError> {
    convert::optional_text(value)
        .map(|v| v.to_ascii_uppercase())
        .ok_or_else(|| ApiError::invalid(field, "is required"))
}

fn page(size: i32, token: &str) -> Result<Page, ApiError> {
    let request = PageRequest::parse(size, token, 50, 500)?;
    Ok(Page {
        after: request.after,
        size: request.size,
    })
}

fn finish<T>(size: u64, rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
    PageRequest { size, after: None }.finish(rows, key)
}

fn date_or_today(
    field: &str,
    date: Option<&ayushman_proto::google::r#type::Date>,
) -> Result<NaiveDate, ApiError> {
    Ok(convert::date_from_proto(field, date)?.unwrap_or_else(convert::today_in_india))
}

#[tonic::async_trait]
impl FacilityRegistryService for FacilityRegistryApi {
    async fn register_facility(
        &self,
        request: Request<pb::RegisterFacilityRequest>,
    ) -> Reply<pb::RegisterFacilityResponse> {
        facilities::register_facility(&self.state, request).await
    }

    async fn get_facility(
        &self,
        request: Request<pb::GetFacilityRequest>,
    ) -> Reply<pb::GetFacilityResponse> {
        facilities::get_facility(&self.state, request).await
    }

    async fn list_facilities(
        &self,
        request: Request<pb::ListFacilitiesRequest>,
    ) -> Reply<pb::ListFacilitiesResponse> {
        facilities::list_facilities(&self.state, request).await
    }

    async fn update_facility_status(
        &self,
        request: Request<pb::UpdateFacilityStatusRequest>,
    ) -> Reply<pb::UpdateFacilityStatusResponse> {
        facilities::update_facility_status(&self.state, request).await
    }

    async fn register_professional(
        &self,
        request: Request<pb::RegisterProfessionalRequest>,
    ) -> Reply<pb::RegisterProfessionalResponse> {
        professionals::register_professional(&self.state, request).await
    }

    async fn get_professional(
        &self,
        request: Request<pb::GetProfessionalRequest>,
    ) -> Reply<pb::GetProfessionalResponse> {
        professionals::get_professional(&self.state, request).await
    }

    async fn list_professionals(
        &self,
        request: Request<pb::ListProfessionalsRequest>,
    ) -> Reply<pb::ListProfessionalsResponse> {
        professionals::list_professionals(&self.state, request).await
    }

    async fn link_professional(
        &self,
        request: Request<pb::LinkProfessionalRequest>,
    ) -> Reply<pb::LinkProfessionalResponse> {
        professionals::link_professional(&self.state, request).await
    }

    async fn unlink_professional(
        &self,
        request: Request<pb::UnlinkProfessionalRequest>,
    ) -> Reply<pb::UnlinkProfessionalResponse> {
        professionals::unlink_professional(&self.state, request).await
    }

    async fn check_professional_link(
        &self,
        request: Request<pb::CheckProfessionalLinkRequest>,
    ) -> Reply<pb::CheckProfessionalLinkResponse> {
        professionals::check_professional_link(&self.state, request).await
    }

    async fn upsert_empanelment(
        &self,
        request: Request<pb::UpsertEmpanelmentRequest>,
    ) -> Reply<pb::UpsertEmpanelmentResponse> {
        empanelments::upsert_empanelment(&self.state, request).await
    }

    async fn get_empanelment(
        &self,
        request: Request<pb::GetEmpanelmentRequest>,
    ) -> Reply<pb::GetEmpanelmentResponse> {
        empanelments::get_empanelment(&self.state, request).await
    }

    async fn list_empanelments(
        &self,
        request: Request<pb::ListEmpanelmentsRequest>,
    ) -> Reply<pb::ListEmpanelmentsResponse> {
        empanelments::list_empanelments(&self.state, request).await
    }

    async fn update_empanelment_status(
        &self,
        request: Request<pb::UpdateEmpanelmentStatusRequest>,
    ) -> Reply<pb::UpdateEmpanelmentStatusResponse> {
        empanelments::update_empanelment_status(&self.state, request).await
    }

    async fn check_empanelment(
        &self,
        request: Request<pb::CheckEmpanelmentRequest>,
    ) -> Reply<pb::CheckEmpanelmentResponse> {
        empanelments::check_empanelment(&self.state, request).await
    }

    async fn record_opd_registration(
        &self,
        request: Request<pb::RecordOpdRegistrationRequest>,
    ) -> Reply<pb::RecordOpdRegistrationResponse> {
        opd::record_opd_registration(&self.state, request).await
    }

    async fn import_opd_registrations(
        &self,
        request: Request<tonic::Streaming<pb::ImportOpdRegistrationsRequest>>,
    ) -> Reply<pb::ImportOpdRegistrationsResponse> {
        opd::import_opd_registrations(&self.state, request).await
    }

    async fn opd_registration_report(
        &self,
        request: Request<pb::OpdRegistrationReportRequest>,
    ) -> Reply<pb::OpdRegistrationReportResponse> {
        opd::opd_registration_report(&self.state, request).await
    }
}

//! gRPC handlers of `FacilityRegistryService`: validate and translate the
//! request, call a use case in `registry`, translate the answer back.

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
    AppState, registry, rules,
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

fn facility_to_proto(row: facility::Model) -> pb::Facility {
    pb::Facility {
        hfr_id: row.hfr_id,
        name: row.name,
        facility_type: pb::FacilityType::from_str_name(&row.facility_type).unwrap_or_default()
            as i32,
        ownership: Ownership::from_str_name(&row.ownership).unwrap_or_default() as i32,
        location: Some(Location {
            state_code: row.state_code,
            district_code: row.district_code,
            block_code: row.block_code,
            village_code: String::new(),
        }),
        beds: row.beds,
        abdm_enabled: row.abdm_enabled,
        status: pb::FacilityStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        society_name: row.society_name,
        society_account_id: row.society_account_id,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
    }
}

fn professional_to_proto(
    (row, links): (professional::Model, Vec<professional_link::Model>),
) -> pb::Professional {
    pb::Professional {
        hpr_id: row.hpr_id,
        name: row.name,
        council: row.council,
        registration_number: row.registration_number,
        system_of_medicine: pb::SystemOfMedicine::from_str_name(&row.system_of_medicine)
            .unwrap_or_default() as i32,
        qualifications: row.qualifications.lines().map(str::to_owned).collect(),
        specialty_codes: row.specialty_codes.lines().map(str::to_owned).collect(),
        links: links.into_iter().map(link_to_proto).collect(),
    }
}

fn link_to_proto(link: professional_link::Model) -> pb::FacilityLink {
    pb::FacilityLink {
        hfr_id: link.hfr_id,
        role: pb::ProfessionalRole::from_str_name(&link.role).unwrap_or_default() as i32,
        linked_from: Some(convert::date_to_proto(link.linked_from)),
        linked_until: link.linked_until.map(convert::date_to_proto),
    }
}

fn empanelment_to_proto((row, specialties, history): FullEmpanelment) -> pb::Empanelment {
    pb::Empanelment {
        hfr_id: row.hfr_id,
        scheme_code: row.scheme_code,
        specialties: specialties
            .into_iter()
            .map(|s| pb::EmpanelledSpecialty {
                specialty_code: s.specialty_code,
                effective_from: Some(convert::date_to_proto(s.effective_from)),
                effective_until: s.effective_until.map(convert::date_to_proto),
            })
            .collect(),
        status: *row.status as i32,
        status_reason: row.status_reason,
        accreditation_level: pb::AccreditationLevel::from_str_name(&row.accreditation_level)
            .unwrap_or_default() as i32,
        valid_from: Some(convert::date_to_proto(row.valid_from)),
        valid_until: row.valid_until.map(convert::date_to_proto),
        history: history.iter().map(|h| h.to_proto()).collect(),
    }
}

/// Validates a facility to register; every bad field is reported at once.
fn new_facility(facility: Option<&pb::Facility>) -> Result<facility::Model, ApiError> {
    let Some(f) = facility else {
        return Err(ApiError::invalid("facility", "is required"));
    };
    let mut violations = FieldViolations::new();
    let hfr = violations.check("facility.hfr_id", HfrId::parse(&f.hfr_id));
    violations.require("facility.name", &f.name);
    violations.max_chars("facility.name", &f.name, 200);
    violations.max_chars("facility.society_name", &f.society_name, 200);
    let facility_type = violations.check(
        "facility.facility_type",
        convert::required_enum::<pb::FacilityType>("facility.facility_type", f.facility_type)
            .map_err(|_| "is required: a known facility type"),
    );
    let ownership = violations.check(
        "facility.ownership",
        convert::required_enum::<Ownership>("facility.ownership", f.ownership)
            .map_err(|_| "is required: public or private"),
    );
    let location = f.location.clone().unwrap_or_default();
    let state = violations.check(
        "facility.location.state_code",
        StateCode::parse(&location.state_code),
    );
    violations.require("facility.location.district_code", &location.district_code);
    if let (Some(hfr), Some(state)) = (hfr, state)
        && hfr.state() != state
    {
        violations.add(
            "facility.location.state_code",
            format!("is {state} but the HFR id is of state {}", hfr.state()),
        );
    }
    if f.beds < 0 {
        violations.add("facility.beds", "cannot be negative");
    }
    if ownership == Some(Ownership::Public) && f.society_name.trim().is_empty() {
        violations.add(
            "facility.society_name",
            "is required for a public facility: the hospital society credited with claim money",
        );
    }
    let status = match convert::optional_enum::<pb::FacilityStatus>("facility.status", f.status) {
        Ok(status) => status.unwrap_or(pb::FacilityStatus::Active),
        Err(_) => {
            violations.add("facility.status", "is not a known status");
            pb::FacilityStatus::Active
        }
    };
    violations.into_result()?;
    Ok(facility::Model {
        hfr_id: hfr.map(|h| h.to_string()).unwrap_or_default(),
        name: f.name.trim().to_owned(),
        facility_type: facility_type.unwrap_or_default().as_str_name().to_owned(),
        ownership: ownership.unwrap_or_default().as_str_name().to_owned(),
        state_code: location.state_code.trim().to_owned(),
        district_code: location.district_code.trim().to_owned(),
        block_code: location.block_code.trim().to_owned(),
        beds: f.beds,
        abdm_enabled: f.abdm_enabled,
        status: status.as_str_name().to_owned(),
        society_name: f.society_name.trim().to_owned(),
        society_account_id: f.society_account_id.trim().to_owned(),
        created_at: ayushman_platform::db::now(),
    })
}

fn new_professional(
    professional: Option<&pb::Professional>,
) -> Result<professional::Model, ApiError> {
    let Some(p) = professional else {
        return Err(ApiError::invalid("professional", "is required"));
    };
    let mut violations = FieldViolations::new();
    let hpr = violations.check("professional.hpr_id", HprId::parse(&p.hpr_id));
    violations.require("professional.name", &p.name);
    violations.require("professional.council", &p.council);
    violations.require("professional.registration_number", &p.registration_number);
    let system = violations.check(
        "professional.system_of_medicine",
        convert::required_enum::<pb::SystemOfMedicine>(
            "professional.system_of_medicine",
            p.system_of_medicine,
        )
        .map_err(|_| "is required: a known system of medicine"),
    );
    violations.into_result()?;
    let lines = |items: &[String], upper: bool| {
        items
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                if upper {
                    s.to_ascii_uppercase()
                } else {
                    s.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(professional::Model {
        hpr_id: hpr.map(|h| h.to_string()).unwrap_or_default(),
        name: p.name.trim().to_owned(),
        council: p.council.trim().to_owned(),
        registration_number: p.registration_number.trim().to_owned(),
        system_of_medicine: system.unwrap_or_default().as_str_name().to_owned(),
        qualifications: lines(&p.qualifications, false),
        specialty_codes: lines(&p.specialty_codes, true),
        created_at: ayushman_platform::db::now(),
    })
}

type EmpanelmentRows = (empanelment::Model, Vec<empanelled_specialty::Model>);

fn new_empanelment(empanelment: Option<&pb::Empanelment>) -> Result<EmpanelmentRows, ApiError> {
    let Some(e) = empanelment else {
        return Err(ApiError::invalid("empanelment", "is required"));
    };
    let mut violations = FieldViolations::new();
    let hfr = violations.check("empanelment.hfr_id", HfrId::parse(&e.hfr_id));
    violations.require("empanelment.scheme_code", &e.scheme_code);
    let status = violations.check(
        "empanelment.status",
        convert::required_enum::<pb::EmpanelmentStatus>("empanelment.status", e.status)
            .map_err(|_| "is required"),
    );
    let accreditation = convert::optional_enum::<pb::AccreditationLevel>(
        "empanelment.accreditation_level",
        e.accreditation_level,
    )
    .map(|a| a.unwrap_or(pb::AccreditationLevel::None));
    let accreditation = violations.check(
        "empanelment.accreditation_level",
        accreditation.map_err(|_| "is not a known level"),
    );
    let valid_from = violations.check(
        "empanelment.valid_from",
        convert::required_date("empanelment.valid_from", e.valid_from.as_ref())
            .map_err(|_| "is required and must be a real date"),
    );
    let valid_until = violations
        .check(
            "empanelment.valid_until",
            convert::date_from_proto("empanelment.valid_until", e.valid_until.as_ref())
                .map_err(|_| "must be a real date"),
        )
        .flatten();
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until < from
    {
        violations.add("empanelment.valid_until", "is before valid_from");
    }
    let hfr_text = hfr.map(|h| h.to_string()).unwrap_or_default();
    let scheme = e.scheme_code.trim().to_ascii_uppercase();
    let mut specialties = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, s) in e.specialties.iter().enumerate() {
        let field = |name: &str| format!("empanelment.specialties[{i}].{name}");
        let code = s.specialty_code.trim().to_ascii_uppercase();
        if code.is_empty() {
            violations.add(field("specialty_code"), "is required");
        } else if !seen.insert(code.clone()) {
            violations.add(field("specialty_code"), format!("{code} is listed twice"));
        }
        let from = convert::required_date(&field("effective_from"), s.effective_from.as_ref());
        let from = violations.check(
            &field("effective_from"),
            from.map_err(|_| "is required and must be a real date"),
        );
        let until = convert::date_from_proto(&field("effective_until"), s.effective_until.as_ref());
        let until = violations
            .check(
                &field("effective_until"),
                until.map_err(|_| "must be a real date"),
            )
            .flatten();
        if let (Some(from), Some(until)) = (from, until)
            && until < from
        {
            violations.add(field("effective_until"), "is before effective_from");
        }
        specialties.push(empanelled_specialty::Model {
            hfr_id: hfr_text.clone(),
            scheme_code: scheme.clone(),
            specialty_code: code,
            effective_from: from.unwrap_or_default(),
            effective_until: until,
        });
    }
    violations.into_result()?;
    let row = empanelment::Model {
        hfr_id: hfr_text,
        scheme_code: scheme,
        status: Stored(status.unwrap_or_default()),
        status_reason: e.status_reason.trim().to_owned(),
        accreditation_level: accreditation.unwrap_or_default().as_str_name().to_owned(),
        valid_from: valid_from.unwrap_or_default(),
        valid_until,
    };
    Ok((row, specialties))
}

fn date_or_today(
    field: &str,
    date: Option<&ayushman_proto::google::r#type::Date>,
) -> Result<NaiveDate, ApiError> {
    Ok(convert::date_from_proto(field, date)?.unwrap_or_else(convert::today_in_india))
}

/// Registrations written per transaction by ImportOpdRegistrations: large enough
/// to amortise the commit, small enough to keep memory flat.
const OPD_IMPORT_BATCH: usize = 1000;

/// The fields of one OPD registration, from either the single or the streamed RPC.
struct OpdFields<'a> {
    hfr_id: &'a str,
    visit_date: Option<&'a ayushman_proto::google::r#type::Date>,
    mode: i32,
    abha_number: &'a str,
    token_number: &'a str,
}

/// Validates an OPD registration, reporting every bad field.
fn opd_row(opd: &OpdFields<'_>) -> Result<opd_registration::Model, FieldViolations> {
    let mut violations = FieldViolations::new();
    let hfr = violations.check("hfr_id", HfrId::parse(opd.hfr_id));
    let visit = violations.check(
        "visit_date",
        convert::required_date("visit_date", opd.visit_date)
            .map_err(|_| "is required and must be a real date"),
    );
    if let Some(visit) = visit
        && visit > convert::today_in_india()
    {
        violations.add("visit_date", "is in the future");
    }
    let mode = violations.check(
        "mode",
        convert::required_enum::<pb::OpdRegistrationMode>("mode", opd.mode)
            .map_err(|_| "is required: ABHA Scan & Share or counter"),
    );
    let abha = match mode {
        Some(pb::OpdRegistrationMode::AbhaScanAndShare) => violations
            .check("abha_number", AbhaNumber::parse(opd.abha_number))
            .map(|a| a.to_string()),
        Some(_) if !opd.abha_number.trim().is_empty() => {
            violations.add(
                "abha_number",
                "is only recorded for ABHA Scan & Share registrations",
            );
            None
        }
        _ => None,
    };
    violations.require("token_number", opd.token_number);
    if !violations.is_empty() {
        return Err(violations);
    }
    let visit = visit.unwrap_or_default();
    Ok(opd_registration::Model {
        registration_id: format!("OPD-{}", uuid::Uuid::now_v7().simple()),
        hfr_id: hfr.map(|h| h.to_string()).unwrap_or_default(),
        visit_date: visit,
        visit_month: visit.year() * 100 + visit.month() as i32,
        mode: mode.unwrap_or_default().as_str_name().to_owned(),
        abha_number: abha.unwrap_or_default(),
        token_number: opd.token_number.trim().to_owned(),
        created_at: ayushman_platform::db::now(),
    })
}

impl FacilityRegistryApi {
    async fn record_batch(
        &self,
        batch: Vec<opd_registration::Model>,
        summary: &mut pb::ImportOpdRegistrationsResponse,
    ) -> Result<(), ApiError> {
        if batch.is_empty() {
            return Ok(());
        }
        let size = batch.len() as i64;
        let txn = ayushman_platform::db::begin_write(&self.state.db).await?;
        let recorded = registry::import_opd_registrations(&txn, batch).await?;
        txn.commit().await?;
        let recorded = i64::try_from(recorded).unwrap_or(size);
        summary.recorded += recorded;
        summary.duplicates += size - recorded;
        Ok(())
    }
}

#[tonic::async_trait]
impl FacilityRegistryService for FacilityRegistryApi {
    async fn register_facility(
        &self,
        request: Request<pb::RegisterFacilityRequest>,
    ) -> Reply<pb::RegisterFacilityResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let row = new_facility(request.facility.as_ref())?;
        ensure_facility(&caller, &row.hfr_id)?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = registry::register_facility(txn, row).await?;
                    Ok(pb::RegisterFacilityResponse {
                        facility: Some(facility_to_proto(row)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_facility(
        &self,
        request: Request<pb::GetFacilityRequest>,
    ) -> Reply<pb::GetFacilityResponse> {
        let hfr = hfr_id("hfr_id", &request.get_ref().hfr_id)?;
        ensure_facility(&Caller::of(&request), &hfr)?;
        let row = registry::get_facility(&self.state.db, &hfr).await?;
        Ok(Response::new(pb::GetFacilityResponse {
            facility: Some(facility_to_proto(row)),
        }))
    }

    async fn list_facilities(
        &self,
        request: Request<pb::ListFacilitiesRequest>,
    ) -> Reply<pb::ListFacilitiesResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let page = page(r.page_size, &r.page_token)?;
        if let Some(district) = convert::optional_text(&r.district_code) {
            caller.ensure_district(&district, "district_code")?;
        }
        let filter = FacilityFilter {
            state_code: caller
                .scoped_state_filter(convert::optional_text(&r.state_code), "state_code")?,
            district_code: convert::optional_text(&r.district_code),
            facility_type: convert::optional_enum::<pb::FacilityType>(
                "facility_type",
                r.facility_type,
            )?
            .map(|t| t.as_str_name().to_owned()),
            ownership: convert::optional_enum::<Ownership>("ownership", r.ownership)?
                .map(|o| o.as_str_name().to_owned()),
            scheme_code: convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase()),
            specialty_code: convert::optional_text(&r.specialty_code)
                .map(|s| s.to_ascii_uppercase()),
        };
        if let Some(state) = &filter.state_code {
            StateCode::parse(state)
                .map_err(|e| ApiError::invalid("state_code", e.reason().to_owned()))?;
        }
        let rows = crate::store::queries::list_facilities(&self.state.db, &filter, &page)
            .await
            .map_err(ApiError::from)?;
        let (rows, next_page_token) = finish(page.size, rows, |f| f.hfr_id.clone());
        Ok(Response::new(pb::ListFacilitiesResponse {
            facilities: rows.into_iter().map(facility_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_facility_status(
        &self,
        request: Request<pb::UpdateFacilityStatusRequest>,
    ) -> Reply<pb::UpdateFacilityStatusResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let hfr = hfr_id("hfr_id", &request.hfr_id)?;
        ensure_facility(&caller, &hfr)?;
        let status = convert::required_enum::<pb::FacilityStatus>("status", request.status)?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = registry::update_facility_status(txn, &hfr, status).await?;
                    Ok(pb::UpdateFacilityStatusResponse {
                        facility: Some(facility_to_proto(row)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn register_professional(
        &self,
        request: Request<pb::RegisterProfessionalRequest>,
    ) -> Reply<pb::RegisterProfessionalResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let row = new_professional(request.professional.as_ref())?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = registry::register_professional(txn, row).await?;
                    let links = crate::store::queries::links_of(txn, &row.hpr_id).await?;
                    Ok(pb::RegisterProfessionalResponse {
                        professional: Some(professional_to_proto((row, links))),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_professional(
        &self,
        request: Request<pb::GetProfessionalRequest>,
    ) -> Reply<pb::GetProfessionalResponse> {
        let hpr = hpr_id("hpr_id", &request.get_ref().hpr_id)?;
        let found = registry::get_professional(&self.state.db, &hpr).await?;
        Ok(Response::new(pb::GetProfessionalResponse {
            professional: Some(professional_to_proto(found)),
        }))
    }

    async fn list_professionals(
        &self,
        request: Request<pb::ListProfessionalsRequest>,
    ) -> Reply<pb::ListProfessionalsResponse> {
        let r = request.into_inner();
        let page = page(r.page_size, &r.page_token)?;
        let hfr = match convert::optional_text(&r.hfr_id) {
            Some(id) => Some(hfr_id("hfr_id", &id)?),
            None => None,
        };
        let specialty = convert::optional_text(&r.specialty_code).map(|s| s.to_ascii_uppercase());
        let rows = crate::store::queries::list_professionals(
            &self.state.db,
            hfr.as_deref(),
            specialty.as_deref(),
            &page,
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = finish(page.size, rows, |p| p.hpr_id.clone());
        let mut professionals = Vec::with_capacity(rows.len());
        for row in rows {
            let links = crate::store::queries::links_of(&self.state.db, &row.hpr_id)
                .await
                .map_err(ApiError::from)?;
            professionals.push(professional_to_proto((row, links)));
        }
        Ok(Response::new(pb::ListProfessionalsResponse {
            professionals,
            next_page_token,
        }))
    }

    async fn link_professional(
        &self,
        request: Request<pb::LinkProfessionalRequest>,
    ) -> Reply<pb::LinkProfessionalResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        ensure_facility(&caller, request.hfr_id.trim())?;
        let mut violations = FieldViolations::new();
        let hpr = violations.check("hpr_id", HprId::parse(&request.hpr_id));
        let hfr = violations.check("hfr_id", HfrId::parse(&request.hfr_id));
        let role = violations.check(
            "role",
            convert::required_enum::<pb::ProfessionalRole>("role", request.role)
                .map_err(|_| "is required: a known role"),
        );
        let from = violations.check(
            "linked_from",
            date_or_today("linked_from", request.linked_from.as_ref())
                .map_err(|_| "must be a real date"),
        );
        violations.into_result()?;
        let (hpr, hfr) = (
            hpr.map(|h| h.to_string()).unwrap_or_default(),
            hfr.map(|h| h.to_string()).unwrap_or_default(),
        );
        let (role, from) = (
            role.unwrap_or_default().as_str_name(),
            from.unwrap_or_default(),
        );
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let found = registry::link_professional(txn, &hpr, &hfr, role, from).await?;
                    Ok(pb::LinkProfessionalResponse {
                        professional: Some(professional_to_proto(found)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn unlink_professional(
        &self,
        request: Request<pb::UnlinkProfessionalRequest>,
    ) -> Reply<pb::UnlinkProfessionalResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let hpr = hpr_id("hpr_id", &request.hpr_id)?;
        let hfr = hfr_id("hfr_id", &request.hfr_id)?;
        ensure_facility(&caller, &hfr)?;
        let until = date_or_today("linked_until", request.linked_until.as_ref())?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let found = registry::unlink_professional(txn, &hpr, &hfr, until).await?;
                    Ok(pb::UnlinkProfessionalResponse {
                        professional: Some(professional_to_proto(found)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn check_professional_link(
        &self,
        request: Request<pb::CheckProfessionalLinkRequest>,
    ) -> Reply<pb::CheckProfessionalLinkResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let hpr = hpr_id("hpr_id", &r.hpr_id)?;
        let hfr = hfr_id("hfr_id", &r.hfr_id)?;
        ensure_facility(&caller, &hfr)?;
        let date = date_or_today("date", r.date.as_ref())?;
        let role = registry::check_link(&self.state.db, &hpr, &hfr, date).await?;
        Ok(Response::new(pb::CheckProfessionalLinkResponse {
            linked: role.is_some(),
            role: role
                .and_then(|r| pb::ProfessionalRole::from_str_name(&r))
                .unwrap_or_default() as i32,
        }))
    }

    async fn upsert_empanelment(
        &self,
        request: Request<pb::UpsertEmpanelmentRequest>,
    ) -> Reply<pb::UpsertEmpanelmentResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let (row, specialties) = new_empanelment(request.empanelment.as_ref())?;
        ensure_facility(&caller, &row.hfr_id)?;
        let actor = Actor::of(&caller, None);
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let full = registry::upsert_empanelment(txn, row, specialties, &actor).await?;
                    Ok(pb::UpsertEmpanelmentResponse {
                        empanelment: Some(empanelment_to_proto(full)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_empanelment(
        &self,
        request: Request<pb::GetEmpanelmentRequest>,
    ) -> Reply<pb::GetEmpanelmentResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let hfr = hfr_id("hfr_id", &r.hfr_id)?;
        ensure_facility(&caller, &hfr)?;
        let scheme = code("scheme_code", &r.scheme_code)?;
        let full = registry::get_empanelment(&self.state.db, &hfr, &scheme).await?;
        Ok(Response::new(pb::GetEmpanelmentResponse {
            empanelment: Some(empanelment_to_proto(full)),
        }))
    }

    async fn list_empanelments(
        &self,
        request: Request<pb::ListEmpanelmentsRequest>,
    ) -> Reply<pb::ListEmpanelmentsResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let page = page(r.page_size, &r.page_token)?;
        let hfr = match convert::optional_text(&r.hfr_id) {
            Some(id) => Some(hfr_id("hfr_id", &id)?),
            None => None,
        };
        if let Some(hfr) = &hfr {
            ensure_facility(&caller, hfr)?;
        }
        let scheme = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
        let status =
            convert::optional_enum::<pb::EmpanelmentStatus>("status", r.status)?.map(Stored);
        let rows = crate::store::queries::list_empanelments(
            &self.state.db,
            hfr.as_deref(),
            scheme.as_deref(),
            status,
            &page,
        )
        .await
        .map_err(ApiError::from)?;
        let (mut rows, next_page_token) = finish(page.size, rows, |e| {
            format!("{}/{}", e.hfr_id, e.scheme_code)
        });
        rows.retain(|e| ensure_facility(&caller, &e.hfr_id).is_ok());
        let mut empanelments = Vec::with_capacity(rows.len());
        for row in rows {
            let full =
                registry::get_empanelment(&self.state.db, &row.hfr_id, &row.scheme_code).await?;
            empanelments.push(empanelment_to_proto(full));
        }
        Ok(Response::new(pb::ListEmpanelmentsResponse {
            empanelments,
            next_page_token,
        }))
    }

    async fn update_empanelment_status(
        &self,
        request: Request<pb::UpdateEmpanelmentStatusRequest>,
    ) -> Reply<pb::UpdateEmpanelmentStatusResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let hfr = hfr_id("hfr_id", &request.hfr_id)?;
        ensure_facility(&caller, &hfr)?;
        let scheme = code("scheme_code", &request.scheme_code)?;
        let status = convert::required_enum::<pb::EmpanelmentStatus>("status", request.status)?;
        let needs_reason = matches!(
            status,
            pb::EmpanelmentStatus::Suspended | pb::EmpanelmentStatus::DeEmpanelled
        );
        if needs_reason && request.reason.trim().is_empty() {
            return Err(ApiError::invalid(
                "reason",
                "is required to suspend or de-empanel (e.g. the order number)",
            )
            .into());
        }
        let actor = Actor::of(&caller, request.actor.as_ref());
        let reason = request.reason.trim().to_owned();
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let full = registry::update_empanelment_status(
                        txn, &hfr, &scheme, status, &reason, &actor,
                    )
                    .await?;
                    Ok(pb::UpdateEmpanelmentStatusResponse {
                        empanelment: Some(empanelment_to_proto(full)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn check_empanelment(
        &self,
        request: Request<pb::CheckEmpanelmentRequest>,
    ) -> Reply<pb::CheckEmpanelmentResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let mut violations = FieldViolations::new();
        let hfr = violations.check("hfr_id", HfrId::parse(&r.hfr_id));
        violations.require("scheme_code", &r.scheme_code);
        violations.require("specialty_code", &r.specialty_code);
        let date = violations.check(
            "date",
            date_or_today("date", r.date.as_ref()).map_err(|_| "must be a real date"),
        );
        violations.into_result()?;
        let hfr = hfr.map(|h| h.to_string()).unwrap_or_default();
        ensure_facility(&caller, &hfr)?;
        let (scheme, specialty) = (
            r.scheme_code.trim().to_ascii_uppercase(),
            r.specialty_code.trim().to_ascii_uppercase(),
        );
        let check = registry::check_empanelment(
            &self.state.db,
            &hfr,
            &scheme,
            &specialty,
            date.unwrap_or_default(),
        )
        .await?;
        let (allowed, denial, message) = match check.outcome {
            Ok(()) => (true, pb::EmpanelmentDenial::Unspecified, String::new()),
            Err(refusal) => (false, refusal.denial, refusal.message),
        };
        let facility = check.facility;
        Ok(Response::new(pb::CheckEmpanelmentResponse {
            allowed,
            denial: denial as i32,
            message,
            state_code: facility
                .as_ref()
                .map(|f| f.state_code.clone())
                .unwrap_or_default(),
            district_code: facility
                .as_ref()
                .map(|f| f.district_code.clone())
                .unwrap_or_default(),
            ownership: facility
                .as_ref()
                .and_then(|f| Ownership::from_str_name(&f.ownership))
                .unwrap_or_default() as i32,
            accreditation_level: check
                .empanelment
                .and_then(|e| pb::AccreditationLevel::from_str_name(&e.accreditation_level))
                .unwrap_or_default() as i32,
        }))
    }

    async fn record_opd_registration(
        &self,
        request: Request<pb::RecordOpdRegistrationRequest>,
    ) -> Reply<pb::RecordOpdRegistrationResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let opd = OpdFields {
            hfr_id: &request.hfr_id,
            visit_date: request.visit_date.as_ref(),
            mode: request.mode,
            abha_number: &request.abha_number,
            token_number: &request.token_number,
        };
        let row = opd_row(&opd).map_err(ApiError::InvalidArgument)?;
        ensure_facility(&caller, &row.hfr_id)?;
        caller.ensure_facility(&row.hfr_id, "this OPD registration")?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = registry::record_opd_registration(txn, row).await?;
                    Ok(pb::RecordOpdRegistrationResponse {
                        registration_id: row.registration_id,
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn import_opd_registrations(
        &self,
        request: Request<tonic::Streaming<pb::ImportOpdRegistrationsRequest>>,
    ) -> Reply<pb::ImportOpdRegistrationsResponse> {
        let caller = Caller::of(&request);
        let mut stream = request.into_inner();
        let mut summary = pb::ImportOpdRegistrationsResponse::default();
        let mut known_facilities: std::collections::HashMap<String, bool> =
            std::collections::HashMap::new();
        let mut batch = Vec::with_capacity(OPD_IMPORT_BATCH);
        while let Some(item) = stream.message().await? {
            summary.rows_received += 1;
            let row_number = summary.rows_received;
            let opd = OpdFields {
                hfr_id: &item.hfr_id,
                visit_date: item.visit_date.as_ref(),
                mode: item.mode,
                abha_number: &item.abha_number,
                token_number: &item.token_number,
            };
            let row = match opd_row(&opd).and_then(|row| {
                let mut v = FieldViolations::new();
                v.check("hfr_id", ensure_facility(&caller, &row.hfr_id));
                v.check(
                    "hfr_id",
                    caller.ensure_facility(&row.hfr_id, "this OPD registration"),
                );
                if v.is_empty() { Ok(row) } else { Err(v) }
            }) {
                Ok(row) => row,
                Err(violations) => {
                    summary.rejected += 1;
                    summary
                        .rejects
                        .extend(violations.iter().map(|(field, reason)| RowReject {
                            row_number,
                            field: field.to_owned(),
                            reason: reason.to_owned(),
                        }));
                    continue;
                }
            };
            let known = match known_facilities.get(&row.hfr_id) {
                Some(known) => *known,
                None => {
                    let known = registry::facility_exists(&self.state.db, &row.hfr_id).await?;
                    known_facilities.insert(row.hfr_id.clone(), known);
                    known
                }
            };
            if !known {
                summary.rejected += 1;
                summary.rejects.push(RowReject {
                    row_number,
                    field: "hfr_id".into(),
                    reason: format!("no facility with id {}", row.hfr_id),
                });
                continue;
            }
            batch.push(row);
            if batch.len() == OPD_IMPORT_BATCH {
                self.record_batch(std::mem::take(&mut batch), &mut summary)
                    .await?;
            }
        }
        self.record_batch(batch, &mut summary).await?;
        Ok(Response::new(summary))
    }

    async fn opd_registration_report(
        &self,
        request: Request<pb::OpdRegistrationReportRequest>,
    ) -> Reply<pb::OpdRegistrationReportResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let hfr = match convert::optional_text(&r.hfr_id) {
            Some(id) => Some(hfr_id("hfr_id", &id)?),
            None => None,
        };
        let district = convert::optional_text(&r.district_code);
        if let Some(hfr) = &hfr {
            ensure_facility(&caller, hfr)?;
        }
        if let Some(district) = &district {
            caller.ensure_district(district, "district_code")?;
        }
        if hfr.is_none() && district.is_none() {
            return Err(ApiError::invalid(
                "hfr_id",
                "give a facility (hfr_id) or a district (district_code)",
            )
            .into());
        }
        let from = convert::month_number("from_month", r.from_month.as_ref())?;
        let to = convert::month_number("to_month", r.to_month.as_ref())?;
        if to < from {
            return Err(ApiError::invalid("to_month", "is before from_month").into());
        }
        let abha_mode = pb::OpdRegistrationMode::AbhaScanAndShare.as_str_name();
        let lines = registry::opd_report(
            &self.state.db,
            hfr.as_deref(),
            district.as_deref(),
            from,
            to,
            abha_mode,
        )
        .await?;
        let (total, via_abha) = lines
            .iter()
            .fold((0, 0), |(t, a), l| (t + l.total, a + l.via_abha));
        let rows = lines
            .into_iter()
            .map(|line| pb::OpdReportRow {
                abha_share_basis_points: rules::share_basis_points(line.via_abha, line.total),
                hfr_id: line.hfr_id,
                facility_name: line.facility_name,
                month: Some(YearMonth {
                    year: line.month / 100,
                    month: line.month % 100,
                }),
                total: line.total,
                via_abha: line.via_abha,
            })
            .collect();
        Ok(Response::new(pb::OpdRegistrationReportResponse {
            rows,
            total: Some(pb::OpdReportRow {
                total,
                via_abha,
                abha_share_basis_points: rules::share_basis_points(via_abha, total),
                ..Default::default()
            }),
        }))
    }
}

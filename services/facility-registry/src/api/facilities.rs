//! RegisterFacility, GetFacility, ListFacilities, UpdateFacilityStatus.

use super::*;

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
        hfr_check: Some(pb::RegistryCheck {
            name: row.hfr_name,
            facility_type: row.hfr_facility_type,
            ownership: row.hfr_ownership,
            checked_at: row.hfr_checked_at.map(convert::timestamp_to_proto),
            ..Default::default()
        }),
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
        hfr_name: String::new(),
        hfr_facility_type: String::new(),
        hfr_ownership: String::new(),
        hfr_checked_at: None,
    })
}

/// `row` with what the Health Facility Registry says of its HFR id, asked
/// before anything is written: FAILED_PRECONDITION when the registry has no
/// such facility (or lists it closed), UNAVAILABLE when it cannot be asked.
async fn checked_with_hfr(
    state: &AppState,
    row: facility::Model,
) -> Result<facility::Model, ApiError> {
    use ayushman_abdm::Lookup;
    let found = state
        .abdm
        .facility(&row.hfr_id)
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    let record = match found {
        Lookup::Found(record) if record.active => record,
        Lookup::Found(_) => {
            return Err(ApiError::FailedPrecondition(format!(
                "the Health Facility Registry lists {} as closed",
                row.hfr_id
            )));
        }
        Lookup::NotFound => {
            return Err(ApiError::FailedPrecondition(format!(
                "the Health Facility Registry has no facility {}; register it there first",
                row.hfr_id
            )));
        }
    };
    Ok(facility::Model {
        hfr_name: record.name,
        hfr_facility_type: record.facility_type,
        hfr_ownership: record.ownership,
        hfr_checked_at: Some(ayushman_platform::db::now()),
        ..row
    })
}

pub(super) async fn register_facility(
    state: &AppState,
    request: Request<pb::RegisterFacilityRequest>,
) -> Reply<pb::RegisterFacilityResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let row = new_facility(request.facility.as_ref())?;
    ensure_facility(&caller, &row.hfr_id)?;
    let keyed = state.idempotency.keyed_by(&caller, &request)?;
    if let Some(reply) = keyed.recall(&state.db).await? {
        return Ok(Response::new(reply));
    }
    let row = checked_with_hfr(state, row).await?;
    let reply = keyed
        .once(&state.db, |txn| {
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

pub(super) async fn get_facility(
    state: &AppState,
    request: Request<pb::GetFacilityRequest>,
) -> Reply<pb::GetFacilityResponse> {
    let hfr = hfr_id("hfr_id", &request.get_ref().hfr_id)?;
    ensure_facility(&Caller::of(&request), &hfr)?;
    let row = registry::get_facility(&state.db, &hfr).await?;
    Ok(Response::new(pb::GetFacilityResponse {
        facility: Some(facility_to_proto(row)),
    }))
}

pub(super) async fn list_facilities(
    state: &AppState,
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
        specialty_code: convert::optional_text(&r.specialty_code).map(|s| s.to_ascii_uppercase()),
    };
    if let Some(state) = &filter.state_code {
        StateCode::parse(state)
            .map_err(|e| ApiError::invalid("state_code", e.reason().to_owned()))?;
    }
    let rows = crate::store::queries::list_facilities(&state.db, &filter, &page)
        .await
        .map_err(ApiError::from)?;
    let (rows, next_page_token) = finish(page.size, rows, |f| f.hfr_id.clone());
    Ok(Response::new(pb::ListFacilitiesResponse {
        facilities: rows.into_iter().map(facility_to_proto).collect(),
        next_page_token,
    }))
}

pub(super) async fn update_facility_status(
    state: &AppState,
    request: Request<pb::UpdateFacilityStatusRequest>,
) -> Reply<pb::UpdateFacilityStatusResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let hfr = hfr_id("hfr_id", &request.hfr_id)?;
    ensure_facility(&caller, &hfr)?;
    let status = convert::required_enum::<pb::FacilityStatus>("status", request.status)?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
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

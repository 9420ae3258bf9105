//! RegisterProfessional, GetProfessional, ListProfessionals, LinkProfessional, UnlinkProfessional, CheckProfessionalLink.

use super::*;

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
        hpr_check: Some(pb::RegistryCheck {
            name: row.hpr_name,
            council: row.hpr_council,
            registration_number: row.hpr_registration_number,
            checked_at: row.hpr_checked_at.map(convert::timestamp_to_proto),
            ..Default::default()
        }),
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
        hpr_name: String::new(),
        hpr_council: String::new(),
        hpr_registration_number: String::new(),
        hpr_checked_at: None,
    })
}

/// `row` with what the Health Professional Registry says of its HPR id,
/// asked before anything is written: FAILED_PRECONDITION when the registry
/// has no such professional, UNAVAILABLE when it cannot be asked.
async fn checked_with_hpr(
    state: &AppState,
    row: professional::Model,
) -> Result<professional::Model, ApiError> {
    use ayushman_abdm::Lookup;
    match state
        .abdm
        .professional(&row.hpr_id)
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?
    {
        Lookup::Found(record) => Ok(professional::Model {
            hpr_name: record.name,
            hpr_council: record.council,
            hpr_registration_number: record.registration_number,
            hpr_checked_at: Some(ayushman_platform::db::now()),
            ..row
        }),
        Lookup::NotFound => Err(ApiError::FailedPrecondition(format!(
            "the Health Professional Registry has no professional {}; register them there first",
            row.hpr_id
        ))),
    }
}

pub(super) async fn register_professional(
    state: &AppState,
    request: Request<pb::RegisterProfessionalRequest>,
) -> Reply<pb::RegisterProfessionalResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let row = new_professional(request.professional.as_ref())?;
    let keyed = state.idempotency.keyed_by(&caller, &request)?;
    if let Some(reply) = keyed.recall(&state.db).await? {
        return Ok(Response::new(reply));
    }
    let row = checked_with_hpr(state, row).await?;
    let reply = keyed
        .once(&state.db, |txn| {
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

pub(super) async fn get_professional(
    state: &AppState,
    request: Request<pb::GetProfessionalRequest>,
) -> Reply<pb::GetProfessionalResponse> {
    let hpr = hpr_id("hpr_id", &request.get_ref().hpr_id)?;
    let found = registry::get_professional(&state.db, &hpr).await?;
    Ok(Response::new(pb::GetProfessionalResponse {
        professional: Some(professional_to_proto(found)),
    }))
}

pub(super) async fn list_professionals(
    state: &AppState,
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
        &state.db,
        hfr.as_deref(),
        specialty.as_deref(),
        &page,
    )
    .await
    .map_err(ApiError::from)?;
    let (rows, next_page_token) = finish(page.size, rows, |p| p.hpr_id.clone());
    let mut professionals = Vec::with_capacity(rows.len());
    for row in rows {
        let links = crate::store::queries::links_of(&state.db, &row.hpr_id)
            .await
            .map_err(ApiError::from)?;
        professionals.push(professional_to_proto((row, links)));
    }
    Ok(Response::new(pb::ListProfessionalsResponse {
        professionals,
        next_page_token,
    }))
}

pub(super) async fn link_professional(
    state: &AppState,
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
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
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

pub(super) async fn unlink_professional(
    state: &AppState,
    request: Request<pb::UnlinkProfessionalRequest>,
) -> Reply<pb::UnlinkProfessionalResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let hpr = hpr_id("hpr_id", &request.hpr_id)?;
    let hfr = hfr_id("hfr_id", &request.hfr_id)?;
    ensure_facility(&caller, &hfr)?;
    let until = date_or_today("linked_until", request.linked_until.as_ref())?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
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

pub(super) async fn check_professional_link(
    state: &AppState,
    request: Request<pb::CheckProfessionalLinkRequest>,
) -> Reply<pb::CheckProfessionalLinkResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let hpr = hpr_id("hpr_id", &r.hpr_id)?;
    let hfr = hfr_id("hfr_id", &r.hfr_id)?;
    ensure_facility(&caller, &hfr)?;
    let date = date_or_today("date", r.date.as_ref())?;
    let role = registry::check_link(&state.db, &hpr, &hfr, date).await?;
    Ok(Response::new(pb::CheckProfessionalLinkResponse {
        linked: role.is_some(),
        role: role
            .and_then(|r| pb::ProfessionalRole::from_str_name(&r))
            .unwrap_or_default() as i32,
    }))
}

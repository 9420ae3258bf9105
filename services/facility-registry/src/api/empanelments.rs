//! UpsertEmpanelment, GetEmpanelment, ListEmpanelments, UpdateEmpanelmentStatus, CheckEmpanelment.

use super::*;

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

pub(super) async fn upsert_empanelment(
    state: &AppState,
    request: Request<pb::UpsertEmpanelmentRequest>,
) -> Reply<pb::UpsertEmpanelmentResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let (row, specialties) = new_empanelment(request.empanelment.as_ref())?;
    ensure_facility(&caller, &row.hfr_id)?;
    let actor = Actor::of(&caller, None);
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
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

pub(super) async fn get_empanelment(
    state: &AppState,
    request: Request<pb::GetEmpanelmentRequest>,
) -> Reply<pb::GetEmpanelmentResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let hfr = hfr_id("hfr_id", &r.hfr_id)?;
    ensure_facility(&caller, &hfr)?;
    let scheme = code("scheme_code", &r.scheme_code)?;
    let full = registry::get_empanelment(&state.db, &hfr, &scheme).await?;
    Ok(Response::new(pb::GetEmpanelmentResponse {
        empanelment: Some(empanelment_to_proto(full)),
    }))
}

pub(super) async fn list_empanelments(
    state: &AppState,
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
    let status = convert::optional_enum::<pb::EmpanelmentStatus>("status", r.status)?.map(Stored);
    let rows = crate::store::queries::list_empanelments(
        &state.db,
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
        let full = registry::get_empanelment(&state.db, &row.hfr_id, &row.scheme_code).await?;
        empanelments.push(empanelment_to_proto(full));
    }
    Ok(Response::new(pb::ListEmpanelmentsResponse {
        empanelments,
        next_page_token,
    }))
}

pub(super) async fn update_empanelment_status(
    state: &AppState,
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
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
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

pub(super) async fn check_empanelment(
    state: &AppState,
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
    let treating_hpr = match r.treating_hpr_id.trim() {
        "" => None,
        given => violations.check("treating_hpr_id", HprId::parse(given)),
    };
    violations.into_result()?;
    let hfr = hfr.map(|h| h.to_string()).unwrap_or_default();
    ensure_facility(&caller, &hfr)?;
    let (scheme, specialty) = (
        r.scheme_code.trim().to_ascii_uppercase(),
        r.specialty_code.trim().to_ascii_uppercase(),
    );
    let check = registry::check_empanelment(
        &state.db,
        &hfr,
        &scheme,
        &specialty,
        treating_hpr.as_ref().map(ToString::to_string).as_deref(),
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
        professional_linked: check.professional_linked,
    }))
}

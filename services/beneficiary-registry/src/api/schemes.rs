//! The scheme master: ListSchemes, GetScheme, CreateScheme, UpdateScheme.

use ayushman_domain::{Money, PolicyYearStart, StateCode};
use ayushman_platform::{ApiError, Caller, FieldViolations, convert};
use ayushman_proto::{
    beneficiary::v1::{self as pb, CoverKind, SchemeSponsor, SchemeStatus, SourceList},
    google::r#type::Date,
};
use tonic::{Request, Response};

use super::Reply;
use crate::{
    AppState,
    schemes::{Enrolment, Scheme},
    store::queries,
};

pub(super) fn scheme_to_proto(scheme: &Scheme) -> pb::Scheme {
    pb::Scheme {
        scheme_code: scheme.code.clone(),
        name: scheme.name.clone(),
        sponsor: scheme.sponsor as i32,
        state_code: scheme.state_code.clone(),
        cover_kind: scheme.cover_kind as i32,
        cover_per_family_paise: scheme.cover.paise(),
        policy_year_start: Some(Date {
            year: 0,
            month: scheme.year_start.month() as i32,
            day: scheme.year_start.day() as i32,
        }),
        eligibility_categories: scheme.categories.clone(),
        portability_allowed: scheme.portability_allowed,
        tops_up_scheme_code: scheme.tops_up.clone(),
        minimum_age_years: scheme.minimum_age,
        draw_order: scheme.draw_order,
        enrolments: scheme
            .enrolments
            .iter()
            .map(|e| pb::Enrolment {
                source_list: e.source as i32,
                state_code: e.state.clone(),
            })
            .collect(),
        reserved_package_codes: scheme.reserved_packages.clone(),
        network_scheme_code: scheme.network.clone(),
        status: scheme.status as i32,
    }
}

fn codes(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim().to_ascii_uppercase())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Validates a scheme to store, naming every field at fault.
fn new_scheme(scheme: Option<&pb::Scheme>) -> Result<Scheme, ApiError> {
    let Some(s) = scheme else {
        return Err(ApiError::invalid("scheme", "is required"));
    };
    let mut v = FieldViolations::new();
    v.require("scheme.scheme_code", &s.scheme_code);
    v.max_chars("scheme.scheme_code", &s.scheme_code, 32);
    v.require("scheme.name", &s.name);
    v.max_chars("scheme.name", &s.name, 200);
    let sponsor = v.check(
        "scheme.sponsor",
        convert::required_enum::<SchemeSponsor>("scheme.sponsor", s.sponsor)
            .map_err(|_| "is required: central or state"),
    );
    let state_code = match s.state_code.trim() {
        "" => String::new(),
        code => v
            .check("scheme.state_code", StateCode::parse(code))
            .map(|c| c.code())
            .unwrap_or_default(),
    };
    if sponsor == Some(SchemeSponsor::State) && state_code.is_empty() {
        v.add("scheme.state_code", "is required for a state's scheme");
    }
    let kind = v.check(
        "scheme.cover_kind",
        convert::required_enum::<CoverKind>("scheme.cover_kind", s.cover_kind)
            .map_err(|_| "is required: family floater, senior top-up or personal"),
    );
    v.amount("scheme.cover_per_family_paise", s.cover_per_family_paise);
    let start = s.policy_year_start.unwrap_or_default();
    let year_start = v.check(
        "scheme.policy_year_start",
        u32::try_from(start.month)
            .ok()
            .zip(u32::try_from(start.day).ok())
            .ok_or("give the month and day the policy year starts")
            .and_then(|(month, day)| {
                PolicyYearStart::new(month, day).map_err(|_| "is not a day of the year")
            }),
    );
    if s.draw_order < 1 {
        v.add("scheme.draw_order", "must be 1 or more (1 is drawn first)");
    }
    if !(0..=120).contains(&s.minimum_age_years) {
        v.add("scheme.minimum_age_years", "must be between 0 and 120");
    }
    if kind == Some(CoverKind::SeniorTopUp) && s.minimum_age_years == 0 {
        v.add(
            "scheme.minimum_age_years",
            "is required for a senior top-up",
        );
    }
    let mut enrolments = Vec::new();
    for (i, e) in s.enrolments.iter().enumerate() {
        let field = format!("scheme.enrolments[{i}]");
        let source = v.check(
            &format!("{field}.source_list"),
            convert::required_enum::<SourceList>("source_list", e.source_list)
                .map_err(|_| "is required"),
        );
        let state = match e.state_code.trim() {
            "" => Some(String::new()),
            code => v
                .check(&format!("{field}.state_code"), StateCode::parse(code))
                .map(|c| c.code()),
        };
        if let (Some(source), Some(state)) = (source, state) {
            enrolments.push(Enrolment { source, state });
        }
    }
    let status = match convert::optional_enum::<SchemeStatus>("scheme.status", s.status) {
        Ok(status) => status.unwrap_or(SchemeStatus::Active),
        Err(_) => {
            v.add("scheme.status", "is not a known status");
            SchemeStatus::Active
        }
    };
    v.into_result()?;
    let code = s.scheme_code.trim().to_ascii_uppercase();
    let network = match s.network_scheme_code.trim() {
        "" => code.clone(),
        other => other.to_ascii_uppercase(),
    };
    Ok(Scheme {
        code,
        name: s.name.trim().to_owned(),
        sponsor: sponsor.unwrap_or_default(),
        state_code,
        cover_kind: kind.unwrap_or_default(),
        cover: Money::from_paise(s.cover_per_family_paise),
        year_start: year_start
            .unwrap_or_else(|| PolicyYearStart::new(4, 1).expect("1 April is a day of the year")),
        categories: codes(&s.eligibility_categories),
        enrolments,
        portability_allowed: s.portability_allowed,
        tops_up: s.tops_up_scheme_code.trim().to_ascii_uppercase(),
        minimum_age: s.minimum_age_years,
        draw_order: s.draw_order,
        reserved_packages: codes(&s.reserved_package_codes),
        network,
        status,
    })
}

/// A state partner manages its own state's schemes only.
fn ensure_scheme_in_scope(caller: &Caller, scheme: &Scheme) -> Result<(), ApiError> {
    if scheme.state_code.is_empty() && caller.state_scope().is_some() {
        return Err(ApiError::PermissionDenied(format!(
            "scheme {} is national; a state's partner manages its own state's schemes only",
            scheme.code
        )));
    }
    if !scheme.state_code.is_empty() {
        caller.ensure_state(&scheme.state_code, &format!("scheme {}", scheme.code))?;
    }
    Ok(())
}

pub(super) async fn list_schemes(
    state: &AppState,
    request: Request<pb::ListSchemesRequest>,
) -> Reply<pb::ListSchemesResponse> {
    let only = convert::optional_text(&request.get_ref().state_code);
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let schemes = catalogue
        .all()
        .iter()
        .filter(|s| {
            only.as_deref()
                .is_none_or(|only| s.state_code.is_empty() || s.state_code == only)
        })
        .map(scheme_to_proto)
        .collect();
    Ok(Response::new(pb::ListSchemesResponse { schemes }))
}

pub(super) async fn get_scheme(
    state: &AppState,
    request: Request<pb::GetSchemeRequest>,
) -> Reply<pb::GetSchemeResponse> {
    let code =
        convert::required_text("scheme_code", &request.get_ref().scheme_code)?.to_ascii_uppercase();
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let scheme = catalogue
        .get(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no scheme {code}")))?;
    Ok(Response::new(pb::GetSchemeResponse {
        scheme: Some(scheme_to_proto(scheme)),
    }))
}

pub(super) async fn create_scheme(
    state: &AppState,
    request: Request<pb::CreateSchemeRequest>,
) -> Reply<pb::CreateSchemeResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let scheme = new_scheme(request.scheme.as_ref())?;
    ensure_scheme_in_scope(&caller, &scheme)?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                if !queries::insert_scheme(txn, scheme.to_row()).await? {
                    return Err(ApiError::AlreadyExists(format!(
                        "scheme {} exists; change it with UpdateScheme",
                        scheme.code
                    )));
                }
                Ok(pb::CreateSchemeResponse {
                    scheme: Some(scheme_to_proto(&scheme)),
                })
            })
        })
        .await?;
    state.schemes.reload(&state.db).await?;
    Ok(Response::new(reply))
}

pub(super) async fn update_scheme(
    state: &AppState,
    request: Request<pb::UpdateSchemeRequest>,
) -> Reply<pb::UpdateSchemeResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let scheme = new_scheme(request.scheme.as_ref())?;
    ensure_scheme_in_scope(&caller, &scheme)?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let stored = queries::find_scheme(txn, &scheme.code)
                    .await?
                    .ok_or_else(|| ApiError::NotFound(format!("no scheme {}", scheme.code)))?;
                if stored.state_code != scheme.state_code {
                    return Err(ApiError::invalid(
                        "scheme.state_code",
                        format!(
                            "is {:?}; a scheme cannot move to another state",
                            stored.state_code
                        ),
                    ));
                }
                queries::save_scheme(txn, scheme.to_row()).await?;
                Ok(pb::UpdateSchemeResponse {
                    scheme: Some(scheme_to_proto(&scheme)),
                })
            })
        })
        .await?;
    state.schemes.reload(&state.db).await?;
    Ok(Response::new(reply))
}

//! Agreements and case routing: plain functions over validated values, a
//! connection and the facility directory; `api.rs` translates the contracts.

use ayushman_platform::ApiError;
use ayushman_proto::{
    common::v1::Ownership,
    portability::v1::{AgreementStatus, RateRule, RouteDenial},
};
use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, ConnectionTrait};

use crate::{
    facility::FacilityDirectory,
    rules,
    store::{
        entities::{agreement, agreement_history},
        queries,
    },
};

/// An agreement with its status history, oldest first.
pub type FullAgreement = (agreement::Model, Vec<agreement_history::Model>);

/// Who changed an agreement and why.
pub struct Change<'a> {
    pub actor_id: &'a str,
    pub actor_kind: &'a str,
    pub reason: &'a str,
    pub trace_id: &'a str,
}

fn history_entry(
    agreement_id: &str,
    status: &str,
    change: &Change<'_>,
) -> agreement_history::ActiveModel {
    agreement_history::ActiveModel {
        agreement_id: Set(agreement_id.to_owned()),
        status: Set(status.to_owned()),
        reason: Set(change.reason.to_owned()),
        actor_id: Set(change.actor_id.to_owned()),
        actor_kind: Set(change.actor_kind.to_owned()),
        trace_id: Set(change.trace_id.to_owned()),
        changed_at: Set(ayushman_platform::db::now()),
        ..Default::default()
    }
}

pub async fn get_agreement(db: &impl ConnectionTrait, id: &str) -> Result<FullAgreement, ApiError> {
    let row = queries::find_agreement(db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no agreement with id {id}")))?;
    let history = queries::history_of(db, id).await?;
    Ok((row, history))
}

/// Creates an agreement; its first status is recorded in the history.
pub async fn create_agreement(
    db: &impl ConnectionTrait,
    row: agreement::Model,
    change: &Change<'_>,
) -> Result<FullAgreement, ApiError> {
    if queries::find_agreement(db, &row.agreement_id)
        .await?
        .is_some()
    {
        return Err(ApiError::AlreadyExists(format!(
            "agreement {} exists already",
            row.agreement_id
        )));
    }
    let (id, status) = (row.agreement_id.clone(), row.status.clone());
    queries::insert_agreement(db, row).await?;
    queries::append_history(db, history_entry(&id, &status, change)).await?;
    get_agreement(db, &id).await
}

/// Moves an agreement to `status` (suspend or activate), keeping the reason.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: &str,
    status: AgreementStatus,
    change: &Change<'_>,
) -> Result<FullAgreement, ApiError> {
    let (row, _) = get_agreement(db, id).await?;
    if row.status == status.as_str_name() {
        return get_agreement(db, id).await;
    }
    queries::set_agreement_status(db, row, status.as_str_name(), change.reason).await?;
    queries::append_history(db, history_entry(id, status.as_str_name(), change)).await?;
    get_agreement(db, id).await
}

/// A case to route.
pub struct Case<'a> {
    pub home_state: &'a str,
    pub scheme: &'a str,
    pub hfr_id: &'a str,
    pub specialty: &'a str,
    pub date: NaiveDate,
}

/// Where a case may be treated and on whose account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    pub portability_case: bool,
    pub treating_state: String,
    pub treating_district: String,
    pub treating_ownership: Ownership,
    pub payer_scheme: String,
    pub payer_state: String,
    pub rate_rule: RateRule,
    pub agreement_id: String,
}

/// The outcome of routing: the route, or a refusal with whatever is known of the facility.
pub type Routing = Result<Route, (rules::Refusal, Route)>;

/// Decides whether a case may be treated at the facility, who pays and at whose rates.
/// In-state cases need only the facility's empanelment under the home scheme;
/// out-of-state cases need an agreement in force and empanelment under the
/// agreement's empanelment scheme (usually PM-JAY).
pub async fn route_case(
    db: &impl ConnectionTrait,
    facilities: &FacilityDirectory,
    case: &Case<'_>,
) -> Result<Routing, ApiError> {
    let refuse = |denial, message: String, route: Route| {
        Ok(Err((rules::Refusal { denial, message }, route)))
    };
    let home = facilities
        .check(case.hfr_id, case.scheme, case.specialty, case.date)
        .await?;
    let Some(facts) = home.facility else {
        return refuse(
            RouteDenial::FacilityUnknown,
            format!("no facility with id {}", case.hfr_id),
            Route::default(),
        );
    };
    let mut route = Route {
        portability_case: facts.state_code != case.home_state,
        treating_state: facts.state_code.clone(),
        treating_district: facts.district_code.clone(),
        treating_ownership: facts.ownership,
        payer_scheme: case.scheme.to_owned(),
        payer_state: case.home_state.to_owned(),
        rate_rule: RateRule::TreatingState,
        agreement_id: String::new(),
    };
    if !route.portability_case {
        return match home.allowed {
            Ok(()) => Ok(Ok(route)),
            Err(reason) => refuse(RouteDenial::FacilityNotEmpanelled, reason, route),
        };
    }
    let agreements = queries::agreements_of_scheme(db, case.scheme).await?;
    let agreement = match rules::choose_agreement(
        &agreements,
        case.scheme,
        case.home_state,
        &facts.state_code,
        case.date,
    ) {
        Ok(agreement) => agreement,
        Err(refusal) => return Ok(Err((refusal, route))),
    };
    route.agreement_id = agreement.agreement_id.clone();
    route.rate_rule =
        RateRule::from_str_name(&agreement.rate_rule).unwrap_or(RateRule::TreatingState);
    if !agreement.payer_scheme_code.is_empty() {
        route.payer_scheme = agreement.payer_scheme_code.clone();
    }
    let empanelment_scheme = if agreement.empanelment_scheme_code.is_empty() {
        case.scheme
    } else {
        &agreement.empanelment_scheme_code
    };
    let allowed = if empanelment_scheme == case.scheme {
        home.allowed
    } else {
        facilities
            .check(case.hfr_id, empanelment_scheme, case.specialty, case.date)
            .await?
            .allowed
    };
    match allowed {
        Ok(()) => Ok(Ok(route)),
        Err(reason) => refuse(RouteDenial::FacilityNotEmpanelled, reason, route),
    }
}

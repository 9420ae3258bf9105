//! Case routing: whether a case may be treated at a facility, who pays and at
//! whose rates; plain functions over validated values, a connection and the
//! facility directory.

use ayushman_platform::ApiError;
use ayushman_proto::{
    common::v1::Ownership,
    portability::v1::{RateRule, RouteDenial},
};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::{facility::FacilityDirectory, rules, store::queries};

/// A case to route.
pub struct Case<'a> {
    pub home_state: &'a str,
    pub scheme: &'a str,
    pub hfr_id: &'a str,
    pub specialty: &'a str,
    pub date: NaiveDate,
    /// The treating doctor, when the caller asks whether they are linked to
    /// the facility (answered from the same read as the empanelment).
    pub treating_hpr: Option<&'a str>,
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
    /// Whether the treating doctor asked about is linked to the facility.
    pub professional_linked: Option<bool>,
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
        .check(
            case.hfr_id,
            case.scheme,
            case.specialty,
            case.treating_hpr,
            case.date,
        )
        .await?;
    let Some(facts) = home.facility else {
        return refuse(
            RouteDenial::FacilityUnknown,
            format!("no facility with id {}", case.hfr_id),
            Route {
                professional_linked: home.professional_linked,
                ..Route::default()
            },
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
        professional_linked: home.professional_linked,
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
            .check(
                case.hfr_id,
                empanelment_scheme,
                case.specialty,
                None,
                case.date,
            )
            .await?
            .allowed
    };
    match allowed {
        Ok(()) => Ok(Ok(route)),
        Err(reason) => refuse(RouteDenial::FacilityNotEmpanelled, reason, route),
    }
}

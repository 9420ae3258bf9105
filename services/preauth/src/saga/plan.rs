//! What a preauth will be, decided before anything is written or held:
//! the patient's schemes (eligibility), the doctor's link and the route of
//! every specialty (asked together), the packages priced at the route's
//! rates. Only reads, so a new request plans before its first commit.

use std::collections::{BTreeMap, BTreeSet};

use ayushman_domain::Money;
use ayushman_platform::ApiError;
use ayushman_proto::common::v1::Ownership;

use crate::{
    Context,
    catalogue::Catalogue,
    peers::{CaseToRoute, Eligibility, Route, SchemeCover},
    pricing,
    store::{
        entities::{preauth, preauth_line},
        queries::FullPackage,
    },
};

/// A preauth ready to block: who pays, where, how much.
#[derive(Debug, Clone)]
pub struct Plan {
    pub eligibility: Eligibility,
    /// The schemes to draw on, in draw order.
    pub schemes: Vec<String>,
    pub route: Route,
    /// The lines, priced.
    pub lines: Vec<preauth_line::Model>,
    pub total: Money,
}

/// What planning concluded.
#[derive(Debug, Clone)]
pub enum Planned {
    /// Block `total` on `schemes`.
    Go(Box<Plan>),
    /// Refused, with the reason a hospital can act on.
    Refused(String),
}

impl Plan {
    /// Writes the plan into the preauth's row.
    pub fn apply(&self, row: &mut preauth::Model) {
        let (e, route) = (&self.eligibility, &self.route);
        row.beneficiary_id = e.beneficiary_id.clone();
        row.card_number = e.card_number.clone();
        row.family_id = e.family_id.clone();
        row.home_state_code = e.home_state.clone();
        row.schemes_to_draw = self.schemes.join(",");
        row.facility_state_code = route.treating_state.clone();
        row.facility_district_code = route.treating_district.clone();
        row.facility_ownership = route.treating_ownership.as_str_name().to_owned();
        row.portability_case = route.portability_case;
        row.agreement_id = route.agreement_id.clone();
        row.payer_scheme_code = route.payer_scheme.clone();
        row.payer_state_code = route.payer_state.clone();
        row.requested_amount_paise = self.total.paise();
    }
}

/// Plans `row` with `lines`: its packages must still be offered; its schemes
/// are those fixed by an earlier run, else those the patient may use now.
pub async fn plan(
    context: &Context,
    catalogue: &Catalogue,
    row: &preauth::Model,
    lines: &[preauth_line::Model],
) -> Result<Planned, ApiError> {
    let mut packages: Vec<&FullPackage> = Vec::with_capacity(lines.len());
    for line in lines {
        match catalogue.offered(&line.package_code) {
            Some(package) => packages.push(package),
            None => {
                return Ok(Planned::Refused(format!(
                    "package {} is not offered",
                    line.package_code
                )));
            }
        }
    }
    let specialties: BTreeSet<&str> = packages
        .iter()
        .map(|p| p.0.specialty_code.as_str())
        .collect();
    if specialties.is_empty() {
        return Ok(Planned::Refused("no package asked for".into()));
    }
    let date = row.admission_date;
    // Resumed after its schemes were fixed: the same schemes, whatever its
    // own first block did to their balances.
    let fixed = row.schemes_to_draw();
    let named = if fixed.is_empty() {
        row.scheme_code.as_str()
    } else {
        ""
    };
    let eligibility = context
        .peers
        .eligibility(&row.beneficiary_id, &row.card_number, named, date)
        .await?;
    let usable: Vec<SchemeCover> = if fixed.is_empty() {
        eligibility.usable().cloned().collect()
    } else {
        fixed
            .iter()
            .filter_map(|code| eligibility.schemes.iter().find(|s| &s.code == code))
            .cloned()
            .collect()
    };
    if usable.is_empty() {
        return Ok(Planned::Refused(eligibility.refusal()));
    }

    // Every network's routes, asked at once; each answer also says whether
    // the doctor is linked to the hospital (one read with the empanelment).
    let networks: BTreeSet<&str> = usable.iter().map(|s| s.network.as_str()).collect();
    let home = eligibility.home_state.as_str();
    let routed = futures::future::try_join_all(
        networks
            .iter()
            .map(|network| route_all(context, row, home, network, &specialties)),
    )
    .await?;
    let linked = match routed.iter().find_map(|(linked, _)| *linked) {
        Some(linked) => linked,
        // A portability service that does not answer it yet (during a
        // rolling upgrade): ask the facility registry.
        None => {
            context
                .peers
                .doctor_linked(&row.treating_hpr_id, &row.hfr_id, date)
                .await?
        }
    };
    if !linked {
        return Ok(Planned::Refused(format!(
            "doctor {} is not linked to facility {} on {date}",
            row.treating_hpr_id, row.hfr_id
        )));
    }
    let mut by_network: BTreeMap<&str, Result<Route, String>> = BTreeMap::new();
    for (network, (_, routed)) in networks.iter().zip(routed) {
        by_network.insert(network, routed);
    }
    // A scheme is drawn on only where its network (its own hospitals and
    // agreements, PM-JAY's for the senior cover) takes every specialty here.
    let drawn: Vec<&SchemeCover> = usable
        .iter()
        .filter(|s| matches!(by_network.get(s.network.as_str()), Some(Ok(_))))
        .collect();
    let Some(Ok(route)) = drawn
        .first()
        .and_then(|s| by_network.get(s.network.as_str()))
        .cloned()
    else {
        return Ok(Planned::Refused(
            by_network
                .into_values()
                .find_map(Result::err)
                .unwrap_or_else(|| "no scheme may be drawn on here".into()),
        ));
    };
    if let Some(reason) = reserved(row, home, &route, &drawn, &packages) {
        return Ok(Planned::Refused(reason));
    }
    let mut priced_lines = Vec::with_capacity(lines.len());
    let mut total = Money::ZERO;
    for (line, package) in lines.iter().zip(&packages) {
        let add_ons: Vec<String> = line
            .add_on_codes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let priced = match pricing::price(
            package,
            &add_ons,
            route.rate_rule,
            &route.treating_state,
            home,
        ) {
            Ok(priced) => priced,
            Err(pricing::PricingError::UnknownAddOn(code)) => {
                return Ok(Planned::Refused(format!(
                    "package {} has no add-on {code}",
                    line.package_code
                )));
            }
            Err(pricing::PricingError::Overflow) => {
                return Err(ApiError::internal("package price overflows"));
            }
        };
        total = total
            .checked_add(priced.amount)
            .ok_or_else(|| ApiError::internal("preauth total overflows"))?;
        priced_lines.push(preauth_line::Model {
            specialty_code: package.0.specialty_code.clone(),
            rate_paise: priced.rate.paise(),
            add_ons_paise: priced.add_ons.paise(),
            amount_paise: priced.amount.paise(),
            rate_source: priced.source.as_str_name().to_owned(),
            ..line.clone()
        });
    }
    Ok(Planned::Go(Box::new(Plan {
        schemes: drawn.iter().map(|s| s.code.clone()).collect(),
        eligibility,
        route,
        lines: priced_lines,
        total,
    })))
}

/// Why a package may not be treated at this (private) hospital: reserved
/// nationally for public hospitals, or by the home state outside it.
fn reserved(
    row: &preauth::Model,
    home_state: &str,
    route: &Route,
    drawn: &[&SchemeCover],
    packages: &[&FullPackage],
) -> Option<String> {
    if route.treating_ownership == Ownership::Public {
        return None;
    }
    if let Some(reserved) = packages.iter().find(|p| p.0.reserved_for_public) {
        return Some(format!(
            "package {} is reserved for public hospitals; {} is not public",
            reserved.0.package_code, row.hfr_id
        ));
    }
    if !route.portability_case {
        return None;
    }
    drawn.iter().find_map(|scheme| {
        packages
            .iter()
            .find(|p| scheme.reserved_packages.contains(&p.0.package_code))
            .map(|p| {
                format!(
                    "package {} is reserved by {} for public hospitals; it is not offered at private hospitals outside state {}",
                    p.0.package_code,
                    scheme.code,
                    home_state
                )
            })
    })
}

/// Routes a case's specialties at its hospital under `network`: whether its
/// doctor is linked there (every answer says the same), and the first
/// specialty's route when every one may be treated there, else why not.
async fn route_all(
    context: &Context,
    row: &preauth::Model,
    home_state: &str,
    network: &str,
    specialties: &BTreeSet<&str>,
) -> Result<(Option<bool>, Result<Route, String>), ApiError> {
    let mut first: Option<Route> = None;
    for specialty in specialties {
        let answer = context
            .peers
            .route(&CaseToRoute {
                home_state,
                scheme: network,
                hfr_id: &row.hfr_id,
                specialty,
                treating_hpr: &row.treating_hpr_id,
                date: row.admission_date,
            })
            .await?;
        if let Some(why) = &answer.refusal {
            let refusal = format!("{specialty} at {}: {why}", row.hfr_id);
            return Ok((answer.doctor_linked, Err(refusal)));
        }
        first.get_or_insert(answer);
    }
    Ok(match first {
        Some(route) => (route.doctor_linked, Ok(route)),
        None => (None, Err("no package asked for".to_owned())),
    })
}

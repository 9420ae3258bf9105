//! gRPC handlers of `PortabilityService`: validate and translate the request,
//! call a use case in `agreements` or `routing`, translate the answer back.

use ayushman_domain::{HfrId, HprId, StateCode};
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
    db::idempotency::Keyed,
    lifecycle::{Actor, Stored},
};
use ayushman_proto::portability::v1::{self as pb, portability_service_server::PortabilityService};
use tonic::{Request, Response, Status};

use crate::{
    AppState,
    agreements::{self, FullAgreement},
    routing::{self, Case},
    store::{entities::agreement, queries},
};

/// The `PortabilityService` implementation.
pub struct PortabilityApi {
    /// Database, facility directory and limits shared by the handlers.
    pub state: AppState,
}

type Reply<T> = Result<Response<T>, Status>;

fn required_code(field: &str, value: &str) -> Result<String, ApiError> {
    convert::optional_text(value)
        .map(|v| v.to_ascii_uppercase())
        .ok_or_else(|| ApiError::invalid(field, "is required"))
}

fn agreement_to_proto((row, history): FullAgreement) -> pb::Agreement {
    pb::Agreement {
        agreement_id: row.agreement_id,
        home_scheme_code: row.home_scheme_code,
        home_state_code: row.home_state_code,
        treating_state_codes: row
            .treating_state_codes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        all_states: row.all_states,
        effective_from: Some(convert::date_to_proto(row.effective_from)),
        effective_until: row.effective_until.map(convert::date_to_proto),
        rate_rule: pb::RateRule::from_str_name(&row.rate_rule).unwrap_or_default() as i32,
        payer_scheme_code: row.payer_scheme_code,
        status: *row.status as i32,
        status_reason: row.status_reason,
        history: history.iter().map(|h| h.to_proto()).collect(),
        empanelment_scheme_code: row.empanelment_scheme_code,
    }
}

/// Validates a new agreement; every bad field is reported at once.
fn new_agreement(agreement: Option<&pb::Agreement>) -> Result<agreement::Model, ApiError> {
    let Some(a) = agreement else {
        return Err(ApiError::invalid("agreement", "is required"));
    };
    let mut violations = FieldViolations::new();
    violations.require("agreement.home_scheme_code", &a.home_scheme_code);
    if !a.home_state_code.trim().is_empty() {
        violations.check(
            "agreement.home_state_code",
            StateCode::parse(&a.home_state_code),
        );
    }
    let mut treating = Vec::new();
    for (i, code) in a.treating_state_codes.iter().enumerate() {
        if let Some(state) = violations.check(
            &format!("agreement.treating_state_codes[{i}]"),
            StateCode::parse(code),
        ) {
            treating.push(state.code());
        }
    }
    if a.all_states && !treating.is_empty() {
        violations.add(
            "agreement.treating_state_codes",
            "must be empty when all_states is set",
        );
    }
    if !a.all_states && treating.is_empty() && a.treating_state_codes.is_empty() {
        violations.add(
            "agreement.treating_state_codes",
            "list the treating states, or set all_states",
        );
    }
    let from = violations.check(
        "agreement.effective_from",
        convert::required_date("agreement.effective_from", a.effective_from.as_ref())
            .map_err(|_| "is required and must be a real date"),
    );
    let until = violations
        .check(
            "agreement.effective_until",
            convert::date_from_proto("agreement.effective_until", a.effective_until.as_ref())
                .map_err(|_| "must be a real date"),
        )
        .flatten();
    if let (Some(from), Some(until)) = (from, until)
        && until < from
    {
        violations.add("agreement.effective_until", "is before effective_from");
    }
    let rate_rule = convert::optional_enum::<pb::RateRule>("agreement.rate_rule", a.rate_rule)
        .map(|r| r.unwrap_or(pb::RateRule::TreatingState));
    let rate_rule = violations.check(
        "agreement.rate_rule",
        rate_rule.map_err(|_| "is not a known rate rule"),
    );
    let status = convert::optional_enum::<pb::AgreementStatus>("agreement.status", a.status)
        .map(|s| s.unwrap_or(pb::AgreementStatus::Draft));
    let status = violations.check(
        "agreement.status",
        status.map_err(|_| "is not a known status"),
    );
    violations.into_result()?;
    let home_scheme = a.home_scheme_code.trim().to_ascii_uppercase();
    treating.sort();
    treating.dedup();
    Ok(agreement::Model {
        agreement_id: convert::optional_text(&a.agreement_id)
            .map(|id| id.to_ascii_uppercase())
            .unwrap_or_else(|| format!("AGR-{}", uuid::Uuid::now_v7().simple())),
        payer_scheme_code: convert::optional_text(&a.payer_scheme_code)
            .map_or_else(|| home_scheme.clone(), |p| p.to_ascii_uppercase()),
        empanelment_scheme_code: convert::optional_text(&a.empanelment_scheme_code)
            .map_or_else(String::new, |s| s.to_ascii_uppercase()),
        home_scheme_code: home_scheme,
        home_state_code: a.home_state_code.trim().to_owned(),
        all_states: a.all_states,
        treating_state_codes: treating.join(","),
        effective_from: from.unwrap_or_default(),
        effective_until: until,
        rate_rule: rate_rule.unwrap_or_default().as_str_name().to_owned(),
        status: Stored(status.unwrap_or_default()),
        status_reason: a.status_reason.trim().to_owned(),
        created_at: ayushman_platform::db::now(),
    })
}

/// SuspendAgreement and ActivateAgreement carry the same fields.
struct StatusRequest<'a> {
    keyed: Keyed,
    agreement_id: &'a str,
    reason: &'a str,
    actor: Actor,
}

impl PortabilityApi {
    async fn change_status(
        &self,
        change: StatusRequest<'_>,
        status: pb::AgreementStatus,
    ) -> Result<pb::Agreement, ApiError> {
        let id = required_code("agreement_id", change.agreement_id)?;
        if status == pb::AgreementStatus::Suspended && change.reason.trim().is_empty() {
            return Err(ApiError::invalid(
                "reason",
                "is required to suspend an agreement",
            ));
        }
        let actor = change.actor;
        let reason = change.reason.trim().to_owned();
        let reply = change
            .keyed
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let full = agreements::set_status(txn, &id, status, &reason, &actor).await?;
                    Ok(pb::SuspendAgreementResponse {
                        agreement: Some(agreement_to_proto(full)),
                    })
                })
            })
            .await?;
        reply
            .agreement
            .ok_or_else(|| ApiError::internal("agreement missing from reply"))
    }
}

#[tonic::async_trait]
impl PortabilityService for PortabilityApi {
    async fn create_agreement(
        &self,
        request: Request<pb::CreateAgreementRequest>,
    ) -> Reply<pb::CreateAgreementResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let row = new_agreement(request.agreement.as_ref())?;
        let actor = Actor::of(&caller, None);
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let reason = if row.status_reason.is_empty() {
                        "agreement created".to_owned()
                    } else {
                        row.status_reason.clone()
                    };
                    let full = agreements::create_agreement(txn, row, &reason, &actor).await?;
                    Ok(pb::CreateAgreementResponse {
                        agreement: Some(agreement_to_proto(full)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_agreement(
        &self,
        request: Request<pb::GetAgreementRequest>,
    ) -> Reply<pb::GetAgreementResponse> {
        let id = required_code("agreement_id", &request.get_ref().agreement_id)?;
        let full = agreements::get_agreement(&self.state.db, &id).await?;
        Ok(Response::new(pb::GetAgreementResponse {
            agreement: Some(agreement_to_proto(full)),
        }))
    }

    async fn list_agreements(
        &self,
        request: Request<pb::ListAgreementsRequest>,
    ) -> Reply<pb::ListAgreementsResponse> {
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
        let scheme = convert::optional_text(&r.home_scheme_code).map(|s| s.to_ascii_uppercase());
        let status = convert::optional_enum::<pb::AgreementStatus>("status", r.status)?.map(Stored);
        let rows = queries::list_agreements(
            &self.state.db,
            scheme.as_deref(),
            status,
            page.after.as_deref(),
            page.size,
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = page.finish(rows, |a| a.agreement_id.clone());
        let mut agreements = Vec::with_capacity(rows.len());
        for row in rows {
            agreements.push(agreement_to_proto(
                agreements::get_agreement(&self.state.db, &row.agreement_id).await?,
            ));
        }
        Ok(Response::new(pb::ListAgreementsResponse {
            agreements,
            next_page_token,
        }))
    }

    async fn suspend_agreement(
        &self,
        request: Request<pb::SuspendAgreementRequest>,
    ) -> Reply<pb::SuspendAgreementResponse> {
        let keyed = self.state.idempotency.keyed(&request)?;
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let change = StatusRequest {
            keyed,
            agreement_id: &r.agreement_id,
            reason: &r.reason,
            actor: Actor::of(&caller, r.actor.as_ref()),
        };
        let agreement = self
            .change_status(change, pb::AgreementStatus::Suspended)
            .await?;
        Ok(Response::new(pb::SuspendAgreementResponse {
            agreement: Some(agreement),
        }))
    }

    async fn activate_agreement(
        &self,
        request: Request<pb::ActivateAgreementRequest>,
    ) -> Reply<pb::ActivateAgreementResponse> {
        let keyed = self.state.idempotency.keyed(&request)?;
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let change = StatusRequest {
            keyed,
            agreement_id: &r.agreement_id,
            reason: &r.reason,
            actor: Actor::of(&caller, r.actor.as_ref()),
        };
        let agreement = self
            .change_status(change, pb::AgreementStatus::Active)
            .await?;
        Ok(Response::new(pb::ActivateAgreementResponse {
            agreement: Some(agreement),
        }))
    }

    async fn route_case(
        &self,
        request: Request<pb::RouteCaseRequest>,
    ) -> Reply<pb::RouteCaseResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let mut violations = FieldViolations::new();
        let home = violations.check("home_state_code", StateCode::parse(&r.home_state_code));
        violations.require("scheme_code", &r.scheme_code);
        let hfr = violations.check("hfr_id", HfrId::parse(&r.hfr_id));
        violations.require("specialty_code", &r.specialty_code);
        let date = violations.check(
            "treatment_date",
            convert::date_from_proto("treatment_date", r.treatment_date.as_ref())
                .map_err(|_| "must be a real date"),
        );
        let treating_hpr = match r.treating_hpr_id.trim() {
            "" => None,
            given => violations
                .check("treating_hpr_id", HprId::parse(given))
                .map(|id| id.to_string()),
        };
        violations.into_result()?;
        if let (Some(home), Some(hfr)) = (home, hfr) {
            caller.ensure_any_state(
                &[home.code().as_str(), hfr.state().code().as_str()],
                &format!("a case at {hfr} for a patient of state {home}"),
            )?;
        }
        let (home, hfr) = (
            home.map(|s| s.code()).unwrap_or_default(),
            hfr.map(|h| h.to_string()).unwrap_or_default(),
        );
        let (scheme, specialty) = (
            r.scheme_code.trim().to_ascii_uppercase(),
            r.specialty_code.trim().to_ascii_uppercase(),
        );
        let case = Case {
            home_state: &home,
            scheme: &scheme,
            hfr_id: &hfr,
            specialty: &specialty,
            date: date.flatten().unwrap_or_else(convert::today_in_india),
            treating_hpr: treating_hpr.as_deref(),
        };
        let (allowed, denial, message, route) =
            match routing::route_case(&self.state.db, &self.state.facilities, &case).await? {
                Ok(route) => (true, pb::RouteDenial::Unspecified, String::new(), route),
                Err((refusal, route)) => (false, refusal.denial, refusal.message, route),
            };
        Ok(Response::new(pb::RouteCaseResponse {
            allowed,
            denial: denial as i32,
            message,
            portability_case: route.portability_case,
            treating_state_code: route.treating_state,
            payer_scheme_code: route.payer_scheme,
            payer_state_code: route.payer_state,
            rate_rule: route.rate_rule as i32,
            agreement_id: route.agreement_id,
            treating_district_code: route.treating_district,
            treating_ownership: route.treating_ownership as i32,
            professional_linked: route.professional_linked,
        }))
    }
}

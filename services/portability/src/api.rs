//! gRPC handlers of `PortabilityService`: validate and translate the request,
//! call a use case in `routing` or `ledger`, translate the answer back.

use ayushman_domain::{HfrId, Money, StateCode};
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
    db::idempotency::Keyed,
    lifecycle::{Actor, Stored},
};
use ayushman_proto::{
    common::v1::Actor as ProtoActor,
    portability::v1::{self as pb, portability_service_server::PortabilityService},
};
use tonic::{Request, Response, Status};

use crate::{
    AppState,
    agreements::{self, FullAgreement},
    ledger,
    routing::{self, Case},
    rules::NettedPair,
    store::{
        entities::{agreement, settlement},
        queries,
    },
};

/// The `PortabilityService` implementation.
pub struct PortabilityApi {
    /// Database, facility directory and limits shared by the handlers.
    pub state: AppState,
}

type Reply<T> = Result<Response<T>, Status>;

fn state(field: &str, code: &str) -> Result<String, ApiError> {
    StateCode::parse(code)
        .map(|s| s.code())
        .map_err(|e| ApiError::invalid(field, e.reason().to_owned()))
}

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

fn settlement_to_proto(row: settlement::Model) -> pb::SettlementEntry {
    pb::SettlementEntry {
        claim_id: row.claim_id,
        payer_scheme_code: row.payer_scheme_code,
        payer_state_code: row.payer_state_code,
        treating_state_code: row.treating_state_code,
        amount_paise: row.amount_paise,
        month: Some(convert::year_month(row.month)),
        statement_id: row.statement_id.unwrap_or_default(),
        recorded_at: Some(convert::timestamp_to_proto(row.recorded_at)),
    }
}

fn statement_to_proto((row, pairs): ledger::Statement) -> pb::NettingStatement {
    pb::NettingStatement {
        statement_id: row.statement_id,
        month: Some(convert::year_month(row.month)),
        pairs: pairs.into_iter().map(pair_to_proto).collect(),
        status: pb::StatementStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        settlement_reference: row.settlement_reference,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
        settled_at: row.settled_at.map(convert::timestamp_to_proto),
    }
}

fn pair_to_proto(pair: NettedPair) -> pb::NettedPair {
    let (net_payer, net) = pair
        .net()
        .map_or((String::new(), Money::ZERO), |(payer, net)| {
            (payer.to_owned(), net)
        });
    pb::NettedPair {
        state_a_code: pair.state_a,
        state_b_code: pair.state_b,
        a_owes_b_paise: pair.a_owes_b.paise(),
        b_owes_a_paise: pair.b_owes_a.paise(),
        net_payer_state_code: net_payer,
        net_amount_paise: net.paise(),
        claim_ids: pair.claim_ids,
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

fn new_settlement(entry: Option<&pb::SettlementEntry>) -> Result<settlement::Model, ApiError> {
    let Some(e) = entry else {
        return Err(ApiError::invalid("entry", "is required"));
    };
    let mut violations = FieldViolations::new();
    violations.require("entry.claim_id", &e.claim_id);
    violations.require("entry.payer_scheme_code", &e.payer_scheme_code);
    let payer = violations.check(
        "entry.payer_state_code",
        StateCode::parse(&e.payer_state_code),
    );
    let treating = violations.check(
        "entry.treating_state_code",
        StateCode::parse(&e.treating_state_code),
    );
    if payer.is_some() && payer == treating {
        violations.add(
            "entry.treating_state_code",
            "is the payer state: only inter-state amounts are settled here",
        );
    }
    violations.amount("entry.amount_paise", e.amount_paise);
    let month = violations.check(
        "entry.month",
        convert::month_number("entry.month", e.month.as_ref())
            .map_err(|_| "is required: the month the claim was approved in"),
    );
    violations.into_result()?;
    Ok(settlement::Model {
        claim_id: e.claim_id.trim().to_owned(),
        payer_scheme_code: e.payer_scheme_code.trim().to_ascii_uppercase(),
        payer_state_code: payer.map(|s| s.code()).unwrap_or_default(),
        treating_state_code: treating.map(|s| s.code()).unwrap_or_default(),
        amount_paise: e.amount_paise,
        month: month.unwrap_or_default(),
        statement_id: None,
        recorded_at: ayushman_platform::db::now(),
    })
}

/// SuspendAgreement and ActivateAgreement carry the same fields.
struct StatusRequest<'a> {
    keyed: Keyed,
    agreement_id: &'a str,
    reason: &'a str,
    actor: Option<&'a ProtoActor>,
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
        let actor = Actor::named(change.actor);
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
        let actor = Actor::named(None);
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
        let r = request.into_inner();
        let change = StatusRequest {
            keyed,
            agreement_id: &r.agreement_id,
            reason: &r.reason,
            actor: r.actor.as_ref(),
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
        let r = request.into_inner();
        let change = StatusRequest {
            keyed,
            agreement_id: &r.agreement_id,
            reason: &r.reason,
            actor: r.actor.as_ref(),
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
        }))
    }

    async fn record_settlement(
        &self,
        request: Request<pb::RecordSettlementRequest>,
    ) -> Reply<pb::RecordSettlementResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let entry = new_settlement(request.entry.as_ref())?;
        let key = convert::optional_text(&request.idempotency_key)
            .unwrap_or_else(|| entry.claim_id.clone());
        let keyed = self
            .state
            .idempotency
            .keyed_as(&caller, "RecordSettlement", &key, &request)?;
        let reply = keyed
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let row = ledger::record(txn, entry).await?;
                    Ok(pb::RecordSettlementResponse {
                        entry: Some(settlement_to_proto(row)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn list_settlements(
        &self,
        request: Request<pb::ListSettlementsRequest>,
    ) -> Reply<pb::ListSettlementsResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 100, 1000)?;
        let month = match &r.month {
            Some(month) => Some(convert::month_number("month", Some(month))?),
            None => None,
        };
        let payer = convert::optional_text(&r.payer_state_code)
            .map(|c| state("payer_state_code", &c))
            .transpose()?;
        let treating = convert::optional_text(&r.treating_state_code)
            .map(|c| state("treating_state_code", &c))
            .transpose()?;
        let rows = queries::list_settlements(
            &self.state.db,
            month,
            payer.as_deref(),
            treating.as_deref(),
            page.after.as_deref(),
            page.size,
        )
        .await
        .map_err(ApiError::from)?;
        let (mut rows, next_page_token) = page.finish(rows, |s| s.claim_id.clone());
        // A state partner sees the settlements its state pays or is paid.
        if let Some(own) = caller.state_scope() {
            rows.retain(|s| s.payer_state_code == own || s.treating_state_code == own);
        }
        Ok(Response::new(pb::ListSettlementsResponse {
            entries: rows.into_iter().map(settlement_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn monthly_netting(
        &self,
        request: Request<pb::MonthlyNettingRequest>,
    ) -> Reply<pb::MonthlyNettingResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let month = convert::month_number("month", request.month.as_ref())?;
        // Netting is recomputed on every call while the month is open, so it is not
        // cached under the idempotency key: the same call always gives the current truth.
        let txn = ayushman_platform::db::begin_write(&self.state.db)
            .await
            .map_err(ApiError::from)?;
        let statement = ledger::monthly_netting(&txn, month).await?;
        txn.commit().await.map_err(ApiError::from)?;
        let mut statement = statement_to_proto(statement);
        // A state partner sees the pairs its state is part of.
        if let Some(own) = caller.state_scope() {
            statement
                .pairs
                .retain(|p| p.state_a_code == own || p.state_b_code == own);
        }
        Ok(Response::new(pb::MonthlyNettingResponse {
            statement: Some(statement),
        }))
    }

    async fn mark_statement_settled(
        &self,
        request: Request<pb::MarkStatementSettledRequest>,
    ) -> Reply<pb::MarkStatementSettledResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = required_code("statement_id", &request.statement_id)?;
        let reference = convert::optional_text(&request.settlement_reference).ok_or_else(|| {
            ApiError::invalid(
                "settlement_reference",
                "is required: the transfer order or UTR",
            )
        })?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let statement = ledger::mark_settled(txn, &id, &reference).await?;
                    Ok(pb::MarkStatementSettledResponse {
                        statement: Some(statement_to_proto(statement)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn portability_report(
        &self,
        request: Request<pb::PortabilityReportRequest>,
    ) -> Reply<pb::PortabilityReportResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let from = convert::month_number("from_month", r.from_month.as_ref())?;
        let to = convert::month_number("to_month", r.to_month.as_ref())?;
        if to < from {
            return Err(ApiError::invalid("to_month", "is before from_month").into());
        }
        let payer = convert::optional_text(&r.payer_state_code)
            .map(|c| state("payer_state_code", &c))
            .transpose()?;
        let mut rows = queries::cases_by_state_pair(&self.state.db, from, to, payer.as_deref())
            .await
            .map_err(ApiError::from)?;
        if let Some(own) = caller.state_scope() {
            rows.retain(|(_, payer, treating, _, _)| payer == own || treating == own);
        }
        Ok(Response::new(pb::PortabilityReportResponse {
            rows: rows
                .into_iter()
                .map(
                    |(month, payer, treating, cases, amount)| pb::PortabilityReportRow {
                        month: Some(convert::year_month(month)),
                        payer_state_code: payer,
                        treating_state_code: treating,
                        cases,
                        amount_paise: amount,
                    },
                )
                .collect(),
        }))
    }
}

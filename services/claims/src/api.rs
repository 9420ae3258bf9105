//! gRPC handlers of `ClaimsService`: validate and translate the request, call
//! a use case in `cases` or `batches`, translate the answer back. Each
//! mutating RPC keeps its reply under its idempotency key in the transaction
//! that commits its decision.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
    db::idempotency::{KeepReply, Keyed, Work},
    lifecycle::{Actor, HistoryRow, Stored},
};
use ayushman_proto::{
    claims::v1::{self as pb, claims_service_server::ClaimsService},
    common::v1::{Ownership, Role},
};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use tonic::{Request, Response, Status};

use crate::{
    Context,
    batches::{self, Batch},
    cases::{self, StoredBillItem, StoredDeduction, StoredDocument},
    config::ClaimsSettings,
    duties, report, spend,
    store::{
        CLAIM_HISTORY,
        entities::claim,
        queries::{self, ClaimFilter},
    },
};

/// The `ClaimsService` implementation.
pub struct ClaimsApi {
    /// Database, peers and settings.
    pub context: Context,
}

type Reply<T> = Result<Response<T>, Status>;

/// PERMISSION_DENIED unless the caller may see the claim: a state partner sees
/// claims treated in its state and those it pays for; a hospital's system,
/// its own hospitals' claims.
fn ensure_claim_in_scope(caller: &Caller, row: &claim::Model) -> Result<(), ApiError> {
    let what = format!("claim {}", row.claim_id);
    caller.ensure_any_state(
        &[
            row.facility_state_code.as_str(),
            row.payer_state_code.as_str(),
        ],
        &what,
    )?;
    caller.ensure_facility(&row.hfr_id, &what)
}

impl ClaimsApi {
    /// PERMISSION_DENIED unless the caller may decide the claim: only the
    /// state that pays it (the patient's home state) does.
    async fn ensure_decider(&self, caller: &Caller, id: &str) -> Result<(), ApiError> {
        if !caller.is_confined() {
            return Ok(());
        }
        let row = queries::find_claim(&self.context.db, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no claim {id}")))?;
        ensure_claim_in_scope(caller, &row)?;
        caller.ensure_decides(&row.payer_state_code, &format!("claim {id}"))
    }

    async fn ensure_id_in_scope(&self, caller: &Caller, id: &str) -> Result<(), ApiError> {
        if !caller.is_confined() {
            return Ok(());
        }
        let row = queries::find_claim(&self.context.db, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no claim {id}")))?;
        ensure_claim_in_scope(caller, &row)
    }
}

/// Keeps the reply `wrap` makes of the claim as committed.
fn keep_claim<'a, Resp: prost::Message + 'static>(
    keyed: &'a Keyed,
    settings: &Arc<ClaimsSettings>,
    wrap: fn(pb::Claim) -> Resp,
) -> KeepReply<
    'a,
    impl for<'c> Fn(&'c DatabaseTransaction, &'c claim::Model) -> Work<'c, Resp> + Send + Sync + 'a,
> {
    let settings = Arc::clone(settings);
    KeepReply::new(
        keyed,
        move |txn: &DatabaseTransaction, row: &claim::Model| -> Work<'_, Resp> {
            let (row, settings) = (row.clone(), Arc::clone(&settings));
            Box::pin(async move { Ok(wrap(claim_with_history(txn, &settings, row).await?)) })
        },
    )
}

/// Keeps the reply `wrap` makes of the batch as committed.
fn keep_batch<'a, Resp: prost::Message + 'static>(
    keyed: &'a Keyed,
    wrap: fn(pb::PaymentBatch) -> Resp,
) -> KeepReply<
    'a,
    impl for<'c> Fn(&'c DatabaseTransaction, &'c Batch) -> Work<'c, Resp> + Send + Sync + 'a,
> {
    KeepReply::new(
        keyed,
        move |_: &DatabaseTransaction, batch: &Batch| -> Work<'_, Resp> {
            let reply = wrap(batch_to_proto(batch.clone()));
            Box::pin(async move { Ok(reply) })
        },
    )
}

async fn claim_with_history(
    db: &impl ConnectionTrait,
    settings: &ClaimsSettings,
    row: claim::Model,
) -> Result<pb::Claim, ApiError> {
    let history = CLAIM_HISTORY.of(db, &[&row.claim_id]).await?;
    Ok(claim_to_proto(settings, row, &history))
}

fn claim_to_proto(
    settings: &ClaimsSettings,
    row: claim::Model,
    history: &[HistoryRow],
) -> pb::Claim {
    // A claim not yet paid shows the penalty it would carry if paid now.
    let penalty = match row.paid_at {
        Some(_) => row.penalty_paise,
        None if row.approved_at.is_some() => crate::rules::penalty(
            ayushman_domain::Money::from_paise(row.approved_amount_paise),
            row.payment_due_at,
            ayushman_platform::db::now(),
            settings.penalty_basis_points_per_week,
        )
        .paise(),
        None => 0,
    };
    pb::Claim {
        claim_id: row.claim_id,
        preauth_id: row.preauth_id,
        hfr_id: row.hfr_id,
        district_code: row.district_code,
        facility_state_code: row.facility_state_code,
        ownership: Ownership::from_str_name(&row.ownership).unwrap_or_default() as i32,
        beneficiary_id: row.beneficiary_id,
        portability_case: row.portability_case,
        payer_scheme_code: row.payer_scheme_code,
        payer_state_code: row.payer_state_code,
        status: *row.status as i32,
        claimed_amount_paise: row.claimed_amount_paise,
        approved_amount_paise: row.approved_amount_paise,
        deductions: cases::parse::<StoredDeduction>(&row.deductions)
            .into_iter()
            .map(|d| pb::Deduction {
                code: d.code,
                amount_paise: d.amount_paise,
                reason: d.reason,
            })
            .collect(),
        bill_items: cases::parse::<StoredBillItem>(&row.bill_items)
            .into_iter()
            .map(|b| pb::BillItem {
                description: b.description,
                package_code: b.package_code,
                amount_paise: b.amount_paise,
            })
            .collect(),
        documents: cases::parse::<StoredDocument>(&row.documents)
            .into_iter()
            .map(|d| pb::DocumentRef {
                kind: d.kind,
                file_name: d.file_name,
                sha256: d.sha256,
                uri: d.uri,
            })
            .collect(),
        discharge_date: Some(convert::date_to_proto(row.discharge_date)),
        submitted_at: Some(convert::timestamp_to_proto(row.submitted_at)),
        payment_due_at: Some(convert::timestamp_to_proto(row.payment_due_at)),
        paid_at: row.paid_at.map(convert::timestamp_to_proto),
        penalty_paise: penalty,
        payment_batch_id: row.payment_batch_id,
        history: history.iter().map(HistoryRow::to_proto).collect(),
    }
}

fn batch_to_proto((batch, claims): Batch) -> pb::PaymentBatch {
    pb::PaymentBatch {
        payment_batch_id: batch.payment_batch_id,
        payer_scheme_code: batch.payer_scheme_code,
        payer_state_code: batch.payer_state_code,
        total_approved_paise: claims.iter().map(|c| c.approved_amount_paise).sum(),
        total_penalty_paise: claims.iter().map(|c| c.penalty_paise).sum(),
        claim_ids: claims.into_iter().map(|c| c.claim_id).collect(),
        status: *batch.status as i32,
        payment_reference: batch.payment_reference,
        created_at: Some(convert::timestamp_to_proto(batch.created_at)),
        paid_at: batch.paid_at.map(convert::timestamp_to_proto),
    }
}

fn report_row_to_proto(row: report::ReportRow) -> pb::ClaimsReportRow {
    pb::ClaimsReportRow {
        district_code: row.district_code,
        month: row.month.map(convert::year_month),
        ownership: Ownership::from_str_name(&row.ownership).unwrap_or_default() as i32,
        claims_submitted: row.claims_submitted,
        patients: row.patients,
        claimed_paise: row.claimed_paise,
        approved_paise: row.approved_paise,
        paid_paise: row.paid_paise,
        claims_paid: row.claims_paid,
        average_settlement_centidays: row.average_settlement_centidays,
        penalty_paise: row.penalty_paise,
    }
}

#[tonic::async_trait]
impl ClaimsService for ClaimsApi {
    async fn submit_claim(
        &self,
        request: Request<pb::SubmitClaimRequest>,
    ) -> Reply<pb::SubmitClaimResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("idempotency_key", &r.idempotency_key);
        v.require("preauth_id", &r.preauth_id);
        if r.bill_items.is_empty() {
            v.add("bill_items", "the final bill needs at least one item");
        }
        for (i, item) in r.bill_items.iter().enumerate() {
            v.require(&format!("bill_items[{i}].description"), &item.description);
            v.amount(&format!("bill_items[{i}].amount_paise"), item.amount_paise);
        }
        v.into_result()?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &r)?;
        if caller.is_confined() {
            let preauth = context.peers.preauth(r.preauth_id.trim()).await?;
            let what = format!("preauth {}", preauth.preauth_id);
            caller.ensure_any_state(
                &[
                    preauth.facility_state_code.as_str(),
                    preauth.home_state_code.as_str(),
                ],
                &what,
            )?;
            caller.ensure_facility(&preauth.hfr_id, &what)?;
        }
        let reply = keyed
            .run(&context.db, || async {
                cases::submit(
                    context,
                    r.preauth_id.trim(),
                    r.bill_items.clone(),
                    r.documents.clone(),
                    &Actor::of(&caller, r.actor.as_ref()),
                    &keep_claim(&keyed, &context.settings, |claim| pb::SubmitClaimResponse {
                        claim: Some(claim),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_claim(
        &self,
        request: Request<pb::GetClaimRequest>,
    ) -> Reply<pb::GetClaimResponse> {
        let id = convert::required_text("claim_id", &request.get_ref().claim_id)?;
        let row = queries::find_claim(&self.context.db, &id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no claim {id}")))?;
        ensure_claim_in_scope(&Caller::of(&request), &row)?;
        Ok(Response::new(pb::GetClaimResponse {
            claim: Some(claim_with_history(&self.context.db, &self.context.settings, row).await?),
        }))
    }

    async fn list_claims(
        &self,
        request: Request<pb::ListClaimsRequest>,
    ) -> Reply<pb::ListClaimsResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
        let dates = r.submitted_dates.unwrap_or_default();
        let day = |date: Option<chrono::NaiveDate>| {
            date.and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        };
        let filter = ClaimFilter {
            hfr_id: caller.scoped_hfr_filter(convert::optional_text(&r.hfr_id), "hfr_id")?,
            district_code: convert::optional_text(&r.district_code),
            status: convert::optional_enum::<pb::ClaimStatus>("status", r.status)?.map(Stored),
            payer_state_code: convert::optional_text(&r.payer_state_code),
            submitted_from: day(convert::date_from_proto(
                "submitted_dates.start_date",
                dates.start_date.as_ref(),
            )?),
            submitted_before: day(convert::date_from_proto(
                "submitted_dates.end_date",
                dates.end_date.as_ref(),
            )?
            .and_then(|d| d.succ_opt())),
            concerning_state: caller.state_scope().map(str::to_owned),
            ..Default::default()
        };
        let rows =
            queries::list_claims(&self.context.db, &filter, page.after.as_deref(), page.size)
                .await
                .map_err(ApiError::from)?;
        let now = ayushman_platform::db::now();
        let rows: Vec<_> = if r.overdue_only {
            rows.into_iter()
                .filter(|c| c.paid_at.is_none() && c.payment_due_at < now)
                .collect()
        } else {
            rows
        };
        let (rows, next_page_token) = page.finish(rows, |c| c.claim_id.clone());
        let ids: Vec<String> = rows.iter().map(|c| c.claim_id.clone()).collect();
        let mut histories: BTreeMap<String, Vec<HistoryRow>> = CLAIM_HISTORY
            .of_many(&self.context.db, &ids)
            .await
            .map_err(ApiError::from)?;
        let claims = rows
            .into_iter()
            .map(|row| {
                let history = histories.remove(&row.claim_id).unwrap_or_default();
                claim_to_proto(&self.context.settings, row, &history)
            })
            .collect();
        Ok(Response::new(pb::ListClaimsResponse {
            claims,
            next_page_token,
        }))
    }

    async fn adjudicate_claim(
        &self,
        request: Request<pb::AdjudicateClaimRequest>,
    ) -> Reply<pb::AdjudicateClaimResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("claim_id", &r.claim_id);
        let decision = v.check(
            "decision",
            convert::required_enum::<pb::AdjudicationDecision>("decision", r.decision)
                .map_err(|_| "is required"),
        );
        match decision {
            Some(pb::AdjudicationDecision::PartiallyApprove) if r.deductions.is_empty() => {
                v.add("deductions", "are required for a partial approval")
            }
            Some(pb::AdjudicationDecision::Reject | pb::AdjudicationDecision::Query)
                if r.reason.trim().is_empty() =>
            {
                v.add("reason", "is required to reject or query")
            }
            Some(pb::AdjudicationDecision::Approve) if !r.deductions.is_empty() => v.add(
                "deductions",
                "approve in full has none; use PARTIALLY_APPROVE",
            ),
            _ => {}
        }
        for (i, deduction) in r.deductions.iter().enumerate() {
            if convert::required_enum::<pb::DeductionCode>("code", deduction.code).is_err() {
                v.add(
                    format!("deductions[{i}].code"),
                    "is required: a coded reason",
                );
            }
            v.amount(
                &format!("deductions[{i}].amount_paise"),
                deduction.amount_paise,
            );
        }
        v.into_result()?;
        // A claim executive checks documents and may query them back; only a
        // claim doctor approves or rejects.
        if decision != Some(pb::AdjudicationDecision::Query) {
            caller.require_role(&[Role::Cpd], "approving or rejecting a claim")?;
        }
        self.ensure_decider(&caller, r.claim_id.trim()).await?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &r)?;
        let reply = keyed
            .run(&context.db, || async {
                cases::adjudicate(
                    context,
                    r.claim_id.trim(),
                    decision.unwrap_or_default(),
                    r.deductions.clone(),
                    r.reason.trim(),
                    &Actor::of(&caller, r.actor.as_ref()),
                    &keep_claim(&keyed, &context.settings, |claim| {
                        pb::AdjudicateClaimResponse { claim: Some(claim) }
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn respond_to_claim_query(
        &self,
        request: Request<pb::RespondToClaimQueryRequest>,
    ) -> Reply<pb::RespondToClaimQueryResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let id = convert::required_text("claim_id", &r.claim_id)?;
        self.ensure_id_in_scope(&caller, &id).await?;
        let response = convert::required_text("response", &r.response)?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &r)?;
        let reply = keyed
            .run(&context.db, || async {
                cases::respond(
                    context,
                    &id,
                    &response,
                    &Actor::of(&caller, r.actor.as_ref()),
                    &keep_claim(&keyed, &context.settings, |claim| {
                        pb::RespondToClaimQueryResponse { claim: Some(claim) }
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn approve_claim(
        &self,
        request: Request<pb::ApproveClaimRequest>,
    ) -> Reply<pb::ApproveClaimResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let id = convert::required_text("claim_id", &r.claim_id)?;
        self.ensure_decider(&caller, &id).await?;
        duties::ensure_not_adjudicator(&self.context.db, &caller, &id).await?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &r)?;
        let reply = keyed
            .run(&context.db, || async {
                cases::approve(
                    context,
                    &id,
                    &Actor::of(&caller, r.actor.as_ref()),
                    &keep_claim(&keyed, &context.settings, |claim| {
                        pb::ApproveClaimResponse { claim: Some(claim) }
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn create_payment_batch(
        &self,
        request: Request<pb::CreatePaymentBatchRequest>,
    ) -> Reply<pb::CreatePaymentBatchResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("idempotency_key", &r.idempotency_key);
        v.require("payer_scheme_code", &r.payer_scheme_code);
        let state = v.check(
            "payer_state_code",
            ayushman_domain::StateCode::parse(&r.payer_state_code),
        );
        let up_to = v.check(
            "approved_up_to",
            convert::required_date("approved_up_to", r.approved_up_to.as_ref())
                .map_err(|_| "is required"),
        );
        v.into_result()?;
        let cutoff = up_to
            .and_then(|d| d.succ_opt())
            .map(ayushman_domain::india_time::start_of_day)
            .unwrap_or_default();
        let scheme = r.payer_scheme_code.trim().to_ascii_uppercase();
        let state = state.map(|s| s.code()).unwrap_or_default();
        caller.ensure_state(&state, &format!("payments of state {state}"))?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &r)?;
        let reply = keyed
            .run(&context.db, || async {
                batches::create_batch(
                    context,
                    &scheme,
                    &state,
                    cutoff,
                    &Actor::of(&caller, r.actor.as_ref()),
                    &keep_batch(&keyed, |batch| pb::CreatePaymentBatchResponse {
                        batch: Some(batch),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_payment_batch(
        &self,
        request: Request<pb::GetPaymentBatchRequest>,
    ) -> Reply<pb::GetPaymentBatchResponse> {
        let id = convert::required_text("payment_batch_id", &request.get_ref().payment_batch_id)?;
        let batch = batches::get_batch(&self.context, &id).await?;
        Caller::of(&request)
            .ensure_state(&batch.0.payer_state_code, &format!("payment batch {id}"))?;
        Ok(Response::new(pb::GetPaymentBatchResponse {
            batch: Some(batch_to_proto(batch)),
        }))
    }

    async fn mark_paid(
        &self,
        request: Request<pb::MarkPaidRequest>,
    ) -> Reply<pb::MarkPaidResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let id = convert::required_text("payment_batch_id", &r.payment_batch_id)?;
        if caller != Caller::Mesh {
            let (batch, claims) = batches::get_batch(&self.context, &id).await?;
            caller.ensure_state(&batch.payer_state_code, &format!("payment batch {id}"))?;
            let ids: Vec<String> = claims.into_iter().map(|c| c.claim_id).collect();
            duties::ensure_not_approver(&self.context.db, &caller, &ids, &id).await?;
        }
        let reference = convert::required_text("payment_reference", &r.payment_reference)?;
        let paid_at = match &r.paid_at {
            Some(t) => chrono::DateTime::from_timestamp(t.seconds, 0)
                .ok_or_else(|| ApiError::invalid("paid_at", "is not a real time"))?,
            None => ayushman_platform::db::now(),
        };
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &r)?;
        let reply = keyed
            .run(&context.db, || async {
                batches::mark_paid(
                    context,
                    &id,
                    &reference,
                    paid_at,
                    &Actor::of(&caller, r.actor.as_ref()),
                    &keep_batch(&keyed, |batch| pb::MarkPaidResponse { batch: Some(batch) }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn claims_report(
        &self,
        request: Request<pb::ClaimsReportRequest>,
    ) -> Reply<pb::ClaimsReportResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        if let Some(district) = convert::optional_text(&r.district_code) {
            caller.ensure_district(&district, "district_code")?;
        }
        let scope = report::ReportScope {
            from_month: convert::month_number("from_month", r.from_month.as_ref())?,
            to_month: convert::month_number("to_month", r.to_month.as_ref())?,
            state_code: caller
                .scoped_state_filter(convert::optional_text(&r.state_code), "state_code")?,
            district_code: convert::optional_text(&r.district_code),
            ownership: convert::optional_enum::<Ownership>("ownership", r.ownership)?
                .map(|o| o.as_str_name().to_owned()),
        };
        let report = report::claims_report(&self.context.db, scope)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ClaimsReportResponse {
            rows: report.rows.into_iter().map(report_row_to_proto).collect(),
            total: Some(report_row_to_proto(report.total)),
        }))
    }

    async fn out_of_state_spend_report(
        &self,
        request: Request<pb::OutOfStateSpendReportRequest>,
    ) -> Reply<pb::OutOfStateSpendReportResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let direction = match (
            convert::optional_text(&r.home_state_code),
            convert::optional_text(&r.treating_state_code),
        ) {
            (Some(home), None) => spend::Direction::Outbound(home),
            (None, Some(treating)) => spend::Direction::Inbound(treating),
            _ => {
                return Err(ApiError::invalid(
                    "home_state_code",
                    "give home_state_code (what a state paid out) or treating_state_code (what its hospitals were paid), not both",
                )
                .into());
            }
        };
        let (spend::Direction::Outbound(state) | spend::Direction::Inbound(state)) = &direction;
        let field = match direction {
            spend::Direction::Outbound(_) => "home_state_code",
            spend::Direction::Inbound(_) => "treating_state_code",
        };
        ayushman_domain::StateCode::parse(state)
            .map_err(|e| ApiError::invalid(field, e.reason().to_owned()))?;
        caller.ensure_state(state, &format!("the spend of state {state}"))?;
        let from = convert::month_number("from_month", r.from_month.as_ref())?;
        let to = convert::month_number("to_month", r.to_month.as_ref())?;
        let (rows, months) = spend::out_of_state_spend(&self.context.db, &direction, from, to)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::OutOfStateSpendReportResponse {
            rows: rows
                .into_iter()
                .map(|row| pb::OutOfStateSpendRow {
                    month: Some(convert::year_month(row.month)),
                    home_state_code: row.home_state,
                    treating_state_code: row.treating_state,
                    specialty_code: row.specialty,
                    claims_paid: row.claims_paid,
                    paid_paise: row.paid_paise,
                })
                .collect(),
            months: months
                .into_iter()
                .map(|month| pb::MonthSpend {
                    out_of_state_basis_points: month.basis_points(),
                    month: Some(convert::year_month(month.month)),
                    state_code: month.state,
                    total_paid_paise: month.total_paid_paise,
                    out_of_state_paid_paise: month.out_of_state_paid_paise,
                })
                .collect(),
        }))
    }

    async fn import_claim_history(
        &self,
        request: Request<tonic::Streaming<pb::ImportClaimHistoryRequest>>,
    ) -> Reply<pb::ImportClaimHistoryResponse> {
        const BATCH: usize = 1000;
        let mut stream = request.into_inner();
        let mut summary = pb::ImportClaimHistoryResponse::default();
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let row = stream.message().await?;
            let done = row.is_none();
            if let Some(row) = row {
                summary.rows_received += 1;
                match crate::history::claim_from(&row, &self.context.settings) {
                    Ok(claim) => batch.push(claim),
                    Err(violations) => {
                        summary.rejected += 1;
                        let row_number = summary.rows_received;
                        summary
                            .rejects
                            .extend(violations.iter().map(|(field, reason)| {
                                ayushman_proto::common::v1::RowReject {
                                    row_number,
                                    field: field.to_owned(),
                                    reason: reason.to_owned(),
                                }
                            }));
                    }
                }
            }
            if batch.len() == BATCH || (done && !batch.is_empty()) {
                let size = batch.len() as i64;
                let txn = ayushman_platform::db::begin_write(&self.context.db)
                    .await
                    .map_err(ApiError::from)?;
                let imported = queries::insert_new_claims(&txn, std::mem::take(&mut batch))
                    .await
                    .map_err(ApiError::from)? as i64;
                txn.commit().await.map_err(ApiError::from)?;
                summary.imported += imported;
                summary.duplicates += size - imported;
            }
            if done {
                break;
            }
        }
        tracing::info!(
            received = summary.rows_received,
            imported = summary.imported,
            rejected = summary.rejected,
            "claim history imported"
        );
        Ok(Response::new(summary))
    }

    async fn facility_society_ledger(
        &self,
        request: Request<pb::FacilitySocietyLedgerRequest>,
    ) -> Reply<pb::FacilitySocietyLedgerResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let hfr = ayushman_domain::HfrId::parse(&r.hfr_id)
            .map_err(|e| ApiError::invalid("hfr_id", e.reason().to_owned()))?;
        caller.ensure_state(&hfr.state().code(), &format!("facility {hfr}"))?;
        let hfr = hfr.to_string();
        let credits = queries::credits_of(&self.context.db, &hfr)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::FacilitySocietyLedgerResponse {
            hfr_id: hfr,
            society_name: credits
                .first()
                .map(|c| c.society_name.clone())
                .unwrap_or_default(),
            balance_paise: credits.iter().map(|c| c.amount_paise).sum(),
            patients: credits
                .iter()
                .map(|c| c.beneficiary_id.as_str())
                .collect::<BTreeSet<_>>()
                .len() as i64,
            credits: credits
                .into_iter()
                .map(|c| pb::SocietyCredit {
                    claim_id: c.claim_id,
                    amount_paise: c.amount_paise,
                    credited_at: Some(convert::timestamp_to_proto(c.credited_at)),
                })
                .collect(),
            next_page_token: String::new(),
        }))
    }
}

//! gRPC handlers of `PreauthService`: validate and translate the request, call
//! the catalogue, the saga or a lifecycle step, translate the answer back.

use ayushman_domain::{HfrId, HprId, Money, StateCode};
use std::collections::BTreeMap;

use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
    db::idempotency::{KeepReply, Keyed, Work},
    lifecycle::{Actor, HistoryRow, Stored},
};
use ayushman_proto::{
    common::v1::{Actor as ProtoActor, ActorKind, Ownership},
    preauth::v1::{self as pb, preauth_service_server::PreauthService},
};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use tonic::{Request, Response, Status};

use crate::{
    Context,
    enhancements::{self, Enhancement},
    lifecycle, saga,
    store::{
        PREAUTH_HISTORY,
        entities::{
            enhancement, package, package_add_on, package_rate, preauth, preauth_flag, preauth_line,
        },
        queries::{self, FullPackage, PreauthFilter},
    },
};

/// The `PreauthService` implementation.
pub struct PreauthApi {
    /// Database, peers and settings shared with the background worker.
    pub context: Context,
}

type Reply<T> = Result<Response<T>, Status>;

/// The states a case concerns: where it is treated and the patient's home state.
fn states_of(row: &preauth::Model) -> Vec<String> {
    let mut states: Vec<String> = HfrId::parse(&row.hfr_id)
        .map(|h| h.state().code())
        .into_iter()
        .collect();
    if !row.home_state_code.is_empty() {
        states.push(row.home_state_code.clone());
    }
    states
}

/// PERMISSION_DENIED unless the caller may see the case: a state partner sees
/// the cases treated in its state and those of its own people elsewhere; a
/// hospital's system, the cases of its own hospitals.
fn ensure_preauth_in_scope(caller: &Caller, row: &preauth::Model) -> Result<(), ApiError> {
    let states = states_of(row);
    let states: Vec<&str> = states.iter().map(String::as_str).collect();
    let what = format!("preauth {}", row.preauth_id);
    caller.ensure_any_state(&states, &what)?;
    caller.ensure_facility(&row.hfr_id, &what)
}

impl PreauthApi {
    /// PERMISSION_DENIED unless the caller may decide the case: only the
    /// patient's home state does, even when another state treats them, and
    /// never the user who raised it.
    async fn ensure_decider(&self, caller: &Caller, id: &str) -> Result<(), ApiError> {
        if caller == &Caller::Mesh {
            return Ok(());
        }
        let db = &self.context.db;
        let row = queries::find_preauth(db, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no preauth {id}")))?;
        ensure_preauth_in_scope(caller, &row)?;
        caller.ensure_decides(&row.home_state_code, &format!("preauth {id}"))?;
        let raised_by = PREAUTH_HISTORY
            .of(db, &[id])
            .await?
            .into_iter()
            .next()
            .map(|first| first.actor.id)
            .unwrap_or_default();
        caller.ensure_other_user(&raised_by, &format!("raised preauth {id}"), "decide it")
    }

    async fn ensure_id_in_scope(&self, caller: &Caller, id: &str) -> Result<(), ApiError> {
        if !caller.is_confined() {
            return Ok(());
        }
        let row = queries::find_preauth(&self.context.db, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no preauth {id}")))?;
        ensure_preauth_in_scope(caller, &row)
    }

    /// A state partner may raise a case at a hospital of its state, or for one
    /// of its own people elsewhere (the registry says whose they are).
    async fn ensure_case_in_scope(
        &self,
        caller: &Caller,
        request: &pb::RaisePreauthRequest,
        hfr: HfrId,
        admission: chrono::NaiveDate,
    ) -> Result<(), ApiError> {
        let treating = hfr.state().code();
        if caller.state_scope().is_none_or(|own| own == treating) {
            return Ok(());
        }
        let eligibility = self
            .context
            .peers
            .eligibility(
                request.beneficiary_id.trim(),
                request.card_number.trim(),
                &request.scheme_code.trim().to_ascii_uppercase(),
                admission,
            )
            .await?;
        caller.ensure_any_state(
            &[treating.as_str(), eligibility.home_state.as_str()],
            &format!(
                "a case at {hfr} for a patient of state {}",
                eligibility.home_state
            ),
        )
    }
}

fn package_to_proto((row, rates, add_ons): FullPackage) -> pb::Package {
    pb::Package {
        package_code: row.package_code,
        name: row.name,
        specialty_code: row.specialty_code,
        base_rate_paise: row.base_rate_paise,
        state_rates: rates
            .into_iter()
            .map(|r| pb::StateRate {
                state_code: r.state_code,
                rate_paise: r.rate_paise,
            })
            .collect(),
        reserved_for_public: row.reserved_for_public,
        add_ons: add_ons
            .into_iter()
            .map(|a| pb::AddOn {
                add_on_code: a.add_on_code,
                name: a.name,
                kind: pb::AddOnKind::from_str_name(&a.kind).unwrap_or_default() as i32,
                amount_paise: a.amount_paise,
                percent_basis_points: a.percent_basis_points,
            })
            .collect(),
        expected_stay_days: row.expected_stay_days,
        active: row.active,
    }
}

/// A preauth with its lines, history and flags read from `db`.
async fn full_preauth(
    db: &impl ConnectionTrait,
    row: preauth::Model,
) -> Result<pb::Preauth, ApiError> {
    let lines = queries::lines_of(db, &row.preauth_id).await?;
    let history = PREAUTH_HISTORY.of(db, &[&row.preauth_id]).await?;
    let flags = queries::flags_of(db, &row.preauth_id).await?;
    let mut enhancements =
        queries::enhancements_of_many(db, std::slice::from_ref(&row.preauth_id)).await?;
    let enhancements = enhancements.remove(&row.preauth_id).unwrap_or_default();
    Ok(preauth_to_proto(row, lines, &history, flags, enhancements))
}

/// Keeps the reply `wrap` makes of the preauth as committed.
fn keep_preauth<Resp: prost::Message + 'static>(
    keyed: &Keyed,
    wrap: fn(pb::Preauth) -> Resp,
) -> KeepReply<
    '_,
    impl for<'c> Fn(&'c DatabaseTransaction, &'c preauth::Model) -> Work<'c, Resp> + Send + Sync,
> {
    KeepReply::new(
        keyed,
        move |txn: &DatabaseTransaction, row: &preauth::Model| -> Work<'_, Resp> {
            let row = row.clone();
            Box::pin(async move { Ok(wrap(full_preauth(txn, row).await?)) })
        },
    )
}

fn line_to_proto(line: enhancements::StoredLine) -> pb::PreauthLine {
    pb::PreauthLine {
        package_code: line.package_code,
        specialty_code: line.specialty_code,
        add_on_codes: line
            .add_on_codes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        rate_paise: line.rate_paise,
        add_ons_paise: line.add_ons_paise,
        amount_paise: line.amount_paise,
        rate_source: pb::RateSource::from_str_name(&line.rate_source).unwrap_or_default() as i32,
    }
}

fn enhancement_to_proto(row: enhancement::Model) -> pb::Enhancement {
    let lines = enhancements::lines_of(&row);
    pb::Enhancement {
        status: *row.status as i32,
        lines: lines.into_iter().map(line_to_proto).collect(),
        amount_paise: row.amount_paise,
        requested_at: Some(convert::timestamp_to_proto(row.requested_at)),
        decided_by: row.decided_at.map(|_| ProtoActor {
            actor_id: row.decided_by_id.clone(),
            kind: ActorKind::from_str_name(&row.decided_by_kind).unwrap_or_default() as i32,
            display_name: String::new(),
        }),
        decision_reason: row.decision_reason,
        decided_at: row.decided_at.map(convert::timestamp_to_proto),
        reason: row.reason,
        enhancement_id: row.enhancement_id,
    }
}

fn preauth_to_proto(
    row: preauth::Model,
    lines: Vec<preauth_line::Model>,
    history: &[HistoryRow],
    flags: Vec<preauth_flag::Model>,
    enhancements: Vec<enhancement::Model>,
) -> pb::Preauth {
    pb::Preauth {
        drawn_scheme_codes: row.drawn_schemes(),
        enhancements: enhancements.into_iter().map(enhancement_to_proto).collect(),
        review_clock_from: row.review_clock_from.map(convert::timestamp_to_proto),
        preauth_id: row.preauth_id,
        beneficiary_id: row.beneficiary_id,
        family_id: row.family_id,
        home_state_code: row.home_state_code,
        scheme_code: row.scheme_code,
        hfr_id: row.hfr_id,
        facility_state_code: row.facility_state_code,
        facility_district_code: row.facility_district_code,
        facility_ownership: Ownership::from_str_name(&row.facility_ownership).unwrap_or_default()
            as i32,
        treating_hpr_id: row.treating_hpr_id,
        lines: lines
            .into_iter()
            .map(|l| pb::PreauthLine {
                package_code: l.package_code,
                specialty_code: l.specialty_code,
                add_on_codes: l
                    .add_on_codes
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
                rate_paise: l.rate_paise,
                add_ons_paise: l.add_ons_paise,
                amount_paise: l.amount_paise,
                rate_source: pb::RateSource::from_str_name(&l.rate_source).unwrap_or_default()
                    as i32,
            })
            .collect(),
        admission_date: Some(convert::date_to_proto(row.admission_date)),
        discharge_date: row.discharge_date.map(convert::date_to_proto),
        status: *row.status as i32,
        requested_amount_paise: row.requested_amount_paise,
        approved_amount_paise: row.approved_amount_paise,
        blocked_amount_paise: row.blocked_amount_paise,
        portability_case: row.portability_case,
        agreement_id: row.agreement_id,
        payer_scheme_code: row.payer_scheme_code,
        payer_state_code: row.payer_state_code,
        fraud_flags: flags
            .into_iter()
            .map(|f| pb::FraudFlag {
                kind: pb::FraudFlagKind::from_str_name(&f.kind).unwrap_or_default() as i32,
                reason: f.reason,
                related_preauth_id: f.related_preauth_id,
            })
            .collect(),
        failure_reason: row.failure_reason,
        provisional_diagnosis: row.provisional_diagnosis,
        deemed_approval: row.deemed_approval,
        history: history.iter().map(HistoryRow::to_proto).collect(),
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
        updated_at: Some(convert::timestamp_to_proto(row.updated_at)),
    }
}

/// Validates a package to store.
fn new_package(package: Option<&pb::Package>) -> Result<FullPackage, ApiError> {
    let Some(p) = package else {
        return Err(ApiError::invalid("package", "is required"));
    };
    let mut v = FieldViolations::new();
    v.require("package.package_code", &p.package_code);
    v.require("package.name", &p.name);
    v.require("package.specialty_code", &p.specialty_code);
    v.amount("package.base_rate_paise", p.base_rate_paise);
    let code = p.package_code.trim().to_ascii_uppercase();
    let mut rates = Vec::new();
    for (i, rate) in p.state_rates.iter().enumerate() {
        if let Some(state) = v.check(
            &format!("package.state_rates[{i}].state_code"),
            StateCode::parse(&rate.state_code),
        ) {
            rates.push(package_rate::Model {
                package_code: code.clone(),
                state_code: state.code(),
                rate_paise: rate.rate_paise,
            });
        }
        v.amount(
            &format!("package.state_rates[{i}].rate_paise"),
            rate.rate_paise,
        );
    }
    let mut add_ons = Vec::new();
    for (i, add_on) in p.add_ons.iter().enumerate() {
        let field = |name: &str| format!("package.add_ons[{i}].{name}");
        v.require(&field("add_on_code"), &add_on.add_on_code);
        let kind = v.check(
            &field("kind"),
            convert::required_enum::<pb::AddOnKind>(&field("kind"), add_on.kind)
                .map_err(|_| "is required"),
        );
        if (add_on.amount_paise > 0) == (add_on.percent_basis_points > 0) {
            v.add(
                field("amount_paise"),
                "give either a fixed amount or a percentage in basis points",
            );
        }
        add_ons.push(package_add_on::Model {
            package_code: code.clone(),
            add_on_code: add_on.add_on_code.trim().to_ascii_uppercase(),
            name: add_on.name.trim().to_owned(),
            kind: kind.unwrap_or_default().as_str_name().to_owned(),
            amount_paise: add_on.amount_paise.max(0),
            percent_basis_points: add_on.percent_basis_points.max(0),
        });
    }
    v.into_result()?;
    let row = package::Model {
        package_code: code,
        name: p.name.trim().to_owned(),
        specialty_code: p.specialty_code.trim().to_ascii_uppercase(),
        base_rate_paise: p.base_rate_paise,
        reserved_for_public: p.reserved_for_public,
        expected_stay_days: p.expected_stay_days.max(0),
        active: p.active,
    };
    Ok((row, rates, add_ons))
}

/// Answers a preauth: FAILED ones as FAILED_PRECONDITION with the reason and id.
/// FAILED_PRECONDITION with the reason when the saga failed the preauth.
fn ensure_not_failed(row: &preauth::Model) -> Result<(), ApiError> {
    if row.status == pb::PreauthStatus::Failed {
        return Err(ApiError::FailedPrecondition(format!(
            "preauth {} failed: {}",
            row.preauth_id, row.failure_reason
        )));
    }
    Ok(())
}

#[tonic::async_trait]
impl PreauthService for PreauthApi {
    async fn list_packages(
        &self,
        request: Request<pb::ListPackagesRequest>,
    ) -> Reply<pb::ListPackagesResponse> {
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 100, 1000)?;
        let specialty = convert::optional_text(&r.specialty_code).map(|s| s.to_ascii_uppercase());
        let rows = queries::list_packages(
            &self.context.db,
            specialty.as_deref(),
            r.include_inactive,
            page.after.as_deref(),
            page.size,
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = page.finish(rows, |p| p.0.package_code.clone());
        Ok(Response::new(pb::ListPackagesResponse {
            packages: rows.into_iter().map(package_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_package(
        &self,
        request: Request<pb::GetPackageRequest>,
    ) -> Reply<pb::GetPackageResponse> {
        let code = convert::required_text("package_code", &request.get_ref().package_code)?
            .to_ascii_uppercase();
        let full = queries::find_package(&self.context.db, &code)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no package {code}")))?;
        Ok(Response::new(pb::GetPackageResponse {
            package: Some(package_to_proto(full)),
        }))
    }

    async fn upsert_package(
        &self,
        request: Request<pb::UpsertPackageRequest>,
    ) -> Reply<pb::UpsertPackageResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let full = new_package(request.package.as_ref())?;
        let reply = self
            .context
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.context.db, |txn| {
                Box::pin(async move {
                    let code = full.0.package_code.clone();
                    queries::save_package(txn, full).await?;
                    let stored = queries::find_package(txn, &code)
                        .await?
                        .ok_or_else(|| ApiError::internal("package vanished"))?;
                    Ok(pb::UpsertPackageResponse {
                        package: Some(package_to_proto(stored)),
                    })
                })
            })
            .await?;
        // Requests here see the change at once; other replicas within
        // service.package_refresh_seconds.
        self.context.packages.reload(&self.context.db).await?;
        Ok(Response::new(reply))
    }

    async fn raise_preauth(
        &self,
        request: Request<pb::RaisePreauthRequest>,
    ) -> Reply<pb::RaisePreauthResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("idempotency_key", &request.idempotency_key);
        if request.beneficiary_id.trim().is_empty() && request.card_number.trim().is_empty() {
            v.add("beneficiary_id", "give beneficiary_id or card_number");
        }
        let hfr = v.check("hfr_id", HfrId::parse(&request.hfr_id));
        let hpr = v.check("treating_hpr_id", HprId::parse(&request.treating_hpr_id));
        let admission = v.check(
            "admission_date",
            convert::required_date("admission_date", request.admission_date.as_ref())
                .map_err(|_| "is required and must be a real date"),
        );
        if admission.is_some_and(|d| d > convert::today_in_india()) {
            v.add("admission_date", "is in the future");
        }
        if request.packages.is_empty() {
            v.add("packages", "ask for at least one package");
        }
        let packages: Vec<(String, Vec<String>)> = request
            .packages
            .iter()
            .map(|choice| {
                (
                    choice.package_code.trim().to_ascii_uppercase(),
                    choice
                        .add_on_codes
                        .iter()
                        .map(|a| a.trim().to_ascii_uppercase())
                        .collect(),
                )
            })
            .collect();
        // A bad request hears of every field at once; a well-formed one has its
        // packages checked after its key, so a retry is answered as the first
        // call was even after a package left the catalogue.
        if !v.is_empty() {
            let catalogue = self.context.packages.catalogue(&self.context.db).await?;
            saga::check_packages(&mut v, &catalogue, &packages);
        }
        v.into_result()?;
        if let (Some(hfr), Some(admission)) = (hfr, admission) {
            caller.ensure_facility(&hfr.to_string(), "this case")?;
            self.ensure_case_in_scope(&caller, &request, hfr, admission)
                .await?;
        }
        let actor = Actor::of(&caller, request.actor.as_ref());
        // The preauth row keeps its request's key and fingerprint: it is the
        // record of the key, written in the transaction that persists it.
        let keyed = self.context.idempotency.keyed_by(&caller, &request)?;
        let (Some(hfr), Some(admission)) = (hfr, admission) else {
            return Err(ApiError::internal("validated fields missing").into());
        };
        let draft = saga::Draft {
            key: keyed.key().to_owned(),
            fingerprint: keyed.fingerprint().to_owned(),
            beneficiary_id: request.beneficiary_id.trim().to_owned(),
            card_number: request.card_number.trim().to_owned(),
            scheme_code: request.scheme_code.trim().to_ascii_uppercase(),
            hfr_id: hfr.to_string(),
            treating_hpr_id: hpr.map(|h| h.to_string()).unwrap_or_default(),
            admission_date: admission,
            provisional_diagnosis: request.provisional_diagnosis.trim().to_owned(),
            packages,
        };
        let preauth = match saga::start(&self.context, draft, &actor).await? {
            saga::Raised::New {
                row,
                lines,
                flags,
                history,
            } => {
                ensure_not_failed(&row)?;
                preauth_to_proto(row, lines, &history, flags, Vec::new())
            }
            saga::Raised::Stored(row) => {
                ensure_not_failed(&row)?;
                full_preauth(&self.context.db, row).await?
            }
        };
        Ok(Response::new(pb::RaisePreauthResponse {
            preauth: Some(preauth),
        }))
    }

    async fn get_preauth(
        &self,
        request: Request<pb::GetPreauthRequest>,
    ) -> Reply<pb::GetPreauthResponse> {
        let id = convert::required_text("preauth_id", &request.get_ref().preauth_id)?;
        let row = queries::find_preauth(&self.context.db, &id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no preauth {id}")))?;
        ensure_preauth_in_scope(&Caller::of(&request), &row)?;
        Ok(Response::new(pb::GetPreauthResponse {
            preauth: Some(full_preauth(&self.context.db, row).await?),
        }))
    }

    async fn list_preauths(
        &self,
        request: Request<pb::ListPreauthsRequest>,
    ) -> Reply<pb::ListPreauthsResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
        let dates = r.admission_dates.unwrap_or_default();
        let filter = PreauthFilter {
            hfr_id: convert::optional_text(&r.hfr_id),
            status: convert::optional_enum::<pb::PreauthStatus>("status", r.status)?.map(Stored),
            district_code: convert::optional_text(&r.district_code),
            beneficiary_id: convert::optional_text(&r.beneficiary_id),
            from: convert::date_from_proto(
                "admission_dates.start_date",
                dates.start_date.as_ref(),
            )?,
            until: convert::date_from_proto("admission_dates.end_date", dates.end_date.as_ref())?,
            flagged_only: r.flagged_only,
            concerning_state: caller.state_scope().map(str::to_owned),
        };
        let filter = PreauthFilter {
            hfr_id: caller.scoped_hfr_filter(filter.hfr_id, "hfr_id")?,
            ..filter
        };
        let rows =
            queries::list_preauths(&self.context.db, &filter, page.after.as_deref(), page.size)
                .await
                .map_err(ApiError::from)?;
        let (rows, next_page_token) = page.finish(rows, |p| p.preauth_id.clone());
        let db = &self.context.db;
        let ids: Vec<String> = rows.iter().map(|p| p.preauth_id.clone()).collect();
        let mut lines = queries::lines_of_many(db, &ids)
            .await
            .map_err(ApiError::from)?;
        let mut histories: BTreeMap<String, Vec<HistoryRow>> = PREAUTH_HISTORY
            .of_many(db, &ids)
            .await
            .map_err(ApiError::from)?;
        let mut flags = queries::flags_of_many(db, &ids)
            .await
            .map_err(ApiError::from)?;
        let mut enhancements = queries::enhancements_of_many(db, &ids)
            .await
            .map_err(ApiError::from)?;
        let preauths = rows
            .into_iter()
            .map(|row| {
                let id = row.preauth_id.clone();
                preauth_to_proto(
                    row,
                    lines.remove(&id).unwrap_or_default(),
                    &histories.remove(&id).unwrap_or_default(),
                    flags.remove(&id).unwrap_or_default(),
                    enhancements.remove(&id).unwrap_or_default(),
                )
            })
            .collect();
        Ok(Response::new(pb::ListPreauthsResponse {
            preauths,
            next_page_token,
        }))
    }

    async fn review_preauth(
        &self,
        request: Request<pb::ReviewPreauthRequest>,
    ) -> Reply<pb::ReviewPreauthResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("preauth_id", &request.preauth_id)?;
        self.ensure_decider(&caller, &id).await?;
        let decision = convert::required_enum::<pb::ReviewDecision>("decision", request.decision)?;
        if decision != pb::ReviewDecision::Approve && request.reason.trim().is_empty() {
            return Err(ApiError::invalid("reason", "is required to reject or query").into());
        }
        if request.approved_amount_paise != 0 {
            let mut v = FieldViolations::new();
            v.amount("approved_amount_paise", request.approved_amount_paise);
            v.into_result().map_err(|_| {
                ApiError::invalid(
                    "approved_amount_paise",
                    "must be positive (or 0 to approve the amount requested) and at most ₹10,00,00,000",
                )
            })?;
        }
        convert::required_text("idempotency_key", &request.idempotency_key)?;
        let approved = (request.approved_amount_paise > 0)
            .then(|| Money::from_paise(request.approved_amount_paise));
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &request)?;
        let reply = keyed
            .run(&context.db, || async {
                lifecycle::review(
                    context,
                    &id,
                    decision,
                    approved,
                    request.reason.trim(),
                    &Actor::of(&caller, request.actor.as_ref()),
                    &keep_preauth(&keyed, |preauth| pb::ReviewPreauthResponse {
                        preauth: Some(preauth),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn request_enhancement(
        &self,
        request: Request<pb::RequestEnhancementRequest>,
    ) -> Reply<pb::RequestEnhancementResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("preauth_id", &request.preauth_id)?;
        self.ensure_id_in_scope(&caller, &id).await?;
        convert::required_text("idempotency_key", &request.idempotency_key)?;
        if request.additional_amount_paise != 0 {
            let mut v = FieldViolations::new();
            v.amount("additional_amount_paise", request.additional_amount_paise);
            v.into_result()?;
        }
        let reason = convert::required_text("reason", &request.reason)?;
        let enhancement = Enhancement {
            packages: request
                .packages
                .iter()
                .map(|p| {
                    (
                        p.package_code.trim().to_ascii_uppercase(),
                        p.add_on_codes
                            .iter()
                            .map(|a| a.trim().to_ascii_uppercase())
                            .collect(),
                    )
                })
                .collect(),
            additional: Money::from_paise(request.additional_amount_paise),
            reason: &reason,
        };
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &request)?;
        let reply = keyed
            .run(&context.db, || async {
                enhancements::request(
                    context,
                    &id,
                    enhancement,
                    &Actor::of(&caller, request.actor.as_ref()),
                    &keep_preauth(&keyed, |preauth| pb::RequestEnhancementResponse {
                        enhancement_id: preauth
                            .enhancements
                            .last()
                            .map(|e| e.enhancement_id.clone())
                            .unwrap_or_default(),
                        preauth: Some(preauth),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn decide_enhancement(
        &self,
        request: Request<pb::DecideEnhancementRequest>,
    ) -> Reply<pb::DecideEnhancementResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("preauth_id", &request.preauth_id);
        v.require("enhancement_id", &request.enhancement_id);
        let decision = v.check(
            "decision",
            convert::required_enum::<pb::EnhancementDecision>("decision", request.decision)
                .map_err(|_| "is required: approve or reject"),
        );
        if decision == Some(pb::EnhancementDecision::Reject) && request.reason.trim().is_empty() {
            v.add("reason", "is required to reject");
        }
        v.into_result()?;
        let id = request.preauth_id.trim().to_owned();
        self.ensure_decider(&caller, &id).await?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &request)?;
        let reply = keyed
            .run(&context.db, || async {
                enhancements::decide(
                    context,
                    &id,
                    request.enhancement_id.trim(),
                    decision.unwrap_or_default(),
                    request.reason.trim(),
                    &Actor::of(&caller, request.actor.as_ref()),
                    &keep_preauth(&keyed, |preauth| pb::DecideEnhancementResponse {
                        preauth: Some(preauth),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn respond_to_query(
        &self,
        request: Request<pb::RespondToQueryRequest>,
    ) -> Reply<pb::RespondToQueryResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("preauth_id", &request.preauth_id)?;
        self.ensure_id_in_scope(&caller, &id).await?;
        let response = convert::required_text("response", &request.response)?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &request)?;
        let reply = keyed
            .run(&context.db, || async {
                lifecycle::respond(
                    context,
                    &id,
                    &response,
                    &Actor::of(&caller, request.actor.as_ref()),
                    &keep_preauth(&keyed, |preauth| pb::RespondToQueryResponse {
                        preauth: Some(preauth),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn cancel_preauth(
        &self,
        request: Request<pb::CancelPreauthRequest>,
    ) -> Reply<pb::CancelPreauthResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("preauth_id", &request.preauth_id)?;
        self.ensure_id_in_scope(&caller, &id).await?;
        let reason = convert::required_text("reason", &request.reason)?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &request)?;
        let reply = keyed
            .run(&context.db, || async {
                lifecycle::cancel(
                    context,
                    &id,
                    &reason,
                    &Actor::of(&caller, request.actor.as_ref()),
                    &keep_preauth(&keyed, |preauth| pb::CancelPreauthResponse {
                        preauth: Some(preauth),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn discharge(
        &self,
        request: Request<pb::DischargeRequest>,
    ) -> Reply<pb::DischargeResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("preauth_id", &request.preauth_id)?;
        self.ensure_id_in_scope(&caller, &id).await?;
        let day = convert::required_date("discharge_date", request.discharge_date.as_ref())?;
        let context = &self.context;
        let keyed = context.idempotency.keyed_by(&caller, &request)?;
        let reply = keyed
            .run(&context.db, || async {
                lifecycle::discharge(
                    context,
                    &id,
                    day,
                    request.discharge_summary.trim(),
                    &Actor::of(&caller, request.actor.as_ref()),
                    &keep_preauth(&keyed, |preauth| pb::DischargeResponse {
                        preauth: Some(preauth),
                    }),
                )
                .await
            })
            .await?;
        Ok(Response::new(reply))
    }
}

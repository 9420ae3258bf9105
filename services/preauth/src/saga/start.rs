//! A new RaisePreauth request, start to finish in as few statements as it
//! can: packages from the in-memory catalogue, the plan made before anything
//! is written, PENDING with its priced lines in one commit (which finds a
//! repeated key: a retry answers as the first call did, whatever changed
//! since), the block, RAISED; the reply built from what was written.

use ayushman_platform::{
    ApiError, FieldViolations,
    db::{self, Batch, Rows},
    lifecycle::{Actor, HistoryRow, Stored},
};
use ayushman_proto::preauth::v1::{PreauthStatus, RateSource};
use chrono::NaiveDate;
use sea_orm::{QueryResult, sea_query::SelectStatement};

use super::{Planned, finish, plan::plan, run};
use crate::{
    Context,
    catalogue::Catalogue,
    store::{
        PREAUTH_HISTORY,
        entities::{
            preauth::{self, SagaState},
            preauth_flag, preauth_line,
        },
        queries::{self, FraudFacts},
    },
};

/// A preauth as the hospital asks for it, validated.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The request's idempotency key and the fingerprint of its content.
    pub key: String,
    pub fingerprint: String,
    pub beneficiary_id: String,
    pub card_number: String,
    /// The scheme asked for; empty to draw on every scheme of the patient.
    pub scheme_code: String,
    pub hfr_id: String,
    pub treating_hpr_id: String,
    pub admission_date: NaiveDate,
    pub provisional_diagnosis: String,
    /// (package code, add-on codes), upper case, in the order asked.
    pub packages: Vec<(String, Vec<String>)>,
}

/// The preauth a request made, or found made.
pub enum Raised {
    /// Made now: the preauth with its lines, flags and history as committed.
    New {
        row: preauth::Model,
        lines: Vec<preauth_line::Model>,
        flags: Vec<preauth_flag::Model>,
        history: Vec<HistoryRow>,
    },
    /// Made by an earlier (or concurrent) request with the same key, and
    /// resumed if its saga was unfinished.
    Stored(preauth::Model),
}

/// Starts the preauth `draft` asks for, or answers for its key.
///
/// The key is not looked up first: a new request, the common case, is one
/// statement shorter without. A repeat plans again, finds its key taken when
/// it stores the preauth, and answers as the first call did; one refused
/// before it stores anything (its packages withdrawn since) looks the key up
/// then.
///
/// The paths a new preauth seldom takes (a key seen before, a concurrent
/// duplicate) are boxed: they resume the whole saga, and inline they would
/// make every request's future ~23 KiB, copied on each call.
pub async fn start(context: &Context, draft: Draft, actor: &Actor) -> Result<Raised, ApiError> {
    let catalogue = context.packages.catalogue(&context.db).await?;
    let id = ayushman_platform::ids::ordered_id("PA");
    let lines = match lines_of(&catalogue, &draft, &id) {
        Ok(lines) => lines,
        Err(invalid) => {
            return match queries::find_by_key(&context.db, &draft.key).await? {
                Some(row) => Box::pin(again(context, row, &draft, actor)).await,
                None => Err(invalid),
            };
        }
    };
    let mut row = pending(&draft, &id);
    match plan(context, &catalogue, &row, &lines).await {
        Ok(Planned::Go(plan)) => {
            plan.apply(&mut row);
            let read = super::fraud_facts_read(&row);
            let Some((mut history, rows)) =
                persist(context, &row, &plan.lines, actor, None, Some(read)).await?
            else {
                return Box::pin(taken(context, &draft, actor)).await;
            };
            // Read as the hospital's count stood before this preauth joined it.
            let mut facts = FraudFacts::of_rows(&rows)?;
            facts.on_day += 1;
            let finished = finish(context, row, &plan, Some(facts), actor).await?;
            Ok(match finished.raised {
                Some((flags, raised)) => Raised::New {
                    row: finished.row,
                    lines: plan.lines,
                    flags,
                    history: {
                        history.push(raised);
                        history
                    },
                },
                None => Raised::Stored(finished.row),
            })
        }
        Ok(Planned::Refused(reason)) => {
            row.status = Stored(PreauthStatus::Failed);
            row.failure_reason = reason.clone();
            row.saga_state = SagaState::Done;
            let Some((history, _)) =
                persist(context, &row, &lines, actor, Some(&reason), None).await?
            else {
                return Box::pin(taken(context, &draft, actor)).await;
            };
            Ok(Raised::New {
                row,
                lines,
                flags: Vec::new(),
                history,
            })
        }
        // A peer did not answer: the request is kept, PENDING, for the
        // background worker to finish once it does.
        Err(error) => {
            if persist(context, &row, &lines, actor, None, None)
                .await?
                .is_none()
            {
                return Box::pin(taken(context, &draft, actor)).await;
            }
            Err(kept_pending(&id, error))
        }
    }
}

/// The preauth an earlier request with this key made: the same request is
/// answered with it (resumed if unfinished), a different one refused.
async fn again(
    context: &Context,
    row: preauth::Model,
    draft: &Draft,
    actor: &Actor,
) -> Result<Raised, ApiError> {
    if row.request_fingerprint != draft.fingerprint {
        return Err(ApiError::AlreadyExists(
            "idempotency_key was already used for a different preauth".into(),
        ));
    }
    run(context, &row.preauth_id, actor)
        .await
        .map(Raised::Stored)
        .map_err(|error| kept_pending(&row.preauth_id, error))
}

/// An unreachable peer's error, saying the preauth is kept PENDING and how
/// to get its answer; other errors as they are.
fn kept_pending(preauth_id: &str, error: ApiError) -> ApiError {
    match error {
        ApiError::Unavailable(why) => ApiError::Unavailable(format!(
            "preauth {preauth_id} is pending: {why}; retry with the same idempotency_key"
        )),
        other => other,
    }
}

/// A concurrent request with the same key stored its preauth first.
async fn taken(context: &Context, draft: &Draft, actor: &Actor) -> Result<Raised, ApiError> {
    db::settle_writes(&context.db).await?;
    let row = queries::find_by_key(&context.db, &draft.key)
        .await?
        .ok_or_else(|| ApiError::internal("preauth vanished"))?;
    Box::pin(again(context, row, draft, actor)).await
}

/// Adds to `v` each package asked for that is not offered and each add-on
/// its package does not have.
pub fn check_packages(
    v: &mut FieldViolations,
    catalogue: &Catalogue,
    packages: &[(String, Vec<String>)],
) {
    for (i, (code, add_ons)) in packages.iter().enumerate() {
        let Some(package) = catalogue.offered(code) else {
            v.add(
                format!("packages[{i}].package_code"),
                format!("no package {code} is offered"),
            );
            continue;
        };
        for add_on in add_ons {
            if !package.2.iter().any(|a| &a.add_on_code == add_on) {
                v.add(
                    format!("packages[{i}].add_on_codes"),
                    format!("package {code} has no add-on {add_on}"),
                );
            }
        }
    }
}

/// The lines asked for; INVALID_ARGUMENT naming each line at fault.
fn lines_of(
    catalogue: &Catalogue,
    draft: &Draft,
    preauth_id: &str,
) -> Result<Vec<preauth_line::Model>, ApiError> {
    let mut v = FieldViolations::new();
    check_packages(&mut v, catalogue, &draft.packages);
    v.into_result()?;
    Ok(draft
        .packages
        .iter()
        .enumerate()
        .filter_map(|(i, (code, add_ons))| {
            catalogue.offered(code).map(|package| preauth_line::Model {
                preauth_id: preauth_id.to_owned(),
                line_no: i as i32 + 1,
                package_code: code.clone(),
                specialty_code: package.0.specialty_code.clone(),
                add_on_codes: add_ons.join(","),
                rate_paise: 0,
                add_ons_paise: 0,
                amount_paise: 0,
                rate_source: RateSource::Unspecified.as_str_name().to_owned(),
            })
        })
        .collect())
}

/// The new preauth, PENDING with its saga to run.
fn pending(draft: &Draft, id: &str) -> preauth::Model {
    let now = db::now();
    preauth::Model {
        preauth_id: id.to_owned(),
        idempotency_key: draft.key.clone(),
        request_fingerprint: draft.fingerprint.clone(),
        beneficiary_id: draft.beneficiary_id.clone(),
        card_number: draft.card_number.clone(),
        family_id: String::new(),
        home_state_code: String::new(),
        scheme_code: draft.scheme_code.clone(),
        hfr_id: draft.hfr_id.clone(),
        facility_state_code: String::new(),
        facility_district_code: String::new(),
        facility_ownership: String::new(),
        treating_hpr_id: draft.treating_hpr_id.clone(),
        admission_date: draft.admission_date,
        discharge_date: None,
        status: Stored(PreauthStatus::Pending),
        requested_amount_paise: 0,
        approved_amount_paise: 0,
        blocked_amount_paise: 0,
        enhancements: 0,
        portability_case: false,
        agreement_id: String::new(),
        payer_scheme_code: String::new(),
        payer_state_code: String::new(),
        failure_reason: String::new(),
        provisional_diagnosis: draft.provisional_diagnosis.clone(),
        deemed_approval: false,
        saga_state: SagaState::Running,
        created_at: now,
        raised_at: None,
        updated_at: now,
        drawn_scheme_codes: String::new(),
        schemes_to_draw: String::new(),
        review_clock_from: None,
    }
}

/// Stores the new preauth with its lines and its history so far (received,
/// and `failed` with its reason when it was refused) in one commit, reading
/// with `read` the database as it was just before; the history written and
/// what was read, or `None` when a concurrent request with the same key
/// stored its own first.
async fn persist(
    context: &Context,
    row: &preauth::Model,
    lines: &[preauth_line::Model],
    actor: &Actor,
    failed: Option<&str>,
    read: Option<SelectStatement>,
) -> Result<Option<(Vec<HistoryRow>, Vec<QueryResult>)>, ApiError> {
    let id = row.preauth_id.as_str();
    let mut batch = Batch::new();
    queries::insert_preauth(&mut batch, row.clone(), lines.to_vec());
    let received = (PreauthStatus::Pending, "received");
    let (entries, history): (Vec<Rows>, Vec<HistoryRow>) = [received]
        .into_iter()
        .chain(failed.map(|f| (PreauthStatus::Failed, f)))
        .map(|(status, reason)| PREAUTH_HISTORY.entry(&[id], status.as_str_name(), reason, actor))
        .unzip();
    // One insert, so the history's ids follow the order of the changes.
    if let Some(entries) = entries.into_iter().reduce(Rows::and) {
        batch.insert(entries);
    }
    let committed = match read {
        Some(read) => batch.commit_reading(&context.db, read).await,
        None => batch.commit(&context.db).await.map(|()| Vec::new()),
    };
    match committed {
        Ok(rows) => Ok(Some((history, rows))),
        Err(error) if db::is_unique_violation(&error) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

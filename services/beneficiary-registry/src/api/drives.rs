//! The masters of card drives: UpsertAreas, ListAreas, UpsertOperators,
//! ListOperators, UpsertMobilisers, ListMobilisers.

use ayushman_platform::{
    ApiError, Caller,
    convert::{self, PageRequest},
    db::idempotency::Work,
};
use ayushman_proto::{Idempotent, beneficiary::v1 as pb, common::v1::RowReject};
use sea_orm::DatabaseTransaction;
use tonic::{Request, Response};

use super::Reply;
use crate::{
    AppState,
    areas::{self, AreaDraft},
    drive_people::{self, MasterUpsert, MobiliserDraft, OperatorDraft},
    store::{
        entities::{area, mobiliser, operator},
        queries::drives::{self, Upserted},
    },
};

/// INVALID_ARGUMENT naming `field` unless there are 1 to `max` rows.
fn ensure_batch(field: &str, rows: usize, max: usize) -> Result<(), ApiError> {
    match rows {
        0 => Err(ApiError::invalid(field, "give at least one")),
        n if n > max => Err(ApiError::invalid(
            field,
            format!("{n} in one call; send at most {max} per call"),
        )),
        _ => Ok(()),
    }
}

fn rejects(rows: Vec<(i64, String, String)>) -> Vec<RowReject> {
    rows.into_iter()
        .map(|(row_number, field, reason)| RowReject {
            row_number,
            field,
            reason,
        })
        .collect()
}

/// Stores a master's rows once per idempotency key: at most `max` of them,
/// each in a district the caller may act for; answers with what was
/// created, changed and refused.
async fn store_once<Req, D, R>(
    state: &AppState,
    caller: &Caller,
    request: &Req,
    (field, max): (&str, usize),
    rows: (Vec<D>, Vec<&str>),
    store: for<'c> fn(&'c DatabaseTransaction, Vec<D>) -> Work<'c, MasterUpsert>,
    reply: fn(Upserted, Vec<RowReject>) -> R,
) -> Reply<R>
where
    Req: Idempotent,
    D: Send + 'static,
    R: prost::Message + Default + 'static,
{
    let (drafts, districts) = rows;
    ensure_batch(field, drafts.len(), max)?;
    for district in drive_people::districts_of(districts.into_iter()) {
        caller.ensure_district(&district, field)?;
    }
    let answer = state
        .idempotency
        .keyed_by(caller, request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let outcome = store(txn, drafts).await?;
                Ok(reply(outcome.done, rejects(outcome.rejects)))
            })
        })
        .await?;
    Ok(Response::new(answer))
}

fn area_to_proto(row: area::Model) -> pb::Area {
    pb::Area {
        code: row.code,
        level: pb::AreaLevel::from_str_name(&row.level).unwrap_or_default() as i32,
        name: row.name,
        parent_code: row.parent_code,
    }
}

fn operator_to_proto(row: operator::Model) -> pb::Operator {
    pb::Operator {
        login_id: row.login_id,
        name: row.name,
        kind: pb::OperatorKind::from_str_name(&row.kind).unwrap_or_default() as i32,
        centre_id: row.centre_id,
        district_code: row.district_code,
        block_code: row.block_code,
        status: pb::OperatorStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        fee_per_card_paise: row.fee_per_card_paise,
        updated_at: Some(convert::timestamp_to_proto(row.updated_at)),
    }
}

fn mobiliser_to_proto(row: mobiliser::Model) -> pb::Mobiliser {
    pb::Mobiliser {
        mobiliser_id: row.mobiliser_id,
        name: row.name,
        group_name: row.group_name,
        district_code: row.district_code,
        block_code: row.block_code,
        active: row.active,
    }
}

pub(super) async fn upsert_areas(
    state: &AppState,
    request: Request<pb::UpsertAreasRequest>,
) -> Reply<pb::UpsertAreasResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let drafts = request
        .areas
        .iter()
        .map(|a| AreaDraft {
            code: a.code.trim().to_owned(),
            level: pb::AreaLevel::try_from(a.level).unwrap_or_default(),
            name: a.name.trim().to_owned(),
            parent_code: a.parent_code.trim().to_owned(),
        })
        .collect();
    let districts = request
        .areas
        .iter()
        .map(|a| a.code.trim().get(..6).unwrap_or_default())
        .collect();
    store_once(
        state,
        &caller,
        &request,
        ("areas", areas::MAX_AREAS_PER_CALL),
        (drafts, districts),
        |txn, drafts| Box::pin(areas::upsert(txn, drafts)),
        |done, rejects| pb::UpsertAreasResponse {
            created: done.created,
            updated: done.updated,
            rejects,
        },
    )
    .await
}

pub(super) async fn list_areas(
    state: &AppState,
    request: Request<pb::ListAreasRequest>,
) -> Reply<pb::ListAreasResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let district = convert::required_text("district_code", &r.district_code)?;
    areas::check_any_district(&district).map_err(|e| ApiError::invalid("district_code", e))?;
    caller.ensure_district(&district, "district_code")?;
    let level = convert::optional_enum::<pb::AreaLevel>("level", r.level)?;
    let page = PageRequest::parse(r.page_size, &r.page_token, 500, 5_000)?;
    let rows = drives::list_areas(
        &state.db,
        &district,
        level.map(|l| l.as_str_name()),
        convert::optional_text(&r.parent_code).as_deref(),
        page.after.as_deref(),
        page.size,
    )
    .await
    .map_err(ApiError::from)?;
    let (rows, next_page_token) = page.finish(rows, |a| a.code.clone());
    Ok(Response::new(pb::ListAreasResponse {
        areas: rows.into_iter().map(area_to_proto).collect(),
        next_page_token,
    }))
}

pub(super) async fn upsert_operators(
    state: &AppState,
    request: Request<pb::UpsertOperatorsRequest>,
) -> Reply<pb::UpsertOperatorsResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let drafts = request
        .operators
        .iter()
        .map(|o| OperatorDraft {
            login_id: o.login_id.trim().to_owned(),
            name: o.name.trim().to_owned(),
            kind: pb::OperatorKind::try_from(o.kind).unwrap_or_default(),
            centre_id: o.centre_id.trim().to_owned(),
            district_code: o.district_code.trim().to_owned(),
            block_code: o.block_code.trim().to_owned(),
            status: pb::OperatorStatus::try_from(o.status).unwrap_or_default(),
            fee_per_card_paise: o.fee_per_card_paise,
        })
        .collect();
    let districts = request
        .operators
        .iter()
        .map(|o| o.district_code.trim())
        .collect();
    store_once(
        state,
        &caller,
        &request,
        ("operators", drive_people::MAX_PER_CALL),
        (drafts, districts),
        |txn, drafts| Box::pin(drive_people::upsert_operators(txn, drafts)),
        |done, rejects| pb::UpsertOperatorsResponse {
            created: done.created,
            updated: done.updated,
            rejects,
        },
    )
    .await
}

pub(super) async fn list_operators(
    state: &AppState,
    request: Request<pb::ListOperatorsRequest>,
) -> Reply<pb::ListOperatorsResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let district = convert::required_text("district_code", &r.district_code)?;
    areas::check_any_district(&district).map_err(|e| ApiError::invalid("district_code", e))?;
    caller.ensure_district(&district, "district_code")?;
    let kind = convert::optional_enum::<pb::OperatorKind>("kind", r.kind)?;
    let status = convert::optional_enum::<pb::OperatorStatus>("status", r.status)?;
    let page = PageRequest::parse(r.page_size, &r.page_token, 500, 5_000)?;
    let rows = drives::list_operators(
        &state.db,
        &district,
        kind.map(|k| k.as_str_name()),
        status.map(|s| s.as_str_name()),
        page.after.as_deref(),
        page.size,
    )
    .await
    .map_err(ApiError::from)?;
    let (rows, next_page_token) = page.finish(rows, |o| o.login_id.clone());
    Ok(Response::new(pb::ListOperatorsResponse {
        operators: rows.into_iter().map(operator_to_proto).collect(),
        next_page_token,
    }))
}

pub(super) async fn upsert_mobilisers(
    state: &AppState,
    request: Request<pb::UpsertMobilisersRequest>,
) -> Reply<pb::UpsertMobilisersResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let drafts = request
        .mobilisers
        .iter()
        .map(|m| MobiliserDraft {
            mobiliser_id: m.mobiliser_id.trim().to_owned(),
            name: m.name.trim().to_owned(),
            group_name: m.group_name.trim().to_owned(),
            district_code: m.district_code.trim().to_owned(),
            block_code: m.block_code.trim().to_owned(),
            active: m.active,
        })
        .collect();
    let districts = request
        .mobilisers
        .iter()
        .map(|m| m.district_code.trim())
        .collect();
    store_once(
        state,
        &caller,
        &request,
        ("mobilisers", drive_people::MAX_PER_CALL),
        (drafts, districts),
        |txn, drafts| Box::pin(drive_people::upsert_mobilisers(txn, drafts)),
        |done, rejects| pb::UpsertMobilisersResponse {
            created: done.created,
            updated: done.updated,
            rejects,
        },
    )
    .await
}

pub(super) async fn list_mobilisers(
    state: &AppState,
    request: Request<pb::ListMobilisersRequest>,
) -> Reply<pb::ListMobilisersResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let district = convert::required_text("district_code", &r.district_code)?;
    areas::check_any_district(&district).map_err(|e| ApiError::invalid("district_code", e))?;
    caller.ensure_district(&district, "district_code")?;
    let page = PageRequest::parse(r.page_size, &r.page_token, 500, 5_000)?;
    let rows = drives::list_mobilisers(
        &state.db,
        &district,
        convert::optional_text(&r.block_code).as_deref(),
        page.after.as_deref(),
        page.size,
    )
    .await
    .map_err(ApiError::from)?;
    let (rows, next_page_token) = page.finish(rows, |m| m.mobiliser_id.clone());
    Ok(Response::new(pb::ListMobilisersResponse {
        mobilisers: rows.into_iter().map(mobiliser_to_proto).collect(),
        next_page_token,
    }))
}

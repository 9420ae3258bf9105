//! Coverage reports and card drives: CoverageReport, OperatorActivityReport,
//! campaign CRUD and CampaignProgress.

use std::collections::BTreeSet;

use ayushman_domain::StateCode;
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    caller::state_of_district,
    convert::{self, PageRequest, today_in_india},
    db, ids,
};
use ayushman_proto::{
    beneficiary::v1 as pb,
    common::v1::{DateRange, Location},
};
use chrono::NaiveDate;
use tonic::{Request, Response};

use super::{Reply, district};
use crate::{
    AppState,
    reports::{self, FullCampaign},
    store::{
        entities::{camp, campaign},
        queries::{self, ActivityFilter},
    },
};

fn campaign_to_proto((row, camps): FullCampaign) -> pb::Campaign {
    let range = |from: NaiveDate, until: NaiveDate| DateRange {
        start_date: Some(convert::date_to_proto(from)),
        end_date: Some(convert::date_to_proto(until)),
    };
    pb::Campaign {
        campaign_id: row.campaign_id,
        name: row.name,
        state_code: row.state_code.clone(),
        district_code: row.district_code.clone(),
        dates: Some(range(row.start_date, row.end_date)),
        status: pb::CampaignStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        target_cards: row.target_cards,
        camps: camps
            .into_iter()
            .map(|c| pb::Camp {
                camp_id: c.camp_id,
                venue: c.venue,
                location: Some(Location {
                    state_code: row.state_code.clone(),
                    district_code: row.district_code.clone(),
                    block_code: c.block_code,
                    village_code: c.village_code,
                }),
                operator_id: c.operator_id,
                standby_operator_id: c.standby_operator_id,
                dates: Some(range(c.start_date, c.end_date)),
            })
            .collect(),
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
    }
}

fn campaign_rows(
    c: &pb::Campaign,
    id: String,
    created_at: chrono::DateTime<chrono::Utc>,
) -> Result<FullCampaign, ApiError> {
    let mut v = FieldViolations::new();
    v.require("campaign.name", &c.name);
    let state = v.check("campaign.state_code", StateCode::parse(&c.state_code));
    if let Some(state) = state {
        v.check(
            "campaign.district_code",
            district(&state.code(), c.district_code.trim()),
        );
    }
    let dates = c.dates.unwrap_or_default();
    let start = v.check(
        "campaign.dates.start_date",
        convert::required_date("campaign.dates.start_date", dates.start_date.as_ref())
            .map_err(|_| "is required"),
    );
    let end = v.check(
        "campaign.dates.end_date",
        convert::required_date("campaign.dates.end_date", dates.end_date.as_ref())
            .map_err(|_| "is required"),
    );
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        v.add("campaign.dates.end_date", "is before start_date");
    }
    if c.target_cards < 0 {
        v.add("campaign.target_cards", "cannot be negative");
    }
    let status = match convert::optional_enum::<pb::CampaignStatus>("campaign.status", c.status) {
        Ok(Some(status)) => status,
        Ok(None) if start.is_some_and(|s| s > today_in_india()) => pb::CampaignStatus::Planned,
        Ok(None) => pb::CampaignStatus::Active,
        Err(_) => {
            v.add("campaign.status", "is not a known status");
            pb::CampaignStatus::Planned
        }
    };
    let mut camps = Vec::new();
    for (i, camp) in c.camps.iter().enumerate() {
        let field = |name: &str| format!("campaign.camps[{i}].{name}");
        v.require(&field("venue"), &camp.venue);
        v.require(&field("operator_id"), &camp.operator_id);
        let camp_dates = camp.dates.unwrap_or_default();
        let from =
            convert::date_from_proto(&field("dates.start_date"), camp_dates.start_date.as_ref());
        let until =
            convert::date_from_proto(&field("dates.end_date"), camp_dates.end_date.as_ref());
        let location = camp.location.clone().unwrap_or_default();
        camps.push(camp::Model {
            camp_id: convert::optional_text(&camp.camp_id).unwrap_or_else(|| ids::new_id("CAMP")),
            campaign_id: id.clone(),
            venue: camp.venue.trim().to_owned(),
            block_code: location.block_code.trim().to_owned(),
            village_code: location.village_code.trim().to_owned(),
            operator_id: camp.operator_id.trim().to_owned(),
            standby_operator_id: camp.standby_operator_id.trim().to_owned(),
            start_date: v
                .check(
                    &field("dates.start_date"),
                    from.map_err(|_| "must be a real date"),
                )
                .flatten()
                .or(start)
                .unwrap_or_default(),
            end_date: v
                .check(
                    &field("dates.end_date"),
                    until.map_err(|_| "must be a real date"),
                )
                .flatten()
                .or(end)
                .unwrap_or_default(),
        });
    }
    v.into_result()?;
    let row = campaign::Model {
        campaign_id: id,
        name: c.name.trim().to_owned(),
        state_code: state.map(|s| s.code()).unwrap_or_default(),
        district_code: c.district_code.trim().to_owned(),
        start_date: start.unwrap_or_default(),
        end_date: end.unwrap_or_default(),
        status: status.as_str_name().to_owned(),
        target_cards: c.target_cards,
        created_at,
    };
    Ok((row, camps))
}

fn basis_points(part: i64, whole: i64) -> i32 {
    if whole <= 0 {
        return 0;
    }
    i32::try_from((i128::from(part) * 20_000 + i128::from(whole)) / (i128::from(whole) * 2))
        .unwrap_or(i32::MAX)
}

fn coverage_row(line: &reports::CoverageLine) -> pb::CoverageRow {
    pb::CoverageRow {
        state_code: line.state_code.clone(),
        district_code: line.district_code.clone(),
        block_code: line.block_code.clone(),
        eligible: line.eligible,
        carded: line.carded,
        carded_basis_points: basis_points(line.carded, line.eligible),
        abha_linked: line.abha_linked,
    }
}

pub(super) async fn coverage_report(
    state: &AppState,
    request: Request<pb::CoverageReportRequest>,
) -> Reply<pb::CoverageReportResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let state_code =
        caller.scoped_state_filter(convert::optional_text(&r.state_code), "state_code")?;
    if let Some(code) = &state_code {
        StateCode::parse(code)
            .map_err(|e| ApiError::invalid("state_code", e.reason().to_owned()))?;
    }
    let district = convert::optional_text(&r.district_code);
    if let Some(code) = &district {
        caller.ensure_district(code, "district_code")?;
    }
    let scheme = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
    if let Some(code) = &scheme
        && state
            .schemes
            .catalogue(&state.db)
            .await?
            .get(code)
            .is_none()
    {
        return Err(ApiError::invalid("scheme_code", format!("unknown scheme {code}")).into());
    }
    let lines = reports::coverage(
        &state.db,
        r.level(),
        state_code.as_deref(),
        district.as_deref(),
        scheme.as_deref(),
    )
    .await?;
    let total = lines.iter().fold(reports::CoverageLine::default(), |t, l| {
        reports::CoverageLine {
            eligible: t.eligible + l.eligible,
            carded: t.carded + l.carded,
            abha_linked: t.abha_linked + l.abha_linked,
            ..t
        }
    });
    Ok(Response::new(pb::CoverageReportResponse {
        rows: lines.iter().map(coverage_row).collect(),
        total: Some(coverage_row(&total)),
    }))
}

pub(super) async fn operator_activity_report(
    state: &AppState,
    request: Request<pb::OperatorActivityReportRequest>,
) -> Reply<pb::OperatorActivityReportResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    if let Some(code) = convert::optional_text(&r.district_code) {
        caller.ensure_district(&code, "district_code")?;
    }
    let dates = r.dates.unwrap_or_default();
    let filter = ActivityFilter {
        district_code: convert::optional_text(&r.district_code),
        centre_id: convert::optional_text(&r.centre_id),
        operator_id: convert::optional_text(&r.operator_id),
        campaign_id: convert::optional_text(&r.campaign_id),
        from: convert::date_from_proto("dates.start_date", dates.start_date.as_ref())?,
        until: convert::date_from_proto("dates.end_date", dates.end_date.as_ref())?,
    };
    let mut lines = reports::operator_activity(&state.db, &filter).await?;
    if let Some(own) = caller.state_scope() {
        lines.retain(|l| state_of_district(&l.district_code) == own);
    }
    let active_operators = lines
        .iter()
        .map(|l| l.operator_id.as_str())
        .collect::<BTreeSet<_>>()
        .len() as i64;
    let total_cards = lines.iter().map(|l| l.cards).sum();
    let rows = lines
        .into_iter()
        .map(|l| pb::OperatorActivityRow {
            date: Some(convert::date_to_proto(l.date)),
            operator_id: l.operator_id,
            centre_id: l.centre_id,
            district_code: l.district_code,
            cards_issued: l.cards,
        })
        .collect();
    Ok(Response::new(pb::OperatorActivityReportResponse {
        rows,
        active_operators,
        total_cards,
    }))
}

pub(super) async fn create_campaign(
    state: &AppState,
    request: Request<pb::CreateCampaignRequest>,
) -> Reply<pb::CreateCampaignResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let campaign = request
        .campaign
        .clone()
        .ok_or_else(|| ApiError::invalid("campaign", "is required"))?;
    caller.ensure_district(campaign.district_code.trim(), "campaign.district_code")?;
    let full = campaign_rows(&campaign, ids::ordered_id("CMP"), db::now())?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let full = reports::save_campaign(txn, full, false).await?;
                Ok(pb::CreateCampaignResponse {
                    campaign: Some(campaign_to_proto(full)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn get_campaign(
    state: &AppState,
    request: Request<pb::GetCampaignRequest>,
) -> Reply<pb::GetCampaignResponse> {
    let id = convert::required_text("campaign_id", &request.get_ref().campaign_id)?;
    let campaign = reports::get_campaign(&state.db, &id).await?;
    Caller::of(&request).ensure_state(&campaign.0.state_code, &format!("campaign {id}"))?;
    Ok(Response::new(pb::GetCampaignResponse {
        campaign: Some(campaign_to_proto(campaign)),
    }))
}

pub(super) async fn list_campaigns(
    state: &AppState,
    request: Request<pb::ListCampaignsRequest>,
) -> Reply<pb::ListCampaignsResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
    let status =
        convert::optional_enum::<pb::CampaignStatus>("status", r.status)?.map(|s| s.as_str_name());
    let (state_code, district) = (
        caller.scoped_state_filter(convert::optional_text(&r.state_code), "state_code")?,
        convert::optional_text(&r.district_code),
    );
    if let Some(code) = &district {
        caller.ensure_district(code, "district_code")?;
    }
    let rows = queries::list_campaigns(
        &state.db,
        state_code.as_deref(),
        district.as_deref(),
        status,
        page.after.as_deref(),
        page.size,
    )
    .await
    .map_err(ApiError::from)?;
    let (rows, next_page_token) = page.finish(rows, |c| c.campaign_id.clone());
    let mut campaigns = Vec::with_capacity(rows.len());
    for row in rows {
        campaigns.push(campaign_to_proto(
            reports::get_campaign(&state.db, &row.campaign_id).await?,
        ));
    }
    Ok(Response::new(pb::ListCampaignsResponse {
        campaigns,
        next_page_token,
    }))
}

pub(super) async fn update_campaign(
    state: &AppState,
    request: Request<pb::UpdateCampaignRequest>,
) -> Reply<pb::UpdateCampaignResponse> {
    const PATHS: [&str; 5] = ["name", "dates", "status", "target_cards", "camps"];
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let changes = request
        .campaign
        .clone()
        .ok_or_else(|| ApiError::invalid("campaign", "is required"))?;
    let id = convert::required_text("campaign.campaign_id", &changes.campaign_id)?;
    let paths = request
        .update_mask
        .clone()
        .map(|m| m.paths)
        .unwrap_or_default();
    if paths.is_empty() {
        return Err(ApiError::invalid(
            "update_mask",
            format!("name the fields to change: {}", PATHS.join(", ")),
        )
        .into());
    }
    if let Some(unknown) = paths.iter().find(|p| !PATHS.contains(&p.as_str())) {
        return Err(ApiError::invalid(
            "update_mask",
            format!(
                "{unknown} cannot be changed; changeable: {}",
                PATHS.join(", ")
            ),
        )
        .into());
    }
    let (stored, camps) = reports::get_campaign(&state.db, &id).await?;
    caller.ensure_state(&stored.state_code, &format!("campaign {id}"))?;
    let mut merged = campaign_to_proto((stored.clone(), camps));
    for path in &paths {
        match path.as_str() {
            "name" => merged.name = changes.name.clone(),
            "dates" => merged.dates = changes.dates,
            "status" => merged.status = changes.status,
            "target_cards" => merged.target_cards = changes.target_cards,
            _ => merged.camps = changes.camps.clone(),
        }
    }
    let full = campaign_rows(&merged, id, stored.created_at)?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let full = reports::save_campaign(txn, full, true).await?;
                Ok(pb::UpdateCampaignResponse {
                    campaign: Some(campaign_to_proto(full)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn cancel_campaign(
    state: &AppState,
    request: Request<pb::CancelCampaignRequest>,
) -> Reply<pb::CancelCampaignResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let id = convert::required_text("campaign_id", &request.campaign_id)?;
    let (stored, _) = reports::get_campaign(&state.db, &id).await?;
    caller.ensure_state(&stored.state_code, &format!("campaign {id}"))?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                Ok(pb::CancelCampaignResponse {
                    campaign: Some(campaign_to_proto(reports::cancel_campaign(txn, &id).await?)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn campaign_progress(
    state: &AppState,
    request: Request<pb::CampaignProgressRequest>,
) -> Reply<pb::CampaignProgressResponse> {
    let id = convert::required_text("campaign_id", &request.get_ref().campaign_id)?;
    let progress = reports::progress(&state.db, &id).await?;
    Caller::of(&request)
        .ensure_state(&progress.campaign.0.state_code, &format!("campaign {id}"))?;
    let (eligible, carded_at_start, carded_now) =
        progress.blocks.iter().fold((0, 0, 0), |(e, s, n), b| {
            (e + b.eligible, s + b.carded_at_start, n + b.carded_now)
        });
    Ok(Response::new(pb::CampaignProgressResponse {
        campaign: Some(campaign_to_proto(progress.campaign)),
        eligible,
        carded_at_start,
        carded_now,
        cards_issued: progress.cards_issued,
        carded_basis_points: basis_points(carded_now, eligible),
        days: progress
            .days
            .into_iter()
            .map(|d| pb::CampaignDay {
                date: Some(convert::date_to_proto(d.date)),
                cards_issued: d.cards,
                active_camps: d.active_camps,
                camps_run_by_standby: d.camps_run_by_standby,
            })
            .collect(),
        blocks: progress
            .blocks
            .into_iter()
            .map(|b| pb::CampaignBlockProgress {
                block_code: b.block_code,
                eligible: b.eligible,
                carded_at_start: b.carded_at_start,
                carded_now: b.carded_now,
            })
            .collect(),
    }))
}

//! Card drives: campaign CRUD and CampaignProgress, the daily report.

use ayushman_domain::{StateCode, share_basis_points};
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest, today_in_india},
    db, ids,
};
use ayushman_proto::{
    beneficiary::v1 as pb,
    common::v1::{DateRange, Location},
};
use chrono::NaiveDate;
use tonic::{Request, Response};

use super::Reply;
use crate::{
    AppState, areas,
    campaigns::{self, FullCampaign},
    reports::daily::{self, AreaProgress},
    store::{
        entities::{camp, campaign, campaign_block},
        queries::drives,
    },
};

fn officer_to_proto(row: &campaign_block::Model) -> Option<pb::NodalOfficer> {
    (!row.nodal_officer_name.is_empty()).then(|| pb::NodalOfficer {
        name: row.nodal_officer_name.clone(),
        designation: row.nodal_officer_designation.clone(),
        mobile: row.nodal_officer_mobile.clone(),
    })
}

fn campaign_to_proto(full: FullCampaign) -> pb::Campaign {
    let range = |from: NaiveDate, until: NaiveDate| DateRange {
        start_date: Some(convert::date_to_proto(from)),
        end_date: Some(convert::date_to_proto(until)),
    };
    let row = full.campaign;
    pb::Campaign {
        campaign_id: row.campaign_id,
        name: row.name,
        state_code: row.state_code.clone(),
        district_code: row.district_code.clone(),
        dates: Some(range(row.start_date, row.end_date)),
        status: pb::CampaignStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        target_cards: row.target_cards,
        camps: full
            .camps
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
        blocks: full
            .blocks
            .iter()
            .map(|b| pb::CampaignBlock {
                block_code: b.block_code.clone(),
                nodal_officer: officer_to_proto(b),
                target_cards: b.target_cards,
            })
            .collect(),
    }
}

/// The campaign's blocks with their officers and targets; problems into `v`.
fn block_rows(
    v: &mut FieldViolations,
    c: &pb::Campaign,
    id: &str,
    district: &str,
) -> Vec<campaign_block::Model> {
    let mut rows: Vec<campaign_block::Model> = Vec::new();
    for (i, block) in c.blocks.iter().enumerate() {
        let field = |name: &str| format!("campaign.blocks[{i}].{name}");
        let code = block.block_code.trim();
        if code.is_empty() {
            v.add(field("block_code"), "is required");
        } else if let Err(reason) = areas::check_within(district, code) {
            v.add(field("block_code"), reason);
        } else if rows.iter().any(|r| r.block_code == code) {
            v.add(field("block_code"), format!("{code} is listed twice"));
        }
        if block.target_cards < 0 {
            v.add(field("target_cards"), "cannot be negative");
        }
        let officer = block.nodal_officer.clone().unwrap_or_default();
        if block.nodal_officer.is_some() {
            v.require(&field("nodal_officer.name"), &officer.name);
            v.max_chars(&field("nodal_officer.name"), &officer.name, 120);
            v.max_chars(
                &field("nodal_officer.designation"),
                &officer.designation,
                120,
            );
        }
        let mobile = officer.mobile.trim();
        let ten_digits = mobile.len() == 10 && mobile.bytes().all(|b| b.is_ascii_digit());
        if !mobile.is_empty() && !ten_digits {
            v.add(field("nodal_officer.mobile"), "must be 10 digits");
        }
        rows.push(campaign_block::Model {
            campaign_id: id.to_owned(),
            block_code: code.to_owned(),
            nodal_officer_name: officer.name.trim().to_owned(),
            nodal_officer_designation: officer.designation.trim().to_owned(),
            nodal_officer_mobile: mobile.to_owned(),
            target_cards: block.target_cards,
        });
    }
    rows
}

fn campaign_rows(
    c: &pb::Campaign,
    id: String,
    created_at: chrono::DateTime<chrono::Utc>,
) -> Result<FullCampaign, ApiError> {
    let mut v = FieldViolations::new();
    v.require("campaign.name", &c.name);
    let state = v.check("campaign.state_code", StateCode::parse(&c.state_code));
    let district = c.district_code.trim();
    if let Some(state) = state {
        v.check(
            "campaign.district_code",
            areas::check_district(&state.code(), district),
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
        let block_code = location.block_code.trim();
        if !block_code.is_empty() {
            v.check(
                &field("location.block_code"),
                areas::check_within(district, block_code),
            );
        }
        camps.push(camp::Model {
            camp_id: convert::optional_text(&camp.camp_id).unwrap_or_else(|| ids::new_id("CAMP")),
            campaign_id: id.clone(),
            venue: camp.venue.trim().to_owned(),
            block_code: block_code.to_owned(),
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
    let blocks = block_rows(&mut v, c, &id, district);
    v.into_result()?;
    let campaign = campaign::Model {
        campaign_id: id,
        name: c.name.trim().to_owned(),
        state_code: state.map(|s| s.code()).unwrap_or_default(),
        district_code: district.to_owned(),
        start_date: start.unwrap_or_default(),
        end_date: end.unwrap_or_default(),
        status: status.as_str_name().to_owned(),
        target_cards: c.target_cards,
        created_at,
    };
    Ok(FullCampaign {
        campaign,
        camps,
        blocks,
    })
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
                let full = campaigns::save(txn, full, false).await?;
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
    let campaign = campaigns::get(&state.db, &id).await?;
    Caller::of(&request).ensure_state(&campaign.campaign.state_code, &format!("campaign {id}"))?;
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
    let rows = drives::list_campaigns(
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
    let campaigns = campaigns::complete(&state.db, rows)
        .await?
        .into_iter()
        .map(campaign_to_proto)
        .collect();
    Ok(Response::new(pb::ListCampaignsResponse {
        campaigns,
        next_page_token,
    }))
}

pub(super) async fn update_campaign(
    state: &AppState,
    request: Request<pb::UpdateCampaignRequest>,
) -> Reply<pb::UpdateCampaignResponse> {
    const PATHS: [&str; 6] = ["name", "dates", "status", "target_cards", "camps", "blocks"];
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
    let stored = campaigns::get(&state.db, &id).await?;
    caller.ensure_state(&stored.campaign.state_code, &format!("campaign {id}"))?;
    let created_at = stored.campaign.created_at;
    let mut merged = campaign_to_proto(stored);
    for path in &paths {
        match path.as_str() {
            "name" => merged.name = changes.name.clone(),
            "dates" => merged.dates = changes.dates,
            "status" => merged.status = changes.status,
            "target_cards" => merged.target_cards = changes.target_cards,
            "blocks" => merged.blocks = changes.blocks.clone(),
            _ => merged.camps = changes.camps.clone(),
        }
    }
    let full = campaign_rows(&merged, id, created_at)?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let full = campaigns::save(txn, full, true).await?;
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
    let stored = campaigns::get(&state.db, &id).await?;
    caller.ensure_state(&stored.campaign.state_code, &format!("campaign {id}"))?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                Ok(pb::CancelCampaignResponse {
                    campaign: Some(campaign_to_proto(campaigns::cancel(txn, &id).await?)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

fn block_progress(
    (b, officer): (AreaProgress, Option<campaign_block::Model>),
) -> pb::CampaignBlockProgress {
    pb::CampaignBlockProgress {
        carded_basis_points: b.coverage(),
        block_code: b.code,
        eligible: b.eligible,
        carded_at_start: b.carded_at_start,
        carded_now: b.carded_now,
        name: b.name,
        sub_division_code: b.sub_division_code,
        cards_today: b.cards_today,
        cards_to_date: b.cards_to_date,
        target_cards: b.target_cards,
        self_service_to_date: b.self_service_to_date,
        nodal_officer: officer.as_ref().and_then(officer_to_proto),
    }
}

fn sub_division_progress(s: AreaProgress) -> pb::SubDivisionProgress {
    pb::SubDivisionProgress {
        carded_basis_points: s.coverage(),
        sub_division_code: s.code,
        name: s.name,
        eligible: s.eligible,
        carded_at_start: s.carded_at_start,
        carded_now: s.carded_now,
        cards_today: s.cards_today,
        cards_to_date: s.cards_to_date,
        target_cards: s.target_cards,
        self_service_to_date: s.self_service_to_date,
    }
}

pub(super) async fn campaign_progress(
    state: &AppState,
    request: Request<pb::CampaignProgressRequest>,
) -> Reply<pb::CampaignProgressResponse> {
    let id = convert::required_text("campaign_id", &request.get_ref().campaign_id)?;
    let asked = convert::date_from_proto("date", request.get_ref().date.as_ref())?;
    let campaign = campaigns::get(&state.db, &id).await?;
    Caller::of(&request).ensure_state(&campaign.campaign.state_code, &format!("campaign {id}"))?;
    let day = daily::report_day(&campaign, asked)
        .map_err(|e| ApiError::invalid("date", e.to_string()))?;
    let report = daily::report(&state.db, campaign, day).await?;
    let district = &report.district;
    Ok(Response::new(pb::CampaignProgressResponse {
        eligible: district.eligible,
        carded_at_start: district.carded_at_start,
        carded_now: district.carded_now,
        cards_issued: report.cards_issued,
        carded_basis_points: share_basis_points(district.carded_now, district.eligible),
        days: report
            .days
            .into_iter()
            .map(|d| pb::CampaignDay {
                date: Some(convert::date_to_proto(d.date)),
                cards_issued: d.cards,
                active_camps: d.active_camps,
                camps_run_by_standby: d.camps_run_by_standby,
            })
            .collect(),
        date: Some(convert::date_to_proto(report.date)),
        cards_today: district.cards_today,
        cards_to_date: district.cards_to_date,
        self_service_today: district.self_service_today,
        self_service_to_date: district.self_service_to_date,
        sub_divisions: report
            .sub_divisions
            .into_iter()
            .map(sub_division_progress)
            .collect(),
        blocks: report.blocks.into_iter().map(block_progress).collect(),
        camps_without_operator: report
            .camps_without_operator
            .into_iter()
            .map(|g| pb::CampWithoutOperator {
                camp_id: g.camp_id,
                venue: g.venue,
                block_code: g.block_code,
                assigned_operator_id: g.assigned_operator_id,
                stood_in: g.stood_in,
                cards_today: g.cards_today,
            })
            .collect(),
        top_blocks: report.top_blocks,
        bottom_blocks: report.bottom_blocks,
        mobilisers: report
            .mobilisers
            .into_iter()
            .map(|m| pb::MobiliserCredit {
                mobiliser_id: m.mobiliser_id,
                name: m.name,
                group_name: m.group_name,
                families: m.families,
                cards: m.cards,
            })
            .collect(),
        campaign: Some(campaign_to_proto(report.campaign)),
    }))
}

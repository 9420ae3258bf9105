//! Coverage, operator activity and campaign progress: what district officers
//! read every day of a card drive (DESIGN §1).

use std::collections::{BTreeMap, BTreeSet};

use ayushman_platform::{ApiError, convert::today_in_india};
use ayushman_proto::beneficiary::v1::{CampaignStatus, CardStatus, CoverageLevel};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::store::{
    entities::{camp, campaign},
    queries::{self, ActivityFilter},
};

/// One coverage line: (state, district, block) codes as grouped, and counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoverageLine {
    pub state_code: String,
    pub district_code: String,
    pub block_code: String,
    pub eligible: i64,
    pub carded: i64,
    pub abha_linked: i64,
}

/// Eligible, carded and ABHA-linked people by state, district or block.
pub async fn coverage(
    db: &impl ConnectionTrait,
    level: CoverageLevel,
    state_code: Option<&str>,
    district_code: Option<&str>,
    scheme_code: Option<&str>,
) -> Result<Vec<CoverageLine>, ApiError> {
    let depth = match level {
        CoverageLevel::State => 1,
        CoverageLevel::Block => 3,
        CoverageLevel::District | CoverageLevel::Unspecified => 2,
    };
    let rows = queries::coverage(
        db,
        depth,
        state_code,
        district_code,
        scheme_code,
        CardStatus::Issued.as_str_name(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(state_code, district_code, block_code, eligible, carded, abha_linked)| CoverageLine {
                state_code,
                district_code,
                block_code,
                eligible,
                carded,
                abha_linked,
            },
        )
        .collect())
}

/// Cards made by one operator at one centre on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityLine {
    pub date: NaiveDate,
    pub operator_id: String,
    pub centre_id: String,
    pub district_code: String,
    pub cards: i64,
}

pub async fn operator_activity(
    db: &impl ConnectionTrait,
    filter: &ActivityFilter,
) -> Result<Vec<ActivityLine>, ApiError> {
    Ok(queries::cards_by_operator(db, filter)
        .await?
        .into_iter()
        .map(
            |(date, operator_id, centre_id, district_code, cards)| ActivityLine {
                date,
                operator_id,
                centre_id,
                district_code,
                cards,
            },
        )
        .collect())
}

/// A campaign with its camps.
pub type FullCampaign = (campaign::Model, Vec<camp::Model>);

pub async fn get_campaign(db: &impl ConnectionTrait, id: &str) -> Result<FullCampaign, ApiError> {
    let row = queries::find_campaign(db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no campaign with id {id}")))?;
    let camps = queries::camps_of(db, id).await?;
    Ok((row, camps))
}

/// Stores a new or changed campaign with its camps.
pub async fn save_campaign(
    db: &impl ConnectionTrait,
    full: FullCampaign,
    exists: bool,
) -> Result<FullCampaign, ApiError> {
    let id = full.0.campaign_id.clone();
    queries::save_campaign(db, full.0, full.1, exists).await?;
    get_campaign(db, &id).await
}

/// Cancels a campaign that has not ended.
pub async fn cancel_campaign(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<FullCampaign, ApiError> {
    let (mut row, camps) = get_campaign(db, id).await?;
    if row.status == CampaignStatus::Completed.as_str_name() {
        return Err(ApiError::FailedPrecondition(format!(
            "campaign {id} has completed; it cannot be cancelled"
        )));
    }
    row.status = CampaignStatus::Cancelled.as_str_name().to_owned();
    save_campaign(db, (row, camps), true).await
}

/// A day of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDay {
    pub date: NaiveDate,
    pub cards: i64,
    pub active_camps: i64,
    pub camps_run_by_standby: i64,
}

/// A block of the campaign's district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockProgress {
    pub block_code: String,
    pub eligible: i64,
    pub carded_at_start: i64,
    pub carded_now: i64,
}

/// A campaign's progress: totals, one entry per day so far, one per block.
pub struct Progress {
    pub campaign: FullCampaign,
    pub cards_issued: i64,
    pub days: Vec<CampaignDay>,
    pub blocks: Vec<BlockProgress>,
}

/// The campaign's daily series and block table. A camp counts as run by its
/// stand-in on a day when only the stand-in operator made cards there.
pub async fn progress(db: &impl ConnectionTrait, id: &str) -> Result<Progress, ApiError> {
    let (row, camps) = get_campaign(db, id).await?;
    let start = ayushman_domain::india_time::start_of_day(row.start_date);
    let blocks = queries::district_cards_by_block(
        db,
        &row.district_code,
        start,
        CardStatus::Issued.as_str_name(),
    )
    .await?
    .into_iter()
    .map(
        |(block_code, eligible, carded_at_start, carded_now)| BlockProgress {
            block_code,
            eligible,
            carded_at_start,
            carded_now,
        },
    )
    .collect();
    let issuances = queries::campaign_issuances(db, id).await?;
    let mut by_day: BTreeMap<NaiveDate, (i64, BTreeMap<String, BTreeSet<String>>)> =
        BTreeMap::new();
    for (day, operator, centre) in &issuances {
        let entry = by_day.entry(*day).or_default();
        entry.0 += 1;
        entry
            .1
            .entry(centre.clone())
            .or_default()
            .insert(operator.clone());
    }
    let last = row.end_date.min(today_in_india());
    let mut days = Vec::new();
    let mut date = row.start_date;
    while date <= last {
        let (cards, centres) = by_day.remove(&date).unwrap_or_default();
        let standby = camps
            .iter()
            .filter(|camp| {
                centres.get(&camp.camp_id).is_some_and(|operators| {
                    !operators.contains(&camp.operator_id)
                        && operators.contains(&camp.standby_operator_id)
                })
            })
            .count() as i64;
        days.push(CampaignDay {
            date,
            cards,
            active_camps: centres.len() as i64,
            camps_run_by_standby: standby,
        });
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    Ok(Progress {
        campaign: (row, camps),
        cards_issued: issuances.len() as i64,
        days,
        blocks,
    })
}

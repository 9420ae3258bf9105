//! A campaign's daily report, as Saran's district programme coordinator sent
//! it to the District Supply Officer and the SDOs: per sub-division and
//! block, cards made that day and to date against the eligible base and the
//! target; camps whose operator did not turn up and who stood in; the best
//! and worst blocks; what each mobiliser brought.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ayushman_domain::india_time::start_of_day;
use ayushman_platform::{ApiError, convert::today_in_india};
use ayushman_proto::beneficiary::v1::{CardChannel, CardStatus};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::{
    areas::Geography,
    campaigns::{self, FullCampaign},
    store::{entities::campaign_block, queries::drives},
};

/// A day of a campaign: the cards counted towards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDay {
    pub date: NaiveDate,
    pub cards: i64,
    pub active_camps: i64,
    pub camps_run_by_standby: i64,
}

/// Counts of an area (block, sub-division, district) on the report's day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AreaProgress {
    pub code: String,
    pub name: String,
    pub sub_division_code: String,
    pub eligible: i64,
    pub carded_at_start: i64,
    pub carded_now: i64,
    pub cards_today: i64,
    pub cards_to_date: i64,
    pub self_service_today: i64,
    pub self_service_to_date: i64,
    pub target_cards: i64,
}

impl AreaProgress {
    fn add(&mut self, other: &Self) {
        self.eligible += other.eligible;
        self.carded_at_start += other.carded_at_start;
        self.carded_now += other.carded_now;
        self.cards_today += other.cards_today;
        self.cards_to_date += other.cards_to_date;
        self.self_service_today += other.self_service_today;
        self.self_service_to_date += other.self_service_to_date;
        self.target_cards += other.target_cards;
    }

    /// carded_now / eligible, in basis points.
    pub fn coverage(&self) -> i32 {
        ayushman_domain::share_basis_points(self.carded_now, self.eligible)
    }
}

/// A camp whose assigned operator made no card that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampGap {
    pub camp_id: String,
    pub venue: String,
    pub block_code: String,
    pub assigned_operator_id: String,
    pub stood_in: Vec<String>,
    pub cards_today: i64,
}

/// What one mobiliser brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobiliserLine {
    pub mobiliser_id: String,
    pub name: String,
    pub group_name: String,
    pub families: i64,
    pub cards: i64,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct DailyReport {
    pub campaign: FullCampaign,
    pub date: NaiveDate,
    /// Cards counted towards the campaign up to the day.
    pub cards_issued: i64,
    pub days: Vec<CampaignDay>,
    pub district: AreaProgress,
    pub sub_divisions: Vec<AreaProgress>,
    /// With their nodal officers, by code.
    pub blocks: Vec<(AreaProgress, Option<campaign_block::Model>)>,
    pub camps_without_operator: Vec<CampGap>,
    pub top_blocks: Vec<String>,
    pub bottom_blocks: Vec<String>,
    pub mobilisers: Vec<MobiliserLine>,
}

/// Why a day cannot be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the campaign runs from {start} to {end}; ask for a day between them")]
pub struct OutsideCampaign {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// The day to report: the one asked for, which must fall within the
/// campaign, or today kept within it.
pub fn report_day(
    campaign: &FullCampaign,
    asked: Option<NaiveDate>,
) -> Result<NaiveDate, OutsideCampaign> {
    let (start, end) = (campaign.campaign.start_date, campaign.campaign.end_date);
    match asked {
        Some(day) if day < start || day > end => Err(OutsideCampaign { start, end }),
        Some(day) => Ok(day),
        None => Ok(today_in_india().clamp(start, end)),
    }
}

/// The campaign's own cards by day, with the camps active and those only
/// the stand-in ran.
fn campaign_days(
    campaign: &FullCampaign,
    day: NaiveDate,
    issuances: &[(NaiveDate, String, String)],
) -> Vec<CampaignDay> {
    let mut by_day: BTreeMap<NaiveDate, (i64, BTreeMap<&str, BTreeSet<&str>>)> = BTreeMap::new();
    for (date, operator, centre) in issuances {
        let entry = by_day.entry(*date).or_default();
        entry.0 += 1;
        entry.1.entry(centre).or_default().insert(operator);
    }
    let mut days = Vec::new();
    let mut date = campaign.campaign.start_date;
    while date <= day {
        let (cards, centres) = by_day.remove(&date).unwrap_or_default();
        let standby = campaign
            .camps
            .iter()
            .filter(|camp| {
                centres.get(camp.camp_id.as_str()).is_some_and(|operators| {
                    !operators.contains(camp.operator_id.as_str())
                        && operators.contains(camp.standby_operator_id.as_str())
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
    days
}

/// Camps running on `day` whose assigned operator made no card there.
async fn camps_without_operator(
    db: &impl ConnectionTrait,
    campaign: &FullCampaign,
    day: NaiveDate,
) -> Result<Vec<CampGap>, ApiError> {
    let running: Vec<_> = campaign
        .camps
        .iter()
        .filter(|c| c.start_date <= day && day <= c.end_date)
        .collect();
    let centres: HashSet<String> = running.iter().map(|c| c.camp_id.clone()).collect();
    let mut made: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (centre, operator, cards) in drives::cards_at_centres(db, &centres, day).await? {
        made.entry(centre).or_default().push((operator, cards));
    }
    Ok(running
        .into_iter()
        .filter_map(|camp| {
            let there = made.remove(&camp.camp_id).unwrap_or_default();
            if there.iter().any(|(op, _)| *op == camp.operator_id) {
                return None;
            }
            Some(CampGap {
                camp_id: camp.camp_id.clone(),
                venue: camp.venue.clone(),
                block_code: camp.block_code.clone(),
                assigned_operator_id: camp.operator_id.clone(),
                cards_today: there.iter().map(|(_, n)| n).sum(),
                stood_in: there.into_iter().map(|(op, _)| op).collect(),
            })
        })
        .collect())
}

/// Up to three best and three worst blocks by coverage, never the same
/// block in both.
fn ranked(blocks: &[(AreaProgress, Option<campaign_block::Model>)]) -> (Vec<String>, Vec<String>) {
    let mut order: Vec<&AreaProgress> = blocks
        .iter()
        .map(|(b, _)| b)
        .filter(|b| b.eligible > 0)
        .collect();
    order.sort_by(|a, b| b.coverage().cmp(&a.coverage()).then(a.code.cmp(&b.code)));
    let k = (order.len() / 2).min(3);
    let top = order.iter().take(k).map(|b| b.code.clone()).collect();
    let bottom = order.iter().rev().take(k).map(|b| b.code.clone()).collect();
    (top, bottom)
}

/// What each mobiliser brought in the district from the start to the day.
async fn mobilisers(
    db: &impl ConnectionTrait,
    campaign: &FullCampaign,
    day: NaiveDate,
) -> Result<Vec<MobiliserLine>, ApiError> {
    let from = start_of_day(campaign.campaign.start_date);
    let until = start_of_day(day.succ_opt().unwrap_or(day));
    let credits =
        drives::mobiliser_credits(db, &campaign.campaign.district_code, from, until).await?;
    let known: HashMap<String, _> =
        drives::mobilisers_by_id(db, credits.iter().map(|(id, _, _)| id.clone()).collect())
            .await?
            .into_iter()
            .map(|m| (m.mobiliser_id.clone(), m))
            .collect();
    let mut lines: Vec<MobiliserLine> = credits
        .into_iter()
        .map(|(id, families, cards)| {
            let (name, group_name) = known
                .get(&id)
                .map(|m| (m.name.clone(), m.group_name.clone()))
                .unwrap_or_default();
            MobiliserLine {
                mobiliser_id: id,
                name,
                group_name,
                families,
                cards,
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        b.families
            .cmp(&a.families)
            .then(b.cards.cmp(&a.cards))
            .then(a.mobiliser_id.cmp(&b.mobiliser_id))
    });
    Ok(lines)
}

/// The daily report of `campaign` for `day` (see [`report_day`]).
pub async fn report(
    db: &impl ConnectionTrait,
    campaign: FullCampaign,
    day: NaiveDate,
) -> Result<DailyReport, ApiError> {
    let row = &campaign.campaign;
    let start = row.start_date;
    let coverage = drives::district_coverage_by_block(
        db,
        &row.district_code,
        start_of_day(start),
        start_of_day(day.succ_opt().unwrap_or(day)),
        CardStatus::Issued.as_str_name(),
    )
    .await?;
    let made: HashMap<String, drives::BlockCards> = drives::district_cards_by_block(
        db,
        &row.district_code,
        start,
        day,
        CardChannel::SelfService.as_str_name(),
    )
    .await?
    .into_iter()
    .map(|b| (b.block_code.clone(), b))
    .collect();
    let geography = Geography::of(db, std::slice::from_ref(&row.district_code), false).await?;
    let officers: HashMap<&str, &campaign_block::Model> = campaign
        .blocks
        .iter()
        .map(|b| (b.block_code.as_str(), b))
        .collect();
    let mut codes: BTreeSet<String> = coverage.iter().map(|c| c.block_code.clone()).collect();
    codes.extend(campaign.blocks.iter().map(|b| b.block_code.clone()));
    let people: HashMap<&str, &drives::BlockCoverage> = coverage
        .iter()
        .map(|c| (c.block_code.as_str(), c))
        .collect();
    let targets = campaigns::block_targets(
        row.target_cards,
        &codes
            .iter()
            .map(|code| {
                let own = officers.get(code.as_str()).map_or(0, |b| b.target_cards);
                let uncarded = people
                    .get(code.as_str())
                    .map_or(0, |p| p.eligible - p.carded_at_start);
                (code.clone(), own, uncarded)
            })
            .collect::<Vec<_>>(),
    );
    let mut blocks = Vec::with_capacity(codes.len());
    for code in codes {
        let p = people.get(code.as_str());
        let m = made.get(&code);
        let progress = AreaProgress {
            name: geography.name(&code),
            sub_division_code: geography.sub_division_of(&code),
            eligible: p.map_or(0, |p| p.eligible),
            carded_at_start: p.map_or(0, |p| p.carded_at_start),
            carded_now: p.map_or(0, |p| p.carded_by_day_end),
            cards_today: m.map_or(0, |m| m.cards_today),
            cards_to_date: m.map_or(0, |m| m.cards_to_date),
            self_service_today: m.map_or(0, |m| m.self_service_today),
            self_service_to_date: m.map_or(0, |m| m.self_service_to_date),
            target_cards: targets.get(&code).copied().unwrap_or(0),
            code,
        };
        let officer = officers.get(progress.code.as_str()).map(|b| (*b).clone());
        blocks.push((progress, officer));
    }
    let mut district = AreaProgress {
        code: row.district_code.clone(),
        name: geography.name(&row.district_code),
        ..AreaProgress::default()
    };
    let mut sub_divisions: BTreeMap<String, AreaProgress> = BTreeMap::new();
    for (block, _) in &blocks {
        district.add(block);
        sub_divisions
            .entry(block.sub_division_code.clone())
            .or_insert_with(|| AreaProgress {
                code: block.sub_division_code.clone(),
                name: geography.name(&block.sub_division_code),
                ..AreaProgress::default()
            })
            .add(block);
    }
    // The district's target is the campaign's, even when blocks' own add up to more.
    district.target_cards = row.target_cards.max(district.target_cards);
    let issuances = drives::campaign_issuances(db, &row.campaign_id, day).await?;
    let (top_blocks, bottom_blocks) = ranked(&blocks);
    Ok(DailyReport {
        date: day,
        cards_issued: issuances.len() as i64,
        days: campaign_days(&campaign, day, &issuances),
        district,
        sub_divisions: sub_divisions.into_values().collect(),
        camps_without_operator: camps_without_operator(db, &campaign, day).await?,
        top_blocks,
        bottom_blocks,
        mobilisers: mobilisers(db, &campaign, day).await?,
        blocks,
        campaign,
    })
}

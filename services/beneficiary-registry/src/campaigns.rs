//! Card-creation campaigns: a district's drive with its camps (each with an
//! assigned operator and a stand-in) and its blocks (each with a nodal
//! officer, the Block Development Officer in Saran, and a target).

use std::collections::HashMap;

use ayushman_platform::ApiError;
use ayushman_proto::beneficiary::v1::CampaignStatus;
use sea_orm::ConnectionTrait;

use crate::store::{
    entities::{camp, campaign, campaign_block},
    queries::drives,
};

/// A campaign with its camps and blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullCampaign {
    pub campaign: campaign::Model,
    pub camps: Vec<camp::Model>,
    pub blocks: Vec<campaign_block::Model>,
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<FullCampaign, ApiError> {
    let campaign = drives::find_campaign(db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no campaign with id {id}")))?;
    Ok(FullCampaign {
        campaign,
        camps: drives::camps_of(db, id).await?,
        blocks: drives::blocks_of(db, id).await?,
    })
}

/// The camps and blocks of `rows`, three queries for the whole page.
pub async fn complete(
    db: &impl ConnectionTrait,
    rows: Vec<campaign::Model>,
) -> Result<Vec<FullCampaign>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.campaign_id.clone()).collect();
    let mut camps: HashMap<String, Vec<camp::Model>> = HashMap::new();
    for c in drives::camps_of_campaigns(db, ids.clone()).await? {
        camps.entry(c.campaign_id.clone()).or_default().push(c);
    }
    let mut blocks: HashMap<String, Vec<campaign_block::Model>> = HashMap::new();
    for b in drives::blocks_of_campaigns(db, ids).await? {
        blocks.entry(b.campaign_id.clone()).or_default().push(b);
    }
    Ok(rows
        .into_iter()
        .map(|campaign| FullCampaign {
            camps: camps.remove(&campaign.campaign_id).unwrap_or_default(),
            blocks: blocks.remove(&campaign.campaign_id).unwrap_or_default(),
            campaign,
        })
        .collect())
}

/// Stores a new or changed campaign with its camps and blocks.
pub async fn save(
    db: &impl ConnectionTrait,
    full: FullCampaign,
    exists: bool,
) -> Result<FullCampaign, ApiError> {
    let id = full.campaign.campaign_id.clone();
    drives::save_campaign(db, full.campaign, full.camps, full.blocks, exists).await?;
    get(db, &id).await
}

/// Cancels a campaign that has not ended.
pub async fn cancel(db: &impl ConnectionTrait, id: &str) -> Result<FullCampaign, ApiError> {
    let mut full = get(db, id).await?;
    if full.campaign.status == CampaignStatus::Completed.as_str_name() {
        return Err(ApiError::FailedPrecondition(format!(
            "campaign {id} has completed; it cannot be cancelled"
        )));
    }
    full.campaign.status = CampaignStatus::Cancelled.as_str_name().to_owned();
    save(db, full, true).await
}

/// Each block's target: its own when the campaign sets one; otherwise a
/// share of what the campaign's target leaves, in proportion to the block's
/// people uncarded at the start (largest remainders get the odd cards, so
/// the shares add up exactly). `blocks` is (block, own target, uncarded at start).
pub fn block_targets(campaign_target: i64, blocks: &[(String, i64, i64)]) -> HashMap<String, i64> {
    let mut targets: HashMap<String, i64> = HashMap::new();
    let own: i64 = blocks.iter().map(|(_, target, _)| *target).sum();
    let left = (campaign_target - own).max(0);
    let sharing: Vec<&(String, i64, i64)> = blocks.iter().filter(|(_, t, _)| *t == 0).collect();
    let uncarded: i64 = sharing.iter().map(|(_, _, u)| (*u).max(0)).sum();
    for (block, target, _) in blocks.iter().filter(|(_, t, _)| *t > 0) {
        targets.insert(block.clone(), *target);
    }
    if uncarded == 0 {
        for (block, _, _) in &sharing {
            targets.insert(block.clone(), 0);
        }
        return targets;
    }
    let mut shares: Vec<(String, i64, i128)> = sharing
        .iter()
        .map(|(block, _, u)| {
            let exact = i128::from(left) * i128::from((*u).max(0));
            let whole = exact / i128::from(uncarded);
            (
                block.clone(),
                whole as i64,
                exact - whole * i128::from(uncarded),
            )
        })
        .collect();
    let given: i64 = shares.iter().map(|(_, whole, _)| whole).sum();
    shares.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    for (i, (block, whole, _)) in shares.into_iter().enumerate() {
        let extra = i64::from((i as i64) < left - given);
        targets.insert(block, whole + extra);
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_without_a_target_share_what_is_left_by_their_uncarded_people() {
        let targets = block_targets(
            1_000,
            &[
                ("A".into(), 400, 5_000),
                ("B".into(), 0, 2_000),
                ("C".into(), 0, 1_000),
            ],
        );
        assert_eq!(targets["A"], 400);
        assert_eq!(targets["B"], 400);
        assert_eq!(targets["C"], 200);
    }

    #[test]
    fn shares_add_up_exactly_to_the_campaign_target() {
        let blocks: Vec<_> = (0..7).map(|i| (format!("B{i}"), 0, 1_000 + i)).collect();
        let targets = block_targets(1_000, &blocks);
        assert_eq!(targets.values().sum::<i64>(), 1_000);
    }

    #[test]
    fn own_targets_above_the_campaign_s_leave_nothing_to_share() {
        let targets = block_targets(100, &[("A".into(), 300, 10), ("B".into(), 0, 10)]);
        assert_eq!((targets["A"], targets["B"]), (300, 0));
    }
}

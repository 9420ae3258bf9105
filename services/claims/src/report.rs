//! The claims report (DESIGN §3 ClaimsReport): claims grouped by district,
//! Indian month of submission and ownership, with amounts, days to pay and
//! penalties. Plain functions over stored claims; the handler translates.

use std::collections::{BTreeMap, BTreeSet};

use ayushman_domain::india_time;
use sea_orm::ConnectionTrait;

use crate::store::{
    entities::claim,
    queries::{self, ClaimFilter},
};

/// Which claims a report covers: submitted in months `from..=to` (`yyyymm`).
#[derive(Debug, Clone, Default)]
pub struct ReportScope {
    pub from_month: i32,
    pub to_month: i32,
    pub state_code: Option<String>,
    pub district_code: Option<String>,
    /// `OWNERSHIP_PUBLIC` or `OWNERSHIP_PRIVATE`; `None` for both.
    pub ownership: Option<String>,
}

/// One group's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRow {
    /// Empty in the total.
    pub district_code: String,
    /// `yyyymm`; `None` in the total.
    pub month: Option<i32>,
    /// Empty in the total.
    pub ownership: String,
    pub claims_submitted: i64,
    /// Distinct beneficiaries.
    pub patients: i64,
    pub claimed_paise: i64,
    pub approved_paise: i64,
    /// Approved plus penalty of the claims paid.
    pub paid_paise: i64,
    pub claims_paid: i64,
    /// Mean days from submission to payment of the claims paid, in hundredths.
    pub average_settlement_centidays: i64,
    pub penalty_paise: i64,
}

/// The rows by district, month and ownership, and the total over all of them.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
}

/// Builds the report from the claims store.
pub async fn claims_report(
    db: &impl ConnectionTrait,
    scope: ReportScope,
) -> Result<Report, sea_orm::DbErr> {
    let filter = ClaimFilter {
        state_code: scope.state_code,
        district_code: scope.district_code,
        ownership: scope.ownership,
        submitted_from: india_time::start_of_month(scope.from_month),
        submitted_before: india_time::start_of_month(india_time::next_month(scope.to_month)),
        ..Default::default()
    };
    let claims = queries::all_claims(db, &filter).await?;
    Ok(summarise(&claims))
}

/// Groups `claims` by district, Indian month of submission and ownership.
pub fn summarise(claims: &[claim::Model]) -> Report {
    let mut groups: BTreeMap<(&str, i32, &str), Vec<&claim::Model>> = BTreeMap::new();
    for c in claims {
        groups
            .entry((
                &c.district_code,
                india_time::month_of(c.submitted_at),
                &c.ownership,
            ))
            .or_default()
            .push(c);
    }
    let rows = groups
        .into_iter()
        .map(|((district, month, ownership), rows)| ReportRow {
            district_code: district.to_owned(),
            month: Some(month),
            ownership: ownership.to_owned(),
            ..figures(&rows)
        })
        .collect();
    let all: Vec<&claim::Model> = claims.iter().collect();
    Report {
        rows,
        total: figures(&all),
    }
}

fn figures(rows: &[&claim::Model]) -> ReportRow {
    let paid: Vec<_> = rows.iter().filter(|c| c.paid_at.is_some()).collect();
    let centidays: i64 = paid
        .iter()
        .map(|c| {
            (c.paid_at.unwrap_or(c.submitted_at) - c.submitted_at).num_seconds() * 100 / 86_400
        })
        .sum();
    ReportRow {
        claims_submitted: rows.len() as i64,
        patients: rows
            .iter()
            .map(|c| c.beneficiary_id.as_str())
            .collect::<BTreeSet<_>>()
            .len() as i64,
        claimed_paise: rows.iter().map(|c| c.claimed_amount_paise).sum(),
        approved_paise: rows.iter().map(|c| c.approved_amount_paise).sum(),
        paid_paise: paid
            .iter()
            .map(|c| c.approved_amount_paise + c.penalty_paise)
            .sum(),
        claims_paid: paid.len() as i64,
        average_settlement_centidays: if paid.is_empty() {
            0
        } else {
            centidays / paid.len() as i64
        },
        penalty_paise: rows.iter().map(|c| c.penalty_paise).sum(),
        ..ReportRow::default()
    }
}

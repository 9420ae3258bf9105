//! Coverage: eligible, carded, self-carded and ABHA-linked people by state,
//! district, sub-division, block or village, and optionally how many held a
//! card at the end of each of two policy years (Durg: 11,05,885 in 2022-23,
//! 68,842 more than in 2021-22).

use std::collections::BTreeMap;

use ayushman_domain::{PolicyYear, india_time};
use ayushman_platform::ApiError;
use ayushman_proto::beneficiary::v1::{CardChannel, CardStatus, CoverageLevel};
use sea_orm::ConnectionTrait;

use crate::{
    areas::Geography,
    store::queries::drives::{self, CoverageCounts, CoverageQuery},
};

/// What to count and how to group it.
#[derive(Debug, Clone)]
pub struct CoverageRequest<'a> {
    pub level: CoverageLevel,
    pub state_code: Option<&'a str>,
    pub district_code: Option<&'a str>,
    pub scheme_code: Option<&'a str>,
    /// Two policy years to compare, earlier first.
    pub compare: Option<(PolicyYear, PolicyYear)>,
}

/// Cards held at the end of two policy years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearCounts {
    pub first: PolicyYear,
    pub carded_by_first_end: i64,
    pub second: PolicyYear,
    pub carded_by_second_end: i64,
}

/// One row of the report; codes of levels below the grouping are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoverageLine {
    pub state_code: String,
    pub district_code: String,
    pub sub_division_code: String,
    pub block_code: String,
    pub village_code: String,
    /// The area's name from the master; empty when it is not there.
    pub name: String,
    pub eligible: i64,
    pub carded: i64,
    pub abha_linked: i64,
    pub self_service: i64,
    pub years: Option<YearCounts>,
}

impl CoverageLine {
    /// Adds `other`'s counts to this line's.
    pub fn add(&mut self, other: &Self) {
        self.eligible += other.eligible;
        self.carded += other.carded;
        self.abha_linked += other.abha_linked;
        self.self_service += other.self_service;
        self.years = match (self.years, other.years) {
            (Some(mut mine), Some(theirs)) => {
                mine.carded_by_first_end += theirs.carded_by_first_end;
                mine.carded_by_second_end += theirs.carded_by_second_end;
                Some(mine)
            }
            (mine, theirs) => mine.or(theirs),
        };
    }
}

/// The first instant after `year`.
fn end_of(year: PolicyYear) -> chrono::DateTime<chrono::Utc> {
    india_time::start_of_day(year.end().succ_opt().unwrap_or(year.end()))
}

fn line_of(counts: CoverageCounts, compare: Option<(PolicyYear, PolicyYear)>) -> CoverageLine {
    CoverageLine {
        state_code: counts.state_code,
        district_code: counts.district_code,
        sub_division_code: String::new(),
        block_code: counts.block_code,
        village_code: counts.village_code,
        name: String::new(),
        eligible: counts.eligible,
        carded: counts.carded,
        abha_linked: counts.abha_linked,
        self_service: counts.self_service,
        years: compare.map(|(first, second)| YearCounts {
            first,
            carded_by_first_end: counts.carded_by_first_year_end,
            second,
            carded_by_second_end: counts.carded_by_second_year_end,
        }),
    }
}

/// The report's rows, ordered by code.
pub async fn coverage(
    db: &impl ConnectionTrait,
    request: &CoverageRequest<'_>,
) -> Result<Vec<CoverageLine>, ApiError> {
    let depth = match request.level {
        CoverageLevel::State => 1,
        CoverageLevel::District | CoverageLevel::Unspecified => 2,
        CoverageLevel::SubDivision | CoverageLevel::Block => 3,
        CoverageLevel::Village => 4,
    };
    let counts = drives::coverage(
        db,
        &CoverageQuery {
            depth,
            state_code: request.state_code,
            district_code: request.district_code,
            scheme_code: request.scheme_code,
            issued_status: CardStatus::Issued.as_str_name(),
            self_service: CardChannel::SelfService.as_str_name(),
            year_ends: request.compare.map(|(a, b)| (end_of(a), end_of(b))),
        },
    )
    .await?;
    let mut lines: Vec<CoverageLine> = counts
        .into_iter()
        .map(|c| line_of(c, request.compare))
        .collect();
    if request.level == CoverageLevel::State {
        return Ok(lines);
    }
    let mut districts: Vec<String> = lines.iter().map(|l| l.district_code.clone()).collect();
    districts.dedup();
    let geography = Geography::of(db, &districts, request.level == CoverageLevel::Village).await?;
    for line in &mut lines {
        line.sub_division_code = geography.sub_division_of(&line.block_code);
        line.name = geography.name(match request.level {
            CoverageLevel::Village => &line.village_code,
            CoverageLevel::Block | CoverageLevel::SubDivision => &line.block_code,
            _ => &line.district_code,
        });
    }
    if request.level != CoverageLevel::SubDivision {
        return Ok(lines);
    }
    let mut by_sub_division: BTreeMap<(String, String, String), CoverageLine> = BTreeMap::new();
    for line in lines {
        let key = (
            line.state_code.clone(),
            line.district_code.clone(),
            line.sub_division_code.clone(),
        );
        by_sub_division
            .entry(key)
            .or_insert_with(|| CoverageLine {
                state_code: line.state_code.clone(),
                district_code: line.district_code.clone(),
                name: geography.name(&line.sub_division_code),
                sub_division_code: line.sub_division_code.clone(),
                years: line.years.map(|y| YearCounts {
                    carded_by_first_end: 0,
                    carded_by_second_end: 0,
                    ..y
                }),
                ..CoverageLine::default()
            })
            .add(&line);
    }
    Ok(by_sub_division.into_values().collect())
}

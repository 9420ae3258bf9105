//! CoverageReport and OperatorActivityReport.

use ayushman_domain::{PolicyYear, PolicyYearStart, StateCode, share_basis_points};
use ayushman_platform::{ApiError, Caller, convert};
use ayushman_proto::beneficiary::v1 as pb;
use chrono::NaiveDate;
use tonic::{Request, Response};

use super::Reply;
use crate::{
    AppState,
    reports::{
        coverage::{self, CoverageLine, CoverageRequest},
        operators,
    },
    store::queries::drives::ActivityFilter,
};

fn coverage_row(line: &CoverageLine) -> pb::CoverageRow {
    pb::CoverageRow {
        state_code: line.state_code.clone(),
        district_code: line.district_code.clone(),
        block_code: line.block_code.clone(),
        eligible: line.eligible,
        carded: line.carded,
        carded_basis_points: share_basis_points(line.carded, line.eligible),
        abha_linked: line.abha_linked,
        sub_division_code: line.sub_division_code.clone(),
        village_code: line.village_code.clone(),
        name: line.name.clone(),
        self_service: line.self_service,
        year_on_year: line.years.map(|y| pb::YearOnYear {
            first_year: y.first.to_string(),
            carded_by_first_year_end: y.carded_by_first_end,
            second_year: y.second.to_string(),
            carded_by_second_year_end: y.carded_by_second_end,
            change: y.carded_by_second_end - y.carded_by_first_end,
        }),
    }
}

/// The policy years a comparison names, by the scheme's policy-year start
/// (1 April without a scheme).
fn years_to_compare(
    compare: Option<&pb::PolicyYearComparison>,
    year_start: PolicyYearStart,
) -> Result<Option<(PolicyYear, PolicyYear)>, ApiError> {
    let Some(compare) = compare else {
        return Ok(None);
    };
    let this_year = chrono::Datelike::year(&convert::today_in_india());
    let year = |field: &str, value: i32| {
        if !(2000..=this_year).contains(&value) {
            return Err(ApiError::invalid(
                format!("compare_years.{field}"),
                format!("must be a year from 2000 to {this_year}, e.g. 2022 for 2022-23"),
            ));
        }
        let first_day = NaiveDate::from_ymd_opt(value, year_start.month(), year_start.day())
            .ok_or_else(|| ApiError::invalid(format!("compare_years.{field}"), "is not a year"))?;
        Ok(year_start.year_containing(first_day))
    };
    let first = year("first_year", compare.first_year)?;
    let second = year("second_year", compare.second_year)?;
    if second <= first {
        return Err(ApiError::invalid(
            "compare_years.second_year",
            "must come after first_year",
        ));
    }
    Ok(Some((first, second)))
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
    let level = convert::optional_enum::<pb::CoverageLevel>("level", r.level)?
        .unwrap_or(pb::CoverageLevel::District);
    let scheme = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
    let year_start = match &scheme {
        Some(code) => {
            state
                .schemes
                .catalogue(&state.db)
                .await?
                .get(code)
                .ok_or_else(|| ApiError::invalid("scheme_code", format!("unknown scheme {code}")))?
                .year_start
        }
        None => PolicyYearStart::new(4, 1).map_err(ApiError::internal)?,
    };
    let compare = years_to_compare(r.compare_years.as_ref(), year_start)?;
    let lines = coverage::coverage(
        &state.db,
        &CoverageRequest {
            level,
            state_code: state_code.as_deref(),
            district_code: district.as_deref(),
            scheme_code: scheme.as_deref(),
            compare,
        },
    )
    .await?;
    let mut total = CoverageLine {
        years: lines
            .first()
            .and_then(|l| l.years)
            .map(|y| coverage::YearCounts {
                carded_by_first_end: 0,
                carded_by_second_end: 0,
                ..y
            }),
        ..CoverageLine::default()
    };
    for line in &lines {
        total.add(line);
    }
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
        state_code: caller.state_scope().map(str::to_owned),
        district_code: convert::optional_text(&r.district_code),
        centre_id: convert::optional_text(&r.centre_id),
        operator_id: convert::optional_text(&r.operator_id),
        campaign_id: convert::optional_text(&r.campaign_id),
        from: convert::date_from_proto("dates.start_date", dates.start_date.as_ref())?,
        until: convert::date_from_proto("dates.end_date", dates.end_date.as_ref())?,
    };
    let report = operators::report(&state.db, &filter).await?;
    let active_operators = report
        .lines
        .iter()
        .map(|l| l.operator_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len() as i64;
    let total_cards = report.lines.iter().map(|l| l.cards).sum();
    Ok(Response::new(pb::OperatorActivityReportResponse {
        rows: report
            .lines
            .into_iter()
            .map(|l| pb::OperatorActivityRow {
                date: Some(convert::date_to_proto(l.date)),
                operator_id: l.operator_id,
                centre_id: l.centre_id,
                district_code: l.district_code,
                cards_issued: l.cards,
                kind: l.kind.unwrap_or_default() as i32,
                self_service: l.self_service,
            })
            .collect(),
        active_operators,
        total_cards,
        by_kind: report
            .by_kind
            .iter()
            .map(|k| pb::OperatorKindSummary {
                kind: k.kind as i32,
                active_logins: k.active_logins,
                inactive_logins: k.inactive_logins,
                logins_that_carded: k.logins_that_carded,
                cards: k.cards,
                login_days: k.login_days,
                cards_per_login_per_day: k.cards_per_login_per_day(),
                fees_paise: k.fees_paise,
            })
            .collect(),
        self_service_cards: report.self_service_cards,
        unregistered_cards: report.unregistered_cards,
    }))
}

//! `ayushctl report ...`: tables a district officer can read.

use anyhow::Context;
use ayushman_domain::{Money, StateCode, format_count};
use ayushman_proto::{
    claims::v1::{OutOfStateSpendReportRequest, claims_service_client::ClaimsServiceClient},
    common::v1::YearMonth,
    facility::v1::{
        OpdRegistrationReportRequest,
        facility_registry_service_client::FacilityRegistryServiceClient,
    },
};
use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use tonic::transport::Channel;

/// Parses `2025-05` into a month.
pub fn parse_month(text: &str) -> anyhow::Result<YearMonth> {
    let (year, month) = text
        .split_once('-')
        .context("months are written YYYY-MM, e.g. 2025-05")?;
    let month = YearMonth {
        year: year.parse().context("year")?,
        month: month.parse().context("month")?,
    };
    anyhow::ensure!((1..=12).contains(&month.month), "month must be 01 to 12");
    Ok(month)
}

fn percent(basis_points: i32) -> String {
    format!("{}.{:02} %", basis_points / 100, basis_points % 100)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// OPD registrations and the ABHA Scan & Share share, by facility and month.
pub async fn opd(
    mut client: FacilityRegistryServiceClient<Channel>,
    hfr_id: Option<String>,
    district_code: Option<String>,
    from: YearMonth,
    to: YearMonth,
) -> anyhow::Result<String> {
    let report = client
        .opd_registration_report(OpdRegistrationReportRequest {
            hfr_id: hfr_id.unwrap_or_default(),
            district_code: district_code.unwrap_or_default(),
            from_month: Some(from),
            to_month: Some(to),
        })
        .await
        .map_err(|status| anyhow::anyhow!("{}", status.message()))?
        .into_inner();
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header([
        "Facility",
        "HFR id",
        "Month",
        "Registrations",
        "Via ABHA",
        "ABHA share",
    ]);
    for row in &report.rows {
        let month = month_label(row.month);
        table.add_row([
            row.facility_name.clone(),
            row.hfr_id.clone(),
            month,
            format_count(row.total),
            format_count(row.via_abha),
            percent(row.abha_share_basis_points),
        ]);
    }
    if let Some(total) = report.total {
        table.add_row([
            "Total".into(),
            String::new(),
            String::new(),
            format_count(total.total),
            format_count(total.via_abha),
            percent(total.abha_share_basis_points),
        ]);
    }
    right_align(&mut table, 3..6);
    Ok(table.to_string())
}

fn state_name(code: &str) -> String {
    StateCode::parse(code).map_or_else(|_| code.to_owned(), |s| format!("{} ({code})", s.name()))
}

fn month_label(month: Option<YearMonth>) -> String {
    month.map_or_else(String::new, |m| {
        format!(
            "{} {}",
            MONTHS.get((m.month - 1) as usize).copied().unwrap_or("?"),
            m.year
        )
    })
}

fn right_align(table: &mut Table, columns: std::ops::Range<usize>) {
    for column in columns {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Whose out-of-state spend a portability report shows.
#[derive(Debug, Clone)]
pub enum SpendOf {
    /// What this home state paid to hospitals in other states.
    HomeState(String),
    /// What this state's hospitals were paid by other states.
    TreatingState(String),
}

/// The out-of-state spend view: by month, the share of a home state's claim
/// payments that went to other states' hospitals, then the detail by state
/// and specialty (or, inbound, what a treating state's hospitals received).
pub async fn portability(
    mut client: ClaimsServiceClient<Channel>,
    of: SpendOf,
    from: YearMonth,
    to: YearMonth,
) -> anyhow::Result<String> {
    let (home_state_code, treating_state_code) = match &of {
        SpendOf::HomeState(state) => (state.clone(), String::new()),
        SpendOf::TreatingState(state) => (String::new(), state.clone()),
    };
    let report = client
        .out_of_state_spend_report(OutOfStateSpendReportRequest {
            home_state_code,
            treating_state_code,
            from_month: Some(from),
            to_month: Some(to),
        })
        .await
        .map_err(|status| anyhow::anyhow!("{}", status.message()))?
        .into_inner();
    let (title, total_header, away_header) = match &of {
        SpendOf::HomeState(state) => (
            format!("Claims paid by {}", state_name(state)),
            "Paid in all",
            "To other states",
        ),
        SpendOf::TreatingState(state) => (
            format!("Claims paid to hospitals in {}", state_name(state)),
            "Received in all",
            "From other states",
        ),
    };
    let mut months = Table::new();
    months.load_style(UTF8_FULL_CONDENSED).set_header([
        "Month",
        total_header,
        away_header,
        "Share",
    ]);
    let (mut total, mut away) = (0_i64, 0_i64);
    for month in &report.months {
        total += month.total_paid_paise;
        away += month.out_of_state_paid_paise;
        months.add_row([
            month_label(month.month),
            Money::from_paise(month.total_paid_paise).to_string(),
            Money::from_paise(month.out_of_state_paid_paise).to_string(),
            percent(month.out_of_state_basis_points),
        ]);
    }
    months.add_row([
        "Total".to_owned(),
        Money::from_paise(total).to_string(),
        Money::from_paise(away).to_string(),
        percent(share_basis_points(away, total)),
    ]);
    right_align(&mut months, 1..4);
    let mut detail = Table::new();
    detail.load_style(UTF8_FULL_CONDENSED).set_header([
        "Month",
        "Home state",
        "Treated in",
        "Specialty",
        "Claims",
        "Paid",
    ]);
    for row in &report.rows {
        detail.add_row([
            month_label(row.month),
            state_name(&row.home_state_code),
            state_name(&row.treating_state_code),
            row.specialty_code.clone(),
            format_count(row.claims_paid),
            Money::from_paise(row.paid_paise).to_string(),
        ]);
    }
    right_align(&mut detail, 4..6);
    Ok(format!(
        "{title}, by month of payment\n{months}\n\nAcross a state border, by state and specialty\n{detail}"
    ))
}

/// `part` of `whole` in basis points, rounded half up.
fn share_basis_points(part: i64, whole: i64) -> i32 {
    if whole <= 0 {
        return 0;
    }
    i32::try_from((i128::from(part) * 20_000 + i128::from(whole)) / (i128::from(whole) * 2))
        .unwrap_or(i32::MAX)
}

/// Eligible, carded and ABHA-linked people by state, district or block.
pub async fn coverage(
    mut client: ayushman_proto::beneficiary::v1::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient<Channel>,
    state_code: Option<String>,
    district_code: Option<String>,
    level: ayushman_proto::beneficiary::v1::CoverageLevel,
) -> anyhow::Result<String> {
    use ayushman_proto::beneficiary::v1::CoverageReportRequest;
    let report = client
        .coverage_report(CoverageReportRequest {
            state_code: state_code.unwrap_or_default(),
            district_code: district_code.unwrap_or_default(),
            level: level as i32,
            scheme_code: String::new(),
        })
        .await
        .map_err(|status| anyhow::anyhow!("{}", status.message()))?
        .into_inner();
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header([
        "State",
        "District",
        "Block",
        "Eligible",
        "Carded",
        "% carded",
        "ABHA linked",
    ]);
    let mut add = |row: &ayushman_proto::beneficiary::v1::CoverageRow, label: Option<&str>| {
        table.add_row([
            label.map_or_else(|| state_name(&row.state_code), str::to_owned),
            row.district_code.clone(),
            row.block_code.clone(),
            format_count(row.eligible),
            format_count(row.carded),
            percent(row.carded_basis_points),
            format_count(row.abha_linked),
        ]);
    };
    for row in &report.rows {
        add(row, None);
    }
    if let Some(total) = &report.total {
        add(total, Some("Total"));
    }
    right_align(&mut table, 3..7);
    Ok(table.to_string())
}

/// Cards made per operator and centre per day.
pub async fn operators(
    mut client: ayushman_proto::beneficiary::v1::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient<Channel>,
    district_code: Option<String>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> anyhow::Result<String> {
    use ayushman_platform::convert::date_to_proto;
    use ayushman_proto::{beneficiary::v1::OperatorActivityReportRequest, common::v1::DateRange};
    let report = client
        .operator_activity_report(OperatorActivityReportRequest {
            district_code: district_code.unwrap_or_default(),
            dates: Some(DateRange {
                start_date: from.map(date_to_proto),
                end_date: to.map(date_to_proto),
            }),
            ..Default::default()
        })
        .await
        .map_err(|status| anyhow::anyhow!("{}", status.message()))?
        .into_inner();
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(["Day", "Operator", "Centre", "District", "Cards"]);
    for row in &report.rows {
        let day = row.date.map_or_else(String::new, |d| {
            format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
        });
        table.add_row([
            day,
            row.operator_id.clone(),
            row.centre_id.clone(),
            row.district_code.clone(),
            format_count(row.cards_issued),
        ]);
    }
    right_align(&mut table, 4..5);
    Ok(format!(
        "{table}\n{} cards by {} active operators",
        format_count(report.total_cards),
        format_count(report.active_operators)
    ))
}

/// A campaign's daily series and its blocks.
pub async fn campaign(
    mut client: ayushman_proto::beneficiary::v1::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient<Channel>,
    campaign_id: Option<String>,
) -> anyhow::Result<String> {
    use ayushman_proto::beneficiary::v1::{CampaignProgressRequest, ListCampaignsRequest};
    let id = match campaign_id {
        Some(id) => id,
        None => client
            .list_campaigns(ListCampaignsRequest {
                page_size: 1,
                ..Default::default()
            })
            .await
            .map_err(|status| anyhow::anyhow!("{}", status.message()))?
            .into_inner()
            .campaigns
            .first()
            .map(|c| c.campaign_id.clone())
            .context("no campaign yet; create one or pass --campaign-id")?,
    };
    let progress = client
        .campaign_progress(CampaignProgressRequest { campaign_id: id })
        .await
        .map_err(|status| anyhow::anyhow!("{}", status.message()))?
        .into_inner();
    let campaign = progress.campaign.clone().unwrap_or_default();
    let mut days = Table::new();
    days.load_style(UTF8_FULL_CONDENSED).set_header([
        "Day",
        "Cards",
        "Camps active",
        "Run by stand-in",
    ]);
    for day in &progress.days {
        let date = day.date.map_or_else(String::new, |d| {
            format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
        });
        days.add_row([
            date,
            format_count(day.cards_issued),
            format_count(day.active_camps),
            format_count(day.camps_run_by_standby),
        ]);
    }
    right_align(&mut days, 1..4);
    let mut blocks = Table::new();
    blocks.load_style(UTF8_FULL_CONDENSED).set_header([
        "Block",
        "Eligible",
        "Carded at start",
        "Carded now",
        "% carded",
    ]);
    for block in &progress.blocks {
        let share = share_basis_points(block.carded_now, block.eligible);
        blocks.add_row([
            block.block_code.clone(),
            format_count(block.eligible),
            format_count(block.carded_at_start),
            format_count(block.carded_now),
            percent(share),
        ]);
    }
    right_align(&mut blocks, 1..5);
    Ok(format!(
        "{} ({}, district {})\n{} cards made of a target of {}; district carded {} of {} ({})\n\nBy day\n{days}\n\nBy block\n{blocks}",
        campaign.name,
        campaign.campaign_id,
        campaign.district_code,
        format_count(progress.cards_issued),
        format_count(campaign.target_cards),
        format_count(progress.carded_now),
        format_count(progress.eligible),
        percent(progress.carded_basis_points),
    ))
}

/// Claims by district, month and ownership, with turnaround and penalties.
pub async fn claims(
    mut client: ayushman_proto::claims::v1::claims_service_client::ClaimsServiceClient<Channel>,
    district_code: Option<String>,
    from: YearMonth,
    to: YearMonth,
) -> anyhow::Result<String> {
    use ayushman_proto::{claims::v1::ClaimsReportRequest, common::v1::Ownership};
    let report = client
        .claims_report(ClaimsReportRequest {
            district_code: district_code.unwrap_or_default(),
            from_month: Some(from),
            to_month: Some(to),
            ..Default::default()
        })
        .await
        .map_err(|status| anyhow::anyhow!("{}", status.message()))?
        .into_inner();
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header([
        "District",
        "Month",
        "Ownership",
        "Claims",
        "Patients",
        "Claimed",
        "Approved",
        "Paid",
        "Avg days to pay",
        "Penalties",
    ]);
    let mut add = |row: &ayushman_proto::claims::v1::ClaimsReportRow, label: Option<&str>| {
        let ownership = match Ownership::try_from(row.ownership).unwrap_or_default() {
            Ownership::Public => "public",
            Ownership::Private => "private",
            Ownership::Unspecified => "",
        };
        table.add_row([
            label.map_or_else(|| row.district_code.clone(), str::to_owned),
            month_label(row.month),
            ownership.to_owned(),
            format_count(row.claims_submitted),
            format_count(row.patients),
            Money::from_paise(row.claimed_paise).to_string(),
            Money::from_paise(row.approved_paise).to_string(),
            Money::from_paise(row.paid_paise).to_string(),
            format!(
                "{}.{:02}",
                row.average_settlement_centidays / 100,
                row.average_settlement_centidays % 100
            ),
            Money::from_paise(row.penalty_paise).to_string(),
        ]);
    };
    for row in &report.rows {
        add(row, None);
    }
    if let Some(total) = &report.total {
        add(total, Some("Total"));
    }
    right_align(&mut table, 3..10);
    Ok(table.to_string())
}

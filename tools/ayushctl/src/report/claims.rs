//! Claims and out-of-state spend.

use ayushman_domain::{Money, format_count};
use ayushman_proto::{
    claims::v1::{OutOfStateSpendReportRequest, claims_service_client::ClaimsServiceClient},
    common::v1::YearMonth,
};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use tonic::transport::Channel;

use super::{month_label, percent, right_align, share_basis_points, state_name};

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

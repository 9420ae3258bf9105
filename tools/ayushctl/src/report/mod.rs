//! `ayushctl report ...`: tables a district officer can read.

mod cards;
mod claims;
mod opd;

pub use cards::{CampaignArgs, CoverageArgs, campaign, coverage, operators};
pub use claims::{SpendOf, claims, portability};
pub use opd::opd;

use anyhow::Context;
use ayushman_domain::StateCode;
use ayushman_proto::{common::v1::YearMonth, google::r#type::Date};
use comfy_table::{CellAlignment, Table};

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

pub(crate) fn percent(basis_points: i32) -> String {
    format!("{}.{:02} %", basis_points / 100, basis_points % 100)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub(crate) fn state_name(code: &str) -> String {
    StateCode::parse(code).map_or_else(|_| code.to_owned(), |s| format!("{} ({code})", s.name()))
}

pub(crate) fn month_label(month: Option<YearMonth>) -> String {
    month.map_or_else(String::new, |m| {
        format!(
            "{} {}",
            MONTHS.get((m.month - 1) as usize).copied().unwrap_or("?"),
            m.year
        )
    })
}

pub(crate) fn right_align(table: &mut Table, columns: std::ops::Range<usize>) {
    for column in columns {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub(crate) use ayushman_domain::share_basis_points;

/// `2024-07-18`.
pub(crate) fn day_label(date: Option<Date>) -> String {
    date.map_or_else(String::new, |d| {
        format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
    })
}

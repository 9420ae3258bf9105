//! The claims service's demo history: three years of paid claims in Durg,
//! imported as from the system the state moves from. Public hospitals account
//! for exactly 46,787 patients and ₹15.84 crore (DESIGN §1), and all claims
//! together average ₹1.70 crore a month.

use anyhow::Context;
use ayushman_domain::{Money, format_count};
use ayushman_platform::convert::{date_to_proto, today_in_india};
use ayushman_proto::{
    claims::v1::{
        ClaimsReportRequest, ImportClaimHistoryRequest, claims_service_client::ClaimsServiceClient,
    },
    common::v1::{Ownership, YearMonth},
};
use chrono::{Datelike, Duration, NaiveDate};
use tonic::transport::Channel;

/// Patients treated in Durg's public hospitals.
pub const PUBLIC_PATIENTS: i64 = 46_787;
/// What their claims brought the hospital societies, in paise (₹15.84 crore).
pub const PUBLIC_PAISE: i64 = 15_84_00_000_00;
/// Claims at private hospitals.
pub const PRIVATE_CLAIMS: i64 = 10_080;
/// Their approved total, in paise (₹45.36 crore), so the month average is ₹1.70 crore.
pub const PRIVATE_PAISE: i64 = 45_36_00_000_00;
/// Months of history.
pub const MONTHS: i64 = 36;

const PUBLIC_HOSPITALS: [&str; 5] = [
    "IN2217000001",
    "IN2217000011",
    "IN2217000012",
    "IN2217000013",
    "IN2217000014",
];
const PRIVATE_HOSPITALS: [&str; 7] = [
    "IN2217000100",
    "IN2217000101",
    "IN2217000102",
    "IN2217000103",
    "IN2217000104",
    "IN2217000105",
    "IN2217000106",
];

/// The 36 months before the current one, oldest first.
fn months() -> Vec<(i32, u32)> {
    let today = today_in_india();
    let mut month = (today.year(), today.month());
    let mut all = Vec::new();
    for _ in 0..MONTHS {
        month = if month.1 == 1 {
            (month.0 - 1, 12)
        } else {
            (month.0, month.1 - 1)
        };
        all.push(month);
    }
    all.reverse();
    all
}

/// `total` split over `count` shares as evenly as whole paise allow, summing exactly.
fn share(total: i64, count: i64, index: i64) -> i64 {
    total / count + i64::from(index < total % count)
}

fn row(index: i64, public: bool, months: &[(i32, u32)]) -> ImportClaimHistoryRequest {
    let (year, month) = months[(index % MONTHS) as usize];
    let submitted = NaiveDate::from_ymd_opt(year, month, 1 + ((index / MONTHS) % 28) as u32)
        .unwrap_or_default();
    let yesterday = today_in_india() - Duration::days(1);
    let paid = (submitted + Duration::days(5 + index % 20)).min(yesterday);
    let (approved, hfr, patient, legacy) = if public {
        (
            share(PUBLIC_PAISE, PUBLIC_PATIENTS, index),
            PUBLIC_HOSPITALS[(index % 5) as usize],
            format!("DRG-PUB-{index:06}"),
            format!("DRG-TMS-{index:06}"),
        )
    } else {
        (
            share(PRIVATE_PAISE, PRIVATE_CLAIMS, index),
            PRIVATE_HOSPITALS[(index % 7) as usize],
            format!("DRG-PVT-{index:06}"),
            format!("DRG-TMS-P{index:06}"),
        )
    };
    ImportClaimHistoryRequest {
        legacy_claim_id: legacy,
        hfr_id: hfr.into(),
        district_code: "22-387".into(),
        ownership: if public {
            Ownership::Public
        } else {
            Ownership::Private
        } as i32,
        patient_reference: patient,
        payer_scheme_code: "PMJAY".into(),
        payer_state_code: "22".into(),
        submitted_date: Some(date_to_proto(submitted)),
        claimed_amount_paise: if public {
            approved
        } else {
            approved + approved / 20
        },
        approved_amount_paise: approved,
        paid_date: Some(date_to_proto(paid)),
        portability_case: false,
    }
}

/// What the claims seed wrote and what Durg's report says.
pub struct Summary {
    pub imported: i64,
    pub rows: i64,
    pub monthly_average: Money,
    pub public_patients: i64,
    pub public_approved: Money,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "claims: {} paid claims of Durg's last 36 months ({} new): {} a month on average; public hospitals {} patients, {}",
            format_count(self.rows),
            format_count(self.imported),
            self.monthly_average,
            format_count(self.public_patients),
            self.public_approved
        )
    }
}

/// Imports the history into the claims service at `client`.
pub async fn seed(client: &mut ClaimsServiceClient<Channel>) -> anyhow::Result<Summary> {
    let months = months();
    // The stream must own its data: each half gets its own copy of the months.
    let (public_months, private_months) = (months.clone(), months.clone());
    let rows = (0..PUBLIC_PATIENTS)
        .map(move |i| row(i, true, &public_months))
        .chain((0..PRIVATE_CLAIMS).map(move |i| row(i, false, &private_months)));
    let reply = client
        .import_claim_history(crate::streaming(tokio_stream::iter(rows)))
        .await
        .context("import claim history")?
        .into_inner();
    anyhow::ensure!(
        reply.rejected == 0,
        "history rows were rejected: {:?}",
        reply.rejects.first()
    );
    let (first, last) = (months[0], months[months.len() - 1]);
    let report = |ownership: Ownership| ClaimsReportRequest {
        district_code: "22-387".into(),
        from_month: Some(YearMonth {
            year: first.0,
            month: first.1 as i32,
        }),
        to_month: Some(YearMonth {
            year: last.0,
            month: last.1 as i32,
        }),
        ownership: ownership as i32,
        ..Default::default()
    };
    let all = client
        .claims_report(report(Ownership::Unspecified))
        .await
        .context("claims report")?
        .into_inner()
        .total
        .context("total")?;
    let public = client
        .claims_report(report(Ownership::Public))
        .await
        .context("claims report")?
        .into_inner()
        .total
        .context("total")?;
    Ok(Summary {
        imported: reply.imported,
        rows: reply.rows_received,
        monthly_average: Money::from_paise(all.approved_paise / MONTHS),
        public_patients: public.patients,
        public_approved: Money::from_paise(public.approved_paise),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_exactly_to_the_published_totals() {
        assert_eq!(
            (0..PUBLIC_PATIENTS)
                .map(|i| share(PUBLIC_PAISE, PUBLIC_PATIENTS, i))
                .sum::<i64>(),
            PUBLIC_PAISE
        );
        assert_eq!(
            (0..PRIVATE_CLAIMS)
                .map(|i| share(PRIVATE_PAISE, PRIVATE_CLAIMS, i))
                .sum::<i64>(),
            PRIVATE_PAISE
        );
        assert_eq!(
            (PUBLIC_PAISE + PRIVATE_PAISE) / MONTHS,
            1_70_00_000_00,
            "₹1.70 crore a month"
        );
    }
}

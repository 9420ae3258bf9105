//! The claims service's demo history, imported as from the system a state
//! moves from, shaped by the published figures (DESIGN §1):
//!
//! - Durg remitted ₹1,97,90,06,000 (₹197.9 crore) of claims over the last three
//!   years, all hospitals together;
//! - its government hospitals treated 46,787 patients and claimed ₹15.84 crore
//!   in the last year, and now claim about ₹1.70 crore a month;
//! - Bihar's payments for a year, 32.9 % of them to hospitals in other states.
//!
//! `--scale full` loads every claim; the default loads a tenth of them with a
//! tenth of the money, so every figure is proportional. The figures printed
//! are computed by the claims service over what was imported.

use anyhow::Context;
use ayushman_domain::{Money, format_count};
use ayushman_platform::convert::{date_to_proto, today_in_india};
use ayushman_proto::{
    claims::v1::{
        ClaimsReportRequest, ImportClaimHistoryRequest, OutOfStateSpendReportRequest,
        claims_service_client::ClaimsServiceClient,
    },
    common::v1::{Ownership, YearMonth},
};
use chrono::{Datelike, Duration, NaiveDate};
use tonic::transport::Channel;

use super::beneficiaries::Scale;

/// What all Durg's hospitals were paid over [`MONTHS`], in paise (₹197.9 crore).
pub const DURG_PAISE: i64 = 1_97_90_06_000_00;
/// Patients of Durg's government hospitals in the last year.
pub const PUBLIC_PATIENTS: i64 = 46_787;
/// What those hospitals claimed in the last year, in paise (₹15.84 crore).
pub const PUBLIC_YEAR_PAISE: i64 = 15_84_00_000_00;
/// What they claim now, in the last month, in paise (₹1.70 crore).
pub const PUBLIC_MONTH_PAISE: i64 = 1_70_00_000_00;
/// Months of history.
pub const MONTHS: i64 = 36;
/// Claims at Durg's government hospitals in the two years before the last.
const PUBLIC_EARLIER_CLAIMS: i64 = 60_000;
/// What they were paid then, in paise.
const PUBLIC_EARLIER_PAISE: i64 = 22_00_00_000_00;
/// Claims at Durg's private hospitals over the three years.
const PRIVATE_CLAIMS: i64 = 40_000;
/// Bihar's paid claims over the last year...
const BIHAR_CLAIMS: i64 = 12_000;
/// ...and what they were paid, in paise (₹60 crore)...
const BIHAR_PAISE: i64 = 60_00_00_000_00;
/// ...of which this share, in basis points, went to hospitals in other states.
const BIHAR_OUT_OF_STATE_BASIS_POINTS: i64 = 3_290;

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
/// Where Bihar's patients are treated: in Bihar, and the states most go to.
const BIHAR_HOSPITALS_HOME: [&str; 2] = ["IN1030000001", "IN1027000001"];
const BIHAR_HOSPITALS_AWAY: [(&str, &str); 4] = [
    ("IN0710000001", "ONCOLOGY"),
    ("IN0910000001", "CARDIOLOGY"),
    ("IN1910000001", "NEPHROLOGY"),
    ("IN2710000001", "NEUROSURGERY"),
];
const SPECIALTIES: [&str; 4] = ["CARDIOLOGY", "GENERAL_SURGERY", "ONCOLOGY", "NEPHROLOGY"];

/// The months before the current one, oldest first.
fn months(count: i64) -> Vec<(i32, u32)> {
    let today = today_in_india();
    let mut month = (today.year(), today.month());
    let mut all = Vec::new();
    for _ in 0..count {
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

/// The government hospitals' last year, month by month: rising evenly to
/// [`PUBLIC_MONTH_PAISE`] in the last month and summing to [`PUBLIC_YEAR_PAISE`].
fn public_year_by_month(scale: i64) -> [i64; 12] {
    let (last, year) = (PUBLIC_MONTH_PAISE / scale, PUBLIC_YEAR_PAISE / scale);
    // a + 11d = last and 12a + 66d = year: d = (12 last - year) / 66.
    let step = (12 * last - year) / 66;
    let mut months = [0; 12];
    for (i, month) in months.iter_mut().enumerate() {
        *month = last - step * (11 - i as i64);
    }
    let spread: i64 = months.iter().sum();
    months[0] += year - spread;
    months
}

/// One imported claim.
struct Claim<'a> {
    legacy: String,
    hfr: &'a str,
    district: &'a str,
    public: bool,
    patient: String,
    payer_state: &'a str,
    specialty: &'a str,
    month: (i32, u32),
    day: i64,
    approved: i64,
}

impl Claim<'_> {
    fn request(self) -> ImportClaimHistoryRequest {
        // Submitted in the first half of the month and paid within the 15-day
        // turnaround in the same month: no penalty, and every payment falls in
        // the month the figures count it in.
        let submitted =
            NaiveDate::from_ymd_opt(self.month.0, self.month.1, 1 + (self.day % 14) as u32)
                .unwrap_or_default();
        let paid = submitted + Duration::days(5 + self.day % 10);
        let portability = !self.hfr[2..].starts_with(self.payer_state);
        ImportClaimHistoryRequest {
            legacy_claim_id: self.legacy,
            hfr_id: self.hfr.into(),
            district_code: self.district.into(),
            ownership: if self.public {
                Ownership::Public
            } else {
                Ownership::Private
            } as i32,
            patient_reference: self.patient,
            payer_scheme_code: "PMJAY".into(),
            payer_state_code: self.payer_state.into(),
            submitted_date: Some(date_to_proto(submitted)),
            claimed_amount_paise: if self.public {
                self.approved
            } else {
                self.approved + self.approved / 20
            },
            approved_amount_paise: self.approved,
            paid_date: Some(date_to_proto(paid)),
            portability_case: portability,
            specialty_code: self.specialty.into(),
        }
    }
}

/// Every claim of the history at `scale` (1 full, 10 a tenth).
fn history(scale: i64) -> Vec<ImportClaimHistoryRequest> {
    let all_months = months(MONTHS);
    let (earlier, last_year) = all_months.split_at((MONTHS - 12) as usize);
    let mut rows = Vec::new();
    // Government hospitals, last year: one claim per patient.
    let by_month = public_year_by_month(scale);
    let patients = PUBLIC_PATIENTS / scale;
    let per_month = patients / 12;
    for i in 0..patients {
        let m = ((i / per_month.max(1)).min(11)) as usize;
        let in_month = if m == 11 {
            patients - 11 * per_month
        } else {
            per_month
        };
        rows.push(Claim {
            legacy: format!("DRG-TMS-{i:06}"),
            hfr: PUBLIC_HOSPITALS[(i % 5) as usize],
            district: "22-387",
            public: true,
            patient: format!("DRG-PUB-{i:06}"),
            payer_state: "22",
            specialty: SPECIALTIES[(i % 4) as usize],
            month: last_year[m],
            day: i,
            approved: share(by_month[m], in_month, i - m as i64 * per_month),
        });
    }
    // Government hospitals, the two years before.
    let claims = PUBLIC_EARLIER_CLAIMS / scale;
    for i in 0..claims {
        rows.push(Claim {
            legacy: format!("DRG-TMS-E{i:06}"),
            hfr: PUBLIC_HOSPITALS[(i % 5) as usize],
            district: "22-387",
            public: true,
            patient: format!("DRG-PUB-E{i:06}"),
            payer_state: "22",
            specialty: SPECIALTIES[(i % 4) as usize],
            month: earlier[(i % earlier.len() as i64) as usize],
            day: i,
            approved: share(PUBLIC_EARLIER_PAISE / scale, claims, i),
        });
    }
    // Private hospitals, three years: the rest of Durg's ₹197.9 crore.
    let private = DURG_PAISE / scale - PUBLIC_YEAR_PAISE / scale - PUBLIC_EARLIER_PAISE / scale;
    let claims = PRIVATE_CLAIMS / scale;
    for i in 0..claims {
        rows.push(Claim {
            legacy: format!("DRG-TMS-P{i:06}"),
            hfr: PRIVATE_HOSPITALS[(i % 7) as usize],
            district: "22-387",
            public: false,
            patient: format!("DRG-PVT-{i:06}"),
            payer_state: "22",
            specialty: SPECIALTIES[(i % 4) as usize],
            month: all_months[(i % MONTHS) as usize],
            day: i,
            approved: share(private, claims, i),
        });
    }
    // Bihar, last year: 32.9 % of the money to other states' hospitals.
    let claims = BIHAR_CLAIMS / scale;
    let total = BIHAR_PAISE / scale;
    let away_total = total * BIHAR_OUT_OF_STATE_BASIS_POINTS / 10_000;
    let away_claims = claims * BIHAR_OUT_OF_STATE_BASIS_POINTS / 10_000;
    for i in 0..claims {
        let away = i < away_claims;
        let (hfr, specialty, amount) = if away {
            // Every month sends patients to each of the four states.
            let (hfr, specialty) = BIHAR_HOSPITALS_AWAY[((i / 12) % 4) as usize];
            (hfr, specialty, share(away_total, away_claims, i))
        } else {
            let j = i - away_claims;
            (
                BIHAR_HOSPITALS_HOME[(j % 2) as usize],
                SPECIALTIES[(j % 4) as usize],
                share(total - away_total, claims - away_claims, j),
            )
        };
        rows.push(Claim {
            legacy: format!("BR-TMS-{i:06}"),
            hfr,
            district: if away { "" } else { "10-230" },
            public: !away,
            patient: format!("BR-PT-{i:06}"),
            payer_state: "10",
            specialty,
            month: last_year[(i % 12) as usize],
            day: i,
            approved: amount,
        });
    }
    rows.into_iter()
        .map(|claim| {
            let district = if claim.district.is_empty() {
                format!("{}-000", &claim.hfr[2..4])
            } else {
                claim.district.to_owned()
            };
            let mut request = claim.request();
            request.district_code = district;
            request
        })
        .collect()
}

/// What the claims seed wrote, and the figures the claims service computes.
pub struct Summary {
    pub imported: i64,
    pub rows: i64,
    pub scale: &'static str,
    pub durg_three_years: Money,
    pub public_patients: i64,
    pub public_year: Money,
    pub public_last_month: Money,
    pub bihar_out_of_state_basis_points: i32,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "claims: {} paid claims ({} new, {}): Durg {} over 36 months; its government hospitals {} patients and {} in the last year, {} last month; Bihar paid {}.{} % to other states",
            format_count(self.rows),
            format_count(self.imported),
            self.scale,
            self.durg_three_years,
            format_count(self.public_patients),
            self.public_year,
            self.public_last_month,
            self.bihar_out_of_state_basis_points / 100,
            (self.bihar_out_of_state_basis_points % 100) / 10
        )
    }
}

fn year_month((year, month): (i32, u32)) -> YearMonth {
    YearMonth {
        year,
        month: month as i32,
    }
}

/// Imports the history into the claims service at `client`.
pub async fn seed(
    client: &mut ClaimsServiceClient<Channel>,
    scale: Scale,
) -> anyhow::Result<Summary> {
    let (divisor, label) = match scale {
        Scale::Full => (1, "Durg's and Bihar's in full"),
        Scale::Small => (10, "a tenth of Durg's and Bihar's"),
    };
    let rows = history(divisor);
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
    let all = months(MONTHS);
    let report = |from: (i32, u32), ownership: Ownership| ClaimsReportRequest {
        district_code: "22-387".into(),
        from_month: Some(year_month(from)),
        to_month: Some(year_month(all[all.len() - 1])),
        ownership: ownership as i32,
        ..Default::default()
    };
    let total = |request| {
        let mut client = client.clone();
        async move {
            client
                .claims_report(request)
                .await
                .context("claims report")?
                .into_inner()
                .total
                .context("total")
        }
    };
    let durg = total(report(all[0], Ownership::Unspecified)).await?;
    let year = total(report(all[all.len() - 12], Ownership::Public)).await?;
    let month = total(report(all[all.len() - 1], Ownership::Public)).await?;
    let bihar = client
        .out_of_state_spend_report(OutOfStateSpendReportRequest {
            home_state_code: "10".into(),
            from_month: Some(year_month(all[all.len() - 12])),
            to_month: Some(year_month(all[all.len() - 1])),
            ..Default::default()
        })
        .await
        .context("out-of-state spend")?
        .into_inner();
    let (paid, away) = bihar.months.iter().fold((0_i64, 0_i64), |(p, a), m| {
        (p + m.total_paid_paise, a + m.out_of_state_paid_paise)
    });
    Ok(Summary {
        imported: reply.imported,
        rows: reply.rows_received,
        scale: label,
        durg_three_years: Money::from_paise(durg.paid_paise),
        public_patients: year.patients,
        public_year: Money::from_paise(year.approved_paise),
        public_last_month: Money::from_paise(month.approved_paise),
        bihar_out_of_state_basis_points: if paid > 0 {
            i32::try_from(away * 10_000 / paid).unwrap_or_default()
        } else {
            0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paise(
        rows: &[ImportClaimHistoryRequest],
        keep: impl Fn(&ImportClaimHistoryRequest) -> bool,
    ) -> i64 {
        rows.iter()
            .filter(|r| keep(r))
            .map(|r| r.approved_amount_paise)
            .sum()
    }

    #[test]
    fn the_full_history_adds_up_to_the_published_figures() {
        let rows = history(1);
        let durg = |r: &ImportClaimHistoryRequest| r.district_code == "22-387";
        assert_eq!(
            paise(&rows, durg),
            DURG_PAISE,
            "₹197.9 crore over three years"
        );
        let by_month = public_year_by_month(1);
        assert_eq!(
            by_month.iter().sum::<i64>(),
            PUBLIC_YEAR_PAISE,
            "₹15.84 crore"
        );
        assert_eq!(by_month[11], PUBLIC_MONTH_PAISE, "₹1.70 crore last month");
        assert!(
            by_month.windows(2).all(|w| w[0] <= w[1]),
            "rising: {by_month:?}"
        );
        let bihar = |r: &ImportClaimHistoryRequest| r.payer_state_code == "10";
        let away = |r: &ImportClaimHistoryRequest| bihar(r) && r.portability_case;
        assert_eq!(
            paise(&rows, away) * 10_000 / paise(&rows, bihar),
            BIHAR_OUT_OF_STATE_BASIS_POINTS
        );
    }

    #[test]
    fn the_small_history_is_a_tenth_of_it() {
        let rows = history(10);
        let durg = |r: &ImportClaimHistoryRequest| r.district_code == "22-387";
        assert_eq!(paise(&rows, durg), DURG_PAISE / 10);
        assert_eq!(
            rows.iter()
                .filter(
                    |r| r.legacy_claim_id.starts_with("DRG-TMS-") && r.legacy_claim_id.len() == 14
                )
                .count() as i64,
            PUBLIC_PATIENTS / 10
        );
    }
}

//! Packages from a CSV, one UpsertPackage call per row.

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tonic::transport::Channel;

use super::{Outcome, Reject, rejects_of};

/// One row of a package CSV.
#[derive(Debug, serde::Deserialize)]
struct PackageRow {
    package_code: String,
    name: String,
    specialty_code: String,
    /// Rupees.
    base_rate_rupees: i64,
    #[serde(default)]
    reserved_for_public: bool,
    #[serde(default)]
    expected_stay_days: i32,
    /// `22:85000;08:94500` — state code and rate in rupees, separated by semicolons.
    #[serde(default)]
    state_rates: String,
}

fn package_request(
    row: PackageRow,
) -> Result<ayushman_proto::preauth::v1::UpsertPackageRequest, (String, String)> {
    use ayushman_proto::preauth::v1 as p;
    let mut state_rates = Vec::new();
    for pair in row.state_rates.split(';').filter(|s| !s.trim().is_empty()) {
        let (state, rupees) = pair.split_once(':').ok_or_else(|| {
            (
                "state_rates".to_owned(),
                format!("{pair:?} is not STATE:RUPEES"),
            )
        })?;
        let rupees: i64 = rupees.trim().parse().map_err(|_| {
            (
                "state_rates".to_owned(),
                format!("{pair:?} is not STATE:RUPEES"),
            )
        })?;
        state_rates.push(p::StateRate {
            state_code: state.trim().into(),
            rate_paise: rupees * 100,
        });
    }
    Ok(p::UpsertPackageRequest {
        idempotency_key: format!(
            "import-package-{}-{}",
            row.package_code.trim().to_ascii_uppercase(),
            row.base_rate_rupees
        ),
        package: Some(p::Package {
            package_code: row.package_code,
            name: row.name,
            specialty_code: row.specialty_code,
            base_rate_paise: row.base_rate_rupees * 100,
            state_rates,
            reserved_for_public: row.reserved_for_public,
            add_ons: Vec::new(),
            expected_stay_days: row.expected_stay_days,
            active: true,
        }),
    })
}

/// Imports a package CSV (header: package_code,name,specialty_code,base_rate_rupees,
/// reserved_for_public,expected_stay_days,state_rates) into the catalogue.
pub async fn packages(
    client: ayushman_proto::preauth::v1::preauth_service_client::PreauthServiceClient<Channel>,
    path: &Path,
) -> anyhow::Result<Outcome> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rejects = Vec::new();
    let mut requests = Vec::new();
    for (index, record) in reader.deserialize::<PackageRow>().enumerate() {
        match record
            .map_err(|e| (String::new(), e.to_string()))
            .and_then(package_request)
        {
            Ok(request) => requests.push((index + 1, request)),
            Err((field, reason)) => rejects.push(Reject {
                row: index + 1,
                field,
                reason,
            }),
        }
    }
    let rows = requests.len() + rejects.len();
    let progress = ProgressBar::new(rows as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}")
            .context("progress template")?,
    );
    progress.inc(rejects.len() as u64);
    let mut registered = 0;
    for (row, request) in requests {
        let mut client = client.clone();
        match client.upsert_package(request).await {
            Ok(_) => registered += 1,
            Err(status) => rejects.extend(rejects_of(row, &status).into_iter().map(|r| Reject {
                field: r.field.trim_start_matches("package.").to_owned(),
                ..r
            })),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    rejects.sort_by_key(|r| r.row);
    Ok(Outcome {
        rows,
        registered,
        rejects,
    })
}

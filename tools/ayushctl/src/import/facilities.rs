//! Facilities from a CSV, one RegisterFacility call per row.

use std::{path::Path, time::Duration};

use anyhow::Context;
use ayushman_proto::{
    common::v1::{Location, Ownership},
    facility::v1::{self as pb, facility_registry_service_client::FacilityRegistryServiceClient},
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tonic::transport::Channel;

use super::{IN_FLIGHT, Outcome, Reject, parse_enum, rejects_of};

/// One row of the facilities CSV (header names are the field names).
#[derive(Debug, serde::Deserialize)]
struct FacilityRow {
    hfr_id: String,
    name: String,
    /// e.g. DISTRICT_HOSPITAL, COMMUNITY_HEALTH_CENTRE, PRIVATE_HOSPITAL.
    facility_type: String,
    /// PUBLIC or PRIVATE.
    ownership: String,
    state_code: String,
    district_code: String,
    #[serde(default)]
    block_code: String,
    beds: i32,
    #[serde(default)]
    abdm_enabled: bool,
    #[serde(default)]
    society_name: String,
    #[serde(default)]
    society_account_id: String,
}

fn to_request(row: FacilityRow) -> Result<pb::RegisterFacilityRequest, (String, String)> {
    let facility_type = parse_enum(
        "FACILITY_TYPE_",
        &row.facility_type,
        pb::FacilityType::from_str_name,
    )
    .ok_or_else(|| {
        (
            "facility_type".to_owned(),
            format!(
                "{:?} is not a facility type (e.g. DISTRICT_HOSPITAL)",
                row.facility_type
            ),
        )
    })?;
    let ownership =
        parse_enum("OWNERSHIP_", &row.ownership, Ownership::from_str_name).ok_or_else(|| {
            (
                "ownership".to_owned(),
                format!("{:?} is not PUBLIC or PRIVATE", row.ownership),
            )
        })?;
    Ok(pb::RegisterFacilityRequest {
        idempotency_key: format!("import-facility-{}", row.hfr_id.trim().to_ascii_uppercase()),
        facility: Some(pb::Facility {
            hfr_id: row.hfr_id,
            name: row.name,
            facility_type: facility_type as i32,
            ownership: ownership as i32,
            location: Some(Location {
                state_code: row.state_code,
                district_code: row.district_code,
                block_code: row.block_code,
                village_code: String::new(),
            }),
            beds: row.beds,
            abdm_enabled: row.abdm_enabled,
            society_name: row.society_name,
            society_account_id: row.society_account_id,
            ..Default::default()
        }),
    })
}

/// Imports `path` into the registry at `client`.
pub async fn facilities(
    client: FacilityRegistryServiceClient<Channel>,
    path: &Path,
) -> anyhow::Result<Outcome> {
    let rows = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .records()
        .count();
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let progress = ProgressBar::new(rows as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}  {msg}")
            .context("progress template")?,
    );
    progress.enable_steady_tick(Duration::from_millis(200));

    let mut rejects = Vec::new();
    let mut requests = Vec::with_capacity(rows);
    for (index, record) in reader.deserialize::<FacilityRow>().enumerate() {
        let row = index + 1;
        match record
            .map_err(|e| (String::new(), e.to_string()))
            .and_then(to_request)
        {
            Ok(request) => requests.push((row, request)),
            Err((field, reason)) => {
                progress.inc(1);
                rejects.push(Reject { row, field, reason });
            }
        }
    }
    let results: Vec<_> = futures::stream::iter(requests)
        .map(|(row, request)| {
            let mut client = client.clone();
            let progress = progress.clone();
            async move {
                let result = client.register_facility(request).await;
                progress.inc(1);
                (row, result)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    progress.finish_and_clear();
    let mut registered = 0;
    for (row, result) in results {
        match result {
            Ok(_) => registered += 1,
            Err(status) => rejects.extend(rejects_of(row, &status)),
        }
    }
    rejects.sort_by_key(|r| r.row);
    Ok(Outcome {
        rows,
        registered,
        rejects,
    })
}

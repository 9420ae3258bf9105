//! An eligibility list from a CSV, streamed to ImportEligibility.

use std::{path::Path, time::Duration};

use anyhow::Context;
use ayushman_proto::common::v1::Location;
use indicatif::{ProgressBar, ProgressStyle};
use tonic::transport::Channel;

use super::parse_enum;

/// One row of an eligibility CSV (header names are the field names).
#[derive(Debug, serde::Deserialize)]
struct EligibilityCsvRow {
    /// SECC, NFSA or STATE_LIST.
    source_list: String,
    family_id: String,
    member_name: String,
    /// FEMALE, MALE or TRANSGENDER.
    gender: String,
    year_of_birth: i32,
    /// HEAD, SPOUSE, SON, DAUGHTER, ...
    relation: String,
    state_code: String,
    district_code: String,
    #[serde(default)]
    block_code: String,
    #[serde(default)]
    village_code: String,
    eligibility_category: String,
    #[serde(default)]
    aadhaar: String,
    #[serde(default)]
    existing_card_number: String,
}

fn eligibility_row(row: EligibilityCsvRow) -> ayushman_proto::beneficiary::v1::EligibilityRow {
    use ayushman_proto::{beneficiary::v1 as b, common::v1::Gender};
    // Unknown words become UNSPECIFIED, which the registry rejects naming the field.
    b::EligibilityRow {
        card_issued_on: None,
        source_list: parse_enum(
            "SOURCE_LIST_",
            &row.source_list,
            b::SourceList::from_str_name,
        )
        .unwrap_or_default() as i32,
        family_id: row.family_id,
        member_name: row.member_name,
        gender: parse_enum("GENDER_", &row.gender, Gender::from_str_name).unwrap_or_default()
            as i32,
        year_of_birth: row.year_of_birth,
        relation: parse_enum("RELATION_", &row.relation, b::Relation::from_str_name)
            .unwrap_or_default() as i32,
        location: Some(Location {
            state_code: row.state_code,
            district_code: row.district_code,
            block_code: row.block_code,
            village_code: row.village_code,
        }),
        eligibility_category: row.eligibility_category,
        aadhaar: row.aadhaar,
        existing_card_number: row.existing_card_number,
    }
}

/// Streams an eligibility CSV to the registry without holding it in memory: a
/// reader thread parses rows into a bounded channel that feeds the gRPC stream.
/// Rows the CSV parser cannot read are sent as empty rows so the registry
/// reports them under their row numbers.
pub async fn eligibility(
    mut client: ayushman_proto::beneficiary::v1::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient<Channel>,
    path: &Path,
) -> anyhow::Result<ayushman_proto::beneficiary::v1::ImportEligibilityResponse> {
    use ayushman_proto::beneficiary::v1::{
        ImportEligibilityRequest, ImportHeader, import_eligibility_request::Item,
    };
    let rows = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .records()
        .count();
    let contents_key = {
        let metadata = std::fs::metadata(path)?;
        format!(
            "import-{}-{}-{:?}",
            path.display(),
            metadata.len(),
            metadata.modified().ok()
        )
    };
    let progress = ProgressBar::new(rows as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}")
            .context("progress template")?,
    );
    progress.enable_steady_tick(Duration::from_millis(200));
    let (sender, receiver) = tokio::sync::mpsc::channel::<ImportEligibilityRequest>(1_000);
    let header = ImportHeader {
        idempotency_key: contents_key,
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        actor: None,
    };
    sender
        .send(ImportEligibilityRequest {
            item: Some(Item::Header(header)),
        })
        .await
        .context("start the stream")?;
    let reader_path = path.to_owned();
    let reader_progress = progress.clone();
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut reader = csv::Reader::from_path(&reader_path)?;
        for record in reader.deserialize::<EligibilityCsvRow>() {
            let row = record.map(eligibility_row).unwrap_or_default();
            if sender
                .blocking_send(ImportEligibilityRequest {
                    item: Some(Item::Row(row)),
                })
                .is_err()
            {
                break;
            }
            reader_progress.inc(1);
        }
        Ok(())
    });
    let reply = client
        .import_eligibility(crate::streaming(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        ))
        .await
        .map_err(|status| anyhow::anyhow!("import refused: {}", status.message()))?
        .into_inner();
    reader.await.context("CSV reader")??;
    progress.finish_and_clear();
    Ok(reply)
}

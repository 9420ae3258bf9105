//! The masters of card drives from CSV files: areas (`import-locations`),
//! card logins (`import-operators`) and mobilisers (`import-mobilisers`),
//! sent in batches to the registry's Upsert* RPCs. Batches go one after
//! another, so an area's parent in an earlier row is stored before it.

use std::{future::Future, hash::Hasher, path::Path, time::Duration};

use anyhow::Context;
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    common::v1::RowReject,
};
use indicatif::{ProgressBar, ProgressStyle};
use prost::Message;
use tonic::transport::Channel;

use super::{Outcome, Reject, parse_enum};

/// Rows sent per call.
const BATCH: usize = 1_000;

/// What one batch did: rows stored, and the rows refused (numbered within the batch).
struct BatchReply {
    stored: usize,
    rejects: Vec<RowReject>,
}

/// A key naming a batch's content, so importing a file again writes nothing new.
fn content_key<M: Message>(what: &str, items: &[M]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for item in items {
        hasher.write(&item.encode_to_vec());
    }
    format!("import-{what}-{:016x}", hasher.finish())
}

/// The rows of a CSV, each read as `R` and turned into `T` with its row
/// number, or the rows that cannot be.
fn csv_rows<R, T>(
    csv_text: impl std::io::Read,
    to_item: fn(R) -> Result<T, (String, String)>,
) -> (Vec<(usize, T)>, Vec<Reject>)
where
    R: serde::de::DeserializeOwned,
{
    let (mut items, mut rejects) = (Vec::new(), Vec::new());
    for (index, record) in csv::Reader::from_reader(csv_text)
        .deserialize::<R>()
        .enumerate()
    {
        match record
            .map_err(|e| (String::new(), e.to_string()))
            .and_then(to_item)
        {
            Ok(item) => items.push((index + 1, item)),
            Err((field, reason)) => rejects.push(Reject {
                row: index + 1,
                field,
                reason,
            }),
        }
    }
    (items, rejects)
}

/// Reads `path` as CSV rows of `R`, turns each into `T` (or a reject), and
/// sends them in batches through `send`; rejects carry the file's row numbers.
async fn in_batches<R, T, F, Fut>(
    path: &Path,
    to_item: fn(R) -> Result<T, (String, String)>,
    mut send: F,
) -> anyhow::Result<Outcome>
where
    R: serde::de::DeserializeOwned,
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<BatchReply, tonic::Status>>,
{
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (items, mut rejects) = csv_rows(file, to_item);
    let rows = items.len() + rejects.len();
    let progress = ProgressBar::new(rows as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}")
            .context("progress template")?,
    );
    progress.enable_steady_tick(Duration::from_millis(200));
    progress.inc(rejects.len() as u64);
    let mut stored = 0;
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let (numbers, batch): (Vec<usize>, Vec<T>) = items.by_ref().take(BATCH).unzip();
        let size = batch.len() as u64;
        let reply = send(batch).await.map_err(|status| {
            anyhow::anyhow!("the registry refused a batch: {}", status.message())
        })?;
        stored += reply.stored;
        rejects.extend(reply.rejects.into_iter().map(|r| {
            Reject {
                row: usize::try_from(r.row_number)
                    .ok()
                    .and_then(|n| numbers.get(n.wrapping_sub(1)))
                    .copied()
                    .unwrap_or_default(),
                field: r.field,
                reason: r.reason,
            }
        }));
        progress.inc(size);
    }
    progress.finish_and_clear();
    rejects.sort_by_key(|r| r.row);
    Ok(Outcome {
        rows,
        registered: stored,
        rejects,
    })
}

type Client = BeneficiaryRegistryServiceClient<Channel>;

/// A master row the registry takes in batches.
trait MasterRow: Message + Sized + 'static {
    /// What the rows are, for the batch's idempotency key.
    const WHAT: &'static str;

    /// Sends a batch; the rows refused, numbered within it.
    fn send(
        client: Client,
        idempotency_key: String,
        batch: Vec<Self>,
    ) -> impl Future<Output = Result<Vec<RowReject>, tonic::Status>>;
}

impl MasterRow for pb::Area {
    const WHAT: &'static str = "areas";

    async fn send(
        mut client: Client,
        idempotency_key: String,
        areas: Vec<Self>,
    ) -> Result<Vec<RowReject>, tonic::Status> {
        let request = pb::UpsertAreasRequest {
            idempotency_key,
            areas,
        };
        Ok(client.upsert_areas(request).await?.into_inner().rejects)
    }
}

impl MasterRow for pb::Operator {
    const WHAT: &'static str = "operators";

    async fn send(
        mut client: Client,
        idempotency_key: String,
        operators: Vec<Self>,
    ) -> Result<Vec<RowReject>, tonic::Status> {
        let request = pb::UpsertOperatorsRequest {
            idempotency_key,
            operators,
        };
        Ok(client.upsert_operators(request).await?.into_inner().rejects)
    }
}

impl MasterRow for pb::Mobiliser {
    const WHAT: &'static str = "mobilisers";

    async fn send(
        mut client: Client,
        idempotency_key: String,
        mobilisers: Vec<Self>,
    ) -> Result<Vec<RowReject>, tonic::Status> {
        let request = pb::UpsertMobilisersRequest {
            idempotency_key,
            mobilisers,
        };
        Ok(client
            .upsert_mobilisers(request)
            .await?
            .into_inner()
            .rejects)
    }
}

/// Imports a CSV of a master's rows, each read as `R` and turned into `T`.
async fn import_master<R, T>(
    client: Client,
    path: &Path,
    to_item: fn(R) -> Result<T, (String, String)>,
) -> anyhow::Result<Outcome>
where
    R: serde::de::DeserializeOwned,
    T: MasterRow,
{
    in_batches(path, to_item, |batch: Vec<T>| {
        let client = client.clone();
        async move {
            let size = batch.len();
            let rejects = T::send(client, content_key(T::WHAT, &batch), batch).await?;
            Ok(BatchReply {
                stored: stored(size, &rejects),
                rejects,
            })
        }
    })
    .await
}

/// Rows of a batch of `size` stored: all but those refused.
fn stored(size: usize, rejects: &[RowReject]) -> usize {
    let mut refused: Vec<i64> = rejects.iter().map(|r| r.row_number).collect();
    refused.dedup();
    size - refused.len()
}

/// One row of a locations CSV.
#[derive(Debug, serde::Deserialize)]
struct AreaRow {
    code: String,
    /// DISTRICT, SUB_DIVISION, BLOCK or VILLAGE.
    level: String,
    name: String,
    #[serde(default)]
    parent_code: String,
}

fn area_of(row: AreaRow) -> Result<pb::Area, (String, String)> {
    let level = parse_enum("AREA_LEVEL_", &row.level, pb::AreaLevel::from_str_name)
        .filter(|l| *l != pb::AreaLevel::Unspecified)
        .ok_or_else(|| {
            (
                "level".to_owned(),
                format!(
                    "{:?} is not DISTRICT, SUB_DIVISION, BLOCK or VILLAGE",
                    row.level
                ),
            )
        })?;
    Ok(pb::Area {
        code: row.code,
        level: level as i32,
        name: row.name,
        parent_code: row.parent_code,
    })
}

/// The areas of a locations CSV (header: code,level,name,parent_code), each
/// with its row number, or the rows that cannot be read.
pub fn area_rows(csv_text: impl std::io::Read) -> (Vec<(usize, pb::Area)>, Vec<Reject>) {
    csv_rows(csv_text, area_of)
}

/// Imports a locations CSV (header: code,level,name,parent_code), parents first.
pub async fn areas(client: Client, path: &Path) -> anyhow::Result<Outcome> {
    import_master(client, path, area_of).await
}

/// One row of an operators CSV.
#[derive(Debug, serde::Deserialize)]
struct OperatorRow {
    login_id: String,
    name: String,
    /// CHOICE_CENTRE, CSC or OTHER.
    kind: String,
    #[serde(default)]
    centre_id: String,
    district_code: String,
    #[serde(default)]
    block_code: String,
    /// ACTIVE or INACTIVE.
    status: String,
    /// Whole rupees; 0 or empty when cards are free.
    #[serde(default)]
    fee_per_card_rupees: i64,
}

fn operator_of(row: OperatorRow) -> Result<pb::Operator, (String, String)> {
    let kind = parse_enum("OPERATOR_KIND_", &row.kind, pb::OperatorKind::from_str_name)
        .filter(|k| *k != pb::OperatorKind::Unspecified)
        .ok_or_else(|| {
            (
                "kind".to_owned(),
                format!("{:?} is not CHOICE_CENTRE, CSC or OTHER", row.kind),
            )
        })?;
    let status = parse_enum(
        "OPERATOR_STATUS_",
        &row.status,
        pb::OperatorStatus::from_str_name,
    )
    .filter(|s| *s != pb::OperatorStatus::Unspecified)
    .ok_or_else(|| {
        (
            "status".to_owned(),
            format!("{:?} is not ACTIVE or INACTIVE", row.status),
        )
    })?;
    Ok(pb::Operator {
        login_id: row.login_id,
        name: row.name,
        kind: kind as i32,
        centre_id: row.centre_id,
        district_code: row.district_code,
        block_code: row.block_code,
        status: status as i32,
        fee_per_card_paise: row.fee_per_card_rupees.saturating_mul(100),
        updated_at: None,
    })
}

/// Imports an operators CSV (header: login_id,name,kind,centre_id,
/// district_code,block_code,status,fee_per_card_rupees).
pub async fn operators(client: Client, path: &Path) -> anyhow::Result<Outcome> {
    import_master(client, path, operator_of).await
}

/// One row of a mobilisers CSV.
#[derive(Debug, serde::Deserialize)]
struct MobiliserRow {
    mobiliser_id: String,
    name: String,
    #[serde(default)]
    group_name: String,
    district_code: String,
    #[serde(default)]
    block_code: String,
    /// true unless given as false.
    #[serde(default = "active_by_default")]
    active: bool,
}

fn active_by_default() -> bool {
    true
}

fn mobiliser_of(row: MobiliserRow) -> Result<pb::Mobiliser, (String, String)> {
    Ok(pb::Mobiliser {
        mobiliser_id: row.mobiliser_id,
        name: row.name,
        group_name: row.group_name,
        district_code: row.district_code,
        block_code: row.block_code,
        active: row.active,
    })
}

/// Imports a mobilisers CSV (header: mobiliser_id,name,group_name,
/// district_code,block_code,active).
pub async fn mobilisers(client: Client, path: &Path) -> anyhow::Result<Outcome> {
    import_master(client, path, mobiliser_of).await
}

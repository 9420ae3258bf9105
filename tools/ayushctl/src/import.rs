//! `ayushctl import*`: eligibility lists, facilities, packages and schemes from
//! CSV files, through the services' own RPCs, with progress and a list of
//! rejected rows naming the field.

use std::{path::Path, time::Duration};

use anyhow::Context;
use ayushman_proto::{
    beneficiary::v1::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    common::v1::{Location, Ownership},
    facility::v1::{self as pb, facility_registry_service_client::FacilityRegistryServiceClient},
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tonic::transport::Channel;

/// Calls in flight at once: enough to hide the round trip, few enough to be gentle.
const IN_FLIGHT: usize = 8;

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

/// A row that was not registered, and why.
pub struct Reject {
    pub row: usize,
    pub field: String,
    pub reason: String,
}

/// What an import did.
pub struct Outcome {
    pub rows: usize,
    pub registered: usize,
    pub rejects: Vec<Reject>,
}

impl Outcome {
    /// Prints the counts (`verb` says what happened to good rows) and each
    /// reject; an error when any row was rejected.
    pub fn print(&self, verb: &str) -> anyhow::Result<()> {
        let rejected = self.rows - self.registered;
        println!(
            "{} rows: {} {verb}, {rejected} rejected",
            self.rows, self.registered
        );
        for reject in &self.rejects {
            println!("  row {}: {} {}", reject.row, reject.field, reject.reason);
        }
        anyhow::ensure!(
            rejected == 0,
            "{rejected} of {} rows were not imported",
            self.rows
        );
        Ok(())
    }
}

fn parse_enum<E>(prefix: &str, text: &str, from_name: impl Fn(&str) -> Option<E>) -> Option<E> {
    let upper = text.trim().to_ascii_uppercase();
    from_name(&upper).or_else(|| from_name(&format!("{prefix}{upper}")))
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

fn rejects_of(row: usize, status: &tonic::Status) -> Vec<Reject> {
    use tonic_types::StatusExt;
    match status.get_details_bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => bad
            .field_violations
            .into_iter()
            .map(|v| Reject {
                row,
                field: v.field.trim_start_matches("facility.").to_owned(),
                reason: v.description,
            })
            .collect(),
        _ => vec![Reject {
            row,
            field: String::new(),
            reason: status.message().to_owned(),
        }],
    }
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

/// One row of a scheme CSV; lists are separated by semicolons.
#[derive(Debug, serde::Deserialize)]
struct SchemeRow {
    scheme_code: String,
    name: String,
    /// CENTRAL or STATE.
    sponsor: String,
    #[serde(default)]
    state_code: String,
    /// FAMILY_FLOATER, SENIOR_TOP_UP or PERSONAL.
    cover_kind: String,
    /// Per family (per person for a personal cover) per policy year.
    cover_rupees: i64,
    /// `MM-DD`, e.g. `04-01`.
    policy_year_start: String,
    #[serde(default)]
    eligibility_categories: String,
    /// `NFSA:22;SECC`: a list, and the state whose rows it takes (none for every state).
    #[serde(default)]
    enrolments: String,
    #[serde(default)]
    portability_allowed: bool,
    #[serde(default)]
    tops_up_scheme_code: String,
    #[serde(default)]
    minimum_age_years: i32,
    draw_order: i32,
    #[serde(default)]
    reserved_package_codes: String,
    #[serde(default)]
    network_scheme_code: String,
}

fn semicolon_list(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn scheme_of(row: SchemeRow) -> Result<ayushman_proto::beneficiary::v1::Scheme, (String, String)> {
    use ayushman_proto::{beneficiary::v1 as b, google::r#type::Date};
    let invalid = |field: &str, reason: String| (field.to_owned(), reason);
    let sponsor = parse_enum(
        "SCHEME_SPONSOR_",
        &row.sponsor,
        b::SchemeSponsor::from_str_name,
    )
    .ok_or_else(|| {
        invalid(
            "sponsor",
            format!("{:?} is not CENTRAL or STATE", row.sponsor),
        )
    })?;
    let cover_kind = parse_enum("COVER_KIND_", &row.cover_kind, b::CoverKind::from_str_name)
        .ok_or_else(|| {
            invalid(
                "cover_kind",
                format!(
                    "{:?} is not FAMILY_FLOATER, SENIOR_TOP_UP or PERSONAL",
                    row.cover_kind
                ),
            )
        })?;
    let (month, day) = row
        .policy_year_start
        .trim()
        .split_once('-')
        .and_then(|(m, d)| Some((m.parse().ok()?, d.parse().ok()?)))
        .ok_or_else(|| {
            invalid(
                "policy_year_start",
                format!("{:?} is not MM-DD, e.g. 04-01", row.policy_year_start),
            )
        })?;
    let enrolments = semicolon_list(&row.enrolments)
        .iter()
        .map(|entry| {
            let (list, state) = entry.split_once(':').unwrap_or((entry, ""));
            parse_enum("SOURCE_LIST_", list, b::SourceList::from_str_name)
                .map(|source| b::Enrolment {
                    source_list: source as i32,
                    state_code: state.trim().to_owned(),
                })
                .ok_or_else(|| {
                    invalid(
                        "enrolments",
                        format!("{list:?} is not SECC, NFSA, STATE_LIST or AGE_70_PLUS"),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(b::Scheme {
        scheme_code: row.scheme_code,
        name: row.name,
        sponsor: sponsor as i32,
        state_code: row.state_code,
        cover_kind: cover_kind as i32,
        cover_per_family_paise: row.cover_rupees.saturating_mul(100),
        policy_year_start: Some(Date {
            year: 0,
            month,
            day,
        }),
        eligibility_categories: semicolon_list(&row.eligibility_categories),
        portability_allowed: row.portability_allowed,
        tops_up_scheme_code: row.tops_up_scheme_code,
        minimum_age_years: row.minimum_age_years,
        draw_order: row.draw_order,
        enrolments,
        reserved_package_codes: semicolon_list(&row.reserved_package_codes),
        network_scheme_code: row.network_scheme_code,
        status: ayushman_proto::beneficiary::v1::SchemeStatus::Active as i32,
    })
}

/// The schemes of a CSV (header: scheme_code,name,sponsor,state_code,cover_kind,
/// cover_rupees,policy_year_start,eligibility_categories,enrolments,
/// portability_allowed,tops_up_scheme_code,minimum_age_years,draw_order,
/// reserved_package_codes,network_scheme_code), each with its row number, or
/// the rows that cannot be read.
pub fn scheme_rows(
    csv_text: impl std::io::Read,
) -> (
    Vec<(usize, ayushman_proto::beneficiary::v1::Scheme)>,
    Vec<Reject>,
) {
    let (mut schemes, mut rejects) = (Vec::new(), Vec::new());
    for (index, record) in csv::Reader::from_reader(csv_text)
        .deserialize::<SchemeRow>()
        .enumerate()
    {
        match record
            .map_err(|e| (String::new(), e.to_string()))
            .and_then(scheme_of)
        {
            Ok(scheme) => schemes.push((index + 1, scheme)),
            Err((field, reason)) => rejects.push(Reject {
                row: index + 1,
                field,
                reason,
            }),
        }
    }
    (schemes, rejects)
}

/// Creates `scheme`, or changes it to this when it exists. The keys name the
/// content, so importing the same file twice writes nothing new.
pub async fn upsert_scheme(
    client: &mut BeneficiaryRegistryServiceClient<Channel>,
    scheme: ayushman_proto::beneficiary::v1::Scheme,
) -> Result<(), tonic::Status> {
    use ayushman_proto::beneficiary::v1::{CreateSchemeRequest, UpdateSchemeRequest};
    use prost::Message;
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    scheme.encode_to_vec().hash(&mut hasher);
    let key = format!(
        "import-scheme-{}-{:016x}",
        scheme.scheme_code,
        hasher.finish()
    );
    let created = client
        .create_scheme(CreateSchemeRequest {
            idempotency_key: key.clone(),
            scheme: Some(scheme.clone()),
        })
        .await;
    match created {
        Err(status) if status.code() == tonic::Code::AlreadyExists => client
            .update_scheme(UpdateSchemeRequest {
                idempotency_key: format!("{key}-update"),
                scheme: Some(scheme),
            })
            .await
            .map(drop),
        other => other.map(drop),
    }
}

/// Imports a scheme CSV into the registry's scheme master.
pub async fn schemes(
    mut client: BeneficiaryRegistryServiceClient<Channel>,
    path: &Path,
) -> anyhow::Result<Outcome> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (schemes, mut rejects) = scheme_rows(file);
    let rows = schemes.len() + rejects.len();
    let mut registered = 0;
    for (row, scheme) in schemes {
        match upsert_scheme(&mut client, scheme).await {
            Ok(()) => registered += 1,
            Err(status) => rejects.extend(rejects_of(row, &status).into_iter().map(|r| Reject {
                field: r.field.trim_start_matches("scheme.").to_owned(),
                ..r
            })),
        }
    }
    rejects.sort_by_key(|r| r.row);
    Ok(Outcome {
        rows,
        registered,
        rejects,
    })
}

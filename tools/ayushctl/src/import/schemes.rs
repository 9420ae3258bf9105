//! Schemes from a CSV, created or changed one by one.

use std::path::Path;

use anyhow::Context;
use ayushman_proto::beneficiary::v1::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient;
use tonic::transport::Channel;

use super::{Outcome, Reject, parse_enum, rejects_of, semicolon_list};

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

//! Synthetic people for the benchmarks: a Saran-like district of families of
//! five, every one carded, streamed without ever being held in memory.

use std::{io::Write, path::Path, time::Instant};

use anyhow::Context;
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        import_eligibility_request::Item,
    },
    common::v1::{Gender, Location},
};
use tonic::transport::Channel;

/// The district the benchmark's people live in (Saran's code).
pub const DISTRICT: &str = "10-230";
/// First names of the benchmark's people, for name searches.
pub const FIRST_NAMES: [&str; 16] = [
    "sunita", "ramesh", "geeta", "mohan", "kamla", "suresh", "rekha", "dinesh", "anita", "raju",
    "savitri", "bhola", "lalita", "manoj", "pushpa", "vijay",
];

/// The card number of person `i`.
pub fn card(i: u64) -> String {
    format!("BENCH-{i:09}")
}

/// Person `i`: family `i / 5`, member `i % 5`.
pub fn row(i: u64) -> pb::EligibilityRow {
    let family = i / 5;
    pb::EligibilityRow {
        card_issued_on: None,
        source_list: pb::SourceList::Secc as i32,
        family_id: format!("BENCH-{family:08}"),
        member_name: format!(
            "{} {} {}",
            FIRST_NAMES[(i % 16) as usize],
            ["Devi", "Prasad", "Kumari", "Yadav", "Rai"][(family % 5) as usize],
            family % 9973
        ),
        gender: if i.is_multiple_of(2) {
            Gender::Female
        } else {
            Gender::Male
        } as i32,
        year_of_birth: 1950 + (i % 60) as i32,
        relation: [
            pb::Relation::Head,
            pb::Relation::Spouse,
            pb::Relation::Son,
            pb::Relation::Daughter,
            pb::Relation::Mother,
        ][(i % 5) as usize] as i32,
        location: Some(Location {
            state_code: "10".into(),
            district_code: DISTRICT.into(),
            block_code: format!("{DISTRICT}-{:02}", 1 + family % 20),
            village_code: String::new(),
        }),
        eligibility_category: "SECC-D1".into(),
        aadhaar: String::new(),
        existing_card_number: card(i),
    }
}

/// Streams people `from..to` through ImportEligibility; returns the seconds it took.
pub async fn import(
    client: &mut BeneficiaryRegistryServiceClient<Channel>,
    from: u64,
    to: u64,
    key: &str,
) -> anyhow::Result<f64> {
    let header = pb::ImportEligibilityRequest {
        item: Some(Item::Header(pb::ImportHeader {
            idempotency_key: key.into(),
            file_name: format!("{key}.csv"),
            actor: None,
        })),
    };
    let rows = (from..to).map(|i| pb::ImportEligibilityRequest {
        item: Some(Item::Row(row(i))),
    });
    let started = Instant::now();
    let reply = client
        .import_eligibility(crate::streaming(tokio_stream::iter(
            std::iter::once(header).chain(rows),
        )))
        .await
        .context("import eligibility")?
        .into_inner();
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        reply.accepted == i64::try_from(to - from).unwrap_or(i64::MAX),
        "{} of {} rows accepted; first reject {:?}",
        reply.accepted,
        to - from,
        reply.rejects.first()
    );
    Ok(seconds)
}

/// The same people as CSV in [`CSV_COLUMNS`], for `psql \copy`.
pub fn write_csv(path: &Path, rows: u64) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for i in 0..rows {
        let r = row(i);
        let location = r.location.unwrap_or_default();
        writeln!(
            out,
            // Unquoted empty is NULL in CSV COPY; "" is an empty string.
            "BEN-{i:012},{},{},{},{},{},{},{},{},{},\"\",SOURCE_LIST_SECC,SECC-D1,PMJAY,,\"\",,,{},CARD_STATUS_ISSUED,,2026-01-01T00:00:00Z",
            r.family_id,
            r.member_name,
            r.member_name.to_lowercase(),
            Gender::try_from(r.gender).unwrap_or_default().as_str_name(),
            r.year_of_birth,
            pb::Relation::try_from(r.relation)
                .unwrap_or_default()
                .as_str_name(),
            location.state_code,
            location.district_code,
            location.block_code,
            r.existing_card_number,
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The columns of [`write_csv`]'s lines, as `beneficiaries` names them.
pub const CSV_COLUMNS: &str = "beneficiary_id, family_id, name, name_key, gender, year_of_birth, \
    relation, state_code, district_code, block_code, village_code, source_list, \
    eligibility_category, scheme_codes, aadhaar_digest, aadhaar_last4, abha_number, \
    abha_address, card_number, card_status, card_issued_at, created_at";

//! The beneficiary registry's demo data: synthetic families in Saran (Bihar),
//! Durg, Bastar, Dantewada (Chhattisgarh) and Jaipur (Rajasthan). Saran's
//! list reproduces the ratio at the start of the July 2024 drive, 8,88,228
//! carded of 28,95,434 eligible (30.68 %): exactly at full scale, to the
//! basis point at the default 1 % scale. Durg's cards carry their issue
//! dates in the proportions of its published years: 10,37,043 held by March
//! 2022 and 11,05,885 by March 2023 (68,842 more).

use anyhow::Context;
use ayushman_domain::{Aadhaar, format_count};
use ayushman_platform::convert::date_to_proto;
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        import_eligibility_request::Item,
    },
    common::v1::{Gender, Location},
};
use chrono::NaiveDate;
use tonic::transport::Channel;

/// How much of the districts to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// 1 % of Saran and a few thousand people elsewhere: loads in seconds.
    Small,
    /// Saran's 28,95,434 eligible people in full.
    Full,
}

/// Saran's eligible and carded people at the start of the July 2024 drive.
pub const SARAN_ELIGIBLE: u64 = 28_95_434;
/// Carded in Saran then.
pub const SARAN_CARDED: u64 = 8_88_228;

/// A district to populate.
pub struct Population {
    pub state: &'static str,
    pub district: &'static str,
    /// Family ids are `<prefix>-0000042`.
    pub prefix: &'static str,
    source: pb::SourceList,
    category: &'static str,
    pub eligible: u64,
    pub carded: u64,
    /// Blocks `<district>-01` to `<district>-<blocks>`; family `f` lives in block `1 + f % blocks`.
    pub blocks: u64,
    /// Of the carded, how many had their card by 31 March 2022, the rest
    /// in 2022-23; `None` when the earlier system kept no issue dates.
    carded_by_march_2022: Option<u64>,
}

/// Durg's cards held at the end of 2021-22 and 2022-23, as published.
const DURG_CARDED: (u64, u64) = (10_37_043, 11_05_885);

pub fn populations(scale: Scale) -> Vec<Population> {
    let saran = match scale {
        Scale::Full => (SARAN_ELIGIBLE, SARAN_CARDED),
        Scale::Small => (28_954, 8_882),
    };
    let row =
        |(state, district, prefix), (source, category), (eligible, carded), blocks| Population {
            state,
            district,
            prefix,
            source,
            category,
            eligible,
            carded,
            blocks,
            carded_by_march_2022: None,
        };
    let durg = row(
        ("22", "22-387", "DRG"),
        (pb::SourceList::Nfsa, "NFSA-PHH"),
        (3_000, 2_100),
        3,
    );
    vec![
        row(
            ("10", "10-230", "SRN"),
            (pb::SourceList::Secc, "SECC-D1"),
            saran,
            20,
        ),
        Population {
            // Durg's proportion of cards held by March 2022, to the nearest card.
            carded_by_march_2022: Some(
                (durg.carded * DURG_CARDED.0 * 2 + DURG_CARDED.1) / (DURG_CARDED.1 * 2),
            ),
            ..durg
        },
        row(
            ("22", "22-414", "BST"),
            (pb::SourceList::Secc, "SECC-D3"),
            (2_000, 1_150),
            7,
        ),
        row(
            ("22", "22-415", "DTW"),
            (pb::SourceList::Secc, "SECC-D5"),
            (1_500, 700),
            4,
        ),
        row(
            ("08", "08-110", "JPR"),
            (pb::SourceList::Nfsa, "NFSA-AAY"),
            (2_000, 1_300),
            20,
        ),
    ]
}

/// The day the `ordinal`-th card (counting from 0) of `p` was issued: spread
/// evenly from PM-JAY's launch to March 2022, then over 2022-23.
fn card_issued_on(p: &Population, ordinal: u64) -> Option<NaiveDate> {
    let early = p.carded_by_march_2022?;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let (from, until, index, count) = if ordinal < early {
        (day(2018, 9, 23), day(2022, 3, 31), ordinal, early)
    } else {
        (
            day(2022, 4, 1),
            day(2023, 3, 31),
            ordinal - early,
            p.carded - early,
        )
    };
    let span = (until - from).num_days() as u64;
    Some(from + chrono::Duration::days((index * span / count.max(1)) as i64))
}

const FIRST: [&str; 12] = [
    "Sunita", "Ramesh", "Geeta", "Mohan", "Kamla", "Suresh", "Rekha", "Dinesh", "Anita", "Raju",
    "Savitri", "Bhola",
];
const LAST: [&str; 8] = [
    "Devi", "Prasad", "Kumari", "Yadav", "Sahu", "Rai", "Netam", "Meena",
];

/// Member `i` of a population: families of five (head, spouse, two children, and a
/// grandparent aged 70+ in every third family); the `carded` people are spread evenly.
pub fn member(p: &Population, i: u64) -> pb::EligibilityRow {
    let family = i / 5;
    let position = i % 5;
    let (relation, year_of_birth, gender) = match position {
        0 => (
            pb::Relation::Head,
            1960 + (family % 25) as i32,
            Gender::Male,
        ),
        1 => (
            pb::Relation::Spouse,
            1963 + (family % 25) as i32,
            Gender::Female,
        ),
        2 => (pb::Relation::Son, 1990 + (family % 20) as i32, Gender::Male),
        3 => (
            pb::Relation::Daughter,
            1993 + (family % 20) as i32,
            Gender::Female,
        ),
        _ if family.is_multiple_of(3) => (
            pb::Relation::Mother,
            1945 + (family % 8) as i32,
            Gender::Female,
        ),
        _ => (
            pb::Relation::Daughter,
            2005 + (family % 15) as i32,
            Gender::Female,
        ),
    };
    let carded = (i + 1) * p.carded / p.eligible > i * p.carded / p.eligible;
    let name = format!(
        "{} {} {}",
        FIRST[(i % 12) as usize],
        LAST[(family % 8) as usize],
        family % 1000
    );
    pb::EligibilityRow {
        source_list: p.source as i32,
        family_id: format!("{}-{family:07}", p.prefix),
        member_name: name,
        gender: gender as i32,
        year_of_birth,
        relation: relation as i32,
        location: Some(Location {
            state_code: p.state.into(),
            district_code: p.district.into(),
            block_code: format!("{}-{:02}", p.district, 1 + family % p.blocks),
            village_code: String::new(),
        }),
        eligibility_category: p.category.into(),
        aadhaar: String::new(),
        existing_card_number: if carded {
            format!("BIS-{}-{i:08}", p.prefix)
        } else {
            String::new()
        },
        card_issued_on: if carded {
            card_issued_on(p, (i + 1) * p.carded / p.eligible - 1).map(date_to_proto)
        } else {
            None
        },
    }
}

/// The card numbers of Saran's carded people in the small demo, and of each
/// family's first carded member only (benchmarks raise one case per family).
pub fn saran_family_cards() -> Vec<String> {
    let saran = &populations(Scale::Small)[0];
    let mut seen_family = String::new();
    let mut cards = Vec::new();
    for row in (0..saran.eligible).map(|i| member(saran, i)) {
        if !row.existing_card_number.is_empty() && row.family_id != seen_family {
            seen_family = row.family_id.clone();
            cards.push(row.existing_card_number);
        }
    }
    cards
}

/// What the beneficiary seed wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub people: i64,
    pub new_people: i64,
    pub families: i64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "beneficiary registry: {} people ({} new), {} new families",
            format_count(self.people),
            format_count(self.new_people),
            format_count(self.families),
        )
    }
}

/// A valid Aadhaar number made from `seed`, never a real person's (real
/// numbers do not start 51).
pub fn synthetic_aadhaar(seed: u64) -> String {
    let mut digits = [0u8; 11];
    let mut rest = seed;
    for digit in digits.iter_mut().rev() {
        *digit = (rest % 10) as u8;
        rest /= 10;
    }
    digits[0] = 5;
    digits[1] = 1;
    Aadhaar::from_first_eleven(digits)
        .map(|a| a.expose_digits())
        .unwrap_or_default()
}

/// Imports every population's eligibility list into the registry at `client`.
pub async fn seed(
    client: &mut BeneficiaryRegistryServiceClient<Channel>,
    scale: Scale,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    for population in populations(scale) {
        let header = pb::ImportHeader {
            // A fresh key per run: the summary then says what this run added (nothing, the second time).
            idempotency_key: format!(
                "seed-{}-{scale:?}-{}",
                population.prefix,
                ayushman_platform::ids::new_id("RUN")
            ),
            file_name: format!("demo-{}.csv", population.district),
            actor: None,
        };
        let messages = std::iter::once(pb::ImportEligibilityRequest {
            item: Some(Item::Header(header)),
        })
        .chain(
            (0..population.eligible).map(move |i| pb::ImportEligibilityRequest {
                item: Some(Item::Row(member(&population, i))),
            }),
        );
        let reply = client
            .import_eligibility(crate::streaming(tokio_stream::iter(messages)))
            .await
            .context("import eligibility")?
            .into_inner();
        anyhow::ensure!(
            reply.rejected == 0,
            "demo rows were rejected: {:?}",
            reply.rejects.first()
        );
        summary.people += reply.rows_received;
        summary.new_people += reply.accepted;
        summary.families += reply.families_created;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;

    use super::*;

    #[test]
    fn the_small_scale_keeps_saran_s_ratio_to_the_basis_point() {
        let bps = |carded: u64, eligible: u64| (carded * 20_000 + eligible) / (eligible * 2);
        assert_eq!(bps(SARAN_CARDED, SARAN_ELIGIBLE), 3068);
        assert_eq!(bps(8_882, 28_954), 3068);
    }

    #[test]
    fn durg_s_cards_by_march_2022_keep_its_published_proportion() {
        let durg = &populations(Scale::Small)[1];
        let march_2022 = NaiveDate::from_ymd_opt(2022, 3, 31).expect("date");
        let dates: Vec<NaiveDate> = (0..durg.eligible)
            .filter_map(|i| member(durg, i).card_issued_on)
            .map(|d| NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32).expect("date"))
            .collect();
        assert_eq!(dates.len() as u64, durg.carded);
        let early = dates.iter().filter(|d| **d <= march_2022).count();
        assert_eq!(early, 1_969, "2,100 x 10,37,043 / 11,05,885");
        assert!(dates.iter().all(|d| d.year() < 2024));
    }

    #[test]
    fn exactly_the_carded_number_of_members_carry_a_card() {
        for population in populations(Scale::Small) {
            let carded = (0..population.eligible)
                .filter(|i| !member(&population, *i).existing_card_number.is_empty())
                .count() as u64;
            assert_eq!(carded, population.carded, "{}", population.district);
        }
    }
}

//! The beneficiary registry's demo data: synthetic families in Saran (Bihar),
//! Durg, Bastar, Dantewada (Chhattisgarh) and Jaipur (Rajasthan). Saran's
//! coverage reproduces the ratio of the July 2024 drive's start, 8,88,228
//! carded of 28,95,434 eligible (30.68 %): exactly at full scale, to the
//! basis point at the default 1 % scale. A card drive runs in Durg now, so
//! Saran's figures stay those of the drive's start.

use anyhow::Context;
use ayushman_domain::{Aadhaar, format_count};
use ayushman_platform::convert::{date_to_proto, today_in_india};
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        import_eligibility_request::Item,
    },
    common::v1::{Actor, ActorKind, DateRange, Gender, Location},
};
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

/// A district to populate: (state, district, name, prefix, source, category, eligible, carded).
struct Population {
    state: &'static str,
    district: &'static str,
    prefix: &'static str,
    source: pb::SourceList,
    category: &'static str,
    eligible: u64,
    carded: u64,
}

fn populations(scale: Scale) -> Vec<Population> {
    let saran = match scale {
        Scale::Full => (SARAN_ELIGIBLE, SARAN_CARDED),
        Scale::Small => (28_954, 8_882),
    };
    let row = |state, district, prefix, source, category, eligible, carded| Population {
        state,
        district,
        prefix,
        source,
        category,
        eligible,
        carded,
    };
    vec![
        row(
            "10",
            "10-230",
            "SRN",
            pb::SourceList::Secc,
            "SECC-D1",
            saran.0,
            saran.1,
        ),
        row(
            "22",
            "22-387",
            "DRG",
            pb::SourceList::Nfsa,
            "NFSA-PHH",
            3_000,
            2_100,
        ),
        row(
            "22",
            "22-414",
            "BST",
            pb::SourceList::Secc,
            "SECC-D3",
            2_000,
            1_150,
        ),
        row(
            "22",
            "22-415",
            "DTW",
            pb::SourceList::Secc,
            "SECC-D5",
            1_500,
            700,
        ),
        row(
            "08",
            "08-110",
            "JPR",
            pb::SourceList::Nfsa,
            "NFSA-AAY",
            2_000,
            1_300,
        ),
    ]
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
fn member(p: &Population, i: u64) -> pb::EligibilityRow {
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
            block_code: format!("{}-{:02}", p.district, 1 + family % 20),
            village_code: String::new(),
        }),
        eligibility_category: p.category.into(),
        aadhaar: String::new(),
        existing_card_number: if carded {
            format!("BIS-{}-{i:08}", p.prefix)
        } else {
            String::new()
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
    pub campaign_cards: i64,
    pub saran: (i64, i64, i32),
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (eligible, carded, bps) = self.saran;
        write!(
            f,
            "beneficiary registry: {} people ({} new), {} new families; Saran {} of {} carded ({}.{:02} %); Durg card drive: {} cards today",
            format_count(self.people),
            format_count(self.new_people),
            format_count(self.families),
            format_count(carded),
            format_count(eligible),
            bps / 100,
            bps % 100,
            self.campaign_cards
        )
    }
}

fn synthetic_aadhaar(seed: u64) -> String {
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

/// Seeds the registry at `client`.
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
    summary.campaign_cards = card_drive(client).await?;
    let coverage = client
        .coverage_report(pb::CoverageReportRequest {
            district_code: "10-230".into(),
            level: pb::CoverageLevel::District as i32,
            ..Default::default()
        })
        .await
        .context("coverage report")?
        .into_inner()
        .total
        .context("coverage total")?;
    summary.saran = (
        coverage.eligible,
        coverage.carded,
        coverage.carded_basis_points,
    );
    Ok(summary)
}

/// Six ration-shop camps in Durg this fortnight; ten cards at each today, the
/// sixth camp run by its stand-in operator.
async fn card_drive(client: &mut BeneficiaryRegistryServiceClient<Channel>) -> anyhow::Result<i64> {
    let today = today_in_india();
    let dates = DateRange {
        start_date: Some(date_to_proto(today - chrono::Duration::days(6))),
        end_date: Some(date_to_proto(today + chrono::Duration::days(7))),
    };
    let camps = (1..=6)
        .map(|n| pb::Camp {
            camp_id: format!("CAMP-DURG-{n:04}"),
            venue: format!("Fair price shop {}, Durg block {n}", 100 + n),
            location: Some(Location {
                state_code: "22".into(),
                district_code: "22-387".into(),
                block_code: format!("22-387-{n:02}"),
                village_code: String::new(),
            }),
            operator_id: format!("CSC-DURG-{n:03}"),
            standby_operator_id: format!("CSC-DURG-{:03}", 100 + n),
            dates: Some(dates),
        })
        .collect();
    let campaign = pb::Campaign {
        name: "Durg Ayushman card drive".into(),
        state_code: "22".into(),
        district_code: "22-387".into(),
        dates: Some(dates),
        target_cards: 1_000,
        camps,
        ..Default::default()
    };
    let campaign = client
        .create_campaign(pb::CreateCampaignRequest {
            idempotency_key: format!("seed-campaign-durg-{today}"),
            campaign: Some(campaign),
        })
        .await
        .context("create the Durg campaign")?
        .into_inner()
        .campaign
        .context("campaign in reply")?;
    let mut cards = 0;
    for (n, camp) in campaign.camps.iter().enumerate() {
        let operator = if n == 5 {
            &camp.standby_operator_id
        } else {
            &camp.operator_id
        };
        for k in 0..10u64 {
            // Families of the camp's block (block = 1 + family % 20) with someone not yet carded.
            let family = format!("DRG-{:07}", n as u64 + 20 * (1 + 2 * k));
            let members = client
                .get_family(pb::GetFamilyRequest {
                    family_id: family.clone(),
                })
                .await
                .with_context(|| format!("family {family}"))?
                .into_inner()
                .family
                .map(|f| f.members)
                .unwrap_or_default();
            // The family's first member who had no card before the drive, as generated.
            let durg = &populations(Scale::Small)[1];
            let family_number: u64 = family[4..].parse().context("family number")?;
            let Some(index) = (family_number * 5..family_number * 5 + 5)
                .find(|i| member(durg, *i).existing_card_number.is_empty())
            else {
                continue;
            };
            let name = member(durg, index).member_name;
            let Some(person) = members.into_iter().find(|m| m.name == name) else {
                continue;
            };
            client
                .issue_card(pb::IssueCardRequest {
                    kyc_proof: String::new(),
                    idempotency_key: format!("seed-card-{}", person.beneficiary_id),
                    beneficiary_id: person.beneficiary_id.clone(),
                    // Stable per person, so seeding again offers the same number.
                    aadhaar: synthetic_aadhaar(index),
                    kyc_method: pb::KycMethod::AadhaarOtp as i32,
                    operator: Some(Actor {
                        actor_id: operator.clone(),
                        kind: ActorKind::Operator as i32,
                        display_name: String::new(),
                    }),
                    centre_id: camp.camp_id.clone(),
                    campaign_id: campaign.campaign_id.clone(),
                })
                .await
                .with_context(|| format!("card for {}", person.beneficiary_id))?;
            cards += 1;
        }
    }
    Ok(cards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_scale_keeps_saran_s_ratio_to_the_basis_point() {
        let bps = |carded: u64, eligible: u64| (carded * 20_000 + eligible) / (eligible * 2);
        assert_eq!(bps(SARAN_CARDED, SARAN_ELIGIBLE), 3068);
        assert_eq!(bps(8_882, 28_954), 3068);
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

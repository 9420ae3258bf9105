//! The demo's card drives (DESIGN §1), as the districts run them:
//!
//! - the area master of docs/examples/locations.csv: Saran's sub-divisions
//!   Sadar, Marhaura and Sonpur with their 20 blocks, Durg's and Bastar's;
//! - Saran's fortnight drive, running now: a camp at a ration shop in every
//!   block with a CSC operator and a stand-in, the Block Development Officer
//!   of each block as nodal officer, two Jeevika didis per block bringing
//!   families; today one camp's operator did not come (the stand-in ran it)
//!   and one camp had nobody; a few people made their own card on a phone;
//! - Durg's operator master: 641 logins active at choice centres (₹30 a
//!   card here, an illustrative fee) and 93 with others, beside a few
//!   inactive ones, and its drive of special camps run by urban-body staff.
//!
//! Names of people and officers are made up; seeding again changes nothing.

use anyhow::Context;
use ayushman_domain::format_count;
use ayushman_platform::convert::{date_to_proto, today_in_india};
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    common::v1::{Actor, ActorKind, DateRange, Location},
};
use tonic::transport::Channel;

use super::beneficiaries::{Population, Scale, member, populations, synthetic_aadhaar};
use crate::import;

type Client = BeneficiaryRegistryServiceClient<Channel>;

/// The demo's geography, as a state would import it.
const LOCATIONS_CSV: &str = include_str!("../../../../docs/examples/locations.csv");

/// Durg's active logins, as published: at choice centres, and with others.
pub const DURG_ACTIVE_LOGINS: (u32, u32) = (641, 93);
/// Inactive logins of the demo's Durg master (illustrative).
const DURG_INACTIVE_LOGINS: (u32, u32) = (28, 7);
/// The choice centres' fee per card in the demo, in paise.
const CHOICE_CENTRE_FEE_PAISE: i64 = 3_000;

/// Saran's blocks, in code order (`10-230-01` is Chapra).
const SARAN_BLOCKS: [&str; 20] = [
    "Chapra",
    "Revelganj",
    "Manjhi",
    "Jalalpur",
    "Ekma",
    "Baniapur",
    "Lahladpur",
    "Nagra",
    "Garkha",
    "Marhaura",
    "Amnour",
    "Mashrakh",
    "Panapur",
    "Taraiya",
    "Isuapur",
    "Sonpur",
    "Dighwara",
    "Dariyapur",
    "Parsa",
    "Maker",
];
/// The Saran block whose assigned operator does not come today (Lahladpur).
const SARAN_STANDBY_BLOCK: u64 = 7;
/// The Saran block whose camp nobody runs today (Panapur).
const SARAN_IDLE_BLOCK: u64 = 13;

const OFFICERS: [&str; 10] = [
    "Ajay Kumar",
    "Priya Sinha",
    "Manoj Ranjan",
    "Shalini Kumari",
    "Rakesh Prasad",
    "Neha Bharti",
    "Sanjay Choudhary",
    "Anjali Singh",
    "Vivek Anand",
    "Kiran Kumari",
];
const DIDIS: [&str; 8] = [
    "Rinku Devi",
    "Sunaina Kumari",
    "Phool Kumari",
    "Meena Devi",
    "Lalti Devi",
    "Sarita Kumari",
    "Babita Devi",
    "Gudiya Kumari",
];

/// What the drives' seed wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub areas: usize,
    /// Saran at the drive's start: eligible, carded, basis points, sub-divisions.
    pub saran_start: (i64, i64, i32, usize),
    pub saran_today: i64,
    pub durg_today: i64,
    /// Durg's active logins in the master: choice centres, others.
    pub durg_logins: (i64, i64),
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (eligible, carded, bps, sub_divisions) = self.saran_start;
        write!(
            f,
            "card drives: {} areas; Saran began with {} of {} carded ({}.{:02} %) in {sub_divisions} sub-divisions, {} cards today; Durg {} cards today, logins active: {} at choice centres, {} others",
            self.areas,
            format_count(carded),
            format_count(eligible),
            bps / 100,
            bps % 100,
            self.saran_today,
            self.durg_today,
            format_count(self.durg_logins.0),
            format_count(self.durg_logins.1),
        )
    }
}

fn refused(what: &str) -> impl Fn(tonic::Status) -> anyhow::Error + '_ {
    move |status| anyhow::anyhow!("{what}: {}", status.message())
}

async fn areas(client: &mut Client) -> anyhow::Result<usize> {
    let (rows, rejects) = import::area_rows(LOCATIONS_CSV.as_bytes());
    if let Some(reject) = rejects.first() {
        anyhow::bail!(
            "locations.csv row {}: {} {}",
            reject.row,
            reject.field,
            reject.reason
        );
    }
    let areas: Vec<pb::Area> = rows.into_iter().map(|(_, area)| area).collect();
    let count = areas.len();
    let reply = client
        .upsert_areas(pb::UpsertAreasRequest {
            idempotency_key: "seed-areas".into(),
            areas,
        })
        .await
        .map_err(refused("areas"))?
        .into_inner();
    anyhow::ensure!(
        reply.rejects.is_empty(),
        "areas refused: {:?}",
        reply.rejects
    );
    Ok(count)
}

fn login(
    login_id: String,
    name: String,
    kind: pb::OperatorKind,
    (district, block): (&str, String),
    active: bool,
    fee_per_card_paise: i64,
) -> pb::Operator {
    pb::Operator {
        centre_id: format!("CENTRE-{login_id}"),
        login_id,
        name,
        kind: kind as i32,
        district_code: district.into(),
        block_code: block,
        status: if active {
            pb::OperatorStatus::Active
        } else {
            pb::OperatorStatus::Inactive
        } as i32,
        fee_per_card_paise,
        updated_at: None,
    }
}

/// Durg's choice-centre login `n` (from 1).
fn durg_choice_centre(n: u32) -> String {
    format!("CG-DRG-CC-{n:04}")
}

/// Durg's other login `n` (from 1): urban-body staff, hospital desks.
fn durg_other(n: u32) -> String {
    format!("CG-DRG-OT-{n:04}")
}

/// Saran's CSC login for a camp (the stand-in's is 100 more).
fn saran_csc(n: u64) -> String {
    format!("CSC-SRN-{n:03}")
}

/// Durg's master and Saran's camp operators.
async fn operators(client: &mut Client) -> anyhow::Result<()> {
    let (choice, other) = DURG_ACTIVE_LOGINS;
    let (choice_off, other_off) = DURG_INACTIVE_LOGINS;
    let durg_block = |n: u32| ("22-387", format!("22-387-{:02}", 1 + n % 3));
    let mut logins: Vec<pb::Operator> = (1..=choice + choice_off)
        .map(|n| {
            login(
                durg_choice_centre(n),
                format!("Choice centre {n}, Durg"),
                pb::OperatorKind::ChoiceCentre,
                durg_block(n),
                n <= choice,
                CHOICE_CENTRE_FEE_PAISE,
            )
        })
        .chain((1..=other + other_off).map(|n| {
            login(
                durg_other(n),
                format!("Urban-body staff {n}, Durg"),
                pb::OperatorKind::Other,
                durg_block(n),
                n <= other,
                0,
            )
        }))
        .collect();
    logins.extend((1..=20u64).flat_map(|b| {
        [saran_csc(b), saran_csc(100 + b)].map(|id| {
            login(
                id,
                format!(
                    "Vasudha Kendra operator, {}",
                    SARAN_BLOCKS[(b - 1) as usize]
                ),
                pb::OperatorKind::Csc,
                ("10-230", format!("10-230-{b:02}")),
                true,
                0,
            )
        })
    }));
    let reply = client
        .upsert_operators(pb::UpsertOperatorsRequest {
            idempotency_key: "seed-operators".into(),
            operators: logins,
        })
        .await
        .map_err(refused("operators"))?
        .into_inner();
    anyhow::ensure!(
        reply.rejects.is_empty(),
        "operators refused: {:?}",
        reply.rejects
    );
    Ok(())
}

/// Saran's mobiliser `k` (1 or 2) of block `b`.
fn didi(b: u64, k: u64) -> String {
    format!("JEEVIKA-SRN-{b:02}{k:02}")
}

async fn mobilisers(client: &mut Client) -> anyhow::Result<()> {
    let mobilisers = (1..=20u64)
        .flat_map(|b| {
            (1..=2u64).map(move |k| pb::Mobiliser {
                mobiliser_id: didi(b, k),
                name: DIDIS[((b * 2 + k) % 8) as usize].into(),
                group_name: format!(
                    "Jeevika, {} SHG, {}",
                    ["Durga", "Laxmi"][(k - 1) as usize],
                    SARAN_BLOCKS[(b - 1) as usize]
                ),
                district_code: "10-230".into(),
                block_code: format!("10-230-{b:02}"),
                active: true,
            })
        })
        .collect();
    let reply = client
        .upsert_mobilisers(pb::UpsertMobilisersRequest {
            idempotency_key: "seed-mobilisers".into(),
            mobilisers,
        })
        .await
        .map_err(refused("mobilisers"))?
        .into_inner();
    anyhow::ensure!(
        reply.rejects.is_empty(),
        "mobilisers refused: {:?}",
        reply.rejects
    );
    Ok(())
}

/// Who makes the cards of one family, and for which campaign.
struct Carding<'a> {
    population: &'a Population,
    /// Added to a person's number for their synthetic Aadhaar, so no two
    /// populations share one.
    aadhaar_base: u64,
    family: u64,
    /// How many of the family's uncarded members to card.
    members: usize,
    operator: String,
    centre: String,
    campaign: String,
    mobiliser: String,
    self_service: bool,
}

/// Cards the first uncarded members of a family; how many cards were made.
async fn card_family(client: &mut Client, job: Carding<'_>) -> anyhow::Result<i64> {
    let p = job.population;
    let family_id = format!("{}-{:07}", p.prefix, job.family);
    let members = client
        .get_family(pb::GetFamilyRequest {
            family_id: family_id.clone(),
        })
        .await
        .map_err(refused("family"))?
        .into_inner()
        .family
        .map(|f| f.members)
        .unwrap_or_default();
    let uncarded = (job.family * 5..job.family * 5 + 5)
        .filter(|i| member(p, *i).existing_card_number.is_empty())
        .take(job.members);
    let mut cards = 0;
    for index in uncarded {
        let name = member(p, index).member_name;
        let Some(person) = members.iter().find(|m| m.name == name) else {
            continue;
        };
        client
            .issue_card(pb::IssueCardRequest {
                idempotency_key: format!("seed-card-{}", person.beneficiary_id),
                beneficiary_id: person.beneficiary_id.clone(),
                // Stable per person, so seeding again offers the same number.
                aadhaar: synthetic_aadhaar(job.aadhaar_base + index),
                kyc_method: if job.self_service {
                    pb::KycMethod::AadhaarFace
                } else {
                    pb::KycMethod::AadhaarOtp
                } as i32,
                operator: Some(Actor {
                    actor_id: job.operator.clone(),
                    kind: if job.self_service {
                        ActorKind::Beneficiary
                    } else {
                        ActorKind::Operator
                    } as i32,
                    display_name: String::new(),
                }),
                centre_id: job.centre.clone(),
                campaign_id: job.campaign.clone(),
                kyc_proof: String::new(),
                mobiliser_id: job.mobiliser.clone(),
                self_service: job.self_service,
            })
            .await
            .with_context(|| format!("card for {}", person.beneficiary_id))?;
        cards += 1;
    }
    Ok(cards)
}

/// A fortnight's dates around today: the drive started six days ago.
fn fortnight() -> DateRange {
    let today = today_in_india();
    DateRange {
        start_date: Some(date_to_proto(today - chrono::Duration::days(6))),
        end_date: Some(date_to_proto(today + chrono::Duration::days(7))),
    }
}

async fn create_campaign(
    client: &mut Client,
    key: &str,
    campaign: pb::Campaign,
) -> anyhow::Result<pb::Campaign> {
    client
        .create_campaign(pb::CreateCampaignRequest {
            idempotency_key: format!("{key}-{}", today_in_india()),
            campaign: Some(campaign),
        })
        .await
        .map_err(refused("campaign"))?
        .into_inner()
        .campaign
        .context("campaign in reply")
}

/// Saran's drive and today's cards; returns its id and the cards made.
async fn saran_drive(client: &mut Client, saran: &Population) -> anyhow::Result<(String, i64)> {
    let dates = fortnight();
    let block_code = |b: u64| format!("10-230-{b:02}");
    let camps = (1..=20u64)
        .map(|b| pb::Camp {
            camp_id: format!("CAMP-SRN-{b:04}"),
            venue: format!(
                "Fair price shop {}, {}",
                100 + b,
                SARAN_BLOCKS[(b - 1) as usize]
            ),
            location: Some(Location {
                state_code: "10".into(),
                district_code: "10-230".into(),
                block_code: block_code(b),
                village_code: String::new(),
            }),
            operator_id: saran_csc(b),
            standby_operator_id: saran_csc(100 + b),
            dates: Some(dates),
        })
        .collect();
    let blocks = (1..=20u64)
        .map(|b| pb::CampaignBlock {
            block_code: block_code(b),
            nodal_officer: Some(pb::NodalOfficer {
                name: OFFICERS[(b % 10) as usize].into(),
                designation: "Block Development Officer".into(),
                mobile: format!("9876500{b:03}"),
            }),
            // Sonpur's BDO set the block's own target; the others share the rest.
            target_cards: if b == 16 { 800 } else { 0 },
        })
        .collect();
    let campaign = create_campaign(
        client,
        "seed-campaign-saran",
        pb::Campaign {
            name: "Saran Ayushman card drive".into(),
            state_code: "10".into(),
            district_code: "10-230".into(),
            dates: Some(dates),
            target_cards: 10_000,
            camps,
            blocks,
            ..Default::default()
        },
    )
    .await?;
    let id = campaign.campaign_id;
    let mut cards = 0;
    for b in 1..=20u64 {
        if b == SARAN_IDLE_BLOCK {
            continue;
        }
        let operator = if b == SARAN_STANDBY_BLOCK {
            saran_csc(100 + b)
        } else {
            saran_csc(b)
        };
        // Four families of the block: a didi brings a family of two, the
        // other didi one person, two people come by themselves.
        for (j, (members, mobiliser)) in [
            (2, didi(b, 1)),
            (1, didi(b, 2)),
            (1, String::new()),
            (1, String::new()),
        ]
        .into_iter()
        .enumerate()
        {
            cards += card_family(
                client,
                Carding {
                    population: saran,
                    aadhaar_base: 1_000_000,
                    family: (b - 1) + 20 * (1 + j as u64),
                    members,
                    operator: operator.clone(),
                    centre: format!("CAMP-SRN-{b:04}"),
                    campaign: id.clone(),
                    mobiliser,
                    self_service: false,
                },
            )
            .await?;
        }
    }
    // People who made their own card on a phone, one in each of ten blocks.
    for b in 1..=10u64 {
        cards += card_family(
            client,
            Carding {
                population: saran,
                aadhaar_base: 1_000_000,
                family: (b - 1) + 20 * 9,
                members: 1,
                operator: "AYUSHMAN-APP".into(),
                centre: String::new(),
                campaign: String::new(),
                mobiliser: String::new(),
                self_service: true,
            },
        )
        .await?;
    }
    Ok((id, cards))
}

/// Durg's drive (six special camps, two per block, the sixth run by its
/// stand-in) and forty cards at twenty choice centres; the cards made.
async fn durg_drive(client: &mut Client, durg: &Population) -> anyhow::Result<i64> {
    let dates = fortnight();
    let camps = (0..6u32)
        .map(|c| pb::Camp {
            camp_id: format!("CAMP-DRG-{:04}", c + 1),
            venue: format!("Special camp, ward {}, Durg", 10 + c),
            location: Some(Location {
                state_code: "22".into(),
                district_code: "22-387".into(),
                block_code: format!("22-387-{:02}", 1 + c % 3),
                village_code: String::new(),
            }),
            operator_id: durg_other(c + 1),
            standby_operator_id: durg_other(c + 7),
            dates: Some(dates),
        })
        .collect();
    let campaign = create_campaign(
        client,
        "seed-campaign-durg",
        pb::Campaign {
            name: "Durg Ayushman card drive".into(),
            state_code: "22".into(),
            district_code: "22-387".into(),
            dates: Some(dates),
            target_cards: 1_000,
            camps,
            ..Default::default()
        },
    )
    .await?;
    let mut cards = 0;
    for (c, camp) in campaign.camps.iter().enumerate() {
        let c = c as u64;
        let operator = if c == 5 {
            &camp.standby_operator_id
        } else {
            &camp.operator_id
        };
        for k in 0..10u64 {
            // A family of the camp's block (block = 1 + family % 3), none twice.
            cards += card_family(
                client,
                Carding {
                    population: durg,
                    aadhaar_base: 0,
                    family: c % 3 + 3 * (1 + 2 * k + c / 3),
                    members: 1,
                    operator: operator.clone(),
                    centre: camp.camp_id.clone(),
                    campaign: campaign.campaign_id.clone(),
                    mobiliser: String::new(),
                    self_service: false,
                },
            )
            .await?;
        }
    }
    for n in 1..=20u32 {
        for k in 0..2u64 {
            cards += card_family(
                client,
                Carding {
                    population: durg,
                    aadhaar_base: 0,
                    family: u64::from(n % 3) + 3 * (21 + 2 * u64::from(n) + k),
                    members: 1,
                    operator: durg_choice_centre(n),
                    centre: format!("CENTRE-{}", durg_choice_centre(n)),
                    campaign: String::new(),
                    mobiliser: String::new(),
                    self_service: false,
                },
            )
            .await?;
        }
    }
    Ok(cards)
}

/// Seeds the areas, the masters and both drives.
pub async fn seed(client: &mut Client, scale: Scale) -> anyhow::Result<Summary> {
    let people = populations(scale);
    let (saran, durg) = (&people[0], &people[1]);
    let mut summary = Summary {
        areas: areas(client).await?,
        ..Summary::default()
    };
    operators(client).await?;
    mobilisers(client).await?;
    let (saran_campaign, saran_cards) = saran_drive(client, saran).await?;
    summary.saran_today = saran_cards;
    summary.durg_today = durg_drive(client, durg).await?;
    let progress = client
        .campaign_progress(pb::CampaignProgressRequest {
            campaign_id: saran_campaign,
            date: None,
        })
        .await
        .map_err(refused("Saran's progress"))?
        .into_inner();
    let start: i64 = progress
        .sub_divisions
        .iter()
        .map(|s| s.carded_at_start)
        .sum();
    summary.saran_start = (
        progress.eligible,
        start,
        ayushman_domain::share_basis_points(start, progress.eligible),
        progress.sub_divisions.len(),
    );
    let logins = client
        .operator_activity_report(pb::OperatorActivityReportRequest {
            district_code: "22-387".into(),
            ..Default::default()
        })
        .await
        .map_err(refused("Durg's logins"))?
        .into_inner();
    let active = |kind: pb::OperatorKind| {
        logins
            .by_kind
            .iter()
            .find(|k| k.kind == kind as i32)
            .map_or(0, |k| k.active_logins)
    };
    summary.durg_logins = (
        active(pb::OperatorKind::ChoiceCentre),
        active(pb::OperatorKind::Other),
    );
    Ok(summary)
}

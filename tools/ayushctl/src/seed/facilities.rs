//! The facility registry's demo data: about 200 facilities across the seed
//! districts, their doctors and empanelments, and OPD registrations that
//! reproduce the Bastar and Dantewada figures exactly.

use anyhow::Context;
use ayushman_proto::{
    common::v1::{Location, Ownership},
    facility::v1::{self as pb, facility_registry_service_client::FacilityRegistryServiceClient},
    google::r#type::Date,
};
use tonic::transport::Channel;

use super::{DISTRICTS, District, SPECIALTIES};

/// OPD registrations of one facility in one month: (year, month, total, via ABHA).
type OpdMonth = (i32, i32, i64, i64);

/// Maharani District Hospital, Jagdalpur (Bastar), May–Jul 2025: 60,045 registrations,
/// 32,379 via ABHA Scan & Share (53.9 %).
pub const BASTAR_OPD: [OpdMonth; 3] = [
    (2025, 5, 19_870, 10_120),
    (2025, 6, 19_915, 10_790),
    (2025, 7, 20_260, 11_469),
];
/// District Hospital, Dantewada, May–Jul 2025: 33,895 registrations, 13,729 via ABHA (40.5 %).
pub const DANTEWADA_OPD: [OpdMonth; 3] = [
    (2025, 5, 11_020, 4_310),
    (2025, 6, 11_190, 4_560),
    (2025, 7, 11_685, 4_859),
];

const PRIVATE_NAMES: [&str; 6] = [
    "Jeevan Jyoti",
    "Sanjivani",
    "Arogya",
    "Shanti",
    "Navjeevan",
    "Sushrut",
];
const DOCTOR_FIRST: [&str; 10] = [
    "Anjali", "Rakesh", "Sunita", "Imran", "Kavita", "Prakash", "Meena", "Arvind", "Pooja",
    "Deepak",
];
const DOCTOR_LAST: [&str; 8] = [
    "Verma", "Sahu", "Yadav", "Khan", "Meena", "Singh", "Netam", "Sharma",
];

/// One facility of the seed with the people and panels that go with it.
struct SeedFacility {
    facility: pb::Facility,
    specialties: Vec<&'static str>,
    doctors: u32,
}

fn hfr_id(district: &District, serial: u32) -> String {
    format!(
        "IN{}{:02}{:06}",
        district.state_code, district.index, serial
    )
}

fn facilities_of(district: &District) -> Vec<SeedFacility> {
    let location = Location {
        state_code: district.state_code.into(),
        district_code: district.code.into(),
        ..Default::default()
    };
    let public =
        |serial: u32, name: String, facility_type: pb::FacilityType, beds: i32| pb::Facility {
            hfr_id: hfr_id(district, serial),
            name: name.clone(),
            facility_type: facility_type as i32,
            ownership: Ownership::Public as i32,
            location: Some(location.clone()),
            beds,
            abdm_enabled: true,
            // Chhattisgarh's hospital societies are Jeevandeep Samitis; elsewhere Rogi Kalyan Samitis.
            society_name: format!(
                "{}, {name}",
                if district.state_code == "22" {
                    "Jeevandeep Samiti"
                } else {
                    "Rogi Kalyan Samiti"
                }
            ),
            society_account_id: format!("JDS-{}-{serial:04}", district.code),
            ..Default::default()
        };
    let mut all = vec![SeedFacility {
        facility: public(
            1,
            district.district_hospital.into(),
            pb::FacilityType::DistrictHospital,
            300,
        ),
        specialties: vec!["GENERAL_SURGERY", "POLYTRAUMA", "NEPHROLOGY", "CARDIOLOGY"],
        doctors: 3,
    }];
    if let Some(college) = district.medical_college {
        all.push(SeedFacility {
            facility: public(2, college.into(), pb::FacilityType::MedicalCollege, 800),
            specialties: SPECIALTIES.to_vec(),
            doctors: 4,
        });
    }
    for chc in 1..=4 {
        all.push(SeedFacility {
            facility: public(
                10 + chc,
                format!("Community Health Centre {chc}, {}", district.name),
                pb::FacilityType::CommunityHealthCentre,
                30,
            ),
            specialties: vec!["GENERAL_SURGERY"],
            doctors: 1,
        });
    }
    for phc in 1..=8 {
        let mut facility = public(
            20 + phc,
            format!("Primary Health Centre {phc}, {}", district.name),
            pb::FacilityType::PrimaryHealthCentre,
            6,
        );
        facility.abdm_enabled = phc % 2 == 0;
        all.push(SeedFacility {
            facility,
            specialties: Vec::new(),
            doctors: 0,
        });
    }
    let private_count = 20 - all.len() as u32;
    for p in 0..private_count {
        let name = PRIVATE_NAMES[(p as usize + district.index as usize) % PRIVATE_NAMES.len()];
        let first = (p as usize + district.index as usize) % SPECIALTIES.len();
        all.push(SeedFacility {
            facility: pb::Facility {
                hfr_id: hfr_id(district, 100 + p),
                name: format!("{name} Hospital {}, {}", p + 1, district.name),
                facility_type: pb::FacilityType::PrivateHospital as i32,
                ownership: Ownership::Private as i32,
                location: Some(location.clone()),
                beds: 50 + 25 * (p as i32 % 4),
                abdm_enabled: p % 3 != 0,
                ..Default::default()
            },
            specialties: {
                let mut specialties = vec![
                    SPECIALTIES[first],
                    SPECIALTIES[(first + 1) % SPECIALTIES.len()],
                    "GENERAL_SURGERY",
                ];
                specialties.sort_unstable();
                specialties.dedup();
                specialties
            },
            doctors: 2,
        });
    }
    all
}

fn doctor(district: &District, facility_serial: u32, n: u32, specialty: &str) -> pb::Professional {
    let seed = (district.index * 31 + facility_serial * 7 + n) as usize;
    pb::Professional {
        hpr_check: None,
        hpr_id: format!(
            "71{}{:02}{:04}{:04}",
            district.state_code, district.index, facility_serial, n
        ),
        name: format!(
            "Dr. {} {}",
            DOCTOR_FIRST[seed % DOCTOR_FIRST.len()],
            DOCTOR_LAST[seed % DOCTOR_LAST.len()]
        ),
        council: match district.state_code {
            "22" => "Chhattisgarh Medical Council",
            "10" => "Bihar Council of Medical Registration",
            _ => "Rajasthan Medical Council",
        }
        .into(),
        registration_number: format!("{}-{:05}", district.code, facility_serial * 10 + n),
        system_of_medicine: pb::SystemOfMedicine::Modern as i32,
        qualifications: vec!["MBBS".into(), "MS/MD".into()],
        specialty_codes: vec![specialty.into()],
        links: Vec::new(),
    }
}

/// Schemes a facility of the state is empanelled under: PM-JAY everywhere, plus the state's own.
fn schemes_of(state_code: &str) -> &'static [&'static str] {
    match state_code {
        "08" => &["PMJAY", "RJ-MAA"],
        "10" => &["PMJAY", "BR-MJAY"],
        _ => &["PMJAY"],
    }
}

fn day(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

/// What the facility seed wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub facilities: usize,
    pub professionals: usize,
    pub empanelments: usize,
    pub opd_recorded: i64,
    pub opd_already_there: i64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "facility registry: {} facilities, {} professionals, {} empanelments, {} OPD registrations ({} new)",
            self.facilities,
            self.professionals,
            self.empanelments,
            ayushman_domain::format_count(self.opd_recorded + self.opd_already_there),
            ayushman_domain::format_count(self.opd_recorded),
        )
    }
}

/// Seeds the facility registry at `client`.
pub async fn seed(client: &mut FacilityRegistryServiceClient<Channel>) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    for district in &DISTRICTS {
        for seed in facilities_of(district) {
            let hfr = seed.facility.hfr_id.clone();
            let serial: u32 = hfr[6..].parse().context("serial digits")?;
            client
                .register_facility(pb::RegisterFacilityRequest {
                    idempotency_key: format!("seed-facility-{hfr}"),
                    facility: Some(seed.facility),
                })
                .await
                .with_context(|| format!("register facility {hfr}"))?;
            summary.facilities += 1;
            for n in 0..seed.doctors {
                let specialty = seed
                    .specialties
                    .get(n as usize % seed.specialties.len().max(1))
                    .copied()
                    .unwrap_or("GENERAL_SURGERY");
                let professional = doctor(district, serial, n + 1, specialty);
                let hpr = professional.hpr_id.clone();
                client
                    .register_professional(pb::RegisterProfessionalRequest {
                        idempotency_key: format!("seed-professional-{hpr}"),
                        professional: Some(professional),
                    })
                    .await
                    .with_context(|| format!("register professional {hpr}"))?;
                client
                    .link_professional(pb::LinkProfessionalRequest {
                        idempotency_key: format!("seed-link-{hpr}-{hfr}"),
                        hpr_id: hpr.clone(),
                        hfr_id: hfr.clone(),
                        role: if n == 0 {
                            pb::ProfessionalRole::TreatingDoctor
                        } else {
                            pb::ProfessionalRole::Surgeon
                        } as i32,
                        linked_from: Some(day(2024, 4, 1)),
                    })
                    .await
                    .with_context(|| format!("link {hpr} to {hfr}"))?;
                summary.professionals += 1;
            }
            if seed.specialties.is_empty() {
                continue;
            }
            for scheme in schemes_of(district.state_code) {
                // One private hospital in Durg is under inquiry: its empanelment is suspended.
                let suspended = district.name == "Durg" && serial == 100;
                let empanelment = pb::Empanelment {
                    hfr_id: hfr.clone(),
                    scheme_code: (*scheme).into(),
                    specialties: seed
                        .specialties
                        .iter()
                        .map(|code| pb::EmpanelledSpecialty {
                            specialty_code: (*code).into(),
                            effective_from: Some(day(2024, 4, 1)),
                            effective_until: None,
                        })
                        .collect(),
                    status: if suspended {
                        pb::EmpanelmentStatus::Suspended
                    } else {
                        pb::EmpanelmentStatus::Empanelled
                    } as i32,
                    status_reason: if suspended {
                        "inquiry 14/2025 by the State Health Agency".into()
                    } else {
                        String::new()
                    },
                    accreditation_level: if serial == 1 || serial == 2 {
                        pb::AccreditationLevel::NabhEntry
                    } else {
                        pb::AccreditationLevel::None
                    } as i32,
                    valid_from: Some(day(2024, 4, 1)),
                    ..Default::default()
                };
                client
                    .upsert_empanelment(pb::UpsertEmpanelmentRequest {
                        idempotency_key: format!("seed-empanelment-{hfr}-{scheme}"),
                        empanelment: Some(empanelment),
                    })
                    .await
                    .with_context(|| format!("empanel {hfr} under {scheme}"))?;
                summary.empanelments += 1;
            }
        }
    }
    for (district, months) in [(&DISTRICTS[0], BASTAR_OPD), (&DISTRICTS[1], DANTEWADA_OPD)] {
        let rows = opd_rows(&hfr_id(district, 1), &months);
        let reply = client
            .import_opd_registrations(crate::streaming(tokio_stream::iter(rows)))
            .await
            .context("import OPD registrations")?
            .into_inner();
        anyhow::ensure!(
            reply.rejected == 0,
            "OPD seed rows were rejected: {:?}",
            reply.rejects.first()
        );
        summary.opd_recorded += reply.recorded;
        summary.opd_already_there += reply.duplicates;
    }
    Ok(summary)
}

/// Registrations spread over each month's days; the first `via ABHA` of a month are scanned.
fn opd_rows(hfr_id: &str, months: &[OpdMonth]) -> Vec<pb::ImportOpdRegistrationsRequest> {
    let mut rows = Vec::new();
    for &(year, month, total, via_abha) in months {
        let days = i64::from(chrono_days_in_month(year, month));
        for i in 0..total {
            let day_of_month = (i % days + 1) as i32;
            let scanned = i < via_abha;
            rows.push(pb::ImportOpdRegistrationsRequest {
                hfr_id: hfr_id.into(),
                visit_date: Some(day(year, month, day_of_month)),
                mode: if scanned {
                    pb::OpdRegistrationMode::AbhaScanAndShare
                } else {
                    pb::OpdRegistrationMode::Counter
                } as i32,
                abha_number: if scanned {
                    format!("91{:012}", i + i64::from(month) * 1_000_000)
                } else {
                    String::new()
                },
                token_number: format!("{:04}", i / days + 1),
            });
        }
    }
    rows
}

fn chrono_days_in_month(year: i32, month: i32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_reproduces_the_published_opd_figures() {
        let sum = |months: &[OpdMonth]| months.iter().fold((0, 0), |(t, a), m| (t + m.2, a + m.3));
        assert_eq!(sum(&BASTAR_OPD), (60_045, 32_379));
        assert_eq!(sum(&DANTEWADA_OPD), (33_895, 13_729));
        let rows = opd_rows("IN2214000001", &BASTAR_OPD);
        assert_eq!(rows.len(), 60_045);
        let scanned = rows
            .iter()
            .filter(|r| r.mode == pb::OpdRegistrationMode::AbhaScanAndShare as i32)
            .count();
        assert_eq!(scanned, 32_379);
        let mut keys: Vec<_> = rows
            .iter()
            .map(|r| (r.visit_date, r.token_number.clone()))
            .collect();
        keys.sort_by_key(|(d, t)| (d.map(|d| (d.month, d.day)), t.clone()));
        keys.dedup();
        assert_eq!(keys.len(), 60_045, "tokens are unique per day");
    }

    #[test]
    fn about_two_hundred_facilities_with_valid_unique_ids() {
        let all: Vec<_> = DISTRICTS.iter().flat_map(facilities_of).collect();
        assert_eq!(all.len(), 200);
        let mut ids: Vec<_> = all.iter().map(|f| f.facility.hfr_id.clone()).collect();
        for id in &ids {
            ayushman_domain::HfrId::parse(id).expect("valid HFR id");
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        for facility in &all {
            let mut specialties = facility.specialties.clone();
            specialties.dedup();
            assert_eq!(
                specialties, facility.specialties,
                "{} lists a specialty twice",
                facility.facility.name
            );
        }
    }
}

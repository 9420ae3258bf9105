//! The preauth service's demo catalogue: 102 Health Benefit Package style
//! packages across the six demo specialties, with Chhattisgarh and Rajasthan
//! rates, public-only packages, implants and a NABH incentive.

use anyhow::Context;
use ayushman_proto::preauth::v1::{self as pb, preauth_service_client::PreauthServiceClient};
use tonic::transport::Channel;

/// A procedure's name and base rate in rupees.
type Procedure = (&'static str, i64);

/// A specialty's code prefix, specialty code and procedures.
type Specialty = (&'static str, &'static str, &'static [Procedure]);

/// Procedures per specialty.
const CATALOGUE: [Specialty; 6] = [
    (
        "MC",
        "CARDIOLOGY",
        &[
            ("PTCA, single stent", 90_000),
            ("PTCA, two stents", 1_30_000),
            ("Coronary angiography", 12_000),
            ("CABG", 1_80_000),
            ("Balloon mitral valvotomy", 60_000),
            ("Permanent pacemaker, single chamber", 95_000),
            ("Permanent pacemaker, dual chamber", 1_40_000),
            ("Mitral valve replacement", 1_50_000),
            ("Aortic valve replacement", 1_55_000),
            ("ASD device closure", 85_000),
            ("VSD repair", 1_35_000),
            ("Pericardiectomy", 75_000),
            ("Thrombolysis for STEMI", 25_000),
            ("Temporary pacemaker", 20_000),
            ("Peripheral angioplasty", 70_000),
            ("Cardiac catheterisation, paediatric", 18_000),
            ("Management of acute heart failure", 30_000),
        ],
    ),
    (
        "MO",
        "ONCOLOGY",
        &[
            ("Chemotherapy, breast cancer, per cycle", 12_000),
            ("Chemotherapy, lymphoma, per cycle", 15_000),
            ("Radiotherapy, 3D-CRT course", 70_000),
            ("Radiotherapy, IMRT course", 1_10_000),
            ("Brachytherapy, cervix", 40_000),
            ("Modified radical mastectomy", 50_000),
            ("Wide local excision", 30_000),
            ("Total laryngectomy", 85_000),
            ("Hemicolectomy for cancer", 80_000),
            ("Oesophagectomy", 1_40_000),
            ("Whipple procedure", 1_60_000),
            ("Radical hysterectomy", 70_000),
            ("Palliative care, per week", 8_000),
            ("Oral cancer resection with flap", 1_20_000),
            ("Chemotherapy, childhood leukaemia, phase", 45_000),
            ("Bone marrow aspiration and biopsy", 6_000),
            ("Thyroidectomy for cancer", 45_000),
        ],
    ),
    (
        "MN",
        "NEPHROLOGY",
        &[
            ("Haemodialysis, per session", 2_000),
            ("Peritoneal dialysis, per month", 18_000),
            ("AV fistula creation", 15_000),
            ("Renal biopsy", 8_000),
            ("Kidney transplant, recipient", 3_00_000),
            ("Kidney transplant, donor", 90_000),
            ("Acute kidney injury management", 25_000),
            ("Plasmapheresis, per session", 10_000),
            ("Double lumen catheter insertion", 6_000),
            ("Nephrectomy", 60_000),
            ("Pyeloplasty", 45_000),
            ("PCNL", 40_000),
            ("Ureteroscopic lithotripsy", 30_000),
            ("TURP", 35_000),
            ("Urethroplasty", 40_000),
            ("Cystoscopy", 8_000),
            ("Nephrotic syndrome management", 20_000),
        ],
    ),
    (
        "SN",
        "NEUROSURGERY",
        &[
            ("Craniotomy for tumour", 1_20_000),
            ("Craniotomy for haematoma", 1_00_000),
            ("VP shunt", 50_000),
            ("Spinal fixation, one level", 90_000),
            ("Discectomy", 55_000),
            ("Aneurysm clipping", 1_80_000),
            ("Burr hole evacuation", 45_000),
            ("Decompressive craniectomy", 1_10_000),
            ("Meningomyelocele repair", 60_000),
            ("Carpal tunnel release", 15_000),
            ("Trans-sphenoidal pituitary surgery", 1_30_000),
            ("Cranioplasty", 70_000),
            ("Stroke thrombolysis", 40_000),
            ("Epilepsy surgery", 1_50_000),
            ("Peripheral nerve repair", 35_000),
            ("Spinal tumour excision", 1_20_000),
            ("Head injury, conservative management", 20_000),
        ],
    ),
    (
        "ST",
        "POLYTRAUMA",
        &[
            ("Femur fracture fixation", 45_000),
            ("Tibia interlocking nail", 35_000),
            ("Pelvic fracture fixation", 80_000),
            ("Chest tube insertion", 8_000),
            ("Exploratory laparotomy for trauma", 50_000),
            ("Splenectomy for trauma", 55_000),
            ("Amputation, below knee", 30_000),
            ("External fixator application", 25_000),
            ("Hip hemiarthroplasty", 70_000),
            ("Burns management, 20-40 %", 60_000),
            ("Burns management, over 40 %", 1_00_000),
            ("Facial fracture fixation", 45_000),
            ("Vascular repair for trauma", 65_000),
            ("Wound debridement", 10_000),
            ("Skin grafting", 25_000),
            ("Tendon repair", 20_000),
            ("Spine fracture fixation", 1_00_000),
        ],
    ),
    (
        "SG",
        "GENERAL_SURGERY",
        &[
            ("Laparoscopic cholecystectomy", 25_000),
            ("Open cholecystectomy", 22_000),
            ("Appendicectomy", 18_000),
            ("Inguinal hernia repair with mesh", 20_000),
            ("Incisional hernia repair", 28_000),
            ("Haemorrhoidectomy", 12_000),
            ("Fistula in ano", 12_000),
            ("Thyroidectomy", 30_000),
            ("Exploratory laparotomy", 40_000),
            ("Perforation peritonitis", 45_000),
            ("Intestinal obstruction surgery", 45_000),
            ("Varicose vein surgery", 20_000),
            ("Excision of breast lump", 10_000),
            ("Hydrocele surgery", 9_000),
            ("Circumcision", 6_000),
            ("Abscess drainage", 5_000),
            ("Diagnostic laparoscopy", 15_000),
        ],
    ),
];

/// Every demo package.
pub fn packages() -> Vec<pb::Package> {
    let mut all = Vec::new();
    for (prefix, specialty, procedures) in CATALOGUE {
        for (n, (name, rupees)) in procedures.iter().enumerate() {
            let base = rupees * 100;
            let mut add_ons = vec![pb::AddOn {
                add_on_code: "NABH-INC".into(),
                name: "Incentive for NABH-accredited hospitals".into(),
                kind: pb::AddOnKind::AccreditationIncentive as i32,
                amount_paise: 0,
                percent_basis_points: 1_000,
            }];
            if specialty == "CARDIOLOGY" && name.starts_with("PTCA") {
                add_ons.push(pb::AddOn {
                    add_on_code: "IMP-DES".into(),
                    name: "Drug-eluting stent".into(),
                    kind: pb::AddOnKind::Implant as i32,
                    amount_paise: 30_000_00,
                    percent_basis_points: 0,
                });
            }
            all.push(pb::Package {
                package_code: format!("{prefix}{:03}", n + 1),
                name: (*name).into(),
                specialty_code: specialty.into(),
                base_rate_paise: base,
                state_rates: vec![
                    pb::StateRate {
                        state_code: "22".into(),
                        rate_paise: base * 90 / 100,
                    },
                    pb::StateRate {
                        state_code: "08".into(),
                        rate_paise: base * 105 / 100,
                    },
                ],
                // Every seventh procedure is kept for public hospitals, as states reserve some.
                reserved_for_public: n % 7 == 6,
                add_ons,
                expected_stay_days: 1 + (n as i32 % 7),
                active: true,
            });
        }
    }
    all
}

/// Seeds the catalogue at `client`; returns how many packages it holds.
pub async fn seed(client: &mut PreauthServiceClient<Channel>) -> anyhow::Result<usize> {
    let all = packages();
    for package in &all {
        let code = package.package_code.clone();
        client
            .upsert_package(pb::UpsertPackageRequest {
                idempotency_key: format!("seed-package-{code}"),
                package: Some(package.clone()),
            })
            .await
            .with_context(|| format!("package {code}"))?;
    }
    Ok(all.len())
}

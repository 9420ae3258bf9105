//! `ayushctl seed`: a realistic, synthetic demo dataset shaped by DESIGN §1 and
//! §8. Every name and number is made up except the published district figures
//! it reproduces (Bastar and Dantewada OPD registrations, May–Jul 2025).
//! Seeding twice changes nothing: every write is idempotent.

pub mod beneficiaries;
pub mod claims;
pub mod drives;
pub mod facilities;
pub mod packages;
pub mod portability;
pub mod schemes;

/// A seed district: synthetic LGD-style code (`<state>-<3 digits>`), name, index for ids.
#[derive(Debug, Clone, Copy)]
pub struct District {
    pub state_code: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    /// Two digits used inside HFR and HPR ids.
    pub index: u32,
    /// Name of the district's public hospital.
    pub district_hospital: &'static str,
    /// A government medical college, if the district has one.
    pub medical_college: Option<&'static str>,
}

/// The districts of the demo, from the field reports in DESIGN §1, and Ahmedabad
/// (Gujarat) where the demo's out-of-state cases are treated.
pub const DISTRICTS: [District; 10] = [
    District {
        state_code: "22",
        code: "22-414",
        name: "Bastar",
        index: 14,
        district_hospital: "Maharani District Hospital, Jagdalpur",
        medical_college: Some("Government Medical College, Jagdalpur"),
    },
    District {
        state_code: "22",
        code: "22-415",
        name: "Dantewada",
        index: 15,
        district_hospital: "District Hospital, Dantewada",
        medical_college: None,
    },
    District {
        state_code: "22",
        code: "22-387",
        name: "Durg",
        index: 17,
        district_hospital: "District Hospital, Durg",
        medical_college: None,
    },
    District {
        state_code: "22",
        code: "22-390",
        name: "Raipur",
        index: 20,
        district_hospital: "District Hospital, Pandri, Raipur",
        medical_college: Some("Government Medical College, Raipur"),
    },
    District {
        state_code: "10",
        code: "10-230",
        name: "Saran",
        index: 30,
        district_hospital: "Sadar Hospital, Chapra",
        medical_college: None,
    },
    District {
        state_code: "10",
        code: "10-227",
        name: "Patna",
        index: 27,
        district_hospital: "Sadar Hospital, Patna",
        medical_college: Some("Government Medical College, Patna"),
    },
    District {
        state_code: "10",
        code: "10-222",
        name: "Muzaffarpur",
        index: 22,
        district_hospital: "Sadar Hospital, Muzaffarpur",
        medical_college: None,
    },
    District {
        state_code: "08",
        code: "08-110",
        name: "Jaipur",
        index: 10,
        district_hospital: "District Hospital, Jaipur",
        medical_college: Some("Government Medical College, Jaipur"),
    },
    District {
        state_code: "08",
        code: "08-112",
        name: "Jodhpur",
        index: 12,
        district_hospital: "District Hospital, Jodhpur",
        medical_college: Some("Government Medical College, Jodhpur"),
    },
    District {
        state_code: "24",
        code: "24-438",
        name: "Ahmedabad",
        index: 38,
        district_hospital: "Civil Hospital, Ahmedabad",
        medical_college: Some("Government Medical College, Ahmedabad"),
    },
];

/// The specialties of the demo package catalogue (DESIGN §8).
pub const SPECIALTIES: [&str; 6] = [
    "CARDIOLOGY",
    "ONCOLOGY",
    "NEPHROLOGY",
    "NEUROSURGERY",
    "POLYTRAUMA",
    "GENERAL_SURGERY",
];

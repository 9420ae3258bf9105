//! The schemes the registry knows, and who each one covers (DESIGN §4, Cover).

use ayushman_domain::{Money, PolicyYear, PolicyYearStart};
use ayushman_proto::beneficiary::v1::{CoverKind, SchemeSponsor, SourceList};
use chrono::{Datelike, NaiveDate};

use crate::config::Covers;

/// PM-JAY.
pub const PMJAY: &str = "PMJAY";
/// PM-JAY's senior top-up for people aged 70 and over.
pub const PMJAY_SENIOR: &str = "PMJAY-70PLUS";
/// Rajasthan's Mukhyamantri Ayushman Arogya (MAA) Yojana.
pub const RJ_MAA: &str = "RJ-MAA";
/// Bihar's scheme for NFSA families outside PM-JAY.
pub const BR_MJAY: &str = "BR-MJAY";

/// A scheme with its cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    pub code: &'static str,
    pub name: &'static str,
    pub sponsor: SchemeSponsor,
    /// Empty for national schemes.
    pub state_code: &'static str,
    pub cover_kind: CoverKind,
    pub cover: Money,
    pub year_start: PolicyYearStart,
    pub categories: &'static [&'static str],
    pub portability_allowed: bool,
    pub tops_up: &'static str,
    pub minimum_age: i32,
}

impl Scheme {
    /// The policy year containing `date`.
    pub fn policy_year(&self, date: NaiveDate) -> PolicyYear {
        self.year_start.year_containing(date)
    }
}

/// Every scheme, with covers from configuration.
#[derive(Debug, Clone)]
pub struct Catalogue {
    schemes: Vec<Scheme>,
}

fn rupees(amount: i64) -> Money {
    Money::from_rupees(amount).unwrap_or(Money::ZERO)
}

impl Catalogue {
    /// The seeded schemes; every policy year starts on 1 April.
    pub fn new(covers: &Covers) -> Self {
        let april = PolicyYearStart::new(4, 1).expect("1 April is a real day");
        let scheme = |code,
                      name,
                      sponsor,
                      state_code,
                      cover_kind,
                      cover,
                      categories,
                      portability_allowed,
                      tops_up,
                      minimum_age| Scheme {
            code,
            name,
            sponsor,
            state_code,
            cover_kind,
            cover,
            year_start: april,
            categories,
            portability_allowed,
            tops_up,
            minimum_age,
        };
        Self {
            schemes: vec![
                scheme(
                    PMJAY,
                    "Ayushman Bharat Pradhan Mantri Jan Arogya Yojana",
                    SchemeSponsor::Central,
                    "",
                    CoverKind::FamilyFloater,
                    rupees(covers.pmjay_rupees),
                    &[
                        "SECC-D1",
                        "SECC-D2",
                        "SECC-D3",
                        "SECC-D4",
                        "SECC-D5",
                        "SECC-D7",
                        "SECC-AUTO",
                        "NFSA-AAY",
                        "NFSA-PHH",
                    ],
                    true,
                    "",
                    0,
                ),
                scheme(
                    PMJAY_SENIOR,
                    "PM-JAY senior citizen top-up (70 years and over)",
                    SchemeSponsor::Central,
                    "",
                    CoverKind::SeniorTopUp,
                    rupees(covers.pmjay_senior_rupees),
                    &["AGE-70-PLUS"],
                    true,
                    PMJAY,
                    70,
                ),
                scheme(
                    RJ_MAA,
                    "Mukhyamantri Ayushman Arogya Yojana (Rajasthan)",
                    SchemeSponsor::State,
                    "08",
                    CoverKind::FamilyFloater,
                    rupees(covers.rj_maa_rupees),
                    &["NFSA-AAY", "NFSA-PHH", "STATE-LIST"],
                    true,
                    "",
                    0,
                ),
                scheme(
                    BR_MJAY,
                    "Mukhyamantri Jan Arogya Yojana (Bihar)",
                    SchemeSponsor::State,
                    "10",
                    CoverKind::FamilyFloater,
                    rupees(covers.br_mjay_rupees),
                    &["NFSA-AAY", "NFSA-PHH"],
                    true,
                    "",
                    0,
                ),
            ],
        }
    }

    /// Every scheme, national first.
    pub fn all(&self) -> &[Scheme] {
        &self.schemes
    }

    /// A scheme by code.
    pub fn get(&self, code: &str) -> Option<&Scheme> {
        self.schemes.iter().find(|s| s.code == code)
    }

    /// The schemes a row of an eligibility list gives, or why none does.
    /// SECC households are PM-JAY's; NFSA families are PM-JAY's in Chhattisgarh
    /// (converged) and their state scheme's in Rajasthan and Bihar; a state's
    /// own list is Rajasthan MAA's.
    pub fn schemes_for_row(
        &self,
        state_code: &str,
        source: SourceList,
        category: &str,
    ) -> Result<Vec<&'static str>, String> {
        let scheme = match (source, state_code) {
            (SourceList::Secc, _) => PMJAY,
            (SourceList::Nfsa, "10") => BR_MJAY,
            (SourceList::Nfsa, "08") => RJ_MAA,
            (SourceList::Nfsa, "22") => PMJAY,
            (SourceList::StateList, "08") => RJ_MAA,
            _ => {
                return Err(format!(
                    "no scheme covers {} families in state {state_code}",
                    source.as_str_name().trim_start_matches("SOURCE_LIST_")
                ));
            }
        };
        let accepted = self.get(scheme).map(|s| s.categories).unwrap_or_default();
        if !accepted.contains(&category) {
            return Err(format!(
                "{scheme} does not accept category {category:?}; accepted: {}",
                accepted.join(", ")
            ));
        }
        Ok(vec![scheme])
    }

    /// The schemes covering a person in the year of `date`: those of their list,
    /// plus the senior top-up from the year they turn 70.
    pub fn schemes_of(&self, listed: &str, year_of_birth: i32, date: NaiveDate) -> Vec<&Scheme> {
        let mut schemes: Vec<&Scheme> = listed
            .split(',')
            .filter_map(|code| self.get(code))
            .collect();
        if date.year() - year_of_birth >= 70
            && let Some(senior) = self.get(PMJAY_SENIOR)
        {
            schemes.push(senior);
        }
        schemes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::new(&Covers::default())
    }

    #[test]
    fn pmjay_covers_five_lakh_per_family_from_1_april() {
        let catalogue = catalogue();
        let pmjay = catalogue.get(PMJAY).expect("PM-JAY");
        assert_eq!(pmjay.cover.to_string(), "₹5,00,000");
        let year = pmjay.policy_year(NaiveDate::from_ymd_opt(2025, 7, 18).expect("date"));
        assert_eq!(year.to_string(), "2025-26");
    }

    #[test]
    fn lists_and_states_decide_the_scheme() {
        let catalogue = catalogue();
        assert_eq!(
            catalogue.schemes_for_row("10", SourceList::Secc, "SECC-D1"),
            Ok(vec![PMJAY])
        );
        assert_eq!(
            catalogue.schemes_for_row("10", SourceList::Nfsa, "NFSA-PHH"),
            Ok(vec![BR_MJAY])
        );
        assert_eq!(
            catalogue.schemes_for_row("08", SourceList::StateList, "STATE-LIST"),
            Ok(vec![RJ_MAA])
        );
        assert_eq!(
            catalogue.schemes_for_row("24", SourceList::Nfsa, "NFSA-PHH"),
            Err("no scheme covers NFSA families in state 24".into())
        );
        assert!(
            catalogue
                .schemes_for_row("10", SourceList::Secc, "GOLD")
                .unwrap_err()
                .starts_with("PMJAY does not accept category \"GOLD\"")
        );
    }

    #[test]
    fn the_senior_top_up_starts_in_the_year_a_person_turns_seventy() {
        let catalogue = catalogue();
        let codes = |yob, year| {
            catalogue
                .schemes_of(
                    "PMJAY",
                    yob,
                    NaiveDate::from_ymd_opt(year, 6, 1).expect("date"),
                )
                .iter()
                .map(|s| s.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(1955, 2024), [PMJAY]);
        assert_eq!(codes(1955, 2025), [PMJAY, PMJAY_SENIOR]);
    }
}

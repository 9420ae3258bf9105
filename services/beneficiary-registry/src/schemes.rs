//! The schemes the registry knows, and who each one covers (DESIGN §4, Cover).
//!
//! Schemes are data: rows a state's administrator creates and changes over
//! gRPC (cover, kind, policy year, categories, the lists that enrol people,
//! draw order, reserved packages). Requests read them from an in-memory
//! [`Catalogue`] that a change made here replaces at once and that other
//! replicas reload within `service.scheme_refresh_seconds`.

use ayushman_domain::{Money, PolicyYear, PolicyYearStart};
use ayushman_platform::{
    ApiError,
    refreshing::{Book, Reference},
};
use ayushman_proto::beneficiary::v1::{CoverKind, SchemeSponsor, SchemeStatus, SourceList};
use chrono::{Datelike, NaiveDate};
use sea_orm::ConnectionTrait;

use crate::store::{
    entities::{beneficiary, scheme},
    queries,
};

/// PM-JAY.
pub const PMJAY: &str = "PMJAY";
/// Ayushman Vay Vandana: PM-JAY's cover for people aged 70 and over.
pub const PMJAY_SENIOR: &str = "PMJAY-70PLUS";

/// Which rows of which list a scheme takes: `state` empty for every state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub source: SourceList,
    pub state: String,
}

/// A scheme with its cover and rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    pub code: String,
    pub name: String,
    pub sponsor: SchemeSponsor,
    /// Empty for national schemes.
    pub state_code: String,
    pub cover_kind: CoverKind,
    pub cover: Money,
    pub year_start: PolicyYearStart,
    pub categories: Vec<String>,
    pub enrolments: Vec<Enrolment>,
    pub portability_allowed: bool,
    pub tops_up: String,
    pub minimum_age: i32,
    pub draw_order: i32,
    pub reserved_packages: Vec<String>,
    /// The scheme whose hospitals and agreements serve this one; never empty.
    pub network: String,
    pub status: SchemeStatus,
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Scheme {
    /// The policy year containing `date`.
    pub fn policy_year(&self, date: NaiveDate) -> PolicyYear {
        self.year_start.year_containing(date)
    }

    /// Whether it takes new treatment.
    pub fn is_active(&self) -> bool {
        self.status != SchemeStatus::Closed
    }

    /// Whether a row of `source` in `state` with `category` enrols into it.
    fn enrols(&self, source: SourceList, state: &str) -> bool {
        self.enrolments
            .iter()
            .any(|e| e.source == source && (e.state.is_empty() || e.state == state))
    }

    /// A scheme as stored, or why the row is unusable.
    pub fn from_row(row: &scheme::Model) -> Result<Self, String> {
        let year_start = u32::try_from(row.year_start_month)
            .ok()
            .zip(u32::try_from(row.year_start_day).ok())
            .and_then(|(month, day)| PolicyYearStart::new(month, day).ok())
            .ok_or_else(|| format!("scheme {} has no real policy year start", row.scheme_code))?;
        let enrolments = list(&row.enrolments)
            .iter()
            .map(|entry| {
                let (source, state) = entry.split_once(':').unwrap_or((entry, ""));
                SourceList::from_str_name(source)
                    .map(|source| Enrolment {
                        source,
                        state: state.to_owned(),
                    })
                    .ok_or_else(|| format!("scheme {}: unknown list {source}", row.scheme_code))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            code: row.scheme_code.clone(),
            name: row.name.clone(),
            sponsor: SchemeSponsor::from_str_name(&row.sponsor).unwrap_or_default(),
            state_code: row.state_code.clone(),
            cover_kind: CoverKind::from_str_name(&row.cover_kind).unwrap_or_default(),
            cover: Money::from_paise(row.cover_paise),
            year_start,
            categories: list(&row.eligibility_categories),
            enrolments,
            portability_allowed: row.portability_allowed,
            tops_up: row.tops_up_scheme_code.clone(),
            minimum_age: row.minimum_age_years,
            draw_order: row.draw_order,
            reserved_packages: list(&row.reserved_package_codes),
            network: if row.network_scheme_code.is_empty() {
                row.scheme_code.clone()
            } else {
                row.network_scheme_code.clone()
            },
            status: SchemeStatus::from_str_name(&row.status).unwrap_or(SchemeStatus::Active),
        })
    }

    /// The row that stores it.
    pub fn to_row(&self) -> scheme::Model {
        scheme::Model {
            scheme_code: self.code.clone(),
            name: self.name.clone(),
            sponsor: self.sponsor.as_str_name().to_owned(),
            state_code: self.state_code.clone(),
            cover_kind: self.cover_kind.as_str_name().to_owned(),
            cover_paise: self.cover.paise(),
            year_start_month: self.year_start.month() as i32,
            year_start_day: self.year_start.day() as i32,
            eligibility_categories: self.categories.join(","),
            enrolments: self
                .enrolments
                .iter()
                .map(|e| format!("{}:{}", e.source.as_str_name(), e.state))
                .collect::<Vec<_>>()
                .join(","),
            portability_allowed: self.portability_allowed,
            tops_up_scheme_code: self.tops_up.clone(),
            minimum_age_years: self.minimum_age,
            draw_order: self.draw_order,
            reserved_package_codes: self.reserved_packages.join(","),
            network_scheme_code: if self.network == self.code {
                String::new()
            } else {
                self.network.clone()
            },
            status: self.status.as_str_name().to_owned(),
        }
    }
}

/// Every scheme at one moment, in draw order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    schemes: Vec<Scheme>,
}

impl Catalogue {
    /// The schemes of `rows`; a row that cannot be read is left out and logged.
    pub fn from_rows(rows: &[scheme::Model]) -> Self {
        let mut schemes: Vec<Scheme> = rows
            .iter()
            .filter_map(|row| match Scheme::from_row(row) {
                Ok(scheme) => Some(scheme),
                Err(error) => {
                    tracing::error!(%error, "scheme left out");
                    None
                }
            })
            .collect();
        schemes.sort_by(|a, b| (a.draw_order, &a.code).cmp(&(b.draw_order, &b.code)));
        Self { schemes }
    }

    /// Every scheme, in draw order.
    pub fn all(&self) -> &[Scheme] {
        &self.schemes
    }

    /// A scheme by code.
    pub fn get(&self, code: &str) -> Option<&Scheme> {
        self.schemes.iter().find(|s| s.code == code)
    }

    /// The schemes a row of an eligibility list enrols into, or why none does:
    /// each active scheme taking the row's list in its state, when it accepts
    /// the row's category.
    pub fn schemes_for_row(
        &self,
        state_code: &str,
        source: SourceList,
        category: &str,
    ) -> Result<Vec<String>, String> {
        let taking: Vec<&Scheme> = self
            .schemes
            .iter()
            .filter(|s| s.is_active() && s.enrols(source, state_code))
            .collect();
        if taking.is_empty() {
            return Err(format!(
                "no scheme covers {} families in state {state_code}",
                source.as_str_name().trim_start_matches("SOURCE_LIST_")
            ));
        }
        let accepting: Vec<String> = taking
            .iter()
            .filter(|s| s.categories.iter().any(|c| c == category))
            .map(|s| s.code.clone())
            .collect();
        if accepting.is_empty() {
            let accepted: Vec<&str> = taking
                .iter()
                .flat_map(|s| s.categories.iter().map(String::as_str))
                .collect();
            return Err(format!(
                "{} does not accept category {category:?}; accepted: {}",
                taking
                    .iter()
                    .map(|s| s.code.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                accepted.join(", ")
            ));
        }
        Ok(accepting)
    }

    /// The schemes covering `member` on `date`, in draw order: those they were
    /// enrolled in, those that take their list and category now (a scheme a
    /// state adds covers the people already listed), and every senior scheme
    /// topping one of them up once they reach its minimum age.
    pub fn schemes_of(&self, member: &Member<'_>, date: NaiveDate) -> Vec<&Scheme> {
        let age = date.year() - member.year_of_birth;
        let covers = |s: &Scheme| {
            member.listed.split(',').any(|c| c == s.code)
                || (s.enrols(member.source, member.state)
                    && s.categories.iter().any(|c| c == member.category))
        };
        let base: Vec<&Scheme> = self.schemes.iter().filter(|s| covers(s)).collect();
        self.schemes
            .iter()
            .filter(|s| {
                if s.minimum_age == 0 {
                    return base.iter().any(|b| b.code == s.code);
                }
                age >= s.minimum_age && base.iter().any(|b| b.code == s.code || b.code == s.tops_up)
            })
            .collect()
    }
}

/// What decides a person's schemes.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// Their home state.
    pub state: &'a str,
    /// The list they were found on.
    pub source: SourceList,
    /// Their category on it, e.g. `NFSA-PHH`.
    pub category: &'a str,
    /// The schemes they were enrolled in, comma-separated.
    pub listed: &'a str,
    pub year_of_birth: i32,
}

impl<'a> Member<'a> {
    /// A person as stored.
    pub fn of(person: &'a beneficiary::Model) -> Self {
        Self {
            state: &person.state_code,
            source: SourceList::from_str_name(&person.source_list).unwrap_or_default(),
            category: &person.eligibility_category,
            listed: &person.scheme_codes,
            year_of_birth: person.year_of_birth,
        }
    }
}

/// The catalogue a replica serves from: replaced at once by its own changes,
/// reloaded from the database when older than `refresh` (other replicas' changes).
pub type SchemeBook = Book<Catalogue>;

impl Reference for Catalogue {
    async fn load(db: &impl ConnectionTrait) -> Result<Self, ApiError> {
        Ok(Catalogue::from_rows(&queries::all_schemes(db).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(code: &str, draw_order: i32, enrolments: &str, categories: &str) -> scheme::Model {
        scheme::Model {
            scheme_code: code.into(),
            name: code.into(),
            sponsor: SchemeSponsor::Central.as_str_name().into(),
            state_code: String::new(),
            cover_kind: CoverKind::FamilyFloater.as_str_name().into(),
            cover_paise: 5_00_000_00,
            year_start_month: 4,
            year_start_day: 1,
            eligibility_categories: categories.into(),
            enrolments: enrolments.into(),
            portability_allowed: true,
            tops_up_scheme_code: String::new(),
            minimum_age_years: 0,
            draw_order,
            reserved_package_codes: String::new(),
            network_scheme_code: String::new(),
            status: SchemeStatus::Active.as_str_name().into(),
        }
    }

    fn catalogue() -> Catalogue {
        Catalogue::from_rows(&[
            scheme(
                "RJ-MAA",
                3,
                "SOURCE_LIST_NFSA:08,SOURCE_LIST_SECC:08",
                "NFSA-PHH,SECC-D1",
            ),
            scheme("PMJAY", 1, "SOURCE_LIST_SECC:", "SECC-D1"),
            scheme::Model {
                cover_kind: CoverKind::SeniorTopUp.as_str_name().into(),
                tops_up_scheme_code: "PMJAY".into(),
                minimum_age_years: 70,
                network_scheme_code: "PMJAY".into(),
                ..scheme("PMJAY-70PLUS", 2, "SOURCE_LIST_AGE_70_PLUS:", "AGE-70-PLUS")
            },
        ])
    }

    #[test]
    fn a_scheme_is_read_back_as_it_was_stored() {
        let catalogue = catalogue();
        let senior = catalogue.get(PMJAY_SENIOR).expect("senior scheme");
        assert_eq!(senior.network, "PMJAY");
        assert_eq!(Scheme::from_row(&senior.to_row()).as_ref(), Ok(senior));
        let year = senior.policy_year(NaiveDate::from_ymd_opt(2025, 7, 18).expect("date"));
        assert_eq!(year.to_string(), "2025-26");
    }

    #[test]
    fn lists_and_states_decide_the_schemes_of_a_row_in_draw_order() {
        let catalogue = catalogue();
        assert_eq!(
            catalogue.schemes_for_row("08", SourceList::Secc, "SECC-D1"),
            Ok(vec!["PMJAY".to_owned(), "RJ-MAA".to_owned()])
        );
        assert_eq!(
            catalogue.schemes_for_row("10", SourceList::Secc, "SECC-D1"),
            Ok(vec!["PMJAY".to_owned()])
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

    fn member(listed: &str, year_of_birth: i32) -> Member<'_> {
        Member {
            state: "10",
            source: SourceList::Nfsa,
            category: "NFSA-PHH",
            listed,
            year_of_birth,
        }
    }

    fn codes(catalogue: &Catalogue, member: &Member<'_>, year: i32) -> Vec<String> {
        catalogue
            .schemes_of(member, NaiveDate::from_ymd_opt(year, 6, 1).expect("date"))
            .iter()
            .map(|s| s.code.clone())
            .collect()
    }

    #[test]
    fn the_senior_cover_starts_in_the_year_a_person_turns_seventy() {
        let catalogue = catalogue();
        let codes = |listed, yob, year| codes(&catalogue, &member(listed, yob), year);
        assert_eq!(codes("PMJAY", 1955, 2024), ["PMJAY"]);
        assert_eq!(codes("PMJAY", 1955, 2025), ["PMJAY", "PMJAY-70PLUS"]);
        assert_eq!(
            codes("RJ-MAA", 1950, 2025),
            ["RJ-MAA"],
            "MAA is no PM-JAY family"
        );
        assert_eq!(codes("PMJAY-70PLUS", 1950, 2025), ["PMJAY-70PLUS"]);
        assert!(
            codes("PMJAY-70PLUS", 1990, 2025).is_empty(),
            "never below 70"
        );
    }

    #[test]
    fn a_scheme_added_later_covers_the_people_its_lists_already_hold() {
        let mut rows = vec![scheme("PMJAY", 1, "SOURCE_LIST_NFSA:10", "NFSA-PHH")];
        let listed = member("PMJAY", 1980);
        assert_eq!(
            codes(&Catalogue::from_rows(&rows), &listed, 2025),
            ["PMJAY"]
        );
        rows.push(scheme(
            "BR-TOPUP",
            3,
            "SOURCE_LIST_NFSA:10",
            "NFSA-PHH,NFSA-AAY",
        ));
        assert_eq!(
            codes(&Catalogue::from_rows(&rows), &listed, 2025),
            ["PMJAY", "BR-TOPUP"]
        );
        let elsewhere = Member {
            state: "22",
            ..listed
        };
        assert_eq!(
            codes(&Catalogue::from_rows(&rows), &elsewhere, 2025),
            ["PMJAY"]
        );
    }
}

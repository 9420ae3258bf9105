use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::InvalidValue;

/// The day of the year a scheme's policy year begins (e.g. 1 April), set per scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyYearStart {
    month: u32,
    day: u32,
}

impl PolicyYearStart {
    /// A start day; 29 February is refused because it does not come every year.
    pub fn new(month: u32, day: u32) -> Result<Self, InvalidValue> {
        if month == 2 && day == 29 {
            return Err(InvalidValue::new(
                "a policy year cannot start on 29 February",
            ));
        }
        NaiveDate::from_ymd_opt(2001, month, day)
            .map(|_| Self { month, day })
            .ok_or(InvalidValue::new(
                "policy year start must be a real day of the year",
            ))
    }

    /// Month, 1-12.
    pub fn month(&self) -> u32 {
        self.month
    }

    /// Day of the month.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The policy year that contains `date`.
    pub fn year_containing(&self, date: NaiveDate) -> PolicyYear {
        let this_year = self.start_in(date.year());
        let start = if date >= this_year {
            this_year
        } else {
            self.start_in(date.year() - 1)
        };
        PolicyYear {
            start,
            end: self.start_in(start.year() + 1).pred_opt().unwrap_or(start),
        }
    }

    fn start_in(&self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, self.month, self.day).unwrap_or(NaiveDate::MIN)
    }
}

/// One policy year: the period a family's cover is granted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyYear {
    start: NaiveDate,
    end: NaiveDate,
}

impl PolicyYear {
    /// First day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Last day.
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Whether `date` falls in the year.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

/// `2025-26` for a year starting in 2025 (as printed on reports); a year starting
/// on 1 January shows just `2025`.
impl fmt::Display for PolicyYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start.year() == self.end.year() {
            write!(f, "{}", self.start.year())
        } else {
            write!(f, "{}-{:02}", self.start.year(), self.end.year() % 100)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn an_april_year_runs_from_1_april_to_31_march() {
        let april = PolicyYearStart::new(4, 1).expect("valid");
        let year = april.year_containing(date(2025, 7, 18));
        assert_eq!(
            (year.start(), year.end()),
            (date(2025, 4, 1), date(2026, 3, 31))
        );
        assert_eq!(year.to_string(), "2025-26");
        assert_eq!(april.year_containing(date(2026, 3, 31)), year);
        assert_eq!(
            april.year_containing(date(2026, 4, 1)).to_string(),
            "2026-27"
        );
    }

    #[test]
    fn a_calendar_year_is_labelled_by_its_year() {
        let january = PolicyYearStart::new(1, 1).expect("valid");
        assert_eq!(
            january.year_containing(date(2024, 12, 31)).to_string(),
            "2024"
        );
    }

    #[test]
    fn impossible_start_days_are_refused() {
        assert!(PolicyYearStart::new(2, 29).is_err());
        assert!(PolicyYearStart::new(13, 1).is_err());
        assert!(PolicyYearStart::new(4, 31).is_err());
    }

    proptest! {
        #[test]
        fn every_date_falls_in_the_year_computed_for_it(
            month in 1u32..=12, day in 1u32..=28, days in 0i64..40_000,
        ) {
            let start = PolicyYearStart::new(month, day).expect("valid");
            let when = date(1990, 1, 1) + chrono::Duration::days(days);
            let year = start.year_containing(when);
            prop_assert!(year.contains(when));
            prop_assert_eq!((year.start().month(), year.start().day()), (month, day));
            prop_assert_eq!(start.year_containing(year.end() + chrono::Duration::days(1)).start(), year.end() + chrono::Duration::days(1));
        }
    }
}

//! Translations every handler needs between the contracts' wire types and Rust
//! values, with INVALID_ARGUMENT naming the field when a value is unusable.

use ayushman_proto::{common::v1::YearMonth, google::r#type::Date};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::ApiError;

/// A `google.type.Date` as a calendar day; `None` when unset.
pub fn date_from_proto(field: &str, date: Option<&Date>) -> Result<Option<NaiveDate>, ApiError> {
    let Some(date) = date else { return Ok(None) };
    let parts = (u32::try_from(date.month), u32::try_from(date.day));
    match parts {
        (Ok(month), Ok(day)) => NaiveDate::from_ymd_opt(date.year, month, day)
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid(
                    field,
                    format!("{}-{:02}-{:02} is not a real date", date.year, month, day),
                )
            }),
        _ => Err(ApiError::invalid(field, "month and day must be positive")),
    }
}

/// A required `google.type.Date`.
pub fn required_date(field: &str, date: Option<&Date>) -> Result<NaiveDate, ApiError> {
    date_from_proto(field, date)?.ok_or_else(|| ApiError::invalid(field, "is required"))
}

/// A calendar day as a `google.type.Date`.
pub fn date_to_proto(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// An instant as a `google.protobuf.Timestamp`.
pub fn timestamp_to_proto(instant: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.timestamp(),
        nanos: instant.timestamp_subsec_nanos() as i32,
    }
}

/// Today in India (IST, UTC+05:30): the day hospitals and reports count in.
pub fn today_in_india() -> NaiveDate {
    ayushman_domain::india_time::today()
}

/// A validated page request of a List RPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows to return.
    pub size: u64,
    /// The last key of the previous page; `None` for the first page.
    pub after: Option<String>,
}

impl PageRequest {
    /// Reads `page_size` (0 means `default`, above `max` is refused) and `page_token`.
    pub fn parse(
        page_size: i32,
        page_token: &str,
        default: u64,
        max: u64,
    ) -> Result<Self, ApiError> {
        let size = match u64::try_from(page_size) {
            Ok(0) => default,
            Ok(size) if size <= max => size,
            _ => {
                return Err(ApiError::invalid(
                    "page_size",
                    format!("must be between 0 and {max}"),
                ));
            }
        };
        let after = (!page_token.is_empty()).then(|| page_token.to_owned());
        Ok(Self { size, after })
    }

    /// Splits `rows` (fetched with one extra) into the page and its next-page token.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
        let limit = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() > limit {
            rows.truncate(limit);
            let token = rows.last().map(&key).unwrap_or_default();
            (rows, token)
        } else {
            (rows, String::new())
        }
    }
}

/// An enum field's value, refusing UNSPECIFIED and unknown numbers.
pub fn required_enum<E>(field: &str, value: i32) -> Result<E, ApiError>
where
    E: TryFrom<i32> + PartialEq + Default,
{
    match E::try_from(value) {
        Ok(parsed) if parsed != E::default() => Ok(parsed),
        Ok(_) => Err(ApiError::invalid(field, "is required")),
        Err(_) => Err(ApiError::invalid(
            field,
            format!("{value} is not a known value"),
        )),
    }
}

/// An optional enum filter: UNSPECIFIED means no filter.
pub fn optional_enum<E>(field: &str, value: i32) -> Result<Option<E>, ApiError>
where
    E: TryFrom<i32> + PartialEq + Default,
{
    match E::try_from(value) {
        Ok(parsed) if parsed == E::default() => Ok(None),
        Ok(parsed) => Ok(Some(parsed)),
        Err(_) => Err(ApiError::invalid(
            field,
            format!("{value} is not a known value"),
        )),
    }
}

/// A string filter: empty means no filter.
pub fn optional_text(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A required text field, trimmed.
pub fn required_text(field: &str, value: &str) -> Result<String, ApiError> {
    optional_text(value).ok_or_else(|| ApiError::invalid(field, "is required"))
}

/// A month as `year * 100 + month`, the form reports group by.
pub fn month_number(field: &str, month: Option<&YearMonth>) -> Result<i32, ApiError> {
    let month = month.ok_or_else(|| ApiError::invalid(field, "is required"))?;
    if !(1..=12).contains(&month.month) || !(2000..=9999).contains(&month.year) {
        return Err(ApiError::invalid(
            field,
            "must be a month of a year from 2000, e.g. {year: 2025, month: 5}",
        ));
    }
    Ok(month.year * 100 + month.month)
}

/// `year * 100 + month` back to a `YearMonth`.
pub fn year_month(month: i32) -> YearMonth {
    YearMonth {
        year: month / 100,
        month: month % 100,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_both_ways_and_impossible_ones_name_the_field() {
        let day = NaiveDate::from_ymd_opt(2025, 7, 18).expect("valid");
        assert_eq!(
            date_from_proto("visit_date", Some(&date_to_proto(day))).expect("valid"),
            Some(day)
        );
        let error = date_from_proto(
            "visit_date",
            Some(&Date {
                year: 2025,
                month: 2,
                day: 30,
            }),
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "invalid request");
        assert!(
            matches!(error, ApiError::InvalidArgument(v) if v.iter().eq([("visit_date", "2025-02-30 is not a real date")]))
        );
        assert!(required_date("visit_date", None).is_err());
    }

    #[test]
    fn page_sizes_default_cap_and_split() {
        let page = PageRequest::parse(0, "", 50, 500).expect("default");
        assert_eq!(
            page,
            PageRequest {
                size: 50,
                after: None
            }
        );
        assert!(PageRequest::parse(501, "", 50, 500).is_err());
        assert!(PageRequest::parse(-1, "", 50, 500).is_err());
        let page = PageRequest::parse(2, "B", 50, 500).expect("valid");
        assert_eq!(page.after.as_deref(), Some("B"));
        assert_eq!(
            page.finish(vec!["C", "D", "E"], |s| (*s).to_owned()),
            (vec!["C", "D"], "D".to_owned())
        );
        assert_eq!(
            page.finish(vec!["C"], |s| (*s).to_owned()),
            (vec!["C"], String::new())
        );
    }
}

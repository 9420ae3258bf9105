//! Indian Standard Time (UTC+05:30): the clock hospitals, claims and reports
//! count days and months in. Instants are stored in UTC; these turn them into
//! Indian days and months and back, so a claim submitted just after midnight on
//! the 1st belongs to that month, not the one before.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// UTC+05:30.
pub fn ist() -> FixedOffset {
    FixedOffset::east_opt(5 * 3600 + 1800).expect("IST offset is valid")
}

/// Today's date in India.
pub fn today() -> NaiveDate {
    day_of(Utc::now())
}

/// The Indian calendar day an instant falls on.
pub fn day_of(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&ist()).date_naive()
}

/// The Indian month an instant falls in, as `yyyymm` (e.g. 202507).
pub fn month_of(instant: DateTime<Utc>) -> i32 {
    let day = day_of(instant);
    day.year() * 100 + day.month() as i32
}

/// Midnight at the start of `day` in India, as an instant.
pub fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN)
        .and_local_timezone(ist())
        .single()
        .expect("IST has no gaps")
        .with_timezone(&Utc)
}

/// Midnight at the start of the first day of month `yyyymm` in India; `None`
/// when it is not a real month.
pub fn start_of_month(yyyymm: i32) -> Option<DateTime<Utc>> {
    let month = u32::try_from(yyyymm % 100).ok()?;
    NaiveDate::from_ymd_opt(yyyymm / 100, month, 1).map(start_of_day)
}

/// The month after `yyyymm`, as `yyyymm`.
pub fn next_month(yyyymm: i32) -> i32 {
    if yyyymm % 100 == 12 {
        (yyyymm / 100 + 1) * 100 + 1
    } else {
        yyyymm + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("RFC 3339 instant")
    }

    #[test]
    fn half_past_six_in_the_evening_utc_is_the_next_indian_day() {
        assert_eq!(
            day_of(utc("2025-06-30T18:30:00Z")),
            NaiveDate::from_ymd_opt(2025, 7, 1).expect("date")
        );
        assert_eq!(month_of(utc("2025-06-30T18:29:59Z")), 202506);
        assert_eq!(month_of(utc("2025-06-30T18:30:00Z")), 202507);
    }

    #[test]
    fn a_month_starts_at_indian_midnight() {
        assert_eq!(start_of_month(202507), Some(utc("2025-06-30T18:30:00Z")));
        assert_eq!(start_of_month(202513), None);
        assert_eq!(next_month(202512), 202601);
        assert_eq!(next_month(202507), 202508);
    }

    #[test]
    fn start_of_day_and_day_of_round_trip() {
        let day = NaiveDate::from_ymd_opt(2024, 7, 18).expect("date");
        assert_eq!(day_of(start_of_day(day)), day);
    }
}

use std::{fmt, str::FromStr};

use crate::InvalidValue;

/// An amount of Indian rupees held exactly in paise (1 ₹ = 100 paise).
///
/// Arithmetic is checked: an overflow is an error, never a wrapped balance.
/// Displayed with Indian digit grouping: `₹5,00,000`, `₹1,23,45,678.50`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Nothing.
    pub const ZERO: Self = Self(0);
    /// ₹10,00,00,000: above any cover, package, bill or payment of one case;
    /// an amount larger than this in a request is a mistake, not a claim.
    pub const LARGEST_CASE_AMOUNT: Self = Self(10_00_00_000_00);

    /// An amount in paise.
    pub const fn from_paise(paise: i64) -> Self {
        Self(paise)
    }

    /// A whole number of rupees; `None` if it does not fit.
    pub const fn from_rupees(rupees: i64) -> Option<Self> {
        match rupees.checked_mul(100) {
            Some(paise) => Some(Self(paise)),
            None => None,
        }
    }

    /// The amount in paise, as carried on the wire (`amount_paise`).
    pub const fn paise(self) -> i64 {
        self.0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// Difference, or `None` on overflow.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// Multiplied by a whole count, or `None` on overflow.
    pub fn checked_mul(self, count: i64) -> Option<Self> {
        self.0.checked_mul(count).map(Self)
    }

    /// A share in basis points (10 000 = 100 %), rounded half away from zero to the paisa.
    pub fn checked_share(self, basis_points: i64) -> Option<Self> {
        let scaled = i128::from(self.0) * i128::from(basis_points);
        let rounded = (scaled + scaled.signum() * 5_000) / 10_000;
        i64::try_from(rounded).ok().map(Self)
    }

    /// Sum of many amounts, or `None` on overflow.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Self>) -> Option<Self> {
        amounts.into_iter().try_fold(Self::ZERO, Self::checked_add)
    }
}

/// A count with Indian digit grouping, as district reports print it: `28,95,434`.
pub fn format_count(count: i64) -> String {
    let grouped = group_indian(&count.unsigned_abs().to_string());
    if count < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// Groups the digits of a whole number the Indian way: last three, then pairs.
fn group_indian(digits: &str) -> String {
    if digits.len() <= 3 {
        return digits.to_owned();
    }
    let (head, last3) = digits.split_at(digits.len() - 3);
    let mut groups: Vec<&str> = Vec::new();
    let mut end = head.len();
    while end > 0 {
        let start = end.saturating_sub(2);
        groups.push(&head[start..end]);
        end = start;
    }
    groups.reverse();
    format!("{},{}", groups.join(","), last3)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let rupees = group_indian(&(magnitude / 100).to_string());
        match magnitude % 100 {
            0 => write!(f, "{sign}₹{rupees}"),
            paise => write!(f, "{sign}₹{rupees}.{paise:02}"),
        }
    }
}

impl FromStr for Money {
    type Err = InvalidValue;

    /// Reads rupees as people write them: `₹5,00,000`, `500000`, `1,234.5`, `-₹10`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.trim();
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let text: String = text
            .trim_start_matches('₹')
            .chars()
            .filter(|c| *c != ',')
            .collect();
        let (rupees, paise) = text.split_once('.').unwrap_or((&text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if rupees.is_empty() || !all_digits(rupees) || !all_digits(paise) || paise.len() > 2 {
            return Err(InvalidValue::new(
                "amount must be rupees like 5,00,000 or 1234.50",
            ));
        }
        let too_large = || InvalidValue::new("amount is too large");
        let rupees: i64 = rupees.parse().map_err(|_| too_large())?;
        let paise: i64 = format!("{paise:0<2}").parse().map_err(|_| too_large())?;
        let total = rupees
            .checked_mul(100)
            .and_then(|r| r.checked_add(paise))
            .ok_or_else(too_large)?;
        Ok(Self(if negative { -total } else { total }))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rupees_are_grouped_the_indian_way() {
        assert_eq!(Money::from_paise(50_000_000).to_string(), "₹5,00,000");
        assert_eq!(
            Money::from_paise(197_900_000_000).to_string(),
            "₹1,97,90,00,000"
        );
        assert_eq!(Money::from_paise(123_450).to_string(), "₹1,234.50");
        assert_eq!(Money::from_paise(999).to_string(), "₹9.99");
        assert_eq!(Money::from_paise(-100_000).to_string(), "-₹1,000");
        assert_eq!(Money::ZERO.to_string(), "₹0");
    }

    #[test]
    fn counts_are_grouped_like_district_reports() {
        assert_eq!(format_count(2_895_434), "28,95,434");
        assert_eq!(format_count(60_045), "60,045");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(-100_000), "-1,00,000");
    }

    #[test]
    fn arithmetic_is_checked() {
        let cover = Money::from_rupees(500_000).expect("fits");
        assert_eq!(cover.paise(), 50_000_000);
        assert_eq!(
            cover.checked_sub(Money::from_paise(1)),
            Some(Money::from_paise(49_999_999))
        );
        assert_eq!(
            Money::from_paise(i64::MAX).checked_add(Money::from_paise(1)),
            None
        );
        assert_eq!(Money::from_rupees(i64::MAX), None);
        assert_eq!(
            Money::checked_sum([cover, cover]),
            Some(Money::from_paise(100_000_000))
        );
    }

    #[test]
    fn shares_in_basis_points_round_to_the_paisa() {
        assert_eq!(
            Money::from_paise(10_000).checked_share(1_000),
            Some(Money::from_paise(1_000))
        );
        assert_eq!(
            Money::from_paise(5).checked_share(5_000),
            Some(Money::from_paise(3))
        );
        assert_eq!(
            Money::from_paise(-5).checked_share(5_000),
            Some(Money::from_paise(-3))
        );
    }

    #[test]
    fn amounts_are_read_as_people_write_them() {
        assert_eq!(
            "₹5,00,000".parse::<Money>(),
            Ok(Money::from_paise(50_000_000))
        );
        assert_eq!("1234.5".parse::<Money>(), Ok(Money::from_paise(123_450)));
        assert!("12.345".parse::<Money>().is_err());
        assert!("five".parse::<Money>().is_err());
        assert!("".parse::<Money>().is_err());
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(paise in any::<i64>().prop_filter("magnitude fits", |p| *p != i64::MIN)) {
            let money = Money::from_paise(paise);
            prop_assert_eq!(money.to_string().parse::<Money>(), Ok(money));
        }
    }
}

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{InvalidValue, verhoeff};

/// A 12-digit Aadhaar number whose Verhoeff check digit is right.
///
/// It is never stored or logged in full: `Debug` and `Display` show only the last
/// four digits, services keep [`Aadhaar::digest`] for dedupe and [`Aadhaar::last4`]
/// for display.
#[derive(Clone, PartialEq, Eq)]
pub struct Aadhaar([u8; 12]);

/// Keyed HMAC-SHA256 of an Aadhaar number, hex-encoded: the only form stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AadhaarDigest(String);

impl AadhaarDigest {
    /// The digest as 64 lowercase hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Aadhaar {
    /// Parses 12 digits, allowing spaces or dashes between groups ("2345 6789 0124").
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let mut digits = [0u8; 12];
        let mut count = 0;
        for c in input.chars().filter(|c| !matches!(c, ' ' | '-')) {
            let digit = c
                .to_digit(10)
                .ok_or(InvalidValue::new("Aadhaar must contain only digits"))?;
            if count == 12 {
                return Err(InvalidValue::new("Aadhaar must have 12 digits"));
            }
            digits[count] = digit as u8;
            count += 1;
        }
        if count != 12 {
            return Err(InvalidValue::new("Aadhaar must have 12 digits"));
        }
        if digits[0] < 2 {
            return Err(InvalidValue::new("Aadhaar cannot start with 0 or 1"));
        }
        if !verhoeff::is_valid(&digits) {
            return Err(InvalidValue::new("Aadhaar check digit is wrong"));
        }
        Ok(Self(digits))
    }

    /// Completes 11 leading digits (first digit 2-9) with their check digit.
    /// Used to make synthetic demo and test data; never to guess real numbers.
    pub fn from_first_eleven(first: [u8; 11]) -> Result<Self, InvalidValue> {
        if first.iter().any(|d| *d > 9) {
            return Err(InvalidValue::new("Aadhaar must contain only digits"));
        }
        let mut digits = [0u8; 12];
        digits[..11].copy_from_slice(&first);
        digits[11] = verhoeff::check_digit(&first);
        let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        Self::parse(&text)
    }

    /// The last four digits, for display on cards and screens.
    pub fn last4(&self) -> String {
        self.0[8..].iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The masked form shown to people: `XXXX-XXXX-1234`.
    pub fn masked(&self) -> String {
        format!("XXXX-XXXX-{}", self.last4())
    }

    /// HMAC-SHA256 under the deployment's secret key: equal numbers give equal
    /// digests, so duplicates are found without keeping the number.
    pub fn digest(&self, key: &[u8]) -> AadhaarDigest {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
        let ascii: Vec<u8> = self.0.iter().map(|d| b'0' + d).collect();
        mac.update(&ascii);
        AadhaarDigest(hex::encode(mac.finalize().into_bytes()))
    }

    /// The full 12 digits, for handing to a KYC provider only.
    pub fn expose_digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl fmt::Debug for Aadhaar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aadhaar({})", self.masked())
    }
}

impl fmt::Display for Aadhaar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // Synthetic numbers made with `from_first_eleven`; none belongs to a person.
    const VALID: &str = "234567890124";

    #[test]
    fn a_number_with_the_right_check_digit_parses_with_or_without_separators() {
        let plain = Aadhaar::parse(VALID).expect("valid");
        assert_eq!(Aadhaar::parse("2345 6789 0124").expect("spaced"), plain);
        assert_eq!(Aadhaar::parse("2345-6789-0124").expect("dashed"), plain);
    }

    #[test]
    fn a_wrong_check_digit_is_rejected() {
        assert_eq!(
            Aadhaar::parse("234567890125").unwrap_err().reason(),
            "Aadhaar check digit is wrong"
        );
    }

    #[test]
    fn wrong_lengths_letters_and_leading_zero_or_one_are_rejected() {
        assert_eq!(
            Aadhaar::parse("12345").unwrap_err().reason(),
            "Aadhaar must have 12 digits"
        );
        assert_eq!(
            Aadhaar::parse("2345678901245").unwrap_err().reason(),
            "Aadhaar must have 12 digits"
        );
        assert_eq!(
            Aadhaar::parse("23456789012A").unwrap_err().reason(),
            "Aadhaar must contain only digits"
        );
        assert_eq!(
            Aadhaar::parse("134567890124").unwrap_err().reason(),
            "Aadhaar cannot start with 0 or 1"
        );
    }

    #[test]
    fn debug_and_display_show_only_the_last_four_digits() {
        let aadhaar = Aadhaar::parse(VALID).expect("valid");
        assert_eq!(format!("{aadhaar}"), "XXXX-XXXX-0124");
        assert_eq!(format!("{aadhaar:?}"), "Aadhaar(XXXX-XXXX-0124)");
        assert!(!format!("{aadhaar:?}{aadhaar}").contains("23456789"));
        assert_eq!(aadhaar.last4(), "0124");
    }

    #[test]
    fn the_digest_depends_on_the_key_and_hides_the_number() {
        let aadhaar = Aadhaar::parse(VALID).expect("valid");
        let a = aadhaar.digest(b"key-one");
        assert_eq!(a, aadhaar.digest(b"key-one"));
        assert_ne!(a, aadhaar.digest(b"key-two"));
        assert_eq!(a.as_str().len(), 64);
        assert!(!a.as_str().contains(VALID));
    }

    fn eleven_digits() -> impl Strategy<Value = [u8; 11]> {
        (2u8..=9, proptest::array::uniform10(0u8..=9)).prop_map(|(first, rest)| {
            let mut digits = [0u8; 11];
            digits[0] = first;
            digits[1..].copy_from_slice(&rest);
            digits
        })
    }

    proptest! {
        #[test]
        fn every_completed_number_round_trips_through_its_text(first in eleven_digits()) {
            let aadhaar = Aadhaar::from_first_eleven(first).expect("completed");
            prop_assert_eq!(Aadhaar::parse(&aadhaar.expose_digits()).expect("parses"), aadhaar);
        }

        #[test]
        fn every_single_digit_change_is_caught(first in eleven_digits(), position in 0usize..12, bump in 1u8..=9) {
            let text = Aadhaar::from_first_eleven(first).expect("completed").expose_digits();
            let mut bytes = text.into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + bump) % 10;
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(Aadhaar::parse(&changed).is_err());
        }
    }
}

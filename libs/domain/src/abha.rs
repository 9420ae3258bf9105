use std::fmt;

use crate::InvalidValue;

/// A 14-digit ABHA (Ayushman Bharat Health Account) number, shown `XX-XXXX-XXXX-XXXX`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbhaNumber([u8; 14]);

impl AbhaNumber {
    /// Parses 14 digits, with or without the usual dashes or spaces.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        digits_14(input, "ABHA number").map(Self)
    }

    /// The 14 digits without separators, the stored form.
    pub fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl fmt::Display for AbhaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&group_14(&self.0))
    }
}

impl fmt::Debug for AbhaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbhaNumber({self})")
    }
}

/// Reads exactly 14 digits, skipping dashes and spaces; `what` names the id in errors.
pub(crate) fn digits_14(input: &str, what: &'static str) -> Result<[u8; 14], InvalidValue> {
    let mut digits = [0u8; 14];
    let mut count = 0;
    for c in input.chars().filter(|c| !matches!(c, ' ' | '-')) {
        let Some(digit) = c.to_digit(10) else {
            return Err(InvalidValue::owned(format!(
                "{what} must contain only digits"
            )));
        };
        if count == 14 {
            return Err(InvalidValue::owned(format!("{what} must have 14 digits")));
        }
        digits[count] = digit as u8;
        count += 1;
    }
    if count != 14 {
        return Err(InvalidValue::owned(format!("{what} must have 14 digits")));
    }
    Ok(digits)
}

/// Formats 14 digits as `XX-XXXX-XXXX-XXXX`.
pub(crate) fn group_14(digits: &[u8; 14]) -> String {
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    format!(
        "{}-{}-{}-{}",
        &text[..2],
        &text[2..6],
        &text[6..10],
        &text[10..]
    )
}

/// An ABHA address such as `sita.devi@abdm` (`@sbx` in the ABDM sandbox).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AbhaAddress(String);

impl AbhaAddress {
    /// Parses `handle@abdm` (case-insensitive): the handle is 4 to 32 letters,
    /// digits, dots or underscores, starting and ending with a letter or digit.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let lower = input.trim().to_ascii_lowercase();
        let Some((handle, domain)) = lower.split_once('@') else {
            return Err(InvalidValue::new("ABHA address must look like name@abdm"));
        };
        if domain != "abdm" && domain != "sbx" {
            return Err(InvalidValue::new("ABHA address must end in @abdm"));
        }
        if !(4..=32).contains(&handle.len()) {
            return Err(InvalidValue::new(
                "ABHA address name must have 4 to 32 characters",
            ));
        }
        if !handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(InvalidValue::new(
                "ABHA address name may contain only letters, digits, dots and underscores",
            ));
        }
        let edges_ok = handle.starts_with(|c: char| c.is_ascii_alphanumeric())
            && handle.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !edges_ok {
            return Err(InvalidValue::new(
                "ABHA address name must start and end with a letter or digit",
            ));
        }
        Ok(Self(lower))
    }

    /// The address, lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AbhaAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AbhaAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbhaAddress({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn an_abha_number_parses_with_or_without_dashes_and_shows_grouped() {
        let number = AbhaNumber::parse("91-2345-6789-0123").expect("dashed");
        assert_eq!(AbhaNumber::parse("91234567890123").expect("plain"), number);
        assert_eq!(number.to_string(), "91-2345-6789-0123");
        assert_eq!(number.digits(), "91234567890123");
    }

    #[test]
    fn an_abha_number_of_the_wrong_length_or_with_letters_is_rejected() {
        assert_eq!(
            AbhaNumber::parse("9123").unwrap_err().reason(),
            "ABHA number must have 14 digits"
        );
        assert_eq!(
            AbhaNumber::parse("91-2345-6789-012X").unwrap_err().reason(),
            "ABHA number must contain only digits"
        );
    }

    #[test]
    fn an_abha_address_is_lowercased_and_checked() {
        assert_eq!(
            AbhaAddress::parse("Sita.Devi@ABDM")
                .expect("valid")
                .as_str(),
            "sita.devi@abdm"
        );
        assert_eq!(
            AbhaAddress::parse("sita.devi").unwrap_err().reason(),
            "ABHA address must look like name@abdm"
        );
        assert_eq!(
            AbhaAddress::parse("sita@gmail.com").unwrap_err().reason(),
            "ABHA address must end in @abdm"
        );
        assert_eq!(
            AbhaAddress::parse("abc@abdm").unwrap_err().reason(),
            "ABHA address name must have 4 to 32 characters"
        );
        assert_eq!(
            AbhaAddress::parse(".sita@abdm").unwrap_err().reason(),
            "ABHA address name must start and end with a letter or digit"
        );
        assert_eq!(
            AbhaAddress::parse("si ta@abdm").unwrap_err().reason(),
            "ABHA address name may contain only letters, digits, dots and underscores"
        );
    }

    proptest! {
        #[test]
        fn abha_numbers_round_trip_through_their_display(digits in proptest::array::uniform14(0u8..=9)) {
            let number = AbhaNumber(digits);
            prop_assert_eq!(AbhaNumber::parse(&number.to_string()).expect("parses"), number);
        }

        #[test]
        fn abha_addresses_round_trip(handle in "[a-z0-9][a-z0-9._]{2,30}[a-z0-9]") {
            let address = AbhaAddress::parse(&format!("{handle}@abdm")).expect("parses");
            prop_assert_eq!(AbhaAddress::parse(&address.to_string()).expect("again"), address);
        }
    }
}

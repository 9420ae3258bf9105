use std::fmt;

use crate::InvalidValue;

/// A state or union territory by its two-digit census (LGD) code, e.g. `10` Bihar.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateCode(u8);

/// Census 2011 / LGD state codes with names. 25 and 26 stay for old records; their
/// merged union territory has code 38.
const STATES: [(u8, &str); 38] = [
    (1, "Jammu and Kashmir"),
    (2, "Himachal Pradesh"),
    (3, "Punjab"),
    (4, "Chandigarh"),
    (5, "Uttarakhand"),
    (6, "Haryana"),
    (7, "Delhi"),
    (8, "Rajasthan"),
    (9, "Uttar Pradesh"),
    (10, "Bihar"),
    (11, "Sikkim"),
    (12, "Arunachal Pradesh"),
    (13, "Nagaland"),
    (14, "Manipur"),
    (15, "Mizoram"),
    (16, "Tripura"),
    (17, "Meghalaya"),
    (18, "Assam"),
    (19, "West Bengal"),
    (20, "Jharkhand"),
    (21, "Odisha"),
    (22, "Chhattisgarh"),
    (23, "Madhya Pradesh"),
    (24, "Gujarat"),
    (25, "Daman and Diu"),
    (26, "Dadra and Nagar Haveli"),
    (27, "Maharashtra"),
    (28, "Andhra Pradesh"),
    (29, "Karnataka"),
    (30, "Goa"),
    (31, "Lakshadweep"),
    (32, "Kerala"),
    (33, "Tamil Nadu"),
    (34, "Puducherry"),
    (35, "Andaman and Nicobar Islands"),
    (36, "Telangana"),
    (37, "Ladakh"),
    (38, "Dadra and Nagar Haveli and Daman and Diu"),
];

/// Every known state and union territory, by code.
pub const ALL_STATES: [StateCode; 38] = {
    let mut all = [StateCode(0); 38];
    let mut i = 0;
    while i < 38 {
        all[i] = StateCode(STATES[i].0);
        i += 1;
    }
    all
};

impl StateCode {
    /// Bihar (10).
    pub const BIHAR: Self = Self(10);
    /// Rajasthan (08).
    pub const RAJASTHAN: Self = Self(8);
    /// Chhattisgarh (22).
    pub const CHHATTISGARH: Self = Self(22);

    /// Parses a two-digit code such as `"08"`.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim();
        if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new(
                "state code must be two digits, e.g. 10 for Bihar",
            ));
        }
        let number: u8 = text
            .parse()
            .map_err(|_| InvalidValue::new("state code must be two digits"))?;
        STATES
            .iter()
            .find(|(code, _)| *code == number)
            .map(|(code, _)| Self(*code))
            .ok_or_else(|| InvalidValue::owned(format!("unknown state code {text}")))
    }

    /// The two-digit code, zero-padded.
    pub fn code(&self) -> String {
        format!("{:02}", self.0)
    }

    /// The state's name.
    pub fn name(&self) -> &'static str {
        STATES
            .iter()
            .find(|(code, _)| *code == self.0)
            .map_or("unknown", |(_, name)| name)
    }
}

impl fmt::Display for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl fmt::Debug for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateCode({:02} {})", self.0, self.name())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_seed_states_have_their_census_codes() {
        assert_eq!(StateCode::parse("10").expect("Bihar").name(), "Bihar");
        assert_eq!(
            StateCode::parse("08").expect("Rajasthan"),
            StateCode::RAJASTHAN
        );
        assert_eq!(StateCode::CHHATTISGARH.code(), "22");
    }

    #[test]
    fn unknown_or_malformed_codes_are_rejected() {
        assert_eq!(
            StateCode::parse("99").unwrap_err().reason(),
            "unknown state code 99"
        );
        assert_eq!(
            StateCode::parse("8").unwrap_err().reason(),
            "state code must be two digits, e.g. 10 for Bihar"
        );
        assert!(StateCode::parse("00").is_err());
    }

    proptest! {
        #[test]
        fn every_state_round_trips_through_its_code(index in 0..ALL_STATES.len()) {
            let state = ALL_STATES[index];
            prop_assert_eq!(StateCode::parse(&state.code()).expect("parses"), state);
        }
    }
}

use std::fmt;

use crate::{
    InvalidValue, StateCode,
    abha::{digits_14, group_14},
};

/// A Health Facility Registry id: `IN`, the facility's 2-digit state code, 8 digits
/// (e.g. `IN2210000123` for a facility in Chhattisgarh).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HfrId {
    state: StateCode,
    serial: u32,
}

impl HfrId {
    /// Parses an HFR id; letters are case-insensitive.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim().to_ascii_uppercase();
        let Some(rest) = text.strip_prefix("IN") else {
            return Err(InvalidValue::new("HFR id must start with IN"));
        };
        if rest.len() != 10 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("HFR id must be IN followed by 10 digits"));
        }
        let state = StateCode::parse(&rest[..2])
            .map_err(|_| InvalidValue::new("HFR id has an unknown state code in digits 3-4"))?;
        let serial = rest[2..]
            .parse()
            .map_err(|_| InvalidValue::new("HFR id must be IN followed by 10 digits"))?;
        Ok(Self { state, serial })
    }

    /// Builds an id from a state and an 8-digit serial (demo data).
    pub fn new(state: StateCode, serial: u32) -> Result<Self, InvalidValue> {
        if serial > 99_999_999 {
            return Err(InvalidValue::new("HFR serial must have at most 8 digits"));
        }
        Ok(Self { state, serial })
    }

    /// The state the facility is in.
    pub fn state(&self) -> StateCode {
        self.state
    }
}

impl fmt::Display for HfrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IN{}{:08}", self.state.code(), self.serial)
    }
}

impl fmt::Debug for HfrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HfrId({self})")
    }
}

/// A Healthcare Professionals Registry id: 14 digits shown `XX-XXXX-XXXX-XXXX`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HprId([u8; 14]);

impl HprId {
    /// Parses 14 digits, with or without dashes.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        digits_14(input, "HPR id").map(Self)
    }
}

impl fmt::Display for HprId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&group_14(&self.0))
    }
}

impl fmt::Debug for HprId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HprId({self})")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ALL_STATES;

    #[test]
    fn an_hfr_id_carries_its_state() {
        let id = HfrId::parse("in2210000123").expect("valid");
        assert_eq!(id.to_string(), "IN2210000123");
        assert_eq!(id.state().name(), "Chhattisgarh");
    }

    #[test]
    fn malformed_hfr_ids_are_rejected_with_the_reason() {
        assert_eq!(
            HfrId::parse("XX2210000123").unwrap_err().reason(),
            "HFR id must start with IN"
        );
        assert_eq!(
            HfrId::parse("IN22100").unwrap_err().reason(),
            "HFR id must be IN followed by 10 digits"
        );
        assert_eq!(
            HfrId::parse("IN9910000123").unwrap_err().reason(),
            "HFR id has an unknown state code in digits 3-4"
        );
    }

    #[test]
    fn an_hpr_id_is_fourteen_digits_shown_grouped() {
        let id = HprId::parse("71432456781234").expect("valid");
        assert_eq!(id.to_string(), "71-4324-5678-1234");
        assert_eq!(
            HprId::parse("71-4324").unwrap_err().reason(),
            "HPR id must have 14 digits"
        );
    }

    proptest! {
        #[test]
        fn hfr_ids_round_trip(state_index in 0..ALL_STATES.len(), serial in 0u32..=99_999_999) {
            let id = HfrId::new(ALL_STATES[state_index], serial).expect("in range");
            prop_assert_eq!(HfrId::parse(&id.to_string()).expect("parses"), id);
        }
    }
}

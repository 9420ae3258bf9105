//! Any input: HprId::parse never panics, and what it accepts prints as
//! something that parses back to the same value.
#![no_main]

use ayushman_domain::HprId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(value) = HprId::parse(input) {
        let shown = value.to_string();
        let again = HprId::parse(&shown).expect("its own display parses");
        assert_eq!(again.to_string(), shown);
    }
});

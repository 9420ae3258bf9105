//! Any input: Aadhaar::parse never panics; what it accepts keeps its digits
//! through a second parse, and never shows them whole.
#![no_main]

use ayushman_domain::Aadhaar;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(aadhaar) = Aadhaar::parse(input) {
        let digits = aadhaar.expose_digits();
        let again = Aadhaar::parse(&digits).expect("its own digits parse");
        assert_eq!(again.expose_digits(), digits);
        assert!(!format!("{aadhaar} {aadhaar:?}").contains(&digits));
    }
});

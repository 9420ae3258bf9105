//! Pure types and rules of the Ayushman mesh: identifiers and their checksums,
//! money in paise, policy years and state codes. No I/O, no gRPC: every service
//! and tool uses these, and the handlers translate them to and from the contracts.

mod aadhaar;
mod abha;
mod error;
mod facility_ids;
pub mod india_time;
mod money;
mod policy_year;
mod share;
mod state;
mod verhoeff;

pub use aadhaar::{Aadhaar, AadhaarDigest};
pub use abha::{AbhaAddress, AbhaNumber};
pub use error::InvalidValue;
pub use facility_ids::{HfrId, HprId};
pub use money::{Money, format_count};
pub use policy_year::{PolicyYear, PolicyYearStart};
pub use share::share_basis_points;
pub use state::{ALL_STATES, StateCode};

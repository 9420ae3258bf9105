//! What district officers read every day of a card drive (DESIGN §1):
//! coverage by area and policy year, card logins and what they made, and a
//! campaign's daily report.

pub mod coverage;
pub mod daily;
pub mod operators;

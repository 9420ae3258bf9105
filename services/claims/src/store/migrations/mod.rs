//! Schema changes, oldest first; a released migration never changes the
//! schema it makes (it may be rewritten to make the same schema).

pub mod m0001_claims;
pub mod m0002_money_state;
pub mod m0003_turnaround_and_specialty;

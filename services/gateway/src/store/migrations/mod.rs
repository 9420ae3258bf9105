//! Schema changes, oldest first; a released migration is never edited.

pub mod m0001_gateway;
pub mod m0002_users_and_bindings;

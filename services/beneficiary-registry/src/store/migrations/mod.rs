//! Schema changes, oldest first; a released migration is never edited.

pub mod m0001_registry;
pub mod m0002_name_search;
pub mod m0003_schemes_and_holds;
pub mod m0004_wallet_per_holder;
pub mod m0005_card_drives;

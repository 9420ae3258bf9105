//! Schema changes, oldest first; a released migration never changes the
//! schema it makes (it may be rewritten to make the same schema).

pub mod m0001_preauth;
pub mod m0002_record_indexes;
pub mod m0003_payer_rules;
pub mod m0004_saga_index;
pub mod m0005_facility_days;
pub mod m0006_facility_day_shards;

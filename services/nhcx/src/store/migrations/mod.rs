//! Schema changes, oldest first; a released migration never changes the
//! schema it makes (it may be rewritten to make the same schema).

pub mod m0001_nhcx;

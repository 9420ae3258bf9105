//! Generated code for the Ayushman mesh contracts (`proto/ayushman/<area>/v1`).
//!
//! Each area is a module: `ayushman_proto::beneficiary::v1::...`. The encoded
//! [`FILE_DESCRIPTOR_SET`] serves gRPC reflection.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

mod generated {
    include!(concat!(env!("OUT_DIR"), "/ayushman.rs"));
}

pub use generated::ayushman::{
    beneficiary, claims, common, facility, gateway, portability, preauth,
};
pub use generated::google;

/// Every contract's descriptors, with source comments, for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/ayushman_descriptor.bin"));

//! Generated code for the Ayushman mesh contracts (`proto/ayushman/<area>/v1`).
//!
//! Each area is a module: `ayushman_proto::beneficiary::v1::...`. The encoded
//! [`FILE_DESCRIPTOR_SET`] serves gRPC reflection.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

mod generated {
    include!(concat!(env!("OUT_DIR"), "/ayushman.rs"));
}

pub use generated::ayushman::{
    beneficiary, claims, common, facility, gateway, nhcx, portability, preauth,
};
pub use generated::google;

/// An enum of the contracts, known by its value names (`PREAUTH_STATUS_RAISED`).
/// Storage keeps enums by these names, so a row reads the same in any tool.
/// Implemented for every top-level enum by the build script.
pub trait ProtoEnum: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// What every value name starts with: `PREAUTH_STATUS_`.
    const PREFIX: &'static str;

    /// The value's name as written in the contract.
    fn as_str_name(&self) -> &'static str;

    /// The value with that name, if any.
    fn from_str_name(value: &str) -> Option<Self>;

    /// The name without the enum's prefix, for messages: `RAISED`.
    fn label(&self) -> &'static str {
        let name = self.as_str_name();
        name.strip_prefix(Self::PREFIX).unwrap_or(name)
    }
}

/// A request of a mutating RPC, carrying the caller's idempotency key
/// (DESIGN §3). Implemented for every such request by the build script.
pub trait Idempotent: prost::Message {
    /// The RPC it is the request of: `BlockAmount` for `BlockAmountRequest`.
    const RPC: &'static str;

    /// The caller's key; repeating it returns the first reply.
    fn idempotency_key(&self) -> &str;
}

mod proto_enums {
    include!(concat!(env!("OUT_DIR"), "/proto_enums.rs"));
}

/// Every contract's descriptors, with source comments, for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/ayushman_descriptor.bin"));

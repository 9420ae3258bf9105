//! What every Ayushman mesh service shares, so each concern lives in one place:
//! the mesh table ([`mesh`]), layered config ([`config`]), telemetry and W3C trace
//! propagation ([`telemetry`], [`propagation`]), the gRPC server bootstrap with
//! health, reflection, limits and metrics ([`server`], [`metrics`]), client
//! channels ([`client`]), error-to-Status mapping ([`error`]) and the database
//! ([`db`]).

mod allocator;
pub mod authority;
pub mod caller;
pub mod client;
pub mod config;
pub mod convert;
pub mod db;
pub mod deadline;
pub mod error;
pub mod gate;
pub mod grpc_outcome;
pub mod ids;
pub mod lifecycle;
pub mod mesh;
pub mod metrics;
pub mod outbound;
pub mod propagation;
pub mod refreshing;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use caller::Caller;
pub use error::{ApiError, FieldViolations};
pub use mesh::MeshService;

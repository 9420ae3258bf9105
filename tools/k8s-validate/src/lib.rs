//! Validation of the Kubernetes manifests (DESIGN §7): each overlay is rendered
//! with kustomize, every object parsed into its typed API struct (unknown
//! fields refused), and the mesh's rules checked for every workload — probes,
//! limits, hardening, headless Services, autoscaling, disruption budgets,
//! network policies that allow exactly the callers of the mesh table, peer
//! addresses from the same table, databases with backups, no committed secret.

pub mod cnpg;
pub mod objects;
pub mod render;
pub mod rules;

pub use objects::{Object, ParseError, parse};
pub use render::{RenderError, default_kustomize, render};
pub use rules::{Violation, check};

//! The check that resolves every request's [`Caller`](super::Caller).

use super::IdentityKey;
use crate::gate::{Check, GateLayer};

/// Resolves the [`Caller`](super::Caller) of every request into its
/// extensions, refusing partner identity that the gateway did not sign.
#[derive(Clone)]
pub struct VerifyCaller {
    key: IdentityKey,
}

impl Check for VerifyCaller {
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), tonic::Status> {
        match self.key.verify(request.headers()) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                Ok(())
            }
            Err(reason) => {
                tracing::warn!(reason, "refused a request with forged partner identity");
                Err(tonic::Status::unauthenticated(reason))
            }
        }
    }
}

/// The caller layer: verifies with `key`.
pub fn caller_layer(key: IdentityKey) -> GateLayer<VerifyCaller> {
    GateLayer::new(VerifyCaller { key })
}

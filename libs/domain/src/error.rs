use std::borrow::Cow;

/// Why a value could not be accepted, in words an operator can act on.
///
/// It names no field: the caller knows which field it parsed and reports both
/// (as a `google.rpc.BadRequest` field violation at the gRPC edge).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(Cow<'static, str>);

impl InvalidValue {
    /// A reason known at compile time.
    pub const fn new(reason: &'static str) -> Self {
        Self(Cow::Borrowed(reason))
    }

    /// A reason built at run time.
    pub fn owned(reason: String) -> Self {
        Self(Cow::Owned(reason))
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

//! A tower layer that checks each request before the service sees it: a
//! [`Check`] either lets it through (having, perhaps, put something into its
//! extensions) or answers for the service with a gRPC status. The caller's
//! identity and the authority of its roles are both checks.

use std::task::{Context, Poll};

/// What a [`GateLayer`] asks of every request.
pub trait Check: Clone + Send + Sync + 'static {
    /// `Err` answers the request with that status instead of the service.
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), tonic::Status>;
}

/// Puts [`Check`] `C` in front of a service.
#[derive(Clone)]
pub struct GateLayer<C> {
    check: C,
}

impl<C> GateLayer<C> {
    /// A gate running `check`.
    pub fn new(check: C) -> Self {
        Self { check }
    }
}

impl<S, C: Clone> tower_layer::Layer<S> for GateLayer<C> {
    type Service = Gate<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Gate {
            inner,
            check: self.check.clone(),
        }
    }
}

/// See [`GateLayer`].
#[derive(Clone)]
pub struct Gate<S, C> {
    inner: S,
    check: C,
}

impl<S, C, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for Gate<S, C>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    C: Check,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        match self.check.check(&mut request) {
            Ok(()) => Box::pin(self.inner.call(request)),
            Err(status) => {
                let response = status.into_http();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

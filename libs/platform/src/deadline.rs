//! The deadline of a call (DESIGN §5): the caller's `grpc-timeout` when it
//! sets one — tonic enforces that — and `server.request_timeout_ms` when it
//! sets none. A caller may ask for longer than the default: a district's
//! eligibility list streams for minutes.

use std::{
    task::{Context, Poll},
    time::Duration,
};

use tonic::Status;

/// Applies `default` to calls that carry no `grpc-timeout`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultDeadlineLayer {
    default: Duration,
}

impl DefaultDeadlineLayer {
    pub fn new(default: Duration) -> Self {
        Self { default }
    }
}

impl<S> tower_layer::Layer<S> for DefaultDeadlineLayer {
    type Service = DefaultDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DefaultDeadline {
            inner,
            default: self.default,
        }
    }
}

/// See [`DefaultDeadlineLayer`].
#[derive(Debug, Clone)]
pub struct DefaultDeadline<S> {
    inner: S,
    default: Duration,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for DefaultDeadline<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let caller_set_one = request.headers().contains_key("grpc-timeout");
        let call = self.inner.call(request);
        if caller_set_one {
            return Box::pin(call);
        }
        let default = self.default;
        Box::pin(async move {
            match tokio::time::timeout(default, call).await {
                Ok(answer) => answer,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "no answer within {} ms, the deadline of calls that set none; \
                     set a deadline (grpc-timeout) for longer calls",
                    default.as_millis()
                ))
                .into_http()),
            }
        })
    }
}

//! The transparent proxy (DESIGN §6): a partner's gRPC request goes, as it
//! came, to the service its path names. Bodies stream both ways, so unary and
//! streaming calls alike pass; the platform channel adds the gateway's trace
//! context and a deadline when the partner set none.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use ayushman_platform::{MeshService, client::TracedChannel};
use tonic::Status;
use tower::ServiceExt;

/// The upstream services, each behind its lazily connecting channel.
#[derive(Clone)]
pub struct Upstreams {
    channels: Arc<Vec<(MeshService, TracedChannel)>>,
}

impl Upstreams {
    pub fn new(channels: Vec<(MeshService, TracedChannel)>) -> Self {
        Self {
            channels: Arc::new(channels),
        }
    }

    fn channel(&self, path: &str) -> Option<(MeshService, TracedChannel)> {
        let service = path.trim_start_matches('/').split('/').next()?;
        self.channels
            .iter()
            .find(|(s, _)| s.grpc_service() == service)
            .cloned()
    }
}

type Reply = http::Response<axum::body::Body>;

impl tower_service::Service<http::Request<axum::body::Body>> for Upstreams {
    type Response = Reply;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Reply, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<axum::body::Body>) -> Self::Future {
        let upstream = self.channel(request.uri().path());
        // The call happens inside the future, which the server polls within the
        // request's span: the channel injects that span's trace context.
        Box::pin(async move {
            let Some((service, channel)) = upstream else {
                let path = request.uri().path().to_owned();
                return Ok(
                    Status::unimplemented(format!("no method {path} behind the gateway"))
                        .into_http(),
                );
            };
            let request = request.map(tonic::body::Body::new);
            Ok(match channel.oneshot(request).await {
                Ok(response) => response.map(axum::body::Body::new),
                Err(error) => {
                    tracing::warn!(%service, %error, "upstream unreachable");
                    Status::unavailable(format!("{service} is unreachable; retry later"))
                        .into_http()
                }
            })
        })
    }
}

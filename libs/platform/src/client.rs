//! Outgoing gRPC channels (DESIGN §5, Calls): every call carries a deadline and
//! the caller's trace context; connections are made lazily, on first use, and
//! re-made after failures, so a peer that starts later is still reached.

use tonic::{
    codegen::InterceptedService,
    transport::{Channel, Endpoint},
};

use crate::{
    config::{ClientSettings, ConfigError, Settings},
    mesh::MeshService,
    propagation::TraceContextInjector,
};

/// A channel whose requests carry trace context and a default deadline.
pub type TracedChannel = InterceptedService<Channel, TraceContextInjector>;

/// A lazily connecting channel to `url`. Must be called inside a Tokio runtime.
pub fn channel(
    url: &str,
    settings: &ClientSettings,
) -> Result<TracedChannel, tonic::transport::Error> {
    let endpoint = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(settings.connect_timeout())
        .timeout(settings.deadline())
        .tcp_nodelay(true)
        .http2_keep_alive_interval(std::time::Duration::from_secs(30))
        .keep_alive_while_idle(true);
    Ok(InterceptedService::new(
        endpoint.connect_lazy(),
        TraceContextInjector::new(settings.deadline()),
    ))
}

/// The channel to a peer named in the mesh table, at its configured address.
pub fn peer_channel<S>(
    settings: &Settings<S>,
    peer: MeshService,
) -> Result<TracedChannel, ConfigError> {
    let key = format!("peers.{}.url", peer.config_key());
    let url = settings
        .peer_url(peer)
        .ok_or_else(|| ConfigError::invalid(&key, "is not configured"))?;
    channel(url, &settings.client).map_err(|error| ConfigError::invalid(key, error.to_string()))
}

/// Calls an idempotent RPC, retrying with exponential backoff (50 ms, 100 ms, ...)
/// while the peer answers UNAVAILABLE. Only for calls that are safe to repeat.
pub async fn retry_idempotent<T, F, Fut>(attempts: u32, mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let mut delay = std::time::Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(status) if status.code() == tonic::Code::Unavailable && attempt < attempts => {
                tracing::debug!(attempt, "peer unavailable; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

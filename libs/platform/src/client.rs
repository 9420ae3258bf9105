//! Outgoing gRPC channels (DESIGN §5, Calls): every call carries a deadline and
//! the caller's trace context; connections are made lazily, on first use, and
//! re-made after failures, so a peer that starts later is still reached.

use std::{
    collections::BTreeSet,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use tonic::transport::channel::Change;
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

/// How often a balanced peer's name is resolved again, to follow pods as they come and go.
const RESOLVE_EVERY: Duration = Duration::from_secs(5);

/// How calls on a channel are timed.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    /// Each call gets `client.deadline_ms` unless the caller set its own.
    Default(Duration),
    /// The caller's deadline travels on unchanged (the gateway's proxy).
    Forwarded,
}

fn configure(endpoint: Endpoint, settings: &ClientSettings, deadline: Deadline) -> Endpoint {
    let endpoint = endpoint
        .connect_timeout(settings.connect_timeout())
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    match deadline {
        Deadline::Default(deadline) => endpoint.timeout(deadline),
        Deadline::Forwarded => endpoint,
    }
}

/// A lazily connecting channel to `url`. Must be called inside a Tokio runtime.
///
/// A peer named by a DNS name (in Kubernetes, a headless Service: one address
/// per pod) gets a connection per address and each request goes to the less
/// loaded of two (power of two choices); the name is resolved again every few
/// seconds. A single HTTP/2 connection would otherwise pin every request to
/// one pod. IP addresses and `localhost` are used as they are.
pub fn channel(
    url: &str,
    settings: &ClientSettings,
) -> Result<TracedChannel, tonic::transport::Error> {
    build(url, settings, Deadline::Default(settings.deadline()))
}

/// Like [`channel`], for a proxy: no deadline of its own, the caller's
/// `grpc-timeout` (if any) goes on as it came, so a long stream is not cut.
pub fn forwarding_channel(
    url: &str,
    settings: &ClientSettings,
) -> Result<TracedChannel, tonic::transport::Error> {
    build(url, settings, Deadline::Forwarded)
}

fn build(
    url: &str,
    settings: &ClientSettings,
    deadline: Deadline,
) -> Result<TracedChannel, tonic::transport::Error> {
    let endpoint = configure(Endpoint::from_shared(url.to_owned())?, settings, deadline);
    let channel = match balanced_name(endpoint.uri()) {
        Some((host, port)) => balanced(endpoint, settings.clone(), deadline, dns(host, port)),
        None => endpoint.connect_lazy(),
    };
    Ok(traced(channel, deadline))
}

/// A channel to `url` balancing over the addresses `resolve` gives, asked
/// again every few seconds (what [`channel`] does with DNS names).
pub fn balanced_channel(
    url: &str,
    settings: &ClientSettings,
    resolve: Resolve,
) -> Result<TracedChannel, tonic::transport::Error> {
    let deadline = Deadline::Default(settings.deadline());
    let endpoint = configure(Endpoint::from_shared(url.to_owned())?, settings, deadline);
    Ok(traced(
        balanced(endpoint, settings.clone(), deadline, resolve),
        deadline,
    ))
}

fn traced(channel: Channel, deadline: Deadline) -> TracedChannel {
    let default = match deadline {
        Deadline::Default(deadline) => Some(deadline),
        Deadline::Forwarded => None,
    };
    InterceptedService::new(channel, TraceContextInjector::new(default))
}

/// Where a balanced peer's addresses come from: DNS, or a test's list.
pub type Resolve = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>> + Send + Sync,
>;

fn dns(host: String, port: u16) -> Resolve {
    Arc::new(move || {
        let host = host.clone();
        Box::pin(async move {
            tokio::net::lookup_host((host.as_str(), port))
                .await
                .map(Iterator::collect)
        })
    })
}

/// The host and port of a URI whose host is a DNS name other than `localhost`.
fn balanced_name(uri: &http::Uri) -> Option<(String, u16)> {
    let host = uri.host()?;
    let is_ip = host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok();
    if is_ip || host.eq_ignore_ascii_case("localhost") {
        return None;
    }
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    Some((host.to_owned(), port))
}

/// What a balanced channel connects to: the resolved addresses, or, while the
/// name resolves to nothing, the name itself, so calls fail at once with
/// UNAVAILABLE instead of waiting for an address that may never come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Target {
    Name,
    Addr(SocketAddr),
}

/// A channel balancing over the addresses `resolve` gives, kept current.
fn balanced(
    template: Endpoint,
    settings: ClientSettings,
    deadline: Deadline,
    resolve: Resolve,
) -> Channel {
    let (channel, changes) = Channel::balance_channel::<Target>(64);
    let scheme = template.uri().scheme_str().unwrap_or("http").to_owned();
    let origin = template.uri().clone();
    tokio::spawn(async move {
        let mut known = BTreeSet::new();
        while !changes.is_closed() {
            let current: BTreeSet<Target> = match resolve().await {
                Ok(found) if !found.is_empty() => found.into_iter().map(Target::Addr).collect(),
                Ok(_) => BTreeSet::from([Target::Name]),
                Err(error) if known.is_empty() => {
                    tracing::warn!(%origin, %error, "peer does not resolve yet");
                    BTreeSet::from([Target::Name])
                }
                Err(error) => {
                    tracing::warn!(%origin, %error, "peer does not resolve; keeping its last addresses");
                    known.clone()
                }
            };
            let (added, removed) = diff(&known, &current);
            for target in removed {
                let _ = changes.send(Change::Remove(target)).await;
            }
            for target in added {
                let endpoint = match target {
                    Target::Name => template.clone(),
                    Target::Addr(addr) => {
                        let Ok(endpoint) = Endpoint::from_shared(format!("{scheme}://{addr}"))
                        else {
                            continue;
                        };
                        configure(endpoint, &settings, deadline).origin(origin.clone())
                    }
                };
                let _ = changes.send(Change::Insert(target, endpoint)).await;
            }
            known = current;
            tokio::time::sleep(RESOLVE_EVERY).await;
        }
    });
    channel
}

/// Targets to add and to remove to go from `known` to `current`.
fn diff<T: Ord + Copy>(known: &BTreeSet<T>, current: &BTreeSet<T>) -> (Vec<T>, Vec<T>) {
    (
        current.difference(known).copied().collect(),
        known.difference(current).copied().collect(),
    )
}

/// The channel to a peer named in the mesh table, at its configured address.
pub fn peer_channel<S>(
    settings: &Settings<S>,
    peer: MeshService,
) -> Result<TracedChannel, ConfigError> {
    peer_with(settings, peer, channel)
}

/// [`forwarding_channel`] to a peer named in the mesh table.
pub fn peer_forwarding_channel<S>(
    settings: &Settings<S>,
    peer: MeshService,
) -> Result<TracedChannel, ConfigError> {
    peer_with(settings, peer, forwarding_channel)
}

type MakeChannel = fn(&str, &ClientSettings) -> Result<TracedChannel, tonic::transport::Error>;

fn peer_with<S>(
    settings: &Settings<S>,
    peer: MeshService,
    make: MakeChannel,
) -> Result<TracedChannel, ConfigError> {
    let key = format!("peers.{}.url", peer.config_key());
    let url = settings
        .peer_url(peer)
        .ok_or_else(|| ConfigError::invalid(&key, "is not configured"))?;
    make(url, &settings.client).map_err(|error| ConfigError::invalid(key, error.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dns_names_other_than_localhost_are_balanced() {
        let name = |url: &str| balanced_name(&url.parse().expect("uri"));
        assert_eq!(
            name("http://claims:50054"),
            Some(("claims".to_owned(), 50054))
        );
        assert_eq!(
            name("http://preauth.ayushman.svc.cluster.local:50053"),
            Some(("preauth.ayushman.svc.cluster.local".to_owned(), 50053))
        );
        assert_eq!(name("http://127.0.0.1:50054"), None);
        assert_eq!(name("http://[::1]:50054"), None);
        assert_eq!(name("http://localhost:50054"), None);
    }

    #[test]
    fn pods_that_appear_are_added_and_pods_that_go_are_removed() {
        let addr = |last: u8| SocketAddr::from(([10, 0, 0, last], 50051));
        let known = BTreeSet::from([addr(1), addr(2)]);
        let current = BTreeSet::from([addr(2), addr(3)]);
        assert_eq!(diff(&known, &current), (vec![addr(3)], vec![addr(1)]));
    }
}

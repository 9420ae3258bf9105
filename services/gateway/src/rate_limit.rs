//! Per-partner rate limits (DESIGN §6): a token bucket per partner (GCRA, from
//! `governor`), sized by the partner's sustained rate and burst. Each gateway
//! replica keeps its own buckets, so with N replicas a partner may reach N
//! times its rate; the limit protects the mesh, not a billing contract.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{
    DefaultDirectRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

/// The buckets of every partner seen so far.
#[derive(Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    rate: (u32, u32),
    limiter: Arc<DefaultDirectRateLimiter>,
}

impl RateLimits {
    /// Takes one token from `partner_id`'s bucket; `Err` says how long until
    /// the next one. A changed rate starts a fresh bucket.
    pub fn check(&self, partner_id: &str, per_second: i32, burst: i32) -> Result<(), Duration> {
        let rate = (
            u32::try_from(per_second).unwrap_or(1).max(1),
            u32::try_from(burst).unwrap_or(1).max(1),
        );
        let limiter = {
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            let bucket = buckets
                .entry(partner_id.to_owned())
                .or_insert_with(|| Bucket::new(rate));
            if bucket.rate != rate {
                *bucket = Bucket::new(rate);
            }
            bucket.limiter.clone()
        };
        limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl Bucket {
    fn new((per_second, burst): (u32, u32)) -> Self {
        let quota = Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self {
            rate: (per_second, burst),
            limiter: Arc::new(RateLimiter::direct(quota)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partner_gets_its_burst_then_waits() {
        let limits = RateLimits::default();
        for _ in 0..3 {
            assert!(limits.check("PTN-A", 1, 3).is_ok());
        }
        let wait = limits.check("PTN-A", 1, 3).expect_err("bucket empty");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            limits.check("PTN-B", 1, 3).is_ok(),
            "buckets are per partner"
        );
    }
}

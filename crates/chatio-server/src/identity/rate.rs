//! A per-address rate limit (token bucket), for the token endpoint and the accounts page:
//! each client address (IPv6: its /64, which one host usually owns whole) may take `burst`
//! at once, then `per_second` on average.
//!
//! Pure: the time comes in as an [`Instant`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Addresses tracked at most; past it, full buckets are dropped first, and if none is,
/// the new address is refused until the next sweep (a bound, not a fairness promise).
pub(crate) const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets.
#[derive(Debug)]
pub(crate) struct RateLimit {
    per_second: f64,
    burst: f64,
    buckets: HashMap<IpAddr, Bucket>,
}

/// The key of an address: IPv4 as is, IPv6 by its /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl RateLimit {
    /// `burst` at once, then `per_second`.
    pub(crate) fn new(per_second: f64, burst: u32) -> Self {
        Self { per_second: per_second.max(0.0), burst: f64::from(burst.max(1)), buckets: HashMap::new() }
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.burst);
        b.at = now;
    }

    /// Takes one token for `ip`: `false` when the address is over its rate.
    pub(crate) fn take(&mut self, ip: IpAddr, now: Instant) -> bool {
        let k = key(ip);
        if !self.buckets.contains_key(&k) && self.buckets.len() >= MAX_TRACKED {
            self.sweep(now);
            if self.buckets.len() >= MAX_TRACKED {
                return false;
            }
        }
        let mut b = self.buckets.get(&k).copied().unwrap_or(Bucket { tokens: self.burst, at: now });
        self.refill(&mut b, now);
        let ok = b.tokens >= 1.0;
        if ok {
            b.tokens -= 1.0;
        }
        self.buckets.insert(k, b);
        ok
    }

    /// Drops the buckets that are full again (they hold nothing worth keeping).
    pub(crate) fn sweep(&mut self, now: Instant) {
        let (rate, burst) = (self.per_second, self.burst);
        self.buckets.retain(|_, b| {
            let tokens = b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate;
            tokens < burst
        });
    }

    /// Addresses tracked now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_rate_per_address() {
        let mut r = RateLimit::new(2.0, 5);
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!((0..10).filter(|_| r.take(a, t0)).count(), 5);
        assert!(r.take(b, t0), "another address is not affected");
        assert!(!r.take(a, t0 + Duration::from_millis(400)));
        assert!(r.take(a, t0 + Duration::from_millis(600)), "two a second come back");
        r.sweep(t0 + Duration::from_secs(10));
        assert_eq!(r.len(), 0, "full buckets are dropped");
    }

    #[test]
    fn ipv6_hosts_are_limited_by_their_64() {
        let mut r = RateLimit::new(0.0, 2);
        let t0 = Instant::now();
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other_in_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(r.take(one, t0) && r.take(other_in_64, t0));
        assert!(!r.take("2001:db8:1:2:abcd::1".parse().unwrap(), t0));
        assert!(r.take("2001:db8:1:3::1".parse().unwrap(), t0));
    }
}

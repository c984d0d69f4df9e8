//! The pairing-code limiter: governor's GCRA per client key, kept in an LRU of at most
//! [`MAX_TRACKED_CLIENTS`] keys (memory stays bounded however many addresses come and go), on the
//! application's clock (tests move it instead of sleeping), counting its refusals for `/metrics`.

use std::net::{IpAddr, Ipv4Addr};
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};

use crate::domain::client_address::rate_key;
use crate::domain::clock::SharedClock;

/// Clients remembered at once. The least recently seen is forgotten first; one forgotten has no
/// history and gets a full allowance, as one that paused for a minute would.
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

pub(crate) struct PairingLimiter {
    limiter: RateLimiter<IpAddr, LruStore, AppClock, NoOpMiddleware<Duration>>,
    /// The limiter's store too, to tell how many clients it holds.
    store: LruStore,
    refused: AtomicU64,
}

impl PairingLimiter {
    pub fn new(per_minute: NonZeroU32, clock: SharedClock) -> Self {
        Self::with_capacity(per_minute, clock, MAX_TRACKED_CLIENTS)
    }

    fn with_capacity(per_minute: NonZeroU32, clock: SharedClock, capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        let store = LruStore(Arc::new(Mutex::new(lru::LruCache::new(capacity))));
        Self {
            limiter: RateLimiter::new(
                Quota::per_minute(per_minute),
                store.clone(),
                AppClock(clock),
            ),
            store,
            refused: AtomicU64::new(0),
        }
    }

    /// One attempt from `client` (requests without an address, only possible in-process, share
    /// one key). `Err` holds how long to wait; the refusal is counted.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let key = client.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), rate_key);
        self.limiter.check_key(&key).map_err(|not_until| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            not_until.wait_time_from(governor::clock::Clock::now(self.limiter.clock()))
        })
    }

    /// Attempts refused since the process started.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Clients remembered now.
    pub fn tracked_clients(&self) -> usize {
        self.store.lock().len()
    }

    #[cfg(test)]
    fn max_tracked_clients(&self) -> usize {
        self.store.lock().cap().get()
    }
}

/// The GCRA state (the "theoretical arrival time") of each key, in an LRU: governor's own stores
/// grow until someone prunes them, this one can never hold more than its capacity.
#[derive(Clone)]
struct LruStore(Arc<Mutex<lru::LruCache<IpAddr, Nanos>>>);

impl LruStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<IpAddr, Nanos>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl StateStore for LruStore {
    type Key = IpAddr;

    fn measure_and_replace<T, F, E>(&self, key: &IpAddr, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // One lock around read and write: no compare-and-swap loop needed.
        let mut cache = self.lock();
        let (outcome, state) = f(cache.get(key).copied())?;
        cache.put(*key, state);
        Ok(outcome)
    }
}

/// The application's clock as governor's: time since the Unix epoch (never before it).
struct AppClock(SharedClock);

impl governor::clock::Clock for AppClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        (self.0.now() - chrono::DateTime::UNIX_EPOCH)
            .to_std()
            .unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::ManualClock;

    fn limiter(per_minute: u32, capacity: usize) -> (PairingLimiter, ManualClock) {
        let clock = ManualClock::new(chrono::Utc::now());
        let limiter = PairingLimiter::with_capacity(
            NonZeroU32::new(per_minute).unwrap(),
            Arc::new(clock.clone()),
            capacity,
        );
        (limiter, clock)
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_client_gets_its_allowance_then_waits_on_the_app_clock() {
        let (limiter, clock) = limiter(3, 100);
        for _ in 0..3 {
            assert!(limiter.check(ip("198.51.100.1")).is_ok());
        }
        let wait = limiter.check(ip("198.51.100.1")).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check(ip("198.51.100.2")).is_ok(), "another client");
        assert_eq!(limiter.refused(), 1);
        clock.advance(chrono::Duration::seconds(20));
        assert!(
            limiter.check(ip("198.51.100.1")).is_ok(),
            "one attempt back"
        );
        assert!(limiter.check(ip("198.51.100.1")).is_err());
        assert_eq!(limiter.refused(), 2);
    }

    #[test]
    fn one_ipv6_64_is_one_client() {
        let (limiter, _) = limiter(2, 100);
        assert!(limiter.check(ip("2001:db8:1:2::1")).is_ok());
        assert!(limiter.check(ip("2001:db8:1:2:aaaa::9")).is_ok());
        assert!(
            limiter
                .check(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
                .is_err()
        );
        assert!(limiter.check(ip("2001:db8:1:3::1")).is_ok(), "the next /64");
    }

    #[test]
    fn memory_is_bounded_and_the_least_recent_clients_are_forgotten() {
        let capacity = 1_000;
        let (limiter, _) = limiter(1, capacity);
        assert!(limiter.check(ip("10.0.0.1")).is_ok());
        assert!(limiter.check(ip("10.0.0.1")).is_err(), "used up");
        // Rotating through ten times as many /64s as are remembered...
        let nth_64 = |n: usize| {
            let n = u128::try_from(n).unwrap();
            Some(IpAddr::V6(std::net::Ipv6Addr::from(
                (0x2001_0db8_u128 << 96) | (n << 64) | 1,
            )))
        };
        for n in 0..10 * capacity {
            assert!(limiter.check(nth_64(n)).is_ok());
            assert!(limiter.tracked_clients() <= capacity);
        }
        assert_eq!(limiter.tracked_clients(), capacity);
        // ...pushed the first one out: it starts afresh, as after a quiet minute.
        assert!(limiter.check(ip("10.0.0.1")).is_ok());
        // The most recent ones are still remembered.
        assert!(limiter.check(nth_64(10 * capacity - 1)).is_err());
    }

    #[test]
    fn the_default_bound_is_a_constant() {
        let clock: SharedClock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let limiter = PairingLimiter::new(NonZeroU32::new(10).unwrap(), clock);
        assert_eq!(limiter.max_tracked_clients(), MAX_TRACKED_CLIENTS);
    }
}

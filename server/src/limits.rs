//! Rate limiting: a token bucket per connection and one per user (GCRA via
//! governor). An event must pass both. With `--redis` the user's bucket is
//! shared by every instance ([`crate::cluster::rate`]); this instance's own
//! user buckets then only stand in while Redis is down.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The shortest window in which a connection is told `RATE_LIMITED` once.
///
/// Answering every dropped event would let a flooding client make the
/// server write one `error` per event it sends: the refusal itself would be
/// the amplifier. One notice per window (at least this long, or the bucket's
/// own wait if longer) tells a well-behaved client to back off; the events
/// dropped after it are counted in `/metrics` and get no answer (a request
/// among them times out on the client).
pub const RATE_NOTICE_WINDOW: Duration = Duration::from_secs(1);

/// When a connection was last told `RATE_LIMITED`; kept in its extensions.
#[derive(Debug, Default)]
pub struct RateNotice {
    until: Mutex<Option<Instant>>,
}

impl RateNotice {
    /// Whether an event dropped at `now` (the bucket frees up after `wait`)
    /// is the first of its window and so gets an answer. Starts a new window
    /// when it is.
    pub fn first_in_window(&self, now: Instant, wait: Duration) -> bool {
        let mut until = self.until.lock().unwrap_or_else(|p| p.into_inner());
        if until.is_some_and(|u| now < u) {
            return false;
        }
        *until = Some(now + wait.max(RATE_NOTICE_WINDOW));
        true
    }
}

/// Connections open per user (a user id within a world), for
/// `--max-connections-per-user`. Counted on this instance.
#[derive(Debug, Default)]
pub struct UserConnections {
    open: Mutex<HashMap<(String, String), usize>>,
}

impl UserConnections {
    /// Counts one more connection of `user` in `world` unless it already
    /// has `max`; false then.
    pub fn try_add(&self, world: &str, user: &str, max: usize) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry((world.to_owned(), user.to_owned())).or_insert(0);
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    /// One connection of `user` in `world` closed.
    pub fn remove(&self, world: &str, user: &str) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let key = (world.to_owned(), user.to_owned());
        if let Some(n) = open.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                // No entry per user who left: the map stays as small as the
                // set of users connected now.
                open.remove(&key);
            }
        }
    }

    /// Connections of `user` in `world` open now.
    pub fn count(&self, world: &str, user: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&(world.to_owned(), user.to_owned()))
            .copied()
            .unwrap_or(0)
    }
}

/// The bucket of one connection, kept in the socket's extensions.
pub type ConnectionLimiter = Arc<DefaultDirectRateLimiter>;

/// Per-user buckets plus the quota for new connections.
#[derive(Debug)]
pub struct RateLimits {
    per_connection: Quota,
    per_user: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Quota::per_second(rate).allow_burst(burst)
}

impl RateLimits {
    /// Limits of `conn_rate`/s with bursts of `conn_burst` per connection, and
    /// `user_rate`/s with bursts of `user_burst` per user.
    pub fn new(conn_rate: u32, conn_burst: u32, user_rate: u32, user_burst: u32) -> Self {
        Self {
            per_connection: quota(conn_rate, conn_burst),
            per_user: RateLimiter::keyed(quota(user_rate, user_burst)),
            clock: DefaultClock::default(),
        }
    }

    /// A fresh bucket for a new connection.
    pub fn new_connection(&self) -> ConnectionLimiter {
        Arc::new(RateLimiter::direct(self.per_connection))
    }

    /// Takes one event from both buckets, or says how long to wait.
    pub fn check(&self, connection: &DefaultDirectRateLimiter, user: &str) -> Result<(), Duration> {
        self.check_connection(connection)?;
        self.check_user(user)
    }

    /// Takes one event from the connection's bucket.
    pub fn check_connection(&self, connection: &DefaultDirectRateLimiter) -> Result<(), Duration> {
        connection
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Takes one event from this instance's bucket of `user`.
    pub fn check_user(&self, user: &str) -> Result<(), Duration> {
        self.per_user
            .check_key(&user.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets users whose buckets are full again (call now and then).
    pub fn forget_idle_users(&self) {
        self.per_user.retain_recent();
        self.per_user.shrink_to_fit();
    }
}

/// Takes one event of `user` on `connection`: both local buckets, or with
/// `--redis` the connection's bucket and the user's shared one (this
/// instance's bucket of the user while Redis does not answer, so events
/// keep flowing, limited per instance, in degraded mode).
pub async fn check_event(
    app: &crate::app::AppState,
    connection: &DefaultDirectRateLimiter,
    user: &str,
) -> Result<(), Duration> {
    let Some(cluster) = &app.cluster else {
        return app.limits.check(connection, user);
    };
    app.limits.check_connection(connection)?;
    match cluster
        .rate
        .check(user, app.config.rate_per_user, app.config.burst_per_user)
        .await
    {
        Ok(outcome) => outcome,
        Err(_) => app.limits.check_user(user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refused_then_recovers() {
        let l = RateLimits::new(20, 3, 1000, 1000);
        let c = l.new_connection();
        for _ in 0..3 {
            assert_eq!(l.check(&c, "u"), Ok(()));
        }
        let wait = l.check(&c, "u").unwrap_err();
        assert!(wait <= Duration::from_millis(50), "{wait:?}");
        std::thread::sleep(wait + Duration::from_millis(5));
        assert_eq!(l.check(&c, "u"), Ok(()));
    }

    #[test]
    fn one_notice_per_window() {
        let n = RateNotice::default();
        let t = Instant::now();
        assert!(n.first_in_window(t, Duration::from_millis(50)));
        assert!(!n.first_in_window(t + Duration::from_millis(10), Duration::from_millis(50)));
        assert!(!n.first_in_window(t + Duration::from_millis(999), Duration::from_millis(50)));
        assert!(n.first_in_window(t + RATE_NOTICE_WINDOW, Duration::from_millis(50)));
        // A longer wait than the window stretches it.
        let t = t + Duration::from_secs(10);
        assert!(n.first_in_window(t, Duration::from_secs(3)));
        assert!(!n.first_in_window(t + Duration::from_secs(2), Duration::ZERO));
        assert!(n.first_in_window(t + Duration::from_secs(3), Duration::ZERO));
    }

    #[test]
    fn connections_per_user_are_capped_and_given_back() {
        let c = UserConnections::default();
        assert!(c.try_add("w", "u", 2));
        assert!(c.try_add("w", "u", 2));
        assert!(!c.try_add("w", "u", 2));
        assert!(c.try_add("w2", "u", 2), "another world, another user");
        c.remove("w", "u");
        assert_eq!(c.count("w", "u"), 1);
        assert!(c.try_add("w", "u", 2));
        c.remove("w", "u");
        c.remove("w", "u");
        c.remove("w", "u");
        assert_eq!(c.count("w", "u"), 0);
        assert!(c
            .open
            .lock()
            .unwrap()
            .get(&("w".to_owned(), "u".to_owned()))
            .is_none());
    }

    #[test]
    fn user_bucket_spans_connections() {
        let l = RateLimits::new(1000, 1000, 1, 2);
        let (a, b) = (l.new_connection(), l.new_connection());
        assert!(l.check(&a, "u").is_ok());
        assert!(l.check(&b, "u").is_ok());
        assert!(l.check(&a, "u").is_err());
        assert!(l.check(&b, "v").is_ok());
        l.forget_idle_users();
    }
}

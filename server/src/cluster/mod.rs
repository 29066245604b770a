//! Scale-out (`--redis`): several instances share one Redis.
//!
//! - Events: socketioxide's Redis adapter ([`socketioxide_redis`]) over
//!   [`driver::FrinnyDriver`], so rooms, broadcasts, `/notify`, `/broadcast`
//!   and replies reach every socket on every instance.
//! - State: each scope's document, version and bounded history live in
//!   Redis and change under a Lua compare-and-set ([`state`]); every
//!   instance pushes each accepted patch to its own subscribers once, in
//!   version order.
//! - Rate limits: each user's bucket is a GCRA cell in Redis ([`rate`]).
//! - Custom event declarations: one hash per world ([`events`]).
//! - Degraded mode: a probe pings Redis every second ([`Link`]). While it
//!   fails, `/healthz` says `degraded`, state operations answer
//!   [`UNAVAILABLE`], rate limits fall back to this instance's buckets and
//!   events still reach this instance's sockets. Connections reconnect by
//!   themselves (the redis crate's `ConnectionManager`, with automatic
//!   resubscription), so everything resumes when Redis does.

pub mod driver;
pub mod events;
pub mod rate;
pub mod state;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo, ProtocolVersion};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The code of a refusal because Redis did not answer in time (the
/// catalogue's, re-exported for the cluster code).
pub use frinny_agent::catalogue::codes::UNAVAILABLE;

/// How often the probe pings Redis.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Why a Redis operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the shared store (Redis) is unavailable: {}", self.0)
    }
}

impl std::error::Error for Unavailable {}

/// `url` with any password replaced by `***`, for logs and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((creds, host)) => {
            let user = creds.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// What every Redis user of this instance shares: the bound of one
/// operation and whether Redis answers.
#[derive(Debug)]
pub struct Link {
    /// The bound of one operation.
    pub timeout: Duration,
    up: AtomicBool,
    failures: AtomicU64,
    dropped_publishes: AtomicU64,
    malformed: AtomicU64,
    /// Redis' clock minus ours, in ms (measured by the probe): deadlines
    /// handed to scripts are in Redis' time, so a skewed clock on either
    /// host cannot make every write look late (or never late).
    clock_offset_ms: AtomicI64,
    last_error: Mutex<Option<String>>,
}

impl Link {
    fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            up: AtomicBool::new(true),
            failures: AtomicU64::new(0),
            dropped_publishes: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            clock_offset_ms: AtomicI64::new(0),
            last_error: Mutex::new(None),
        }
    }

    /// Whether the last probe or operation succeeded.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records a failed operation: the link counts as down until the next
    /// successful probe.
    pub fn failed(&self, why: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!("Redis unavailable: {why}; degraded until it answers again");
        }
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.to_owned());
    }

    fn succeeded(&self) {
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!("Redis answers again; leaving degraded mode");
        }
    }

    /// Redis operations that failed or timed out so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Cross-instance publishes skipped while Redis was down (the local
    /// sockets still got those events).
    pub fn dropped_publishes(&self) -> u64 {
        self.dropped_publishes.load(Ordering::Relaxed)
    }

    fn dropped_publish(&self) {
        self.dropped_publishes.fetch_add(1, Ordering::Relaxed);
    }

    /// A malformed message arrived from Redis (and was dropped).
    pub fn malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }

    /// Malformed messages dropped so far.
    pub fn malformed_count(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// Now plus `left`, in milliseconds of Redis' clock.
    pub fn redis_deadline_ms(&self, left: Duration) -> u64 {
        let now = i64::try_from(crate::auth::now_millis()).unwrap_or(i64::MAX);
        let at = now
            .saturating_add(self.clock_offset_ms.load(Ordering::Relaxed))
            .saturating_add(i64::try_from(left.as_millis()).unwrap_or(i64::MAX));
        u64::try_from(at).unwrap_or(0)
    }

    /// Records Redis' clock (`redis_ms`) as read between `before` and
    /// `after` (our clock, ms).
    fn observe_clock(&self, before: u64, after: u64, redis_ms: u64) {
        let mid = before / 2 + after / 2;
        let offset = i128::from(redis_ms) - i128::from(mid);
        let offset = i64::try_from(offset).unwrap_or(0);
        self.clock_offset_ms.store(offset, Ordering::Relaxed);
    }

    /// The last failure, if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `op` within the timeout; a failure or a timeout marks the link
    /// down and becomes [`Unavailable`].
    pub async fn run<T>(
        &self,
        op: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        self.run_within(self.timeout, op).await
    }

    /// [`run`](Self::run) with a bound of its own.
    pub async fn run_within<T>(
        &self,
        bound: Duration,
        op: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        match tokio::time::timeout(bound, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let why = e.to_string();
                self.failed(&why);
                Err(Unavailable(why))
            }
            Err(_) => {
                let why = format!("no answer within {} ms", bound.as_millis());
                self.failed(&why);
                Err(Unavailable(why))
            }
        }
    }
}

/// The Redis side of one instance.
pub struct Cluster {
    /// The URL, password redacted.
    pub url: String,
    /// Health and timeouts.
    pub link: Arc<Link>,
    /// Commands (state scripts, rate limits, probes).
    cmd: ConnectionManager,
    /// The pub/sub side: the adapter's driver, which also receives the
    /// state patches.
    pub driver: driver::FrinnyDriver,
    /// The shared state store.
    pub state: state::SharedState,
    /// Per-user rate limits.
    pub rate: rate::SharedRate,
    /// The worlds' custom event declarations.
    pub events: events::SharedEvents,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("url", &self.url)
            .field("up", &self.link.is_up())
            .finish_non_exhaustive()
    }
}

/// A client for `url` speaking RESP3 (pub/sub pushes need it).
fn client(url: &str) -> redis::RedisResult<Client> {
    let info = url.into_connection_info()?;
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    Client::open(info.set_redis_settings(settings))
}

/// The reconnecting-connection settings: each command bounded by
/// `timeout`, reconnects retried quickly (at most a second apart) so the
/// cluster heals soon after Redis returns.
fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(timeout))
        .set_connection_timeout(Some(timeout))
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_secs(1))
        .set_number_of_retries(2)
}

impl Cluster {
    /// Connects to `url` (both connections must come up within `timeout`).
    /// Returns the cluster and the stream of state patches published by
    /// every instance, for [`state::run_pusher`].
    pub async fn connect(
        url: &str,
        timeout: Duration,
        limits: crate::state_store::StoreLimits,
    ) -> Result<(Arc<Self>, tokio::sync::mpsc::Receiver<Vec<u8>>), Unavailable> {
        let shown = redact(url);
        let link = Arc::new(Link::new(timeout));
        let client = client(url).map_err(|e| Unavailable(format!("{shown}: {e}")))?;
        let connect = |config: ConnectionManagerConfig| {
            let client = client.clone();
            let shown = shown.clone();
            async move {
                tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config))
                    .await
                    .map_err(|_| {
                        Unavailable(format!(
                            "{shown}: no answer within {} ms",
                            timeout.as_millis()
                        ))
                    })?
                    .map_err(|e| Unavailable(format!("{shown}: {e}")))
            }
        };
        let cmd = connect(manager_config(timeout)).await?;
        let (driver, patches) =
            driver::FrinnyDriver::connect(link.clone(), manager_config(timeout), &connect).await?;
        let state = state::SharedState::new(cmd.clone(), link.clone(), limits);
        let rate = rate::SharedRate::new(cmd.clone(), link.clone());
        let events = events::SharedEvents::new(cmd.clone(), link.clone());
        Ok((
            Arc::new(Self {
                url: shown,
                link,
                cmd,
                driver,
                state,
                rate,
                events,
            }),
            patches,
        ))
    }

    /// Pings Redis on both connections every [`PROBE_EVERY`] and keeps
    /// [`Link::is_up`] current. Runs until aborted.
    pub async fn probe(self: Arc<Self>) {
        loop {
            let bound = self.link.timeout.min(PROBE_EVERY);
            let mut cmd = self.cmd.clone();
            let mut sub = self.driver.connection();
            let before = crate::auth::now_millis();
            let a = self
                .link
                .run_within(bound, async move {
                    redis::cmd("TIME").query_async::<(u64, u64)>(&mut cmd).await
                })
                .await;
            if let Ok((secs, micros)) = a {
                let redis_ms = secs.saturating_mul(1000).saturating_add(micros / 1000);
                self.link
                    .observe_clock(before, crate::auth::now_millis(), redis_ms);
            }
            let b = self
                .link
                .run_within(bound, async move {
                    redis::cmd("PING").query_async::<String>(&mut sub).await
                })
                .await;
            if a.is_ok() && b.is_ok() {
                self.link.succeeded();
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact("redis://u:secret@h:1/0"), "redis://u:***@h:1/0");
        assert_eq!(redact("redis://:secret@h:1"), "redis://:***@h:1");
        assert_eq!(redact("nonsense"), "nonsense");
    }

    #[test]
    fn the_link_goes_down_on_failure_and_up_on_success() {
        let l = Link::new(Duration::from_millis(10));
        assert!(l.is_up());
        l.failed("boom");
        assert!(!l.is_up());
        assert_eq!(l.failures(), 1);
        assert_eq!(l.last_error().as_deref(), Some("boom"));
        l.succeeded();
        assert!(l.is_up());
    }

    #[test]
    fn deadlines_follow_the_clock_of_redis() {
        let l = Link::new(Duration::from_millis(10));
        let now = crate::auth::now_millis();
        // Redis' clock is 5 s ahead of ours.
        l.observe_clock(now, now + 2, now + 1 + 5000);
        let d = l.redis_deadline_ms(Duration::from_secs(2));
        let expected = now + 5000 + 2000;
        assert!(d.abs_diff(expected) < 100, "{d} vs {expected}");
    }
}

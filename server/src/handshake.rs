//! Limits on Engine.IO sessions before they join the namespace.
//!
//! A session costs memory from its handshake on (the Engine.IO socket, its
//! queues, a WebSocket or a polling slot), but the connection limits of
//! [`crate::socket`] only apply when it sends a Socket.IO CONNECT. Without a
//! bound here a peer could open handshakes that never join until the server
//! runs out of memory or file descriptors. Three limits close that:
//!
//! - a token bucket per peer address (`--handshake-rate-per-ip`,
//!   `--handshake-burst-per-ip`): 429 `RATE_LIMITED` beyond;
//! - a cap on sessions opened and not yet joined, over all peers
//!   (`--max-pending-sessions`): 503 `SERVER_BUSY` beyond;
//! - socketioxide's connect timeout (`--join-timeout-ms`) closes a session
//!   that has not joined in time, which frees its pending slot.
//!
//! A new session is a request to the Socket.IO path without a `sid` query
//! parameter. Its slot is a [`Ticket`] carried in the request's extensions,
//! which Engine.IO keeps with the session (`SocketRef::req_parts`): the
//! connect middleware releases it when the socket joins, and dropping it
//! (the session closed or the handshake failed) releases it too, so a slot
//! can never leak.

use crate::api_error::ApiError;
use crate::app::Shared;
use crate::metrics::Metrics;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The path Socket.IO serves (socketioxide's default).
const SOCKET_IO_PATH: &str = "/socket.io";

/// The handshake limits of one server.
#[derive(Debug)]
pub struct HandshakeLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    pending: Arc<AtomicUsize>,
    max_pending: usize,
}

/// The pending slot of one session, released once: when it joins
/// ([`Ticket::release`]) or when the last copy is dropped.
#[derive(Debug, Clone)]
pub struct Ticket(Arc<TicketInner>);

#[derive(Debug)]
struct TicketInner {
    released: AtomicBool,
    pending: Arc<AtomicUsize>,
}

impl Ticket {
    /// Gives the slot back (the session joined). Later calls do nothing.
    pub fn release(&self) {
        self.0.release();
    }
}

impl TicketInner {
    fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for TicketInner {
    fn drop(&mut self) {
        self.release();
    }
}

/// Why a handshake was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The peer's bucket is empty; retry after this many milliseconds.
    RateLimited(u64),
    /// Too many sessions wait to join.
    Busy(usize),
}

impl HandshakeLimits {
    /// `rate`/s with bursts of `burst` per peer address, and at most
    /// `max_pending` sessions waiting to join.
    pub fn new(rate: u32, burst: u32, max_pending: usize) -> Self {
        let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        Self {
            per_ip: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            pending: Arc::new(AtomicUsize::new(0)),
            max_pending,
        }
    }

    /// Admits a new session from `ip`, or says why not.
    pub fn admit(&self, ip: IpAddr) -> Result<Ticket, Refusal> {
        if let Err(not_until) = self.per_ip.check_key(&ip) {
            let wait = not_until.wait_time_from(self.clock.now());
            let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            return Err(Refusal::RateLimited(ms));
        }
        let max = self.max_pending;
        // Reserved atomically: concurrent handshakes cannot overshoot.
        if self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_err()
        {
            return Err(Refusal::Busy(max));
        }
        Ok(Ticket(Arc::new(TicketInner {
            released: AtomicBool::new(false),
            pending: self.pending.clone(),
        })))
    }

    /// Sessions opened and not joined (nor closed) now.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Forgets peers whose buckets are full again (call now and then).
    pub fn forget_idle_peers(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
    }
}

/// Whether `req` opens a new Engine.IO session: the Socket.IO path without
/// a `sid` (requests with one continue a session: polls, the upgrade).
fn opens_session(req: &Request) -> bool {
    let uri = req.uri();
    let path = uri.path();
    if path != SOCKET_IO_PATH && !path.starts_with("/socket.io/") {
        return false;
    }
    !uri.query()
        .unwrap_or("")
        .split('&')
        .any(|pair| pair.split('=').next() == Some("sid"))
}

/// Middleware in front of the Socket.IO layer: admits or refuses each new
/// session (see the module doc) and hands its [`Ticket`] to the session.
pub async fn limit(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    if !opens_session(&req) {
        return next.run(req).await;
    }
    // Without the peer address (a server built without connect info, as in
    // some embeddings) every peer shares one bucket: stricter, never looser.
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match app.handshakes.admit(ip) {
        Ok(ticket) => {
            req.extensions_mut().insert(ticket);
            next.run(req).await
        }
        Err(refusal) => refused(&app.metrics, ip, refusal),
    }
}

fn refused(metrics: &Metrics, ip: IpAddr, refusal: Refusal) -> Response {
    match refusal {
        Refusal::RateLimited(ms) => {
            metrics.error("HANDSHAKE_RATE_LIMITED");
            tracing::warn!(%ip, "handshake refused: too many from this address");
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                frinny_agent::catalogue::codes::RATE_LIMITED,
                format!("too many new sessions from {ip}; retry in {ms} ms"),
            );
            e.extra.insert("retryAfterMs".into(), json!(ms));
            let secs = ms.div_ceil(1000).to_string();
            let mut res = e.into_response();
            if let Ok(v) = secs.parse() {
                res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            res
        }
        Refusal::Busy(max) => {
            metrics.error(SERVER_BUSY);
            tracing::warn!(%ip, "handshake refused: {max} sessions wait to join");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                SERVER_BUSY,
                format!("{max} sessions are waiting to join; try again later"),
            )
            .into_response()
        }
    }
}

/// The code of a handshake refused because too many sessions wait to join.
pub const SERVER_BUSY: &str = "SERVER_BUSY";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_released_once_by_join_or_drop() {
        let l = HandshakeLimits::new(1000, 1000, 2);
        let ip = IpAddr::from([127, 0, 0, 1]);
        let a = l.admit(ip).unwrap();
        let b = l.admit(ip).unwrap();
        assert_eq!(l.admit(ip).unwrap_err(), Refusal::Busy(2));
        let copy = a.clone();
        a.release();
        a.release();
        assert_eq!(l.pending(), 1);
        drop(copy);
        drop(a);
        assert_eq!(l.pending(), 1, "a released slot is not given back twice");
        drop(b);
        assert_eq!(l.pending(), 0);
        assert!(l.admit(ip).is_ok());
    }

    #[test]
    fn each_address_has_its_own_bucket() {
        let l = HandshakeLimits::new(1, 2, 100);
        let (x, y) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let _t = (l.admit(x).unwrap(), l.admit(x).unwrap());
        assert!(matches!(l.admit(x), Err(Refusal::RateLimited(ms)) if ms >= 1));
        assert!(l.admit(y).is_ok());
        l.forget_idle_peers();
    }

    #[test]
    fn only_requests_without_a_sid_open_sessions() {
        let req = |uri: &str| {
            Request::builder()
                .uri(uri)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert!(opens_session(&req("/socket.io/?EIO=4&transport=websocket")));
        assert!(opens_session(&req(
            "/socket.io/?EIO=4&transport=polling&t=x"
        )));
        assert!(!opens_session(&req(
            "/socket.io/?EIO=4&transport=polling&sid=abc"
        )));
        assert!(!opens_session(&req(
            "/socket.io/?sid=abc&EIO=4&transport=websocket"
        )));
        assert!(!opens_session(&req("/healthz")));
        assert!(!opens_session(&req("/socket.iox/?EIO=4")));
    }
}

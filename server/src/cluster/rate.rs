//! Per-user rate limits shared by every instance: one GCRA cell per user in
//! Redis (`frinny:{u:<user>}:rate`, the theoretical arrival time in
//! microseconds of Redis' clock), so a user's connections spread over
//! instances share one bucket. The per-connection bucket stays local: a
//! connection lives on one instance.

use super::{Link, Unavailable};
use redis::aio::ConnectionManager;
use redis::Script;
use std::sync::Arc;
use std::time::Duration;

/// The longest a rate check may wait for Redis before this instance falls
/// back to its own bucket: an event must not stall behind a slow Redis.
pub const CHECK_BOUND: Duration = Duration::from_millis(200);

/// GCRA. KEYS: the cell. ARGV: emission interval (µs), tolerance (µs,
/// interval × burst). Returns 0 (allowed) or the wait in µs.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new = tat + interval
if new - now > tolerance then
  return math.floor(new - tolerance - now) + 1
end
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.floor((new - now) / 1000) + 1)
return 0
"#;

/// The shared per-user limiter.
pub struct SharedRate {
    conn: ConnectionManager,
    link: Arc<Link>,
    gcra: Script,
}

/// The key of `user`'s cell (its own hash tag: users spread over shards).
pub fn key(user: &str) -> String {
    format!("frinny:{{u:{}}}:rate", super::state::world_tag(user))
}

impl SharedRate {
    /// A limiter over `conn`.
    pub fn new(conn: ConnectionManager, link: Arc<Link>) -> Self {
        Self {
            conn,
            link,
            gcra: Script::new(GCRA),
        }
    }

    /// Takes one event from `user`'s shared bucket of `per_second` with
    /// bursts of `burst`: `Ok(Ok(()))`, `Ok(Err(wait))`, or `Err` when Redis
    /// is down (the caller falls back to its local bucket).
    pub async fn check(
        &self,
        user: &str,
        per_second: u32,
        burst: u32,
    ) -> Result<Result<(), Duration>, Unavailable> {
        if !self.link.is_up() {
            return Err(Unavailable("degraded".into()));
        }
        let interval = 1_000_000u64 / u64::from(per_second.max(1));
        let tolerance = interval.saturating_mul(u64::from(burst.max(1)));
        let mut conn = self.conn.clone();
        let mut inv = self.gcra.prepare_invoke();
        inv.key(key(user)).arg(interval).arg(tolerance);
        let wait_us: u64 = self
            .link
            .run_within(
                CHECK_BOUND.min(self.link.timeout),
                inv.invoke_async(&mut conn),
            )
            .await?;
        Ok(if wait_us == 0 {
            Ok(())
        } else {
            Err(Duration::from_micros(wait_us))
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_keys_are_tagged_and_escaped() {
        assert_eq!(super::key("u1"), "frinny:{u:u1}:rate");
        assert_eq!(super::key("a}b"), "frinny:{u:a%7Db}:rate");
    }
}

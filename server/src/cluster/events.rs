//! Custom event declarations shared by every instance (`--redis`): one hash
//! per world, `frinny:{<world>}:events` (in the world's hash tag, beside its
//! state), field the event name, value its declaration as JSON.
//!
//! A define is one script: it counts the world's declarations after the
//! request and writes them all, or none when the count would pass the
//! bound, so two GMs declaring at once on two instances cannot overshoot
//! it. Every instance reads a declaration from Redis when an event of that
//! name arrives (one `HGET`), so a definition made on one instance holds on
//! all of them from the next event on, with no message to lose.

use super::state::world_tag;
use super::{Link, Unavailable};
use crate::custom_events::DefineError;
use frinny_agent::catalogue::custom::CustomEventSpec;
use redis::aio::ConnectionManager;
use redis::{Script, Value as RValue};
use std::sync::Arc;
use std::time::Duration;

/// The longest an event waits for its declaration from Redis before this
/// instance uses its own last copy: an event must not stall behind a slow Redis.
pub const READ_BOUND: Duration = Duration::from_millis(200);

/// KEYS: the world's hash. ARGV: the bound, then name, declaration pairs.
/// Returns {'ok', count} or {'full', count}.
const DEFINE: &str = r#"
local count = redis.call('HLEN', KEYS[1])
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then count = count + 1 end
end
if count > tonumber(ARGV[1]) then return {'full', count} end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {'ok', count}
"#;

/// The key of `world`'s declarations.
pub fn key(world: &str) -> String {
    format!("frinny:{{{}}}:events", world_tag(world))
}

/// The shared declarations of one instance.
pub struct SharedEvents {
    conn: ConnectionManager,
    link: Arc<Link>,
    define: Script,
}

fn as_u64(v: &RValue) -> Option<usize> {
    match v {
        RValue::Int(n) => usize::try_from(*n).ok(),
        _ => None,
    }
}

impl SharedEvents {
    /// Declarations over `conn`.
    pub fn new(conn: ConnectionManager, link: Arc<Link>) -> Self {
        Self {
            conn,
            link,
            define: Script::new(DEFINE),
        }
    }

    /// `world`'s declaration of `name`, if it has one. A declaration that
    /// no longer reads (written by another version) counts as none.
    pub async fn get(
        &self,
        world: &str,
        name: &str,
    ) -> Result<Option<CustomEventSpec>, Unavailable> {
        let mut conn = self.conn.clone();
        let key = key(world);
        let text: Option<String> = self
            .link
            .run_within(READ_BOUND, async move {
                redis::cmd("HGET")
                    .arg(key)
                    .arg(name)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        let Some(text) = text else {
            return Ok(None);
        };
        let spec = serde_json::from_str(&text)
            .ok()
            .and_then(|v| CustomEventSpec::parse(&v).ok());
        if spec.is_none() {
            self.link.malformed();
        }
        Ok(spec)
    }

    /// The names `world` has declared.
    pub async fn names(&self, world: &str) -> Result<Vec<String>, Unavailable> {
        let mut conn = self.conn.clone();
        let key = key(world);
        self.link
            .run_within(READ_BOUND, async move {
                redis::cmd("HKEYS").arg(key).query_async(&mut conn).await
            })
            .await
    }

    /// Declares `specs` in `world` unless it would then hold more than
    /// `max`. Returns the world's count.
    pub async fn define(
        &self,
        world: &str,
        specs: &[CustomEventSpec],
        max: usize,
    ) -> Result<usize, DefineError> {
        let mut inv = self.define.prepare_invoke();
        inv.key(key(world)).arg(max);
        for spec in specs {
            let text =
                serde_json::to_string(spec).map_err(|e| DefineError::Unavailable(e.to_string()))?;
            inv.arg(&spec.name).arg(text);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<RValue> = self
            .link
            .run(inv.invoke_async(&mut conn))
            .await
            .map_err(|e| DefineError::Unavailable(e.to_string()))?;
        let status = match reply.first() {
            Some(RValue::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(RValue::SimpleString(s)) => s.clone(),
            _ => String::new(),
        };
        match (status.as_str(), reply.get(1).and_then(as_u64)) {
            ("ok", Some(count)) => Ok(count),
            ("full", Some(count)) => Err(DefineError::TooMany { count, max }),
            _ => Err(DefineError::Unavailable(
                "unexpected reply from the define script".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_the_worlds_hash_tag() {
        assert_eq!(key("w1"), "frinny:{w1}:events");
        assert_eq!(key("a}:b"), "frinny:{a%7D%3Ab}:events");
        assert_eq!(
            super::super::state::keys("w1", "s")[3],
            "frinny:{w1}:epoch",
            "the same tag as the world's state"
        );
    }
}

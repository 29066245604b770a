//! Shared state in Redis: each scope's document, version and bounded patch
//! history, changed by an atomic compare-and-set script.
//!
//! Keys, one hash tag per world so that a Redis Cluster keeps a world's
//! keys on one shard (the world id is escaped so that it cannot close the
//! tag or forge a separator):
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `frinny:{<world>}:doc:<scope>` | hash | `doc` (JSON), `version`, `hbytes` (bytes of the history's patches) |
//! | `frinny:{<world>}:hist:<scope>` | list | `<version> <patch JSON>`, oldest first |
//! | `frinny:{<world>}:orig:<scope>` | list | the origin (`<user>\x1f<update id>`) of each history entry, or `""` |
//! | `frinny:{<world>}:epoch` | string | the world's epoch: versions restart only when Redis loses it |
//!
//! Published on [`STATE_CHANNEL`]: `world␟scope␟epoch␟base␟version␟patch`
//! (␟ is U+001F, which ids cannot contain).
//!
//! The apply script runs the compare-and-set, trims the history and
//! `PUBLISH`es the patch on [`STATE_CHANNEL`] in the same atomic step, so
//! the order of the messages is the order of the versions. Every instance
//! reads that one channel ([`run_pusher`]) and pushes to its own
//! subscribers: once per patch (a version it already pushed is skipped), in
//! order (a gap, after a lost message, is filled from the history first).
//! The writer's instance acks an update only after it pushed it, as the
//! embedded store does.

use super::driver::STATE_CHANNEL;
use super::{Link, Unavailable};
use crate::rooms;
use crate::state_store::{
    depth, Applied, CatchUp, Entry, PatchError, Snapshot, StoreLimits, MAX_DEPTH,
};
use crate::state_sync::patch_event;
use frinny_agent::catalogue::names;
use redis::aio::ConnectionManager;
use redis::{Script, Value as RValue};
use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::SocketIo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The unit separator between the fields of a published patch (ids never
/// contain control characters).
const SEP: char = '\u{1f}';

/// How long the writer's instance waits for its own push before it acks.
const PUSH_WAIT: Duration = Duration::from_secs(1);

/// Compare-and-set. KEYS: doc, hist, orig, epoch. ARGV: expected version,
/// origin (or ""), new document (or "": only answer dup/conflict), patch,
/// history length, history bytes, channel, message prefix, deadline (ms
/// since the epoch, Redis clock), epoch candidate, publish ("1"/"0"). Refuses to run past its
/// deadline, so a write whose caller already answered `UNAVAILABLE` can
/// never land later.
const APPLY: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > tonumber(ARGV[9]) then return {'late'} end
redis.call('SET', KEYS[4], ARGV[10], 'NX')
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[2] ~= '' then
  local idx = redis.call('LPOS', KEYS[3], ARGV[2])
  if idx then
    local e = redis.call('LINDEX', KEYS[2], idx)
    local v = tonumber(string.match(e, '^(%d+) '))
    return {'dup', v, redis.call('HGET', KEYS[1], 'doc') or '{}'}
  end
end
if cur ~= tonumber(ARGV[1]) then
  return {'conflict', cur, redis.call('HGET', KEYS[1], 'doc') or '{}'}
end
if ARGV[3] == '' then return {'stale', cur} end
local v = cur + 1
local bytes = string.len(ARGV[4])
local hbytes = tonumber(redis.call('HGET', KEYS[1], 'hbytes') or '0')
local max = tonumber(ARGV[5])
if max > 0 then
  local len = redis.call('LLEN', KEYS[2])
  while len > 0 and (len >= max or hbytes + bytes > tonumber(ARGV[6])) do
    local old = redis.call('LPOP', KEYS[2])
    redis.call('LPOP', KEYS[3])
    local sp = string.find(old, ' ', 1, true)
    hbytes = hbytes - (string.len(old) - sp)
    len = len - 1
  end
  redis.call('RPUSH', KEYS[2], string.format('%d', v) .. ' ' .. ARGV[4])
  redis.call('RPUSH', KEYS[3], ARGV[2])
  hbytes = hbytes + bytes
end
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'version', string.format('%d', v), 'hbytes', string.format('%d', hbytes))
local epoch = redis.call('GET', KEYS[4])
if ARGV[11] == '1' then redis.call('PUBLISH', ARGV[7], ARGV[8] .. epoch .. '\31' .. string.format('%d', cur) .. '\31' .. string.format('%d', v) .. '\31' .. ARGV[4]) end
return {'ok', cur, v}
"#;

/// Catch-up read. KEYS: doc, hist, epoch. ARGV: since (-1: none), epoch
/// candidate. Returns {epoch, version, doc, entries after `since`...}.
const CATCH_UP: &str = r#"
redis.call('SET', KEYS[3], ARGV[2], 'NX')
local out = {redis.call('GET', KEYS[3])}
local h = redis.call('HMGET', KEYS[1], 'version', 'doc')
out[2] = tonumber(h[1] or '0')
out[3] = h[2] or '{}'
local since = tonumber(ARGV[1])
if since >= 0 then
  local all = redis.call('LRANGE', KEYS[2], 0, -1)
  for i = 1, #all do
    local v = tonumber(string.match(all[i], '^(%d+) '))
    if v and v > since then out[#out + 1] = all[i] end
  end
end
return out
"#;

/// Escapes a world id for a key: `%`, `{`, `}` and `:` become `%XX`, so
/// the hash tag is exactly the world and `:` only separates.
pub fn world_tag(world: &str) -> String {
    let mut out = String::with_capacity(world.len());
    for c in world.chars() {
        match c {
            '%' => out.push_str("%25"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out
}

/// The keys of one scope: (doc, hist, orig, epoch).
pub fn keys(world: &str, scope: &str) -> [String; 4] {
    let w = world_tag(world);
    [
        format!("frinny:{{{w}}}:doc:{scope}"),
        format!("frinny:{{{w}}}:hist:{scope}"),
        format!("frinny:{{{w}}}:orig:{scope}"),
        format!("frinny:{{{w}}}:epoch"),
    ]
}

/// Why a shared write failed.
#[derive(Debug, Clone, PartialEq)]
pub enum SharedError {
    /// As in the embedded store.
    Patch(PatchError),
    /// Redis did not answer in time, or not at all.
    Unavailable(Unavailable),
}

impl From<Unavailable> for SharedError {
    fn from(e: Unavailable) -> Self {
        Self::Unavailable(e)
    }
}

type Key = (String, String);

/// Highest version pushed per scope, watched by writers waiting to ack.
#[derive(Default)]
struct Waiters {
    by_scope: HashMap<Key, (usize, watch::Sender<u64>)>,
}

/// A writer's interest in one scope's pushes (dropped: forgotten).
struct Waiting<'a> {
    state: &'a SharedState,
    key: Key,
    rx: watch::Receiver<u64>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut w = self.state.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((n, _)) = w.by_scope.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                w.by_scope.remove(&self.key);
            }
        }
    }
}

/// The Redis state store of one instance.
pub struct SharedState {
    conn: ConnectionManager,
    link: Arc<Link>,
    limits: StoreLimits,
    apply: Script,
    catch_up: Script,
    epoch_candidate: String,
    waiters: Mutex<Waiters>,
}

fn as_u64(v: &RValue) -> Option<u64> {
    match v {
        RValue::Int(n) => u64::try_from(*n).ok(),
        RValue::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        RValue::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

fn as_text(v: &RValue) -> Option<String> {
    match v {
        RValue::BulkString(b) => String::from_utf8(b.clone()).ok(),
        RValue::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn bad_reply(what: &str) -> Unavailable {
    Unavailable(format!("unexpected reply from the {what} script"))
}

fn parse_doc(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| json!({}))
}

/// A history entry `<version> <patch>` as (version, patch text).
fn split_entry(entry: &str) -> Option<(u64, &str)> {
    let (v, patch) = entry.split_once(' ')?;
    Some((v.parse().ok()?, patch))
}

impl SharedState {
    /// A store over `conn`.
    pub fn new(conn: ConnectionManager, link: Arc<Link>, limits: StoreLimits) -> Self {
        Self {
            conn,
            link,
            limits,
            apply: Script::new(APPLY),
            catch_up: Script::new(CATCH_UP),
            epoch_candidate: format!("{:x}", crate::auth::now_millis()),
            waiters: Mutex::default(),
        }
    }

    /// The store's limits.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// What a subscriber holding `since` (of `epoch`) needs, and the
    /// world's epoch: the same rules as [`crate::state_store::StateStore::catch_up`].
    pub async fn catch_up(
        &self,
        world: &str,
        scope: &str,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> Result<(CatchUp, String), Unavailable> {
        let [doc_key, hist_key, _, epoch_key] = keys(world, scope);
        let mut conn = self.conn.clone();
        let since_arg = since.map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX));
        let mut inv = self.catch_up.prepare_invoke();
        inv.key(&doc_key)
            .key(&hist_key)
            .key(&epoch_key)
            .arg(since_arg)
            .arg(&self.epoch_candidate);
        let reply: Vec<RValue> = self.link.run(inv.invoke_async(&mut conn)).await?;
        let mut it = reply.iter();
        let world_epoch = it
            .next()
            .and_then(as_text)
            .ok_or_else(|| bad_reply("catch-up"))?;
        let version = it
            .next()
            .and_then(as_u64)
            .ok_or_else(|| bad_reply("catch-up"))?;
        let doc = it
            .next()
            .and_then(as_text)
            .ok_or_else(|| bad_reply("catch-up"))?;
        let snapshot = || {
            CatchUp::Snapshot(Snapshot {
                version,
                doc: parse_doc(&doc),
            })
        };
        let Some(since) = since else {
            return Ok((snapshot(), world_epoch));
        };
        if epoch.is_some_and(|e| e != world_epoch) || since > version {
            return Ok((snapshot(), world_epoch));
        }
        let mut patches = Vec::new();
        let mut bytes = 0usize;
        let mut expect = since;
        for raw in it {
            let Some(text) = as_text(raw) else {
                return Ok((snapshot(), world_epoch));
            };
            let Some((v, patch)) = split_entry(&text) else {
                return Ok((snapshot(), world_epoch));
            };
            if v != expect.saturating_add(1) {
                // The history no longer reaches back to `since`.
                return Ok((snapshot(), world_epoch));
            }
            expect = v;
            bytes = bytes.saturating_add(patch.len());
            let Ok(patch) = serde_json::from_str::<Value>(patch) else {
                return Ok((snapshot(), world_epoch));
            };
            patches.push(Entry::new(v.saturating_sub(1), v, patch));
        }
        if expect != version || bytes > self.limits.max_doc_bytes {
            return Ok((snapshot(), world_epoch));
        }
        Ok((CatchUp::Patches { version, patches }, world_epoch))
    }

    /// Applies `patch` under compare-and-set (`base` absent: on whatever
    /// is current, retried a few times under contention). The patch is
    /// published to every instance by the script itself (unless `publish`
    /// is false: `--dev` tests that need a gap).
    pub async fn apply(
        &self,
        world: &str,
        scope: &str,
        patch: &Value,
        base: Option<u64>,
        origin: Option<&str>,
        publish: bool,
    ) -> Result<Applied, SharedError> {
        if !patch.is_object() {
            return Err(SharedError::Patch(PatchError::Invalid(
                "`patch` must be a JSON object (an RFC 7396 merge patch)".to_owned(),
            )));
        }
        if depth(patch) > MAX_DEPTH {
            return Err(SharedError::Patch(PatchError::Invalid(format!(
                "`patch` nests deeper than {MAX_DEPTH} levels"
            ))));
        }
        let patch_text = serde_json::to_string(patch)
            .map_err(|e| SharedError::Patch(PatchError::Invalid(e.to_string())))?;
        let [doc_key, hist_key, orig_key, epoch_key] = keys(world, scope);
        let prefix = format!("{world}{SEP}{scope}{SEP}");
        let started = tokio::time::Instant::now();
        for _attempt in 0..8 {
            let left = self.link.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            let mut conn = self.conn.clone();
            let (version, doc): (Option<u64>, Option<String>) = self
                .link
                .run_within(left, async {
                    redis::cmd("HMGET")
                        .arg(&doc_key)
                        .arg("version")
                        .arg("doc")
                        .query_async(&mut conn)
                        .await
                })
                .await?;
            let current = version.unwrap_or(0);
            let expected = base.unwrap_or(current);
            let mut too_large = None;
            let mut new_doc = None;
            if expected == current {
                let mut merged = doc.as_deref().map_or_else(|| json!({}), parse_doc);
                json_patch::merge(&mut merged, patch);
                let text = serde_json::to_string(&merged).unwrap_or_default();
                if text.len() > self.limits.max_doc_bytes {
                    too_large = Some(text.len());
                } else {
                    new_doc = Some((text, merged));
                }
            }
            let left = self.link.timeout.saturating_sub(started.elapsed());
            // The script's deadline comes a margin before our own timer
            // (a quarter of what is left, at most 250 ms): a write Redis
            // runs just inside its deadline then still has time for its
            // reply to reach us, instead of being applied while we answer
            // UNAVAILABLE (seen once in the soak of issue 16).
            let margin = (left / 4).min(Duration::from_millis(250));
            let deadline = self.link.redis_deadline_ms(left.saturating_sub(margin));
            let mut inv = self.apply.prepare_invoke();
            inv.key(&doc_key)
                .key(&hist_key)
                .key(&orig_key)
                .key(&epoch_key)
                .arg(expected)
                .arg(origin.unwrap_or(""))
                .arg(new_doc.as_ref().map_or("", |(t, _)| t.as_str()))
                .arg(&patch_text)
                .arg(self.limits.history)
                .arg(self.limits.max_doc_bytes)
                .arg(STATE_CHANNEL)
                .arg(&prefix)
                .arg(deadline)
                .arg(&self.epoch_candidate)
                .arg(if publish { "1" } else { "0" });
            let mut conn = self.conn.clone();
            let reply: Vec<RValue> = self
                .link
                .run_within(
                    left.max(Duration::from_millis(1)),
                    inv.invoke_async(&mut conn),
                )
                .await?;
            let status = reply.first().and_then(as_text).unwrap_or_default();
            let num = reply.get(1).and_then(as_u64);
            let text = reply.get(2).and_then(as_text);
            match (status.as_str(), num, text) {
                ("ok", Some(b), _) => {
                    let (_, doc) = new_doc.unwrap_or_default();
                    return Ok(Applied {
                        base: b,
                        version: b.saturating_add(1),
                        duplicate: false,
                        doc,
                    });
                }
                ("dup", Some(v), Some(doc)) => {
                    return Ok(Applied {
                        base: v.saturating_sub(1),
                        version: v,
                        duplicate: true,
                        doc: parse_doc(&doc),
                    });
                }
                ("conflict", Some(v), Some(doc)) => {
                    if base.is_some() {
                        return Err(SharedError::Patch(PatchError::Conflict(Snapshot {
                            version: v,
                            doc: parse_doc(&doc),
                        })));
                    }
                }
                ("stale", _, _) => {
                    if let Some(size) = too_large {
                        return Err(SharedError::Patch(PatchError::TooLarge {
                            size,
                            max: self.limits.max_doc_bytes,
                        }));
                    }
                }
                ("late", _, _) => {
                    self.link
                        .failed("a state write reached Redis after its deadline");
                    return Err(Unavailable(
                        "Redis answered too late; the write was not applied".into(),
                    )
                    .into());
                }
                _ => return Err(bad_reply("apply").into()),
            }
        }
        Err(Unavailable(format!(
            "scope `{scope}` kept changing under the write for {} ms",
            self.link.timeout.as_millis()
        ))
        .into())
    }

    fn wait_for(&self, world: &str, scope: &str) -> Waiting<'_> {
        let key = (world.to_owned(), scope.to_owned());
        let mut w = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        let entry = w
            .by_scope
            .entry(key.clone())
            .or_insert_with(|| (0, watch::channel(0).0));
        entry.0 = entry.0.saturating_add(1);
        let rx = entry.1.subscribe();
        Waiting {
            state: self,
            key,
            rx,
        }
    }

    /// [`apply`](Self::apply), then waits (a second at most) until this
    /// instance pushed the new version to its subscribers, so the writer
    /// hears its `state:patch` before its ack, as with the embedded store.
    pub async fn apply_and_wait(
        &self,
        world: &str,
        scope: &str,
        patch: &Value,
        base: Option<u64>,
        origin: Option<&str>,
        publish: bool,
    ) -> Result<Applied, SharedError> {
        let mut waiting = self.wait_for(world, scope);
        let applied = self
            .apply(world, scope, patch, base, origin, publish)
            .await?;
        if publish && !applied.duplicate {
            let v = applied.version;
            if tokio::time::timeout(PUSH_WAIT, waiting.rx.wait_for(|seen| *seen >= v))
                .await
                .is_err()
            {
                tracing::debug!(%scope, version = v, "own push not seen within {PUSH_WAIT:?}; acking anyway");
            }
        }
        Ok(applied)
    }

    fn pushed(&self, key: &Key, version: u64) {
        let w = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, tx)) = w.by_scope.get(key) {
            tx.send_modify(|seen| *seen = (*seen).max(version));
        }
    }
}

/// One published patch: `world SEP scope SEP epoch SEP base SEP version SEP
/// patch`.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The world.
    pub world: String,
    /// The scope.
    pub scope: String,
    /// The world's epoch: versions restart when it changes (Redis lost
    /// its data).
    pub epoch: String,
    /// The version it applied to.
    pub base: u64,
    /// The version it made.
    pub version: u64,
    /// The merge patch.
    pub patch: Value,
}

/// Reads a message of [`STATE_CHANNEL`]; `None` if malformed.
pub fn parse_published(raw: &[u8]) -> Option<Published> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut parts = text.splitn(6, SEP);
    let world = parts.next()?.to_owned();
    let scope = parts.next()?.to_owned();
    let epoch = parts.next()?.to_owned();
    let base = parts.next()?.parse().ok()?;
    let version = parts.next()?.parse().ok()?;
    let patch = serde_json::from_str(parts.next()?).ok()?;
    Some(Published {
        world,
        scope,
        epoch,
        base,
        version,
        patch,
    })
}

/// Pushes every published patch to this instance's subscribers of its
/// scope: each version once, in order. Keeps, per scope with local
/// subscribers, the last version pushed; a message at or below it is a
/// repeat and skipped, one past a gap first gets the missing patches from
/// the history. Runs until the driver closes.
pub async fn run_pusher<A: Adapter>(
    io: SocketIo<A>,
    app: crate::app::Shared,
    mut rx: mpsc::Receiver<Vec<u8>>,
) {
    let Some(cluster) = app.cluster.clone() else {
        return;
    };
    // Per scope with local subscribers: (epoch, last version pushed).
    let mut last: HashMap<Key, (String, u64)> = HashMap::new();
    while let Some(raw) = rx.recv().await {
        let Some(p) = parse_published(&raw) else {
            tracing::warn!("malformed message on {STATE_CHANNEL} ignored");
            cluster.link.malformed();
            continue;
        };
        let key = (p.world.clone(), p.scope.clone());
        let room = rooms::state(&p.world, &p.scope);
        let local = io.local().to(room.clone());
        if local.clone().sockets().is_empty() {
            last.remove(&key);
            cluster.state.pushed(&key, p.version);
            continue;
        }
        let mut batch = Vec::new();
        // Another epoch: Redis lost its data and versions restarted, so the
        // old position means nothing (subscribers see the base go back and
        // resubscribe, getting a snapshot).
        let held = last
            .get(&key)
            .filter(|(e, _)| *e == p.epoch)
            .map(|(_, v)| *v);
        match held {
            Some(l) if p.version <= l => {
                cluster.state.pushed(&key, p.version);
                continue;
            }
            Some(l) if p.base > l => {
                // Messages were lost (a reconnect, a full queue): fill in.
                match cluster
                    .state
                    .catch_up(&p.world, &p.scope, Some(l), Some(&p.epoch))
                    .await
                {
                    Ok((CatchUp::Patches { patches, .. }, _)) => {
                        batch.extend(
                            patches
                                .into_iter()
                                .filter(|e| e.version <= p.base)
                                .map(|e| (e.base, e.version, e.patch)),
                        );
                    }
                    Ok((CatchUp::Snapshot(_), _)) | Err(_) => {
                        tracing::warn!(scope = %p.scope, from = l, to = p.base, "state pushes missed and not in the history; subscribers will catch up by themselves");
                    }
                }
            }
            _ => {}
        }
        batch.push((p.base, p.version, p.patch));
        for (base, version, patch) in batch {
            let push = patch_event(&p.scope, base, version, &patch);
            match local.clone().emit(names::STATE_PATCH, &push).await {
                Ok(()) => app.metrics.event_out(names::STATE_PATCH),
                Err(e) => tracing::warn!("state:patch push failed: {e}"),
            }
        }
        last.insert(key.clone(), (p.epoch.clone(), p.version));
        cluster.state.pushed(&key, p.version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_one_hash_tag_per_world_and_cannot_collide() {
        let k = keys("w1", "world");
        assert_eq!(k[0], "frinny:{w1}:doc:world");
        assert_eq!(k[3], "frinny:{w1}:epoch");
        for key in keys("a}:doc:b", "s") {
            assert!(key.starts_with("frinny:{a%7D%3Adoc%3Ab}:"), "{key}");
        }
        assert_ne!(keys("a", "b}:doc:s")[0], keys("a}:doc:b", "s")[0]);
        assert_eq!(world_tag("50%{x}"), "50%25%7Bx%7D");
    }

    #[test]
    fn published_messages_round_trip_and_garbage_is_refused() {
        let raw = format!("w{SEP}combat:1{SEP}e1{SEP}4{SEP}5{SEP}{{\"a\":{{\"b\":1}}}}");
        assert_eq!(
            parse_published(raw.as_bytes()),
            Some(Published {
                world: "w".into(),
                scope: "combat:1".into(),
                epoch: "e1".into(),
                base: 4,
                version: 5,
                patch: json!({"a": {"b": 1}}),
            })
        );
        for bad in [
            "",
            "w",
            "w\u{1f}s\u{1f}e\u{1f}x\u{1f}1\u{1f}{}",
            "w\u{1f}s\u{1f}e\u{1f}1\u{1f}2\u{1f}{",
            "w\u{1f}s\u{1f}1\u{1f}2\u{1f}{}",
        ] {
            assert_eq!(parse_published(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse_published(&[0xff, 0xfe]), None);
    }

    #[test]
    fn history_entries_split() {
        assert_eq!(split_entry("12 {\"a\":1}"), Some((12, "{\"a\":1}")));
        assert_eq!(split_entry("x {}"), None);
        assert_eq!(split_entry("12"), None);
    }
}

//! Batching (`--batch-window-ms`): the events the server pushes to one
//! socket within a window go out as one `batch` envelope
//! `[[name, payload], …]` ([`frinny_agent::protocol::batch`]), and an
//! envelope the client sends is handled entry by entry ([`inbound`]).
//!
//! Who gets batches: only a socket whose client asked (`batch=1` in the
//! handshake query, as frinny-agent sends) on a server started with a
//! window. The server says so in that socket's `connection_established`
//! (`batch: {windowMs, maxBytes}`) and starts batching only after the
//! greeting went out, so a client never meets an envelope before it knows
//! what one is. Every other client sees exactly what it saw before.
//!
//! What is batched: the plain events the server pushes through rooms
//! (typing, notifications, combat updates, state patches, broadcasts, custom
//! events), caught in the adapter ([`adapter`]) so every emitter is covered.
//! What is not: replies (`*_response`, `error`), `connection_established`,
//! `server_shutdown`, acks, binary events. Replies keep their timing: one
//! never waits for a window, and it first flushes what waits for its socket,
//! so it never overtakes an event pushed before it; acks and `error`s sent
//! straight to the socket flush first too ([`Batcher::flush`]). So a batching
//! socket sees the same events in the same order as without batching, at
//! most one window later and in fewer frames.
//!
//! A batch goes out when its window ends (the window starts with its first
//! event) or as soon as the next event would take it past `maxBytes`
//! (`--max-payload-bytes`: no envelope is bigger than the largest event the
//! server itself takes in). A batch of one goes out as the plain event, and
//! so does an event too big for any batch.
//!
//! With `--redis` the batching is this instance's: events it emits reach its
//! batching sockets in envelopes; events that come from another instance
//! reach them one frame each, since socketioxide's Redis adapter hands them
//! to the sockets itself. Either way every event arrives, once.

pub mod adapter;
pub mod inbound;

use frinny_agent::catalogue::{names, BatchCapability};
use frinny_agent::core::reply_policy;
use frinny_agent::protocol::batch::Writer;
use socketioxide_core::packet::{Packet, PacketData};
use socketioxide_core::{Sid, Str, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

/// How a batch reaches its socket: the namespace's own local adapter,
/// addressed to one socket.
pub type Sender = Box<dyn Fn(Sid, Packet) + Send + Sync>;

/// The batches waiting, one per batching socket. Shared by the adapter (which
/// fills them) and the handlers (which flush before they answer).
pub struct Batcher {
    window: Option<Duration>,
    max_bytes: usize,
    /// The room of this instance's batching sockets: the adapter leaves them
    /// out of the plain broadcast. Named per instance, so that with
    /// `--redis` another instance still delivers to them.
    room: String,
    sockets: RwLock<HashMap<Sid, Arc<Mutex<Pending>>>>,
    sender: OnceLock<Sender>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("window", &self.window)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// One socket's batch.
#[derive(Default)]
struct Pending {
    /// The namespace of the events waiting.
    ns: Option<Str>,
    /// Each event's arguments array, `["name", payload]`, oldest first.
    entries: Vec<Str>,
    /// What `entries` would take in an envelope, in bytes.
    bytes: usize,
    /// Counts the batches sent, so a window's timer only ends its own.
    sent: u64,
}

impl Batcher {
    /// A batcher with the given window (`0`: batching off) whose envelopes
    /// stay within `max_bytes`.
    pub fn new(window_ms: u64, max_bytes: usize) -> Self {
        Batcher {
            window: (window_ms > 0).then(|| Duration::from_millis(window_ms)),
            max_bytes,
            room: format!("frinny:batch:{}", Sid::new()),
            sockets: RwLock::new(HashMap::new()),
            sender: OnceLock::new(),
        }
    }

    /// Whether the server batches at all.
    pub fn enabled(&self) -> bool {
        self.window.is_some()
    }

    /// What `connection_established` announces to a client that asked.
    pub fn offer(&self) -> Option<BatchCapability> {
        let window = self.window?;
        Some(BatchCapability {
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            max_bytes: u64::try_from(self.max_bytes).unwrap_or(u64::MAX),
        })
    }

    /// The room of this instance's batching sockets.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// How batches are sent; set once, by the adapter of `/` when the
    /// namespace is made.
    pub fn attach(&self, sender: Sender) {
        let _ = self.sender.set(sender);
    }

    /// Starts batching for `sid` (its greeting has gone out).
    pub fn register(&self, sid: Sid) {
        if self.enabled() {
            self.write().insert(sid, Arc::default());
        }
    }

    /// The socket left: its batch, if any, goes nowhere.
    pub fn forget(&self, sid: Sid) {
        if self.enabled() {
            self.write().remove(&sid);
        }
    }

    /// Whether `sid` gets batches.
    pub fn batches_for(&self, sid: Sid) -> bool {
        self.read().contains_key(&sid)
    }

    /// Whether no socket gets batches (the adapter's quick way out).
    pub fn idle(&self) -> bool {
        self.read().is_empty()
    }

    /// Sends what waits for `sid` now: before anything else goes to it.
    pub fn flush(&self, sid: Sid) {
        if !self.enabled() {
            return;
        }
        if let Some(pending) = self.pending(sid) {
            let mut p = lock(&pending);
            self.send(sid, &mut p);
        }
    }

    /// Adds the event `packet` (a plain event whose arguments are `entry`)
    /// to `sid`'s batch: sends the batch first if the event would take it
    /// past the bound, and the event alone if no batch can hold it.
    pub(crate) fn push(self: &Arc<Self>, sid: Sid, packet: &Packet, entry: &Str) {
        let Some(pending) = self.pending(sid) else {
            return;
        };
        // Sent while the batch is held, so two pushes cannot reorder what
        // they send (the sender takes no lock of ours).
        let mut p = lock(&pending);
        let alone = Writer::new("").len_with(entry.len());
        if alone > self.max_bytes {
            self.send(sid, &mut p);
            self.deliver(sid, packet.clone());
            return;
        }
        if !p.entries.is_empty() && p.bytes + 1 + entry.len() > self.max_bytes {
            self.send(sid, &mut p);
        }
        if p.entries.is_empty() {
            p.ns = Some(packet.ns.clone());
            p.bytes = Writer::new("").len_with(0);
            self.start_window(sid, p.sent);
        } else {
            p.bytes += 1;
        }
        p.bytes += entry.len();
        p.entries.push(entry.clone());
    }

    /// Ends the window of batch number `sent` of `sid`, unless it went out
    /// already (full, or flushed before a reply).
    fn start_window(self: &Arc<Self>, sid: Sid, sent: u64) {
        let Some(window) = self.window else {
            return;
        };
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(window).await;
            let Some(this) = this.upgrade() else {
                return;
            };
            if let Some(pending) = this.pending(sid) {
                let mut p = lock(&pending);
                if p.sent == sent {
                    this.send(sid, &mut p);
                }
            }
        });
    }

    /// Sends `sid`'s batch, if it has one: one event as itself, several as
    /// an envelope.
    fn send(&self, sid: Sid, p: &mut Pending) {
        let entries = std::mem::take(&mut p.entries);
        let Some(ns) = p.ns.take() else {
            return;
        };
        p.bytes = 0;
        p.sent = p.sent.wrapping_add(1);
        let data = match entries.as_slice() {
            [] => return,
            [one] => one.clone(),
            many => {
                let mut w = Writer::new("");
                for e in many {
                    w.push(e.as_str());
                }
                Str::from(w.finish())
            }
        };
        self.deliver(sid, Packet::event(ns, Value::Str(data, None)));
    }

    fn deliver(&self, sid: Sid, packet: Packet) {
        if let Some(send) = self.sender.get() {
            send(sid, packet);
        }
    }

    fn pending(&self, sid: Sid) -> Option<Arc<Mutex<Pending>>> {
        self.read().get(&sid).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Sid, Arc<Mutex<Pending>>>> {
        self.sockets.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Sid, Arc<Mutex<Pending>>>> {
        self.sockets.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    pending.lock().unwrap_or_else(|p| p.into_inner())
}

/// The arguments array of `packet` when it is an event a batch may hold: a
/// plain event (no ack id, no binary) that is not a reply nor one of the
/// events that must stand alone.
pub fn batchable(packet: &Packet) -> Option<&Str> {
    let PacketData::Event(Value::Str(data, bins), None) = &packet.inner else {
        return None;
    };
    if bins.as_ref().is_some_and(|b| !b.is_empty()) {
        return None;
    }
    let name = event_name(data.as_str())?;
    let alone = reply_policy::is_reply(&name)
        || name == names::CONNECTION_ESTABLISHED
        || name == names::SERVER_SHUTDOWN
        || name == names::BATCH;
    (!alone).then_some(data)
}

/// The event name that leads the arguments array `args`.
fn event_name(args: &str) -> Option<String> {
    use frinny_agent::protocol::json::{shallow, Shallow};
    let Ok(Shallow::Array(items)) = shallow(args) else {
        return None;
    };
    match shallow(items.first()?.get()) {
        Ok(Shallow::String(name)) => Some(name.into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(args: &str) -> Packet {
        Packet::event("/", Value::Str(Str::from(args.to_owned()), None))
    }

    #[test]
    fn only_plain_pushed_events_are_batchable() {
        for yes in [
            r#"["typing_status",{"isTyping":true}]"#,
            r#"["state:patch",{}]"#,
            r#"["x-mod:ping"]"#,
        ] {
            assert!(batchable(&event(yes)).is_some(), "{yes}");
        }
        for no in [
            r#"["query_response",{"content":"x"}]"#,
            r#"["error",{"message":"x"}]"#,
            r#"["connection_established",{}]"#,
            r#"["server_shutdown",{"reason":"x"}]"#,
            r#"["batch",[]]"#,
        ] {
            assert!(batchable(&event(no)).is_none(), "{no}");
        }
        let mut acked = event(r#"["typing_status",{}]"#);
        if let PacketData::Event(_, ack) = &mut acked.inner {
            *ack = Some(1);
        }
        assert!(batchable(&acked).is_none(), "asks for an ack");
    }

    #[tokio::test]
    async fn a_batch_goes_out_at_the_end_of_its_window_or_when_full() {
        let b = Arc::new(Batcher::new(20, 40));
        let sent = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = sent.clone();
        b.attach(Box::new(move |_, packet| {
            if let PacketData::Event(Value::Str(data, _), _) = packet.inner {
                log.lock().unwrap().push(data.as_str().to_owned());
            }
        }));
        let sid = Sid::new();
        b.register(sid);
        assert!(b.batches_for(sid) && !b.idle());
        for args in [r#"["a",1]"#, r#"["b",2]"#, r#"["c",3]"#] {
            let p = event(args);
            let entry = batchable(&p).unwrap().clone();
            b.push(sid, &p, &entry);
        }
        // `["batch",[["a",1],["b",2],["c",3]]]` is 38 bytes, within 40; `d`
        // fits in no batch of 40 bytes.
        let big = event(&format!(r#"["d","{}"]"#, "x".repeat(40)));
        let entry = batchable(&big).unwrap().clone();
        b.push(sid, &big, &entry);
        assert_eq!(
            sent.lock().unwrap().clone(),
            [
                r#"["batch",[["a",1],["b",2],["c",3]]]"#.to_owned(),
                big_args(&big)
            ],
            "the batch first, then the event no batch can hold"
        );
        let p = event(r#"["e",5]"#);
        b.push(sid, &p, batchable(&p).unwrap());
        assert_eq!(sent.lock().unwrap().len(), 2, "waits for its window");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            sent.lock().unwrap()[2],
            r#"["e",5]"#,
            "a batch of one is the event"
        );
        b.forget(sid);
        assert!(b.idle());
        assert!(Batcher::new(0, 40).offer().is_none());
    }

    fn big_args(p: &Packet) -> String {
        match &p.inner {
            PacketData::Event(Value::Str(data, _), _) => data.as_str().to_owned(),
            _ => String::new(),
        }
    }
}

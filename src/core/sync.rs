//! The state synchronisation engine: named scopes, each a JSON document with a
//! version held by the server, kept in step through RFC 7396 merge patches.
//! Sans-IO like [`Client`](super::Client) and independent of it: the shell
//! feeds it what the server said and carries out its [`SyncOutput`]s.
//!
//! # Rules
//!
//! - A server patch `{base, version, patch}` applies only when `base` is the
//!   local version. An older or duplicate one (`version <= local`) is ignored.
//!   One whose base is ahead is a **gap**: it is kept aside and the store asks
//!   `state:subscribe {scope, since: local}`; the reply (the missed patches or
//!   a snapshot) is applied, then the kept patches in order.
//! - [`SyncStore::update`] lays an optimistic patch over the document at once
//!   (visible through [`SyncStore::doc`]) and sends `state:update {scope, base,
//!   patch, id}`. Updates of one scope go one at a time, each against the
//!   version the store holds when it is sent, so a burst of local edits does
//!   not conflict with itself.
//! - The ack confirms the update (its patch becomes part of the confirmed
//!   document); a `CONFLICT` refusal rolls the overlay back, adopts the
//!   server's document and asks a resolver for a patch to re-submit (the
//!   server wins when it gives none).
//! - On a lost link nothing is forgotten: [`SyncStore::on_connect`] asks every
//!   scope to resume from its last version, and an update whose ack was lost
//!   is re-sent with the same base and id (the server acks a duplicate
//!   instead of applying it twice).
//!
//! # Example
//!
//! ```
//! use frinny_agent::core::{SyncOutput, SyncStore, PatchOutcome};
//! use serde_json::json;
//!
//! let mut store = SyncStore::new("tab1");
//! store.on_connect();
//! store.subscribe("world");
//! let Some(SyncOutput::Subscribe { scope, since: None, .. }) = store.poll_output() else { panic!() };
//! assert_eq!(scope, "world");
//!
//! // The ack of `state:subscribe` carries a snapshot.
//! store.on_subscribe_reply("world", &json!({"scope": "world", "version": 3, "doc": {"scene": "Ruins"}}));
//! assert_eq!(store.doc("world"), Some(&json!({"scene": "Ruins"})));
//!
//! // Pushed patches apply in order; a gap asks for the missing range.
//! assert_eq!(store.on_patch("world", 3, 4, &json!({"round": 1})), PatchOutcome::Applied);
//! assert_eq!(store.on_patch("world", 3, 4, &json!({"round": 1})), PatchOutcome::Ignored);
//! assert_eq!(store.on_patch("world", 5, 6, &json!({"round": 3})), PatchOutcome::Gap { since: 4 });
//! ```

use crate::catalogue::{codes, names, StateConflict, StateSubscribeReply, StateUpdateAck};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::fmt;

/// Patches kept aside per scope while a gap is being filled; beyond this the
/// oldest are dropped (the catch-up reply brings them again).
const MAX_FUTURE: usize = 1024;

/// How many times one update may be re-submitted after conflicts.
const MAX_RESUBMITS: u32 = 8;

/// The pause before the first re-submit after a conflict, in ms; it doubles
/// with each further conflict of the same update, up to
/// [`RESUBMIT_PAUSE_MAX_MS`]. The pause actually taken is drawn uniformly
/// between half of it and all of it.
///
/// Why pause at all: two stores writing one scope in a loop meet in
/// lockstep. Re-submitting at once, the one nearer the server (or simply
/// faster to resolve) wins every round and the other can lose all eight of
/// its attempts. A random pause breaks the symmetry, and its growth gives
/// the loser a window in which it is the only writer.
pub const RESUBMIT_PAUSE_MS: u64 = 40;

/// The longest pause before a re-submit, in ms.
pub const RESUBMIT_PAUSE_MAX_MS: u64 = 2_000;

/// How many times an update refused with `UNAVAILABLE` is re-sent (same
/// base, same wire id) before it settles with that code.
///
/// Why re-send at all: `UNAVAILABLE` means the server could not confirm
/// the write in time, and in a narrow window (Redis ran the write just
/// before its deadline, the server's own timer fired first) it was applied
/// all the same. Re-sent with its id, such a write is acked as a duplicate
/// instead of being rolled back here while the server keeps it. The
/// pauses (see [`RESUBMIT_PAUSE_MS`], from the third step: 80 ms to 1.3 s)
/// give a stalled Redis time to come back.
pub const UNAVAILABLE_RESENDS: u32 = 4;

/// Identifies one [`SyncStore::update`] call until it settles (re-submissions
/// after a conflict keep the id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpdateId(pub u64);

/// Why a sync operation failed. `code` is stable: a server code
/// ([`codes`]), or `NOT_SYNCED`, `UNSUBSCRIBED`, `INVALID_PAYLOAD`,
/// `PROTOCOL_ERROR`, or a transport code the shell passed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncError {
    /// The stable code.
    pub code: String,
    /// A human message.
    pub message: String,
}

impl SyncError {
    /// An error with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for SyncError {}

/// What changed a scope's visible document.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A whole document from the server replaced the local one.
    Snapshot {
        /// Its version.
        version: u64,
    },
    /// A server patch (someone's update, or this store's own confirmed one).
    Patch {
        /// The version it made.
        version: u64,
        /// The merge patch.
        patch: Value,
    },
    /// A local optimistic update was laid over the document.
    Optimistic {
        /// The update.
        id: UpdateId,
        /// Its patch.
        patch: Value,
    },
    /// A local update was refused and its overlay taken back.
    Rollback {
        /// The update.
        id: UpdateId,
    },
    /// A local update met a conflict: its overlay was taken back and the
    /// server's document adopted.
    Conflict {
        /// The update.
        id: UpdateId,
        /// The server's version.
        version: u64,
    },
}

/// What the store has been through since it was made, for `metrics()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounters {
    /// Server patches that arrived ahead of the held version (a missed
    /// patch): each asks the server for the missing range.
    pub gaps: u64,
    /// `state:subscribe` sent again for a scope already answered once:
    /// after a gap, a reconnect, a new epoch or a reply that left it behind.
    pub resyncs: u64,
    /// Local updates refused and their optimistic overlay taken back.
    pub rollbacks: u64,
    /// Local updates refused with `CONFLICT` (resolved or not).
    pub conflicts: u64,
}

/// A local update not settled yet, as [`SyncStore::pending`] shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingView<'a> {
    /// The update.
    pub id: UpdateId,
    /// Its merge patch (after a conflict, the resolver's).
    pub patch: &'a Value,
    /// Whether it is laid over the visible document.
    pub optimistic: bool,
    /// Whether it is on the wire now (else queued or pausing).
    pub in_flight: bool,
}

/// What the shell must send or deliver.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncOutput {
    /// Emit `state:subscribe` with an ack (see [`SyncOutput::frame`]); give
    /// the reply to [`SyncStore::on_subscribe_reply`], a transport failure to
    /// [`SyncStore::on_subscribe_failed`].
    Subscribe {
        /// The scope.
        scope: String,
        /// The version held (`None`: a snapshot is wanted).
        since: Option<u64>,
        /// The server epoch that version belongs to.
        epoch: Option<String>,
    },
    /// Emit `state:update` with an ack; give the reply to
    /// [`SyncStore::on_update_reply`], a transport failure to
    /// [`SyncStore::on_update_failed`].
    Update {
        /// The update.
        id: UpdateId,
        /// The scope.
        scope: String,
        /// The version the patch is made against.
        base: u64,
        /// The merge patch.
        patch: Value,
        /// The id on the wire (lets the server recognise a re-send).
        wire_id: String,
    },
    /// Emit `state:unsubscribe` (no ack needed).
    Unsubscribe {
        /// The scope.
        scope: String,
    },
    /// The visible document of `scope` changed; read it with
    /// [`SyncStore::doc`] and call the scope's subscribers with (doc, change).
    Changed {
        /// The scope.
        scope: String,
        /// What changed it.
        change: Change,
    },
    /// A `state:subscribe` reply was applied: `scope` holds the server's
    /// document at `version` (resolve pending `syncState` calls).
    Synced {
        /// The scope.
        scope: String,
        /// Its version.
        version: u64,
    },
    /// An update settled: the version it made, or why it did not land.
    Settled {
        /// The update.
        id: UpdateId,
        /// The scope.
        scope: String,
        /// The version, or the error (`CONFLICT` when the server won).
        result: Result<u64, SyncError>,
    },
    /// The server refused the subscription; the scope was dropped.
    SubscribeFailed {
        /// The scope.
        scope: String,
        /// Why.
        error: SyncError,
    },
}

impl SyncOutput {
    /// The Socket.IO event and payload to send for `Subscribe`, `Update` and
    /// `Unsubscribe`; `None` for the outputs that are deliveries.
    ///
    /// ```
    /// use frinny_agent::core::{SyncOutput, UpdateId};
    /// use serde_json::json;
    /// let out = SyncOutput::Update { id: UpdateId(1), scope: "user:u1".into(), base: 4,
    ///     patch: json!({"hp": 3}), wire_id: "t-1-0".into() };
    /// assert_eq!(out.frame(), Some(("state:update",
    ///     json!({"scope": "user:u1", "base": 4, "patch": {"hp": 3}, "id": "t-1-0"}))));
    /// ```
    pub fn frame(&self) -> Option<(&'static str, Value)> {
        let mut body = Map::new();
        match self {
            SyncOutput::Subscribe {
                scope,
                since,
                epoch,
            } => {
                body.insert("scope".into(), Value::from(scope.as_str()));
                if let Some(since) = since {
                    body.insert("since".into(), Value::from(*since));
                    if let Some(epoch) = epoch {
                        body.insert("epoch".into(), Value::from(epoch.as_str()));
                    }
                }
                Some((names::STATE_SUBSCRIBE, Value::Object(body)))
            }
            SyncOutput::Update {
                scope,
                base,
                patch,
                wire_id,
                ..
            } => {
                body.insert("scope".into(), Value::from(scope.as_str()));
                body.insert("base".into(), Value::from(*base));
                body.insert("patch".into(), patch.clone());
                body.insert("id".into(), Value::from(wire_id.as_str()));
                Some((names::STATE_UPDATE, Value::Object(body)))
            }
            SyncOutput::Unsubscribe { scope } => {
                body.insert("scope".into(), Value::from(scope.as_str()));
                Some((names::STATE_UNSUBSCRIBE, Value::Object(body)))
            }
            _ => None,
        }
    }
}

/// What became of a server patch given to [`SyncStore::on_patch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOutcome {
    /// Applied (and any kept patches that followed it).
    Applied,
    /// Older than or equal to the local version, or for an unknown scope.
    Ignored,
    /// Kept aside until the scope is synced or the gap is filled.
    Buffered,
    /// Its base is ahead of the local version `since`: kept aside, and a
    /// `state:subscribe {since}` was asked for (unless one is already out).
    Gap {
        /// The local version.
        since: u64,
    },
}

/// A conflict, as shown to the resolver of [`SyncStore::on_update_reply`].
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The scope.
    pub scope: String,
    /// The refused update.
    pub id: UpdateId,
    /// Its patch.
    pub patch: Value,
    /// The document as this store showed it before the rollback (with the
    /// refused patch and any other optimistic ones).
    pub local: Value,
    /// The server's document.
    pub server: Value,
    /// The server's version.
    pub version: u64,
}

/// What [`SyncStore::on_update_reply`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// The update landed at `version`.
    Acked {
        /// The version it made.
        version: u64,
    },
    /// Conflict: the server's document was adopted and the resolver's patch
    /// queued under the same id.
    Resubmitted,
    /// Conflict and no patch from the resolver: the server wins.
    ServerWins {
        /// The server's version.
        version: u64,
    },
    /// The server could not confirm it (`UNAVAILABLE`): it goes again,
    /// with the same base and id, after a pause (see [`UNAVAILABLE_RESENDS`]).
    Retrying,
    /// The server refused the update for another reason.
    Refused(SyncError),
    /// No update in flight has this id (late or duplicate reply).
    Unknown,
}

#[derive(Debug, Clone)]
struct Pending {
    id: UpdateId,
    patch: Value,
    optimistic: bool,
    /// The base it was first sent with (kept for a re-send after a lost ack).
    base: Option<u64>,
    in_flight: bool,
    attempt: u32,
    /// Not sent before this time (the shell's clock, ms): the jittered
    /// pause after a conflict or an `UNAVAILABLE`.
    not_before: Option<u64>,
    /// Times it was re-sent after `UNAVAILABLE`.
    unavailable: u32,
}

/// Server patches kept until they fit: `base -> (version, patch)`, at most
/// [`MAX_FUTURE`]. A plain list rather than a `BTreeMap`: it is almost
/// always empty or tiny, and a `BTreeMap` of this type cost ~6 KB of wasm.
#[derive(Debug, Default)]
struct Future(Vec<(u64, (u64, Value))>);

impl Future {
    /// Keeps `value` under `base`, replacing what was kept under it.
    fn insert(&mut self, base: u64, value: (u64, Value)) {
        match self.0.iter_mut().find(|(b, _)| *b == base) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((base, value)),
        }
    }

    /// Takes out what is kept under `base`.
    fn remove(&mut self, base: &u64) -> Option<(u64, Value)> {
        let i = self.0.iter().position(|(b, _)| b == base)?;
        Some(self.0.swap_remove(i).1)
    }

    /// Drops the patch with the lowest base.
    fn pop_first(&mut self) {
        let lowest = self
            .0
            .iter()
            .enumerate()
            .min_by_key(|(_, (b, _))| *b)
            .map(|(i, _)| i);
        if let Some(i) = lowest {
            self.0.swap_remove(i);
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&u64, &mut (u64, Value)) -> bool) {
        self.0.retain_mut(|(b, v)| keep(b, v));
    }

    fn clear(&mut self) {
        self.0.clear();
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Default)]
struct Scope {
    /// The server's document and version, once known.
    confirmed: Option<(u64, Value)>,
    epoch: Option<String>,
    /// Server patches ahead of `confirmed`, by base.
    future: Future,
    /// Local updates; the head may be in flight.
    updates: VecDeque<Pending>,
    /// `confirmed` with the optimistic patches laid over it.
    view: Option<Value>,
    /// A `state:subscribe` is out.
    asking: bool,
    /// A `state:subscribe` reply came once: a later ask is a resync.
    answered: bool,
    /// The latest conflict met, for inspection.
    last_conflict: Option<Conflict>,
}

impl Scope {
    fn version(&self) -> Option<u64> {
        self.confirmed.as_ref().map(|(v, _)| *v)
    }

    fn recompute_view(&mut self) {
        self.view = self.confirmed.as_ref().map(|(_, doc)| {
            let mut view = doc.clone();
            for u in self.updates.iter().filter(|u| u.optimistic) {
                json_patch::merge(&mut view, &u.patch);
            }
            view
        });
    }

    /// Applies kept patches that now fit, drops the ones that are old.
    fn drain_future(&mut self) -> Vec<(u64, Value)> {
        let mut applied = Vec::new();
        while let Some((version, doc)) = self.confirmed.as_mut() {
            let v = *version;
            self.future.retain(|_, (next, _)| *next > v);
            let Some((next, patch)) = self.future.remove(&v) else {
                break;
            };
            json_patch::merge(doc, &patch);
            *version = next;
            applied.push((next, patch));
        }
        applied
    }
}

/// The store of synced scopes. See the module docs.
#[derive(Debug)]
pub struct SyncStore {
    prefix: String,
    scopes: HashMap<String, Scope>,
    next_id: u64,
    connected: bool,
    out: VecDeque<SyncOutput>,
    /// The latest time the shell gave ([`SyncStore::set_time`],
    /// [`SyncStore::on_timer`]), in ms.
    now: u64,
    /// Draws the re-submit pauses.
    rng: super::Rng,
    counters: SyncCounters,
}

impl SyncStore {
    /// An empty store, disconnected. `id_prefix` starts every wire id of its
    /// updates; it must differ between tabs of one user (a random string).
    pub fn new(id_prefix: impl Into<String>) -> Self {
        let prefix = id_prefix.into();
        // Seeded from the prefix, which is random per tab: two tabs draw
        // different pauses, and a test with a fixed prefix repeats.
        let seed = prefix.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Self {
            prefix,
            scopes: HashMap::new(),
            next_id: 1,
            connected: false,
            out: VecDeque::new(),
            now: 0,
            rng: super::Rng::new(seed),
            counters: SyncCounters::default(),
        }
    }

    /// Tells the store the time (ms, any monotonic clock: the shell's
    /// `performance.now()`). Call it before the calls whose effect depends
    /// on it ([`on_update_reply`](Self::on_update_reply) starts a pause from
    /// it). Time never goes back: an earlier value is ignored.
    pub fn set_time(&mut self, now: u64) {
        self.now = self.now.max(now);
    }

    /// When the store next needs [`on_timer`](Self::on_timer): the end of
    /// the earliest re-submit pause, if any.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.scopes
            .values()
            .filter_map(|s| s.updates.front())
            .filter(|u| !u.in_flight)
            .filter_map(|u| u.not_before)
            .min()
    }

    /// The time is `now`: re-submits whose pause is over go out.
    pub fn on_timer(&mut self, now: u64) {
        self.set_time(now);
        let due: Vec<String> = self
            .scopes
            .iter()
            .filter(|(_, s)| {
                s.updates
                    .front()
                    .and_then(|u| u.not_before)
                    .is_some_and(|t| t <= self.now)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for scope in due {
            self.pump(&scope);
        }
    }

    /// The pause before re-submit number `attempt` (1 for the first).
    fn resubmit_pause(&mut self, attempt: u32) -> u64 {
        let ceiling = RESUBMIT_PAUSE_MS
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(16))
            .min(RESUBMIT_PAUSE_MAX_MS);
        let floor = ceiling / 2;
        // Whole ms; the draw is in [0, 1), so the result is below `ceiling`
        // unless the span is 0.
        floor + (self.rng.next_f64() * (ceiling - floor) as f64) as u64
    }

    /// The next thing to send or deliver.
    pub fn poll_output(&mut self) -> Option<SyncOutput> {
        self.out.pop_front()
    }

    /// The visible document of `scope` (the server's with the optimistic
    /// updates over it); `None` until the scope is synced.
    pub fn doc(&self, scope: &str) -> Option<&Value> {
        self.scopes.get(scope).and_then(|s| s.view.as_ref())
    }

    /// The server's document of `scope`, without optimistic updates.
    pub fn confirmed_doc(&self, scope: &str) -> Option<&Value> {
        self.scopes
            .get(scope)
            .and_then(|s| s.confirmed.as_ref().map(|(_, d)| d))
    }

    /// The server version `scope` is at locally.
    pub fn version(&self, scope: &str) -> Option<u64> {
        self.scopes.get(scope).and_then(Scope::version)
    }

    /// Whether `scope` is subscribed (synced or not yet).
    pub fn is_subscribed(&self, scope: &str) -> bool {
        self.scopes.contains_key(scope)
    }

    /// The subscribed scopes, by name (the store's own sort: no second
    /// sort routine in the wasm).
    pub fn scope_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.scopes.keys().cloned().collect();
        super::sort::sort(&mut names);
        names
    }

    /// The subscribed scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.keys().map(String::as_str)
    }

    /// Updates of `scope` not settled yet (in flight or queued).
    pub fn pending_updates(&self, scope: &str) -> usize {
        self.scopes.get(scope).map_or(0, |s| s.updates.len())
    }

    /// The unsettled updates of `scope`, the head first (for inspection).
    pub fn pending(&self, scope: &str) -> impl Iterator<Item = PendingView<'_>> {
        self.scopes
            .get(scope)
            .into_iter()
            .flat_map(|s| s.updates.iter())
            .map(|u| PendingView {
                id: u.id,
                patch: &u.patch,
                optimistic: u.optimistic,
                in_flight: u.in_flight,
            })
    }

    /// The latest conflict `scope` met, if any (for inspection).
    pub fn last_conflict(&self, scope: &str) -> Option<&Conflict> {
        self.scopes
            .get(scope)
            .and_then(|s| s.last_conflict.as_ref())
    }

    /// Gaps, resyncs, rollbacks and conflicts so far.
    pub fn counters(&self) -> SyncCounters {
        self.counters
    }

    /// Whether the store believes the namespace is joined.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Starts syncing `scope`. When connected, a `Subscribe` goes out; an
    /// already synced scope gives `Synced` at once.
    pub fn subscribe(&mut self, scope: &str) {
        if let Some(s) = self.scopes.get(scope) {
            if let Some(version) = s.version() {
                self.out.push_back(SyncOutput::Synced {
                    scope: scope.to_owned(),
                    version,
                });
            }
            return;
        }
        self.scopes.insert(scope.to_owned(), Scope::default());
        self.ask(scope);
    }

    /// Stops syncing `scope`: its document is dropped, its unsettled updates
    /// settle with `UNSUBSCRIBED`, and `Unsubscribe` goes out when connected.
    pub fn unsubscribe(&mut self, scope: &str) {
        let Some(s) = self.scopes.remove(scope) else {
            return;
        };
        self.settle_all(scope, s, "UNSUBSCRIBED", "the scope was unsubscribed");
        if self.connected {
            self.out.push_back(SyncOutput::Unsubscribe {
                scope: scope.to_owned(),
            });
        }
    }

    /// The namespace is joined (first time or after a reconnect): every
    /// scope asks to resume from its last version, then queued updates flow.
    pub fn on_connect(&mut self) {
        self.connected = true;
        let mut names: Vec<String> = self.scopes.keys().cloned().collect();
        super::sort::sort(&mut names);
        for scope in names {
            if let Some(s) = self.scopes.get_mut(&scope) {
                s.asking = false;
            }
            self.ask(&scope);
        }
    }

    /// The link is lost: requests in flight are forgotten (their replies will
    /// not come) and will be made again by [`on_connect`](Self::on_connect).
    pub fn on_disconnect(&mut self) {
        self.connected = false;
        for s in self.scopes.values_mut() {
            s.asking = false;
            for u in &mut s.updates {
                u.in_flight = false;
            }
        }
    }

    /// Lays `patch` (a JSON merge patch object) over `scope`: at once when
    /// `optimistic`, and in any case sends it when the scope's previous
    /// update settled. The outcome comes as `Settled` for the returned id.
    ///
    /// ```
    /// use frinny_agent::core::{SyncOutput, SyncStore};
    /// use serde_json::json;
    /// let mut store = SyncStore::new("t");
    /// store.on_connect();
    /// store.subscribe("user:u1");
    /// store.on_subscribe_reply("user:u1", &json!({"scope": "user:u1", "version": 1, "doc": {"hp": 9}}));
    /// while store.poll_output().is_some() {}
    /// let id = store.update("user:u1", json!({"hp": 5}), true).unwrap();
    /// assert_eq!(store.doc("user:u1"), Some(&json!({"hp": 5})));
    /// assert_eq!(store.confirmed_doc("user:u1"), Some(&json!({"hp": 9})));
    /// let reply = store.on_update_reply(id, &json!({"scope": "user:u1", "base": 1, "version": 2}), |_| None);
    /// assert_eq!(reply, frinny_agent::core::UpdateOutcome::Acked { version: 2 });
    /// assert_eq!(store.confirmed_doc("user:u1"), Some(&json!({"hp": 5})));
    /// ```
    pub fn update(
        &mut self,
        scope: &str,
        patch: Value,
        optimistic: bool,
    ) -> Result<UpdateId, SyncError> {
        if !patch.is_object() {
            return Err(SyncError::new(
                codes::INVALID_PAYLOAD,
                "a state patch must be a JSON object (an RFC 7396 merge patch)",
            ));
        }
        let Some(s) = self.scopes.get_mut(scope) else {
            return Err(SyncError::new(
                "NOT_SYNCED",
                format!("scope `{scope}` is not synced: call syncState first"),
            ));
        };
        if s.confirmed.is_none() {
            return Err(SyncError::new(
                "NOT_SYNCED",
                format!("scope `{scope}` has no document yet: wait for syncState"),
            ));
        }
        let id = UpdateId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        s.updates.push_back(Pending {
            id,
            patch: patch.clone(),
            optimistic,
            base: None,
            in_flight: false,
            attempt: 0,
            not_before: None,
            unavailable: 0,
        });
        if optimistic {
            s.recompute_view();
            self.out.push_back(SyncOutput::Changed {
                scope: scope.to_owned(),
                change: Change::Optimistic { id, patch },
            });
        }
        self.pump(scope);
        Ok(id)
    }

    /// The reply (ack) of `state:subscribe` for `scope`: a snapshot, the
    /// missed patches, or an error payload (`{code, message}`), which drops
    /// the scope with `SubscribeFailed`.
    pub fn on_subscribe_reply(&mut self, scope: &str, reply: &Value) {
        let Some(s) = self.scopes.get_mut(scope) else {
            return;
        };
        s.asking = false;
        s.answered = true;
        if let Some(code) = reply.get("code").and_then(Value::as_str) {
            let error = SyncError::new(code, error_message(reply));
            self.fail_scope(scope, error);
            return;
        }
        let parsed = match read::<StateSubscribeReply>(reply) {
            Ok(r) => r,
            Err(e) => {
                let error = SyncError::new(
                    "PROTOCOL_ERROR",
                    format!("unreadable state:subscribe reply: {e}"),
                );
                self.fail_scope(scope, error);
                return;
            }
        };
        let before = s.view.clone();
        let epoch_changed = match (&s.epoch, &parsed.epoch) {
            (Some(old), Some(new)) => old != new,
            _ => false,
        };
        let mut last_change = None;
        match (parsed.doc, parsed.patches) {
            (Some(doc), _) => {
                let newer = s.version().map_or(true, |v| parsed.version >= v);
                if newer || epoch_changed {
                    s.confirmed = Some((parsed.version, doc));
                    if epoch_changed {
                        s.future.clear();
                        for u in &mut s.updates {
                            u.base = None;
                        }
                    }
                    last_change = Some(Change::Snapshot {
                        version: parsed.version,
                    });
                }
                if parsed.epoch.is_some() {
                    s.epoch = parsed.epoch;
                }
            }
            (None, Some(patches)) => {
                if epoch_changed || s.confirmed.is_none() {
                    // Patches against a document we do not have: start over.
                    s.confirmed = None;
                    s.future.clear();
                    s.epoch = None;
                    self.ask(scope);
                    return;
                }
                for p in patches {
                    if s.version().is_some_and(|v| p.version > v) {
                        s.future.insert(p.base, (p.version, p.patch));
                    }
                }
                if parsed.epoch.is_some() {
                    s.epoch = parsed.epoch;
                }
            }
            (None, None) => {
                let error = SyncError::new(
                    "PROTOCOL_ERROR",
                    "state:subscribe reply has neither `doc` nor `patches`",
                );
                self.fail_scope(scope, error);
                return;
            }
        }
        let applied = s.drain_future();
        if let Some((version, patch)) = applied.into_iter().last() {
            last_change = Some(match last_change {
                Some(Change::Snapshot { .. }) => Change::Snapshot { version },
                _ => Change::Patch { version, patch },
            });
        }
        s.recompute_view();
        let version = s.version();
        let behind = version.is_some_and(|v| v < parsed.version);
        if s.view != before {
            if let Some(change) = last_change {
                self.out.push_back(SyncOutput::Changed {
                    scope: scope.to_owned(),
                    change,
                });
            }
        }
        if let Some(version) = version {
            self.out.push_back(SyncOutput::Synced {
                scope: scope.to_owned(),
                version,
            });
        }
        if behind {
            self.ask(scope);
        }
        self.pump(scope);
    }

    /// `state:subscribe` could not be answered (`DISCONNECTED`, `TIMEOUT`,
    /// or a server `error` event). A lost link is ignored ([`on_connect`]
    /// asks again for every scope); a timeout asks again now; anything else
    /// drops the scope with `SubscribeFailed`.
    ///
    /// [`on_connect`]: Self::on_connect
    pub fn on_subscribe_failed(&mut self, scope: &str, error: SyncError) {
        let Some(s) = self.scopes.get_mut(scope) else {
            return;
        };
        s.asking = false;
        if error.code == "DISCONNECTED" || !self.connected {
            // The link went away: on_connect asks again for every scope.
            return;
        }
        if is_transport(&error.code) {
            self.ask(scope);
        } else {
            self.fail_scope(scope, error);
        }
    }

    /// Asks for `scope` again (when connected): its last reply could not be
    /// used, as a compressed snapshot that did not inflate.
    pub fn resubscribe(&mut self, scope: &str) {
        if let Some(s) = self.scopes.get_mut(scope) {
            s.asking = false;
            self.ask(scope);
        }
    }

    /// A pushed `state:patch` payload `{scope, base, version, patch}`.
    pub fn on_patch_event(&mut self, payload: &Value) -> PatchOutcome {
        let scope = payload.get("scope").and_then(Value::as_str);
        let version = payload.get("version").and_then(Value::as_u64);
        let patch = payload.get("patch");
        let base = payload
            .get("base")
            .and_then(Value::as_u64)
            .or_else(|| version.and_then(|v| v.checked_sub(1)));
        match (scope, base, version, patch) {
            (Some(scope), Some(base), Some(version), Some(patch)) => {
                self.on_patch(scope, base, version, patch)
            }
            _ => PatchOutcome::Ignored,
        }
    }

    /// A server patch taking `scope` from `base` to `version`.
    pub fn on_patch(
        &mut self,
        scope: &str,
        base: u64,
        version: u64,
        patch: &Value,
    ) -> PatchOutcome {
        let outcome = self.server_patch(scope, base, version, patch);
        self.pump(scope);
        outcome
    }

    fn server_patch(
        &mut self,
        scope: &str,
        base: u64,
        version: u64,
        patch: &Value,
    ) -> PatchOutcome {
        let Some(s) = self.scopes.get_mut(scope) else {
            return PatchOutcome::Ignored;
        };
        if version <= base {
            return PatchOutcome::Ignored;
        }
        let Some(local) = s.version() else {
            keep(&mut s.future, base, version, patch);
            return PatchOutcome::Buffered;
        };
        if version <= local {
            return PatchOutcome::Ignored;
        }
        if base > local {
            self.counters.gaps += 1;
            keep(&mut s.future, base, version, patch);
            if !s.asking {
                self.ask(scope);
            }
            return PatchOutcome::Gap { since: local };
        }
        if base < local {
            // Overlaps what we hold without starting at it: not appliable.
            return PatchOutcome::Ignored;
        }
        let before = s.view.clone();
        s.future.insert(base, (version, patch.clone()));
        let applied = s.drain_future();
        s.recompute_view();
        if s.view != before {
            if let Some((version, patch)) = applied.into_iter().last() {
                self.out.push_back(SyncOutput::Changed {
                    scope: scope.to_owned(),
                    change: Change::Patch { version, patch },
                });
            }
        }
        PatchOutcome::Applied
    }

    /// The reply (ack) of `state:update` `id`: `{scope, base, version}`,
    /// `{code: CONFLICT, version, doc}`, or another error payload. On a
    /// conflict, `resolve` sees the [`Conflict`] and may return a patch to
    /// re-submit under the same id; with `None` the server wins and the id
    /// settles with `CONFLICT`.
    pub fn on_update_reply<F>(&mut self, id: UpdateId, reply: &Value, resolve: F) -> UpdateOutcome
    where
        F: FnOnce(&Conflict) -> Option<Value>,
    {
        let Some(scope) = self.in_flight_scope(id) else {
            return UpdateOutcome::Unknown;
        };
        match reply.get("code").and_then(Value::as_str) {
            Some(codes::CONFLICT) => match read::<StateConflict>(reply) {
                Ok(c) => self.conflict(&scope, id, c.version, c.doc, resolve),
                Err(e) => self.refuse(
                    &scope,
                    SyncError::new("PROTOCOL_ERROR", format!("unreadable conflict: {e}")),
                ),
            },
            Some(code) => {
                let error = SyncError::new(code, error_message(reply));
                if code == codes::UNAVAILABLE && self.retry_unavailable(&scope) {
                    return UpdateOutcome::Retrying;
                }
                self.refuse(&scope, error)
            }
            None => match read::<StateUpdateAck>(reply) {
                Ok(ack) => self.acked(&scope, ack.base, ack.version),
                Err(e) => self.refuse(
                    &scope,
                    SyncError::new(
                        "PROTOCOL_ERROR",
                        format!("unreadable state:update ack: {e}"),
                    ),
                ),
            },
        }
    }

    /// `state:update` `id` got no reply. `DISCONNECTED` is ignored (the link
    /// loss itself, [`on_disconnect`](Self::on_disconnect), keeps the update
    /// to be re-sent after [`on_connect`](Self::on_connect)); `TIMEOUT`
    /// re-sends it now (same base and wire id: the server will not apply it
    /// twice); `UNAVAILABLE` re-sends it the same way after a pause, up to
    /// [`UNAVAILABLE_RESENDS`] times; anything else (e.g. a server `error`
    /// event) rolls it back and settles it with `error`.
    pub fn on_update_failed(&mut self, id: UpdateId, error: SyncError) {
        if error.code == "DISCONNECTED" {
            return;
        }
        let Some(scope) = self.in_flight_scope(id) else {
            return;
        };
        if error.code == codes::UNAVAILABLE && self.retry_unavailable(&scope) {
            return;
        }
        if is_transport(&error.code) {
            if let Some(u) = self
                .scopes
                .get_mut(&scope)
                .and_then(|s| s.updates.front_mut())
            {
                u.in_flight = false;
            }
            self.pump(&scope);
        } else {
            self.refuse(&scope, error);
        }
    }

    /// Puts the in-flight head of `scope`, refused `UNAVAILABLE`, back in
    /// the queue to go again after a pause, unless it has been re-sent
    /// [`UNAVAILABLE_RESENDS`] times already (false then).
    fn retry_unavailable(&mut self, scope: &str) -> bool {
        let tries = self
            .scopes
            .get(scope)
            .and_then(|s| s.updates.front())
            .map_or(u32::MAX, |u| u.unavailable);
        if tries >= UNAVAILABLE_RESENDS {
            return false;
        }
        let pause = self.resubmit_pause(tries.saturating_add(3));
        let now = self.now;
        let Some(u) = self
            .scopes
            .get_mut(scope)
            .and_then(|s| s.updates.front_mut())
        else {
            return false;
        };
        // Same base and wire id: if it was applied after all, the server
        // acks it as a duplicate.
        u.in_flight = false;
        u.unavailable = tries.saturating_add(1);
        u.not_before = Some(now.saturating_add(pause));
        true
    }

    fn in_flight_scope(&self, id: UpdateId) -> Option<String> {
        self.scopes.iter().find_map(|(name, s)| {
            s.updates
                .front()
                .filter(|u| u.id == id && u.in_flight)
                .map(|_| name.clone())
        })
    }

    fn acked(&mut self, scope: &str, base: u64, version: u64) -> UpdateOutcome {
        let Some(s) = self.scopes.get_mut(scope) else {
            return UpdateOutcome::Unknown;
        };
        let Some(done) = s.updates.pop_front() else {
            return UpdateOutcome::Unknown;
        };
        let before = s.view.clone();
        // The confirmed document takes the patch now, unless a push already
        // brought it (or a gap must be filled first).
        if s.version().is_some_and(|v| v < version) {
            keep(&mut s.future, base, version, &done.patch);
        }
        let applied = s.drain_future();
        s.recompute_view();
        let behind = !s.future.is_empty();
        if s.view != before {
            let change = match applied.into_iter().last() {
                Some((version, patch)) => Change::Patch { version, patch },
                None => {
                    self.counters.rollbacks += 1;
                    Change::Rollback { id: done.id }
                }
            };
            self.out.push_back(SyncOutput::Changed {
                scope: scope.to_owned(),
                change,
            });
        }
        self.out.push_back(SyncOutput::Settled {
            id: done.id,
            scope: scope.to_owned(),
            result: Ok(version),
        });
        if behind {
            self.ask(scope);
        }
        self.pump(scope);
        UpdateOutcome::Acked { version }
    }

    fn conflict<F>(
        &mut self,
        scope: &str,
        id: UpdateId,
        version: u64,
        doc: Value,
        resolve: F,
    ) -> UpdateOutcome
    where
        F: FnOnce(&Conflict) -> Option<Value>,
    {
        let attempt = match self.scopes.get(scope).and_then(|s| s.updates.front()) {
            Some(head) => head.attempt.saturating_add(1),
            None => return UpdateOutcome::Unknown,
        };
        let not_before = self.now.saturating_add(self.resubmit_pause(attempt));
        let Some(s) = self.scopes.get_mut(scope) else {
            return UpdateOutcome::Unknown;
        };
        let Some(refused) = s.updates.pop_front() else {
            return UpdateOutcome::Unknown;
        };
        let local = s.view.clone().unwrap_or(Value::Null);
        if s.version().map_or(true, |v| version >= v) {
            s.confirmed = Some((version, doc.clone()));
        }
        s.drain_future();
        s.recompute_view();
        let conflict = Conflict {
            scope: scope.to_owned(),
            id,
            patch: refused.patch.clone(),
            local,
            server: doc,
            version,
        };
        let resolution = resolve(&conflict).filter(Value::is_object);
        self.counters.conflicts += 1;
        s.last_conflict = Some(conflict);
        let outcome = match resolution {
            Some(patch) if refused.attempt < MAX_RESUBMITS => {
                s.updates.push_front(Pending {
                    id,
                    patch,
                    optimistic: refused.optimistic,
                    base: None,
                    in_flight: false,
                    attempt,
                    not_before: Some(not_before),
                    unavailable: 0,
                });
                s.recompute_view();
                UpdateOutcome::Resubmitted
            }
            _ => UpdateOutcome::ServerWins { version },
        };
        let behind = !s.future.is_empty();
        self.out.push_back(SyncOutput::Changed {
            scope: scope.to_owned(),
            change: Change::Conflict { id, version },
        });
        if let UpdateOutcome::ServerWins { .. } = outcome {
            self.out.push_back(SyncOutput::Settled {
                id,
                scope: scope.to_owned(),
                result: Err(SyncError::new(
                    codes::CONFLICT,
                    format!("scope `{scope}` changed on the server (now version {version}); the server's document won"),
                )),
            });
        }
        if behind {
            self.ask(scope);
        }
        self.pump(scope);
        outcome
    }

    fn refuse(&mut self, scope: &str, error: SyncError) -> UpdateOutcome {
        let Some(s) = self.scopes.get_mut(scope) else {
            return UpdateOutcome::Unknown;
        };
        let Some(refused) = s.updates.pop_front() else {
            return UpdateOutcome::Unknown;
        };
        let before = s.view.clone();
        s.recompute_view();
        if s.view != before {
            self.counters.rollbacks += 1;
            self.out.push_back(SyncOutput::Changed {
                scope: scope.to_owned(),
                change: Change::Rollback { id: refused.id },
            });
        }
        self.out.push_back(SyncOutput::Settled {
            id: refused.id,
            scope: scope.to_owned(),
            result: Err(error.clone()),
        });
        self.pump(scope);
        UpdateOutcome::Refused(error)
    }

    /// Sends the head update of `scope` when the scope is live.
    fn pump(&mut self, scope: &str) {
        if !self.connected {
            return;
        }
        let Some(s) = self.scopes.get_mut(scope) else {
            return;
        };
        if s.asking {
            return;
        }
        let Some(version) = s.version() else {
            return;
        };
        let Some(head) = s.updates.front_mut() else {
            return;
        };
        if head.in_flight || head.not_before.is_some_and(|t| t > self.now) {
            return;
        }
        head.not_before = None;
        let base = *head.base.get_or_insert(version);
        head.in_flight = true;
        let wire_id = format!("{}-{}-{}", self.prefix, head.id.0, head.attempt);
        self.out.push_back(SyncOutput::Update {
            id: head.id,
            scope: scope.to_owned(),
            base,
            patch: head.patch.clone(),
            wire_id,
        });
    }

    /// Sends `state:subscribe` for `scope` from its version, unless one is
    /// out or the link is down.
    fn ask(&mut self, scope: &str) {
        if !self.connected {
            return;
        }
        let Some(s) = self.scopes.get_mut(scope) else {
            return;
        };
        if s.asking {
            return;
        }
        s.asking = true;
        if s.answered {
            self.counters.resyncs += 1;
        }
        let since = s.version();
        self.out.push_back(SyncOutput::Subscribe {
            scope: scope.to_owned(),
            since,
            epoch: since.and(s.epoch.clone()),
        });
    }

    fn fail_scope(&mut self, scope: &str, error: SyncError) {
        let Some(s) = self.scopes.remove(scope) else {
            return;
        };
        self.settle_all(scope, s, &error.code, &error.message);
        self.out.push_back(SyncOutput::SubscribeFailed {
            scope: scope.to_owned(),
            error,
        });
    }

    fn settle_all(&mut self, scope: &str, s: Scope, code: &str, message: &str) {
        for u in s.updates {
            self.out.push_back(SyncOutput::Settled {
                id: u.id,
                scope: scope.to_owned(),
                result: Err(SyncError::new(code, message)),
            });
        }
    }
}

fn keep(future: &mut Future, base: u64, version: u64, patch: &Value) {
    if future.len() >= MAX_FUTURE {
        future.pop_first();
    }
    future.insert(base, (version, patch.clone()));
}

fn is_transport(code: &str) -> bool {
    matches!(code, "DISCONNECTED" | "TIMEOUT")
}

/// A server reply read into its catalogue type. Only an object is a reply
/// (serde's derive would also read an array positionally, which no server
/// sends).
fn read<T: serde::de::DeserializeOwned>(reply: &Value) -> Result<T, String> {
    if !reply.is_object() {
        return Err("not an object".to_owned());
    }
    T::deserialize(reply).map_err(|e| e.to_string())
}

fn error_message(reply: &Value) -> String {
    reply
        .get("message")
        .or_else(|| reply.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("the server refused")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::StatePatchEntry;
    use serde_json::json;

    /// Replies are read by the catalogue's derives: unknown fields are
    /// ignored, optional ones may be missing or null, required ones must be
    /// there with their type; only an object is a reply.
    #[test]
    fn replies_are_read_into_the_catalogue_types() {
        // Each case, then which readers take it: (S)ubscribe reply,
        // (C)onflict, update (A)ck.
        let cases = [
            (json!({"scope": "w", "version": 3, "doc": {"a": 1}}), "S"),
            (
                json!({"scope": "w", "version": 3, "doc": null, "epoch": null, "patches": null}),
                "S",
            ),
            (
                json!({"scope": "w", "version": 3, "patches": [], "epoch": "e1", "extra": true}),
                "S",
            ),
            (
                json!({"scope": "w", "version": 5, "patches": [{"base": 3, "version": 4, "patch": {"x": null}}, {"base": 4, "version": 5, "patch": null}]}),
                "S",
            ),
            (
                json!({"scope": "w", "version": 5, "patches": [{"base": 3, "version": 4}]}),
                "",
            ),
            (
                json!({"scope": "w", "version": 5, "patches": [{"base": -1, "version": 4, "patch": 1}]}),
                "",
            ),
            (json!({"scope": "w", "version": 5, "patches": {}}), ""),
            (json!({"scope": "w", "version": 5, "epoch": 7}), ""),
            (json!({"scope": "w", "version": 3.0}), ""),
            (json!({"scope": "w", "version": -3}), ""),
            (json!({"scope": "w", "version": "3"}), ""),
            (json!({"scope": 1, "version": 3}), ""),
            (json!({"version": 3}), ""),
            (json!({"scope": "w"}), ""),
            (
                json!({"code": "CONFLICT", "scope": "w", "version": 2, "doc": {"a": 1}}),
                "SC",
            ),
            (
                json!({"code": "CONFLICT", "message": "stale", "scope": "w", "version": 2, "doc": null}),
                "SC",
            ),
            (
                json!({"code": "CONFLICT", "message": null, "scope": "w", "version": 2, "doc": 1}),
                "S",
            ),
            (json!({"code": "CONFLICT", "scope": "w", "version": 2}), "S"),
            (json!({"scope": "w", "base": 1, "version": 2}), "SA"),
            (
                json!({"scope": "w", "base": 1, "version": 2, "duplicate": true}),
                "SA",
            ),
            (
                json!({"scope": "w", "base": 1, "version": 2, "duplicate": null}),
                "S",
            ),
            (
                json!({"scope": "w", "base": 1, "version": 2, "duplicate": "yes"}),
                "S",
            ),
            (json!({"scope": "w", "version": 2}), "S"),
            (json!(["w", 3, {"a": 1}]), ""),
            (json!(null), ""),
            (json!("reply"), ""),
            (json!(7), ""),
        ];
        for (v, takes) in &cases {
            let read_by = [
                read::<StateSubscribeReply>(v).is_ok(),
                read::<StateConflict>(v).is_ok(),
                read::<StateUpdateAck>(v).is_ok(),
            ];
            let expected = ['S', 'C', 'A'].map(|c| takes.contains(c));
            assert_eq!(read_by, expected, "{v}");
        }
        assert_eq!(
            read::<StateSubscribeReply>(
                &json!({"scope": "w", "version": 5, "patches": [{"base": 4, "version": 5, "patch": null}], "doc": null})
            ),
            Ok(StateSubscribeReply {
                scope: "w".into(),
                version: 5,
                doc: None,
                patches: Some(vec![StatePatchEntry {
                    base: 4,
                    version: 5,
                    patch: Value::Null
                }]),
                epoch: None,
                compressed: None,
            })
        );
    }
}

//! A versioned in-memory JSON store: one document per (world, scope), changed
//! by RFC 7396 JSON merge patches under compare-and-set. Version 0 is the
//! empty document `{}`; each patch adds one. Each scope keeps a bounded
//! history of its last patches so that a subscriber that fell behind gets the
//! patches it missed; further behind, it gets a snapshot.

use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The deepest patch (and so document) accepted: the browser client refuses
/// frames nested deeper than 64 levels, and a reply wraps the document in a
/// few more.
pub const MAX_DEPTH: usize = 32;

/// One scope's document and version.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The version (number of patches applied).
    pub version: u64,
    /// The document.
    pub doc: Value,
}

/// One patch of a scope's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The version it applied to.
    pub base: u64,
    /// The version it made (`base + 1`).
    pub version: u64,
    /// The merge patch.
    pub patch: Value,
    /// Who sent it and under which id (`<user>\u{1f}<id>`), to recognise a
    /// re-sent update.
    origin: Option<String>,
    /// Serialized size of `patch`.
    bytes: usize,
}

impl Entry {
    /// An entry of `patch` from `base` to `version`, with no origin (how the
    /// shared store hands out the history it read back).
    pub fn new(base: u64, version: u64, patch: Value) -> Self {
        let bytes = serde_json::to_vec(&patch)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        Self {
            base,
            version,
            patch,
            origin: None,
            bytes,
        }
    }
}

/// What a subscriber that holds `since` needs.
#[derive(Debug, Clone, PartialEq)]
pub enum CatchUp {
    /// The whole document.
    Snapshot(Snapshot),
    /// The patches after `since`, in order (empty when up to date).
    Patches {
        /// The scope's version now.
        version: u64,
        /// The patches.
        patches: Vec<Entry>,
    },
}

/// An applied (or recognised re-sent) patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The version it applied to.
    pub base: u64,
    /// The version it made.
    pub version: u64,
    /// `true` when the same origin's update was already applied: nothing
    /// changed now.
    pub duplicate: bool,
    /// The document now.
    pub doc: Value,
}

/// Why a patch was not applied.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchError {
    /// The base is not the current version: here is the current document.
    Conflict(Snapshot),
    /// The document would grow past the limit.
    TooLarge {
        /// Its size with the patch, in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The patch is not a JSON object, or nests too deep.
    Invalid(String),
}

/// Limits of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Largest serialized document, in bytes.
    pub max_doc_bytes: usize,
    /// Patches kept per scope for catch-up.
    pub history: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_doc_bytes: 256 * 1024,
            history: 128,
        }
    }
}

#[derive(Debug)]
struct ScopeState {
    version: u64,
    doc: Value,
    history: VecDeque<Entry>,
    /// Sum of `bytes` over `history`.
    history_bytes: usize,
}

impl Default for ScopeState {
    fn default() -> Self {
        Self {
            version: 0,
            doc: json!({}),
            history: VecDeque::new(),
            history_bytes: 0,
        }
    }
}

impl ScopeState {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: self.version,
            doc: self.doc.clone(),
        }
    }
}

/// The snapshot of the scope at `k`: version 0 and `{}` when never patched.
fn snapshot_at(scopes: &HashMap<Key, ScopeState>, k: &Key) -> Snapshot {
    scopes
        .get(k)
        .map(ScopeState::snapshot)
        .unwrap_or_else(|| ScopeState::default().snapshot())
}

type Key = (String, String);

/// The store.
#[derive(Debug)]
pub struct StateStore {
    scopes: Mutex<HashMap<Key, ScopeState>>,
    limits: StoreLimits,
    epoch: String,
}

impl Default for StateStore {
    fn default() -> Self {
        Self::new(StoreLimits::default())
    }
}

fn key(world: &str, scope: &str) -> Key {
    (world.to_owned(), scope.to_owned())
}

/// How deep `v` nests (a scalar is 0, `{}` is 1).
pub fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl StateStore {
    /// An empty store with `limits`; its epoch (sent to subscribers, changed
    /// by a restart) comes from the clock.
    pub fn new(limits: StoreLimits) -> Self {
        Self {
            scopes: Mutex::new(HashMap::new()),
            limits,
            epoch: format!("{:x}", crate::auth::now_millis()),
        }
    }

    /// The store's limits.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// Identifies this store's run: versions restart when it changes.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The current snapshot of `scope` in `world` (version 0 and `{}` when
    /// never patched).
    pub fn get(&self, world: &str, scope: &str) -> Snapshot {
        let scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        snapshot_at(&scopes, &key(world, scope))
    }

    /// What a subscriber holding `since` (of `epoch`) needs: the patches
    /// after it while the history has them all and they are smaller than the
    /// document limit, otherwise (or with no `since`, another epoch, or a
    /// `since` ahead of the store) a snapshot.
    pub fn catch_up(
        &self,
        world: &str,
        scope: &str,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> CatchUp {
        let scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let empty = ScopeState::default();
        let s = scopes.get(&key(world, scope)).unwrap_or(&empty);
        let snapshot = || CatchUp::Snapshot(s.snapshot());
        let Some(since) = since else {
            return snapshot();
        };
        if epoch.is_some_and(|e| e != self.epoch) || since > s.version {
            return snapshot();
        }
        if since == s.version {
            return CatchUp::Patches {
                version: s.version,
                patches: Vec::new(),
            };
        }
        let oldest = s.history.front().map(|e| e.base);
        if oldest.is_none_or(|b| since < b) {
            return snapshot();
        }
        let missed: Vec<Entry> = s
            .history
            .iter()
            .filter(|e| e.base >= since)
            .cloned()
            .collect();
        let bytes: usize = missed.iter().map(|e| e.bytes).sum();
        if bytes > self.limits.max_doc_bytes {
            return snapshot();
        }
        CatchUp::Patches {
            version: s.version,
            patches: missed,
        }
    }

    /// Applies `patch` to `scope` in `world` if `base` is absent or current
    /// (compare-and-set). `origin` (`<user>\u{1f}<update id>`) recognises a
    /// re-sent update still in the history: it is acknowledged again, not
    /// applied twice.
    pub fn apply(
        &self,
        world: &str,
        scope: &str,
        patch: &Value,
        base: Option<u64>,
        origin: Option<&str>,
    ) -> Result<Applied, PatchError> {
        if !patch.is_object() {
            return Err(PatchError::Invalid(
                "`patch` must be a JSON object (an RFC 7396 merge patch)".to_owned(),
            ));
        }
        if depth(patch) > MAX_DEPTH {
            return Err(PatchError::Invalid(format!(
                "`patch` nests deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(world, scope);
        if let Some(origin) = origin {
            let seen = scopes.get(&k).and_then(|s| {
                s.history
                    .iter()
                    .find(|e| e.origin.as_deref() == Some(origin))
                    .map(|e| (e.base, e.version, s.doc.clone()))
            });
            if let Some((base, version, doc)) = seen {
                return Ok(Applied {
                    base,
                    version,
                    duplicate: true,
                    doc,
                });
            }
        }
        let current = scopes.get(&k).map(|s| s.version).unwrap_or(0);
        if let Some(base) = base {
            if base != current {
                return Err(PatchError::Conflict(snapshot_at(&scopes, &k)));
            }
        }
        let mut doc = scopes.get(&k).map(|s| s.doc.clone()).unwrap_or(json!({}));
        json_patch::merge(&mut doc, patch);
        let size = serde_json::to_vec(&doc)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > self.limits.max_doc_bytes {
            return Err(PatchError::TooLarge {
                size,
                max: self.limits.max_doc_bytes,
            });
        }
        let bytes = serde_json::to_vec(patch)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        let s = scopes.entry(k).or_default();
        let base = s.version;
        s.version = s.version.saturating_add(1);
        s.doc = doc;
        if self.limits.history > 0 {
            // Bounded by count and by bytes: patches weighing more than the
            // document are never sent (catch_up answers with a snapshot),
            // so keeping them would only let a writer grow memory while the
            // document stays small.
            while s.history.len() >= self.limits.history
                || (!s.history.is_empty()
                    && s.history_bytes.saturating_add(bytes) > self.limits.max_doc_bytes)
            {
                if let Some(old) = s.history.pop_front() {
                    s.history_bytes = s.history_bytes.saturating_sub(old.bytes);
                }
            }
            s.history_bytes = s.history_bytes.saturating_add(bytes);
            s.history.push_back(Entry {
                base,
                version: s.version,
                patch: patch.clone(),
                origin: origin.map(str::to_owned),
                bytes,
            });
        }
        Ok(Applied {
            base,
            version: s.version,
            duplicate: false,
            doc: s.doc.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(c: &CatchUp) -> Vec<(u64, u64)> {
        match c {
            CatchUp::Patches { patches, .. } => {
                patches.iter().map(|e| (e.base, e.version)).collect()
            }
            CatchUp::Snapshot(_) => vec![],
        }
    }

    #[test]
    fn merge_patches_and_versions() {
        let s = StateStore::default();
        assert_eq!(s.get("w", "g").version, 0);
        let a = s
            .apply("w", "g", &json!({"hp": 10, "name": "Ezren"}), None, None)
            .unwrap();
        assert_eq!((a.base, a.version), (0, 1));
        let b = s
            .apply("w", "g", &json!({"hp": 7, "name": null}), Some(1), None)
            .unwrap();
        assert_eq!(b.doc, json!({"hp": 7}));
        assert_eq!(
            s.apply("w", "g", &json!({}), Some(1), None),
            Err(PatchError::Conflict(Snapshot {
                version: 2,
                doc: json!({"hp": 7})
            }))
        );
        assert_eq!(s.get("w", "other").doc, json!({}));
        assert_eq!(s.get("w2", "g").version, 0, "worlds are apart");
        assert!(matches!(
            s.apply("w", "g", &json!(3), None, None),
            Err(PatchError::Invalid(_))
        ));
    }

    #[test]
    fn history_catch_up_and_snapshots() {
        let s = StateStore::new(StoreLimits {
            max_doc_bytes: 1000,
            history: 3,
        });
        for i in 0..5u64 {
            s.apply("w", "g", &json!({ "n": i }), Some(i), None)
                .unwrap();
        }
        let e = s.epoch().to_owned();
        assert_eq!(
            versions(&s.catch_up("w", "g", Some(3), Some(&e))),
            vec![(3, 4), (4, 5)]
        );
        assert_eq!(
            versions(&s.catch_up("w", "g", Some(2), None)),
            vec![(2, 3), (3, 4), (4, 5)]
        );
        assert!(matches!(
            s.catch_up("w", "g", Some(1), None),
            CatchUp::Snapshot(_)
        ));
        assert!(matches!(
            s.catch_up("w", "g", None, None),
            CatchUp::Snapshot(_)
        ));
        assert!(matches!(
            s.catch_up("w", "g", Some(9), None),
            CatchUp::Snapshot(_)
        ));
        assert!(matches!(
            s.catch_up("w", "g", Some(4), Some("other")),
            CatchUp::Snapshot(_)
        ));
        assert_eq!(
            s.catch_up("w", "g", Some(5), None),
            CatchUp::Patches {
                version: 5,
                patches: vec![]
            }
        );
    }

    #[test]
    fn resent_updates_are_recognised_and_size_is_bounded() {
        let s = StateStore::new(StoreLimits {
            max_doc_bytes: 40,
            history: 8,
        });
        let a = s
            .apply("w", "g", &json!({"a": 1}), Some(0), Some("u\u{1f}x"))
            .unwrap();
        let again = s
            .apply("w", "g", &json!({"a": 1}), Some(0), Some("u\u{1f}x"))
            .unwrap();
        assert!(again.duplicate);
        assert_eq!((again.base, again.version), (a.base, a.version));
        assert_eq!(s.get("w", "g").version, 1);
        let big = json!({"b": "x".repeat(50)});
        assert!(matches!(
            s.apply("w", "g", &big, Some(1), None),
            Err(PatchError::TooLarge { max: 40, .. })
        ));
        assert_eq!(s.get("w", "g").version, 1);
        let mut deep = json!(1);
        for _ in 0..40 {
            deep = json!({ "d": deep });
        }
        assert!(matches!(
            s.apply("w", "g", &deep, None, None),
            Err(PatchError::Invalid(_))
        ));
    }

    #[test]
    fn history_is_bounded_by_bytes_too() {
        let s = StateStore::new(StoreLimits {
            max_doc_bytes: 200,
            history: 1000,
        });
        // Alternate a big value and its removal: the document stays small,
        // the history must not grow past the document limit in bytes.
        let big = json!({ "x": "y".repeat(150) });
        for i in 0..100u64 {
            let patch = if i % 2 == 0 {
                big.clone()
            } else {
                json!({ "x": null })
            };
            s.apply("w", "u", &patch, Some(i), None).unwrap();
        }
        let scopes = s.scopes.lock().unwrap();
        let st = &scopes[&("w".to_owned(), "u".to_owned())];
        assert!(st.history_bytes <= 200, "{} bytes kept", st.history_bytes);
        assert_eq!(
            st.history_bytes,
            st.history.iter().map(|e| e.bytes).sum::<usize>()
        );
        assert!(!st.history.is_empty(), "the newest patch is always kept");
    }
}

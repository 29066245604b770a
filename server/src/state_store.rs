//! A versioned in-memory JSON store, one document per scope, changed by RFC
//! 7396 JSON merge patches. Version 0 is the empty document `{}`; each patch
//! adds one.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// One scope's document and version.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The version (number of patches applied).
    pub version: u64,
    /// The document.
    pub state: Value,
}

/// Why a patch was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// `baseVersion` was given and is not the current version.
    Conflict {
        /// The scope's version now.
        current: u64,
    },
}

/// The store.
#[derive(Debug, Default)]
pub struct StateStore {
    scopes: Mutex<HashMap<String, Snapshot>>,
}

impl StateStore {
    /// The current snapshot of `scope` (version 0 and `{}` when never patched).
    pub fn get(&self, scope: &str) -> Snapshot {
        let scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        scopes.get(scope).cloned().unwrap_or(Snapshot {
            version: 0,
            state: json!({}),
        })
    }

    /// Applies `patch` to `scope` if `base_version` is absent or current, and
    /// returns the new snapshot.
    pub fn apply(
        &self,
        scope: &str,
        patch: &Value,
        base_version: Option<u64>,
    ) -> Result<Snapshot, PatchError> {
        let mut scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let entry = scopes.entry(scope.to_owned()).or_insert_with(|| Snapshot {
            version: 0,
            state: json!({}),
        });
        if let Some(base) = base_version {
            if base != entry.version {
                return Err(PatchError::Conflict {
                    current: entry.version,
                });
            }
        }
        json_patch::merge(&mut entry.state, patch);
        entry.version = entry.version.saturating_add(1);
        Ok(entry.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patches_and_versions() {
        let s = StateStore::default();
        assert_eq!(s.get("g").version, 0);
        let a = s
            .apply("g", &json!({"hp": 10, "name": "Ezren"}), None)
            .unwrap();
        assert_eq!(a.version, 1);
        let b = s
            .apply("g", &json!({"hp": 7, "name": null}), Some(1))
            .unwrap();
        assert_eq!(
            b,
            Snapshot {
                version: 2,
                state: json!({"hp": 7})
            }
        );
        assert_eq!(
            s.apply("g", &json!({}), Some(1)),
            Err(PatchError::Conflict { current: 2 })
        );
        assert_eq!(s.get("other").state, json!({}));
    }
}

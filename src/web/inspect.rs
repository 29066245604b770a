//! `inspectState(scope?)`: what the sync store holds for a scope, for
//! `<frinny-devtools>` and for debugging: its version, the server's
//! document, the visible one, the unsettled updates and the last conflict.
//! Built as one JSON tree and handed over like any document (`value`), so
//! it adds no conversion code of its own.

use super::manager::AgentManager;
use super::value;
use crate::core::SyncStore;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

/// A JSON object of `members`, inserted one by one. Not `json!`, whose
/// `to_value` of each member pulls serde's Value serializer into the wasm
/// for what is only moving values into a map; not generic, so there is one
/// copy of it.
fn object(members: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in members {
        map.insert(k.to_owned(), v);
    }
    Value::Object(map)
}

/// A version, or `null`.
fn version(v: Option<u64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

/// One scope as `inspectState` shows it (`ScopeInspection` in `types.rs`).
fn scope_view(store: &SyncStore, scope: &str) -> Value {
    let pending: Vec<Value> = store
        .pending(scope)
        .map(|p| {
            object(vec![
                ("id", Value::from(p.id.0)),
                ("patch", p.patch.clone()),
                ("optimistic", Value::Bool(p.optimistic)),
                ("inFlight", Value::Bool(p.in_flight)),
            ])
        })
        .collect();
    let conflict = store.last_conflict(scope).map_or(Value::Null, |c| {
        object(vec![
            ("updateId", Value::from(c.id.0)),
            ("version", Value::from(c.version)),
            ("patch", c.patch.clone()),
            ("local", c.local.clone()),
            ("server", c.server.clone()),
        ])
    });
    let doc = |d: Option<&Value>| d.cloned().unwrap_or(Value::Null);
    object(vec![
        ("scope", Value::from(scope)),
        ("version", version(store.version(scope))),
        ("confirmed", doc(store.confirmed_doc(scope))),
        ("doc", doc(store.doc(scope))),
        ("pending", Value::Array(pending)),
        ("lastConflict", conflict),
    ])
}

#[wasm_bindgen]
impl AgentManager {
    /// What the sync store holds for `scope` (`{scope, version, confirmed,
    /// doc, pending, lastConflict}`; `undefined` if it is not synced), or
    /// without a scope, every synced scope's, by name. For devtools: it
    /// copies the documents, so it is not for a hot path.
    #[wasm_bindgen(
        js_name = inspectState,
        unchecked_return_type = "ScopeInspection | undefined"
    )]
    pub fn inspect_state(&self, scope: Option<String>) -> JsValue {
        let agent = self.driver.agent();
        let store = agent.store();
        match scope {
            Some(scope) if store.is_subscribed(&scope) => value::to_js(&scope_view(store, &scope)),
            Some(_) => JsValue::UNDEFINED,
            None => {
                let all: Vec<Value> = store
                    .scope_names()
                    .iter()
                    .map(|s| scope_view(store, s))
                    .collect();
                value::to_js(&Value::Array(all))
            }
        }
    }
}

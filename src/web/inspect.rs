//! `inspectState(scope?)`: what the sync store holds for a scope, for
//! `<frinny-devtools>` and for debugging: its version, the server's
//! document, the visible one, the unsettled updates and the last conflict.
//! Built as one JSON tree and handed over like any document (`value`), so
//! it adds no conversion code of its own.

use super::manager::AgentManager;
use super::value;
use crate::core::SyncStore;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

/// One scope as `inspectState` shows it (`ScopeInspection` in `types.rs`).
fn scope_view(store: &SyncStore, scope: &str) -> Value {
    let pending: Vec<Value> = store
        .pending(scope)
        .map(|p| {
            json!({
                "id": p.id.0,
                "patch": p.patch,
                "optimistic": p.optimistic,
                "inFlight": p.in_flight,
            })
        })
        .collect();
    let conflict = store.last_conflict(scope).map(|c| {
        json!({
            "updateId": c.id.0,
            "version": c.version,
            "patch": c.patch,
            "local": c.local,
            "server": c.server,
        })
    });
    json!({
        "scope": scope,
        "version": store.version(scope),
        "confirmed": store.confirmed_doc(scope),
        "doc": store.doc(scope),
        "pending": pending,
        "lastConflict": conflict,
    })
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
                let mut names: Vec<&str> = store.scopes().collect();
                names.sort_unstable();
                let all: Vec<Value> = names.iter().map(|s| scope_view(store, s)).collect();
                value::to_js(&Value::Array(all))
            }
        }
    }
}

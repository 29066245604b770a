//! State synchronisation carried out in JS: the `syncState` and
//! `updateState` Promises settled by the [`Agent`]'s state outputs, the
//! `subscribeState` callbacks called, and the `onConflict` resolver asked. What goes on
//! the wire and what a reply means is the agent's business.
//!
//! [`Agent`]: crate::core::Agent

use super::driver::Driver;
use super::errors;
use super::hub::Listener;
use super::requests::Settler;
use super::value;
use crate::core::{Change, SyncError, UpdateId};
use js_sys::{Array, Function, Object, Reflect};
use serde_json::Value;
use wasm_bindgen::JsValue;

fn sync_error_js(e: &SyncError) -> JsValue {
    errors::js_error(&e.code, &e.message)
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// The `change` argument of `subscribeState` callbacks.
fn change_js(change: &Change) -> JsValue {
    let obj = Object::new();
    let (kind, version, id, patch) = match change {
        Change::Snapshot { version } => ("snapshot", Some(*version), None, None),
        Change::Patch { version, patch } => ("patch", Some(*version), None, Some(patch)),
        Change::Optimistic { id, patch } => ("optimistic", None, Some(*id), Some(patch)),
        Change::Rollback { id } => ("rollback", None, Some(*id), None),
        Change::Conflict { id, version } => ("conflict", Some(*version), Some(*id), None),
    };
    set(&obj, "type", &JsValue::from_str(kind));
    if let Some(v) = version {
        set(&obj, "version", &JsValue::from_f64(v as f64));
    }
    if let Some(UpdateId(id)) = id {
        set(&obj, "updateId", &JsValue::from_f64(id as f64));
    }
    if let Some(p) = patch {
        set(&obj, "patch", &value::to_js(p));
    }
    obj.into()
}

impl Driver {
    /// The visible document of `scope`, or `undefined`.
    pub(crate) fn doc(&self, scope: &str) -> JsValue {
        self.agent()
            .doc(scope)
            .map(value::to_js)
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// `syncState(scope)`: the Promise of the scope's document once synced.
    pub(crate) fn sync_state(&self, scope: &str) -> js_sys::Promise {
        let (promise, settler) = Settler::new();
        let synced = {
            let agent = self.agent();
            agent.store().version(scope).is_some() && agent.doc(scope).is_some()
        };
        if synced {
            settler.resolve(&self.doc(scope));
        } else {
            self.waiting.push_sync(scope, settler);
        }
        self.call(|agent, _| agent.sync_state(scope));
        promise
    }

    /// `subscribeState(scope, cb)` also starts syncing the scope.
    pub(crate) fn watch_state(&self, scope: &str) {
        self.call(|agent, _| agent.sync_state(scope));
    }

    /// `unsyncState(scope)`: stop following the scope.
    pub(crate) fn unsync_state(&self, scope: &str) {
        let stopped = errors::js_error("UNSUBSCRIBED", "unsyncState() was called");
        for settler in self.waiting.take_syncs(scope) {
            settler.reject(&stopped);
        }
        self.call(|agent, _| agent.unsync_state(scope));
    }

    /// `updateState(scope, patch, {optimistic})`: the Promise of `{version}`.
    pub(crate) fn update_state(
        &self,
        scope: &str,
        patch: Value,
        optimistic: bool,
    ) -> Result<js_sys::Promise, JsValue> {
        self.call(|agent, now| {
            let id = agent.update_state(now, scope, patch, optimistic)?;
            // Made only for an update under way, and waiting before the
            // pump carries out anything of it.
            let (promise, settler) = Settler::new();
            self.waiting.insert_update(id, settler);
            Ok(promise)
        })
        .map_err(|e| sync_error_js(&e))
    }

    /// The visible document of `scope` changed: its subscribers hear.
    pub(crate) fn doc_changed(&self, scope: &str, change: &Change) {
        if self.is_quiet() {
            return;
        }
        let args = Array::of2(&self.doc(scope), &change_js(change));
        self.hub.notify(Listener::Doc, scope, &args);
    }

    /// `scope` is in step: its `syncState` calls resolve.
    pub(crate) fn synced(&self, scope: &str) {
        let waiting = self.waiting.take_syncs(scope);
        if !waiting.is_empty() {
            let doc = self.doc(scope);
            for settler in waiting {
                settler.resolve(&doc);
            }
        }
    }

    /// The server refused `scope`: its `syncState` calls reject.
    pub(crate) fn sync_failed(&self, scope: &str, error: &SyncError) {
        let error = sync_error_js(error);
        for settler in self.waiting.take_syncs(scope) {
            settler.reject(&error);
        }
    }

    /// An update settled: its `updateState` Promise settles.
    pub(crate) fn update_settled(&self, id: UpdateId, result: &Result<u64, SyncError>) {
        let Some(settler) = self.waiting.take_update(id) else {
            return;
        };
        match result {
            Ok(version) => {
                let obj = Object::new();
                set(&obj, "version", &JsValue::from_f64(*version as f64));
                settler.resolve(&obj.into());
            }
            Err(e) => settler.reject(&sync_error_js(e)),
        }
    }

    /// Update `id` met a conflict: the scope's latest `onConflict` resolver
    /// is asked for a patch to re-submit, and the agent told its answer
    /// (`None` without a resolver, or one that throws or returns no object:
    /// the server wins).
    pub(crate) fn resolve_conflict(
        &self,
        id: UpdateId,
        scope: &str,
        local: &Value,
        server: &Value,
    ) {
        let patch = self.conflict_resolver(scope).and_then(|resolver| {
            let answer = resolver
                .call2(
                    &JsValue::UNDEFINED,
                    &value::to_js(local),
                    &value::to_js(server),
                )
                .ok()?;
            value::from_js(&answer).ok().filter(Value::is_object)
        });
        self.call(|agent, now| agent.resolve_conflict(now, id, patch));
    }

    /// The latest `onConflict` resolver of `scope`.
    fn conflict_resolver(&self, scope: &str) -> Option<Function> {
        if self.is_quiet() {
            return None;
        }
        self.hub.latest(Listener::Conflict, scope)
    }
}

//! The state-synchronisation methods of `AgentManager`: versioned shared
//! documents per scope (`world`, `combat:<id>`, `user:<id>`), kept in step
//! with the server, with optimistic updates and conflict resolution.
//!
//! ```js
//! const world = await agent.syncState('world');
//! const off = agent.subscribeState('world', (doc, change) => render(doc, change.type));
//! agent.onConflict('world', (local, server) => ({ notes: mergeNotes(local, server) }));
//! await agent.updateState('world', { weather: 'rain' }, { optimistic: true });
//! await agent.replaceState('world', { ...agent.getState('world'), weather: 'snow' });
//! ```

use super::hub::Listener;
use super::manager::AgentManager;
use super::{errors, value};
use crate::catalogue::codes;
use crate::core::merge_diff;
use js_sys::{Function, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl AgentManager {
    /// Starts following `scope` (if not already) and resolves with its
    /// document once it is in step with the server. After a reconnect the
    /// scope resumes from its last version by itself.
    #[wasm_bindgen(js_name = syncState, unchecked_return_type = "Promise<any>")]
    pub fn sync_state(&self, scope: &str) -> Promise {
        self.driver.sync_state(scope)
    }

    /// The document of `scope` as this client sees it now (optimistic
    /// updates included), or `undefined` if it is not synced.
    #[wasm_bindgen(js_name = getState)]
    pub fn get_state(&self, scope: &str) -> Result<JsValue, JsValue> {
        Ok(self.driver.doc(scope))
    }

    /// Calls `callback(doc, change)` whenever the document of `scope`
    /// changes (`change.type`: `snapshot`, `patch`, `optimistic`,
    /// `rollback`, `conflict`). Starts syncing the scope if needed. Returns
    /// the unsubscribe function.
    #[wasm_bindgen(js_name = subscribeState, unchecked_return_type = "() => void")]
    pub fn subscribe_state(
        &self,
        scope: &str,
        #[wasm_bindgen(unchecked_param_type = "(doc: any, change: DocChange) => void")]
        callback: Function,
    ) -> Result<Function, JsValue> {
        let off = self.listen(Listener::Doc, scope, &callback)?;
        self.driver.watch_state(scope);
        Ok(off)
    }

    /// Stops following `scope`; waiting `syncState` calls reject with
    /// UNSUBSCRIBED.
    #[wasm_bindgen(js_name = unsyncState)]
    pub fn unsync_state(&self, scope: &str) -> Result<(), JsValue> {
        self.driver.unsync_state(scope);
        Ok(())
    }

    /// Applies the merge patch `patch` to `scope` on the server
    /// (compare-and-set against the version this client holds) and resolves
    /// with `{version}`. With `{optimistic: true}` the change is visible at
    /// once and rolled back if refused. On a conflict the scope's
    /// `onConflict` resolver may return a patch to re-submit; without one
    /// the server wins and the Promise rejects with CONFLICT.
    #[wasm_bindgen(js_name = updateState, unchecked_return_type = "Promise<{ version: number }>")]
    pub fn update_state(&self, scope: &str, patch: JsValue, options: Option<JsValue>) -> Promise {
        match value::from_js(&patch) {
            Ok(patch) => self.send_update(scope, patch, options),
            Err(why) => Promise::reject(&invalid(format!("the patch is not JSON data: {why}"))),
        }
    }

    /// `updateState` of a patch read already.
    fn send_update(&self, scope: &str, patch: Value, options: Option<JsValue>) -> Promise {
        let optimistic = options
            .and_then(|o| Reflect::get(&o, &JsValue::from_str("optimistic")).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        self.driver
            .update_state(scope, patch, optimistic)
            .unwrap_or_else(|e| Promise::reject(&e))
    }

    /// Replaces the document of `scope` with `doc`: computes the RFC 7396
    /// merge patch from the current document (optimistic updates included)
    /// to `doc` and sends it as `updateState(scope, patch, options)` does,
    /// resolving and rejecting the same way. Unchanged members are not sent;
    /// arrays that changed are sent whole. A merge patch cannot set a member
    /// to `null` (null removes it), so a `doc` with a `null` object member
    /// at any depth rejects with INVALID_PAYLOAD naming its path: leave the
    /// member out instead. `doc` must be an object.
    #[wasm_bindgen(js_name = replaceState, unchecked_return_type = "Promise<{ version: number }>")]
    pub fn replace_state(&self, scope: &str, doc: JsValue, options: Option<JsValue>) -> Promise {
        match self.state_diff(scope, &doc) {
            Ok(patch) => self.send_update(scope, patch, options),
            Err(e) => Promise::reject(&e),
        }
    }

    /// The merge patch from the current document of `scope` to `doc`.
    fn state_diff(&self, scope: &str, doc: &JsValue) -> Result<Value, JsValue> {
        let wanted = value::from_js(doc)
            .map_err(|why| invalid(format!("the document is not JSON data: {why}")))?;
        let current = self
            .driver
            .agent()
            .doc(scope)
            .cloned()
            .unwrap_or(Value::Null);
        merge_diff::diff(&current, &wanted).map_err(|e| invalid(e.message))
    }

    /// Sets the conflict resolver of `scope`: `resolver(local, server)`
    /// gets this client's intended document and the server's, and may
    /// return a merge patch to re-submit against the server's version (or
    /// nothing: the server wins). The latest resolver set is used. Returns
    /// the function that removes it.
    #[wasm_bindgen(js_name = onConflict, unchecked_return_type = "() => void")]
    pub fn on_conflict(
        &self,
        scope: &str,
        #[wasm_bindgen(
            unchecked_param_type = "(local: any, server: any) => object | undefined | null"
        )]
        resolver: Function,
    ) -> Result<Function, JsValue> {
        self.listen(Listener::Conflict, scope, &resolver)
    }
}

/// The error of a state call given something that is not JSON data.
fn invalid(message: String) -> JsValue {
    errors::js_error(codes::INVALID_PAYLOAD, &message)
}

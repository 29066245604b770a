//! State synchronisation in the browser: the shell around the sans-IO
//! [`SyncStore`]. The store decides what to send and what changed; this
//! file sends its `state:*` frames as requests through the [`Client`]
//! (with `retry: false`, the store re-sends by itself), hands the replies
//! and `state:patch` events back to it, and carries its outputs out to JS:
//! `subscribeState` callbacks, `syncState` and `updateState` Promises, and
//! the `onConflict` resolver.
//!
//! The store is touched only through `try_borrow`: the one JS call made
//! while it is borrowed is the `onConflict` resolver (the store asks for the
//! patch to re-submit in the middle of handling the reply), and a resolver
//! that calls back into the state API gets an error, never a panic.
//!
//! [`Client`]: crate::core::Client

use super::driver::Driver;
use super::errors;
use super::glue;
use super::listeners::Kind;
use super::requests::Settler;
use crate::core::{
    ArgsForm, Change, ClientError, RequestKey, RequestOptions, SyncError, SyncOutput, SyncStore,
    UpdateId,
};
use js_sys::{Array, Function, Object, Reflect};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsValue;

/// What a core request made for the store is for.
enum Call {
    Subscribe(String),
    Update(UpdateId),
}

/// The store and the JS Promises waiting on it.
pub(crate) struct StateSync {
    store: RefCell<SyncStore>,
    calls: RefCell<HashMap<RequestKey, Call>>,
    syncs: RefCell<HashMap<String, Vec<Settler>>>,
    updates: RefCell<HashMap<UpdateId, Settler>>,
}

/// The error thrown when the state API is used from inside `onConflict`.
fn busy() -> JsValue {
    errors::js_error(
        "BUSY",
        "the state store is busy: it is waiting for this onConflict resolver",
    )
}

fn sync_error_js(e: &SyncError) -> JsValue {
    errors::js_error(&e.code, &e.message)
}

/// A JSON value as a JS value (through the engine's JSON.parse).
fn to_js(value: &Value) -> JsValue {
    serde_json::to_string(value)
        .map(|t| super::convert::parse(&t))
        .unwrap_or(JsValue::UNDEFINED)
}

/// A JS value as JSON (`None` for `undefined`).
fn from_js(value: &JsValue) -> Result<Option<Value>, ClientError> {
    match super::convert::to_json(value)? {
        None => Ok(None),
        Some(text) => crate::protocol::json::parse_value(&text)
            .map(Some)
            .map_err(|e| ClientError::new(crate::core::ErrorCode::InvalidPayload, e.to_string())),
    }
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
        set(&obj, "patch", &to_js(p));
    }
    obj.into()
}

impl StateSync {
    /// A store whose update ids start with `id_prefix` (random per manager).
    pub(crate) fn new(id_prefix: String) -> Self {
        StateSync {
            store: RefCell::new(SyncStore::new(id_prefix)),
            calls: RefCell::default(),
            syncs: RefCell::default(),
            updates: RefCell::default(),
        }
    }

    /// The visible document of `scope` (optimistic updates included).
    pub(crate) fn doc(&self, scope: &str) -> Result<JsValue, JsValue> {
        let store = self.store.try_borrow().map_err(|_| busy())?;
        Ok(store.doc(scope).map(to_js).unwrap_or(JsValue::UNDEFINED))
    }

    /// Promises still waiting.
    pub(crate) fn len(&self) -> usize {
        self.syncs.borrow().values().map(Vec::len).sum::<usize>() + self.updates.borrow().len()
    }

    /// Every waiting Promise (the manager is ending).
    pub(crate) fn drain(&self) -> Vec<Settler> {
        let mut all: Vec<Settler> = self
            .syncs
            .borrow_mut()
            .drain()
            .flat_map(|(_, v)| v)
            .collect();
        all.extend(self.updates.borrow_mut().drain().map(|(_, s)| s));
        self.calls.borrow_mut().clear();
        all
    }

    /// True if core request `key` was made for the store.
    pub(crate) fn owns(&self, key: RequestKey) -> bool {
        self.calls.borrow().contains_key(&key)
    }
}

impl Driver {
    /// `syncState(scope)`: the Promise of the scope's document once synced.
    pub(crate) fn sync_state(&self, scope: &str) -> Result<js_sys::Promise, JsValue> {
        let (promise, settler) = Settler::new().ok_or_else(busy)?;
        {
            let mut store = self.sync.store.try_borrow_mut().map_err(|_| busy())?;
            if !store.is_subscribed(scope) {
                store.subscribe(scope);
            }
            match (store.version(scope), store.doc(scope)) {
                (Some(_), Some(doc)) => settler.resolve(&to_js(doc)),
                _ => self
                    .sync
                    .syncs
                    .borrow_mut()
                    .entry(scope.to_owned())
                    .or_default()
                    .push(settler),
            }
        }
        self.pump_sync();
        self.pump();
        Ok(promise)
    }

    /// `subscribeState(scope, cb)` also starts syncing the scope.
    pub(crate) fn watch_state(&self, scope: &str) -> Result<(), JsValue> {
        {
            let mut store = self.sync.store.try_borrow_mut().map_err(|_| busy())?;
            if !store.is_subscribed(scope) {
                store.subscribe(scope);
            }
        }
        self.pump_sync();
        self.pump();
        Ok(())
    }

    /// `unsyncState(scope)`: stop following the scope.
    pub(crate) fn unsync_state(&self, scope: &str) -> Result<(), JsValue> {
        self.sync
            .store
            .try_borrow_mut()
            .map_err(|_| busy())?
            .unsubscribe(scope);
        let waiting = self
            .sync
            .syncs
            .borrow_mut()
            .remove(scope)
            .unwrap_or_default();
        let stopped = errors::js_error("UNSUBSCRIBED", "unsyncState() was called");
        for settler in waiting {
            settler.reject(&stopped);
        }
        self.pump_sync();
        self.pump();
        Ok(())
    }

    /// `updateState(scope, patch, {optimistic})`: the Promise of `{version}`.
    pub(crate) fn update_state(
        &self,
        scope: &str,
        patch: &JsValue,
        optimistic: bool,
    ) -> Result<js_sys::Promise, JsValue> {
        let patch = from_js(patch)
            .map_err(|e| errors::from_client(&e))?
            .unwrap_or(Value::Null);
        let (promise, settler) = Settler::new().ok_or_else(busy)?;
        let id = self
            .sync
            .store
            .try_borrow_mut()
            .map_err(|_| busy())?
            .update(scope, patch, optimistic)
            .map_err(|e| sync_error_js(&e))?;
        self.sync.updates.borrow_mut().insert(id, settler);
        self.pump_sync();
        self.pump();
        Ok(promise)
    }

    /// The link came up (`connected`) or went away (any other state).
    pub(crate) fn sync_link(&self, connected: bool) {
        if let Ok(mut store) = self.sync.store.try_borrow_mut() {
            if connected {
                store.on_connect();
            } else if store.is_connected() {
                store.on_disconnect();
            }
        }
        self.pump_sync();
    }

    /// A `state:patch` event arrived: `json` is its Socket.IO argument
    /// array (name first) or, on the JSON protocol, the frame itself.
    pub(crate) fn sync_patch(&self, json: &str, form: ArgsForm) {
        let Ok(value) = crate::protocol::json::parse_value(json) else {
            return;
        };
        let payload = match form {
            ArgsForm::NamedArray => value.get(1).cloned().unwrap_or(Value::Null),
            ArgsForm::Single => value,
        };
        if let Ok(mut store) = self.sync.store.try_borrow_mut() {
            store.on_patch_event(&payload);
        }
        self.pump_sync();
    }

    /// A core request made for the store settled.
    pub(crate) fn sync_settled(&self, key: RequestKey, result: Result<String, ClientError>) {
        let Some(call) = self.sync.calls.borrow_mut().remove(&key) else {
            return;
        };
        let reply = result.and_then(|json| {
            crate::protocol::json::parse_value(&json)
                .map_err(|e| ClientError::new(crate::core::ErrorCode::ProtocolError, e.to_string()))
        });
        match (call, reply) {
            (Call::Subscribe(scope), Ok(v)) => {
                if let Ok(mut store) = self.sync.store.try_borrow_mut() {
                    store.on_subscribe_reply(&scope, &v);
                }
            }
            (Call::Subscribe(scope), Err(e)) => {
                if let Ok(mut store) = self.sync.store.try_borrow_mut() {
                    store.on_subscribe_failed(&scope, to_sync_error(&e));
                }
            }
            (Call::Update(id), Ok(v)) => {
                let resolver = self.conflict_resolver(&v);
                if let Ok(mut store) = self.sync.store.try_borrow_mut() {
                    // A conflict's re-submit pause starts now.
                    store.set_time(glue::now_ms());
                    store.on_update_reply(id, &v, |c| {
                        let f = resolver.as_ref()?;
                        let patch = f
                            .call2(&JsValue::UNDEFINED, &to_js(&c.local), &to_js(&c.server))
                            .ok()?;
                        from_js(&patch).ok().flatten().filter(Value::is_object)
                    });
                }
            }
            (Call::Update(id), Err(e)) => {
                if let Ok(mut store) = self.sync.store.try_borrow_mut() {
                    // An `UNAVAILABLE` re-send pause starts now.
                    store.set_time(glue::now_ms());
                    store.on_update_failed(id, to_sync_error(&e));
                }
            }
        }
        self.pump_sync();
    }

    /// The latest `onConflict` resolver of the scope a conflict reply names.
    fn conflict_resolver(&self, reply: &Value) -> Option<Function> {
        let scope = reply.get("scope").and_then(Value::as_str)?;
        let targets = self.listeners.targets(Kind::Conflict, scope);
        targets
            .into_iter()
            .rev()
            .find_map(|id| self.listeners.take_live(Kind::Conflict, id))
    }

    /// When the store next needs [`sync_timer`](Self::sync_timer) (the end
    /// of a re-submit pause); the driver arms its one timer for the earlier
    /// of this and the core's deadline.
    pub(crate) fn sync_timeout(&self) -> Option<u64> {
        self.sync
            .store
            .try_borrow()
            .ok()
            .and_then(|s| s.poll_timeout())
    }

    /// The timer fired at `now`: re-submits whose pause is over go out.
    pub(crate) fn sync_timer(&self, now: u64) {
        if let Ok(mut store) = self.sync.store.try_borrow_mut() {
            store.on_timer(now);
        }
        self.pump_sync();
    }

    /// Carries out everything the store has queued. JS callbacks run with
    /// no borrow of the store held.
    pub(crate) fn pump_sync(&self) {
        loop {
            let next = match self.sync.store.try_borrow_mut() {
                Ok(mut store) => store.poll_output(),
                Err(_) => return,
            };
            let Some(output) = next else { return };
            match output {
                SyncOutput::Subscribe { ref scope, .. } => {
                    let scope = scope.clone();
                    self.sync_send(&output, Call::Subscribe(scope));
                }
                SyncOutput::Update { id, .. } => self.sync_send(&output, Call::Update(id)),
                SyncOutput::Unsubscribe { .. } => {
                    if let Some((event, payload)) = output.frame() {
                        let _ = self.core.borrow_mut().emit(
                            event,
                            Some(&crate::protocol::json::text(&payload)),
                            false,
                        );
                    }
                }
                SyncOutput::Changed { scope, change } => {
                    if self.is_quiet() {
                        continue;
                    }
                    let Ok(doc) = self.sync.doc(&scope) else {
                        continue;
                    };
                    let args = Array::of2(&doc, &change_js(&change));
                    for id in self.listeners.targets(Kind::Doc, &scope) {
                        if let Some(callback) = self.listeners.take_live(Kind::Doc, id) {
                            self.call_one(&callback, &args, &scope);
                        }
                    }
                }
                SyncOutput::Synced { scope, .. } => {
                    let waiting = self
                        .sync
                        .syncs
                        .borrow_mut()
                        .remove(&scope)
                        .unwrap_or_default();
                    if !waiting.is_empty() {
                        let doc = self.sync.doc(&scope).unwrap_or(JsValue::UNDEFINED);
                        for settler in waiting {
                            settler.resolve(&doc);
                        }
                    }
                }
                SyncOutput::Settled { id, result, .. } => {
                    let Some(settler) = self.sync.updates.borrow_mut().remove(&id) else {
                        continue;
                    };
                    match result {
                        Ok(version) => {
                            let obj = Object::new();
                            set(&obj, "version", &JsValue::from_f64(version as f64));
                            settler.resolve(&obj.into());
                        }
                        Err(e) => settler.reject(&sync_error_js(&e)),
                    }
                }
                SyncOutput::SubscribeFailed { scope, error } => {
                    let waiting = self
                        .sync
                        .syncs
                        .borrow_mut()
                        .remove(&scope)
                        .unwrap_or_default();
                    let err = sync_error_js(&error);
                    for settler in waiting {
                        settler.reject(&err);
                    }
                }
            }
        }
    }

    /// Sends a store frame as a core request (`retry: false`: the store
    /// re-sends by itself after a reconnect).
    fn sync_send(&self, output: &SyncOutput, call: Call) {
        let Some((event, payload)) = output.frame() else {
            return;
        };
        let sent = self.core.borrow_mut().request(
            glue::now_ms(),
            event,
            &crate::protocol::json::text(&payload),
            RequestOptions {
                timeout_ms: None,
                retry: false,
            },
        );
        match sent {
            Ok(key) => {
                self.sync.calls.borrow_mut().insert(key, call);
            }
            Err(e) => {
                // Could not even be queued (e.g. BUFFER_FULL): the store hears
                // of it as a failed call.
                if let Ok(mut store) = self.sync.store.try_borrow_mut() {
                    match call {
                        Call::Subscribe(scope) => {
                            store.on_subscribe_failed(&scope, to_sync_error(&e))
                        }
                        Call::Update(id) => store.on_update_failed(id, to_sync_error(&e)),
                    }
                }
            }
        }
    }
}

/// A core error as the store sees it: the server's own code when it sent
/// one (FORBIDDEN, STATE_TOO_LARGE), else the transport code (TIMEOUT,
/// DISCONNECTED), which the store handles itself.
fn to_sync_error(e: &ClientError) -> SyncError {
    SyncError::new(
        e.server_code
            .clone()
            .unwrap_or_else(|| e.code.as_str().to_owned()),
        e.message.clone(),
    )
}

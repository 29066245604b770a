//! The unsubscribe functions handed to JS, made without a closure per
//! subscription: one module-wide `Closure` taking `(manager, kind, id)`,
//! bound to those three numbers for each subscription
//! (`Function.prototype.bind`).
//!
//! So an unsubscribe function stays callable for the page's life and does
//! nothing once its subscription has ended (a second call, after a `once`
//! fired, after `close()` or `free()`), as JS code expects of `off()`; and
//! a manager's subscriptions hold no Rust closure that must be released.
//! The one closure lives in a thread-local for the module's life (one per
//! module, never per call).

use super::driver::Driver;
use super::listeners::Kind;
use crate::core::SubId;
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    /// Live managers by number; a freed manager is removed, so its
    /// unsubscribe functions find nothing.
    static MANAGERS: RefCell<HashMap<u32, Weak<Driver>>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(0) };
    static UNSUBSCRIBE: Closure<dyn Fn(u32, u32, f64)> = Closure::new(|manager: u32, kind: u32, id: f64| {
        let driver = MANAGERS.with(|m| m.borrow().get(&manager).and_then(Weak::upgrade));
        if let (Some(driver), Some(kind)) = (driver, Kind::from_index(kind)) {
            // `as` saturates; a bogus number matches no subscription.
            driver.listeners.remove(kind, SubId::from_raw(id as u64));
        }
    });
}

/// Registers a manager; its unsubscribe functions work until [`forget`].
pub(crate) fn register(driver: Weak<Driver>) -> u32 {
    let id = NEXT.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    MANAGERS.with(|m| m.borrow_mut().insert(id, driver));
    id
}

/// The manager is ending: its unsubscribe functions become no-ops.
pub(crate) fn forget(manager: u32) {
    MANAGERS.with(|m| m.borrow_mut().remove(&manager));
}

/// The unsubscribe function of subscription `id` of `kind` in `manager`.
pub(crate) fn function(manager: u32, kind: Kind, id: SubId) -> Function {
    UNSUBSCRIBE.with(|c| {
        let bound = c.as_ref().unchecked_ref::<Function>().bind3(
            &JsValue::NULL,
            &JsValue::from(manager),
            &JsValue::from(kind.index()),
            &JsValue::from_f64(id.to_raw() as f64),
        );
        JsValue::from(bound).unchecked_into()
    })
}

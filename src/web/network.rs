//! The browser's `online`/`offline` events, fed to
//! [`Client::set_online`](crate::core::Client::set_online): going offline
//! drops the link at once, coming back online retries at once. The two
//! listeners are removed when the manager ends.

use super::input::{Feed, Input};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

/// The two listeners on the global object.
pub(crate) struct Network {
    target: EventTarget,
    online: Closure<dyn FnMut()>,
    offline: Closure<dyn FnMut()>,
}

impl Network {
    /// Listens on `globalThis` (window or worker); `None` where the global
    /// object is not an event target.
    pub(crate) fn listen(feed: Feed) -> Option<Network> {
        let target = js_sys::global().dyn_into::<EventTarget>().ok()?;
        let f = feed.clone();
        let online = Closure::<dyn FnMut()>::new(move || f(Input::NetworkChanged { online: true }));
        let offline =
            Closure::<dyn FnMut()>::new(move || feed(Input::NetworkChanged { online: false }));
        target
            .add_event_listener_with_callback("online", online.as_ref().unchecked_ref())
            .ok()?;
        if target
            .add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref())
            .is_err()
        {
            let _ = target
                .remove_event_listener_with_callback("online", online.as_ref().unchecked_ref());
            return None;
        }
        Some(Network {
            target,
            online,
            offline,
        })
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback("online", self.online.as_ref().unchecked_ref());
        let _ = self
            .target
            .remove_event_listener_with_callback("offline", self.offline.as_ref().unchecked_ref());
    }
}

//! The single timer: one `setTimeout` at a time, armed for the core's next
//! deadline ([`Client::poll_timeout`](crate::core::Client::poll_timeout)),
//! with one reusable `Closure` for the manager's whole life.

use super::glue;
use super::input::{Feed, Input};
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The driver's timer.
pub(crate) struct Timer {
    callback: Closure<dyn FnMut()>,
    handle: RefCell<Option<JsValue>>,
    armed_for: Cell<Option<u64>>,
}

impl Timer {
    /// A disarmed timer that hands `feed` [`Input::TimerFired`] when it fires.
    pub(crate) fn new(feed: Feed) -> Timer {
        let callback = Closure::<dyn FnMut()>::new(move || feed(Input::TimerFired));
        Timer {
            callback,
            handle: RefCell::new(None),
            armed_for: Cell::new(None),
        }
    }

    /// Arms the timer for `deadline` (core clock, ms), or disarms it for
    /// `None`. A timer already armed for the same or an earlier time is
    /// left alone: firing early is harmless (the core fires only what is
    /// due and the pump then re-arms for the next deadline), and it spares
    /// a `clearTimeout` + `setTimeout` pair each time a request's deadline
    /// comes and goes (two per request otherwise).
    pub(crate) fn arm(&self, deadline: Option<u64>) {
        let armed = self
            .armed_for
            .get()
            .filter(|_| self.handle.borrow().is_some());
        match (deadline, armed) {
            (Some(at), Some(armed)) if armed <= at => return,
            (None, None) => return,
            _ => {}
        }
        self.cancel();
        if let Some(at) = deadline {
            // Whole ms: the core's clock is floor(performance.now()).
            let delay = (at.saturating_sub(glue::now_ms()) as f64).min(2_147_483_647.0);
            let handle = glue::set_timeout(self.callback.as_ref().unchecked_ref(), delay);
            *self.handle.borrow_mut() = Some(handle);
            self.armed_for.set(Some(at));
        }
    }

    /// The timeout ran: nothing is armed any more.
    pub(crate) fn fired(&self) {
        *self.handle.borrow_mut() = None;
        self.armed_for.set(None);
    }

    /// Clears any pending timeout.
    pub(crate) fn cancel(&self) {
        if let Some(handle) = self.handle.borrow_mut().take() {
            glue::clear_timeout(&handle);
        }
        self.armed_for.set(None);
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}

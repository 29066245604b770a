//! The single timer: one [`gloo_timers`] `Timeout` at a time, armed for the
//! agent's next deadline ([`Agent::poll_timeout`](crate::core::Agent::poll_timeout)).
//! When it fires it hands [`Input::TimerFired`] to the driver, which fires
//! what is due and re-arms it for the next deadline.

use super::glue;
use super::input::{Feed, Input};
use gloo_timers::callback::Timeout;
use std::cell::RefCell;

/// The longest delay `setTimeout` takes (2^31 - 1 ms); a later deadline is
/// waited for in steps (firing early is harmless, see [`Timer::arm`]).
const MAX_DELAY_MS: u64 = 2_147_483_647;

/// The driver's timer.
pub(crate) struct Timer {
    feed: Feed,
    /// The deadline it is armed for, and the pending timeout (dropping it
    /// clears it).
    armed: RefCell<Option<(u64, Timeout)>>,
}

impl Timer {
    /// A disarmed timer that hands `feed` [`Input::TimerFired`] when it fires.
    pub(crate) fn new(feed: Feed) -> Timer {
        Timer {
            feed,
            armed: RefCell::new(None),
        }
    }

    /// Arms the timer for `deadline` (the agent's clock, ms), or disarms it
    /// for `None`. A timer already armed for the same or an earlier time is
    /// left alone: firing early is harmless (the agent fires only what is
    /// due and the driver then re-arms for the next deadline), and it spares
    /// a `clearTimeout` + `setTimeout` pair each time a request's deadline
    /// comes and goes (two per request otherwise).
    pub(crate) fn arm(&self, deadline: Option<u64>) {
        let armed_for = self.armed.borrow().as_ref().map(|(at, _)| *at);
        match (deadline, armed_for) {
            (Some(at), Some(armed)) if armed <= at => return,
            (None, None) => return,
            _ => {}
        }
        // Replacing the old timeout clears it.
        let next = deadline.map(|at| {
            // Whole ms: the agent's clock is floor(performance.now()).
            let delay = at.saturating_sub(glue::now_ms()).min(MAX_DELAY_MS);
            let delay = u32::try_from(delay).unwrap_or(u32::MAX);
            let feed = self.feed.clone();
            let timeout = Timeout::new(delay, move || feed(Input::TimerFired));
            (at, timeout)
        });
        let old = self.armed.replace(next);
        drop(old);
    }

    /// The timeout ran: nothing is armed any more.
    pub(crate) fn fired(&self) {
        let old = self.armed.borrow_mut().take();
        drop(old);
    }
}

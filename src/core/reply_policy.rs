//! Which inbound events may answer a waiting request: Frinny's backends
//! reply with an event, not a Socket.IO ack, carrying the request's
//! `request_id`. Other events may carry a `request_id` too (the reference
//! server's `typing_status` does, to say which question is being typed)
//! without being the answer, so only reply events are matched.
//!
//! The rule is the catalogue's: each request's `response` event
//! (`query` → `query_response`, `character_creation_start` →
//! `character_creation_response`) and the JSON gateway's `combat_response`
//! end in [`REPLY_SUFFIX`], and a failed request is answered by `error`.
//! The suffix, not the list, is the rule, because callers may `request`
//! events the catalogue does not know, and their backends follow the same
//! convention. A test below keeps the catalogue and the rule in step.
//!
//! The JS event hub needs the same rule to leave replies to the core on
//! its fast path; the shell hands it [`REPLY_NAMES`] and [`REPLY_SUFFIX`]
//! (see `src/web/hub.rs`), so the rule is written once, here.

use crate::catalogue::names;

/// Events that answer a request whatever the request was.
pub const REPLY_NAMES: &[&str] = &[names::ERROR];

/// The suffix of every other reply event's name.
pub const REPLY_SUFFIX: &str = "_response";

/// Whether an event named `name` can answer a request.
pub fn is_reply(name: &str) -> bool {
    name.ends_with(REPLY_SUFFIX) || REPLY_NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{request_events, Direction, EVENTS};

    #[test]
    fn every_catalogue_response_is_a_reply() {
        for spec in request_events() {
            let response = spec.response.unwrap();
            assert!(is_reply(response), "{} answers {}", response, spec.name);
        }
        assert!(
            is_reply(names::COMBAT_RESPONSE),
            "the gateway's answer to combat events"
        );
        assert!(is_reply(names::ERROR));
    }

    #[test]
    fn the_catalogue_has_no_other_replies() {
        let responses: Vec<&str> = request_events().filter_map(|s| s.response).collect();
        for spec in EVENTS.iter().filter(|s| is_reply(s.name)) {
            assert_eq!(spec.direction, Direction::ServerToClient, "{}", spec.name);
            assert!(
                responses.contains(&spec.name)
                    || [names::COMBAT_RESPONSE, names::ERROR].contains(&spec.name),
                "{} looks like a reply but answers no request",
                spec.name
            );
        }
        assert!(
            !is_reply(names::TYPING_STATUS),
            "carries a request_id without answering"
        );
    }
}

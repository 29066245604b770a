//! The Frinny event catalogue: every event name, its direction and payload
//! type, defined once and used by the client, the reference server and the
//! generator of `js/EventTypes.js`.
//!
//! The catalogue has two faces that describe the same contract:
//!
//! - **Data** ([`EVENTS`], [`EventSpec`], [`FieldSpec`]): a table that code can
//!   walk. [`validate`] checks a JSON payload against it and names the first
//!   field that does not fit; [`generate`] prints it as JS constants and
//!   `.d.ts` types.
//! - **Types** (the `*Payload`, `*Reply` and `*Ack` structs): plain serde
//!   structs for the payloads Rust code builds or reads: the reference server
//!   builds its replies, pushes and errors with them and reads the client's
//!   requests into them; the client reads the state replies into them. A
//!   payload that only JS builds and reads has no struct. Unit tests check
//!   that both faces agree.
//!
//! [`generate`] prints the catalogue as `js/EventTypes.js` and its `.d.ts`
//! (`cargo xtask gen`); a test keeps the committed files in step.
//!
//! Everything here is plain `serde` + `serde_json`, so it compiles for
//! `wasm32-unknown-unknown` as well as natively. Nothing in this module panics
//! on any input.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

pub mod custom;
#[cfg(not(target_arch = "wasm32"))]
pub mod generate;

/// Event names, as constants, so that no caller spells one by hand.
pub mod names {
    /// Client → server: a chat message for Frinny.
    pub const QUERY: &str = "query";
    /// Client → server: a character is being created.
    pub const CHARACTER_CREATION_START: &str = "character_creation_start";
    /// Client → server: a character levelled up.
    pub const LEVEL_UP: &str = "level_up";
    /// Client → server: a combatant's turn started.
    pub const COMBAT_TURN: &str = "combat_turn";
    /// Client → server: an encounter started.
    pub const COMBAT_START: &str = "combat_start";
    /// Client → server: a rating of one of Frinny's answers.
    pub const FEEDBACK: &str = "feedback";
    /// Client → server: relay an event to the other clients of the world
    /// (allowed for roles that may broadcast only).
    pub const BROADCAST: &str = "broadcast";
    /// Client → server: subscribe to a state scope, or catch up from `since`
    /// (answered by ack with a snapshot or the missed patches).
    pub const STATE_SUBSCRIBE: &str = "state:subscribe";
    /// Client → server: a merge patch against a base version (compare-and-set;
    /// acked with `{version}` or refused with `{code: CONFLICT, version, doc}`).
    pub const STATE_UPDATE: &str = "state:update";
    /// Client → server: stop receiving `state:patch` for a scope.
    pub const STATE_UNSUBSCRIBE: &str = "state:unsubscribe";
    /// Client → server: the player's choice on a [`SUGGESTION`] (accepted or
    /// dismissed, and which action). Fire and forget; the server acks it.
    pub const SUGGESTION_FEEDBACK: &str = "suggestion_feedback";
    /// Client → server: declare custom events (`x-<module>:<event>`, see
    /// [`custom`](super::custom)) for the sender's world (GM only); acked with
    /// [`EventsDefineReply`](super::EventsDefineReply).
    pub const EVENTS_DEFINE: &str = "events:define";

    /// Server → client: sent once after the namespace is joined.
    pub const CONNECTION_ESTABLISHED: &str = "connection_established";
    /// Server → client: Frinny started or stopped "typing".
    pub const TYPING_STATUS: &str = "typing_status";
    /// Server → client: answer to [`QUERY`].
    pub const QUERY_RESPONSE: &str = "query_response";
    /// Server → client: answer to [`CHARACTER_CREATION_START`].
    pub const CHARACTER_CREATION_RESPONSE: &str = "character_creation_response";
    /// Server → client: answer to [`LEVEL_UP`].
    pub const LEVEL_UP_RESPONSE: &str = "level_up_response";
    /// Server → client: answer to [`COMBAT_TURN`].
    pub const COMBAT_TURN_RESPONSE: &str = "combat_turn_response";
    /// Server → client: answer to [`COMBAT_START`].
    pub const COMBAT_START_RESPONSE: &str = "combat_start_response";
    /// Server → client: answer to [`FEEDBACK`].
    pub const FEEDBACK_RESPONSE: &str = "feedback_response";
    /// Server → client: the Frinny API gateway's answer to [`COMBAT_TURN`]
    /// and [`COMBAT_START`] on the plain-JSON wire (the Socket.IO backends
    /// answer with [`COMBAT_TURN_RESPONSE`] and [`COMBAT_START_RESPONSE`]).
    pub const COMBAT_RESPONSE: &str = "combat_response";
    /// Server → client: suggested changes to a character sheet.
    pub const CHARACTER_UPDATE: &str = "character_update";
    /// Server → client: a notification for one user or everyone.
    pub const NOTIFICATION: &str = "notification";
    /// Server → client: something Frinny suggests the player do, to be
    /// accepted or dismissed (answered by [`SUGGESTION_FEEDBACK`]).
    pub const SUGGESTION: &str = "suggestion";
    /// Server → client: the encounter moved on (round, turn, combatant, and
    /// what changed); relayed by the GM's client or sent through `/broadcast`.
    pub const COMBAT_UPDATE: &str = "combat_update";
    /// Server → client: a merge patch to a subscribed state scope.
    pub const STATE_PATCH: &str = "state:patch";
    /// Server → client: the server is going away (graceful shutdown).
    pub const SERVER_SHUTDOWN: &str = "server_shutdown";
    /// Server → client: a request failed.
    pub const ERROR: &str = "error";

    /// Both ways: the envelope of several events in one,
    /// `[[name, payload], …]` ([`crate::protocol::batch`]). Not an event of
    /// its own: it is unpacked into its entries, and sent only to and by a
    /// peer that announced it ([`BatchCapability`](super::BatchCapability)).
    pub const BATCH: &str = "batch";
}

/// Stable error codes carried in the `code` field of an `error` event.
pub mod codes {
    /// The event name is not in the catalogue, or not allowed in that direction.
    pub const INVALID_EVENT: &str = "INVALID_EVENT";
    /// The payload does not fit the event's type; the message names the field.
    pub const INVALID_PAYLOAD: &str = "INVALID_PAYLOAD";
    /// Too many events; the error carries `retryAfterMs`.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The socket's token expired; the server disconnects it.
    pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
    /// The event's payload is larger than the server accepts.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// The caller's role may not do this.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The responder (the AI seam) failed to answer.
    pub const RESPONDER_FAILED: &str = "RESPONDER_FAILED";
    /// The server failed while answering.
    pub const INTERNAL: &str = "INTERNAL";
    /// A `state:update` whose base is not the scope's current version; the
    /// refusal carries the server's `version` and `doc`.
    pub const CONFLICT: &str = "CONFLICT";
    /// A `state:update` would make the scope's document larger than the server allows.
    pub const STATE_TOO_LARGE: &str = "STATE_TOO_LARGE";
    /// The server's shared store (Redis, with `--redis`) did not answer in
    /// time: nothing was applied, and re-sending a `state:update` with the
    /// same `id` is safe.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    /// An `events:define` would give the world more custom events than the
    /// server allows (`--max-custom-events`).
    pub const TOO_MANY_EVENTS: &str = "TOO_MANY_EVENTS";
    /// A custom event declaration is over a size bound (fields, name, doc,
    /// bytes; see [`custom`](super::custom)).
    pub const SPEC_TOO_LARGE: &str = "SPEC_TOO_LARGE";
    /// A [`names::BATCH`](super::names::BATCH) envelope is not an array of
    /// `[name, payload]` entries, or some of its entries are not; the other
    /// entries were handled.
    pub const INVALID_BATCH: &str = "INVALID_BATCH";
}

/// Which way an event travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Sent by the client, handled by the server.
    ClientToServer,
    /// Sent by the server, delivered to client subscribers.
    ServerToClient,
}

/// The JSON type a payload field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Any JSON string.
    String,
    /// A string with at least one non-whitespace character.
    NonEmptyString,
    /// `true` or `false`.
    Bool,
    /// Any JSON number.
    Number,
    /// A whole number from 0 to 2^64 - 1 (versions, counts, durations):
    /// `-1`, `1.5` and `1e3` are refused rather than read as something else.
    UnsignedInteger,
    /// A string or a number (ratings, ids that used to be timestamps).
    StringOrNumber,
    /// A JSON array (items are not checked).
    Array,
    /// A JSON object (members are not checked).
    Object,
    /// Any JSON value.
    Any,
}

impl FieldKind {
    /// Whether `value` has this kind. `null` never matches: an optional field
    /// that is present as `null` is treated as absent by [`validate`].
    pub fn matches(self, value: &Value) -> bool {
        match self {
            FieldKind::String => value.is_string(),
            FieldKind::NonEmptyString => value.as_str().is_some_and(|s| !s.trim().is_empty()),
            FieldKind::Bool => value.is_boolean(),
            FieldKind::Number => value.is_number(),
            FieldKind::UnsignedInteger => value.as_u64().is_some(),
            FieldKind::StringOrNumber => value.is_string() || value.is_number(),
            FieldKind::Array => value.is_array(),
            FieldKind::Object => value.is_object(),
            FieldKind::Any => !value.is_null(),
        }
    }

    /// A short human description, used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            FieldKind::String => "a string",
            FieldKind::NonEmptyString => "a non-empty string",
            FieldKind::Bool => "a boolean",
            FieldKind::Number => "a number",
            FieldKind::UnsignedInteger => "a non-negative integer",
            FieldKind::StringOrNumber => "a string or a number",
            FieldKind::Array => "an array",
            FieldKind::Object => "an object",
            FieldKind::Any => "a value",
        }
    }
}

/// One field of an event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    /// The JSON member name, exactly as on the wire.
    pub name: &'static str,
    /// The JSON type it must have.
    pub kind: FieldKind,
    /// Whether the field must be present (and not `null`).
    pub required: bool,
}

const fn req(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: true,
    }
}

const fn opt(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: false,
    }
}

/// One event of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventSpec {
    /// The Socket.IO event name.
    pub name: &'static str,
    /// Which way it travels.
    pub direction: Direction,
    /// Known fields. Fields not listed are allowed and passed through
    /// (the old Foundry module adds context fields freely).
    pub fields: &'static [FieldSpec],
    /// At least one of these fields must be present (empty: no such rule).
    pub any_of: &'static [&'static str],
    /// For a request, the event the server answers with.
    pub response: Option<&'static str>,
    /// Whether a client with a broadcasting role may relay this event to
    /// others through [`names::BROADCAST`].
    pub broadcastable: bool,
    /// One line for documentation and generated code.
    pub doc: &'static str,
}

use FieldKind as K;

const GAME_EVENT_FIELDS: &[FieldSpec] = &[
    opt("request_id", K::StringOrNumber),
    opt("actorId", K::String),
    opt("userId", K::String),
];

const REPLY_FIELDS: &[FieldSpec] = &[
    opt("request_id", K::StringOrNumber),
    req("content", K::String),
    opt("timestamp", K::Number),
    opt("demo", K::Bool),
];

/// The whole catalogue. Names are unique (checked by a unit test).
pub const EVENTS: &[EventSpec] = &[
    EventSpec {
        name: names::QUERY,
        direction: Direction::ClientToServer,
        fields: &[
            req("content", K::NonEmptyString),
            opt("actorId", K::String),
            opt("conversation_history", K::Array),
            opt("is_public_chat", K::Bool),
            opt("request_id", K::StringOrNumber),
            opt("userId", K::String),
        ],
        any_of: &[],
        response: Some(names::QUERY_RESPONSE),
        broadcastable: false,
        doc: "A chat message for Frinny.",
    },
    EventSpec {
        name: names::CHARACTER_CREATION_START,
        direction: Direction::ClientToServer,
        fields: GAME_EVENT_FIELDS,
        any_of: &[],
        response: Some(names::CHARACTER_CREATION_RESPONSE),
        broadcastable: false,
        doc: "A character is being created; Frinny offers guidance.",
    },
    EventSpec {
        name: names::LEVEL_UP,
        direction: Direction::ClientToServer,
        fields: GAME_EVENT_FIELDS,
        any_of: &[],
        response: Some(names::LEVEL_UP_RESPONSE),
        broadcastable: false,
        doc: "A character levelled up; Frinny suggests choices.",
    },
    EventSpec {
        name: names::COMBAT_TURN,
        direction: Direction::ClientToServer,
        fields: GAME_EVENT_FIELDS,
        any_of: &[],
        response: Some(names::COMBAT_TURN_RESPONSE),
        broadcastable: false,
        doc: "A combatant's turn started; Frinny suggests actions.",
    },
    EventSpec {
        name: names::COMBAT_START,
        direction: Direction::ClientToServer,
        fields: GAME_EVENT_FIELDS,
        any_of: &[],
        response: Some(names::COMBAT_START_RESPONSE),
        broadcastable: false,
        doc: "An encounter started; Frinny sums it up.",
    },
    EventSpec {
        name: names::FEEDBACK,
        direction: Direction::ClientToServer,
        fields: &[
            opt("request_id", K::StringOrNumber),
            opt("rating", K::StringOrNumber),
            opt("type", K::String),
            opt("comment", K::String),
            opt("context_id", K::StringOrNumber),
            opt("messageId", K::StringOrNumber),
        ],
        any_of: &["rating", "type"],
        response: Some(names::FEEDBACK_RESPONSE),
        broadcastable: false,
        doc: "A rating (or type) of one of Frinny's answers.",
    },
    EventSpec {
        name: names::BROADCAST,
        direction: Direction::ClientToServer,
        fields: &[req("event", K::NonEmptyString), req("payload", K::Object)],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Relay `payload` as `event` to the other clients of the world (GM only).",
    },
    EventSpec {
        name: names::STATE_SUBSCRIBE,
        direction: Direction::ClientToServer,
        fields: &[
            req("scope", K::NonEmptyString),
            opt("since", K::UnsignedInteger),
            opt("epoch", K::String),
            opt("compress", K::String),
        ],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Subscribe to a state scope (or catch up from `since`); the ack carries a snapshot \
              {scope, version, doc} or the missed patches {scope, version, patches: [{base, version, patch}]}. \
              With `compress: 'deflate'` a large snapshot may come as {scope, version, compressed: 'deflate', \
              doc: <binary attachment>}.",
    },
    EventSpec {
        name: names::STATE_UPDATE,
        direction: Direction::ClientToServer,
        fields: &[
            req("scope", K::NonEmptyString),
            req("base", K::UnsignedInteger),
            req("patch", K::Object),
            opt("id", K::String),
        ],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "A merge patch (RFC 7396) against version `base`; acked with {scope, base, version} \
              or refused with {code: CONFLICT, version, doc}.",
    },
    EventSpec {
        name: names::STATE_UNSUBSCRIBE,
        direction: Direction::ClientToServer,
        fields: &[req("scope", K::NonEmptyString)],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Stop receiving `state:patch` for a scope.",
    },
    EventSpec {
        name: names::SUGGESTION_FEEDBACK,
        direction: Direction::ClientToServer,
        fields: &[
            req("id", K::StringOrNumber),
            req("accepted", K::Bool),
            opt("action", K::Any),
        ],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "The player's choice on a `suggestion`: accepted or dismissed, and the action picked \
              (fire and forget; the server acks it).",
    },
    EventSpec {
        name: names::EVENTS_DEFINE,
        direction: Direction::ClientToServer,
        fields: &[req("events", K::Array)],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Declare custom events `x-<module>:<event>` for the sender's world (GM only): \
              {events: [{name, direction, broadcastable?, fields?, anyOf?, doc?}]}; acked with \
              {ok, defined, count}. A declaration of a name already declared replaces it.",
    },
    EventSpec {
        name: names::CONNECTION_ESTABLISHED,
        direction: Direction::ServerToClient,
        fields: &[
            req("status", K::String),
            req("endpoints", K::Array),
            req("userId", K::String),
            req("sid", K::String),
            req("timestamp", K::Number),
            opt("role", K::String),
            opt("world", K::String),
            opt("customEvents", K::Array),
            opt("batch", K::Object),
        ],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Sent once when the namespace is joined; the reference server lists the custom events \
              declared for the world in `customEvents`, and `batch` {windowMs, maxBytes} when it \
              coalesces events for this connection into `batch` envelopes (and accepts them).",
    },
    EventSpec {
        name: names::TYPING_STATUS,
        direction: Direction::ServerToClient,
        fields: &[
            req("isTyping", K::Bool),
            opt("request_id", K::StringOrNumber),
        ],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Frinny started (true) or stopped (false) working on a request.",
    },
    EventSpec {
        name: names::QUERY_RESPONSE,
        direction: Direction::ServerToClient,
        fields: REPLY_FIELDS,
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Frinny's answer to a query.",
    },
    EventSpec {
        name: names::CHARACTER_CREATION_RESPONSE,
        direction: Direction::ServerToClient,
        fields: REPLY_FIELDS,
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Frinny's answer to character_creation_start.",
    },
    EventSpec {
        name: names::LEVEL_UP_RESPONSE,
        direction: Direction::ServerToClient,
        fields: REPLY_FIELDS,
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Frinny's answer to level_up.",
    },
    EventSpec {
        name: names::COMBAT_TURN_RESPONSE,
        direction: Direction::ServerToClient,
        fields: REPLY_FIELDS,
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Frinny's answer to combat_turn.",
    },
    EventSpec {
        name: names::COMBAT_START_RESPONSE,
        direction: Direction::ServerToClient,
        fields: REPLY_FIELDS,
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Frinny's answer to combat_start.",
    },
    EventSpec {
        name: names::FEEDBACK_RESPONSE,
        direction: Direction::ServerToClient,
        fields: REPLY_FIELDS,
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Acknowledges feedback.",
    },
    EventSpec {
        name: names::COMBAT_RESPONSE,
        direction: Direction::ServerToClient,
        fields: REPLY_FIELDS,
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "The JSON gateway's answer to combat_turn and combat_start (Socket.IO backends send \
              combat_turn_response / combat_start_response).",
    },
    EventSpec {
        name: names::CHARACTER_UPDATE,
        direction: Direction::ServerToClient,
        fields: &[
            req("actorId", K::String),
            req("updates", K::Object),
            opt("message_id", K::StringOrNumber),
        ],
        any_of: &[],
        response: None,
        broadcastable: true,
        doc: "Suggested changes to a character: {actorId, updates: {skills: {name: rank}}}.",
    },
    EventSpec {
        name: names::NOTIFICATION,
        direction: Direction::ServerToClient,
        fields: &[
            req("message", K::NonEmptyString),
            opt("title", K::String),
            opt("level", K::String),
            opt("timestamp", K::Number),
            opt("from", K::String),
        ],
        any_of: &[],
        response: None,
        broadcastable: true,
        doc: "A notification for one user or the whole table.",
    },
    EventSpec {
        name: names::SUGGESTION,
        direction: Direction::ServerToClient,
        fields: &[
            req("id", K::StringOrNumber),
            req("text", K::NonEmptyString),
            opt("actorId", K::String),
            opt("kind", K::String),
            opt("actions", K::Array),
        ],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "Something Frinny suggests, to accept or dismiss: {id, text, actorId?, kind?, \
              actions?: [{label, value}]}. Answered by `suggestion_feedback`.",
    },
    EventSpec {
        name: names::COMBAT_UPDATE,
        direction: Direction::ServerToClient,
        fields: &[
            req("combatId", K::String),
            req("round", K::Number),
            req("turn", K::Number),
            req("combatant", K::Object),
            opt("changes", K::Array),
        ],
        any_of: &[],
        response: None,
        broadcastable: true,
        doc: "The encounter moved on: {combatId, round, turn, combatant: {name, actorId?}, \
              changes?: [{name, actorId?, hp?: {value, max}, conditions?: [string]}]}.",
    },
    EventSpec {
        name: names::STATE_PATCH,
        direction: Direction::ServerToClient,
        fields: &[
            req("scope", K::NonEmptyString),
            req("base", K::UnsignedInteger),
            req("version", K::UnsignedInteger),
            req("patch", K::Any),
        ],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "A JSON merge patch (RFC 7396) that takes a scope from `base` to `version`.",
    },
    EventSpec {
        name: names::SERVER_SHUTDOWN,
        direction: Direction::ServerToClient,
        fields: &[req("reason", K::String)],
        any_of: &[],
        response: None,
        broadcastable: false,
        doc: "The server is shutting down; reconnect later.",
    },
    EventSpec {
        name: names::ERROR,
        direction: Direction::ServerToClient,
        fields: &[
            opt("request_id", K::StringOrNumber),
            opt("code", K::String),
            opt("message", K::String),
            opt("error", K::String),
            opt("field", K::String),
            opt("retryAfterMs", K::UnsignedInteger),
            opt("timestamp", K::Number),
        ],
        any_of: &["message", "error"],
        response: None,
        broadcastable: false,
        doc: "A request failed. Old backends send `error`, ours sends both `message` and `error`.",
    },
];

/// The catalogue entry for `name`, if any.
pub fn spec(name: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|e| e.name == name)
}

/// The reply event for request event `name` (`character_creation_start` →
/// `character_creation_response`), if it is a request.
pub fn response_event(name: &str) -> Option<&'static str> {
    spec(name).and_then(|e| e.response)
}

/// The client → server events that the server answers with a `*_response`.
pub fn request_events() -> impl Iterator<Item = &'static EventSpec> {
    EVENTS.iter().filter(|e| e.response.is_some())
}

/// Why a payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// Unknown event name or wrong direction ([`codes::INVALID_EVENT`]).
    InvalidEvent,
    /// Payload does not fit ([`codes::INVALID_PAYLOAD`]).
    InvalidPayload,
}

impl ErrorKind {
    /// The stable wire code.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidEvent => codes::INVALID_EVENT,
            ErrorKind::InvalidPayload => codes::INVALID_PAYLOAD,
        }
    }
}

/// A validation failure: a stable code, the offending field (if one), and a
/// message that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The field at fault (`None` when the event itself or the whole payload is).
    pub field: Option<String>,
    /// A human message naming the event and field.
    pub message: String,
}

impl CatalogueError {
    /// The stable wire code (`INVALID_EVENT` or `INVALID_PAYLOAD`).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    fn event(message: String) -> Self {
        Self {
            kind: ErrorKind::InvalidEvent,
            field: None,
            message,
        }
    }

    fn payload(field: Option<&str>, message: String) -> Self {
        Self {
            kind: ErrorKind::InvalidPayload,
            field: field.map(str::to_owned),
            message,
        }
    }
}

impl fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for CatalogueError {}

/// Checks `payload` against the catalogue entry for `event`, whatever its
/// direction. Unknown fields are allowed; a known field present as `null` is
/// treated as absent.
pub fn validate(event: &str, payload: &Value) -> Result<(), CatalogueError> {
    let spec = spec(event)
        .ok_or_else(|| CatalogueError::event(format!("unknown event `{}`", truncate(event, 64))))?;
    validate_spec(spec, payload)
}

/// Like [`validate`], and also refuses an event that does not travel in
/// `direction` (a client sending `query_response`, say) with `INVALID_EVENT`.
pub fn validate_from(
    direction: Direction,
    event: &str,
    payload: &Value,
) -> Result<(), CatalogueError> {
    match spec(event) {
        Some(s) if s.direction == direction => validate_spec(s, payload),
        Some(_) => Err(CatalogueError::event(format!(
            "event `{event}` may not be sent in this direction"
        ))),
        None => Err(CatalogueError::event(format!(
            "unknown event `{}`",
            truncate(event, 64)
        ))),
    }
}

/// [`validate`] for a payload given as JSON text.
pub fn validate_json(event: &str, payload_json: &str) -> Result<(), CatalogueError> {
    let value: Value = serde_json::from_str(payload_json).map_err(|e| {
        CatalogueError::payload(None, format!("payload of `{event}` is not valid JSON: {e}"))
    })?;
    validate(event, &value)
}

/// Checks `payload` against one entry.
pub fn validate_spec(spec: &EventSpec, payload: &Value) -> Result<(), CatalogueError> {
    check_payload(
        spec.name,
        payload,
        spec.fields.iter().map(|f| (f.name, f.kind, f.required)),
        spec.any_of,
    )
}

/// The rules of [`validate_spec`] over any field table: `(name, kind,
/// required)` of each known field, and the `any_of` names. Shared with
/// [`custom::CustomEventSpec::validate`].
fn check_payload<'a, S: AsRef<str>>(
    event: &str,
    payload: &Value,
    fields: impl Iterator<Item = (&'a str, FieldKind, bool)>,
    any_of: &[S],
) -> Result<(), CatalogueError> {
    let Some(object) = payload.as_object() else {
        return Err(CatalogueError::payload(
            None,
            format!(
                "payload of `{event}` must be a JSON object, got {}",
                json_type(payload)
            ),
        ));
    };
    for (name, kind, required) in fields {
        match present(object, name) {
            None if required => {
                return Err(CatalogueError::payload(
                    Some(name),
                    format!(
                        "field `{name}` of `{event}` is required ({})",
                        kind.describe()
                    ),
                ));
            }
            None => {}
            Some(value) if !kind.matches(value) => {
                return Err(CatalogueError::payload(
                    Some(name),
                    format!(
                        "field `{name}` of `{event}` must be {}, got {}",
                        kind.describe(),
                        json_type(value)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if !any_of.is_empty() && !any_of.iter().any(|f| present(object, f.as_ref()).is_some()) {
        let first = any_of.first().map(AsRef::as_ref);
        let names: Vec<&str> = any_of.iter().map(AsRef::as_ref).collect();
        return Err(CatalogueError::payload(
            first,
            format!("`{event}` needs one of the fields {}", names.join(", ")),
        ));
    }
    Ok(())
}

fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// `request_id` as the wire carries it: a string, or a number from old
/// clients that used timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A string id (`<Date.now()>:<userId>` from the old client).
    Text(String),
    /// A numeric id.
    Number(serde_json::Number),
}

/// Payload of [`names::QUERY`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryPayload {
    /// The user's message.
    pub content: String,
    /// The Foundry actor the question is about.
    #[serde(rename = "actorId", default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// Earlier turns of the conversation, as the module keeps them.
    #[serde(default)]
    pub conversation_history: Vec<Value>,
    /// Whether the message was sent in the public chat.
    #[serde(default)]
    pub is_public_chat: bool,
    /// Correlates the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// The Foundry user id (informational: the server uses the token's).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Any other context the module sends.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Payload of [`names::BROADCAST`] (client → server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BroadcastPayload {
    /// The event to deliver to the others; must be [`EventSpec::broadcastable`].
    pub event: String,
    /// Its payload, validated against that event.
    pub payload: Value,
}

/// Payload of [`names::STATE_SUBSCRIBE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateSubscribePayload {
    /// The scope (`world`, `combat:<id>`, `user:<id>`, ...).
    pub scope: String,
    /// The version the client holds: the server answers with the patches
    /// after it, or a snapshot when they are no longer in its history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// The server epoch the client's version belongs to: when it is not the
    /// server's, the answer is a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// The compression the client can undo ([`SNAPSHOT_COMPRESSION`]): a
    /// large snapshot may then come compressed as a binary attachment (see
    /// [`StateSubscribeReply::compressed`]). Absent: plain JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress: Option<String>,
}

/// The one compression of `state:subscribe` snapshots: zlib (RFC 1950), what
/// the browser's `DecompressionStream('deflate')` reads. Its Adler-32
/// checksum makes a damaged attachment fail to inflate rather than inflate
/// to something else.
pub const SNAPSHOT_COMPRESSION: &str = "deflate";

/// One patch of a scope's history: it takes the document from `base` to
/// `version` (always `base + 1` on this server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatePatchEntry {
    /// The version the patch applies to.
    pub base: u64,
    /// The version after it.
    pub version: u64,
    /// An RFC 7396 JSON merge patch.
    pub patch: Value,
}

/// The ack of [`names::STATE_SUBSCRIBE`]: a snapshot (`doc`) or, when the
/// subscriber gave `since` and the server still has them, the patches after
/// `since` in order (`patches`, possibly empty). Exactly one of the two is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateSubscribeReply {
    /// The scope.
    pub scope: String,
    /// The scope's version now.
    pub version: u64,
    /// The whole document at `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<Value>,
    /// The patches from `since` to `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<StatePatchEntry>>,
    /// Identifies the server's store: when it changes (a restart), versions
    /// started again and a snapshot replaces whatever the client holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// Set (to [`SNAPSHOT_COMPRESSION`]) when `doc` is a binary attachment
    /// placeholder whose bytes are the document's JSON text, compressed;
    /// only ever sent to a subscriber that asked with `compress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed: Option<String>,
}

/// Payload of [`names::STATE_UPDATE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateUpdatePayload {
    /// The scope.
    pub scope: String,
    /// The version the patch was made against (compare-and-set).
    pub base: u64,
    /// An RFC 7396 JSON merge patch (an object).
    pub patch: Value,
    /// A client-chosen id: the server acks a re-sent update it already
    /// applied (a lost ack) with the original version instead of refusing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The ack of an accepted [`names::STATE_UPDATE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateUpdateAck {
    /// The scope.
    pub scope: String,
    /// The base the patch applied to.
    pub base: u64,
    /// The version it made.
    pub version: u64,
    /// `true` when this was a re-sent update already applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// The ack of a [`names::STATE_UPDATE`] refused with [`codes::CONFLICT`]: the
/// base was stale; here is the server's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateConflict {
    /// Always [`codes::CONFLICT`].
    pub code: String,
    /// A human message.
    #[serde(default)]
    pub message: String,
    /// The scope.
    pub scope: String,
    /// The scope's version now.
    pub version: u64,
    /// The document at `version`.
    pub doc: Value,
}

/// Payload of [`names::STATE_UNSUBSCRIBE`], and its ack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateUnsubscribePayload {
    /// The scope.
    pub scope: String,
}

/// Payload of [`names::EVENTS_DEFINE`]: the declarations, read one by one
/// with [`custom::parse_list`] (so an error names its entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsDefinePayload {
    /// `[{name, direction, broadcastable?, fields?, anyOf?, doc?}]`.
    pub events: Vec<Value>,
}

/// The ack of an accepted [`names::EVENTS_DEFINE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsDefineReply {
    /// Always `true`.
    pub ok: bool,
    /// The names declared (or replaced) by this request.
    pub defined: Vec<String>,
    /// How many custom events the world has declared now (the server's
    /// `--events` file not counted).
    pub count: usize,
}

/// Payload of [`names::CONNECTION_ESTABLISHED`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionEstablishedPayload {
    /// Always `"connected"`.
    pub status: String,
    /// The request events this server answers.
    pub endpoints: Vec<String>,
    /// The authenticated user id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The Socket.IO session id.
    pub sid: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// `gm` or `player`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The world id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    /// The names of the custom events declared for the world (the server's
    /// `--events` file and `events:define`), sorted.
    #[serde(
        rename = "customEvents",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_events: Option<Vec<String>>,
    /// Present when the server batches for this connection: events it
    /// pushes within a window reach the client as one [`names::BATCH`]
    /// envelope, and the client may send its own (see [`BatchCapability`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchCapability>,
}

/// The `batch` member of [`ConnectionEstablishedPayload`]: the server
/// coalesces the events it pushes to this connection within `windowMs` into
/// [`names::BATCH`] envelopes `[[name, payload], …]` of at most `maxBytes`,
/// and reads envelopes the client sends under the same bound, each entry as
/// if it had come alone. A server announces it only to a client that asked
/// (the handshake query `batch=1`), so other clients see plain events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCapability {
    /// How long the server holds an event for the batch it starts, in ms.
    #[serde(rename = "windowMs")]
    pub window_ms: u64,
    /// The largest batch frame payload either side sends, in bytes.
    #[serde(rename = "maxBytes")]
    pub max_bytes: u64,
}

/// Payload of [`names::TYPING_STATUS`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypingStatusPayload {
    /// Whether Frinny is working on a request.
    #[serde(rename = "isTyping")]
    pub is_typing: bool,
    /// The request concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

/// Payload of every `*_response` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyPayload {
    /// The request answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// The answer text (Markdown allowed).
    pub content: String,
    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// `true` when the answer comes from a demo responder, not an AI.
    #[serde(default)]
    pub demo: bool,
}

/// Payload of [`names::NOTIFICATION`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationPayload {
    /// The text.
    pub message: String,
    /// A title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `info`, `warning`, `error` or `success`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// Who sent it (a user id, or `server`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// One choice offered by a [`SuggestionPayload`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionAction {
    /// The button's text.
    pub label: String,
    /// What is sent back in [`SuggestionFeedbackPayload::action`].
    pub value: Value,
}

/// Payload of [`names::SUGGESTION`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionPayload {
    /// Identifies the suggestion in the feedback.
    pub id: RequestId,
    /// What Frinny suggests.
    pub text: String,
    /// The actor it is for.
    #[serde(rename = "actorId", default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// `combat`, `character_update`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Choices beside Accept and Dismiss.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<SuggestionAction>,
}

/// Payload of [`names::SUGGESTION_FEEDBACK`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionFeedbackPayload {
    /// The suggestion's id.
    pub id: RequestId,
    /// Accepted (or an action picked) rather than dismissed.
    pub accepted: bool,
    /// The value of the action picked, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Value>,
}

/// Notification levels accepted by the server's `/notify`.
pub const NOTIFICATION_LEVELS: &[&str] = &["info", "success", "warning", "error"];

/// Payload of [`names::STATE_PATCH`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatePatchPayload {
    /// The scope patched.
    pub scope: String,
    /// The version the patch applies to.
    pub base: u64,
    /// The version after the patch (the first patch gives version 1).
    pub version: u64,
    /// An RFC 7396 JSON merge patch.
    pub patch: Value,
}

/// Payload of [`names::SERVER_SHUTDOWN`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerShutdownPayload {
    /// Why, for people.
    pub reason: String,
}

/// Payload of [`names::ERROR`] as this server sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorPayload {
    /// The request that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// A stable code from [`codes`].
    pub code: String,
    /// A human message (what the old client read).
    pub message: String,
    /// The same message (what the old backend sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The field at fault, for `INVALID_PAYLOAD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `RATE_LIMITED`: how long to wait.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_requests_have_known_responses() {
        let mut seen = HashSet::new();
        for e in EVENTS {
            assert!(seen.insert(e.name), "duplicate {}", e.name);
            if let Some(r) = e.response {
                assert_eq!(e.direction, Direction::ClientToServer);
                assert_eq!(
                    spec(r).map(|s| s.direction),
                    Some(Direction::ServerToClient),
                    "{r}"
                );
            }
            if e.broadcastable {
                assert_eq!(e.direction, Direction::ServerToClient);
            }
        }
        assert_eq!(request_events().count(), 6);
        assert_eq!(
            response_event(names::CHARACTER_CREATION_START),
            Some(names::CHARACTER_CREATION_RESPONSE)
        );
        assert_eq!(response_event(names::QUERY), Some(names::QUERY_RESPONSE));
        assert_eq!(response_event(names::TYPING_STATUS), None);
    }

    #[test]
    fn the_batch_envelope_is_named_as_the_codec_names_it() {
        assert_eq!(names::BATCH, crate::protocol::batch::EVENT);
        assert!(spec(names::BATCH).is_none(), "an envelope, not an event");
        let greeting = json!({"status": "connected", "endpoints": [], "userId": "u", "sid": "s",
                              "timestamp": 1, "batch": {"windowMs": 5, "maxBytes": 1024}});
        let typed: ConnectionEstablishedPayload = serde_json::from_value(greeting).unwrap();
        assert_eq!(
            typed.batch,
            Some(BatchCapability {
                window_ms: 5,
                max_bytes: 1024
            })
        );
    }

    #[test]
    fn unsigned_integers_are_whole_and_not_negative() {
        let k = FieldKind::UnsignedInteger;
        for ok in [json!(0), json!(7), json!(u64::MAX)] {
            assert!(k.matches(&ok), "{ok}");
        }
        for bad in [
            json!(-1),
            json!(1.5),
            json!(1e300),
            json!("3"),
            json!(null),
            json!(true),
        ] {
            assert!(!k.matches(&bad), "{bad}");
        }
        let e = validate(
            names::STATE_SUBSCRIBE,
            &json!({"scope": "world", "since": -1}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.field.as_deref()),
            (codes::INVALID_PAYLOAD, Some("since"))
        );
        assert!(e.message.contains("non-negative integer"), "{}", e.message);
        assert_eq!(
            validate(
                names::STATE_SUBSCRIBE,
                &json!({"scope": "world", "since": 4})
            ),
            Ok(())
        );
    }

    #[test]
    fn a_good_query_passes() {
        let p = json!({"content": "hi", "actorId": "a1", "conversation_history": [],
                       "is_public_chat": false, "request_id": "1:u1", "userId": "u1", "extra": 1});
        assert_eq!(validate(names::QUERY, &p), Ok(()));
        assert_eq!(validate_json(names::QUERY, &p.to_string()), Ok(()));
        let typed: QueryPayload = serde_json::from_value(p).unwrap();
        assert_eq!(typed.content, "hi");
        assert_eq!(typed.request_id, Some(RequestId::Text("1:u1".into())));
        assert_eq!(typed.extra.get("extra"), Some(&json!(1)));
    }

    #[test]
    fn unknown_event_is_invalid_event() {
        let e = validate("nope", &json!({})).unwrap_err();
        assert_eq!(e.code(), "INVALID_EVENT");
        assert!(e.message.contains("nope"));
        assert_eq!(e.field, None);
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let e = validate(names::QUERY, &json!({"request_id": "r"})).unwrap_err();
        assert_eq!(e.code(), "INVALID_PAYLOAD");
        assert_eq!(e.field.as_deref(), Some("content"));
        assert!(e.message.contains("`content`"), "{}", e.message);

        let e = validate(
            names::QUERY,
            &json!({"content": "x", "is_public_chat": "yes"}),
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("is_public_chat"));
        assert!(e.message.contains("boolean"), "{}", e.message);

        let e = validate(names::QUERY, &json!({"content": "   "})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("content"));

        let e = validate(names::QUERY, &json!("hi")).unwrap_err();
        assert_eq!(e.code(), "INVALID_PAYLOAD");
        assert_eq!(e.field, None);
        assert!(e.message.contains("object"));
    }

    #[test]
    fn null_optional_is_absent() {
        assert_eq!(
            validate(names::QUERY, &json!({"content": "x", "actorId": null})),
            Ok(())
        );
    }

    #[test]
    fn feedback_needs_rating_or_type() {
        assert_eq!(
            validate(names::FEEDBACK, &json!({"request_id": "r", "rating": 5})),
            Ok(())
        );
        assert_eq!(
            validate(names::FEEDBACK, &json!({"messageId": "m", "type": "up"})),
            Ok(())
        );
        let e = validate(names::FEEDBACK, &json!({"request_id": "r"})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("rating"));
        assert!(e.message.contains("rating, type"));
    }

    #[test]
    fn direction_is_enforced() {
        let ok = json!({"request_id": "r", "content": "x"});
        assert_eq!(validate(names::QUERY_RESPONSE, &ok), Ok(()));
        let e = validate_from(Direction::ClientToServer, names::QUERY_RESPONSE, &ok).unwrap_err();
        assert_eq!(e.code(), "INVALID_EVENT");
        assert_eq!(
            validate_from(
                Direction::ClientToServer,
                names::QUERY,
                &json!({"content": "x"})
            ),
            Ok(())
        );
    }

    #[test]
    fn invalid_json_text_is_invalid_payload() {
        let e = validate_json(names::QUERY, "{not json").unwrap_err();
        assert_eq!(e.code(), "INVALID_PAYLOAD");
    }

    #[test]
    fn typed_payloads_agree_with_the_table() {
        let samples: Vec<(&str, Value)> = vec![
            (
                names::QUERY,
                serde_json::to_value(QueryPayload {
                    content: "hi".into(),
                    actor_id: None,
                    conversation_history: vec![],
                    is_public_chat: true,
                    request_id: Some(RequestId::Number(7.into())),
                    user_id: Some("u".into()),
                    extra: Map::new(),
                })
                .unwrap(),
            ),
            (
                names::BROADCAST,
                serde_json::to_value(BroadcastPayload {
                    event: names::NOTIFICATION.into(),
                    payload: json!({"message": "m"}),
                })
                .unwrap(),
            ),
            (
                names::STATE_SUBSCRIBE,
                serde_json::to_value(StateSubscribePayload {
                    scope: "world".into(),
                    since: Some(3),
                    epoch: Some("e1".into()),
                    compress: Some(SNAPSHOT_COMPRESSION.into()),
                })
                .unwrap(),
            ),
            (
                names::STATE_UPDATE,
                serde_json::to_value(StateUpdatePayload {
                    scope: "user:u1".into(),
                    base: 3,
                    patch: json!({"hp": 1}),
                    id: Some("c-1".into()),
                })
                .unwrap(),
            ),
            (
                names::EVENTS_DEFINE,
                serde_json::to_value(EventsDefinePayload {
                    events: vec![json!({"name": "x-m:e", "direction": "both"})],
                })
                .unwrap(),
            ),
            (
                names::STATE_UNSUBSCRIBE,
                serde_json::to_value(StateUnsubscribePayload {
                    scope: "world".into(),
                })
                .unwrap(),
            ),
            (
                names::CONNECTION_ESTABLISHED,
                serde_json::to_value(ConnectionEstablishedPayload {
                    status: "connected".into(),
                    endpoints: vec!["query".into()],
                    user_id: "u".into(),
                    sid: "s".into(),
                    timestamp: 1,
                    role: Some("gm".into()),
                    world: None,
                    custom_events: Some(vec!["x-m:e".into()]),
                    batch: Some(BatchCapability {
                        window_ms: 5,
                        max_bytes: 65536,
                    }),
                })
                .unwrap(),
            ),
            (
                names::TYPING_STATUS,
                serde_json::to_value(TypingStatusPayload {
                    is_typing: true,
                    request_id: None,
                })
                .unwrap(),
            ),
            (
                names::QUERY_RESPONSE,
                serde_json::to_value(ReplyPayload {
                    request_id: Some(RequestId::Text("r".into())),
                    content: "c".into(),
                    timestamp: Some(3),
                    demo: true,
                })
                .unwrap(),
            ),
            (
                names::NOTIFICATION,
                serde_json::to_value(NotificationPayload {
                    message: "m".into(),
                    title: None,
                    level: Some("info".into()),
                    timestamp: None,
                    from: None,
                })
                .unwrap(),
            ),
            (
                names::SUGGESTION,
                serde_json::to_value(SuggestionPayload {
                    id: RequestId::Text("s1".into()),
                    text: "Raise a Shield".into(),
                    actor_id: Some("a1".into()),
                    kind: Some("combat".into()),
                    actions: vec![SuggestionAction {
                        label: "Stride".into(),
                        value: json!("stride"),
                    }],
                })
                .unwrap(),
            ),
            (
                names::SUGGESTION_FEEDBACK,
                serde_json::to_value(SuggestionFeedbackPayload {
                    id: RequestId::Text("s1".into()),
                    accepted: true,
                    action: Some(json!("stride")),
                })
                .unwrap(),
            ),
            (
                names::STATE_PATCH,
                serde_json::to_value(StatePatchPayload {
                    scope: "global".into(),
                    base: 0,
                    version: 1,
                    patch: json!({"a": 1}),
                })
                .unwrap(),
            ),
            (
                names::SERVER_SHUTDOWN,
                serde_json::to_value(ServerShutdownPayload {
                    reason: "maintenance".into(),
                })
                .unwrap(),
            ),
            (
                names::ERROR,
                serde_json::to_value(ErrorPayload {
                    request_id: None,
                    code: codes::RATE_LIMITED.into(),
                    message: "slow down".into(),
                    error: Some("slow down".into()),
                    field: None,
                    retry_after_ms: Some(10),
                    timestamp: Some(1),
                })
                .unwrap(),
            ),
        ];
        for (event, value) in samples {
            assert_eq!(validate(event, &value), Ok(()), "{event}: {value}");
        }
    }

    #[test]
    fn suggestion_and_combat_update_fields_are_checked() {
        let e = validate(names::SUGGESTION, &json!({"id": "s", "text": " "})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("text"));
        let e = validate(names::SUGGESTION_FEEDBACK, &json!({"id": "s"})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("accepted"));
        assert_eq!(
            validate_from(
                Direction::ClientToServer,
                names::SUGGESTION_FEEDBACK,
                &json!({"id": 3, "accepted": false})
            ),
            Ok(())
        );
        let e = validate(
            names::COMBAT_UPDATE,
            &json!({"combatId": "c", "round": 1, "turn": 0, "combatant": "Valeros"}),
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("combatant"));
        assert!(spec(names::COMBAT_UPDATE).is_some_and(|s| s.broadcastable));
        assert!(spec(names::SUGGESTION).is_some_and(|s| !s.broadcastable));
    }

    #[test]
    fn nothing_panics_on_odd_input() {
        for v in [
            json!(null),
            json!([]),
            json!(1),
            json!({"content": {"deep": [1, 2]}}),
        ] {
            for e in EVENTS {
                let _ = validate(e.name, &v);
            }
        }
        let long = "x".repeat(10_000);
        let e = validate(&long, &json!({})).unwrap_err();
        assert!(e.message.len() < 200);
    }
}

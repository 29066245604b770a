//! Plain-JSON framing: each WebSocket text frame is one JSON object routed by
//! its `action` field, e.g. `{"action":"query","content":"hi","request_id":"7"}`.
//!
//! This is what Frinny's later raw-WebSocket variant spoke, and what backends
//! behind API gateways (that cannot speak Socket.IO) use. The client puts the
//! same API on top of it as on Socket.IO: the action is the event name and the
//! rest of the object is the payload.
//!
//! ```
//! use frinny_agent::protocol::{json_frame, Limits};
//! let text = json_frame::encode("query", r#"{"content":"hi"}"#).unwrap();
//! assert_eq!(text, r#"{"action":"query","content":"hi"}"#);
//! let frame = json_frame::decode(&text, &Limits::default()).unwrap();
//! assert_eq!(frame.action, "query");
//! assert_eq!(frame.json, text);
//! ```

use super::{json, DecodeError, Limits};
use std::borrow::Cow;

/// One decoded plain-JSON frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonFrame<'a> {
    /// The routing key: the event name.
    pub action: Cow<'a, str>,
    /// The whole object, as raw JSON text exactly as received (the payload
    /// handed to subscribers; it still contains `action`).
    pub json: &'a str,
}

/// Why a payload cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// Only a JSON object can carry an `action` field beside its own fields.
    NotAnObject,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::NotAnObject => write!(f, "JSON framing needs an object payload"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Decodes one text frame. Fails if it is too large, too deep, not a JSON
/// object, or has no string `action`.
pub fn decode<'a>(text: &'a str, limits: &Limits) -> Result<JsonFrame<'a>, DecodeError> {
    if text.len() > limits.max_frame_bytes {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            max: limits.max_frame_bytes,
        });
    }
    if text.trim_start().is_empty() {
        return Err(DecodeError::Empty);
    }
    if !text.trim_start().starts_with('{') {
        return Err(DecodeError::InvalidPayload(
            "a JSON frame must be an object",
        ));
    }
    // Only the routing key is decoded; every other field is validated and
    // skipped. A key given twice is refused, as serde's derive did.
    let fields = match json::parse::<json::Shallow<'a>>(text, limits.max_depth)? {
        json::Shallow::Object(fields) => fields,
        _ => return Err(DecodeError::MissingAction),
    };
    let mut actions = fields
        .iter()
        .filter(|(k, _)| k == "action")
        .map(|(_, v)| *v);
    let raw = actions.next().ok_or(DecodeError::MissingAction)?;
    if actions.next().is_some() {
        return Err(DecodeError::InvalidJson(
            "duplicate field `action`".to_owned(),
        ));
    }
    let quoted = raw.get();
    let action = match quoted.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        // The common case: no escapes, so the name borrows from the frame.
        Some(plain) if !plain.contains('\\') => Cow::Borrowed(plain),
        Some(_) => Cow::Owned(
            json::unquote(quoted)
                .ok()
                .flatten()
                .ok_or(DecodeError::MissingAction)?,
        ),
        None => return Err(DecodeError::MissingAction),
    };
    Ok(JsonFrame { action, json: text })
}

/// Encodes `action` and the fields of the JSON object `payload` as one frame,
/// `action` first. `payload` must be a JSON object (an `action` field inside
/// it is replaced, so the frame never carries two).
pub fn encode(action: &str, payload: &str) -> Result<String, EncodeError> {
    // Fields are kept in order and as raw text, exactly as the caller wrote them.
    let fields = json::object_fields(payload).ok_or(EncodeError::NotAnObject)?;
    let mut out = String::with_capacity(payload.len() + action.len() + 14);
    out.push_str("{\"action\":");
    json::push_string(&mut out, action);
    for (key, value) in fields.iter().filter(|(k, _)| k != "action") {
        out.push(',');
        json::push_string(&mut out, key);
        out.push(':');
        out.push_str(value.get());
    }
    out.push('}');
    Ok(out)
}

/// The `action` of the envelope [`encode_wrapped`] puts events in.
pub const WRAPPER_ACTION: &str = "event";

/// Encodes `action` and the fields of `payload` as the Frinny API gateway's
/// game-event envelope: `{"action":"event","payload":{"action":<action>,
/// ...fields}}`. Every field of `payload`, `request_id` included, lands
/// inside the envelope's `payload`; the envelope carries nothing else.
///
/// ```
/// use frinny_agent::protocol::json_frame;
/// let text = json_frame::encode_wrapped("level_up", r#"{"level":5,"request_id":"a-1"}"#).unwrap();
/// assert_eq!(text, r#"{"action":"event","payload":{"action":"level_up","level":5,"request_id":"a-1"}}"#);
/// ```
pub fn encode_wrapped(action: &str, payload: &str) -> Result<String, EncodeError> {
    let inner = encode(action, payload)?;
    let mut out = String::with_capacity(inner.len() + 32);
    out.push_str("{\"action\":");
    json::push_string(&mut out, WRAPPER_ACTION);
    out.push_str(",\"payload\":");
    out.push_str(&inner);
    out.push('}');
    Ok(out)
}

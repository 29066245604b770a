//! Errors the client reports to its caller, each with a stable code.

use crate::protocol::DecodeError;
use serde::Deserialize;
use std::fmt;

/// The stable codes carried by every error that reaches JS as `err.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A request got no reply within its timeout, or `connect()` did not
    /// join within the connect timeout.
    Timeout,
    /// The link was lost (or `disconnect()` was called) while the request
    /// was in flight.
    Disconnected,
    /// The server refused the namespace CONNECT (CONNECT_ERROR).
    ConnectRefused,
    /// The outgoing buffer was full while emits and requests could not go
    /// out (not connected, or the socket congested); or a low-priority one
    /// waiting there was given up to make room for a more urgent one.
    BufferFull,
    /// The request's AbortSignal fired.
    Aborted,
    /// The server answered the request with an `error` event.
    ServerError,
    /// The payload cannot be sent (e.g. a request payload that is not an
    /// object, so it cannot carry `request_id`).
    InvalidPayload,
    /// An option passed to the constructor is unknown or ill-typed.
    InvalidOptions,
    /// A frame from the server could not be decoded.
    ProtocolError,
    /// Reconnection gave up after its configured attempts.
    ReconnectFailed,
    /// The manager was closed for good.
    Closed,
    /// The `auth` function threw, rejected or yielded something other than
    /// an object, so a connection attempt could not send its CONNECT.
    AuthFailed,
    /// The HTTP long-polling transport got an answer it cannot use: an HTTP
    /// error status (400 `Session ID unknown`: the server forgot the
    /// session) or a body that is not `text/plain`. The link is dropped and
    /// reconnects with backoff.
    TransportError,
    /// A compressed state snapshot could not be used: its attachment did
    /// not inflate, inflated past the payload limit, or was not a JSON
    /// document. The scope asks again for a plain snapshot.
    InflateFailed,
}

impl ErrorCode {
    /// The code as JS sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Disconnected => "DISCONNECTED",
            ErrorCode::ConnectRefused => "CONNECT_REFUSED",
            ErrorCode::BufferFull => "BUFFER_FULL",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::ServerError => "SERVER_ERROR",
            ErrorCode::InvalidPayload => "INVALID_PAYLOAD",
            ErrorCode::InvalidOptions => "INVALID_OPTIONS",
            ErrorCode::ProtocolError => "PROTOCOL_ERROR",
            ErrorCode::ReconnectFailed => "RECONNECT_FAILED",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::AuthFailed => "AUTH_FAILED",
            ErrorCode::TransportError => "TRANSPORT_ERROR",
            ErrorCode::InflateFailed => "INFLATE_FAILED",
        }
    }
}

/// An error with a stable [`ErrorCode`] and a human message.
///
/// ```
/// use frinny_agent::core::{ClientError, ErrorCode};
/// let e = ClientError::new(ErrorCode::Timeout, "no reply to query within 30000 ms");
/// assert_eq!(e.code.as_str(), "TIMEOUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// What happened, for people.
    pub message: String,
    /// For protocol errors, the decoder's own code (e.g. `INVALID_JSON`).
    pub detail: Option<&'static str>,
    /// For SERVER_ERROR, the server's own `code` field when it sent one
    /// (e.g. `RATE_LIMITED`, `FORBIDDEN`), so callers can react to it.
    pub server_code: Option<String>,
}

impl ClientError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ClientError {
            code,
            message: message.into(),
            detail: None,
            server_code: None,
        }
    }

    /// A SERVER_ERROR built from the payload of a server `error` event (or
    /// CONNECT_ERROR): its text from `error`, else `message`, else the whole
    /// payload; its `code` kept as `server_code`.
    ///
    /// ```
    /// use frinny_agent::core::ClientError;
    /// let e = ClientError::from_server_payload(r#"{"code":"RATE_LIMITED","message":"slow down","retryAfterMs":500}"#);
    /// assert_eq!((e.message.as_str(), e.server_code.as_deref()), ("slow down", Some("RATE_LIMITED")));
    /// assert_eq!(ClientError::from_server_payload(r#""bare text""#).message, "bare text");
    /// ```
    pub fn from_server_payload(payload: &str) -> Self {
        use serde_json::Value;
        /// The fields of an error payload: the backend sends `error`, the old
        /// client read `message`; either may be any JSON.
        #[derive(Deserialize)]
        struct Fields {
            error: Option<Value>,
            message: Option<Value>,
            code: Option<String>,
        }
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => crate::protocol::json::text(&other),
        };
        let whole = || ClientError::new(ErrorCode::ServerError, payload.to_owned());
        match crate::protocol::json::parse_value(payload) {
            // Only an object has fields (serde's derive would also read an
            // array positionally). One it cannot read (a `code` that is not
            // a string) is shown whole.
            Ok(fields @ Value::Object(_)) => match Fields::deserialize(&fields) {
                Ok(f) => ClientError {
                    code: ErrorCode::ServerError,
                    message: f
                        .error
                        .or(f.message)
                        .map(text)
                        .unwrap_or_else(|| payload.to_owned()),
                    detail: None,
                    server_code: f.code,
                },
                Err(_) => whole(),
            },
            Ok(Value::String(s)) => ClientError::new(ErrorCode::ServerError, s),
            _ => whole(),
        }
    }
}

impl From<DecodeError> for ClientError {
    fn from(e: DecodeError) -> Self {
        ClientError {
            code: ErrorCode::ProtocolError,
            message: e.to_string(),
            detail: Some(e.code()),
            server_code: None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ClientError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_payloads_are_read_by_field() {
        let read = |payload: &str| {
            let e = ClientError::from_server_payload(payload);
            assert_eq!(e.code, ErrorCode::ServerError, "{payload}");
            (e.message, e.server_code)
        };
        let code = |c: &str| Some(c.to_owned());
        for (payload, message, server_code) in [
            (
                r#"{"code":"RATE_LIMITED","message":"slow down","retryAfterMs":500}"#,
                "slow down",
                code("RATE_LIMITED"),
            ),
            (
                r#"{"error":"boom","message":"ignored","code":"X"}"#,
                "boom",
                code("X"),
            ),
            (r#"{"error":null,"message":"used"}"#, "used", None),
            (
                r#"{"error":{"nested":[1,2]},"code":null}"#,
                r#"{"nested":[1,2]}"#,
                None,
            ),
            (r#"{"message":42}"#, "42", None),
            (r#"{"code":"ONLY"}"#, r#"{"code":"ONLY"}"#, code("ONLY")),
            (r#"{}"#, "{}", None),
            // A key given twice keeps its last value, as in any JSON object.
            (r#"{"error":"a","error":"b"}"#, "b", None),
            // Not an object, or unreadable as fields: shown whole.
            (
                r#"{"code":500,"error":"numeric code"}"#,
                r#"{"code":500,"error":"numeric code"}"#,
                None,
            ),
            (r#"["boom",null,"X"]"#, r#"["boom",null,"X"]"#, None),
            (r#""bare \"quoted\" text""#, r#"bare "quoted" text"#, None),
            ("not json", "not json", None),
            ("42", "42", None),
            ("null", "null", None),
            ("", "", None),
        ] {
            assert_eq!(
                read(payload),
                (message.to_owned(), server_code),
                "{payload}"
            );
        }
    }
}

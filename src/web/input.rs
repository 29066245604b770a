//! What the browser tells a manager: the one input type of the web shell.
//! The leaves (the socket, the timer, the network listeners, an
//! AbortSignal, the `auth` function) turn browser events into [`Input`]s
//! and hand them to a [`Feed`]; the driver makes the feed and is the only
//! one that knows what an input does. So the leaves do not know the driver,
//! and every input is followed by the driver's pump.

use crate::core::{ClientError, HttpKind, RequestKey};
use crate::protocol::socket_io;
use js_sys::JsString;
use std::rc::Rc;

/// Something that happened in the browser.
pub(crate) enum Input {
    /// Socket `generation` opened.
    SocketOpened {
        /// Which socket (events of a replaced one are ignored).
        generation: u64,
    },
    /// A text frame arrived on socket `generation`.
    SocketText {
        /// Which socket.
        generation: u64,
        /// The frame as the JS string it came as (kept to parse an event's
        /// JSON from it without copying it back out of wasm).
        js: JsString,
    },
    /// A binary frame arrived on socket `generation`.
    SocketBinary {
        /// Which socket.
        generation: u64,
        /// The frame.
        bytes: Vec<u8>,
    },
    /// Socket `generation` closed or failed.
    SocketClosed {
        /// Which socket.
        generation: u64,
        /// socket.io-client's reason (`transport close`, `transport error`).
        reason: &'static str,
    },
    /// A long-polling request of transport `generation` got a response.
    HttpDone {
        /// Which polling transport.
        generation: u64,
        /// The GET or a POST.
        kind: HttpKind,
        /// HTTP status.
        status: u16,
        /// Its `Content-Type` header.
        content_type: String,
        /// The body as text.
        body: String,
    },
    /// A long-polling request failed without a response.
    HttpFailed {
        /// Which polling transport.
        generation: u64,
        /// The GET or a POST.
        kind: HttpKind,
        /// The browser's message.
        reason: String,
    },
    /// The timer armed for the agent's next deadline fired.
    TimerFired,
    /// The browser went online or offline.
    NetworkChanged {
        /// Whether it is online now.
        online: bool,
    },
    /// A request's AbortSignal fired.
    Aborted {
        /// Which request.
        key: RequestKey,
    },
    /// A compressed snapshot was inflated (or not).
    Inflated {
        /// Which [`AgentOutput::Inflate`](crate::core::AgentOutput::Inflate).
        token: u64,
        /// The text, or the browser's reason.
        result: Result<String, String>,
    },
    /// The shared link this manager is a guest on is up.
    LinkOpened,
    /// A packet of this guest's namespace arrived on the shared link.
    LinkPacket(socket_io::Packet<'static>),
    /// The shared link (or its attempt) ended.
    LinkClosed {
        /// Why, as the link's state change said.
        reason: String,
    },
    /// The shared link met an error (every guest hears it).
    LinkError(ClientError),
    /// The `auth` function answered for a connection attempt.
    AuthAnswered {
        /// Which attempt asked.
        attempt: u64,
        /// Its answer.
        answer: Answer,
    },
}

/// What the `auth` function yielded for one connection attempt.
pub(crate) enum Answer {
    /// The auth payload as JSON text (checked to be an object by the agent).
    Json(String),
    /// Why no payload could be had.
    Failed(String),
}

/// Where a leaf hands its inputs: made by the driver, holding only a weak
/// reference to it, so a leaf never keeps a manager alive.
pub(crate) type Feed = Rc<dyn Fn(Input)>;

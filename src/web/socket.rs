//! One browser `WebSocket` (binaryType `arraybuffer`) and its four event
//! handlers. The handlers hand [`Input`]s tagged with the socket's
//! generation number to a [`Feed`], so a late event from an old socket is
//! ignored and the socket never keeps the manager alive. `onmessage` is the event hub's
//! fast path in front of the wasm handler. Dropping a [`Socket`] detaches the
//! handlers, closes the socket and releases the closures.

use super::hub::EventHub;
use super::input::{Feed, Input};
use js_sys::{ArrayBuffer, JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// An open (or opening) WebSocket owned by the driver.
pub(crate) struct Socket {
    ws: WebSocket,
    /// Sends go through the hub, whose inspector tap sees them.
    hub: EventHub,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens a WebSocket to `url`; its events go to `feed` tagged with
    /// `generation`. Fails if the browser rejects the URL.
    pub(crate) fn open(
        url: &str,
        generation: u64,
        hub: &EventHub,
        feed: Feed,
    ) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);

        let f = feed.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            f(Input::SocketOpened { generation });
        });
        let f = feed.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            if let Some(js) = data.dyn_ref::<JsString>() {
                f(Input::SocketText {
                    generation,
                    js: js.clone(),
                });
            } else if let Some(buf) = data.dyn_ref::<ArrayBuffer>() {
                f(Input::SocketBinary {
                    generation,
                    bytes: Uint8Array::new(buf).to_vec(),
                });
            }
        });
        // `error` is always followed by `close`, which carries the reason.
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            // socket.io-client's reasons; the close code is not kept.
            let reason = if e.was_clean() {
                "transport close"
            } else {
                "transport error"
            };
            feed(Input::SocketClosed { generation, reason });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let fast_then_slow = hub.onmessage(generation as f64, on_message.as_ref().unchecked_ref());
        ws.set_onmessage(Some(&fast_then_slow));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            hub: hub.clone(),
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends a text frame and returns the bytes the socket then buffers
    /// unsent (`bufferedAmount`). A send on a socket that is not open is
    /// dropped: the core only sends once the socket has opened, and a
    /// socket that is closing is about to report its close anyway.
    pub(crate) fn send_text(&self, text: &str) -> f64 {
        self.hub.send_text(&self.ws, text)
    }

    /// Sends a binary frame (see [`send_text`](Self::send_text)).
    pub(crate) fn send_binary(&self, bytes: &[u8]) -> f64 {
        self.hub.send_bytes(&self.ws, bytes)
    }

    /// The bytes the socket buffers unsent (`bufferedAmount`).
    pub(crate) fn buffered_amount(&self) -> u64 {
        u64::from(self.ws.buffered_amount())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

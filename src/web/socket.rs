//! One browser `WebSocket` (binaryType `arraybuffer`) and its four event
//! handlers. The handlers hold only a `Weak` to the driver and the socket's
//! generation number, so a late event from an old socket is ignored and the
//! socket never keeps the manager alive. `onmessage` is the event hub's
//! fast path in front of the wasm handler. Dropping a [`Socket`] detaches the
//! handlers, closes the socket and releases the closures.

use super::driver::Driver;
use super::hub::EventHub;
use js_sys::{ArrayBuffer, JsString, Uint8Array};
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// An open (or opening) WebSocket owned by the driver.
pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens a WebSocket to `url`; its events go to `driver` tagged with
    /// `generation`. Fails if the browser rejects the URL.
    pub(crate) fn open(
        url: &str,
        generation: u64,
        hub: &EventHub,
        driver: Weak<Driver>,
    ) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);

        let d = driver.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            if let Some(d) = d.upgrade() {
                d.socket_opened(generation);
            }
        });
        let d = driver.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(d) = d.upgrade() else { return };
            let data = e.data();
            if let Some(js) = data.dyn_ref::<JsString>() {
                d.socket_text(generation, String::from(js), js);
            } else if let Some(buf) = data.dyn_ref::<ArrayBuffer>() {
                d.socket_binary(generation, &Uint8Array::new(buf).to_vec());
            }
        });
        // `error` is always followed by `close`, which carries the reason.
        let d = driver;
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            if let Some(d) = d.upgrade() {
                // socket.io-client's reasons; the close code is not kept.
                let reason = if e.was_clean() {
                    "transport close"
                } else {
                    "transport error"
                };
                d.socket_closed(generation, reason);
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let fast_then_slow = hub.onmessage(generation as f64, on_message.as_ref().unchecked_ref());
        ws.set_onmessage(Some(&fast_then_slow));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends a text frame. A send on a socket that is not open is dropped:
    /// the core only sends once the socket has opened, and a socket that
    /// is closing is about to report its close anyway.
    pub(crate) fn send_text(&self, text: &str) {
        let _ = self.ws.send_with_str(text);
    }

    /// Sends a binary frame (see [`send_text`](Self::send_text)).
    pub(crate) fn send_binary(&self, bytes: &[u8]) {
        let _ = self.ws.send_with_u8_array(bytes);
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

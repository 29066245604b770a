//! The Engine.IO long-polling transport's requests, on `fetch`: the core
//! decides which GET or POST goes out and when (at most one of each in
//! flight); this leaf performs them and hands each result, status, content
//! type and body text, to a [`Feed`] as an [`Input`] tagged with the
//! transport's generation, so a late answer for a dropped transport is
//! ignored. `withCredentials` becomes `credentials: 'include'`, and
//! `extraHeaders` go on every request. Dropping a [`Polling`] aborts what
//! is in flight.

use super::input::{Feed, Input};
use crate::core::HttpKind;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestCredentials, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (a window's or a worker's).
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(input: &str, init: &RequestInit) -> js_sys::Promise;
}

/// What the options say about HTTP requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpOptions {
    /// Send cookies cross-origin (socket.io-client's `withCredentials`).
    pub with_credentials: bool,
    /// Headers added to every request (socket.io-client's `extraHeaders`).
    pub extra_headers: Vec<(String, String)>,
}

/// The polling transport of one link.
pub(crate) struct Polling {
    generation: u64,
    options: HttpOptions,
    abort: Option<AbortController>,
    feed: Feed,
}

impl Polling {
    /// A transport whose results go to `feed` tagged with `generation`.
    pub(crate) fn new(generation: u64, options: HttpOptions, feed: Feed) -> Polling {
        Polling {
            generation,
            options,
            abort: AbortController::new().ok(),
            feed,
        }
    }

    /// Sends a GET (`body` none) or a POST of `body` to `url`; its result
    /// comes back as [`Input::HttpDone`] or [`Input::HttpFailed`].
    pub(crate) fn request(&self, kind: HttpKind, url: &str, body: Option<&str>) {
        let init = RequestInit::new();
        let headers = Headers::new().ok();
        if let Some(h) = &headers {
            for (name, value) in &self.options.extra_headers {
                let _ = h.set(name, value);
            }
        }
        match body {
            Some(body) => {
                init.set_method("POST");
                init.set_body(&JsValue::from_str(body));
                if let Some(h) = &headers {
                    let _ = h.set("Content-Type", "text/plain;charset=UTF-8");
                }
            }
            None => init.set_method("GET"),
        }
        if let Some(h) = &headers {
            init.set_headers(h);
        }
        if self.options.with_credentials {
            init.set_credentials(RequestCredentials::Include);
        }
        if let Some(abort) = &self.abort {
            init.set_signal(Some(&abort.signal()));
        }
        let promise = fetch_with_init(url, &init);
        let feed = self.feed.clone();
        let generation = self.generation;
        wasm_bindgen_futures::spawn_local(async move {
            let input = match answer(promise).await {
                Ok((status, content_type, body)) => Input::HttpDone {
                    generation,
                    kind,
                    status,
                    content_type,
                    body,
                },
                Err(e) => Input::HttpFailed {
                    generation,
                    kind,
                    reason: e
                        .dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                        .unwrap_or_else(|| "fetch failed".to_owned()),
                },
            };
            feed(input);
        });
    }
}

/// Status, content type and body text of a fetch.
async fn answer(promise: js_sys::Promise) -> Result<(u16, String, String), JsValue> {
    let response: Response = JsFuture::from(promise).await?.dyn_into()?;
    let content_type = response
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let body = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), content_type, body))
}

impl Drop for Polling {
    fn drop(&mut self) {
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }
}

//! Inflating compressed state snapshots with the browser's
//! `DecompressionStream`, for the core's
//! [`AgentOutput::Inflate`](crate::core::AgentOutput::Inflate). Async: the
//! result comes back through the [`Feed`] as [`Input::Inflated`], like any
//! other browser event. The output is read chunk by chunk and abandoned as
//! soon as it passes the limit, so a small attachment that would inflate
//! to gigabytes (a zip bomb) costs at most the limit.

use super::input::{Feed, Input};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = r#"
export function frinnyCanInflate() {
  return typeof DecompressionStream === 'function' && typeof Blob === 'function'
    && typeof TextDecoder === 'function';
}
export async function frinnyInflate(bytes, format, max) {
  const reader = new Blob([bytes]).stream()
    .pipeThrough(new DecompressionStream(format)).getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      reader.cancel().catch(() => {});
      throw new Error(`it inflates past ${max} bytes (the payload limit)`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.byteLength; }
  return new TextDecoder('utf-8', { fatal: true }).decode(all);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = frinnyCanInflate)]
    fn can_inflate_js() -> bool;

    #[wasm_bindgen(js_name = frinnyInflate)]
    fn inflate_js(bytes: &js_sys::Uint8Array, format: &str, max: f64) -> js_sys::Promise;
}

/// Whether this browser has `DecompressionStream` (every current one).
pub(crate) fn available() -> bool {
    can_inflate_js()
}

/// Inflates `bytes` as `format`, at most `max_bytes` of output; the text,
/// or why there is none, goes to `feed` as [`Input::Inflated`] `token`.
pub(crate) fn start(token: u64, format: &str, bytes: &[u8], max_bytes: usize, feed: Feed) {
    // Copied out of wasm memory now: the stream reads it later.
    let data = js_sys::Uint8Array::from(bytes);
    let promise = inflate_js(&data, format, max_bytes as f64);
    wasm_bindgen_futures::spawn_local(async move {
        let result = match JsFuture::from(promise).await {
            Ok(text) => text
                .as_string()
                .ok_or_else(|| "the inflated data is not text".to_owned()),
            Err(e) => Err(e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| e.as_string())
                .unwrap_or_else(|| "DecompressionStream failed".to_owned())),
        };
        feed(Input::Inflated { token, result });
    });
}

//! The codecs running inside headless Chromium (wasm-bindgen-test), proving
//! the browser harness and that nothing in the protocol core needs a native
//! platform. Run by `cargo xtask test browser`.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::protocol::{json_frame, DecodeError, Limits};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn json_frame_round_trip_in_the_browser() {
    let text = json_frame::encode("query", r#"{"content":"hi"}"#).unwrap();
    let frame = json_frame::decode(&text, &Limits::default()).unwrap();
    assert_eq!(frame.action, "query");
    // The raw JSON hands over to the engine's own JSON.parse.
    let parsed = js_sys::JSON::parse(frame.json).unwrap();
    let content = js_sys::Reflect::get(&parsed, &"content".into()).unwrap();
    assert_eq!(content.as_string().as_deref(), Some("hi"));
}

#[wasm_bindgen_test]
fn malformed_input_is_an_error_not_a_panic_in_the_browser() {
    let deep = "[".repeat(10_000);
    assert!(matches!(
        json_frame::decode(
            &format!("{{\"action\":\"x\",\"d\":{deep}"),
            &Limits::default()
        ),
        Err(DecodeError::TooDeep { .. })
    ));
}

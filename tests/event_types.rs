//! `js/EventTypes.js` and `js/EventTypes.d.ts` are generated from the
//! catalogue (`cargo xtask gen`); this fails when the committed files are
//! out of date, so the JS constants and types never drift from the Rust.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::catalogue::generate;
use std::path::Path;

fn committed(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("js").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn event_types_js_is_up_to_date() {
    assert!(
        committed("EventTypes.js") == generate::event_types_js(),
        "js/EventTypes.js is out of date with src/catalogue.rs: run `cargo xtask gen`"
    );
}

#[test]
fn event_types_dts_is_up_to_date() {
    assert!(
        committed("EventTypes.d.ts") == generate::event_types_dts(),
        "js/EventTypes.d.ts is out of date with src/catalogue.rs: run `cargo xtask gen`"
    );
}

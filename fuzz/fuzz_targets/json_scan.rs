//! Differential: the hot-path JSON scanner and serde_json agree on what is
//! one valid JSON value, for any UTF-8 input.
#![no_main]
use frinny_agent::protocol::scan::scan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // serde_json's own recursion limit is 128; stay under it.
    let ours = scan(text, 100);
    if matches!(
        ours,
        Err(frinny_agent::protocol::DecodeError::TooDeep { .. })
    ) {
        return;
    }
    let theirs = serde_json::from_str::<serde::de::IgnoredAny>(text);
    assert_eq!(
        ours.is_ok(),
        theirs.is_ok(),
        "{text:?}: ours {ours:?}, serde {theirs:?}"
    );
});

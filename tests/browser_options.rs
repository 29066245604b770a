//! The `AgentManager` constructor's options, read from real JS values in
//! the browser: what each problem is called, what `null`, `undefined`,
//! `Infinity` and functions mean, and that query parameters keep the order
//! JS lists them in. No server is needed: nothing here connects for long.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser_support;

use browser_support::*;
use frinny_agent::web::AgentManager;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Nothing listens here; the tests that connect only look at the URL.
const URL: &str = "http://127.0.0.1:9";

/// The message of the INVALID_OPTIONS error `options` (a JS expression)
/// throws.
fn refusal(options: &str) -> String {
    let err = AgentManager::new(js_expr(options))
        .err()
        .unwrap_or_else(|| panic!("{options} was accepted"));
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS", "{options}");
    get_str(&err, "message")
}

#[wasm_bindgen_test]
fn each_problem_is_named() {
    let cases: &[(&str, &str)] = &[
        (
            "{url: 'http://x', reconectionDelay: 5}",
            "unknown option `reconectionDelay`; the options are url, path, query",
        ),
        (
            "{url: 'http://x', timeout: 'soon'}",
            "option timeout must be a number",
        ),
        (
            "{url: 'http://x', timeout: -1}",
            "option timeout must be a whole number from 0 to 2147483647, got -1",
        ),
        ("{url: 42}", "option url must be a string"),
        ("{url: () => 'http://x'}", "option url must be a string"),
        (
            "{url: 'http://x', reconnection: 'yes'}",
            "option reconnection must be a boolean",
        ),
        (
            "{url: 'http://x', query: {a: {nested: 1}}}",
            "option query must be an object of string, number or boolean values",
        ),
        (
            "{url: 'http://x', query: 'a=1'}",
            "option query must be an object of string, number or boolean values",
        ),
        (
            "{url: 'http://x', protocol: 'json', wrapEvents: ['level_up', 5]}",
            "option wrapEvents must be an array of event names",
        ),
        (
            "{url: 'http://x', delay: 1, reconnectionDelay: 2}",
            "option reconnectionDelay is given twice (as itself and by its short name)",
        ),
        (
            "{url: 'http://x', auth: 'token'}",
            "option auth must be an object or a function",
        ),
        (
            "{url: 'http://x', auth: ['token']}",
            "option auth must be an object or a function",
        ),
        (
            "{url: 'http://x', highWaterMark: -1}",
            "option highWaterMark must be a whole number from 0 to 4294967295, got -1",
        ),
        (
            "{url: 'http://x', shareAcrossTabs: 'yes'}",
            "option shareAcrossTabs must be a boolean",
        ),
        (
            "{url: 'http://x', sharedWorkerUrl: 5}",
            "option sharedWorkerUrl must be a string",
        ),
        ("{path: '/socket.io/'}", "option url is required"),
        ("{url: null}", "option url is required"),
        ("[]", "options must be an object"),
        ("'http://x'", "options must be an object"),
    ];
    for (options, message) in cases {
        let got = refusal(options);
        assert!(got.starts_with(message), "{options}: {got:?}");
    }
    // The unknown-option message lists every valid name, short ones too.
    let listed = refusal("{url: 'http://x', nope: 1}");
    for name in [
        "bufferSize",
        "highWaterMark",
        "wrapEvents",
        "auth",
        "delay",
        "delayMax",
        "attempts",
        "shareAcrossTabs",
        "sharedWorkerUrl",
    ] {
        assert!(listed.contains(name), "{listed}");
    }
}

#[wasm_bindgen_test]
fn a_cyclic_query_value_is_refused_without_being_read() {
    let message =
        refusal("(() => { const a = {}; a.self = a; return {url: 'http://x', query: {a}}; })()");
    assert!(message.starts_with("option query must be"), "{message}");
}

#[wasm_bindgen_test]
fn null_undefined_and_non_finite_numbers_mean_the_default() {
    for options in [
        "{url: 'http://x', timeout: null, path: undefined, query: null, auth: null}",
        "{url: 'http://x', timeout: Infinity, connectTimeout: NaN, attempts: Infinity}",
        // An unknown key whose value is undefined is as good as absent.
        "{url: 'http://x', notAnOption: undefined}",
        // Read by the package entry; the class itself is a local manager.
        "{url: 'http://x', shareAcrossTabs: true, sharedWorkerUrl: '/worker.js'}",
    ] {
        let agent = AgentManager::new(js_expr(options));
        assert!(agent.is_ok(), "{options}");
        agent.unwrap().close();
    }
}

#[wasm_bindgen_test]
fn auth_may_be_an_object_or_a_function() {
    for options in [
        "{url: 'http://x', auth: {token: 't'}}",
        "{url: 'http://x', auth: (cb) => cb({token: 't'})}",
        "{url: 'http://x', auth: async () => ({token: 't'})}",
    ] {
        let agent = AgentManager::new(js_expr(options));
        assert!(agent.is_ok(), "{options}");
        agent.unwrap().close();
    }
}

#[wasm_bindgen_test]
fn query_parameters_keep_their_order() {
    // Record the URL the manager opens instead of opening it.
    js_expr(
        "(() => { globalThis.__frinnyRealWebSocket = globalThis.WebSocket; \
         globalThis.WebSocket = class extends globalThis.__frinnyRealWebSocket { \
           constructor(url, p) { globalThis.__frinnyOpened = url; super('ws://127.0.0.1:9', p); } }; })()",
    );
    let agent = AgentManager::new(js_expr(&format!(
        "{{url: '{URL}', query: {{zeta: 'z', alpha: 1, mid: true, ratio: 1.5, big: 1e21, tiny: 1e-7}}, reconnection: false}}"
    )))
    .unwrap();
    let _connecting = agent.connect();
    let opened = js_expr("globalThis.__frinnyOpened")
        .as_string()
        .unwrap_or_default();
    js_expr("(() => { globalThis.WebSocket = globalThis.__frinnyRealWebSocket; })()");
    agent.close();
    // Numbers as JS writes them (`String(n)`), as socket.io-client sends them.
    assert!(
        opened.contains("zeta=z&alpha=1&mid=true&ratio=1.5&big=1e%2B21&tiny=1e-7"),
        "{opened}"
    );
}

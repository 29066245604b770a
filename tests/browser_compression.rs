//! Compressed state snapshots in the browser (Chromium and Firefox): a
//! 200 KiB world state from the reference server (`frinny-server --dev` on
//! 127.0.0.1:28477, and with `--parser msgpack` on 28480; compression on by
//! default above 16 KiB) arrives deflated, is inflated by
//! `DecompressionStream`, and equals the server's document; a compressed
//! attachment that does not inflate, or inflates past the payload limit
//! (the Node socket.io server on 127.0.0.1:28471 sends both on purpose), is
//! `INFLATE_FAILED` through `onError`, and the scope recovers with a plain
//! snapshot.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser_support;

use browser_support::*;
use js_sys::Function;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = ports::reference::HTTP;
const ADMIN: &str = "browser-tests-admin";
const NODE: &str = ports::node_sio::HTTP;
const REFERENCE_MSGPACK: &str = ports::reference_msgpack::HTTP;

/// A Foundry-like world part: `n` actors from `from`, each with items.
fn actors(from: usize, n: usize) -> String {
    let actors: Vec<String> = (from..from + n)
        .map(|i| {
            let items: Vec<String> = (0..5)
                .map(|k| {
                    format!(
                        r#"{{"_id":"it{i}x{k}","name":"Item {k} of {i}","type":"weapon","system":{{"damage":{{"dice":1,"die":"d{die}"}},"traits":["agile","finesse"],"price":{{"gp":{k}}}}}}}"#,
                        die = 4 + 2 * (k % 4)
                    )
                })
                .collect();
            format!(
                r#""actor{i:04}":{{"name":"Goblin {i}","type":"npc","img":"systems/pf2e/icons/goblin.webp","system":{{"attributes":{{"hp":{{"value":{hp},"max":22}},"ac":{{"value":16}}}},"abilities":{{"str":2,"dex":3,"con":1}}}},"items":[{}],"flags":{{"frinny":{{"notes":"seen near the ruins on day {i}"}}}}}}"#,
                items.join(","),
                hp = 10 + i % 12
            )
        })
        .collect();
    format!("{{{}}}", actors.join(","))
}

/// A GM of `world` on `server`, with `extra` options.
async fn gm(server: &str, world: &str, extra: &str) -> frinny_agent::web::AgentManager {
    let minted = fetch_json(
        "GET",
        &format!("{server}/dev/token?userId=gm&role=gm&world={world}"),
    )
    .await;
    let token = get_str(&minted, "token");
    connected_at(server, &format!(r#"{extra}"auth":{{"token":"{token}"}}"#)).await
}

/// JSON text with object keys sorted, to compare documents whatever order
/// their keys came in.
fn canonical(v: &JsValue) -> String {
    let f = Function::new_with_args(
        "v",
        "const s = (x) => Array.isArray(x) ? x.map(s) : (x && typeof x === 'object') \
         ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, s(x[k])])) : x; \
         return JSON.stringify(s(v));",
    );
    f.call1(&JsValue::UNDEFINED, v)
        .unwrap()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_200_kib_world_state_arrives_deflated_and_equals_the_servers() {
    world_arrives_deflated(SERVER, "").await;
}

#[wasm_bindgen_test]
async fn with_the_msgpack_parser_too() {
    world_arrives_deflated(REFERENCE_MSGPACK, r#""parser":"msgpack","#).await;
}

/// Writes a 200 KiB world on `server`, syncs it with a client made with
/// `extra` options, and checks what arrived.
async fn world_arrives_deflated(server: &str, extra: &str) {
    let world = unique("z");
    // Written in parts: one HTTP body may be at most 64 KiB.
    let mut expected = Vec::new();
    for part in 0..5 {
        let patch = format!(
            r#"{{"actors{part}":{},"scene":"Ruins"}}"#,
            actors(part * 43, 43)
        );
        expected.push(patch.clone());
        let body = format!(r#"{{"scope":"world","world":"{world}","patch":{patch}}}"#);
        let r = post_json(&format!("{server}/state/update"), ADMIN, &body).await;
        assert_eq!(get(&r, "status").as_f64(), Some(200.0), "{}", stringify(&r));
    }
    let merged = js_expr(&format!("Object.assign({{}}, {})", expected.join(", ")));
    let size = canonical(&merged).len();
    assert!(size > 200 * 1024, "the world is {size} bytes");

    let a = gm(server, &world, extra).await;
    let errors = Recorder::new();
    let _off = a.on_error(errors.f()).unwrap();
    let before = get(&a.metrics().unwrap(), "bytesIn").as_f64().unwrap();
    let doc = JsFuture::from(a.sync_state("world")).await.unwrap();
    let received = get(&a.metrics().unwrap(), "bytesIn").as_f64().unwrap() - before;
    assert_eq!(canonical(&doc), canonical(&merged));
    assert_eq!(
        canonical(&a.get_state("world").unwrap()),
        canonical(&merged)
    );
    assert!(
        received < (size / 4) as f64,
        "{received} bytes received for a {size}-byte document: not compressed"
    );
    assert_eq!(errors.len(), 0, "{:?}", errors.calls());
    // Patches keep flowing after the compressed snapshot.
    let body = format!(r#"{{"scope":"world","world":"{world}","patch":{{"round":1}}}}"#);
    post_json(&format!("{server}/state/update"), ADMIN, &body).await;
    assert!(
        wait_until(3_000, || get(&a.get_state("world").unwrap(), "round")
            .as_f64()
            == Some(1.0))
        .await
    );
    a.close();
}

#[wasm_bindgen_test]
async fn a_compressed_attachment_that_does_not_inflate_is_reported_and_the_scope_recovers() {
    let a = connected_at(NODE, "").await;
    let errors = Recorder::new();
    let _off = a.on_error(errors.f()).unwrap();
    for (scope, why) in [("broken", "not zlib"), ("bomb", "past the payload limit")] {
        let doc = JsFuture::from(a.sync_state(scope)).await.unwrap();
        assert_eq!(get_str(&doc, "scope"), scope, "{}", stringify(&doc));
        assert_eq!(get(&doc, "plain").as_bool(), Some(true), "{why}");
    }
    assert_eq!(errors.len(), 2, "{:?}", errors.calls());
    for i in 0..2 {
        let e = errors.arg(i, 0);
        assert_eq!(
            get_str(&e, "code"),
            "INFLATE_FAILED",
            "{:?}",
            errors.calls()
        );
    }
    assert!(
        get_str(&errors.arg(1, 0), "message").contains("payload limit"),
        "{:?}",
        errors.calls()
    );
    let counted = get(&get(&a.metrics().unwrap(), "errors"), "INFLATE_FAILED");
    assert_eq!(counted.as_f64(), Some(2.0));
    assert_eq!(a.state(), "connected", "the link was never dropped");
    a.close();
}

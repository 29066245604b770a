//! State synchronisation in headless Chromium against the reference server
//! (`frinny-server --dev` on 127.0.0.1:28477, started by `cargo xtask test
//! browser`): two pages editing one scope converge on the server's document,
//! a gap the server forces is healed by a resync, and a conflict goes
//! through `onConflict` and the re-submitted patch lands. Each test uses its
//! own world, so scopes never collide between tests.
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
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = ports::reference::HTTP;
const ADMIN: &str = "browser-tests-admin";

/// A manager joined to the reference server as `user` with `role` in `world`.
async fn agent(user: &str, role: &str, world: &str) -> AgentManager {
    let minted = fetch_json(
        "GET",
        &format!("{SERVER}/dev/token?userId={user}&role={role}&world={world}"),
    )
    .await;
    let token = get_str(&minted, "token");
    assert!(!token.is_empty(), "no token: {}", stringify(&minted));
    connected_at(SERVER, &format!(r#""auth":{{"token":"{token}"}}"#)).await
}

/// `POST /state/update` as the admin, optionally without pushing the patch
/// to subscribers (to open a gap on purpose).
async fn server_update(world: &str, patch: &str, push: bool) -> JsValue {
    let body = format!(r#"{{"scope":"world","world":"{world}","patch":{patch},"push":{push}}}"#);
    let r = post_json(&format!("{SERVER}/state/update"), ADMIN, &body).await;
    assert_eq!(get(&r, "status").as_f64(), Some(200.0), "{}", stringify(&r));
    r
}

fn state_json(agent: &AgentManager, scope: &str) -> String {
    stringify(&agent.get_state(scope).unwrap())
}

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

#[wasm_bindgen_test]
async fn two_pages_edit_one_scope_and_both_end_equal_to_the_server() {
    let world = unique("w");
    let a = agent("gm-a", "gm", &world).await;
    let b = agent("gm-b", "gm", &world).await;
    settle(a.sync_state("world")).await.unwrap();
    settle(b.sync_state("world")).await.unwrap();
    // On a conflict each re-submits its own keys the server lacks.
    let keep_mine = |prefix: &str| {
        Function::new_with_args(
            "local, server",
            &format!(
                "const p = {{}}; for (const k of Object.keys(local || {{}})) \
                 if (k.startsWith('{prefix}') && !(k in (server || {{}}))) p[k] = local[k]; \
                 return Object.keys(p).length ? p : undefined;"
            ),
        )
    };
    let _ra = a.on_conflict("world", keep_mine("a")).unwrap();
    let _rb = b.on_conflict("world", keep_mine("b")).unwrap();

    let mut pending = Vec::new();
    for i in 0..10 {
        let optimistic = js(r#"{"optimistic":true}"#);
        pending.push((
            format!("a{i}"),
            i,
            a.update_state(
                "world",
                js(&format!(r#"{{"a{i}":{i}}}"#)),
                Some(optimistic.clone()),
            ),
        ));
        pending.push((
            format!("b{i}"),
            i,
            b.update_state("world", js(&format!(r#"{{"b{i}":{i}}}"#)), Some(optimistic)),
        ));
    }
    // Every update settles: acknowledged, or (after losing eight conflict
    // rounds in a row to the other page's stream of updates) CONFLICT with
    // the server's document kept. Nothing else.
    let mut acked = Vec::new();
    for (key, value, p) in pending {
        match settle(p).await {
            Ok(ack) => {
                assert!(get(&ack, "version").as_f64().is_some());
                acked.push((key, value));
            }
            Err(e) => assert_eq!(get_str(&e, "code"), "CONFLICT", "{}", stringify(&e)),
        }
    }
    assert!(
        acked.iter().any(|(k, _)| k.starts_with('a'))
            && acked.iter().any(|(k, _)| k.starts_with('b')),
        "{acked:?}"
    );
    // Both pages and a fresh one agree on the server's document, and no
    // acknowledged update is lost from it.
    assert!(wait_until(3_000, || state_json(&a, "world") == state_json(&b, "world")).await);
    let c = agent("gm-c", "gm", &world).await;
    let fresh = settle(c.sync_state("world")).await.unwrap();
    assert_eq!(stringify(&fresh), state_json(&a, "world"));
    for (key, value) in &acked {
        assert_eq!(
            get(&fresh, key).as_f64(),
            Some(f64::from(*value)),
            "{key} was acknowledged but is missing"
        );
    }
    for agent in [a, b, c] {
        agent.close();
    }
}

#[wasm_bindgen_test]
async fn a_gap_forced_by_the_server_is_healed_by_a_resync() {
    let world = unique("w");
    let a = agent("gm", "gm", &world).await;
    settle(a.sync_state("world")).await.unwrap();
    let changes = Recorder::new();
    let _off = a.subscribe_state("world", changes.f()).unwrap();
    // Two patches the client never hears of, then one it does: its base is
    // ahead of the client's version.
    server_update(&world, r#"{"g1":1}"#, false).await;
    server_update(&world, r#"{"g2":2}"#, false).await;
    server_update(&world, r#"{"g3":3}"#, true).await;
    assert!(
        wait_until(3_000, || state_json(&a, "world").contains("g3")).await,
        "{:?}",
        changes.calls()
    );
    let doc = a.get_state("world").unwrap();
    for (k, v) in [("g1", 1.0), ("g2", 2.0), ("g3", 3.0)] {
        assert_eq!(get(&doc, k).as_f64(), Some(v), "{}", stringify(&doc));
    }
    let b = agent("gm2", "gm", &world).await;
    assert_eq!(
        stringify(&settle(b.sync_state("world")).await.unwrap()),
        stringify(&doc)
    );
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn a_conflict_calls_on_conflict_and_the_resubmitted_patch_lands() {
    let world = unique("w");
    let a = agent("gm", "gm", &world).await;
    settle(a.sync_state("world")).await.unwrap();
    // The server moves on without telling this client.
    server_update(&world, r#"{"weather":"rain"}"#, false).await;
    let seen = Recorder::new();
    let resolver = Function::new_with_args(
        "record",
        "return (local, server) => { record(local, server); return { torch: 'lit' }; }",
    )
    .call1(&JsValue::UNDEFINED, &seen.f())
    .unwrap();
    let _off = a.on_conflict("world", resolver.into()).unwrap();
    let p = a.update_state(
        "world",
        js(r#"{"torch":"lit"}"#),
        Some(js(r#"{"optimistic":true}"#)),
    );
    // Optimistic: visible before the server answers.
    assert!(state_json(&a, "world").contains("lit"));
    let ack = settle(p).await.unwrap();
    assert!(get(&ack, "version").as_f64().is_some());
    assert_eq!(seen.len(), 1, "onConflict called once");
    let server_doc = seen.arg(0, 1);
    assert_eq!(get_str(&server_doc, "weather"), "rain");
    let doc = a.get_state("world").unwrap();
    assert_eq!(get_str(&doc, "weather"), "rain");
    assert_eq!(get_str(&doc, "torch"), "lit");
    a.close();
}

#[wasm_bindgen_test]
async fn without_a_resolver_the_server_wins() {
    let world = unique("w");
    let a = agent("gm", "gm", &world).await;
    settle(a.sync_state("world")).await.unwrap();
    server_update(&world, r#"{"door":"open"}"#, false).await;
    let changes = Recorder::new();
    let _off = a.subscribe_state("world", changes.f()).unwrap();
    let err = rejection(a.update_state(
        "world",
        js(r#"{"door":"shut"}"#),
        Some(js(r#"{"optimistic":true}"#)),
    ))
    .await;
    assert_eq!(get_str(&err, "code"), "CONFLICT");
    assert_eq!(get_str(&a.get_state("world").unwrap(), "door"), "open");
    assert!(
        changes
            .calls()
            .iter()
            .any(|c| c.contains(r#""type":"conflict""#)),
        "{:?}",
        changes.calls()
    );
    a.close();
}

#[wasm_bindgen_test]
async fn players_read_the_world_but_write_only_their_own_scope() {
    let world = unique("w");
    let p = agent("pat", "player", &world).await;
    settle(p.sync_state("world")).await.unwrap();
    let err = rejection(p.update_state("world", js(r#"{"x":1}"#), None)).await;
    assert_eq!(get_str(&err, "code"), "FORBIDDEN");
    settle(p.sync_state("user:pat")).await.unwrap();
    let ack = settle(p.update_state("user:pat", js(r#"{"hp":12}"#), None))
        .await
        .unwrap();
    assert!(get(&ack, "version").as_f64().is_some());
    assert_eq!(
        get(&p.get_state("user:pat").unwrap(), "hp").as_f64(),
        Some(12.0)
    );
    let err = rejection(p.sync_state("user:someone-else")).await;
    assert_eq!(get_str(&err, "code"), "FORBIDDEN");
    p.close();
}

#[wasm_bindgen_test]
async fn a_patch_is_read_as_json_stringify_has_it() {
    let world = unique("w");
    let a = agent("gm", "gm", &world).await;
    settle(a.sync_state("world")).await.unwrap();
    settle(a.update_state("world", js(r#"{"keep":1,"gone":2}"#), None))
        .await
        .unwrap();
    // An `undefined` member is left out, as JSON.stringify leaves it: it
    // must not become `null`, which a merge patch reads as "delete".
    let patch = js_expr("({ keep: undefined, gone: null, at: new Date(0) })");
    settle(a.update_state("world", patch, None)).await.unwrap();
    let doc = a.get_state("world").unwrap();
    assert_eq!(get(&doc, "keep").as_f64(), Some(1.0), "{}", stringify(&doc));
    assert!(get(&doc, "gone").is_undefined(), "{}", stringify(&doc));
    assert_eq!(get_str(&doc, "at"), "1970-01-01T00:00:00.000Z");
    a.close();
}

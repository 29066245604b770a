//! Batching in the browser against the reference server with
//! `--batch-window-ms` (127.0.0.1:28481, started by `cargo xtask test
//! browser`): a GM's emits of one tick leave as one `batch` envelope, the
//! server relays each entry, and a player's subscribers see every event of
//! the burst, in order, from a few envelopes; state patches that arrive in
//! envelopes reach the synced scope. Each test uses its own world.
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
use js_sys::Function;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = ports::batching::HTTP;
const ADMIN: &str = "browser-tests-admin";

async fn agent(user: &str, role: &str, world: &str) -> AgentManager {
    let minted = fetch_json(
        "GET",
        &format!("{SERVER}/dev/token?userId={user}&role={role}&world={world}"),
    )
    .await;
    let token = get_str(&minted, "token");
    assert!(!token.is_empty(), "no token: {}", stringify(&minted));
    let agent = manager_at(SERVER, &format!(r#""auth":{{"token":"{token}"}}"#));
    let greeting = Recorder::new();
    let _once = agent.once("connection_established", greeting.f()).unwrap();
    JsFuture::from(agent.connect()).await.unwrap();
    // `connect()` resolves on the join; the offer comes with the greeting
    // just after, and emits made before it go out alone.
    assert!(
        wait_until(5_000, || greeting.len() == 1).await,
        "no greeting"
    );
    let offer = get(&greeting.arg(0, 0), "batch");
    assert_eq!(
        get(&offer, "windowMs").as_f64(),
        Some(20.0),
        "{}",
        stringify(&offer)
    );
    agent
}

/// An inspector that keeps the start of every frame in `log.frames`, as
/// `in:` or `out:` and the frame's first 12 characters.
fn frame_log() -> (JsValue, JsValue) {
    let log = js_expr("{ frames: [] }");
    let listener = Function::new_with_args(
        "log",
        "return (r) => { if (r.type === 'frame' && typeof r.data === 'string') \
         log.frames.push(r.direction + ':' + r.data.slice(0, 12)); }",
    )
    .call1(&JsValue::UNDEFINED, &log)
    .unwrap();
    (log, listener)
}

fn frames(log: &JsValue) -> Vec<String> {
    let list: js_sys::Array = get(log, "frames").into();
    list.iter().map(|v| v.as_string().unwrap()).collect()
}

#[wasm_bindgen_test]
async fn subscribers_see_every_event_of_a_burst_in_order_from_a_few_envelopes() {
    let world = unique("w");
    let player = agent("p", "player", &world).await;
    let gm = agent("g", "gm", &world).await;
    let (player_log, listener) = frame_log();
    let _off = player.inspect(listener).unwrap();
    let (gm_log, listener) = frame_log();
    let _off_gm = gm.inspect(listener).unwrap();
    let seen = Recorder::new();
    let _sub = player.subscribe("notification", seen.f()).unwrap();
    let everything = Recorder::new();
    let _all = player.subscribe_all(everything.f()).unwrap();
    let before = player.metrics().unwrap();

    const N: usize = 150;
    for i in 0..N {
        let payload = js(&format!(
            r#"{{"event":"notification","payload":{{"message":"m{i}"}}}}"#
        ));
        gm.emit("broadcast", Some(payload), None).unwrap();
    }
    assert!(
        wait_until(10_000, || seen.len() == N).await,
        "{} of {N} notifications",
        seen.len()
    );
    sleep(100).await;
    let out = frames(&gm_log);
    assert!(
        out.iter().any(|f| f.starts_with(r#"out:42["batch""#)),
        "the GM's emits of one tick left as an envelope: {out:?}"
    );
    let messages: Vec<String> = (0..N)
        .map(|i| get_str(&seen.arg(i, 0), "message"))
        .collect();
    let expected: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    assert_eq!(messages, expected, "every event, once, in order");
    let names: Vec<String> = everything
        .calls()
        .into_iter()
        .filter(|c| !c.contains("\"batch\""))
        .collect();
    assert_eq!(
        names.len(),
        N,
        "subscribeAll sees the entries, never the envelope"
    );

    let incoming: Vec<String> = frames(&player_log)
        .into_iter()
        .filter(|f| f.starts_with("in:42"))
        .collect();
    assert!(
        incoming.iter().all(|f| f.starts_with(r#"in:42["batch""#)),
        "{incoming:?}"
    );
    assert!(
        incoming.len() < N / 10,
        "{} frames for {N} events",
        incoming.len()
    );
    let after = player.metrics().unwrap();
    let count = |m: &JsValue, k: &str| get(m, k).as_f64().unwrap();
    assert_eq!(
        count(&after, "eventsDispatched") - count(&before, "eventsDispatched"),
        N as f64
    );
    assert!(count(&after, "framesIn") - count(&before, "framesIn") < (N / 10) as f64);
    assert_eq!(stringify(&get(&after, "errors")), "{}");
    player.close();
    gm.close();
}

#[wasm_bindgen_test]
async fn state_patches_in_envelopes_reach_the_synced_scope_in_order() {
    let world = unique("w");
    let player = agent("p", "player", &world).await;
    JsFuture::from(player.sync_state("world")).await.unwrap();
    let changes = Recorder::new();
    let _sub = player.subscribe_state("world", changes.f()).unwrap();
    let (log, listener) = frame_log();
    let _off = player.inspect(listener).unwrap();
    // Posted back to back: several land within one window.
    for i in 0..12 {
        let body = format!(r#"{{"scope":"world","world":"{world}","patch":{{"k{i}":{i}}}}}"#);
        let r = post_json(&format!("{SERVER}/state/update"), ADMIN, &body).await;
        assert_eq!(get(&r, "status").as_f64(), Some(200.0), "{}", stringify(&r));
    }
    assert!(
        wait_until(5_000, || {
            player
                .get_state("world")
                .ok()
                .map(|d| stringify(&d).matches("\"k").count() == 12)
                .unwrap_or(false)
        })
        .await,
        "{}",
        stringify(&player.get_state("world").unwrap())
    );
    let versions: Vec<f64> = (0..changes.len())
        .filter_map(|i| get(&changes.arg(i, 1), "version").as_f64())
        .collect();
    let mut sorted = versions.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(versions, sorted, "patches applied in version order");
    assert!(
        frames(&log)
            .iter()
            .any(|f| f.starts_with(r#"in:42["batch""#)),
        "{:?}",
        frames(&log)
    );
    let m = player.metrics().unwrap();
    assert_eq!(stringify(&get(&m, "errors")), "{}");
    assert_eq!(get(&get(&m, "stateSync"), "gaps").as_f64(), Some(0.0));
    player.close();
}

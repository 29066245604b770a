//! `parser: 'msgpack'` in the browser (Chromium and Firefox), against the
//! Node `socket.io` 4.8 server with npm socket.io-msgpack-parser 3.x
//! (tests/servers/node_sio_msgpack.mjs on 127.0.0.1:28479) and against the
//! reference server with `--parser msgpack` (127.0.0.1:28480), both started
//! by `cargo xtask test browser`:
//!
//! - over WebSocket: events both ways, a request with an ack, a Frinny reply
//!   event, binary both ways (inline in the msgpack frames), every Socket.IO
//!   frame binary on the inspector tap, and a reconnect after the server
//!   drops the link;
//! - a malformed msgpack packet from the server: onError gets a
//!   PROTOCOL_ERROR with the decoder's code, it is counted, and the link
//!   comes back by itself;
//! - over long-polling (`b<base64>` in the payloads) and across the upgrade;
//! - the reference server: a token join, a request and its reply, state sync;
//! - the option's refusals.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser_support;

use browser_support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NODE: &str = ports::node_sio_msgpack::HTTP;
const REFERENCE: &str = ports::reference_msgpack::HTTP;

#[wasm_bindgen_test]
async fn node_msgpack_events_requests_binary_and_reconnect_over_websocket() {
    let agent = connected_at(
        NODE,
        r#""parser":"msgpack","transports":["websocket"],"reconnectionDelay":200,"randomizationFactor":0"#,
    )
    .await;
    assert_eq!(agent.transport().as_deref(), Some("websocket"));
    // Every frame as the inspector sees it: text (Engine.IO) or binary.
    let frames = Recorder::new();
    let _off = agent.inspect(frames.f().into()).unwrap();

    // A request answered by an ack.
    let reply =
        JsFuture::from(agent.request("echo", Some(js(r#"{"hello":"msgpack","n":1.5}"#)), None))
            .await
            .unwrap();
    assert_eq!(get_str(&reply, "hello"), "msgpack");
    assert_eq!(get(&reply, "n").as_f64(), Some(1.5));

    // A Frinny request answered by a reply event with its request_id.
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"hi"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "content"), "reply to hi");

    // Server events.
    let ticks = Recorder::new();
    agent.subscribe("tick", ticks.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[{"n":1},"two"],"count":3}"#)),
            None,
        )
        .unwrap();
    assert!(
        wait_until(5000, || ticks.len() == 3).await,
        "{:?}",
        ticks.calls()
    );
    assert_eq!(ticks.calls()[0], r#"[{"n":1},"two"]"#);

    // Binary to the server and back.
    let reply = JsFuture::from(agent.request(
        "binary_echo",
        Some(js_expr(
            "({ data: new Uint8Array([42, 43, 44]), nested: [1, { b: new Uint8Array([7]).buffer }] })",
        )),
        None,
    ))
    .await
    .unwrap();
    let seen = js_sys::Array::from(&get(&reply, "seen"));
    assert_eq!(seen.length(), 2, "{}", stringify(&seen));
    assert_eq!(get_str(&seen.get(0), "hex"), "2a2b2c");
    assert_eq!(get_str(&seen.get(1), "hex"), "07");
    let echo = get(&reply, "echo");
    assert_eq!(buffer_bytes(&get(&echo, "data")), [42, 43, 44]);

    // Binary from the server in events and in a reply event.
    server_sends_binary(&agent).await;

    // Socket.IO packets went out and came in as binary frames only.
    let records: Vec<wasm_bindgen::JsValue> = (0..frames.len()).map(|i| frames.arg(i, 0)).collect();
    let out_binary = records
        .iter()
        .filter(|r| get_str(r, "direction") == "out")
        .filter(|r| get(r, "data").is_instance_of::<js_sys::ArrayBuffer>())
        .count();
    assert!(out_binary >= 6, "{out_binary} binary frames out");
    assert!(
        records
            .iter()
            .filter(|r| get_str(r, "type") == "frame")
            .filter_map(|r| get(r, "data").as_string())
            .all(|text| !text.starts_with('4')),
        "a Socket.IO text frame on a msgpack link"
    );
    let m = agent.metrics().unwrap();
    assert!(get(&m, "bytesOut").as_f64().unwrap() > 0.0);
    assert!(get(&m, "framesIn").as_f64().unwrap() >= 8.0);

    // The server drops the link: the client reconnects, still in msgpack.
    agent.emit("drop_link", None, None).unwrap();
    assert!(wait_until(3000, || agent.state() == "reconnecting").await);
    assert!(wait_until(10_000, || agent.state() == "connected").await);
    let key = unique("msgpack");
    let payload = js(&format!(r#"{{"key":"{key}"}}"#));
    agent.emit("record", Some(payload.clone()), None).unwrap();
    let count = JsFuture::from(agent.request("count", Some(payload), None))
        .await
        .unwrap();
    assert_eq!(get(&count, "count").as_f64(), Some(1.0));
    agent.close();
}

#[wasm_bindgen_test]
async fn a_malformed_msgpack_packet_is_a_counted_protocol_error_and_the_link_recovers() {
    let agent = connected_at(
        NODE,
        r#""parser":"msgpack","reconnectionDelay":200,"randomizationFactor":0"#,
    )
    .await;
    let errors = Recorder::new();
    let _off = agent.on_error(errors.f()).unwrap();
    let states = Recorder::new();
    let _off_states = agent.on_state_change(states.f()).unwrap();
    // An array where a packet map belongs: the wrong shape.
    agent
        .emit("bad_frame", Some(js(r#"{"bytes":[146,2,161,47]}"#)), None)
        .unwrap();
    assert!(
        wait_until(3000, || errors.len() == 1).await,
        "{:?}",
        errors.calls()
    );
    let e = errors.arg(0, 0);
    assert!(e.is_instance_of::<js_sys::Error>());
    assert_eq!(get_str(&e, "code"), "PROTOCOL_ERROR");
    assert_eq!(get_str(&e, "detail"), "INVALID_PACKET");
    let m = agent.metrics().unwrap();
    assert_eq!(
        get(&get(&m, "errors"), "INVALID_PACKET").as_f64(),
        Some(1.0)
    );
    assert!(wait_until(10_000, || agent.state() == "connected").await);
    assert!(
        states.calls().iter().any(|c| c.contains("parse error")),
        "{:?}",
        states.calls()
    );
    // Truncated: INVALID_MSGPACK, and again it comes back.
    agent
        .emit("bad_frame", Some(js(r#"{"bytes":[131,164,116]}"#)), None)
        .unwrap();
    assert!(
        wait_until(3000, || errors.len() == 2).await,
        "{:?}",
        errors.calls()
    );
    assert_eq!(get_str(&errors.arg(1, 0), "detail"), "INVALID_MSGPACK");
    assert!(wait_until(10_000, || agent.state() == "connected").await);
    let reply = JsFuture::from(agent.request("echo", Some(js(r#"{"after":true}"#)), None))
        .await
        .unwrap();
    assert_eq!(get(&reply, "after").as_bool(), Some(true));
    assert_eq!(
        get(&agent.metrics().unwrap(), "reconnects").as_f64(),
        Some(2.0)
    );
    agent.close();
}

#[wasm_bindgen_test]
async fn msgpack_over_polling_and_across_the_upgrade() {
    let agent = connected_at(NODE, r#""parser":"msgpack","transports":["polling"]"#).await;
    assert_eq!(agent.transport().as_deref(), Some("polling"));
    let reply = JsFuture::from(agent.request(
        "binary_echo",
        Some(js_expr(
            "({ tag: 'polling', data: new Uint8Array([1, 2, 250]) })",
        )),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(get_str(&get(&reply, "echo"), "tag"), "polling");
    assert_eq!(
        buffer_bytes(&get(&get(&reply, "echo"), "data")),
        [1, 2, 250]
    );
    let ticks = Recorder::new();
    agent.subscribe("tick", ticks.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1],"count":5}"#)),
            None,
        )
        .unwrap();
    assert!(
        wait_until(5000, || ticks.len() == 5).await,
        "{:?}",
        ticks.calls()
    );
    agent.close();

    let agent = manager_at(
        NODE,
        r#""parser":"msgpack","transports":["polling","websocket"]"#,
    );
    let key = unique("msgpack-upgrade");
    let connecting = agent.connect();
    for n in 0..30 {
        agent
            .emit(
                "sequence",
                Some(js(&format!(r#"{{"key":"{key}","n":{n}}}"#))),
                None,
            )
            .unwrap();
        if n % 5 == 4 {
            sleep(20).await;
        }
    }
    JsFuture::from(connecting).await.unwrap();
    assert!(
        wait_until(10_000, || agent.transport().as_deref() == Some("websocket")).await,
        "{:?}",
        agent.transport()
    );
    let reply = JsFuture::from(agent.request(
        "sequence_of",
        Some(js(&format!(r#"{{"key":"{key}"}}"#))),
        None,
    ))
    .await
    .unwrap();
    let seq: Vec<f64> = js_sys::Array::from(&get(&reply, "seq"))
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    assert_eq!(seq, (0..30).map(f64::from).collect::<Vec<_>>());
    agent.close();
}

#[wasm_bindgen_test]
async fn the_reference_server_with_parser_msgpack() {
    let world = unique("w");
    let minted = fetch_json(
        "GET",
        &format!("{REFERENCE}/dev/token?userId=u1&role=gm&world={world}"),
    )
    .await;
    let token = get_str(&minted, "token");
    let agent = connected_at(
        REFERENCE,
        &format!(r#""parser":"msgpack","auth":{{"token":"{token}"}}"#),
    )
    .await;
    let reply = JsFuture::from(agent.send_query(js(
        r#"{"content":"What does Shield Block do?","conversation_history":[],"is_public_chat":false}"#,
    )))
    .await
    .unwrap();
    assert!(
        get(&reply, "content").as_string().is_some(),
        "{}",
        stringify(&reply)
    );

    JsFuture::from(agent.sync_state("world")).await.unwrap();
    let ack = JsFuture::from(agent.update_state("world", js(r#"{"round":2,"hp":-1.5}"#), None))
        .await
        .unwrap();
    assert_eq!(get(&ack, "version").as_f64(), Some(1.0));
    let doc = agent.get_state("world").unwrap();
    assert_eq!(get(&doc, "hp").as_f64(), Some(-1.5));

    // A typed server error, in msgpack as in text.
    let err =
        rejection(agent.request("query", Some(js(r#"{"is_public_chat":false}"#)), None)).await;
    assert_eq!(get_str(&err, "code"), "SERVER_ERROR", "{}", stringify(&err));
    assert_eq!(get_str(&err, "serverCode"), "INVALID_PAYLOAD");
    agent.close();
}

#[wasm_bindgen_test]
fn the_parser_option_is_checked() {
    let new = |options: &str| frinny_agent::web::AgentManager::new(js(options));
    assert!(new(r#"{"url":"ws://127.0.0.1:1","parser":"msgpack"}"#).is_ok());
    assert!(new(r#"{"url":"ws://127.0.0.1:1","parser":"json"}"#).is_ok());
    for bad in [
        r#"{"url":"ws://127.0.0.1:1","parser":"msgpack","protocol":"json"}"#,
        r#"{"url":"ws://127.0.0.1:1","parser":"cbor"}"#,
        r#"{"url":"ws://127.0.0.1:1","parser":1}"#,
    ] {
        let err = new(bad).err().unwrap();
        assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS", "{bad}");
    }
}

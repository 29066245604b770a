//! The transports of the sans-IO client, driven natively with simulated
//! time: the long-polling loop (one GET and one POST at most, writes
//! batched while a POST is out), the fallback from a WebSocket that cannot
//! open, the upgrade to WebSocket (probe, pause, drain, switch; nothing
//! lost or duplicated; a failed probe stays on polling), and bad input on
//! the polling path (truncated payload, bad base64, wrong content type,
//! HTTP error status, session unknown): a typed error, counted, and the
//! link reconnects with backoff.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{Client, Config, ErrorCode, HttpKind, Output, State, Transport};

const OPEN_POLLING: &str = r#"0{"sid":"s1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const OPEN_NO_UPGRADE: &str =
    r#"0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const TEXT: &str = "text/plain; charset=UTF-8";

/// A client and what it asked for, by kind.
struct H {
    c: Client,
    now: u64,
    outputs: Vec<Output>,
    /// Every output so far.
    seen: Vec<Output>,
}

impl H {
    fn new(transports: &[Transport]) -> H {
        let mut cfg = Config::new("http://127.0.0.1:5001");
        cfg.transports = transports.to_vec();
        H {
            c: Client::new(cfg, 7),
            now: 0,
            outputs: vec![],
            seen: vec![],
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.c.poll_output() {
            self.outputs.push(o);
        }
    }

    /// Outputs since the last call.
    fn take(&mut self) -> Vec<Output> {
        self.drain();
        self.seen.extend(self.outputs.iter().cloned());
        std::mem::take(&mut self.outputs)
    }

    fn gets(out: &[Output]) -> usize {
        out.iter()
            .filter(|o| matches!(o, Output::HttpGet { .. }))
            .count()
    }

    fn posts(out: &[Output]) -> Vec<String> {
        out.iter()
            .filter_map(|o| match o {
                Output::HttpPost { body, .. } => Some(body.clone()),
                _ => None,
            })
            .collect()
    }

    fn get(&mut self, body: &str) -> Vec<Output> {
        self.c
            .on_http_response(self.now, HttpKind::Get, 200, TEXT, body);
        self.take()
    }

    fn post_ok(&mut self) -> Vec<Output> {
        self.c
            .on_http_response(self.now, HttpKind::Post, 200, "text/html", "ok");
        self.take()
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(t) = self.c.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.c.on_timer(self.now);
            self.drain();
        }
        self.now = end;
        self.c.on_timer(self.now);
        self.drain();
    }

    /// connect() on polling through the handshake and the namespace join.
    fn join_polling(&mut self, open: &str) {
        self.c.connect(self.now);
        let out = self.take();
        assert_eq!(H::gets(&out), 1, "{out:?}");
        let url = out
            .iter()
            .find_map(|o| match o {
                Output::HttpGet { url } => Some(url.clone()),
                _ => None,
            })
            .unwrap();
        assert!(url.starts_with("http://127.0.0.1:5001/socket.io/?EIO=4&transport=polling&t="));
        assert!(!url.contains("sid="));
        let out = self.get(open);
        assert_eq!(H::posts(&out), vec!["40".to_owned()]);
        assert_eq!(H::gets(&out), 1, "the poll loop goes on");
        self.post_ok();
        let out = self.get(r#"40{"sid":"n1"}"#);
        assert_eq!(H::gets(&out), 1);
        assert_eq!(self.c.state(), State::Connected);
        assert_eq!(self.c.transport(), Some(Transport::Polling));
    }

    fn errors(&self) -> u64 {
        self.c.metrics().errors.iter().map(|(_, n)| n).sum::<u64>()
    }
}

fn error_codes(out: &[Output]) -> Vec<ErrorCode> {
    out.iter()
        .filter_map(|o| match o {
            Output::Error(e) => Some(e.code),
            _ => None,
        })
        .collect()
}

#[test]
fn polling_handshake_events_and_the_poll_loop() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_POLLING);
    // No probe: websocket is not among the transports.
    assert!(!h.seen.iter().any(|o| matches!(o, Output::OpenProbe { .. })));
    // Two events and a ping in one payload: delivered in order, pong POSTed.
    let out = h.get("42[\"a\",1]\x1e42[\"b\",2]\x1e2");
    let names: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(H::posts(&out), vec!["3".to_owned()]);
    assert_eq!(H::gets(&out), 1);
}

#[test]
fn one_post_in_flight_and_writes_meanwhile_go_as_one_payload() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    h.c.emit("e", Some("1"), false).unwrap();
    let out = h.take();
    assert_eq!(H::posts(&out), vec!["42[\"e\",1]".to_owned()]);
    h.c.emit("e", Some("2"), false).unwrap();
    h.c.emit_binary(
        "bin",
        Some(r#"{"_placeholder":true,"num":0}"#),
        vec![vec![1, 2, 3]],
        false,
    )
    .unwrap();
    assert!(H::posts(&h.take()).is_empty(), "a POST is still out");
    let out = h.post_ok();
    assert_eq!(
        H::posts(&out),
        vec!["42[\"e\",2]\x1e451-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID".to_owned()]
    );
    // The payload's binary in a GET: the attachment reaches the event.
    let out = h.get("451-[\"got\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID");
    let attachments = out.iter().find_map(|o| match o {
        Output::Event { attachments, .. } => Some(attachments.clone()),
        _ => None,
    });
    assert_eq!(attachments, Some(vec![vec![1, 2, 3]]));
}

#[test]
fn a_websocket_that_cannot_open_falls_back_to_polling_and_later_attempts_start_there() {
    let mut h = H::new(&[Transport::WebSocket, Transport::Polling]);
    h.c.connect(0);
    let out = h.take();
    assert!(matches!(out.first(), Some(Output::Open { .. })));
    h.c.on_close(h.now, "transport error");
    let out = h.take();
    assert_eq!(H::gets(&out), 1, "{out:?}");
    assert!(
        !out.iter().any(|o| matches!(
            o,
            Output::StateChange {
                state: State::Reconnecting,
                ..
            }
        )),
        "a fallback is not a lost link"
    );
    h.get(OPEN_NO_UPGRADE);
    h.post_ok();
    h.get(r#"40{"sid":"n1"}"#);
    assert_eq!(h.c.transport(), Some(Transport::Polling));
    // The server ends the session: the next attempt starts on polling.
    h.get("1");
    assert_eq!(h.c.state(), State::Reconnecting);
    h.advance(10_000);
    let out = h.take();
    assert_eq!(H::gets(&out), 1, "{out:?}");
    assert!(!out.iter().any(|o| matches!(o, Output::Open { .. })));
}

#[test]
fn a_server_that_is_down_does_not_send_later_attempts_to_polling() {
    // Both transports fail (the server is down, or polling is refused by
    // CORS): the WebSocket was not the problem, so the next attempt tries
    // it first again.
    let mut h = H::new(&[Transport::WebSocket, Transport::Polling]);
    h.c.connect(0);
    h.take();
    h.c.on_close(h.now, "transport error");
    assert_eq!(H::gets(&h.take()), 1);
    h.c.on_http_failed(h.now, HttpKind::Get, "Failed to fetch");
    assert_eq!(h.c.state(), State::Reconnecting);
    h.advance(10_000);
    let out = h.take();
    assert!(
        matches!(
            out.iter()
                .find(|o| matches!(o, Output::Open { .. } | Output::HttpGet { .. })),
            Some(Output::Open { .. })
        ),
        "{out:?}"
    );
}

#[test]
fn a_hung_websocket_then_a_hung_polling_handshake_each_time_out() {
    // A stopped server: the WebSocket neither opens nor fails, and the
    // polling GET that follows never answers. Each gets the attempt's
    // timeout, then the client reconnects with backoff (and aborts the
    // GET: the shell's Close).
    let mut h = H::new(&[Transport::WebSocket, Transport::Polling]);
    let timeout = Config::new("http://x").connect_timeout_ms;
    h.c.connect(0);
    h.take();
    h.advance(timeout);
    let out = h.take();
    assert_eq!(
        H::gets(&out),
        1,
        "the attempt goes on over polling: {out:?}"
    );
    assert_eq!(h.c.state(), State::Connecting);
    h.advance(timeout);
    let out = h.take();
    assert!(out.contains(&Output::Close), "{out:?}");
    assert_eq!(h.c.state(), State::Reconnecting);
    // The late answer of the aborted GET is ignored.
    h.c.on_http_failed(h.now, HttpKind::Get, "aborted");
    assert_eq!(h.c.state(), State::Reconnecting);
    h.advance(10_000);
    let out = h.take();
    assert!(
        out.iter().any(|o| matches!(o, Output::Open { .. })),
        "{out:?}"
    );
}

#[test]
fn a_hung_post_is_caught_by_the_heartbeat() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    let key = h.c.request(h.now, "query", "{}", Default::default());
    assert!(key.is_ok());
    assert_eq!(H::posts(&h.take()).len(), 1);
    // Neither the POST nor the GET ever answers: no ping within
    // pingInterval + pingTimeout loses the link.
    h.advance(45_001);
    let out = h.take();
    assert!(out.contains(&Output::Close), "{out:?}");
    assert_ne!(h.c.state(), State::Connected);
}

#[test]
fn an_upgrade_after_a_fallback_sends_later_attempts_to_websocket_again() {
    let mut h = H::new(&[Transport::WebSocket, Transport::Polling]);
    h.c.connect(0);
    h.take();
    h.c.on_close(h.now, "transport error");
    h.take();
    h.get(OPEN_POLLING);
    h.post_ok();
    h.get(r#"40{"sid":"n1"}"#);
    assert_eq!(h.c.transport(), Some(Transport::Polling));
    h.c.on_probe_open(h.now);
    h.take();
    h.c.on_probe_text(h.now, "3probe");
    h.take();
    // Pausing: the GET in flight returns with a noop, then the switch.
    h.get("6");
    assert_eq!(h.c.transport(), Some(Transport::WebSocket));
    h.c.on_close(h.now, "transport close");
    assert_eq!(h.c.state(), State::Reconnecting);
    h.advance(10_000);
    let out = h.take();
    assert!(
        out.iter().any(|o| matches!(o, Output::Open { .. })),
        "{out:?}"
    );
    assert_eq!(H::gets(&out), 0, "{out:?}");
}

#[test]
fn a_websocket_only_client_does_not_fall_back() {
    let mut h = H::new(&[Transport::WebSocket]);
    h.c.connect(0);
    h.take();
    h.c.on_close(h.now, "transport error");
    let out = h.take();
    assert_eq!(H::gets(&out), 0);
    assert_eq!(h.c.state(), State::Reconnecting);
}

/// Joins on polling with an upgrade offered, and brings the probe to its
/// `3probe`.
fn probed(h: &mut H) {
    h.join_polling(OPEN_POLLING);
    assert!(h.seen.iter().any(|o| matches!(o, Output::OpenProbe { .. })));
    h.c.on_probe_open(h.now);
    let out = h.take();
    assert!(out.contains(&Output::SendProbe("2probe".into())), "{out:?}");
}

#[test]
fn upgrade_probes_pauses_drains_and_switches_without_losing_or_duplicating() {
    let mut h = H::new(&[Transport::Polling, Transport::WebSocket]);
    h.c.connect(0);
    let first = h.take();
    assert_eq!(H::gets(&first), 1);
    let out = h.get(OPEN_POLLING);
    let probe = out.iter().find_map(|o| match o {
        Output::OpenProbe { url } => Some(url.clone()),
        _ => None,
    });
    assert_eq!(
        probe.as_deref(),
        Some("ws://127.0.0.1:5001/socket.io/?EIO=4&transport=websocket&batch=1&sid=s1")
    );
    h.post_ok();
    h.get(r#"40{"sid":"n1"}"#);
    h.c.on_probe_open(h.now);
    assert!(h.take().contains(&Output::SendProbe("2probe".into())));
    // A POST is out when 3probe comes.
    h.c.emit("n", Some("0"), false).unwrap();
    assert_eq!(H::posts(&h.take()).len(), 1);
    h.c.on_probe_text(h.now, "3probe");
    assert!(h.take().is_empty(), "waits for the GET and POST in flight");
    // Written while paused: kept for the WebSocket.
    h.c.emit("n", Some("1"), false).unwrap();
    h.c.emit("n", Some("2"), false).unwrap();
    let out = h.post_ok();
    assert!(H::posts(&out).is_empty(), "no new POST while paused");
    // The server flushes the GET with a noop: no new GET, then the switch.
    let out = h.get("6");
    assert_eq!(H::gets(&out), 0);
    assert_eq!(
        out,
        vec![
            Output::SendProbe("5".into()),
            Output::Upgraded,
            Output::SendText("42[\"n\",1]".into()),
            Output::SendText("42[\"n\",2]".into()),
        ]
    );
    assert_eq!(h.c.transport(), Some(Transport::WebSocket));
    assert_eq!(h.c.metrics().upgrades, 1);
    // From now on writes go on the socket.
    h.c.emit("n", Some("3"), false).unwrap();
    assert_eq!(h.take(), vec![Output::SendText("42[\"n\",3]".into())]);
    // And a late HTTP result is ignored.
    h.c.on_http_response(h.now, HttpKind::Get, 200, TEXT, "1");
    assert_eq!(h.c.state(), State::Connected);
}

#[test]
fn a_failed_probe_stays_on_polling_and_resumes() {
    let mut h = H::new(&[Transport::Polling, Transport::WebSocket]);
    probed(&mut h);
    h.c.on_probe_text(h.now, "3probe");
    h.c.emit("n", Some("1"), false).unwrap();
    assert!(H::posts(&h.take()).is_empty());
    h.c.on_probe_close(h.now);
    let out = h.take();
    assert!(out.contains(&Output::CloseProbe));
    assert_eq!(H::posts(&out), vec!["42[\"n\",1]".to_owned()]);
    assert_eq!(h.c.transport(), Some(Transport::Polling));
    assert_eq!(h.c.metrics().upgrades, 0);
}

#[test]
fn a_silent_probe_gives_up_after_the_connect_timeout_and_polling_goes_on() {
    // A proxy that lets the WebSocket open but passes nothing: no 3probe.
    let mut h = H::new(&[Transport::Polling, Transport::WebSocket]);
    probed(&mut h);
    let timeout = Config::new("http://x").connect_timeout_ms;
    h.advance(timeout);
    let out = h.take();
    assert!(out.contains(&Output::CloseProbe), "{out:?}");
    assert_eq!(h.c.transport(), Some(Transport::Polling));
    assert_eq!(h.c.state(), State::Connected);
    // Polling still carries what is written.
    h.c.emit("n", Some("1"), false).unwrap();
    assert_eq!(H::posts(&h.take()), vec!["42[\"n\",1]".to_owned()]);
}

#[test]
fn a_probe_that_switched_is_not_timed_out_later() {
    let mut h = H::new(&[Transport::Polling, Transport::WebSocket]);
    probed(&mut h);
    h.c.on_probe_text(h.now, "3probe");
    h.take();
    h.get("6");
    assert_eq!(h.c.transport(), Some(Transport::WebSocket));
    h.take();
    h.advance(Config::new("http://x").connect_timeout_ms + 1);
    let out = h.take();
    assert!(!out.contains(&Output::CloseProbe), "{out:?}");
    assert_eq!(h.c.transport(), Some(Transport::WebSocket));
}

#[test]
fn upgrade_false_keeps_polling() {
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.transports = vec![Transport::Polling, Transport::WebSocket];
    cfg.upgrade = false;
    let mut h = H {
        c: Client::new(cfg, 7),
        now: 0,
        outputs: vec![],
        seen: vec![],
    };
    h.join_polling(OPEN_POLLING);
    assert!(!h.seen.iter().any(|o| matches!(o, Output::OpenProbe { .. })));
}

/// Bad input on the polling path: the error's code, counted once, and the
/// link reconnects with backoff (a new handshake GET after the wait).
/// Protocol errors are counted by the decoder's code (`counted`).
fn assert_recovers(h: &mut H, out: &[Output], code: ErrorCode, counted: &str) {
    assert_eq!(error_codes(out), vec![code], "{out:?}");
    assert_eq!(h.errors(), 1);
    assert_eq!(
        h.c.metrics().errors.get(counted),
        Some(&1),
        "{:?}",
        h.c.metrics().errors
    );
    assert_eq!(h.c.state(), State::Reconnecting);
    assert!(out.contains(&Output::Close));
    h.advance(10_000);
    let out = h.take();
    let handshake = out.iter().find_map(|o| match o {
        Output::HttpGet { url } => Some(url.clone()),
        _ => None,
    });
    assert!(
        handshake.is_some_and(|u| !u.contains("sid=")),
        "a fresh handshake: {out:?}"
    );
}

#[test]
fn a_truncated_payload_is_a_protocol_error_and_the_link_recovers() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    h.c.on_http_response(h.now, HttpKind::Get, 200, TEXT, "42[\"a\",1]\x1e42[\"b\",");
    let out = h.take();
    assert_recovers(&mut h, &out, ErrorCode::ProtocolError, "INVALID_JSON");
}

#[test]
fn bad_base64_is_a_protocol_error_and_the_link_recovers() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    h.c.on_http_response(h.now, HttpKind::Get, 200, TEXT, "b@@@");
    let out = h.take();
    assert_recovers(&mut h, &out, ErrorCode::ProtocolError, "INVALID_BASE64");
}

#[test]
fn a_wrong_content_type_is_a_transport_error_and_the_link_recovers() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    h.c.on_http_response(h.now, HttpKind::Get, 200, "text/html", "<html>proxy</html>");
    let out = h.take();
    assert_recovers(&mut h, &out, ErrorCode::TransportError, "TRANSPORT_ERROR");
}

#[test]
fn an_http_error_status_is_a_transport_error_and_the_link_recovers() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    h.c.emit("e", None, false).unwrap();
    h.take();
    h.c.on_http_response(h.now, HttpKind::Post, 502, "text/html", "bad gateway");
    let out = h.take();
    assert_recovers(&mut h, &out, ErrorCode::TransportError, "TRANSPORT_ERROR");
}

#[test]
fn session_unknown_means_the_session_is_gone_and_the_client_reconnects() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    h.c.on_http_response(
        h.now,
        HttpKind::Get,
        400,
        "application/json",
        r#"{"code":1,"message":"Session ID unknown"}"#,
    );
    let out = h.take();
    let message = out.iter().find_map(|o| match o {
        Output::Error(e) => Some(e.message.clone()),
        _ => None,
    });
    assert!(message.is_some_and(|m| m.contains("Session ID unknown")));
    assert_recovers(&mut h, &out, ErrorCode::TransportError, "TRANSPORT_ERROR");
}

#[test]
fn a_failed_request_is_a_lost_link() {
    let mut h = H::new(&[Transport::Polling]);
    h.join_polling(OPEN_NO_UPGRADE);
    h.c.on_http_failed(h.now, HttpKind::Get, "TypeError: Failed to fetch");
    h.take();
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(h.errors(), 0, "a network failure is not bad input");
}

#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The msgpack codec against the real npm `socket.io-msgpack-parser` 3.x,
//! driven through `tests/servers/msgpack_vectors.mjs`:
//!
//! - frames the npm Encoder wrote decode in Rust to what the npm Decoder
//!   reads from them (value for value, attachments byte for byte);
//! - the canonical packets (`{type, data, nsp, id}`, Node Buffers) encode in
//!   Rust to exactly the npm Encoder's bytes;
//! - every frame Rust encodes decodes in npm to the same packet;
//! - `tests/servers/node_sio_msgpack.mjs` (socket.io 4.8 with that parser)
//!   starts and serves a Node socket.io-client using the parser;
//! - on a bare WebSocket to that server, frames Rust encodes are accepted
//!   (namespaces, auth, acks, binary at depth) and every frame the server
//!   writes decodes in Rust.
//!
//! Skipped, with a message, when `node` is not on the PATH.

use frinny_agent::protocol::msgpack;
use frinny_agent::protocol::socket_io::{Packet, Payload};
use frinny_agent::protocol::Limits;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    root().join("tests/servers/msgpack_vectors.mjs")
}

/// Whether the Node side can run: `false` (with a message) when node is
/// missing; a missing npm package is a setup error, not a skip.
fn node_ready() -> bool {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipping msgpack interop: `node` is not on the PATH");
        return false;
    }
    assert!(
        root()
            .join("node_modules/socket.io-msgpack-parser")
            .is_dir(),
        "npm socket.io-msgpack-parser is missing: run `npm ci` at the repository root"
    );
    true
}

/// A packet as both sides describe it (see `describe()` in the script).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Described {
    r#type: u8,
    nsp: String,
    id: Option<u64>,
    json: Option<String>,
    attachments: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Vector {
    name: String,
    canonical: bool,
    hex: String,
    expected: Described,
}

#[derive(Debug, Deserialize)]
struct NpmDecoded {
    name: String,
    packet: Option<Described>,
    error: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn describe(packet: &Packet<'_>) -> Described {
    let (ty, json) = match packet {
        Packet::Connect { auth, .. } => (0, auth.as_deref()),
        Packet::Disconnect { .. } => (1, None),
        Packet::Event { data, .. } => (2, Some(&*data.json)),
        Packet::Ack { data, .. } => (3, Some(&*data.json)),
        Packet::ConnectError { data, .. } => (4, Some(&**data)),
    };
    Described {
        r#type: ty,
        nsp: packet.nsp().to_owned(),
        id: packet.id(),
        json: json.map(str::to_owned),
        attachments: packet.attachments().iter().map(|a| hex(a)).collect(),
    }
}

fn packet_of(d: &Described) -> Packet<'static> {
    let nsp = d.nsp.clone();
    let payload = || Payload {
        json: d.json.clone().unwrap().into(),
        attachments: d.attachments.iter().map(|h| unhex(h)).collect(),
    };
    match d.r#type {
        0 => Packet::Connect {
            nsp: nsp.into(),
            auth: d.json.clone().map(Into::into),
        },
        1 => Packet::disconnect(nsp).unwrap(),
        2 => Packet::event_from_payload(nsp, payload(), d.id).unwrap(),
        3 => Packet::ack(nsp, d.id.unwrap(), payload()).unwrap(),
        4 => Packet::ConnectError {
            nsp: nsp.into(),
            data: d.json.clone().unwrap().into(),
        },
        t => panic!("type {t}"),
    }
}

/// JSON with every number as a float: JavaScript has one number type, so
/// `9007199254740993` and `9007199254740992` are the same value there.
fn js_value(text: &str) -> serde_json::Value {
    fn norm(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value as J;
        match v {
            J::Number(n) => J::from(n.as_f64().unwrap()),
            J::Array(items) => J::Array(items.into_iter().map(norm).collect()),
            J::Object(map) => J::Object(map.into_iter().map(|(k, v)| (k, norm(v))).collect()),
            other => other,
        }
    }
    norm(serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

fn assert_same(what: &str, got: &Described, want: &Described) {
    assert_eq!(
        (got.r#type, &got.nsp, got.id),
        (want.r#type, &want.nsp, want.id),
        "{what}"
    );
    assert_eq!(
        got.json.as_deref().map(js_value),
        want.json.as_deref().map(js_value),
        "{what}: payload"
    );
    assert_eq!(got.attachments, want.attachments, "{what}: attachments");
}

fn node_vectors() -> Vec<Vector> {
    let out = Command::new("node")
        .arg(script())
        .arg("encode")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "msgpack_vectors.mjs encode: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn npm_decode(frames: &[(String, Vec<u8>)]) -> Vec<NpmDecoded> {
    #[derive(Serialize)]
    struct Frame<'a> {
        name: &'a str,
        hex: String,
    }
    let input: Vec<Frame> = frames
        .iter()
        .map(|(name, bytes)| Frame {
            name,
            hex: hex(bytes),
        })
        .collect();
    let input = serde_json::to_vec(&input).unwrap();
    let mut child = Command::new("node")
        .arg(script())
        .arg("decode")
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "msgpack_vectors.mjs decode: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn npm_frames_decode_in_rust_and_rust_encodes_npm_bytes() {
    if !node_ready() {
        return;
    }
    let vectors = node_vectors();
    assert!(vectors.len() >= 15, "too few vectors: {}", vectors.len());
    let limits = Limits::default();
    for v in &vectors {
        let bytes = unhex(&v.hex);
        let decoded = msgpack::decode(&bytes, &limits)
            .unwrap_or_else(|e| panic!("{}: Rust refused npm's frame: {e}", v.name));
        assert_same(&v.name, &describe(&decoded), &v.expected);
        if v.canonical {
            let encoded = msgpack::encode(&packet_of(&v.expected), &limits).unwrap();
            assert_eq!(hex(&encoded), v.hex, "{}: bytes differ from npm's", v.name);
            // The decoded packet itself encodes the same way.
            assert_eq!(
                msgpack::encode(&decoded, &limits).unwrap(),
                bytes,
                "{}",
                v.name
            );
        }
    }
    let canonical = vectors.iter().filter(|v| v.canonical).count();
    eprintln!(
        "{} npm frames decoded in Rust; {canonical} canonical ones re-encoded byte for byte",
        vectors.len()
    );
}

#[test]
fn rust_frames_decode_in_npm() {
    if !node_ready() {
        return;
    }
    let limits = Limits::default();
    let vectors = node_vectors();
    // Every vector's packet as Rust encodes it: from the description (what
    // a Rust caller builds) and from Rust's decoding of npm's frame.
    let mut frames = Vec::new();
    for v in &vectors {
        let decoded = msgpack::decode(&unhex(&v.hex), &limits).unwrap();
        frames.push((v.name.clone(), msgpack::encode(&decoded, &limits).unwrap()));
        frames.push((
            format!("{} (built)", v.name),
            msgpack::encode(&packet_of(&v.expected), &limits).unwrap(),
        ));
    }
    let results = npm_decode(&frames);
    assert_eq!(results.len(), frames.len());
    for (result, v) in results.iter().zip(vectors.iter().flat_map(|v| [v, v])) {
        let packet = result.packet.as_ref().unwrap_or_else(|| {
            panic!(
                "{}: npm refused Rust's frame: {:?}",
                result.name, result.error
            )
        });
        assert_same(&result.name, packet, &v.expected);
    }
    eprintln!("{} Rust frames decoded by npm", results.len());
}

/// The server, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts node_sio_msgpack.mjs on a free port, once it listens.
fn start_server() -> (Server, u16) {
    let port = free_port();
    let mut child = Command::new("node")
        .arg(root().join("tests/servers/node_sio_msgpack.mjs"))
        .current_dir(root())
        .env("SIO_PORT", port.to_string())
        .env("SIO_LIFETIME_MS", "60000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("node_sio_msgpack.mjs did not start listening");
    (server, port)
}

#[test]
fn node_msgpack_server_serves_a_node_msgpack_client() {
    if !node_ready() {
        return;
    }
    let (server, port) = start_server();
    let started = Instant::now();
    let out = Command::new("node")
        .arg(script())
        .arg("client")
        .arg(format!("http://127.0.0.1:{port}"))
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "msgpack client: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({
            "connected": true,
            "established": "connected",
            "binaryEcho": [
                {"path": "$.bytes", "hex": "010203"},
                {"path": "$.nested[0].b", "hex": "ff"}
            ],
            "echo": {"n": 1.5, "list": [1, "x", null]},
            "adminHello": {"nsp": "/admin"}
        })
    );
    eprintln!(
        "socket.io 4.8 + msgpack parser served a msgpack client in {:?}",
        started.elapsed()
    );
    drop(server);
}

/// The Rust codec on the wire with socket.io 4.8: a bare Engine.IO
/// WebSocket (the script only relays bytes) carries frames Rust encoded, and
/// Rust decodes every frame the server answers with.
#[test]
fn node_msgpack_server_takes_rust_frames_and_rust_reads_its_frames() {
    if !node_ready() {
        return;
    }
    let (server, port) = start_server();
    let limits = Limits::default();
    let event = |name: &str, json: &str, attachments: Vec<Vec<u8>>, id| {
        let data = Payload {
            json: json.to_owned().into(),
            attachments,
        };
        let packet = Packet::event_from_payload("/", data, id).unwrap();
        assert_eq!(packet.payload().map(|p| &*p.json).unwrap(), json);
        assert!(json.starts_with(&format!("[\"{name}\"")));
        packet
    };
    let steps: Vec<(Packet<'static>, usize)> = vec![
        // connect reply + connection_established
        (
            Packet::connect("/", Some(r#"{"token":"x"}"#))
                .unwrap()
                .into_owned(),
            2,
        ),
        (Packet::connect("/guarded", None).unwrap(), 1),
        (
            event(
                "echo",
                r#"["echo",{"n":1.5,"bin":{"_placeholder":true,"num":0},"list":[1,"x",null]}]"#,
                vec![vec![1, 2, 3]],
                Some(1),
            ),
            1,
        ),
        (
            event(
                "binary_echo",
                r#"["binary_echo",{"a":{"_placeholder":true,"num":0},"deep":[[{"b":{"_placeholder":true,"num":1}}]]}]"#,
                vec![vec![0xca, 0xfe], vec![]],
                Some(2),
            ),
            1,
        ),
        (
            event("auth_seen", r#"["auth_seen",null]"#, vec![], Some(3)),
            1,
        ),
        (event("kick", r#"["kick"]"#, vec![], None), 1),
    ];
    #[derive(Serialize)]
    struct Step {
        send: String,
        expect: usize,
    }
    let input: Vec<Step> = steps
        .iter()
        .map(|(packet, expect)| Step {
            send: hex(&msgpack::encode(packet, &limits).unwrap()),
            expect: *expect,
        })
        .collect();
    let mut child = Command::new("node")
        .arg(script())
        .arg("raw")
        .arg(format!("http://127.0.0.1:{port}"))
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(&input).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "msgpack raw: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    let packets: Vec<Packet<'static>> = frames
        .iter()
        .map(|h| {
            msgpack::decode(&unhex(h), &limits).unwrap_or_else(|e| panic!("server frame {h}: {e}"))
        })
        .collect();
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let [connected, established, refused, echoed, seen, auth, kicked] = &packets[..] else {
        panic!("expected 7 server frames, got {packets:?}")
    };

    let Packet::Connect {
        nsp,
        auth: Some(sid),
    } = connected
    else {
        panic!("{connected:?}")
    };
    assert_eq!(nsp, "/");
    assert!(json(sid)["sid"].is_string(), "{sid}");
    let Packet::Event { event, data, .. } = established else {
        panic!("{established:?}")
    };
    assert_eq!(event, "connection_established");
    assert_eq!(json(&data.json)[1]["status"], "connected");
    assert_eq!(
        refused,
        &Packet::ConnectError {
            nsp: "/guarded".into(),
            data: r#"{"message":"not authorized"}"#.into()
        }
    );
    // echo acks the payload back: the binary comes back inline.
    assert_eq!(
        echoed,
        &Packet::ack(
            "/",
            1,
            Payload {
                json: r#"[{"n":1.5,"bin":{"_placeholder":true,"num":0},"list":[1,"x",null]}]"#
                    .into(),
                attachments: vec![vec![1, 2, 3]],
            }
        )
        .unwrap()
    );
    // binary_echo lists the Buffers the server saw, where it saw them.
    assert_eq!(seen.id(), Some(2));
    assert_eq!(seen.attachments(), [vec![0xca, 0xfe], vec![]]);
    assert_eq!(
        json(&seen.payload().unwrap().json)[0]["seen"],
        serde_json::json!([
            {"path": "$.a", "hex": "cafe"},
            {"path": "$.deep[0][0].b", "hex": ""}
        ])
    );
    assert_eq!(auth, &Packet::ack("/", 3, r#"[{"token":"x"}]"#).unwrap());
    assert_eq!(kicked, &Packet::disconnect("/").unwrap());
    drop(server);
}

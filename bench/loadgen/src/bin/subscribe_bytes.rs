//! `subscribe_bytes --http HOST:PORT --token ADMIN [--kib 200]`: bytes on the
//! wire when one client subscribes to a large world state (issue 17,
//! "Compression"), for `cargo xtask bench --only compression`.
//!
//! It writes a deterministic Foundry-like world (actors with embedded
//! items, items, scenes with tokens and walls, journal entries) of about
//! `--kib` KiB of JSON into world `bench-compression` through
//! `POST /state/update`, then, once asking for a plain snapshot and once
//! with `compress: "deflate"`, opens a WebSocket, joins, sends
//! `state:subscribe` and reads its whole reply. Bytes are counted on the
//! TCP socket itself, under the WebSocket: frame headers, the ack text
//! and any binary attachment, in both directions. The WebSocket handshake
//! offers `permessage-deflate` as a browser does, and whether the server
//! took it is reported too. Every wait is bounded.
//!
//! Results are printed as `RESULT <key> <value>` lines.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const WORLD: &str = "bench-compression";
const WAIT: Duration = Duration::from_secs(20);

/// A TCP stream that counts the bytes read from and written to it.
struct Counted {
    inner: TcpStream,
    read: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A deterministic pseudo-random sequence (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from.get(self.below(from.len() as u64) as usize)
            .copied()
            .unwrap_or_default()
    }

    /// A Foundry document id: 16 random alphanumerics.
    fn id(&mut self) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..16)
            .map(|_| char::from(ABC.get(self.below(62) as usize).copied().unwrap_or(b'a')))
            .collect()
    }
}

const NAMES: &[&str] = &[
    "Valeros",
    "Seoni",
    "Kyra",
    "Merisiel",
    "Harsk",
    "Ezren",
    "Amiri",
    "Lem",
    "Goblin Warrior",
    "Goblin Commando",
    "Skeleton Guard",
    "Zombie Shambler",
    "Kobold Scout",
    "Orc Brute",
    "Giant Rat",
    "Wolf",
    "Bandit",
    "Cultist",
    "Ghoul",
    "Ogre",
];
const ITEMS: &[&str] = &[
    "Longsword",
    "Shortbow",
    "Leather Armor",
    "Healing Potion (Minor)",
    "Rapier",
    "Dagger",
    "Chain Shirt",
    "Wooden Shield",
    "Rope (50 ft.)",
    "Torch",
    "Scroll of Heal",
    "Crossbow",
    "Greataxe",
    "Spellbook",
    "Thieves' Toolkit",
    "Rations",
];
const TRAITS: &[&str] = &[
    "agile",
    "finesse",
    "versatile-p",
    "deadly-d8",
    "reach",
    "thrown-10",
    "two-hand-d12",
    "magical",
    "consumable",
    "healing",
    "potion",
    "invested",
];
const WORDS: &[&str] = &[
    "the",
    "ruins",
    "ancient",
    "goblin",
    "tower",
    "forest",
    "river",
    "shadow",
    "lantern",
    "northern",
    "road",
    "keep",
    "whispers",
    "of",
    "a",
    "dragon",
    "sealed",
    "door",
    "under",
    "moonlight",
    "merchant",
    "guild",
    "secret",
    "map",
    "stone",
    "bridge",
];

fn words(r: &mut Rng, n: u64) -> String {
    let n = 3 + r.below(n);
    (0..n).map(|_| r.pick(WORDS)).collect::<Vec<_>>().join(" ")
}

fn item(r: &mut Rng) -> Value {
    let traits: Vec<&str> = (0..1 + r.below(3)).map(|_| r.pick(TRAITS)).collect();
    json!({
        "_id": r.id(),
        "name": r.pick(ITEMS),
        "type": "weapon",
        "img": format!("systems/pf2e/icons/equipment/weapons/{}.webp", r.below(90)),
        "system": {
            "description": {"value": format!("<p>{}.</p>", words(r, 20))},
            "traits": {"value": traits, "rarity": "common"},
            "damage": {"dice": 1 + r.below(2), "die": format!("d{}", 4 + 2 * r.below(4)), "damageType": "slashing"},
            "price": {"value": {"gp": r.below(50), "sp": r.below(10)}},
            "quantity": 1 + r.below(3),
            "equipped": {"carryType": "worn", "handsHeld": r.below(3)},
        },
        "flags": {},
    })
}

fn actor(r: &mut Rng) -> Value {
    let items: Vec<Value> = (0..2 + r.below(4)).map(|_| item(r)).collect();
    let hp = 8 + r.below(60);
    json!({
        "_id": r.id(),
        "name": format!("{} {}", r.pick(NAMES), r.below(100)),
        "type": if r.below(4) == 0 { "character" } else { "npc" },
        "img": format!("systems/pf2e/icons/default-icons/{}.webp", r.below(40)),
        "system": {
            "attributes": {"hp": {"value": r.below(hp + 1), "max": hp, "temp": 0}, "ac": {"value": 12 + r.below(10)},
                           "speed": {"value": 25, "otherSpeeds": []}, "perception": {"value": r.below(12)}},
            "abilities": {"str": {"mod": r.below(5)}, "dex": {"mod": r.below(5)}, "con": {"mod": r.below(5)},
                          "int": {"mod": r.below(5)}, "wis": {"mod": r.below(5)}, "cha": {"mod": r.below(5)}},
            "details": {"level": {"value": r.below(10)}, "alignment": {"value": "N"},
                        "biography": format!("<p>{}.</p>", words(r, 30))},
            "traits": {"size": {"value": "med"}, "value": [r.pick(TRAITS)]},
        },
        "items": items,
        "prototypeToken": {"name": "token", "width": 1, "height": 1, "disposition": -1,
                           "texture": {"src": format!("tokens/{}.webp", r.below(40)), "scaleX": 1, "scaleY": 1}},
        "flags": {"frinny": {"notes": words(r, 12)}},
    })
}

fn scene(r: &mut Rng) -> Value {
    let tokens: Vec<Value> = (0..3 + r.below(8))
        .map(|_| {
            json!({"_id": r.id(), "actorId": r.id(), "x": r.below(4000), "y": r.below(3000),
                        "hidden": r.below(5) == 0, "elevation": 0, "rotation": 0})
        })
        .collect();
    let walls: Vec<Value> = (0..10 + r.below(20))
        .map(|_| {
            json!({"_id": r.id(), "c": [r.below(4000), r.below(3000), r.below(4000), r.below(3000)],
                        "move": 20, "sight": 20, "door": r.below(4)})
        })
        .collect();
    json!({
        "_id": r.id(),
        "name": words(r, 3),
        "active": false,
        "width": 4000, "height": 3000, "padding": 0.25,
        "background": {"src": format!("maps/{}.webp", r.below(30))},
        "grid": {"type": 1, "size": 100, "distance": 5, "units": "ft"},
        "tokens": tokens,
        "walls": walls,
    })
}

fn journal(r: &mut Rng) -> Value {
    json!({
        "_id": r.id(),
        "name": words(r, 4),
        "pages": [{"_id": r.id(), "type": "text", "text": {"content": format!("<p>{}.</p><p>{}.</p>", words(r, 60), words(r, 60))}}],
    })
}

/// The world as patches of at most ~48 KiB each (one HTTP body is limited),
/// together about `kib` KiB of JSON.
fn world_patches(kib: usize) -> (Vec<Value>, usize) {
    let mut r = Rng(17);
    let mut patches = Vec::new();
    let mut part = Map::new();
    let mut part_len = 0;
    let mut total = 0;
    let mut n = 0u64;
    while total < kib * 1024 {
        let (collection, doc) = match n % 10 {
            0 => ("scenes", scene(&mut r)),
            1 | 2 => ("items", item(&mut r)),
            3 => ("journal", journal(&mut r)),
            _ => ("actors", actor(&mut r)),
        };
        n += 1;
        let id = doc
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let len = doc.to_string().len() + id.len() + 4;
        if part_len + len > 48 * 1024 {
            patches.push(Value::Object(std::mem::take(&mut part)));
            part_len = 0;
        }
        let slot = part
            .entry(collection.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = slot {
            m.insert(id, doc);
        }
        part_len += len;
        total += len;
    }
    if !part.is_empty() {
        patches.push(Value::Object(part));
    }
    (patches, total)
}

/// One HTTP/1.1 request over a fresh connection: status and body.
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> Result<(u16, String), String> {
    let fut = async {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let auth = bearer
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&resp).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad response {head:?}"))?;
        Ok::<_, String>((status, body.to_owned()))
    };
    timeout(WAIT, fut)
        .await
        .map_err(|_| format!("{method} {path}: timed out"))?
}

/// What one subscribe cost.
struct Measured {
    /// Bytes from the server while the reply came (frames, attachment).
    down: u64,
    /// Bytes to the server for the request.
    up: u64,
    /// Whether the server accepted `permessage-deflate`.
    pmd: bool,
    /// Whether the reply was a compressed snapshot.
    compressed: bool,
}

async fn subscribe(addr: &str, token: &str, compress: bool) -> Result<Measured, String> {
    let read = Arc::new(AtomicU64::new(0));
    let written = Arc::new(AtomicU64::new(0));
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let stream = Counted {
        inner: tcp,
        read: read.clone(),
        written: written.clone(),
    };
    let mut request = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    // What Chromium and Firefox offer on every WebSocket.
    request.headers_mut().insert(
        "Sec-WebSocket-Extensions",
        HeaderValue::from_static("permessage-deflate; client_max_window_bits"),
    );
    let (mut ws, response) = timeout(WAIT, tokio_tungstenite::client_async(request, stream))
        .await
        .map_err(|_| "WebSocket handshake timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let pmd = response
        .headers()
        .get("Sec-WebSocket-Extensions")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("permessage-deflate"));
    let open = next_text_of(&mut ws).await?;
    if !open.starts_with('0') {
        return Err(format!("no Engine.IO open: {open}"));
    }
    ws.send(Message::text(format!("40{}", json!({"token": token}))))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let t = next_text_of(&mut ws).await?;
        if t.starts_with("40") {
            break;
        }
        if t.starts_with("44") {
            return Err(format!("refused: {t}"));
        }
    }
    // The greeting comes right after the join: let it pass before counting.
    loop {
        let t = next_text_of(&mut ws).await?;
        if t.contains("connection_established") {
            break;
        }
    }
    let (down0, up0) = (
        read.load(Ordering::Relaxed),
        written.load(Ordering::Relaxed),
    );
    let mut payload = json!({"scope": "world"});
    if compress {
        payload["compress"] = json!("deflate");
    }
    ws.send(Message::text(format!(
        "421{}",
        json!(["state:subscribe", payload])
    )))
    .await
    .map_err(|e| e.to_string())?;
    let compressed = loop {
        let t = next_text_of(&mut ws).await?;
        if t.starts_with("431[") {
            break false;
        }
        if let Some(rest) = t.strip_prefix("46") {
            let count: usize = rest
                .split('-')
                .next()
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| format!("bad binary ack {t:.40}"))?;
            for _ in 0..count {
                let b = next_text_of(&mut ws).await?;
                if !b.starts_with("<binary") {
                    return Err(format!("expected an attachment, got {b:.40}"));
                }
            }
            break true;
        }
    };
    let down = read.load(Ordering::Relaxed).saturating_sub(down0);
    let up = written.load(Ordering::Relaxed).saturating_sub(up0);
    let _ = ws.close(None).await;
    Ok(Measured {
        down,
        up,
        pmd,
        compressed,
    })
}

type Ws = tokio_tungstenite::WebSocketStream<Counted>;

/// The next text frame (`<binary N>` for a binary one), answering pings.
async fn next_text_of(ws: &mut Ws) -> Result<String, String> {
    loop {
        match timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.as_str() == "2" => {
                ws.send(Message::text("3"))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(Some(Ok(Message::Text(t)))) => return Ok(t.to_string()),
            Ok(Some(Ok(Message::Binary(b)))) => return Ok(format!("<binary {}>", b.len())),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) => return Err("closed".to_owned()),
            Err(_) => return Err("timed out".to_owned()),
        }
    }
}

fn result(key: &str, value: impl std::fmt::Display) {
    println!("RESULT {key} {value}");
}

async fn run() -> Result<(), String> {
    let mut http_addr = String::new();
    let mut admin = String::new();
    let mut kib = 200usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--http" => http_addr = value.clone(),
            "--token" => admin = value.clone(),
            "--kib" => kib = value.parse().map_err(|_| format!("--kib: {value}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if http_addr.is_empty() || admin.is_empty() {
        return Err("usage: subscribe_bytes --http HOST:PORT --token ADMIN [--kib 200]".into());
    }
    let (patches, _) = world_patches(kib);
    for patch in &patches {
        let body = json!({"scope": "world", "world": WORLD, "patch": patch}).to_string();
        let (status, text) = http(&http_addr, "POST", "/state/update", Some(&admin), &body).await?;
        if status != 200 {
            return Err(format!("POST /state/update: {status} {text}"));
        }
    }
    let (status, minted) = http(
        &http_addr,
        "GET",
        &format!("/dev/token?userId=bench&role=gm&world={WORLD}"),
        None,
        "",
    )
    .await?;
    let token = serde_json::from_str::<Value>(&minted)
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| format!("GET /dev/token: {status} {minted}"))?;
    let plain = subscribe(&http_addr, &token, false).await?;
    let deflated = subscribe(&http_addr, &token, true).await?;
    if plain.compressed || !deflated.compressed {
        return Err("the server did not compress only when asked".into());
    }
    // The document as the server serialises it: what a plain reply carries.
    let doc_bytes = {
        let mut doc = Value::Object(Map::new());
        for p in &patches {
            json_merge(&mut doc, p);
        }
        doc.to_string().len()
    };
    result("compression.doc_bytes", doc_bytes);
    result("compression.plain_down", plain.down);
    result("compression.plain_up", plain.up);
    result("compression.deflate_down", deflated.down);
    result("compression.deflate_up", deflated.up);
    result(
        "compression.pmd_negotiated",
        u8::from(plain.pmd || deflated.pmd),
    );
    Ok(())
}

/// RFC 7396 merge of `patch` into `doc` (objects only: the world is built
/// from object patches).
fn json_merge(doc: &mut Value, patch: &Value) {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                match d.get_mut(k) {
                    Some(slot) if v.is_object() => json_merge(slot, v),
                    _ => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (d, p) => *d = p.clone(),
    }
}

fn main() -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("subscribe_bytes: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("subscribe_bytes: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! Test helpers: a minimal Socket.IO v5 / Engine.IO v4 client over a real
//! WebSocket (tokio-tungstenite), a raw HTTP/1.1 client, and a server
//! started in-process on an ephemeral loopback port. Every wait is bounded.
#![allow(dead_code)]

use frinny_agent::protocol::socket_io::Packet;
use frinny_agent::protocol::{msgpack, Limits};
use frinny_server::auth::Role;
use frinny_server::config::WireParser;
use frinny_server::{Config, RunningServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single wait may take.
pub const WAIT: Duration = Duration::from_secs(5);
pub const ADMIN: &str = "test-admin-token";

pub struct TestServer {
    pub server: RunningServer,
    pub addr: SocketAddr,
}

impl TestServer {
    pub async fn start(config: Config) -> Self {
        let server = timeout(WAIT, frinny_server::start(config, None))
            .await
            .expect("start timed out")
            .expect("server starts");
        let addr = server.local_addr();
        assert!(addr.ip().is_loopback());
        Self { server, addr }
    }

    pub async fn default() -> Self {
        Self::start(Config::for_tests(false)).await
    }

    pub fn token(&self, user: &str, role: Role, world: &str) -> String {
        self.server
            .app()
            .auth
            .issue(user, role, world, 600)
            .unwrap()
    }

    /// Connects with a signed token and waits for `connection_established`.
    /// Speaks the server's `--parser`.
    pub async fn client(&self, user: &str, role: Role, world: &str) -> SioClient {
        let token = self.token(user, role, world);
        let auth = Some(json!({ "token": token }));
        let mut c = match self.server.app().config.parser {
            WireParser::Common => SioClient::connect(self.addr, auth, "").await,
            WireParser::Msgpack => SioClient::connect_msgpack(self.addr, auth, "").await,
        }
        .expect("connects");
        let hello = c.event("connection_established").await;
        assert_eq!(hello["userId"], user);
        c
    }

    pub async fn stop(self) {
        timeout(Duration::from_secs(10), self.server.shutdown())
            .await
            .expect("shutdown is bounded");
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Event(String, Value),
    Ack(u64, Value),
    /// A BINARY_ACK: the reply with its placeholders, and the attachments.
    BinaryAck(u64, Value, Vec<Vec<u8>>),
    Disconnected,
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct SioClient {
    ws: Ws,
    next_ack: u64,
    pub sid: String,
    backlog: VecDeque<Incoming>,
    /// Speaks socket.io-msgpack-parser's binary frames instead of text.
    msgpack: bool,
}

/// A Socket.IO packet in msgpack, as the client's codec writes it.
fn msgpack_frame(packet: &Packet<'_>) -> Message {
    Message::binary(msgpack::encode(packet, &Limits::default()).expect("encodes"))
}

fn parse_msgpack_packet(bytes: &[u8]) -> Option<Incoming> {
    let args = |json: &str| serde_json::from_str::<Vec<Value>>(json).ok();
    match msgpack::decode(bytes, &Limits::default()).ok()? {
        Packet::Disconnect { .. } => Some(Incoming::Disconnected),
        Packet::Event { event, data, .. } => Some(Incoming::Event(
            event.into_owned(),
            args(&data.json)?.get(1).cloned().unwrap_or(Value::Null),
        )),
        Packet::Ack { id, data, .. } => Some(Incoming::Ack(
            id,
            args(&data.json)?.first().cloned().unwrap_or(Value::Null),
        )),
        _ => None,
    }
}

fn parse_socket_packet(text: &str) -> Option<Incoming> {
    let rest = text.strip_prefix('4')?;
    let kind = rest.chars().next()?;
    let body = rest.get(1..)?;
    match kind {
        '1' => Some(Incoming::Disconnected),
        '2' | '3' => {
            let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
            let json_text = body.get(digits.len()..)?;
            let args: Vec<Value> = serde_json::from_str(json_text).ok()?;
            if kind == '2' {
                let name = args.first()?.as_str()?.to_owned();
                Some(Incoming::Event(
                    name,
                    args.get(1).cloned().unwrap_or(Value::Null),
                ))
            } else {
                Some(Incoming::Ack(
                    digits.parse().ok()?,
                    args.first().cloned().unwrap_or(Value::Null),
                ))
            }
        }
        _ => None,
    }
}

/// A BINARY_ACK `46<n>-<id>[reply]`: its id, first argument and attachment count.
fn parse_binary_ack(text: &str) -> Option<(u64, Value, usize)> {
    let (count, rest) = text.strip_prefix("46")?.split_once('-')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let args: Vec<Value> = serde_json::from_str(rest.get(digits.len()..)?).ok()?;
    Some((
        digits.parse().ok()?,
        args.first().cloned().unwrap_or(Value::Null),
        count.parse().ok()?,
    ))
}

impl SioClient {
    /// Opens a WebSocket, joins `/` with `auth`. `Err` carries the
    /// CONNECT_ERROR message.
    pub async fn connect(
        addr: SocketAddr,
        auth: Option<Value>,
        query: &str,
    ) -> Result<Self, String> {
        let mut ws = Self::open_engine(addr, query).await?;
        let connect = match auth {
            Some(a) => format!("40{a}"),
            None => "40".to_owned(),
        };
        ws.send(Message::text(connect))
            .await
            .map_err(|e| e.to_string())?;
        Self::joined(ws, false).await
    }

    /// [`connect`](Self::connect) speaking socket.io-msgpack-parser's
    /// format (`frinny-server --parser msgpack`): Engine.IO's packets stay
    /// text, Socket.IO's are binary.
    pub async fn connect_msgpack(
        addr: SocketAddr,
        auth: Option<Value>,
        query: &str,
    ) -> Result<Self, String> {
        let mut ws = Self::open_engine(addr, query).await?;
        let connect = Packet::Connect {
            nsp: "/".into(),
            auth: auth.map(|a| a.to_string().into()),
        };
        ws.send(msgpack_frame(&connect))
            .await
            .map_err(|e| e.to_string())?;
        Self::joined(ws, true).await
    }

    /// A WebSocket with its Engine.IO open packet read, ready for CONNECT.
    async fn open_engine(addr: SocketAddr, query: &str) -> Result<Ws, String> {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket{query}");
        let (mut ws, _) = timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .map_err(|_| "ws connect timed out".to_owned())?
            .map_err(|e| format!("ws connect failed: {e}"))?;
        let open = next_text(&mut ws).await.ok_or("no open packet")?;
        assert!(
            open.starts_with('0'),
            "engine open packet expected, got {open}"
        );
        Ok(ws)
    }

    /// Waits for the answer to the CONNECT just sent.
    async fn joined(mut ws: Ws, msgpack: bool) -> Result<Self, String> {
        let connected = |sid: String, ws: Ws| Self {
            ws,
            next_ack: 1,
            sid,
            backlog: VecDeque::new(),
            msgpack,
        };
        if msgpack {
            loop {
                let msg = timeout(WAIT, ws.next())
                    .await
                    .map_err(|_| "no CONNECT reply")?
                    .ok_or("closed before CONNECT reply")?
                    .map_err(|e| e.to_string())?;
                match msg {
                    Message::Text(t) if t.as_str() == "2" => {
                        ws.send(Message::text("3"))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    Message::Binary(b) => {
                        match msgpack::decode(&b, &Limits::default()).map_err(|e| e.to_string())? {
                            Packet::Connect { auth, .. } => {
                                let v: Value =
                                    serde_json::from_str(auth.as_deref().unwrap_or("{}"))
                                        .map_err(|e| e.to_string())?;
                                let sid = v["sid"].as_str().unwrap_or_default().to_owned();
                                return Ok(connected(sid, ws));
                            }
                            Packet::ConnectError { data, .. } => {
                                let v: Value =
                                    serde_json::from_str(&data).map_err(|e| e.to_string())?;
                                return Err(v["message"].as_str().unwrap_or(&data).to_owned());
                            }
                            other => panic!("unexpected packet while connecting: {other:?}"),
                        }
                    }
                    Message::Close(_) => return Err("closed before CONNECT reply".into()),
                    other => panic!("unexpected frame while connecting: {other:?}"),
                }
            }
        }
        loop {
            let text = next_text(&mut ws)
                .await
                .ok_or("closed before CONNECT reply")?;
            if text == "2" {
                ws.send(Message::text("3"))
                    .await
                    .map_err(|e| e.to_string())?;
                continue;
            }
            if text == "1" {
                return Err("the server closed the session".into());
            }
            if let Some(body) = text.strip_prefix("40") {
                let v: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
                let sid = v["sid"].as_str().unwrap_or_default().to_owned();
                return Ok(connected(sid, ws));
            }
            if let Some(body) = text.strip_prefix("44") {
                let v: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
                return Err(v["message"].as_str().unwrap_or(body).to_owned());
            }
            panic!("unexpected packet while connecting: {text}");
        }
    }

    /// An EVENT in the client's parser, with an ack id when given.
    fn event_frame(&self, event: &str, data: &Value, id: Option<u64>) -> Message {
        if self.msgpack {
            let args = json!([data]).to_string();
            return msgpack_frame(&Packet::event("/", event, &args, id).expect("an event"));
        }
        let id = id.map(|i| i.to_string()).unwrap_or_default();
        Message::text(format!("42{id}{}", json!([event, data])))
    }

    pub async fn emit(&mut self, event: &str, data: Value) {
        let frame = self.event_frame(event, &data, None);
        self.ws.send(frame).await.expect("send");
    }

    /// Sends a binary frame as is.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).await.expect("send");
    }

    /// Sends raw text (an Engine.IO packet) as is.
    pub async fn send_raw(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    pub async fn emit_with_ack(&mut self, event: &str, data: Value) -> u64 {
        let id = self.next_ack;
        self.next_ack += 1;
        let frame = self.event_frame(event, &data, Some(id));
        self.ws.send(frame).await.expect("send");
        id
    }

    /// The next incoming packet before `deadline`, answering pings.
    async fn recv_until(&mut self, deadline: Instant) -> Option<Incoming> {
        if let Some(i) = self.backlog.pop_front() {
            return Some(i);
        }
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let msg = timeout(left, self.ws.next()).await.ok()?;
            let text = match msg {
                Some(Ok(Message::Text(t))) => t.to_string(),
                Some(Ok(Message::Binary(b))) if self.msgpack => match parse_msgpack_packet(&b) {
                    Some(i) => return Some(i),
                    None => continue,
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    return Some(Incoming::Disconnected)
                }
                Some(Ok(_)) => continue,
            };
            if text == "2" {
                let _ = self.ws.send(Message::text("3")).await;
                continue;
            }
            if text == "1" {
                return Some(Incoming::Disconnected);
            }
            if let Some((id, reply, count)) = parse_binary_ack(&text) {
                let mut attachments = Vec::new();
                while attachments.len() < count {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    match timeout(left, self.ws.next()).await.ok()? {
                        Some(Ok(Message::Binary(b))) => attachments.push(b.to_vec()),
                        Some(Ok(_)) => continue,
                        _ => return Some(Incoming::Disconnected),
                    }
                }
                return Some(Incoming::BinaryAck(id, reply, attachments));
            }
            if let Some(i) = parse_socket_packet(&text) {
                return Some(i);
            }
        }
    }

    /// The next packet within `d`.
    pub async fn next(&mut self, d: Duration) -> Option<Incoming> {
        self.recv_until(Instant::now() + d).await
    }

    /// Everything that arrives within `d`.
    pub async fn collect_for(&mut self, d: Duration) -> Vec<Incoming> {
        let deadline = Instant::now() + d;
        let mut out = Vec::new();
        while let Some(i) = self.recv_until(deadline).await {
            let stop = i == Incoming::Disconnected;
            out.push(i);
            if stop {
                break;
            }
        }
        out
    }

    /// Waits for the next `name` event, keeping the others for later.
    pub async fn event(&mut self, name: &str) -> Value {
        self.try_event(name, WAIT)
            .await
            .unwrap_or_else(|| panic!("no `{name}` event within {WAIT:?}"))
    }

    pub async fn try_event(&mut self, name: &str, d: Duration) -> Option<Value> {
        let deadline = Instant::now() + d;
        let mut kept = Vec::new();
        let mut found = None;
        let mut backlog = std::mem::take(&mut self.backlog);
        while let Some(i) = backlog.pop_front() {
            match i {
                Incoming::Event(n, v) if n == name && found.is_none() => found = Some(v),
                other => kept.push(other),
            }
        }
        while found.is_none() {
            match self.recv_until(deadline).await {
                Some(Incoming::Event(n, v)) if n == name => found = Some(v),
                Some(Incoming::Disconnected) => {
                    kept.push(Incoming::Disconnected);
                    break;
                }
                Some(other) => kept.push(other),
                None => break,
            }
        }
        self.backlog.extend(kept);
        found
    }

    /// Waits for the ack `id`, keeping other packets.
    pub async fn ack(&mut self, id: u64) -> Value {
        self.ack_with_attachments(id).await.0
    }

    /// Waits for the ack `id` (plain or binary), keeping other packets.
    pub async fn ack_with_attachments(&mut self, id: u64) -> (Value, Vec<Vec<u8>>) {
        let deadline = Instant::now() + WAIT;
        let mut kept = Vec::new();
        let mut backlog = std::mem::take(&mut self.backlog);
        let mut found = None;
        while let Some(i) = backlog.pop_front() {
            match i {
                Incoming::Ack(a, v) if a == id && found.is_none() => found = Some((v, Vec::new())),
                Incoming::BinaryAck(a, v, b) if a == id && found.is_none() => found = Some((v, b)),
                other => kept.push(other),
            }
        }
        while found.is_none() {
            match self.recv_until(deadline).await {
                Some(Incoming::Ack(a, v)) if a == id => found = Some((v, Vec::new())),
                Some(Incoming::BinaryAck(a, v, b)) if a == id => found = Some((v, b)),
                Some(other) => kept.push(other),
                None => break,
            }
        }
        self.backlog.extend(kept);
        found.unwrap_or_else(|| panic!("no ack {id} within {WAIT:?}"))
    }

    /// Events named `name` within `d` (others are kept).
    pub async fn events_named(&mut self, name: &str, d: Duration) -> Vec<Value> {
        let all = self.collect_for(d).await;
        let mut out = Vec::new();
        for i in all {
            match i {
                Incoming::Event(n, v) if n == name => out.push(v),
                other => self.backlog.push_back(other),
            }
        }
        out
    }

    /// Forgets the packets kept for later.
    pub fn backlog_clear(&mut self) {
        self.backlog.clear();
    }

    pub async fn close(mut self) {
        let leave = if self.msgpack {
            msgpack_frame(&Packet::Disconnect { nsp: "/".into() })
        } else {
            Message::text("41")
        };
        let _ = self.ws.send(leave).await;
        let _ = self.ws.close(None).await;
    }
}

async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match timeout(WAIT, ws.next()).await.ok()?? {
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// A raw HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl HttpResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP request over a fresh loopback connection.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> HttpResponse {
    let fut = async {
        let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        if let Some(t) = bearer {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            req.push_str("\r\n");
        }
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let raw = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = raw.split_once("\r\n\r\n").expect("http response");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        HttpResponse {
            status,
            headers: head.to_owned(),
            body,
        }
    };
    timeout(WAIT, fut).await.expect("http request timed out")
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

// ----- several instances sharing Redis (issue 12) -----------------------------------------

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Fails with the Debian package to install when `program` is missing.
pub fn require(program: &str, version_arg: &str, package: &str) {
    let ok = Command::new(program)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{program}` is not on PATH: install Debian's `{package}` package \
         (`cargo xtask setup` does, or `apt-get install -y {package}`)"
    );
}

/// Waits (bounded) until something listens on `port`.
pub fn wait_port(child: &mut Child, port: u16, what: &str) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = std::time::Instant::now();
    loop {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early ({status})");
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what} did not listen on {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "frinny-{tag}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (and reaped) on drop, even when a test panics.
pub struct Proc(pub Child);

impl Proc {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Sends `signal` (`STOP`, `CONT`, `KILL`, ...).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{signal} {}", self.pid());
    }

    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SIGKILL also ends a SIGSTOPped process.
        self.kill();
    }
}

/// `redis-server` on a free loopback port, no persistence, in a temp dir.
pub struct RedisProcess {
    pub proc: Proc,
    pub port: u16,
    _dir: TempDir,
}

impl RedisProcess {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// On `port` (to bring Redis back where the instances expect it).
    pub fn start_on(port: u16) -> Self {
        require("redis-server", "--version", "redis-server");
        let dir = TempDir::new("redis");
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server starts");
        let mut proc = Proc(child);
        wait_port(&mut proc.0, port, "redis-server");
        Self {
            proc,
            port,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// Redis and two in-process instances sharing it.
pub struct TestCluster {
    pub a: TestServer,
    pub b: TestServer,
    pub redis: RedisProcess,
}

impl TestCluster {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// With `tweak` applied to both instances' configuration.
    pub async fn start_with(tweak: impl Fn(&mut Config)) -> Self {
        let redis = RedisProcess::start();
        let config = || {
            let mut c = Config::for_tests(false);
            c.redis = Some(redis.url());
            tweak(&mut c);
            c
        };
        let a = TestServer::start(config()).await;
        let b = TestServer::start(config()).await;
        Self { a, b, redis }
    }

    pub async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
    }
}

/// The `frinny-server` binary as a process (so that a test can kill it).
pub struct ServerProcess {
    pub proc: Proc,
    pub addr: SocketAddr,
}

impl ServerProcess {
    pub fn start(redis_url: &str) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_frinny-server"))
            .args([
                "--port",
                &port.to_string(),
                "--redis",
                redis_url,
                "--log",
                "warn",
            ])
            .args([
                "--jwt-secret",
                "test-secret-test-secret-test-secret",
                "--admin-token",
                ADMIN,
            ])
            .args(["--redis-timeout-ms", "1000"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("frinny-server starts");
        let mut proc = Proc(child);
        wait_port(&mut proc.0, port, "frinny-server");
        Self {
            proc,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

/// nginx with the shipped `deploy/nginx/frinny.conf` in front of `backends`.
pub struct NginxProcess {
    pub proc: Proc,
    pub addr: SocketAddr,
    _dir: TempDir,
}

impl NginxProcess {
    pub fn start(backends: &[SocketAddr]) -> Self {
        require("nginx", "-v", "nginx");
        let dir = TempDir::new("nginx");
        let port = free_port();
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx/frinny.conf");
        let site = std::fs::read_to_string(&shipped).expect("deploy/nginx/frinny.conf");
        let site = frinny_site_for(&site, port, backends);
        std::fs::write(dir.0.join("frinny.conf"), site).expect("write site");
        let d = dir.0.display();
        let main = format!(
            // One process: killing it leaves no orphaned worker behind.
            "master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 include {d}/frinny.conf;\n}}\n"
        );
        std::fs::write(dir.0.join("nginx.conf"), main).expect("write nginx.conf");
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(dir.0.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        let mut proc = Proc(child);
        wait_port(&mut proc.0, port, "nginx");
        Self {
            proc,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _dir: dir,
        }
    }
}

/// The shipped site with its listen port and upstream servers replaced.
pub fn frinny_site_for(site: &str, port: u16, backends: &[SocketAddr]) -> String {
    let servers: String = backends
        .iter()
        .map(|b| format!("    server {b} max_fails=1 fail_timeout=10s;\n"))
        .collect();
    let mut out = String::new();
    let mut in_upstream = false;
    for line in site.lines() {
        let t = line.trim_start();
        if t.starts_with("upstream frinny") {
            in_upstream = true;
            out.push_str(line);
            out.push('\n');
            out.push_str(&servers);
            continue;
        }
        if in_upstream && t.starts_with("server ") {
            continue;
        }
        if in_upstream && t.starts_with('}') {
            in_upstream = false;
        }
        if t.starts_with("listen ") {
            out.push_str(&format!("    listen 127.0.0.1:{port};\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

//! Load generator for `cargo xtask bench` (section 6, the server).
//!
//! `loadgen fanout` opens `--clients` WebSocket connections speaking Engine.IO
//! v4 / Socket.IO v5 text frames (handshake, namespace join, pongs for every
//! ping), then asks the server `--broadcasts` times, `--interval-ms` apart, to
//! fan an event out to everyone through `POST /broadcast` (admin bearer
//! token). Each broadcast carries the wall-clock time it was sent in
//! microseconds; every client measures the latency when the frame arrives.
//! With `--server-pid`, the server's RSS and CPU time are read from
//! `/proc/<pid>` around the broadcast phase.
//!
//! Everything is bounded: connecting gives up after `--connect-secs`, each
//! broadcast waits at most `--wait-ms` for its copies, and the whole run
//! stops after `--time-limit-secs`. Results are printed as
//! `RESULT <key> <value>` lines for xtask to read.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

const USAGE: &str = "\
usage: loadgen fanout --ws-url ws://HOST:PORT/socket.io/ --http HOST:PORT --token T
                      [--clients 2000] [--broadcasts 40] [--interval-ms 250]
                      [--wait-ms 3000] [--connect-secs 90] [--time-limit-secs 180]
                      [--server-pid PID] [--event bench_fanout]";

struct Args {
    ws_url: String,
    http: String,
    token: String,
    clients: usize,
    broadcasts: usize,
    interval: Duration,
    wait: Duration,
    connect_limit: Duration,
    time_limit: Duration,
    server_pid: Option<u32>,
    event: String,
}

fn parse_args() -> Result<Args, String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = raw.split_first() else {
        return Err(USAGE.into());
    };
    if mode != "fanout" {
        return Err(format!("unknown mode {mode:?}\n{USAGE}"));
    }
    let mut a = Args {
        ws_url: String::new(),
        http: String::new(),
        token: String::new(),
        clients: 2000,
        broadcasts: 40,
        interval: Duration::from_millis(250),
        wait: Duration::from_millis(3000),
        connect_limit: Duration::from_secs(90),
        time_limit: Duration::from_secs(180),
        server_pid: None,
        event: "bench_fanout".into(),
    };
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a whole number: {value}"))
        };
        match flag.as_str() {
            "--ws-url" => a.ws_url = value.clone(),
            "--http" => a.http = value.clone(),
            "--token" => a.token = value.clone(),
            "--clients" => a.clients = num()? as usize,
            "--broadcasts" => a.broadcasts = num()? as usize,
            "--interval-ms" => a.interval = Duration::from_millis(num()?),
            "--wait-ms" => a.wait = Duration::from_millis(num()?),
            "--connect-secs" => a.connect_limit = Duration::from_secs(num()?),
            "--time-limit-secs" => a.time_limit = Duration::from_secs(num()?),
            "--server-pid" => a.server_pid = Some(num()? as u32),
            "--event" => a.event = value.clone(),
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    if a.ws_url.is_empty() || a.http.is_empty() || a.token.is_empty() {
        return Err(USAGE.into());
    }
    Ok(a)
}

/// What the client tasks tell the collector.
enum Msg {
    Joined,
    Failed(String),
    /// One broadcast copy arrived, `latency_us` after it was sent.
    Got {
        latency_us: u64,
    },
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Raises the soft file-descriptor limit to the hard one.
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls on a valid, owned struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    lim.rlim_cur
}

/// (utime + stime in seconds, VmRSS kB, VmHWM kB) of `pid`.
fn proc_sample(pid: u32) -> Option<(f64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: field 3 (state) is index 0, utime (14) index 11, stime (15) index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Some(((utime + stime) as f64 / ticks, kb("VmRSS:"), kb("VmHWM:")))
}

/// One Engine.IO/Socket.IO client: handshake, join `/`, answer pings,
/// report each broadcast copy's latency, until `stop`.
async fn client(
    i: usize,
    url: String,
    event: Arc<String>,
    gate: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Msg>,
    mut stop: watch::Receiver<bool>,
) {
    // Held until this client has joined, so at most 64 handshakes run at once.
    let mut permit = gate.acquire_owned().await.ok();
    let url = format!("{url}?EIO=4&transport=websocket&userId=bench{i}");
    let mut ws = match tokio::time::timeout(
        Duration::from_secs(20),
        tokio_tungstenite::connect_async(url.as_str()),
    )
    .await
    {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            let _ = tx.send(Msg::Failed(format!("connect: {e}")));
            return;
        }
        Err(_) => {
            let _ = tx.send(Msg::Failed("connect: timed out".into()));
            return;
        }
    };
    let prefix = format!("42[\"{event}\",");
    let mut joined = false;
    loop {
        let frame = tokio::select! {
            f = ws.next() => f,
            _ = stop.changed() => break,
        };
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                if !joined {
                    let _ = tx.send(Msg::Failed(format!("read: {e}")));
                }
                break;
            }
        };
        let text = text.as_str();
        if text.starts_with('0') {
            // Engine.IO open: join the default namespace.
            if ws.send(Message::text("40")).await.is_err() {
                break;
            }
        } else if text == "2" {
            if ws.send(Message::text("3")).await.is_err() {
                break;
            }
        } else if text.starts_with("40") && !joined {
            joined = true;
            permit = None;
            let _ = tx.send(Msg::Joined);
        } else if text.starts_with("44") {
            let _ = tx.send(Msg::Failed(format!("refused: {text}")));
            break;
        } else if text.starts_with(&prefix) {
            let t = serde_json::from_str::<Value>(text.get(2..).unwrap_or("[]"))
                .ok()
                .and_then(|v| v.get(1).and_then(|p| p.get("t")).and_then(Value::as_u64));
            if let Some(t) = t {
                let _ = tx.send(Msg::Got {
                    latency_us: now_us().saturating_sub(t),
                });
            }
        } else if text.starts_with('1') || text.starts_with("41") {
            break;
        }
    }
    drop(permit);
    let _ = ws.close(None).await;
}

/// `POST /broadcast` over a fresh HTTP/1.1 connection; the status code.
async fn post_broadcast(http: &str, token: &str, body: &str) -> Result<u16, String> {
    let mut s = TcpStream::connect(http)
        .await
        .map_err(|e| format!("POST /broadcast: {e}"))?;
    let req = format!(
        "POST /broadcast HTTP/1.1\r\nHost: {http}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("POST /broadcast: {e}"))?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)
        .await
        .map_err(|e| format!("POST /broadcast: {e}"))?;
    let head =
        String::from_utf8_lossy(resp.get(..resp.len().min(64)).unwrap_or_default()).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("POST /broadcast: bad response {head:?}"))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
        .unwrap_or(0) as f64
}

fn result(key: &str, value: impl std::fmt::Display) {
    println!("RESULT {key} {value}");
}

async fn run(a: Args) -> Result<(), String> {
    let started = Instant::now();
    let nofile = raise_nofile();
    eprintln!(
        "loadgen: RLIMIT_NOFILE {nofile}, {} clients to {}",
        a.clients, a.ws_url
    );
    if (nofile as usize) < a.clients + 64 {
        return Err(format!(
            "RLIMIT_NOFILE {nofile} is too low for {} clients",
            a.clients
        ));
    }
    let before = a.server_pid.and_then(proc_sample);
    if let Some((_, rss, _)) = before {
        result("rss_idle_kb", rss);
    }

    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(64));
    let event = Arc::new(a.event.clone());
    let mut tasks = Vec::with_capacity(a.clients);
    for i in 0..a.clients {
        tasks.push(tokio::spawn(client(
            i,
            a.ws_url.clone(),
            event.clone(),
            gate.clone(),
            tx.clone(),
            stop_rx.clone(),
        )));
    }
    drop(tx);

    // Connect phase.
    let (mut joined, mut failed) = (0usize, 0usize);
    let mut first_failure = None;
    let deadline = Instant::now() + a.connect_limit;
    while joined + failed < a.clients {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(Msg::Joined)) => joined += 1,
            Ok(Some(Msg::Failed(why))) => {
                failed += 1;
                first_failure.get_or_insert(why);
            }
            Ok(Some(Msg::Got { .. })) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    result("clients_joined", joined);
    result("clients_failed", failed);
    result("connect_secs", format!("{connect_secs:.2}"));
    if let Some(why) = &first_failure {
        eprintln!("loadgen: first connection failure: {why}");
    }
    if joined == 0 {
        let _ = stop_tx.send(true);
        return Err(format!(
            "no client joined ({})",
            first_failure.unwrap_or_default()
        ));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let at_start = a.server_pid.and_then(proc_sample);
    if let Some((_, rss, _)) = at_start {
        result("rss_connected_kb", rss);
    }

    // Broadcast phase.
    let phase = Instant::now();
    let mut latencies: Vec<u64> = Vec::with_capacity(joined * a.broadcasts);
    let mut post_ms: Vec<u64> = Vec::new();
    let mut rss_peak = at_start.map(|s| s.1).unwrap_or(0);
    let filler =
        "Valeros raises his shield; the goblin's dogslicer glances off. Frightened 1 ends.";
    for seq in 0..a.broadcasts {
        if started.elapsed() > a.time_limit {
            eprintln!("loadgen: time limit reached after {seq} broadcasts");
            break;
        }
        let tick = Instant::now();
        let payload = json!({
            "seq": seq, "t": now_us(), "level": "info", "combatId": "cmb-7f3a9c",
            "round": 3, "turn": seq % 6, "message": filler,
            "actor": {"id": "act-0001", "name": "Valeros", "hp": {"value": 31, "max": 48}},
        });
        let body = json!({"event": a.event, "payload": payload}).to_string();
        let status = post_broadcast(&a.http, &a.token, &body).await?;
        post_ms.push(tick.elapsed().as_micros() as u64);
        if status != 200 {
            let _ = stop_tx.send(true);
            return Err(format!("POST /broadcast answered {status}"));
        }
        let want = (seq + 1) * joined;
        let wait_until = tick + a.wait;
        while latencies.len() < want {
            let left = wait_until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(Msg::Got { latency_us })) => latencies.push(latency_us),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        if let Some((_, rss, _)) = a.server_pid.and_then(proc_sample) {
            rss_peak = rss_peak.max(rss);
        }
        let next = tick + a.interval;
        tokio::time::sleep_until(next.into()).await;
    }
    // Late copies still count.
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        if let Msg::Got { latency_us } = m {
            latencies.push(latency_us);
        }
    }
    let phase_secs = phase.elapsed().as_secs_f64();
    let at_end = a.server_pid.and_then(proc_sample);

    let expected = joined * a.broadcasts;
    latencies.sort_unstable();
    post_ms.sort_unstable();
    result("broadcasts", a.broadcasts);
    result("copies_expected", expected);
    result("copies_received", latencies.len());
    result(
        "fanout_p50_ms",
        format!("{:.3}", percentile(&latencies, 50.0) / 1000.0),
    );
    result(
        "fanout_p99_ms",
        format!("{:.3}", percentile(&latencies, 99.0) / 1000.0),
    );
    result(
        "fanout_max_ms",
        format!("{:.3}", percentile(&latencies, 100.0) / 1000.0),
    );
    result(
        "post_p50_ms",
        format!("{:.3}", percentile(&post_ms, 50.0) / 1000.0),
    );
    if let (Some((c0, _, _)), Some((c1, rss, hwm))) = (at_start, at_end) {
        rss_peak = rss_peak.max(rss);
        result("rss_end_kb", rss);
        result("rss_peak_kb", rss_peak);
        result("rss_hwm_kb", hwm);
        result("cpu_secs", format!("{:.2}", c1 - c0));
        result("cpu_pct", format!("{:.1}", (c1 - c0) / phase_secs * 100.0));
    }
    result("phase_secs", format!("{phase_secs:.2}"));

    let _ = stop_tx.send(true);
    let drain = tokio::time::timeout(Duration::from_secs(10), async {
        for t in tasks {
            let _ = t.await;
        }
    });
    if drain.await.is_err() {
        eprintln!("loadgen: some clients did not close within 10 s");
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start tokio: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

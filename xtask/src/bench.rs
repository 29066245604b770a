//! `cargo xtask bench [--skip-build] [--quick] [--only size,client,server,cluster,ui,coldstart,compression,batch]`:
//! the benchmarks of issue 6, side by side with the peers, on loopback.
//!
//! - size: what a page fetches from the package (the wasm after wasm-opt
//!   -O2, and the entry `cargo xtask pack` builds, which has the JS glue,
//!   the event hub, the catalogue and the tab proxy in it) against
//!   socket.io-client's `dist/socket.io.esm.min.js`, raw and gzip -9, and
//!   against the 140 KiB budget of issue 15;
//! - client (sections 2-5), in Debian's headless Chromium (`bench/browser.mjs`,
//!   which runs its own flood and ack servers): inbound throughput, decode +
//!   dispatch without the network, request/response, memory;
//! - server (section 6): frinny-server against a Node socket.io 4.8 server
//!   (`bench/fanout_server.mjs`) under 2,000 clients from `bench/loadgen`;
//! - ui (section 7, issue 11): events per second that reach the screen
//!   through `<frinny-notification-panel>` and `<frinny-combat-updates>`
//!   against a bare subscriber, in headless Chromium (`bench/ui/ui_bench.mjs`);
//! - coldstart (issue 15): from page load, through the client's code (and
//!   our wasm) fetched and compiled, to connected, with the cache disabled,
//!   against socket.io-client (`bench/browser.mjs --only coldstart`,
//!   `bench/page/coldstart.js`);
//! - compression (issue 17): bytes on the wire, counted on the TCP socket,
//!   when one client subscribes to a 200 KiB Foundry-like world state,
//!   asking for a plain snapshot and for a deflated one
//!   (`bench/loadgen/src/bin/subscribe_bytes.rs`), and whether the server
//!   accepts the `permessage-deflate` a browser offers;
//! - batch (issue 17): a burst of 100,000 small events received by our
//!   client in Chromium, in `batch` envelopes as the reference server sends
//!   a burst and one frame each, against a plain WebSocket that receives the
//!   per-frame burst and does nothing with it (`bench/browser.mjs --only batch`).
//!
//! Every load is bounded in count and time. Figures come back as
//! `RESULT <key> <value>` lines; the table (ours / peer against the issue's
//! targets) is printed and written into BENCHMARKS.md between the
//! `<!-- bench:table -->` markers. A section that cannot run prints
//! "not measured: <why>" and the others go on.

use crate::util::{self, cmd, output, run, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Ports of the bench servers: fixed, and below the ephemeral range
/// (32768-60999), so that no outgoing connection can be holding one.
const PAGE_PORT: u16 = 29001; // +1 flood, +2 socket.io acks
const OURS_PORT: u16 = 29010;
const NODE_PORT: u16 = 29011;
const UI_PORT: u16 = 29040; // +1 flood
const COMPRESSION_PORT: u16 = 29050;

const TABLE_START: &str = "<!-- bench:table:start -->";
const TABLE_END: &str = "<!-- bench:table:end -->";

type Figures = BTreeMap<String, f64>;

/// JS heap growth still counted as zero: what a forced GC leaves as noise.
const MEM_NOISE: f64 = 64.0 * 1024.0;

struct Opts {
    build: bool,
    quick: bool,
    only: Vec<String>,
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut o = Opts {
        build: true,
        quick: false,
        only: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip-build" => o.build = false,
            "--quick" => o.quick = true,
            "--only" => {
                let v = it.next().ok_or("--only needs a list: size,client,server,cluster,ui,coldstart,compression,batch")?;
                o.only = v.split(',').map(str::to_owned).collect();
            }
            other => return Err(format!("unknown bench option {other:?} (--skip-build, --quick, --only size,client,server,cluster,ui,coldstart,compression,batch)")),
        }
    }
    Ok(o)
}

pub fn bench(args: &[String]) -> Result {
    let o = parse(args)?;
    let wants = |s: &str| o.only.is_empty() || o.only.iter().any(|x| x == s);
    let started = Instant::now();
    let mut figures = Figures::new();
    let mut missing: Vec<(&str, String)> = Vec::new();

    if o.build {
        if wants("size") || wants("client") || wants("ui") || wants("coldstart") || wants("batch") {
            // The package as a module installs it (pkg/ and the staged
            // target/npm/package/, whose entry is one built file): the size
            // and cold start figures are of that.
            if let Err(e) = crate::package::pack() {
                // An older build still gives figures; say which.
                if util::root().join("target/npm/package/js/index.js").exists() {
                    missing.push(("note", format!("`cargo xtask pack` failed ({e}); the figures are of the package already built")));
                } else {
                    missing.push(("client", format!("`cargo xtask pack` failed: {e}")));
                }
            }
        }
        if wants("server") || wants("compression") {
            if let Err(e) = run(cmd("cargo").args([
                "build",
                "--profile",
                "serve",
                "-p",
                "frinny-server",
                "-p",
                "loadgen",
            ])) {
                for section in ["server", "compression"] {
                    missing.push((
                        section,
                        format!("building frinny-server and loadgen failed: {e}"),
                    ));
                }
            }
        }
    }

    if wants("size") {
        println!("\n=== bench: size ===");
        match sizes(&mut figures) {
            Ok(()) => {}
            Err(e) => missing.push(("size", e)),
        }
    }
    if wants("client") && !missing.iter().any(|(s, _)| *s == "client") {
        println!("\n=== bench: client in headless Chromium (sections 2-5) ===");
        if let Err(e) = client(&o, &mut figures) {
            missing.push(("client", e));
        }
    }
    if wants("server") && !missing.iter().any(|(s, _)| *s == "server") {
        println!("\n=== bench: server fan-out (section 6) ===");
        for (who, port) in [("ours", OURS_PORT), ("node", NODE_PORT)] {
            if let Err(e) = server(who, port, &o, &mut figures) {
                missing.push(("server", format!("{who}: {e}")));
            }
        }
    }
    if wants("ui") && !missing.iter().any(|(s, _)| *s == "client") {
        println!("\n=== bench: UI elements in headless Chromium (section 7) ===");
        if let Err(e) = ui(&o, &mut figures) {
            missing.push(("ui", e));
        }
    }
    if wants("coldstart") && !missing.iter().any(|(s, _)| *s == "client") {
        println!("\n=== bench: cold start in headless Chromium (issue 15) ===");
        if let Err(e) = coldstart(&o, &mut figures) {
            missing.push(("coldstart", e));
        }
    }
    if wants("compression") && !missing.iter().any(|(s, _)| *s == "compression") {
        println!("\n=== bench: compression, subscribe to a 200 KiB world (issue 17) ===");
        if let Err(e) = compression(&mut figures) {
            missing.push(("compression", e));
        }
    }
    if wants("batch") && !missing.iter().any(|(s, _)| *s == "client") {
        println!("\n=== bench: a burst of small events, batched or one frame each (issue 17) ===");
        if let Err(e) = batch(&o, &mut figures) {
            missing.push(("batch", e));
        }
    }
    if wants("cluster") {
        println!("\n=== bench: cluster, two instances on Redis (issue 12) ===");
        if let Err(e) = crate::bench_cluster::bench(o.build, o.quick) {
            missing.push(("cluster", e));
        }
    }

    let table = table(&figures, &o);
    let machine = machine();
    println!(
        "\n=== bench: results ({:.0} s) ===\n{machine}\n\n{table}",
        started.elapsed().as_secs_f64()
    );
    let mut notes = String::new();
    for (section, why) in &missing {
        let line = if *section == "note" {
            format!("note: {why}")
        } else {
            format!("{section}: not measured: {why}")
        };
        println!("{line}");
        notes.push_str(&format!("\n{line}\n"));
    }
    if o.quick || !o.only.is_empty() {
        println!("(--quick or --only: BENCHMARKS.md left as it is)");
    } else {
        write_benchmarks_md(&format!("{machine}\n\n{table}{notes}"))?;
        println!("table written to BENCHMARKS.md");
    }
    Ok(())
}

// ----- 1. size ------------------------------------------------------------------------

fn gzip_len(path: &Path) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let out = Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .stdin(file)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip -9 {} failed", path.display()));
    }
    Ok(out.stdout.len() as u64)
}

fn file_len(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The package's size budget (issue 15): wasm, glue, snippets and entry,
/// each gzipped alone, at most 140 KiB. In the package the glue and the
/// snippets are inside the entry (npm/bundle.mjs).
const SIZE_BUDGET: u64 = 140 * 1024;

/// The raw and `gzip -9` bytes of the file at `path`, printed under `label`.
fn measure(label: &str, path: &Path) -> Result<(u64, u64)> {
    let (raw, gz) = (file_len(path)?, gzip_len(path)?);
    println!(
        "  {label:<6} {raw:>9} B raw {gz:>9} B gzip -9   {}",
        path.display()
    );
    Ok((raw, gz))
}

fn sizes(f: &mut Figures) -> Result {
    let root = util::root();
    // What a page fetches: the wasm, and the package's entry, into which
    // `cargo xtask pack` builds the glue, its snippets (the event hub), the
    // event catalogue and the tab proxy of `shareAcrossTabs` (npm/bundle.mjs):
    // it imports nothing else.
    let parts = [
        ("wasm", "wasm", root.join("pkg/frinny_agent_bg.wasm")),
        (
            "entry",
            "entry",
            root.join("target/npm/package/js/index.js"),
        ),
    ];
    let (mut raw, mut gz) = (0u64, 0u64);
    for (label, key, path) in &parts {
        let (r, g) = measure(label, path)?;
        f.insert(format!("size.{key}.raw"), r as f64);
        f.insert(format!("size.{key}.gz"), g as f64);
        raw += r;
        gz += g;
    }
    f.insert("size.ours.raw".into(), raw as f64);
    f.insert("size.ours.gz".into(), gz as f64);
    f.insert("size.budget.gz".into(), SIZE_BUDGET as f64);
    let peer = root.join("node_modules/socket.io-client/dist/socket.io.esm.min.js");
    let (r, g) = measure("peer", &peer)?;
    f.insert("size.sio.raw".into(), r as f64);
    f.insert("size.sio.gz".into(), g as f64);
    // Where the wasm bytes are: its sections.
    if let Ok(bytes) = std::fs::read(root.join("pkg/frinny_agent_bg.wasm")) {
        let sections = wasm_sections(&bytes);
        let line: Vec<String> = sections.iter().map(|(n, s)| format!("{n} {s}")).collect();
        println!("  wasm sections (bytes): {}", line.join(", "));
        for (name, size) in sections {
            f.insert(format!("size.wasm_section.{name}"), size as f64);
        }
    }
    Ok(())
}

fn leb128(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// (name, size) of each section of a wasm module; custom sections by name.
fn wasm_sections(bytes: &[u8]) -> Vec<(String, u64)> {
    const NAMES: [&str; 13] = [
        "custom",
        "type",
        "import",
        "function",
        "table",
        "memory",
        "global",
        "export",
        "start",
        "element",
        "code",
        "data",
        "datacount",
    ];
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes.get(pos).copied().unwrap_or(0);
        pos += 1;
        let Some(size) = leb128(bytes, &mut pos) else {
            break;
        };
        let body = pos;
        let name = if id == 0 {
            let mut p = body;
            let len = leb128(bytes, &mut p).unwrap_or(0) as usize;
            let n = bytes
                .get(p..p + len)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            format!("custom:{n}")
        } else {
            NAMES
                .get(id as usize)
                .map_or_else(|| format!("id{id}"), |n| (*n).to_owned())
        };
        out.push((name, size));
        pos = body + size as usize;
    }
    out
}

// ----- 2-5. the client in Chromium ---------------------------------------------------------

/// Runs `c`, streaming its stderr, and collects the `RESULT key value` lines of its stdout.
fn collect(c: &mut Command, prefix: &str, f: &mut Figures) -> Result {
    println!("$ {c:?}");
    let out = c
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut errors = Vec::new();
    for line in stdout.lines() {
        let mut w = line.splitn(3, ' ');
        if w.next() != Some("RESULT") {
            continue;
        }
        let (Some(key), Some(value)) = (w.next(), w.next()) else {
            continue;
        };
        match value.parse::<f64>() {
            Ok(v) => {
                f.insert(format!("{prefix}{key}"), v);
            }
            Err(_) => errors.push(format!("{key}: {value}")),
        }
    }
    if !errors.is_empty() {
        println!("  errors: {}", errors.join("; "));
    }
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "exited with {} ({})",
            out.status,
            errors.join("; ")
        ))
    }
}

fn client(o: &Opts, f: &mut Figures) -> Result {
    if !Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
        return Err("Debian's /usr/bin/chromium is not installed (cargo xtask setup)".into());
    }
    if !util::root().join("pkg/frinny_agent_bg.wasm").exists() {
        return Err("pkg/ is missing: run `cargo xtask build`".into());
    }
    let mut c = cmd("node");
    c.arg("bench/browser.mjs")
        .args(["--port", &PAGE_PORT.to_string()]);
    if o.quick {
        c.args([
            "--runs",
            "2",
            "--inbound",
            "20000",
            "--decode",
            "100000",
            "--decode-runs",
            "1",
        ])
        .args([
            "--rtt",
            "1000",
            "--mem-events",
            "100000",
            "--mem-cycles",
            "10000",
        ]);
    }
    collect(&mut c, "", f)
}

// ----- 8. cold start ---------------------------------------------------------------------------

/// `bench/browser.mjs --only coldstart`: page load to connected, ours
/// against socket.io-client, each load in a fresh context without cache.
fn coldstart(o: &Opts, f: &mut Figures) -> Result {
    if !Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
        return Err("Debian's /usr/bin/chromium is not installed (cargo xtask setup)".into());
    }
    if !util::root().join("pkg/frinny_agent_bg.wasm").exists() {
        return Err("pkg/ is missing: run `cargo xtask build`".into());
    }
    let mut c = cmd("node");
    c.arg("bench/browser.mjs")
        .args(["--port", &PAGE_PORT.to_string(), "--only", "coldstart"]);
    if o.quick {
        c.args(["--cold-runs", "3"]);
    }
    collect(&mut c, "", f)
}

// ----- 9. batching ----------------------------------------------------------------------------------

/// `bench/browser.mjs --only batch`: 100,000 small events received by our
/// client in `batch` envelopes and one frame each, and by a plain WebSocket
/// that only counts the frames.
fn batch(o: &Opts, f: &mut Figures) -> Result {
    if !Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
        return Err("Debian's /usr/bin/chromium is not installed (cargo xtask setup)".into());
    }
    if !util::root().join("pkg/frinny_agent_bg.wasm").exists() {
        return Err("pkg/ is missing: run `cargo xtask build`".into());
    }
    let mut c = cmd("node");
    c.arg("bench/browser.mjs")
        .args(["--port", &PAGE_PORT.to_string(), "--only", "batch"]);
    if o.quick {
        c.args(["--batch-runs", "2", "--batch-events", "20000"]);
    }
    collect(&mut c, "", f)
}

// ----- 7. the UI elements -------------------------------------------------------------------------

/// `bench/ui/ui_bench.mjs`: a flood of `notification` / `combat_update`
/// events shown by the elements, against a bare subscriber.
fn ui(o: &Opts, f: &mut Figures) -> Result {
    if !Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
        return Err("Debian's /usr/bin/chromium is not installed (cargo xtask setup)".into());
    }
    if !util::root().join("pkg/frinny_agent_bg.wasm").exists() {
        return Err("pkg/ is missing: run `cargo xtask build`".into());
    }
    let mut c = cmd("node");
    c.arg("bench/ui/ui_bench.mjs")
        .args(["--port", &UI_PORT.to_string()]);
    if o.quick {
        c.args(["--runs", "2", "--events", "20000"]);
    }
    collect(&mut c, "", f)
}

// ----- 6. the server ----------------------------------------------------------------------------

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_listening(child: &mut Child, port: u16, what: &str) -> Result {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited early ({status})"));
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err(format!("{what} did not listen on {port} within 20 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn server(who: &str, port: u16, o: &Opts, f: &mut Figures) -> Result {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(format!("port {port} is already in use"));
    }
    let token = format!("bench-admin-token-{}", std::process::id());
    let root = util::root();
    let mut c = if who == "ours" {
        let bin = root.join("target/serve/frinny-server");
        if !bin.exists() {
            return Err(format!(
                "{} is missing (cargo build --profile serve -p frinny-server)",
                bin.display()
            ));
        }
        let mut c = Command::new(bin);
        c.args([
            "--dev",
            "--port",
            &port.to_string(),
            "--admin-token",
            &token,
        ])
        .args(["--max-connections", "10000", "--log", "error"])
        // A load generator is one address and one user with thousands
        // of sockets: lift the per-user and per-address limits that
        // protect a real server from exactly that.
        .args([
            "--max-connections-per-user",
            "10000",
            "--max-pending-sessions",
            "10000",
        ])
        .args([
            "--handshake-rate-per-ip",
            "10000",
            "--handshake-burst-per-ip",
            "10000",
        ]);
        c
    } else {
        let mut c = cmd("node");
        c.args([
            "bench/fanout_server.mjs",
            "--port",
            &port.to_string(),
            "--admin-token",
            &token,
            "--lifetime",
            "600",
        ]);
        c
    };
    c.current_dir(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    println!("$ {c:?}");
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start the {who} server: {e}"))?;
    let started = wait_listening(&mut child, port, &format!("the {who} server"));
    let server = Server(child);
    started?;
    std::thread::sleep(Duration::from_millis(500));
    let loadgen = root.join("target/serve/loadgen");
    if !loadgen.exists() {
        return Err(format!(
            "{} is missing (cargo build --profile serve -p loadgen)",
            loadgen.display()
        ));
    }
    let (clients, broadcasts) = if o.quick {
        ("500", "10")
    } else {
        ("2000", "40")
    };
    let mut l = Command::new(loadgen);
    l.args([
        "fanout",
        "--ws-url",
        &format!("ws://127.0.0.1:{port}/socket.io/"),
        "--http",
        &format!("127.0.0.1:{port}"),
    ])
    .args([
        "--token",
        &token,
        "--clients",
        clients,
        "--broadcasts",
        broadcasts,
        "--interval-ms",
        "250",
    ])
    .args([
        "--server-pid",
        &server.0.id().to_string(),
        "--time-limit-secs",
        "150",
    ]);
    let r = collect(&mut l, &format!("server.{who}."), f);
    drop(server);
    r
}

// ----- 9. compression ----------------------------------------------------------------------------

/// frinny-server with its default `--compress-threshold-bytes`, and
/// `subscribe_bytes` subscribing to a 200 KiB world through it twice.
fn compression(f: &mut Figures) -> Result {
    let root = util::root();
    let bin = root.join("target/serve/frinny-server");
    let probe = root.join("target/serve/subscribe_bytes");
    for b in [&bin, &probe] {
        if !b.exists() {
            return Err(format!(
                "{} is missing (cargo build --profile serve -p frinny-server -p loadgen)",
                b.display()
            ));
        }
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], COMPRESSION_PORT));
    if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(format!("port {COMPRESSION_PORT} is already in use"));
    }
    let token = format!("bench-admin-token-{}", std::process::id());
    let mut c = Command::new(bin);
    c.args(["--dev", "--port", &COMPRESSION_PORT.to_string()])
        .args(["--admin-token", &token, "--log", "error"])
        .current_dir(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    println!("$ {c:?}");
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start frinny-server: {e}"))?;
    let started = wait_listening(&mut child, COMPRESSION_PORT, "frinny-server");
    let server = Server(child);
    started?;
    let mut p = Command::new(probe);
    p.args([
        "--http",
        &addr.to_string(),
        "--token",
        &token,
        "--kib",
        "200",
    ]);
    let r = collect(&mut p, "", f);
    drop(server);
    r
}

// ----- the table --------------------------------------------------------------------------------

fn get(f: &Figures, k: &str) -> Option<f64> {
    f.get(k).copied().filter(|v| v.is_finite())
}

fn kib(v: f64) -> String {
    format!("{:.1} KiB", v / 1024.0)
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        let s = format!("{:.0}", v.abs());
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if v < 0.0 {
            format!("-{out}")
        } else {
            out
        }
    } else {
        format!("{v:.2}")
    }
}

/// Whether a ratio meets a target: `at_least` or `at_most`.
enum Target {
    AtLeast(f64),
    AtMost(f64),
    Info,
}

struct Row {
    what: String,
    ours: String,
    peer: String,
    ratio: Option<f64>,
    target: Target,
}

fn ratio_row(
    f: &Figures,
    what: &str,
    ours: &str,
    peer: &str,
    peer_name: &str,
    fmt: fn(f64) -> String,
    target: Target,
) -> Row {
    let (a, b) = (get(f, ours), get(f, peer));
    Row {
        what: what.to_owned(),
        ours: a.map_or_else(|| "not measured".to_owned(), fmt),
        peer: b.map_or_else(
            || "not measured".to_owned(),
            |v| format!("{} ({peer_name})", fmt(v)),
        ),
        ratio: a.zip(b).filter(|(_, b)| *b != 0.0).map(|(a, b)| a / b),
        target,
    }
}

fn table(f: &Figures, o: &Opts) -> String {
    let ev = |v: f64| format!("{} ev/s", num(v));
    let us = |v: f64| format!("{} µs", num(v));
    let ms = |v: f64| format!("{v:.2} ms");
    let kb = |v: f64| format!("{:.1} MiB", v / 1024.0);
    let bytes = kib;
    let mut rows = vec![
        ratio_row(
            f,
            "1. size, gzip -9 (wasm + entry, the glue built in)",
            "size.ours.gz",
            "size.sio.gz",
            "socket.io-client",
            bytes,
            Target::AtMost(1.5),
        ),
        ratio_row(
            f,
            "1. size, gzip -9, against the budget of issue 15",
            "size.ours.gz",
            "size.budget.gz",
            "budget",
            bytes,
            Target::AtMost(1.0),
        ),
        ratio_row(
            f,
            "1. size, raw",
            "size.ours.raw",
            "size.sio.raw",
            "socket.io-client",
            bytes,
            Target::Info,
        ),
        ratio_row(
            f,
            "2. inbound over WebSocket, median of runs",
            "inbound.ours.median",
            "inbound.sio.median",
            "socket.io-client",
            ev,
            Target::AtLeast(1.0),
        ),
        ratio_row(
            f,
            "2. inbound over WebSocket, median of runs",
            "inbound.ours.median",
            "inbound.raw.median",
            "raw WebSocket",
            ev,
            Target::AtLeast(0.95),
        ),
        ratio_row(
            f,
            "3. decode + dispatch, no network",
            "decode.ours.median",
            "decode.parser.median",
            "socket.io-parser + emitter",
            ev,
            Target::AtLeast(1.0),
        ),
        ratio_row(
            f,
            "3. decode + dispatch, no network",
            "decode.ours.median",
            "decode.raw.median",
            "JSON.parse",
            ev,
            Target::AtLeast(0.95),
        ),
        ratio_row(
            f,
            "3. decode + dispatch, no network",
            "decode.ours.median",
            "decode.sio-full.median",
            "whole socket.io-client",
            ev,
            Target::Info,
        ),
        ratio_row(
            f,
            "4. request/response p50",
            "rtt.ours.p50_us",
            "rtt.sio.p50_us",
            "socket.io-client",
            us,
            Target::AtMost(1.0),
        ),
        ratio_row(
            f,
            "4. request/response p99",
            "rtt.ours.p99_us",
            "rtt.sio.p99_us",
            "socket.io-client",
            us,
            Target::Info,
        ),
        ratio_row(
            f,
            "6. fan-out latency p50 (2,000 clients)",
            "server.ours.fanout_p50_ms",
            "server.node.fanout_p50_ms",
            "Node socket.io",
            ms,
            Target::Info,
        ),
        ratio_row(
            f,
            "6. fan-out latency p99 (2,000 clients)",
            "server.ours.fanout_p99_ms",
            "server.node.fanout_p99_ms",
            "Node socket.io",
            ms,
            Target::AtMost(1.0),
        ),
        ratio_row(
            f,
            "6. server RSS, 2,000 clients connected",
            "server.ours.rss_connected_kb",
            "server.node.rss_connected_kb",
            "Node socket.io",
            kb,
            Target::AtMost(0.5),
        ),
        ratio_row(
            f,
            "6. server RSS, peak during fan-out",
            "server.ours.rss_peak_kb",
            "server.node.rss_peak_kb",
            "Node socket.io",
            kb,
            Target::AtMost(0.5),
        ),
        ratio_row(
            f,
            "6. server CPU during fan-out (s)",
            "server.ours.cpu_secs",
            "server.node.cpu_secs",
            "Node socket.io",
            |v| format!("{v:.2} s"),
            Target::Info,
        ),
        ratio_row(
            f,
            "7. notifications on screen (<frinny-notification-panel>)",
            "ui.panel.median",
            "ui.bare-notification.median",
            "bare subscriber",
            ev,
            Target::AtLeast(0.9),
        ),
        ratio_row(
            f,
            "7. combat updates on screen (<frinny-combat-updates>)",
            "ui.combat.median",
            "ui.bare-combat.median",
            "bare subscriber",
            ev,
            Target::AtLeast(0.9),
        ),
        ratio_row(
            f,
            "8. cold start: page load to connect() resolved, cache disabled",
            "coldstart.ours.median_ms",
            "coldstart.sio.median_ms",
            "socket.io-client",
            ms,
            Target::AtMost(1.5),
        ),
        ratio_row(
            f,
            "9. subscribe to a 200 KiB world: bytes on the wire, server to client",
            "compression.deflate_down",
            "compression.plain_down",
            "plain JSON",
            bytes,
            Target::AtMost(0.5),
        ),
    ];
    rows.push(Row {
        what: "9. permessage-deflate offered as a browser does".to_owned(),
        ours: match get(f, "compression.pmd_negotiated") {
            Some(v) if v > 0.0 => "negotiated".to_owned(),
            Some(_) => "not negotiated (tungstenite 0.30 has no extensions)".to_owned(),
            None => "not measured".to_owned(),
        },
        peer: "-".to_owned(),
        ratio: None,
        target: Target::Info,
    });
    rows.extend([
        ratio_row(
            f,
            "10. burst of 100,000 small events, batched, median of runs",
            "batch.ours-batched.median",
            "batch.raw-floor.median",
            "raw WebSocket, one frame each, doing nothing",
            ev,
            Target::AtLeast(3.0),
        ),
        ratio_row(
            f,
            "10. burst of 100,000 small events, one frame each",
            "batch.ours-frames.median",
            "batch.raw-floor.median",
            "raw WebSocket, one frame each, doing nothing",
            ev,
            Target::Info,
        ),
        ratio_row(
            f,
            "10. burst of 100,000 small events, batched against one frame each",
            "batch.ours-batched.median",
            "batch.ours-frames.median",
            "ours, one frame each",
            ev,
            Target::Info,
        ),
    ]);
    // 5. memory growth: target zero; GC leaves a little noise in the JS heap.
    for (what, from, to) in [
        ("after 1M inbound events", "warm", "events"),
        ("after 100k subscribe/unsubscribe", "events", "cycles"),
    ] {
        let growth = |k: &str, space: &str| {
            Some(
                get(f, &format!("mem.{k}.{space}_{to}"))?
                    - get(f, &format!("mem.{k}.{space}_{from}"))?,
            )
        };
        let (ours_heap, peer_heap, ours_wasm) = (
            growth("ours", "heap"),
            growth("sio-full", "heap"),
            growth("ours", "wasm"),
        );
        rows.push(Row {
            what: format!("5. memory growth {what} (JS heap; wasm memory)"),
            ours: match (ours_heap, ours_wasm) {
                (Some(h), Some(w)) => format!("{}; {}", signed_kib(h), signed_kib(w)),
                _ => "not measured".into(),
            },
            peer: peer_heap.map_or_else(
                || "not measured".into(),
                |h| format!("{} (socket.io-client)", signed_kib(h)),
            ),
            // For memory rows the "ratio" is our own growth in bytes: the JS
            // heap's (after forced GC), or infinite if the wasm memory grew.
            ratio: ours_heap
                .zip(ours_wasm)
                .map(|(h, w)| if w > 0.0 { f64::INFINITY } else { h.max(0.0) }),
            target: Target::AtMost(MEM_NOISE),
        });
    }
    let mut s = String::new();
    s.push_str("| benchmark | ours | peer | ours / peer | target | verdict |\n|---|---:|---:|---:|---|---|\n");
    for r in &rows {
        let is_mem = r.what.starts_with("5.");
        let (ratio, target, verdict) = match (&r.target, r.ratio) {
            (Target::AtMost(t), Some(x)) if is_mem => (
                "-".to_owned(),
                "zero growth (JS heap ≤ 64 KiB noise, wasm +0)".to_owned(),
                verdict(x <= *t),
            ),
            (Target::AtMost(_), None) if is_mem => (
                "-".to_owned(),
                "zero growth".to_owned(),
                "not measured".to_owned(),
            ),
            (Target::AtLeast(t), Some(x)) => {
                (format!("{x:.2}x"), format!("≥ {t:.2}x"), verdict(x >= *t))
            }
            (Target::AtMost(t), Some(x)) => {
                (format!("{x:.2}x"), format!("≤ {t:.2}x"), verdict(x <= *t))
            }
            (Target::Info, Some(x)) => (format!("{x:.2}x"), "-".to_owned(), "-".to_owned()),
            (Target::AtLeast(t), None) => (
                "-".to_owned(),
                format!("≥ {t:.2}x"),
                "not measured".to_owned(),
            ),
            (Target::AtMost(t), None) => (
                "-".to_owned(),
                format!("≤ {t:.2}x"),
                "not measured".to_owned(),
            ),
            (Target::Info, None) => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {ratio} | {target} | {verdict} |\n",
            r.what, r.ours, r.peer
        ));
    }
    s.push_str(&details(f, o));
    s
}

fn signed_kib(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", kib(v))
    } else {
        format!("-{}", kib(-v))
    }
}

fn verdict(ok: bool) -> String {
    if ok { "met" } else { "**missed**" }.to_owned()
}

/// The figures behind the table, for the record.
fn details(f: &Figures, o: &Opts) -> String {
    let mut s = String::from("\nDetails:\n\n");
    let pick = |prefix: &str| -> Vec<String> {
        f.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| format!("{}={}", k.trim_start_matches(prefix), num(*v)))
            .collect()
    };
    let groups = [
        ("size.", "sizes (bytes)"),
        ("inbound.", "inbound events/s (min, max, spread % of median over the runs)"),
        ("decode.", "decode + dispatch events/s"),
        ("rtt.", "request/response µs"),
        ("mem.", "memory bytes (JS heap after forced GC; wasm linear memory)"),
        ("coldstart.", "cold start ms from navigation start (medians; loaded: client code imported, ready: wasm compiled)"),
        ("batch.", "burst of small events, events/s (ours-batched: in batch envelopes of at most 64 KiB, `frames` of them; raw-parse: JSON.parse and a callback per frame)"),
        ("server.ours.", "frinny-server"),
        ("server.node.", "Node socket.io 4.8"),
        ("compression.", "compression: one state:subscribe of a 200 KiB world, bytes on the TCP socket (down: server to client, up: the request; doc: its JSON)"),
    ];
    for (prefix, title) in groups {
        let items = pick(prefix);
        if !items.is_empty() {
            s.push_str(&format!("- {title}: {}\n", items.join(", ")));
        }
    }
    if o.quick {
        s.push_str("- run with --quick: smaller counts, not comparable with a full run\n");
    }
    s
}

// ----- machine and BENCHMARKS.md ---------------------------------------------------------------

fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown", |(_, m)| m.trim())
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let chromium = output(Command::new("/usr/bin/chromium").arg("--version")).unwrap_or_default();
    let node = output(Command::new("node").arg("--version")).unwrap_or_default();
    format!(
        "Machine: {nproc} CPUs ({model}), {ram_gib:.1} GiB RAM; {}; node {}; run {}",
        chromium.trim(),
        node.trim(),
        date.trim()
    )
}

fn write_benchmarks_md(body: &str) -> Result {
    let path = util::root().join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let block = format!("{TABLE_START}\n{body}\n{TABLE_END}");
    let new = match (old.find(TABLE_START), old.find(TABLE_END)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{block}{}", &old[..a], &old[b + TABLE_END.len()..])
        }
        _ => format!("# Benchmarks\n\nReproduce: `cargo xtask bench`.\n\n{block}\n{old}"),
    };
    let mut file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(new.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

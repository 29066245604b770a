//! The tasks after setup: build, serve, the test suites, fuzzing.

use crate::setup;
use crate::util::{self, cmd, output, run, Result};
use std::process::Command;
use std::time::Instant;

/// `wasm-pack build --target web --release` into pkg/, then wasm-opt -O2,
/// then the JS glue minified.
///
/// wasm-pack's own wasm-opt step is off (Cargo.toml metadata) because it
/// downloads binaryen from outside the package registries. Debian's
/// binaryen (108) cannot parse what wasm-bindgen 0.2.130 emits (externref
/// table ops such as `table.fill`), so the wasm-opt used is the npm
/// `binaryen` package's, pinned in package-lock.json. The `producers` and
/// `target_features` sections are tool metadata no browser reads (-0.2 KiB
/// gzip).
///
/// `-O2` rather than `-Oz`: the Rust side is already built for size
/// (`opt-level = "z"`), and binaryen's shrinking passes on top of it make
/// the wasm smaller but compress worse. On this code `-Oz` gave 431 KB raw,
/// 170.3 KB gzip; `-Os` 438 KB, 169.5 KB; `-O2` 443 KB, 169.3 KB: 1.0 KB
/// less to download, and the client benchmarks stay within their noise.
/// `-O3`, `--converge`, `--gufa` and `-Oz` twice were no smaller.
///
/// wasm-opt's default inlines every function that has one caller, however
/// large, into that caller: the export shims and the driver's handlers then
/// become a few very large functions, which gzip compresses worse than the
/// functions apart (the wasm is smaller, the download larger; see
/// `cargo xtask bench --only size`). `--one-caller-inline-max-function-size`
/// keeps that to tiny functions; what LLVM chose to inline stays inlined.
///
/// The glue as wasm-bindgen writes it carries every rustdoc comment as
/// JSDoc plus indentation and long local names; terser (pinned in
/// package-lock.json) takes it from 42 KB / 8.6 KiB gzip to 15 KB /
/// 4.6 KiB. Property names (the wasm imports and exports, the class's
/// methods) and the module's exports are left alone; TypeScript keeps
/// using frinny_agent.d.ts, which the kept `@ts-self-types` line names
/// and which still has the docs.
pub fn build() -> Result {
    run(cmd("wasm-pack").args(["build", "--target", "web", "--release", "--out-dir", "pkg"]))?;
    let pkg = util::root().join("pkg");
    let wasm = pkg.join("frinny_agent_bg.wasm");
    let bin = util::root().join("node_modules").join(".bin");
    run(Command::new(bin.join("wasm-opt"))
        .args(["-O2", "--one-caller-inline-max-function-size=20"])
        .args(["--strip-producers", "--strip-target-features"])
        .args([
            "--enable-reference-types",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
        ])
        .args([
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-multivalue",
        ])
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
    let glue = pkg.join("frinny_agent.js");
    run(Command::new(bin.join("terser"))
        .arg(&glue)
        .args([
            "--module",
            "--compress",
            "--mangle",
            "--comments",
            "/@ts-self-types/",
            "-o",
        ])
        .arg(&glue))?;
    // The JS the wasm imports (the event hub) is copied under snippets/ as
    // written, comments and all: minified the same way (property names,
    // which the wasm sets, are left alone).
    for snippet in js_files_under(&pkg.join("snippets")) {
        run(Command::new(bin.join("terser"))
            .arg(&snippet)
            .args(["--module", "--compress", "--mangle", "-o"])
            .arg(&snippet))?;
    }
    Ok(())
}

/// The `.js` files below `dir`, if it exists.
fn js_files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(js_files_under(&path));
        } else if path.extension().is_some_and(|e| e == "js") {
            out.push(path);
        }
    }
    out
}

/// Starts the reference server with the demo page.
pub fn serve() -> Result {
    if !util::root().join("server").join("Cargo.toml").exists() {
        return Err(
            "the reference server (server/, issue 4) is not written yet; \
                    `cargo xtask build` has put the client into pkg/"
                .into(),
        );
    }
    run(cmd("cargo").args([
        "run",
        "--profile",
        "serve",
        "--package",
        "frinny-server",
        "--",
        "--dev",
    ]))
}

type Suite = (&'static str, fn() -> Result);

const SUITES: &[Suite] = &[
    ("clippy", clippy),
    ("native", native),
    ("js", js),
    ("browser", browser),
    ("e2e", e2e),
    // Last: the quick fault matrix (tests/soak/), about a minute; it starts
    // and stops its own Redis, server, proxy and Chromium.
    ("soak", crate::soak::suite),
];

/// Runs every suite (or the named ones), prints each outcome and a summary,
/// and fails if any suite failed.
pub fn test(only: &[String]) -> Result {
    for name in only {
        if !SUITES.iter().any(|(n, _)| n == name) {
            return Err(format!("unknown suite {name:?}"));
        }
    }
    let mut outcomes = Vec::new();
    for (name, suite) in SUITES {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        println!("\n=== suite {name} ===");
        let start = Instant::now();
        let result = suite();
        outcomes.push((*name, result, start.elapsed()));
    }
    println!("\n=== summary ===");
    let mut failed = 0;
    for (name, result, took) in &outcomes {
        match result {
            Ok(()) => println!("  ok      {name:<10} {:>6.1}s", took.as_secs_f64()),
            Err(e) => {
                failed += 1;
                println!("  FAILED  {name:<10} {:>6.1}s  {e}", took.as_secs_f64());
            }
        }
    }
    println!(
        "suites: {} passed, {failed} failed",
        outcomes.len() - failed
    );
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} suite(s) failed"))
    }
}

fn clippy() -> Result {
    // Formatting first: the cheapest check and the one most often missed.
    run(cmd("cargo").args(["fmt", "--all", "--check"]))?;
    run(cmd("cargo").args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"]))?;
    run(cmd("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The browser shell only compiles for wasm32: lint it there too.
    run(cmd("cargo").args([
        "clippy",
        "--package",
        "frinny-agent",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn native() -> Result {
    run(cmd("cargo").args(["test", "--workspace"]))
}

/// The hand-written JS (js/) under node's test runner.
fn js() -> Result {
    run(cmd("node").args(["--test", "tests/js/"]))
}

/// The package packed (`cargo xtask pack`, which builds pkg/) and its
/// TypeScript declarations type-checked against usage files, then the node
/// tests of tests/e2e/ in Debian's Chromium (playwright-core): the package
/// installed from its tarball into fresh projects (unbundled and Vite), the
/// Foundry drop-in and module, and the demo page served by the reference
/// server. The tests start their own servers on free loopback ports.
fn e2e() -> Result {
    let tarball = crate::package::pack()?;
    let root = util::root();
    run(cmd(&root
        .join("node_modules")
        .join(".bin")
        .join("tsc")
        .to_string_lossy())
    .args(["-p", "tests/types"]))?;
    run(cmd("cargo").args(["build", "--package", "frinny-server"]))?;
    let server = root.join("target").join("debug").join("frinny-server");
    run(cmd("node")
        .args(["--test", "--test-concurrency=1", "tests/e2e/"])
        .env("FRINNY_SERVER_BIN", server)
        .env("FRINNY_PACKAGE_TGZ", tarball)
        .env(
            "FRINNY_PYTHON",
            setup::python(&util::build_dir().join("venv")),
        ))
}

/// The debug build of the reference server for the browser suite on
/// `port`: dev mode, no demo delay, the suite's admin token, plus `extra`.
fn reference_server(port: u16, extra: &[&str]) -> Command {
    let mut c = cmd(&util::root()
        .join("target")
        .join("debug")
        .join("frinny-server")
        .to_string_lossy());
    c.args(["--dev", "--demo-delay-ms", "0", "--log", "warn"])
        .args(["--admin-token", REFERENCE_ADMIN_TOKEN])
        .args(extra)
        .arg("--port")
        .arg(port.to_string());
    c
}

fn browser() -> Result {
    let chromedriver = output(Command::new("which").arg("chromedriver"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or("chromedriver is not on PATH (Debian package chromium-driver)")?;
    // The interop servers live as long as this guard: dropped (killed) when
    // the tests end, pass or fail.
    let _node = TestServer::start("node socket.io", &[ports::node_sio::PORT], {
        let mut c = cmd("node");
        c.arg("tests/servers/node_sio.mjs")
            .env("SIO_PORT", ports::node_sio::PORT.to_string());
        c
    })?;
    let _polling_only = TestServer::start(
        "node socket.io, polling only",
        &[ports::node_sio_polling::PORT],
        {
            let mut c = cmd("node");
            c.arg("tests/servers/node_sio.mjs")
                .env("SIO_PORT", ports::node_sio_polling::PORT.to_string())
                .env("SIO_TRANSPORTS", "polling");
            c
        },
    )?;
    let _chaos = TestServer::start(
        "node chaos (restartable socket.io, silent Engine.IO)",
        &[ports::chaos_control::PORT],
        {
            let mut c = cmd("node");
            c.arg("tests/servers/node_chaos.mjs")
                .env("CHAOS_CONTROL_PORT", ports::chaos_control::PORT.to_string())
                .env("CHAOS_SIO_PORT", ports::chaos_sio::PORT.to_string())
                .env("CHAOS_SILENT_PORT", ports::chaos_silent::PORT.to_string());
            c
        },
    )?;
    run(cmd("cargo").args(["build", "--package", "frinny-server"]))?;
    let _reference = TestServer::start(
        "reference (frinny-server --dev)",
        &[ports::reference::PORT],
        reference_server(ports::reference::PORT, &[]),
    )?;
    let _batching = TestServer::start(
        "reference with batching (frinny-server --dev --batch-window-ms 20)",
        &[ports::batching::PORT],
        // A burst of a few hundred events from one GM is the point.
        reference_server(
            ports::batching::PORT,
            &[
                "--batch-window-ms",
                "20",
                "--rate-per-connection",
                "1000",
                "--burst-per-connection",
                "1000",
                "--rate-per-user",
                "1000",
                "--burst-per-user",
                "1000",
            ],
        ),
    )?;
    let _python = TestServer::start("python-socketio Frinny", &[ports::python_frinny::PORT], {
        let mut c = cmd(&setup::python(&util::build_dir().join("venv")).to_string_lossy());
        c.args([
            "tests/servers/frinny_backend.py",
            "--lifetime",
            "600",
            "--port",
        ])
        .arg(ports::python_frinny::PORT.to_string());
        c
    })?;
    let _msgpack = TestServer::start(
        "node socket.io, msgpack parser",
        &[ports::node_sio_msgpack::PORT],
        {
            let mut c = cmd("node");
            c.arg("tests/servers/node_sio_msgpack.mjs")
                .env("SIO_PORT", ports::node_sio_msgpack::PORT.to_string());
            c
        },
    )?;
    let _reference_msgpack = TestServer::start(
        "reference, msgpack parser (frinny-server --dev --parser msgpack)",
        &[ports::reference_msgpack::PORT],
        reference_server(ports::reference_msgpack::PORT, &["--parser", "msgpack"]),
    )?;
    let _json = TestServer::start("plain JSON WebSocket", &[ports::json_ws::PORT], {
        let mut c = cmd("node");
        c.args([
            "tests/servers/json_server.mjs",
            "--lifetime",
            "600",
            "--port",
        ])
        .arg(ports::json_ws::PORT.to_string());
        c
    })?;
    run(cmd("wasm-pack")
        .args([
            "test",
            "--headless",
            "--chrome",
            "--",
            "--test",
            "browser_*",
        ])
        .env("CHROMEDRIVER", chromedriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120"))?;
    // The same tests in Firefox (Debian's firefox-esr), against the same
    // servers. GECKODRIVER names the one setup installed from crates.io, so
    // wasm-pack does not download its own.
    let geckodriver = output(Command::new("which").arg("geckodriver"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or("geckodriver is not on PATH (cargo install geckodriver)")?;
    run(cmd("wasm-pack")
        .args([
            "test",
            "--headless",
            "--firefox",
            "--",
            "--test",
            "browser_*",
        ])
        .env("GECKODRIVER", geckodriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120"))
}

/// The browser suite's ports, shared with the tests that dial them.
#[path = "../../tests/browser_support/ports.rs"]
#[allow(dead_code)]
mod ports;
/// The admin token the browser tests use for the reference server's
/// `POST /state/update`.
const REFERENCE_ADMIN_TOKEN: &str = "browser-tests-admin";

/// A server process for the browser tests, killed when dropped. The servers
/// also exit by themselves after 10 minutes, in case this process dies first.
struct TestServer {
    name: &'static str,
    child: std::process::Child,
}

impl TestServer {
    /// Spawns `command` once every one of `ports` is free, and waits (up to
    /// 15 s) until 127.0.0.1:`ports[0]` accepts: a server with several
    /// ports listens on that one last. Its stderr is copied to ours line by
    /// line, and its last lines go into the error if it exits early, so a
    /// failed start says why.
    fn start(name: &'static str, ports: &[u16], mut command: Command) -> Result<TestServer> {
        use std::io::{BufRead, BufReader};
        use std::net::{SocketAddr, TcpStream};
        use std::process::Stdio;
        use std::time::Duration;
        let listening = |port: u16| {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        };
        if let Some(port) = ports.iter().copied().find(|p| listening(*p)) {
            return Err(format!(
                "port {port} for the {name} test server is already in use"
            ));
        }
        let ready = *ports.first().ok_or("a test server needs a port")?;
        println!("$ starting the {name} test server on 127.0.0.1:{ports:?}");
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the {name} test server: {e}"))?;
        let stderr = child.stderr.take();
        let copier = std::thread::spawn(move || {
            let mut last = std::collections::VecDeque::new();
            for line in stderr.into_iter().flat_map(|s| BufReader::new(s).lines()) {
                let Ok(line) = line else { break };
                eprintln!("[{name}] {line}");
                if last.len() == 20 {
                    last.pop_front();
                }
                last.push_back(line);
            }
            last.into_iter().collect::<Vec<_>>().join("\n")
        });
        let mut server = TestServer { name, child };
        let start = Instant::now();
        loop {
            if listening(ready) {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let said = copier.join().unwrap_or_default();
                return Err(format!(
                    "the {name} test server exited early ({status}); its last words:\n{said}"
                ));
            }
            if start.elapsed() > Duration::from_secs(15) {
                return Err(format!(
                    "the {name} test server did not listen on port {ready} within 15 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            println!("$ stopping the {} test server", self.name);
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

const FUZZ_TARGETS: &[&str] = &[
    "engine_io_text",
    "engine_io_payload",
    "engine_io_handshake",
    "socket_io_decoder",
    "json_frame",
    "json_scan",
    "msgpack_decoder",
];

/// `cargo xtask fuzz [--seconds N] [TARGET...]`: each target for N seconds.
pub fn fuzz(args: &[String]) -> Result {
    let mut seconds = 60u64;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seconds" {
            seconds = it
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or("--seconds needs a whole number")?;
        } else if FUZZ_TARGETS.contains(&a.as_str()) {
            targets.push(a.as_str());
        } else {
            return Err(format!(
                "unknown fuzz target {a:?}; targets: {}",
                FUZZ_TARGETS.join(", ")
            ));
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.to_vec();
    }
    let toolchains = output(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        return Err(
            "cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly".into(),
        );
    }
    if output(Command::new("cargo").args(["fuzz", "--version"])).is_none() {
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    for t in targets {
        let corpus = util::root().join("fuzz").join("corpus").join(t);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        let seeds = util::root().join("fuzz").join("seeds").join(t);
        let mut c = cmd("cargo");
        c.args(["+nightly", "fuzz", "run", t]).arg(&corpus);
        if seeds.is_dir() {
            c.arg(&seeds);
        }
        c.arg("--").arg(format!("-max_total_time={seconds}"));
        run(&mut c)?;
    }
    Ok(())
}

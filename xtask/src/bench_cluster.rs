//! `cargo xtask bench --only cluster`: the scale-out benchmark of issue 12.
//!
//! Two `frinny-server --redis` instances on one Redis, 2,000 clients on each
//! (4,000 in all, from two `bench/loadgen` processes), against two Node
//! socket.io 4.8 servers with `@socket.io/redis-adapter` on a Redis of their
//! own (`bench/cluster/node_server.mjs`). Each load generator connects its
//! clients to one instance and posts its broadcasts to the *other* one, so
//! every measured copy crossed Redis; the two use different event names, so
//! each counts only its own while both instances carry both loads. RSS and
//! CPU are sampled per instance by the load generator of its clients.
//!
//! Targets: fan-out p99 ≤ Node's, RSS per instance ≤ 0.5× Node's. The table
//! goes into BENCHMARKS.md between the `bench:cluster` markers (not with
//! `--quick`).

use crate::cluster::{check_free, redis, secret, server_binary, Proc};
use crate::util::{self, cmd, output, run, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

const START: &str = "<!-- bench:cluster:start -->";
const END: &str = "<!-- bench:cluster:end -->";

/// A free loopback port. Fixed ports in the ephemeral range collide with
/// the local ports of the 4,000 client connections of the previous side.
fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

type Figures = BTreeMap<String, f64>;

/// Runs the benchmark; prints the table and, unless `quick`, writes it
/// into BENCHMARKS.md.
pub fn bench(build: bool, quick: bool) -> Result {
    if build {
        run(cmd("cargo").args([
            "build",
            "--profile",
            "serve",
            "-p",
            "frinny-server",
            "-p",
            "loadgen",
        ]))?;
    }
    let mut f = Figures::new();
    let mut notes = Vec::new();
    for side in ["ours", "node"] {
        if let Err(e) = one_side(side, quick, &mut f) {
            notes.push(format!("{side}: not measured: {e}"));
        }
    }
    let table = table(&f, quick);
    println!("\n{table}");
    for n in &notes {
        println!("{n}");
    }
    if quick {
        println!("(--quick: BENCHMARKS.md left as it is)");
        return if notes.is_empty() {
            Ok(())
        } else {
            Err(notes.join("; "))
        };
    }
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let node = output(Command::new("node").arg("--version")).unwrap_or_default();
    let redis_v = output(Command::new("redis-server").arg("--version")).unwrap_or_default();
    let mut body = format!(
        "Run {}; {} CPUs; node {}; {}\n\n{table}",
        date.trim(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        node.trim(),
        redis_v
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    for n in &notes {
        body.push_str(&format!("\n{n}\n"));
    }
    write_section(&body)?;
    println!("cluster table written to BENCHMARKS.md");
    if notes.is_empty() {
        Ok(())
    } else {
        Err(notes.join("; "))
    }
}

fn one_side(side: &str, quick: bool, f: &mut Figures) -> Result {
    let (a, b, r) = (free_port()?, free_port()?, free_port()?);
    for p in [a, b, r] {
        check_free(p)?;
    }
    if a == b || b == r || a == r {
        return Err("the system handed out the same free port twice; run again".into());
    }
    let dir = util::build_dir().join(format!("bench-cluster-{side}"));
    let _ = std::fs::remove_dir_all(&dir);
    let redis_proc = redis(r, &dir)?;
    let redis_url = format!("redis://127.0.0.1:{r}");
    let token = secret("bench-admin");
    let jwt = secret("bench-jwt");
    let mut instances = Vec::new();
    for port in [a, b] {
        let mut c = if side == "ours" {
            let mut c = Command::new(server_binary()?);
            c.args(["--dev", "--port", &port.to_string(), "--redis", &redis_url])
                .args(["--admin-token", &token, "--jwt-secret", &jwt])
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
                "bench/cluster/node_server.mjs",
                "--port",
                &port.to_string(),
                "--redis",
                &redis_url,
            ])
            .args(["--admin-token", &token, "--lifetime", "600"]);
            c
        };
        c.current_dir(util::root())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        instances.push(Proc::spawn(&format!("{side} :{port}"), &mut c, port)?);
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let loadgen = util::root().join("target/serve/loadgen");
    if !loadgen.exists() {
        return Err(format!(
            "{} is missing (cargo build --profile serve -p loadgen)",
            loadgen.display()
        ));
    }
    let (clients, broadcasts) = if quick { ("500", "10") } else { ("2000", "40") };
    // Clients on one instance, broadcasts posted to the other.
    let plan = [("a", a, b, &instances[0]), ("b", b, a, &instances[1])];
    let mut runs = Vec::new();
    for (name, ws, post, server) in plan {
        let mut l = Command::new(&loadgen);
        l.args([
            "fanout",
            "--ws-url",
            &format!("ws://127.0.0.1:{ws}/socket.io/"),
            "--http",
            &format!("127.0.0.1:{post}"),
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
            "--event",
            &format!("bench_{name}"),
            "--server-pid",
            &server.child.id().to_string(),
        ])
        .args(["--time-limit-secs", "150"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        println!("$ {l:?}");
        runs.push((
            name,
            l.spawn()
                .map_err(|e| format!("cannot start loadgen: {e}"))?,
        ));
    }
    let mut failures = Vec::new();
    for (name, child) in runs {
        let out = child
            .wait_with_output()
            .map_err(|e| format!("loadgen {name}: {e}"))?;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut w = line.splitn(3, ' ');
            if let (Some("RESULT"), Some(k), Some(v)) = (w.next(), w.next(), w.next()) {
                if let Ok(v) = v.parse::<f64>() {
                    f.insert(format!("{side}.{name}.{k}"), v);
                }
            }
        }
        if !out.status.success() {
            failures.push(format!("loadgen {name} exited with {}", out.status));
        }
    }
    drop(instances);
    drop(redis_proc);
    let _ = std::fs::remove_dir_all(&dir);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

fn get(f: &Figures, k: &str) -> Option<f64> {
    f.get(k).copied().filter(|v| v.is_finite())
}

/// The worse of the two instances (`max`) or their mean.
fn both(f: &Figures, side: &str, key: &str, worst: bool) -> Option<f64> {
    let (a, b) = (
        get(f, &format!("{side}.a.{key}"))?,
        get(f, &format!("{side}.b.{key}"))?,
    );
    Some(if worst { a.max(b) } else { (a + b) / 2.0 })
}

/// (what, figure key, worse-of-two rather than mean, format, target ratio).
type Row = (
    &'static str,
    &'static str,
    bool,
    fn(f64) -> String,
    Option<f64>,
);

fn table(f: &Figures, quick: bool) -> String {
    let ms = |v: f64| format!("{v:.2} ms");
    let mib = |v: f64| format!("{:.1} MiB", v / 1024.0);
    let rows: [Row; 6] = [
        (
            "fan-out p50 through Redis (worse instance)",
            "fanout_p50_ms",
            true,
            ms,
            None,
        ),
        (
            "fan-out p99 through Redis (worse instance)",
            "fanout_p99_ms",
            true,
            ms,
            Some(1.0),
        ),
        (
            "fan-out max (worse instance)",
            "fanout_max_ms",
            true,
            ms,
            None,
        ),
        (
            "RSS per instance, clients connected (mean of 2)",
            "rss_connected_kb",
            false,
            mib,
            Some(0.5),
        ),
        (
            "RSS per instance, peak during fan-out (mean of 2)",
            "rss_peak_kb",
            false,
            mib,
            Some(0.5),
        ),
        (
            "CPU per instance during fan-out (mean of 2)",
            "cpu_secs",
            false,
            |v| format!("{v:.2} s"),
            None,
        ),
    ];
    let clients = if quick { "500 + 500" } else { "2,000 + 2,000" };
    let mut s = format!(
        "Two instances on one Redis, {clients} clients, each broadcast posted to the other instance.\n\n\
         | benchmark | frinny-server --redis | Node socket.io 4.8 + redis-adapter | ours / Node | target | verdict |\n\
         |---|---:|---:|---:|---|---|\n"
    );
    for (what, key, worst, fmt, target) in rows {
        let (o, n) = (both(f, "ours", key, worst), both(f, "node", key, worst));
        let ratio = o.zip(n).filter(|(_, n)| *n != 0.0).map(|(o, n)| o / n);
        let (t, verdict) = match (target, ratio) {
            (Some(t), Some(r)) => (
                format!("≤ {t:.2}x"),
                if r <= t { "met" } else { "**missed**" }.to_owned(),
            ),
            (Some(t), None) => (format!("≤ {t:.2}x"), "not measured".to_owned()),
            (None, _) => ("-".to_owned(), "-".to_owned()),
        };
        s.push_str(&format!(
            "| {what} | {} | {} | {} | {t} | {verdict} |\n",
            o.map_or_else(|| "not measured".into(), fmt),
            n.map_or_else(|| "not measured".into(), fmt),
            ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}x")),
        ));
    }
    s.push_str("\nDetails (per instance a, b):\n\n");
    for side in ["ours", "node"] {
        let items: Vec<String> = f
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{side}.")))
            .map(|(k, v)| format!("{}={v}", k.trim_start_matches(&format!("{side}."))))
            .collect();
        if !items.is_empty() {
            s.push_str(&format!("- {side}: {}\n", items.join(", ")));
        }
    }
    s
}

fn write_section(body: &str) -> Result {
    let path = util::root().join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let block = format!("{START}\n{body}\n{END}");
    let new = match (old.find(START), old.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{block}{}", &old[..a], &old[b + END.len()..]),
        _ => format!("{}\n\n## Scale-out: two instances on Redis\n\nReproduce: `cargo xtask bench --only cluster`.\n\n{block}\n", old.trim_end()),
    };
    let mut file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(new.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

//! `cargo xtask cluster [--skip-build] [--port P]`: the scale-out stack on
//! loopback, for trying it by hand: Redis on P+3, two `frinny-server
//! --redis` instances on P+1 and P+2 (sharing the JWT secret and the admin
//! token), and nginx on P (default 5080) with `deploy/nginx/frinny.conf` in
//! front of them. Runs until Ctrl-C or until one of them exits.
//!
//! The process helpers are shared with the cluster benchmark
//! (`bench_cluster.rs`).

use crate::util::{self, cmd, run, Result};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A child process, killed and reaped when dropped.
pub struct Proc {
    pub name: String,
    pub child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Spawns `c` as `name` and waits (20 s at most) until it listens on `port`.
    pub fn spawn(name: &str, c: &mut Command, port: u16) -> Result<Self> {
        println!("$ {c:?}");
        let child = c.spawn().map_err(|e| format!("cannot start {name}: {e}"))?;
        let mut p = Self {
            name: name.to_owned(),
            child,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let start = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(p);
            }
            if let Ok(Some(status)) = p.child.try_wait() {
                return Err(format!("{name} exited early ({status})"));
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(format!("{name} did not listen on {port} within 20 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Fails unless `port` on loopback is free.
pub fn check_free(port: u16) -> Result {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(format!("port {port} is already in use"));
    }
    Ok(())
}

/// A secret of 32 hex digits, different each run (std only: clock and pid).
pub fn secret(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}-{nanos:x}{:08x}", std::process::id())
}

/// `redis-server` on 127.0.0.1:`port`, no persistence, working in `dir`.
pub fn redis(port: u16, dir: &Path) -> Result<Proc> {
    if !util::have("redis-server", "--version") {
        return Err(
            "redis-server is missing: install Debian's `redis-server` package (cargo xtask setup)"
                .into(),
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut c = Command::new("redis-server");
    c.args([
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
    .arg(dir)
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    Proc::spawn("redis-server", &mut c, port)
}

/// The `frinny-server` built with `--profile serve`.
pub fn server_binary() -> Result<PathBuf> {
    let bin = util::root().join("target/serve/frinny-server");
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing (cargo build --profile serve -p frinny-server)",
            bin.display()
        ))
    }
}

/// `deploy/nginx/frinny.conf` with its `listen` port and upstream servers
/// replaced: the shipped site is what runs.
pub fn nginx_site(port: u16, backends: &[u16]) -> Result<String> {
    let path = util::root().join("deploy/nginx/frinny.conf");
    let site = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = String::new();
    let mut in_upstream = false;
    for line in site.lines() {
        let t = line.trim_start();
        if t.starts_with("upstream frinny") {
            in_upstream = true;
            out.push_str(line);
            out.push('\n');
            for b in backends {
                out.push_str(&format!(
                    "    server 127.0.0.1:{b} max_fails=1 fail_timeout=10s;\n"
                ));
            }
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
    Ok(out)
}

/// nginx (one process, no root paths) on `port` in front of `backends`.
pub fn nginx(port: u16, backends: &[u16], dir: &Path) -> Result<Proc> {
    if !util::have("nginx", "-v") {
        return Err(
            "nginx is missing: install Debian's `nginx` package (cargo xtask setup)".into(),
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("frinny.conf"), nginx_site(port, backends)?)
        .map_err(|e| e.to_string())?;
    let d = dir.display();
    let main = format!(
        "master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 16384; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         \x20 include {d}/frinny.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).map_err(|e| e.to_string())?;
    let mut c = Command::new("nginx");
    c.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    Proc::spawn("nginx", &mut c, port)
}

struct Opts {
    build: bool,
    port: u16,
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut o = Opts {
        build: true,
        port: 5080,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip-build" => o.build = false,
            "--port" => {
                let v = it.next().ok_or("--port needs a number")?;
                o.port = v.parse().map_err(|_| format!("--port: not a port: {v}"))?;
                if o.port > u16::MAX - 3 {
                    return Err(
                        "--port leaves no room for the instances and Redis (P+1..P+3)".into(),
                    );
                }
            }
            other => {
                return Err(format!(
                    "unknown cluster option {other:?} (--skip-build, --port P)"
                ))
            }
        }
    }
    Ok(o)
}

pub fn cluster(args: &[String]) -> Result {
    let o = parse(args)?;
    let (lb, a, b, rport) = (o.port, o.port + 1, o.port + 2, o.port + 3);
    for p in [lb, a, b, rport] {
        check_free(p)?;
    }
    if o.build {
        crate::suites::build()?;
    }
    run(cmd("cargo").args(["build", "--profile", "serve", "-p", "frinny-server"]))?;
    let bin = server_binary()?;
    let dir = util::build_dir().join("cluster");
    let _ = std::fs::remove_dir_all(&dir);
    let jwt = secret("jwt");
    let admin = secret("admin");
    let redis_url = format!("redis://127.0.0.1:{rport}");

    let mut procs = vec![redis(rport, &dir.join("redis"))?];
    for port in [a, b] {
        let mut c = Command::new(&bin);
        c.args(["--dev", "--port", &port.to_string(), "--redis", &redis_url])
            .args(["--jwt-secret", &jwt, "--admin-token", &admin])
            .current_dir(util::root())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        procs.push(Proc::spawn(
            &format!("frinny-server :{port}"),
            &mut c,
            port,
        )?);
    }
    procs.push(nginx(lb, &[a, b], &dir.join("nginx"))?);

    println!(
        "\nThe cluster is up (Ctrl-C stops it):\n\
         \x20 demo page through nginx  http://127.0.0.1:{lb}/\n\
         \x20 instance A               http://127.0.0.1:{a}/   (/healthz, /metrics)\n\
         \x20 instance B               http://127.0.0.1:{b}/\n\
         \x20 Redis                    {redis_url}   (redis-cli -p {rport} monitor)\n\
         \x20 admin token              {admin}\n\n\
         Try: curl -s -H 'Authorization: Bearer {admin}' -H 'Content-Type: application/json' \\\n\
         \x20      -d '{{\"level\":\"info\",\"title\":\"Hi\",\"message\":\"from B\"}}' http://127.0.0.1:{b}/notify\n\
         and watch it reach a page connected through nginx (whichever instance it landed on).\n"
    );
    loop {
        for p in &mut procs {
            if let Ok(Some(status)) = p.child.try_wait() {
                return Err(format!("{} exited ({status}); stopping the others", p.name));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

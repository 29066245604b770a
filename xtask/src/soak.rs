//! `cargo xtask soak [--quick] [--skip-build] [--seed N]`: the fault matrix
//! of issue 16.
//!
//! 20 browser clients (AgentManagers in Debian's Chromium, playwright-core)
//! send requests through a TCP proxy to `frinny-server --redis` while a fault
//! injector kills, stalls and cuts the server, Redis and the links, and
//! slips malformed and oversized frames both ways. The driver is
//! `tests/soak/soak.mjs`; it starts and stops everything it needs (Redis,
//! the server, the proxy, the page server, Chromium) on free loopback ports
//! and prints, last, `soak: N requests, F faults, hung H, double-settled D,
//! lost L`. The full run is 10,000 requests and 100 faults in about 8
//! minutes; `--quick` a tenth of both in about a minute (`cargo xtask test`
//! runs that one as the suite `soak`).

use crate::suites;
use crate::util::{self, cmd, run, Result};

/// Options of the task.
struct Options {
    quick: bool,
    build: bool,
    seed: Option<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        quick: false,
        build: true,
        seed: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--skip-build" => o.build = false,
            "--seed" => {
                let v = it.next().ok_or("--seed needs a whole number")?;
                v.parse::<u32>()
                    .map_err(|_| format!("--seed: not a whole number: {v}"))?;
                o.seed = Some(v.clone());
            }
            other => {
                return Err(format!(
                    "soak: unknown option {other:?} (--quick, --skip-build, --seed N)"
                ))
            }
        }
    }
    Ok(o)
}

/// `cargo xtask soak`: builds the client package (unless `--skip-build` and
/// it exists) and the server, then runs the driver.
pub fn soak(args: &[String]) -> Result {
    let o = parse(args)?;
    run_soak(o)
}

/// The `soak` suite of `cargo xtask test`: the quick run, building the
/// package only if no earlier suite (e2e) has.
pub fn suite() -> Result {
    let built = util::root()
        .join("pkg")
        .join("frinny_agent_bg.wasm")
        .exists();
    run_soak(Options {
        quick: true,
        build: !built,
        seed: None,
    })
}

fn run_soak(o: Options) -> Result {
    if !util::have("redis-server", "--version") {
        return Err(
            "the soak needs redis-server (Debian package redis-server; `cargo xtask setup`)".into(),
        );
    }
    let pkg = util::root().join("pkg").join("frinny_agent_bg.wasm");
    if o.build || !pkg.exists() {
        suites::build()?;
    }
    run(cmd("cargo").args(["build", "--package", "frinny-server"]))?;
    let server = util::root()
        .join("target")
        .join("debug")
        .join("frinny-server");
    let mut node = cmd("node");
    node.arg("tests/soak/soak.mjs")
        .env("FRINNY_SERVER_BIN", server);
    if o.quick {
        node.arg("--quick");
    }
    if let Some(seed) = &o.seed {
        node.args(["--seed", seed]);
    }
    run(&mut node)
}

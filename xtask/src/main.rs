//! `cargo xtask <setup|build|gen|pack|run|test|fuzz|soak|bench>`: the project's task runner.
//!
//! Everything a fresh machine needs is installed by `setup`, which every other
//! task runs first. Each step checks before it acts, so a second run does
//! nothing and takes seconds.

mod bench;
mod bench_cluster;
mod cluster;
mod package;
mod setup;
mod soak;
mod suites;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  setup              install what is missing (rust target, wasm-pack, wasm-bindgen-cli,
                     chromium, chromium-driver, binaryen, npm packages, python venv)
  build              wasm-pack build --target web --release into pkg/, then wasm-opt -O2
  gen                write js/EventTypes.js and js/EventTypes.d.ts from src/catalogue.rs
  pack               build, then the npm package target/npm/frinny-agent-<version>.tgz
                     (its path is the last line) and the Foundry module target/foundry/frinny.zip
  run                setup, build, then start the reference server with the demo page
  test [SUITE...]    setup, then every suite (or only the named ones):
                     clippy, native, js, browser, e2e, soak
  fuzz [--seconds N] [TARGET...]
                     run each cargo-fuzz target for N seconds (default 60)
  cluster [--skip-build] [--port P]
                     setup, build, then Redis, two `frinny-server --redis` instances and
                     nginx (deploy/nginx/frinny.conf) on loopback: nginx on P (5080)
  soak [--quick] [--skip-build] [--seed N]
                     20 browser clients, 10,000 requests, 100 faults (--quick: a tenth,
                     about a minute); last line: soak: N requests, F faults, hung H, ...
  bench [--skip-build] [--quick] [--only size,client,server,cluster,ui,coldstart,compression]
                     benchmarks side by side with the peers; table into BENCHMARKS.md
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match task.as_str() {
        "setup" => setup::all(),
        "build" => setup::all().and_then(|()| suites::build()),
        "gen" => package::gen(),
        "pack" => setup::all().and_then(|()| package::pack().map(drop)),
        "run" => setup::all()
            .and_then(|()| suites::build())
            .and_then(|()| suites::serve()),
        "test" => setup::all().and_then(|()| suites::test(rest)),
        "fuzz" => suites::fuzz(rest),
        "cluster" => setup::all().and_then(|()| cluster::cluster(rest)),
        "soak" => setup::all().and_then(|()| soak::soak(rest)),
        "bench" => setup::all().and_then(|()| bench::bench(rest)),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}

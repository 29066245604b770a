//! `cargo xtask setup`: install only what is missing.

use crate::util::{self, cmd, have, is_root, output, run, Result};
use std::path::Path;
use std::process::Command;

/// Debian's binaryen (108) is too old for current wasm-bindgen output; wasm-opt
/// comes from the npm `binaryen` package instead (see `suites::build`).
/// `redis-server` and `nginx`: the scale-out tests and `cargo xtask cluster`
/// start their own on free loopback ports. `firefox-esr`: the browser suite
/// runs in Firefox too (players use it), driven by geckodriver.
const DEBIAN_PACKAGES: &[&str] = &[
    "chromium",
    "chromium-driver",
    "firefox-esr",
    "redis-server",
    "nginx",
];

pub fn all() -> Result {
    rust_target()?;
    wasm_pack()?;
    wasm_bindgen_cli()?;
    geckodriver()?;
    debian_packages()?;
    npm_packages()?;
    python_venv()?;
    Ok(())
}

fn rust_target() -> Result {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn wasm_pack() -> Result {
    if have("wasm-pack", "--version") {
        return Ok(());
    }
    run(Command::new("cargo").args(["install", "wasm-pack", "--locked"]))
        .or_else(|_| run(Command::new("cargo").args(["install", "wasm-pack"])))
}

/// The wasm-bindgen version pinned in Cargo.lock: the CLI must match it
/// exactly or the generated glue refuses the module.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(util::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
            {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn wasm_bindgen_cli() -> Result {
    let want = locked_wasm_bindgen_version()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return Ok(());
    }
    let exact = format!("={want}");
    // --locked first (reproducible); its lock file can name a crate version the
    // registry no longer serves, so fall back to a fresh resolution.
    run(Command::new("cargo").args([
        "install",
        "wasm-bindgen-cli",
        "--locked",
        "--version",
        &exact,
    ]))
    .or_else(|_| {
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &exact]))
    })
}

/// Firefox's WebDriver, for `wasm-pack test --firefox`: from crates.io,
/// since wasm-pack would otherwise download a prebuilt one.
fn geckodriver() -> Result {
    if have("geckodriver", "--version") {
        return Ok(());
    }
    run(Command::new("cargo").args(["install", "geckodriver", "--locked"]))
        .or_else(|_| run(Command::new("cargo").args(["install", "geckodriver"])))
}

fn debian_installed(pkg: &str) -> bool {
    output(Command::new("dpkg-query").args(["-W", "-f=${Status}", pkg]))
        .is_some_and(|s| s.contains("install ok installed"))
}

fn debian_packages() -> Result {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .copied()
        .filter(|p| !debian_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing Debian packages: {0}\n  install them with: sudo apt-get update && sudo apt-get install -y {0}",
            missing.join(" ")
        ));
    }
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// `npm ci` from the committed lock file, unless node_modules already holds
/// exactly that lock file's packages (a stamp records its fingerprint).
fn npm_packages() -> Result {
    let root = util::root();
    let lock = root.join("package-lock.json");
    let stamp = root.join("node_modules").join(".xtask-lock-fingerprint");
    let want = util::fingerprint(&lock).ok_or("package-lock.json is missing")?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    run(cmd("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    std::fs::write(&stamp, want).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// A virtualenv in `.build/venv` with `tests/requirements.txt`.
fn python_venv() -> Result {
    let reqs = util::root().join("tests").join("requirements.txt");
    let venv = util::build_dir().join("venv");
    let stamp = venv.join(".xtask-requirements-fingerprint");
    let want = util::fingerprint(&reqs).ok_or("tests/requirements.txt is missing")?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    if !venv.join("bin").join("python").exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(python(&venv))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&reqs))?;
    std::fs::write(&stamp, want).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// The venv's python interpreter.
pub fn python(venv: &Path) -> std::path::PathBuf {
    venv.join("bin").join("python")
}

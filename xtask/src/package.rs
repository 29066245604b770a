//! `cargo xtask gen` and `cargo xtask pack`: the generated JS catalogue, the
//! npm package and the Foundry module zip.
//!
//! The package keeps the repository's layout (`js/` beside `pkg/`), so
//! relative paths resolve the same way in the repository, in
//! `node_modules/frinny-agent/`, and under a Foundry module's
//! `lib/frinny-agent/`. What differs: npm/bundle.mjs builds the staged
//! `js/index.js` into one file with what it imports (the glue, its
//! snippets, the catalogue, the tab proxy) and `js/share/worker.js` into one
//! with the glue and the hub, and `js/EventTypes.js` re-exports the
//! catalogue from the entry.

use crate::suites;
use crate::util::{self, cmd, run, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `js/EventTypes.js` and `js/EventTypes.d.ts` from src/catalogue.rs.
pub fn gen() -> Result {
    run(cmd("cargo").args([
        "run",
        "--quiet",
        "--package",
        "frinny-agent",
        "--example",
        "event_types",
        "--",
        "js",
    ]))
}

/// Builds the client, stages the package in `target/npm/package/`, packs it
/// into `target/npm/frinny-agent-<version>.tgz`, assembles the Foundry
/// module into `target/foundry/frinny/` and `target/foundry/frinny.zip`,
/// and prints the tarball's path as its last line. Returns that path.
pub fn pack() -> Result<PathBuf> {
    suites::build()?;
    let root = util::root();
    let version = crate_version(&root.join("Cargo.toml"))?;
    let manifest = read(&root.join("npm").join("package.json"))?;
    if !manifest.contains(&format!("\"version\": \"{version}\"")) {
        return Err(format!(
            "npm/package.json must have \"version\": \"{version}\", as Cargo.toml does"
        ));
    }

    let npm = root.join("target").join("npm");
    let stage = npm.join("package");
    fresh_dir(&stage)?;
    copy(
        &root.join("npm").join("package.json"),
        &stage.join("package.json"),
    )?;
    copy(
        &root.join("npm").join("README.md"),
        &stage.join("README.md"),
    )?;
    copy_tree(&root.join("js"), &stage.join("js"))?;
    // wasm-pack also writes a package.json and .gitignore into pkg/: the
    // package's own manifest is npm/package.json, so only these go in.
    let pkg = root.join("pkg");
    for name in [
        "frinny_agent.js",
        "frinny_agent.d.ts",
        "frinny_agent_bg.wasm",
        "frinny_agent_bg.wasm.d.ts",
    ] {
        copy(&pkg.join(name), &stage.join("pkg").join(name))?;
    }
    copy_tree(&pkg.join("snippets"), &stage.join("pkg").join("snippets"))?;
    // The entry and the SharedWorker's script, each with everything it
    // imports built in (npm/bundle.mjs says why): a cold start fetches one
    // file before the wasm, not a graph.
    run(cmd("node")
        .arg(root.join("npm").join("bundle.mjs"))
        .arg(&stage))?;

    let tarball = npm.join(format!("frinny-agent-{version}.tgz"));
    let _ = std::fs::remove_file(&tarball);
    run(Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&npm)
        .current_dir(&stage))?;
    if !tarball.exists() {
        return Err(format!("npm pack did not write {}", tarball.display()));
    }

    foundry_module(&root, &stage)?;
    println!("{}", tarball.display());
    Ok(tarball)
}

/// `target/foundry/frinny/`: the module (`foundry/`) with the staged
/// package under `lib/frinny-agent/` (where its main script imports it
/// from), and the same zipped with `module.json` at the top, as Foundry
/// installs modules.
fn foundry_module(root: &Path, stage: &Path) -> Result {
    let src = root.join("foundry");
    let out = root.join("target").join("foundry");
    let module = out.join("frinny");
    fresh_dir(&module)?;
    copy_tree(&src, &module)?;
    copy_tree(stage, &module.join("lib").join("frinny-agent"))?;
    let zip = out.join("frinny.zip");
    let _ = std::fs::remove_file(&zip);
    let mut entries: Vec<String> = std::fs::read_dir(&module)
        .map_err(|e| format!("cannot list {}: {e}", module.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    // Python's zipfile rather than zip(1): python3 is already required
    // (the test venv), zip is one more package to install.
    run(Command::new("python3")
        .args(["-m", "zipfile", "-c"])
        .arg(&zip)
        .args(&entries)
        .current_dir(&module))?;
    println!("Foundry module: {}", zip.display());
    Ok(())
}

/// The `version` of the `[package]` table of a Cargo.toml.
fn crate_version(manifest: &Path) -> Result<String> {
    let text = read(manifest)?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(v) = line.strip_prefix("version = \"") {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err(format!("no [package] version in {}", manifest.display()))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn fresh_dir(dir: &Path) -> Result {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn copy(from: &Path, to: &Path) -> Result {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// Copies every file below `from` to the same place below `to`.
fn copy_tree(from: &Path, to: &Path) -> Result {
    for file in files_under(from)? {
        let rel = file.strip_prefix(from).map_err(|e| e.to_string())?;
        copy(&file, &to.join(rel))?;
    }
    Ok(())
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

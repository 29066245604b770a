//! Small helpers for running commands from the repository root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// A command that runs in the repository root.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root());
    c
}

/// Runs `c`, echoing it first, and fails unless it exits 0.
pub fn run(c: &mut Command) -> Result {
    println!("$ {}", describe(c));
    let status = c
        .status()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(c)))
    }
}

/// Runs `c` quietly and returns its stdout if it exits 0.
pub fn output(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True if `program` is on PATH and runs.
pub fn have(program: &str, version_arg: &str) -> bool {
    output(Command::new(program).arg(version_arg)).is_some()
}

pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The directory for build artefacts that are neither cargo's nor npm's
/// (the python venv, stamps). Ignored by git.
pub fn build_dir() -> PathBuf {
    root().join(".build")
}

/// A cheap content fingerprint (FNV-1a) to tell whether a lock file changed
/// since the last install.
pub fn fingerprint(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Some(format!("{h:016x}"))
}

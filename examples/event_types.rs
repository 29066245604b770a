//! Writes `EventTypes.js` and `EventTypes.d.ts` from the catalogue into the
//! directory given (default `js/`). `cargo xtask gen` runs it.
//!
//! ```sh
//! cargo run --example event_types -- js
//! ```

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use frinny_agent::catalogue::generate;
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "js".to_owned()));
    for (name, text) in [
        ("EventTypes.js", generate::event_types_js()),
        ("EventTypes.d.ts", generate::event_types_dts()),
    ] {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
            return std::process::ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    std::process::ExitCode::SUCCESS
}

// The generator is native-only; the example still has to build for wasm32
// under `cargo clippy --target wasm32-unknown-unknown --all-targets`.
#[cfg(target_arch = "wasm32")]
fn main() {}

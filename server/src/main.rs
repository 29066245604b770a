//! `frinny-server`: the reference Frinny backend. See `--help`.

use clap::Parser;
use frinny_server::Config;
use std::process::ExitCode;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    let filter: Targets = config.log.parse().unwrap_or_else(|e| {
        eprintln!(
            "frinny-server: ignoring bad log filter {:?}: {e}",
            config.log
        );
        Targets::new().with_default(tracing::Level::INFO)
    });
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(filter)
        .init();
    match frinny_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frinny-server: {e}");
            ExitCode::FAILURE
        }
    }
}

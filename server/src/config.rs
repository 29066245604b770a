//! Command-line flags and environment variables. Every flag also reads an
//! environment variable (`FRINNY_*`), so the server can be configured either way.

use clap::{Parser, ValueEnum};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Configuration of the reference Frinny backend.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "frinny-server",
    version,
    about = "Reference Frinny backend (Socket.IO v5)"
)]
pub struct Config {
    /// Address to bind. `--dev` only allows a loopback address.
    #[arg(long, env = "FRINNY_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,

    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "FRINNY_PORT", default_value_t = 5001)]
    pub port: u16,

    /// HMAC secret that signs and checks socket tokens (HS256). Required
    /// outside `--dev`; in `--dev` a random one is made when absent.
    #[arg(long, env = "FRINNY_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Bearer token for `POST /broadcast`, `/notify`, `/state/update`. Without
    /// it those endpoints refuse every call (in `--dev` one is made and logged).
    #[arg(long, env = "FRINNY_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Development mode (loopback only): serves `GET /dev/token` and accepts
    /// the legacy unauthenticated `userId` query of the old Foundry module.
    #[arg(long, env = "FRINNY_DEV")]
    pub dev: bool,

    /// Origins allowed to call the HTTP endpoints and the long-polling
    /// transport from a page of another origin (a Foundry server on :30000,
    /// say); comma-separated in the env var. `*` allows any. In `--dev`
    /// with none given, any origin is allowed (the server is loopback only).
    #[arg(
        long = "allow-origin",
        env = "FRINNY_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,

    /// Directory served at `/` (the demo page).
    #[arg(long, env = "FRINNY_WWW_DIR", default_value = default_dir("www"))]
    pub www_dir: PathBuf,

    /// Directory served at `/pkg` (wasm-pack output).
    #[arg(long, env = "FRINNY_PKG_DIR", default_value = default_dir("pkg"))]
    pub pkg_dir: PathBuf,

    /// Directory served at `/js` (the package's hand-written JS: the entry,
    /// EventTypes, the components). Beside `/pkg` as in the npm package, so
    /// the entry's `../pkg/` import resolves.
    #[arg(long, env = "FRINNY_JS_DIR", default_value = default_dir("js"))]
    pub js_dir: PathBuf,

    /// Maximum simultaneous Socket.IO connections.
    #[arg(long, env = "FRINNY_MAX_CONNECTIONS", default_value_t = 1000)]
    pub max_connections: usize,

    /// Maximum simultaneous Socket.IO connections of one user (one user id
    /// in one world). One more is refused with `TOO_MANY_CONNECTIONS`.
    #[arg(long, env = "FRINNY_MAX_CONNECTIONS_PER_USER", default_value_t = 8)]
    pub max_connections_per_user: usize,

    /// Engine.IO sessions opened but not yet joined to the namespace, over
    /// all peers. A handshake past it is refused with 503 `SERVER_BUSY`, so
    /// a flood of handshakes that never join cannot exhaust the server.
    #[arg(long, env = "FRINNY_MAX_PENDING_SESSIONS", default_value_t = 256)]
    pub max_pending_sessions: usize,

    /// Sustained new Engine.IO sessions per second allowed from one peer
    /// address (refused with 429 `RATE_LIMITED` beyond).
    #[arg(long, env = "FRINNY_HANDSHAKE_RATE_PER_IP", default_value_t = 20)]
    pub handshake_rate_per_ip: u32,

    /// Burst of new Engine.IO sessions allowed from one peer address.
    #[arg(long, env = "FRINNY_HANDSHAKE_BURST_PER_IP", default_value_t = 100)]
    pub handshake_burst_per_ip: u32,

    /// Milliseconds an Engine.IO session may stay without joining the
    /// namespace (a refused CONNECT does not count as joining) before the
    /// server closes it.
    #[arg(long, env = "FRINNY_JOIN_TIMEOUT_MS", default_value_t = 10_000)]
    pub join_timeout_ms: u64,

    /// Milliseconds between the Engine.IO pings the server sends.
    #[arg(long, env = "FRINNY_PING_INTERVAL_MS", default_value_t = 25_000)]
    pub ping_interval_ms: u64,

    /// Milliseconds the server waits for a pong before it drops the link
    /// (clients drop it after `ping interval + ping timeout` without a ping).
    #[arg(long, env = "FRINNY_PING_TIMEOUT_MS", default_value_t = 20_000)]
    pub ping_timeout_ms: u64,

    /// Maximum size in bytes of one event payload or HTTP body. Bigger events
    /// are refused with `PAYLOAD_TOO_LARGE` (the connection stays up, up to a
    /// hard transport limit of 16 times this value).
    #[arg(long, env = "FRINNY_MAX_PAYLOAD_BYTES", default_value_t = 64 * 1024)]
    pub max_payload_bytes: usize,

    /// Largest serialized document of one state scope, in bytes. An update
    /// that would grow it further is refused with `STATE_TOO_LARGE`.
    #[arg(long, env = "FRINNY_STATE_MAX_DOC_BYTES", default_value_t = 256 * 1024)]
    pub state_max_doc_bytes: usize,

    /// Patches kept per state scope for subscribers that fell behind; further
    /// behind, they get a snapshot (0: always a snapshot).
    #[arg(long, env = "FRINNY_STATE_HISTORY", default_value_t = 128)]
    pub state_history: usize,

    /// `state:subscribe` snapshots whose JSON is at least this many bytes
    /// go deflated, as a binary attachment, to clients that announce they
    /// can inflate them (`compress: "deflate"`); 0 turns it off. The
    /// WebSocket stack cannot negotiate permessage-deflate (see README).
    #[arg(long, env = "FRINNY_COMPRESS_THRESHOLD_BYTES", default_value_t = 16 * 1024)]
    pub compress_threshold_bytes: usize,

    /// Sustained events per second allowed on one connection.
    #[arg(long, env = "FRINNY_RATE_PER_CONNECTION", default_value_t = 10)]
    pub rate_per_connection: u32,

    /// Burst of events allowed on one connection.
    #[arg(long, env = "FRINNY_BURST_PER_CONNECTION", default_value_t = 20)]
    pub burst_per_connection: u32,

    /// Sustained events per second allowed for one user (all connections).
    #[arg(long, env = "FRINNY_RATE_PER_USER", default_value_t = 20)]
    pub rate_per_user: u32,

    /// Burst of events allowed for one user.
    #[arg(long, env = "FRINNY_BURST_PER_USER", default_value_t = 40)]
    pub burst_per_user: u32,

    /// Lifetime of tokens minted by `GET /dev/token`, in seconds.
    #[arg(long, env = "FRINNY_DEV_TOKEN_TTL_SECS", default_value_t = 12 * 3600)]
    pub dev_token_ttl_secs: u64,

    /// Pause of the demo responder before it answers, in milliseconds (lets
    /// the typing indicator show).
    #[arg(long, env = "FRINNY_DEMO_DELAY_MS", default_value_t = 400)]
    pub demo_delay_ms: u64,

    /// Seconds to wait for connections to drain on shutdown.
    #[arg(long, env = "FRINNY_SHUTDOWN_GRACE_SECS", default_value_t = 5)]
    pub shutdown_grace_secs: u64,

    /// Redis shared by several instances (`redis://host:port`, optionally
    /// with `user:password@` and a `/db` number): events, state and per-user rate limits then
    /// span every instance that names the same Redis. Without it everything
    /// stays in this process (the embedded default).
    #[arg(
        long = "redis",
        env = "FRINNY_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis: Option<String>,

    /// With `--redis`: how long one Redis operation may take, in
    /// milliseconds, before it counts as failed (a state write then answers
    /// `UNAVAILABLE`, and `/healthz` reports the server degraded).
    #[arg(long, env = "FRINNY_REDIS_TIMEOUT_MS", default_value_t = 2000)]
    pub redis_timeout_ms: u64,

    /// A JSON file of custom event declarations (`x-<module>:<event>`) that
    /// hold in every world: an array of `{name, direction, broadcastable?,
    /// fields?, anyOf?, doc?}`. A bad file stops the start-up, naming the entry.
    #[arg(long = "events", env = "FRINNY_EVENTS_FILE", value_name = "FILE")]
    pub events_file: Option<PathBuf>,

    /// Custom events one world may declare with `events:define` (one more
    /// is refused with `TOO_MANY_EVENTS`); the `--events` file may hold as
    /// many again.
    #[arg(long, env = "FRINNY_MAX_CUSTOM_EVENTS", default_value_t = 64)]
    pub max_custom_events: usize,

    /// Largest payload of a custom event, in bytes (at most
    /// `--max-payload-bytes` applies too). Bigger ones are refused with
    /// `PAYLOAD_TOO_LARGE`.
    #[arg(long, env = "FRINNY_MAX_CUSTOM_PAYLOAD_BYTES", default_value_t = 16 * 1024)]
    pub max_custom_payload_bytes: usize,

    /// Socket.IO packet format: `common` (socket.io-parser's text frames,
    /// what socket.io-client and python-socketio speak) or `msgpack`
    /// (socket.io-msgpack-parser's binary frames; clients need
    /// `parser: 'msgpack'`). Every instance sharing one `--redis` must use
    /// the same: instances of the other parser do not receive its rooms'
    /// broadcasts.
    #[arg(long, env = "FRINNY_PARSER", value_enum, default_value_t = WireParser::Common)]
    pub parser: WireParser,

    /// Milliseconds during which the events pushed to one socket are
    /// coalesced into one `batch` envelope (0: off). Only for clients that
    /// ask (`batch=1` in the handshake query; frinny-agent does), told in
    /// their `connection_established`; replies are never held.
    #[arg(long, env = "FRINNY_BATCH_WINDOW_MS", default_value_t = 0)]
    pub batch_window_ms: u64,

    /// Log filter, e.g. `info` or `info,frinny_server=debug` (also `RUST_LOG`).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log: String,
}

/// The Socket.IO parser the server speaks (`--parser`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum WireParser {
    /// socket.io-parser's text format (the default).
    #[default]
    Common,
    /// The npm socket.io-msgpack-parser 3.x format, through socketioxide's
    /// msgpack parser.
    Msgpack,
}

const fn default_dir(name: &'static str) -> &'static str {
    // Paths relative to the repository root, where `cargo xtask run` starts.
    match name.as_bytes() {
        b"www" => concat!(env!("CARGO_MANIFEST_DIR"), "/../www"),
        b"js" => concat!(env!("CARGO_MANIFEST_DIR"), "/../js"),
        _ => concat!(env!("CARGO_MANIFEST_DIR"), "/../pkg"),
    }
}

/// The longest `--batch-window-ms`.
pub const MAX_BATCH_WINDOW_MS: u64 = 1000;

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// A configuration for tests and embedding: loopback, a free port, fixed
    /// secrets, default limits, no demo delay.
    pub fn for_tests(dev: bool) -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            jwt_secret: Some("test-secret-test-secret-test-secret".to_owned()),
            admin_token: Some("test-admin-token".to_owned()),
            dev,
            allow_origins: Vec::new(),
            www_dir: PathBuf::from(default_dir("www")),
            pkg_dir: PathBuf::from(default_dir("pkg")),
            js_dir: PathBuf::from(default_dir("js")),
            max_connections: 100,
            max_connections_per_user: 100,
            max_pending_sessions: 1000,
            handshake_rate_per_ip: 1000,
            handshake_burst_per_ip: 1000,
            join_timeout_ms: 10_000,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            max_payload_bytes: 64 * 1024,
            state_max_doc_bytes: 256 * 1024,
            state_history: 128,
            compress_threshold_bytes: 16 * 1024,
            rate_per_connection: 1000,
            burst_per_connection: 1000,
            rate_per_user: 1000,
            burst_per_user: 1000,
            dev_token_ttl_secs: 3600,
            demo_delay_ms: 0,
            shutdown_grace_secs: 2,
            redis: None,
            redis_timeout_ms: 2000,
            events_file: None,
            max_custom_events: 64,
            max_custom_payload_bytes: 16 * 1024,
            parser: WireParser::Common,
            batch_window_ms: 0,
            log: "warn".to_owned(),
        }
    }

    /// The address to listen on.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// The shutdown drain time.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// How long a session may stay without joining.
    pub fn join_timeout(&self) -> Duration {
        Duration::from_millis(self.join_timeout_ms)
    }

    /// With `--redis`: the bound of one Redis operation.
    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }

    /// Checks rules that clap cannot express.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.dev && !self.bind.is_loopback() {
            return Err(ConfigError(format!(
                "--dev serves unauthenticated tokens and accepts the legacy userId query: \
                 it may only bind a loopback address, not {}",
                self.bind
            )));
        }
        if !self.dev {
            match &self.jwt_secret {
                None => {
                    return Err(ConfigError(
                        "--jwt-secret (or FRINNY_JWT_SECRET) is required outside --dev".to_owned(),
                    ))
                }
                Some(s) if s.len() < 16 => {
                    return Err(ConfigError(
                        "--jwt-secret must be at least 16 bytes long".to_owned(),
                    ))
                }
                Some(_) => {}
            }
        }
        if self.admin_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError(
                "--admin-token must be at least 16 bytes long (it guards /broadcast, /notify, /state/update)"
                    .to_owned(),
            ));
        }
        let positive = [
            ("--max-connections", self.max_connections as u64),
            (
                "--max-connections-per-user",
                self.max_connections_per_user as u64,
            ),
            ("--max-pending-sessions", self.max_pending_sessions as u64),
            (
                "--handshake-rate-per-ip",
                u64::from(self.handshake_rate_per_ip),
            ),
            (
                "--handshake-burst-per-ip",
                u64::from(self.handshake_burst_per_ip),
            ),
            ("--join-timeout-ms", self.join_timeout_ms),
            ("--ping-interval-ms", self.ping_interval_ms),
            ("--ping-timeout-ms", self.ping_timeout_ms),
            ("--max-payload-bytes", self.max_payload_bytes as u64),
            ("--state-max-doc-bytes", self.state_max_doc_bytes as u64),
            ("--rate-per-connection", u64::from(self.rate_per_connection)),
            (
                "--burst-per-connection",
                u64::from(self.burst_per_connection),
            ),
            ("--rate-per-user", u64::from(self.rate_per_user)),
            ("--burst-per-user", u64::from(self.burst_per_user)),
            ("--redis-timeout-ms", self.redis_timeout_ms),
            ("--max-custom-events", self.max_custom_events as u64),
            (
                "--max-custom-payload-bytes",
                self.max_custom_payload_bytes as u64,
            ),
        ];
        for (flag, value) in positive {
            if value == 0 {
                return Err(ConfigError(format!("{flag} must be greater than 0")));
            }
        }
        if self.batch_window_ms > MAX_BATCH_WINDOW_MS {
            return Err(ConfigError(format!(
                "--batch-window-ms must be at most {MAX_BATCH_WINDOW_MS}: a longer window \
                 holds every pushed event visibly late"
            )));
        }
        if self.batch_window_ms > 0 && self.parser == WireParser::Msgpack {
            return Err(ConfigError(
                "--batch-window-ms needs --parser common: batch envelopes are built from the \
                 text form of each event"
                    .to_owned(),
            ));
        }
        if let Some(url) = &self.redis {
            if !url.starts_with("redis://") {
                return Err(ConfigError(format!(
                    "--redis must be a redis://host:port URL, not {:?}",
                    crate::cluster::redact(url)
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_dev_needs_loopback() {
        let c = Config::parse_from(["frinny-server", "--dev"]);
        assert_eq!(c.port, 5001);
        assert!(c.bind.is_loopback());
        assert_eq!(c.check(), Ok(()));
        let c = Config::parse_from(["frinny-server", "--dev", "--bind", "0.0.0.0"]);
        assert!(c.check().is_err());
        let c = Config::parse_from(["frinny-server"]);
        assert!(c.check().unwrap_err().0.contains("jwt-secret"));
        let c = Config::parse_from([
            "frinny-server",
            "--jwt-secret",
            "0123456789abcdef",
            "--max-connections",
            "0",
        ]);
        assert!(c.check().unwrap_err().0.contains("max-connections"));
    }

    #[test]
    fn the_batch_window_is_off_by_default_and_bounded() {
        let c = Config::parse_from(["frinny-server", "--dev"]);
        assert_eq!(c.batch_window_ms, 0);
        let c = Config::parse_from(["frinny-server", "--dev", "--batch-window-ms", "5"]);
        assert_eq!((c.batch_window_ms, c.check()), (5, Ok(())));
        let c = Config::parse_from(["frinny-server", "--dev", "--batch-window-ms", "1001"]);
        assert!(c.check().unwrap_err().0.contains("batch-window-ms"));
        let c = Config::parse_from([
            "frinny-server",
            "--dev",
            "--batch-window-ms",
            "5",
            "--parser",
            "msgpack",
        ]);
        assert!(c.check().unwrap_err().0.contains("--parser common"));
    }

    #[test]
    fn a_short_admin_token_is_refused() {
        let c = Config::parse_from(["frinny-server", "--dev", "--admin-token", "x"]);
        assert!(c.check().unwrap_err().0.contains("admin-token"));
        let c = Config::parse_from([
            "frinny-server",
            "--dev",
            "--admin-token",
            "0123456789abcdef",
        ]);
        assert_eq!(c.check(), Ok(()));
    }
}

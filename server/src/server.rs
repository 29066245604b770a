//! Starting and stopping: binds, wires Socket.IO into axum, and shuts down
//! gracefully (tells clients with `server_shutdown`, closes their sockets,
//! drains HTTP connections within the grace period).

use crate::app::{AppState, Shared};
use crate::auth::{dev_secret, Authenticator};
use crate::batch::adapter::BatchingState;
use crate::batch::Batcher;
use crate::bus::{ClusterIoAdapter, Io, LocalIoAdapter};
use crate::cluster::{state::run_pusher, Cluster, Unavailable};
use crate::config::{Config, ConfigError, WireParser};
use crate::http::router;
use crate::http_state::HttpState;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::responder::{DemoResponder, Responder};
use crate::socket;
use crate::state_store::{StateStore, StoreLimits};
use frinny_agent::catalogue::{names, ServerShutdownPayload};
use socketioxide::adapter::Adapter;
use socketioxide::{ParserConfig, SocketIo, SocketIoBuilder};
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Per-connection WebSocket read buffer (see where it is used).
const WS_READ_BUFFER_BYTES: usize = 1024;

/// Why the server did not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration is unusable.
    Config(ConfigError),
    /// The address could not be bound.
    Bind(SocketAddr, std::io::Error),
    /// `--redis` was given and Redis could not be reached.
    Redis(Unavailable),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "bad configuration: {e}"),
            StartError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            StartError::Redis(e) => write!(f, "--redis: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A server running in the background of the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    app: Shared,
    io: Io,
    stop: Option<oneshot::Sender<()>>,
    serve: JoinHandle<std::io::Result<()>>,
    janitor: JoinHandle<()>,
    /// With `--redis`: the state pusher and the Redis probe.
    cluster_tasks: Vec<JoinHandle<()>>,
}

/// The builder settings both modes share.
fn configure<A: Adapter>(
    builder: SocketIoBuilder<A>,
    app: &Shared,
    hard_limit: usize,
) -> SocketIoBuilder<A> {
    let builder = match app.config.parser {
        WireParser::Common => builder,
        WireParser::Msgpack => builder.with_parser(ParserConfig::msgpack()),
    };
    builder
        .with_state(app.clone())
        // Sessions that never join are closed, which frees their pending
        // slot (see `handshake`).
        .connect_timeout(app.config.join_timeout())
        .ping_interval(Duration::from_millis(app.config.ping_interval_ms))
        .ping_timeout(Duration::from_millis(app.config.ping_timeout_ms))
        .max_payload(u64::try_from(hard_limit).unwrap_or(u64::MAX))
        .ws_max_message_size(hard_limit)
        .ws_max_frame_size(hard_limit)
        // The WebSocket read buffer lives as long as the connection and is
        // zero-filled to its capacity on the first read, so the default 4 KiB
        // is 8 MiB of RSS at 2,000 clients. Clients send small frames (pongs,
        // requests of a few hundred bytes); a bigger frame still arrives
        // whole, because tungstenite reserves room for the announced frame
        // length (up to `ws_max_frame_size`) before reading it. It only takes
        // more reads, of at most this many bytes each.
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
}

/// The Redis channel prefix of socketioxide's adapter. The adapter carries
/// packets already encoded by the sending instance's parser, and the other
/// parser cannot write them (socketioxide's common parser panics on msgpack
/// bytes), so instances of different parsers keep to channels of their own.
fn adapter_prefix(parser: WireParser) -> &'static str {
    match parser {
        WireParser::Common => "frinny-sio",
        WireParser::Msgpack => "frinny-sio-msgpack",
    }
}

/// Starts a server with `config` and `responder` (the demo responder when
/// `None`), and returns once it listens.
pub async fn start(
    config: Config,
    responder: Option<Arc<dyn Responder>>,
) -> Result<RunningServer, StartError> {
    config.check().map_err(StartError::Config)?;
    let file_events = match &config.events_file {
        Some(path) => crate::custom_events::load_file(path, config.max_custom_events)
            .map_err(StartError::Config)?,
        None => Vec::new(),
    };
    if !file_events.is_empty() {
        tracing::info!(
            count = file_events.len(),
            "custom events declared by --events in every world"
        );
    }
    let secret = match &config.jwt_secret {
        Some(s) => s.clone(),
        None => {
            tracing::warn!("DEV MODE: no --jwt-secret given; using a random one for this run");
            dev_secret()
        }
    };
    let admin_token = match (&config.admin_token, config.dev) {
        (Some(t), _) => Some(t.clone()),
        (None, true) => {
            let t = dev_secret();
            tracing::warn!("DEV MODE: no --admin-token given; admin endpoints accept `Bearer {t}`");
            Some(t)
        }
        (None, false) => {
            tracing::warn!("no --admin-token: /broadcast, /notify and /state/update are disabled");
            None
        }
    };
    let responder = responder.unwrap_or_else(|| {
        Arc::new(DemoResponder {
            delay: Duration::from_millis(config.demo_delay_ms),
        })
    });
    let max_payload = config.max_payload_bytes;
    let hard_limit = max_payload.saturating_mul(16).max(1 << 20);
    let addr = config.socket_addr();
    let grace = config.shutdown_grace();
    let store_limits = StoreLimits {
        max_doc_bytes: config.state_max_doc_bytes,
        history: config.state_history,
    };
    let cluster = match &config.redis {
        Some(url) => Some(
            Cluster::connect(url, config.redis_timeout(), store_limits)
                .await
                .map_err(StartError::Redis)?,
        ),
        None => None,
    };
    let app: Shared = Arc::new(AppState {
        auth: Authenticator::new(secret.as_bytes()),
        admin_token,
        metrics: Metrics::default(),
        limits: RateLimits::new(
            config.rate_per_connection,
            config.burst_per_connection,
            config.rate_per_user,
            config.burst_per_user,
        ),
        handshakes: crate::handshake::HandshakeLimits::new(
            config.handshake_rate_per_ip,
            config.handshake_burst_per_ip,
            config.max_pending_sessions,
        ),
        user_connections: crate::limits::UserConnections::default(),
        store: StateStore::new(store_limits),
        cluster: cluster.as_ref().map(|(c, _)| c.clone()),
        state_writes: tokio::sync::Mutex::new(()),
        responder,
        custom_events: crate::custom_events::CustomEvents::new(
            file_events,
            config.max_custom_events,
        ),
        batcher: Arc::new(Batcher::new(
            config.batch_window_ms,
            config.max_payload_bytes,
        )),
        started: Instant::now(),
        config,
    });

    let mut cluster_tasks = Vec::new();
    let (http, io) = match cluster {
        None => {
            let builder = SocketIo::builder().with_adapter::<LocalIoAdapter>(BatchingState {
                inner: (),
                batcher: app.batcher.clone(),
            });
            let (layer, io) = configure(builder, &app, hard_limit).build_layer();
            socket::register(&io);
            let io = Io::Local(io);
            let http = router(HttpState {
                app: app.clone(),
                io: io.clone(),
            })
            .layer(layer);
            (http, io)
        }
        Some((cluster, patches)) => {
            let adapter = RedisAdapterCtr::new_with_driver(
                cluster.driver.clone(),
                RedisAdapterConfig::new()
                    .with_prefix(adapter_prefix(app.config.parser))
                    .with_request_timeout(app.config.redis_timeout()),
            );
            let builder = SocketIo::builder().with_adapter::<ClusterIoAdapter>(BatchingState {
                inner: adapter,
                batcher: app.batcher.clone(),
            });
            let (layer, io) = configure(builder, &app, hard_limit).build_layer();
            match tokio::time::timeout(app.config.redis_timeout(), socket::register(&io)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(StartError::Redis(Unavailable(format!("adapter: {e}")))),
                Err(_) => {
                    return Err(StartError::Redis(Unavailable(
                        "adapter: no answer from Redis".into(),
                    )))
                }
            }
            cluster_tasks.push(tokio::spawn(run_pusher(io.clone(), app.clone(), patches)));
            cluster_tasks.push(tokio::spawn(cluster.clone().probe()));
            tracing::info!(redis = %cluster.url, "sharing rooms, state and rate limits through Redis");
            let io = Io::Cluster(io);
            let http = router(HttpState {
                app: app.clone(),
                io: io.clone(),
            })
            .layer(layer);
            (http, io)
        }
    };
    let mut http = http
        // Outside the Socket.IO layer, so the head it keeps per session is a copy
        // and not a slice of hyper's read buffer (see `detach`).
        .layer(axum::middleware::map_request(crate::detach::detach_head))
        // Outermost: a refused handshake costs no Engine.IO session at all.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::handshake::limit,
        ));
    if let Some(cors) = crate::cors::layer(&app.config) {
        http = http.layer(cors);
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Bind(addr, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(addr, e))?;

    let (stop, stopped) = oneshot::channel::<()>();
    let io_for_shutdown = io.clone();
    let serve = tokio::spawn(async move {
        // The peer address, for the per-address handshake limit.
        axum::serve(
            listener,
            http.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
            tell_clients(&io_for_shutdown, grace).await;
        })
        .await
    });
    let janitor_app = app.clone();
    let janitor = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            janitor_app.limits.forget_idle_users();
            janitor_app.handshakes.forget_idle_peers();
        }
    });
    if let Some(offer) = app.batcher.offer() {
        tracing::info!(
            window_ms = offer.window_ms,
            max_bytes = offer.max_bytes,
            "batching events for clients that ask"
        );
    }
    if app.config.dev {
        tracing::warn!(
            "DEV MODE on {addr}: GET /dev/token mints tokens for anyone and the legacy \
             unauthenticated `userId` query is accepted. Never expose this."
        );
    }
    if app.config.parser == WireParser::Msgpack {
        tracing::info!(
            "Socket.IO packets in msgpack (--parser msgpack): clients need parser 'msgpack'"
        );
    }
    // The last line of the start-up: tests and scripts read the address from it.
    tracing::info!("frinny-server listening on http://{addr}");
    Ok(RunningServer {
        addr,
        app,
        io,
        stop: Some(stop),
        serve,
        janitor,
        cluster_tasks,
    })
}

async fn tell_clients(io: &Io, grace: Duration) {
    tracing::info!("shutting down: telling clients");
    // This instance's clients only: with `--redis` the others stay up.
    io.close_local(
        names::SERVER_SHUTDOWN,
        &ServerShutdownPayload {
            reason: "server shutting down".to_owned(),
        },
        grace.min(Duration::from_millis(200)),
    )
    .await;
}

impl RunningServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (metrics, store, authenticator).
    pub fn app(&self) -> &Shared {
        &self.app
    }

    /// The Socket.IO handle (local or shared through Redis).
    pub fn io(&self) -> &Io {
        &self.io
    }

    /// Stops gracefully: `server_shutdown` to every client, sockets closed,
    /// HTTP connections drained for at most the grace period.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.janitor.abort();
        for task in &self.cluster_tasks {
            task.abort();
        }
        let grace = self.app.config.shutdown_grace() + Duration::from_millis(500);
        match tokio::time::timeout(grace, &mut self.serve).await {
            Ok(Ok(Ok(()))) => tracing::info!("stopped cleanly"),
            Ok(Ok(Err(e))) => tracing::warn!("server error while stopping: {e}"),
            Ok(Err(e)) => tracing::warn!("server task failed: {e}"),
            Err(_) => {
                tracing::warn!("connections still open after the grace period; closing them");
                self.serve.abort();
            }
        }
    }
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM. The signals are listened for from
/// this call on, not from the future's first poll, so one sent as soon as
/// the server says it is listening is not met by the default (fatal) action.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn received(listener: std::io::Result<tokio::signal::unix::Signal>, name: &str) {
                match listener {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(e) => {
                        tracing::warn!("cannot listen for {name}: {e}");
                        std::future::pending::<()>().await;
                    }
                }
            }
            tokio::select! {
                () = received(interrupt, "SIGINT") => tracing::info!("SIGINT received"),
                () = received(terminate, "SIGTERM") => tracing::info!("SIGTERM received"),
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!("cannot listen for Ctrl-C: {e}");
                std::future::pending::<()>().await;
            }
            tracing::info!("Ctrl-C received");
        }
    }
}

/// Runs until SIGINT/SIGTERM, then shuts down gracefully.
pub async fn run(config: Config) -> Result<(), StartError> {
    let signal = shutdown_signal();
    let server = start(config, None).await?;
    signal.await;
    server.shutdown().await;
    Ok(())
}

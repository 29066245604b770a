//! Where the browser suite's servers listen: one table, read both by the
//! tests (`tests/browser_*.rs`, through `browser_support`) and by
//! `cargo xtask test browser`, which starts the servers (xtask includes this
//! file by path).
//!
//! The ports are fixed because the wasm tests are compiled before the servers
//! start, and they sit below Linux's ephemeral range (32768–60999), so that
//! an outgoing connection of some other test can never be holding one when a
//! server binds it.
//!
//! ```ignore
//! let agent = manager(ports::node_sio::HTTP, None);
//! ```

macro_rules! servers {
    ($($(#[$doc:meta])* $name:ident = $port:literal;)*) => {
        $(
            $(#[$doc])*
            pub mod $name {
                /// The TCP port on 127.0.0.1.
                pub const PORT: u16 = $port;
                /// `http://127.0.0.1:PORT`, for socket.io URLs and HTTP calls.
                pub const HTTP: &str = concat!("http://127.0.0.1:", $port);
                /// `ws://127.0.0.1:PORT`, for plain WebSocket URLs.
                pub const WS: &str = concat!("ws://127.0.0.1:", $port);
            }
        )*
    };
}

servers! {
    /// tests/servers/node_sio.mjs: the Node socket.io 4.8 server, both transports.
    node_sio = 28471;
    /// tests/servers/frinny_backend.py: python-socketio speaking Frinny's events.
    python_frinny = 28472;
    /// tests/servers/json_server.mjs: a plain JSON WebSocket server.
    json_ws = 28473;
    /// tests/servers/node_chaos.mjs: its HTTP control endpoint (it listens
    /// last, so once it accepts, the other two do).
    chaos_control = 28474;
    /// tests/servers/node_chaos.mjs: the socket.io server the control kills
    /// and restarts.
    chaos_sio = 28475;
    /// tests/servers/node_chaos.mjs: the Engine.IO server that stops pinging.
    chaos_silent = 28476;
    /// The reference server (`frinny-server --dev`).
    reference = 28477;
    /// tests/servers/node_sio.mjs accepting only long-polling.
    node_sio_polling = 28478;
    /// tests/servers/node_sio_msgpack.mjs: socket.io with socket.io-msgpack-parser.
    node_sio_msgpack = 28479;
    /// The reference server with `--parser msgpack`.
    reference_msgpack = 28480;
    /// The reference server with `--batch-window-ms 20`.
    batching = 28481;
}

//! The reference Frinny backend: Socket.IO v5 (socketioxide) inside axum.
//!
//! - Sockets authenticate with an HS256 token ([`auth`]) and join their user's
//!   and world's rooms ([`rooms`], [`socket`]).
//! - Client events are rate limited ([`limits`]), size-checked, validated
//!   against the shared catalogue ([`frinny_agent::catalogue`]) and answered
//!   through a [`responder::Responder`] ([`events`]).
//! - Versioned shared state per scope ([`state_store`], [`state_sync`]);
//!   large snapshots deflated for clients that can inflate ([`compress`]).
//! - HTTP: admin endpoints that push events ([`admin_api`]), ops endpoints
//!   ([`ops`]), `--dev` token minting ([`dev`]), static files ([`http`]).
//! - [`server`] starts, serves and stops gracefully.
//! - `--redis`: several instances share one Redis ([`cluster`], [`bus`]).
//! - Custom events `x-<module>:<event>`, declared by a GM or the `--events`
//!   file, validated and relayed like the catalogue's ([`custom_events`]).
//! - `--batch-window-ms`: events pushed to a socket that asked for it are
//!   coalesced into `batch` envelopes, and envelopes from clients are
//!   handled entry by entry ([`batch`]).
#![warn(missing_docs)]

pub mod admin_api;
pub mod api_error;
pub mod app;
pub mod auth;
pub mod batch;
pub mod bus;
pub mod cluster;
pub mod compress;
pub mod config;
pub mod cors;
pub mod custom_events;
pub mod custom_socket;
pub mod detach;
pub mod dev;
pub mod events;
pub mod handshake;
pub mod http;
pub mod http_state;
pub mod limits;
pub mod metrics;
pub mod ops;
pub mod reply;
pub mod responder;
pub mod rooms;
pub mod server;
pub mod socket;
pub mod state_store;
pub mod state_sync;

pub use config::Config;
pub use server::{run, start, RunningServer, StartError};

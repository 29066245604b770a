//! # frinny-agent
//!
//! The realtime link between the Frinny Foundry VTT module and its backend:
//! a sans-IO Socket.IO v5 / Engine.IO v4 core in Rust, compiled to
//! WebAssembly for the browser and tested natively.
//!
//! - [`protocol`]: pure codecs (Engine.IO, Socket.IO, plain-JSON framing).
//! - [`core`]: the sans-IO agent (client state machine and state-sync
//!   store), driven with simulated time in tests.
//! - `web` (wasm32 only): the browser shell and the exported `AgentManager`.
//! - [`catalogue`]: the Frinny event catalogue shared with the server.
#![cfg_attr(not(test), warn(missing_docs))]

pub mod catalogue;
pub mod core;
pub mod protocol;
#[cfg(target_arch = "wasm32")]
pub mod web;

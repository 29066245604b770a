//! The browser shell: the only code that touches web-sys/js-sys. It feeds the
//! sans-IO [`Agent`](crate::core::Agent) what happened (socket opened,
//! frame received, timer fired, the user called `emit`) and carries out the
//! [`AgentOutput`](crate::core::AgentOutput)s it asks for.
//!
//! - [`manager`]: the exported JS class `AgentManager` (the JS surface).
//! - [`frinny`]: Frinny helpers (`sendQuery`, `notifyLevelUp`, ...).
//! - [`state`]: state synchronisation (`syncState`, `updateState`, ...).
//! - [`sync`]: the agent's state outputs carried out in JS (`syncState` and
//!   `updateState` Promises, `subscribeState` callbacks, `onConflict`).
//! - [`driver`]: the shared state behind it: one [`Agent`](crate::core::Agent),
//!   fed through `handle(input)` (the browser) and `call` (the user), both
//!   followed by the output pump.
//! - [`input`]: what the browser tells the driver, and the `Feed` the
//!   leaves below hand it to (they do not know the driver).
//! - [`options`]: the constructor's options object.
//! - [`pool`]: the page's shared Engine.IO links: managers for one endpoint
//!   and different namespaces multiplex over one connection.
//! - [`link`]: what a shared link and the managers on it say to each other.
//! - [`auth`]: the `auth` option as a function, asked before every attempt.
//! - [`socket`]: one browser WebSocket and its event handlers (the link's,
//!   or an upgrade probe's).
//! - [`polling`]: the long-polling transport's GETs and POSTs on `fetch`.
//! - [`timer`]: the single timer (`gloo-timers`), re-armed to the agent's
//!   next deadline.
//! - [`network`]: the `online`/`offline` listeners.
//! - [`inflate`]: compressed state snapshots inflated with the browser's
//!   `DecompressionStream`.
//! - [`hub`]: every listener, kept in JS (`event_hub.js`): event
//!   subscribers with the inbound fast path in front of them, and the
//!   state, error, document and conflict listeners; it hands out the
//!   unsubscribe functions.
//! - [`requests`]: the Promises of requests, `connect()` and state calls
//!   (futures on `futures` oneshot channels, made Promises by
//!   `wasm-bindgen-futures`), and requests' AbortSignal listeners.
//! - [`convert`]: JSON text and binary payloads to JS values and back (the
//!   hot path: events stay text for the engine's `JSON.parse`).
//! - [`value`]: JSON trees (state documents) to JS values (through
//!   `serde-wasm-bindgen`) and back (as `JSON.stringify` reads them).
//! - [`metrics`]: `metrics()`, a plain object made by `serde-wasm-bindgen`.
//! - [`inspect`]: `inspectState()`, the sync store's view of a scope for
//!   devtools. (`inspect()` and `debug` are the hub's inspector tap: frames
//!   reach it in JS, on their way in and out, only while someone listens.)
//! - [`errors`]: JS `Error` objects with a stable `code`.
//! - [`glue`]: the few global JS functions used (clock, `JSON.parse`, console).
//! - [`types`]: TypeScript declarations for the options and callbacks.
//!
//! Re-entrancy: JS callbacks may call back into the manager (subscribe,
//! emit, even close). No `RefCell` borrow is ever held while a JS callback
//! runs, and the output pump is a trampoline: a nested call only queues
//! work, the outermost pump carries it out, in order.
//!
//! Memory: every `Closure` is owned by a Rust value (the socket, the timer,
//! a request, the driver's hooks for throwing subscribers and for the `auth`
//! function) and dropped when that ends; nothing is `forget`-ed, so a freed
//! manager holds no JS callback. Listeners live in the hub until their
//! unsubscribe function or the manager's end. Every Promise settles exactly
//! once: settling uses its settler up, and a settler dropped unused rejects
//! it with CLOSED.

mod auth;
mod convert;
mod custom_events;
mod driver;
mod errors;
mod frinny;
mod glue;
mod guest_tap;
mod hub;
mod inflate;
mod input;
mod inspect;
mod link;
mod manager;
mod metrics;
mod network;
mod options;
mod polling;
mod pool;
mod requests;
mod socket;
mod state;
mod sync;
mod timer;
mod types;
mod value;

pub use manager::AgentManager;

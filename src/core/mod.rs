//! The agent as a sans-IO state machine: no socket, timer or JS here. The
//! browser shell (`web`) feeds one [`Agent`] what happened and carries out
//! its [`AgentOutput`]s; native tests drive it with simulated time.
//!
//! - [`Agent`]: the one state machine the shell drives. It owns the
//!   [`Client`] and the [`SyncStore`], routes between them (the store's
//!   frames go out as client requests, their replies come back to it) and
//!   merges their outputs and deadlines into one stream.
//! - [`Client`] (`client/`): connection states, heartbeat, backoff with
//!   jitter, the pending request table, the outgoing buffer, inbound and
//!   outbound frames.
//! - [`SyncStore`]: synced state documents, versioned per scope.
//! - `inflate`: compressed snapshots, inflated by the shell, and the
//!   patches that wait for them.
//! - [`reply_policy`], [`FastPath`]: which events may answer a request, and
//!   when the shell may deliver plain events itself.

mod agent;
mod backoff;
mod client;
mod error;
mod fast_path;
mod inflate;
pub mod merge_diff;
mod metrics;
pub mod reply_policy;
mod rng;
mod sort;
mod sync;
pub mod url;

pub use agent::{Agent, AgentOutput};
pub use backoff::Backoff;
pub use client::{
    AckKey, ArgsForm, Client, Config, EmitOptions, Frame, HttpKind, Output, Parser, Priority,
    Protocol, RequestKey, RequestOptions, Role, State, Transport, BACKPRESSURE_RECHECK_MS,
    MAX_UNANSWERED_ACKS,
};
pub use error::{ClientError, ErrorCode};
pub use fast_path::FastPath;
pub use metrics::{ErrorCounts, Metrics};
pub use rng::Rng;
pub use sync::{
    Change, Conflict, PatchOutcome, PendingView, SyncCounters, SyncError, SyncOutput, SyncStore,
    UpdateId, UpdateOutcome, RESUBMIT_PAUSE_MAX_MS, RESUBMIT_PAUSE_MS, UNAVAILABLE_RESENDS,
};

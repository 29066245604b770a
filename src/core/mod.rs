//! The client as a sans-IO state machine and its parts: connection states,
//! heartbeat, backoff with jitter, the subscriber registry, the pending
//! request table, the outgoing buffer, and the synced state store
//! ([`SyncStore`]). No socket, timer or JS here; the
//! browser shell (`web`) feeds it and carries out its [`Output`]s.

mod backoff;
mod client;
mod error;
mod fast_path;
pub mod merge_diff;
mod metrics;
mod registry;
pub mod reply_policy;
mod rng;
mod sort;
mod sync;
pub mod url;

pub use backoff::Backoff;
pub use client::{ArgsForm, Client, Config, Output, Protocol, RequestKey, RequestOptions, State};
pub use error::{ClientError, ErrorCode};
pub use fast_path::FastPath;
pub use metrics::{ErrorCounts, Metrics};
pub use registry::{Registry, SubId};
pub use rng::Rng;
pub use sync::{
    Change, Conflict, PatchOutcome, SyncError, SyncOutput, SyncStore, UpdateId, UpdateOutcome,
    RESUBMIT_PAUSE_MAX_MS, RESUBMIT_PAUSE_MS, UNAVAILABLE_RESENDS,
};

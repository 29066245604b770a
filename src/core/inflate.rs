//! Compressed `state:subscribe` snapshots, on the agent's side.
//!
//! A subscriber that asks with `compress: "deflate"` may get a snapshot as
//! `{scope, version, compressed: "deflate", doc: <attachment>}`. The core
//! does no I/O and carries no inflater, so the shell inflates (the
//! browser's `DecompressionStream`): the agent hands the bytes out with a
//! token and takes the text back. Meanwhile:
//!
//! - the scope's pushed patches wait here, in arrival order, and reach the
//!   store only after the snapshot (or the failure): a patch made after the
//!   snapshot must not be laid over the document the snapshot replaces;
//! - a failure (not zlib, too large, not a JSON document) is reported once
//!   as `INFLATE_FAILED`, and the scope's next `state:subscribe` goes out
//!   without `compress`, so whatever damaged the data (a proxy, a buggy
//!   server) cannot make the scope fail again and again.

use super::error::{ClientError, ErrorCode};
use crate::catalogue::SNAPSHOT_COMPRESSION;
use crate::protocol::{json, Limits};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};

/// Patches held per scope while its snapshot inflates; beyond this the
/// oldest are dropped (the store then meets a gap and asks again).
const MAX_HELD: usize = 1024;

/// A compressed snapshot the shell is inflating.
#[derive(Debug)]
struct Waiting {
    scope: String,
    /// The reply as it came, `doc` still the placeholder.
    reply: Value,
}

/// The inflations under way, the patches held meanwhile, and the scopes
/// whose next subscribe goes plain. See the module docs.
#[derive(Debug, Default)]
pub(super) struct Inflations {
    next_token: u64,
    waiting: HashMap<u64, Waiting>,
    held: HashMap<String, VecDeque<Value>>,
    plain_next: HashSet<String>,
}

/// What to do with a `state:subscribe` reply.
#[derive(Debug)]
pub(super) enum Reply {
    /// An ordinary reply: give it to the store.
    Plain(Value),
    /// Hand these bytes to the shell to inflate under `token`.
    Inflate {
        /// Names this inflation in [`Inflations::finish`].
        token: u64,
        /// The compressed document.
        bytes: Vec<u8>,
    },
    /// Marked compressed but unusable (no attachment, an unknown format, or
    /// this shell cannot inflate): as a failed inflation.
    Unusable(ClientError),
}

impl Inflations {
    /// Whether `scope`'s next `state:subscribe` may ask for compression
    /// (consumes the one plain ask after a failure).
    pub(super) fn may_compress(&mut self, scope: &str) -> bool {
        !self.plain_next.remove(scope)
    }

    /// Whether a snapshot of `scope` is being inflated: its patches wait.
    pub(super) fn holds(&self, scope: &str) -> bool {
        self.held.contains_key(scope)
    }

    /// Keeps a pushed patch of a scope that [`holds`](Self::holds).
    pub(super) fn hold(&mut self, scope: &str, payload: Value) {
        if let Some(q) = self.held.get_mut(scope) {
            if q.len() >= MAX_HELD {
                q.pop_front();
            }
            q.push_back(payload);
        }
    }

    /// Reads a `state:subscribe` reply of `scope` with its attachments:
    /// a compressed snapshot starts an inflation when `can_inflate`.
    pub(super) fn on_reply(
        &mut self,
        scope: &str,
        reply: Value,
        mut attachments: Vec<Vec<u8>>,
        can_inflate: bool,
    ) -> Reply {
        let Some(format) = reply.get("compressed") else {
            return Reply::Plain(reply);
        };
        let unusable =
            |why: String| Reply::Unusable(ClientError::new(ErrorCode::InflateFailed, why));
        if format.as_str() != Some(SNAPSHOT_COMPRESSION) || !can_inflate {
            return unusable(format!(
                "the snapshot of `{scope}` is compressed as {format}, which this client does not inflate"
            ));
        }
        let placeholder = reply.get("doc").is_some_and(|d| {
            d.get("_placeholder") == Some(&Value::Bool(true))
                && d.get("num") == Some(&Value::from(0))
        });
        if !placeholder || attachments.len() != 1 {
            return unusable(format!(
                "the compressed snapshot of `{scope}` does not carry its document as one attachment"
            ));
        }
        let bytes = attachments.pop().unwrap_or_default();
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        self.waiting.insert(
            token,
            Waiting {
                scope: scope.to_owned(),
                reply,
            },
        );
        self.held.entry(scope.to_owned()).or_default();
        Reply::Inflate { token, bytes }
    }

    /// The shell's answer for `token`: the scope, the reply to give the
    /// store (or why there is none), and the patches held meanwhile, once
    /// no other inflation of the scope is under way. `None` for a token
    /// not waited for.
    pub(super) fn finish(
        &mut self,
        token: u64,
        result: Result<String, String>,
        limits: &Limits,
    ) -> Option<Finished> {
        let Waiting { scope, mut reply } = self.waiting.remove(&token)?;
        let outcome = result
            .map_err(|why| format!("the snapshot of `{scope}` did not inflate: {why}"))
            .and_then(|text| {
                if text.len() > limits.max_frame_bytes {
                    return Err(format!(
                        "the snapshot of `{scope}` inflates to {} bytes, over the limit of {}",
                        text.len(),
                        limits.max_frame_bytes
                    ));
                }
                json::parse::<Value>(&text, limits.max_depth)
                    .map_err(|e| format!("the inflated snapshot of `{scope}` is not JSON: {e}"))
            })
            .map(|doc| {
                if let Some(fields) = reply.as_object_mut() {
                    fields.remove("compressed");
                    fields.insert("doc".to_owned(), doc);
                }
                reply
            })
            .map_err(|why| {
                self.plain_next.insert(scope.clone());
                ClientError::new(ErrorCode::InflateFailed, why)
            });
        let still = self.waiting.values().any(|w| w.scope == scope);
        let released = if still {
            VecDeque::new()
        } else {
            self.held.remove(&scope).unwrap_or_default()
        };
        Some(Finished {
            scope,
            reply: outcome,
            released,
        })
    }

    /// A reply that could not even start inflating: the scope's next ask
    /// goes plain.
    pub(super) fn failed_at_once(&mut self, scope: &str) {
        self.plain_next.insert(scope.to_owned());
    }

    /// The scope is no longer followed: nothing of it waits any more (a
    /// late answer for it is dropped).
    pub(super) fn forget(&mut self, scope: &str) {
        self.waiting.retain(|_, w| w.scope != scope);
        self.held.remove(scope);
        self.plain_next.remove(scope);
    }
}

/// An inflation's end, as [`Inflations::finish`] gives it.
#[derive(Debug)]
pub(super) struct Finished {
    /// The scope.
    pub scope: String,
    /// The reply with its document in, or the failure.
    pub reply: Result<Value, ClientError>,
    /// The scope's patches held meanwhile, in arrival order.
    pub released: VecDeque<Value>,
}

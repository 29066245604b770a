//! A `batch` envelope from the client, `[[name, payload], …]`: each entry
//! is handled as if it had come alone ([`crate::events::handle`]): counted,
//! rate limited, size-checked and validated on its own. Entries have no ack
//! of their own.
//!
//! Entries are handled one after the other, in order: the client coalesced
//! them in the order they were emitted, and what they do (relays, state
//! writes) must happen in that order. The one exception is a request the
//! responder answers (`query`, `level_up`, …): it runs as its own task, as
//! it would alone, so the entries after it do not wait for the answer,
//! which comes later as its own `*_response` anyway.
//!
//! The envelope is read from any client (a client sends one only after the
//! server offered batching, and reading one costs nothing more than its
//! entries would alone). Its payload may be at most `--max-payload-bytes`,
//! the size the offer announces. An envelope that is not an array, or too
//! big, is refused whole with `error` (`INVALID_BATCH`, `PAYLOAD_TOO_LARGE`).
//! An entry that is no event (not an array, no string name first, a
//! reserved name, a batch inside the batch) is counted under
//! `INVALID_BATCH` and named in one `error` per envelope; the other entries
//! are still handled, since each stands on its own.

use crate::app::Shared;
use crate::events::{fail, handle, Failure};
use crate::reply::Reply;
use frinny_agent::catalogue::{codes, names, response_event};
use frinny_agent::protocol::batch::entry_of_value;
use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

/// Handles the envelope `data` sent by `socket`; `reply` is the envelope's
/// own ack, answered `{received}` (the entries handed on) if asked for.
pub async fn dispatch<A: Adapter>(
    app: Shared,
    socket: SocketRef<A>,
    data: Result<Value, String>,
    reply: Reply<A>,
) {
    app.metrics.event_in(names::BATCH);
    let entries = match data {
        Ok(Value::Array(entries)) => entries,
        Ok(_) => {
            let f = Failure::new(
                codes::INVALID_BATCH,
                "a batch must be an array of [name, payload] entries",
            );
            return fail(&app, &socket, reply, None, &f);
        }
        Err(e) => {
            let f = Failure::new(
                codes::INVALID_PAYLOAD,
                format!("the payload of `batch` is missing or unreadable: {e}"),
            );
            return fail(&app, &socket, reply, None, &f);
        }
    };
    let size = serde_json::to_string(&entries)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    let max = app.config.max_payload_bytes;
    if size > max {
        let f = Failure::new(
            codes::PAYLOAD_TOO_LARGE,
            format!("the payload of `batch` is {size} bytes; the limit is {max}"),
        );
        return fail(&app, &socket, reply, None, &f);
    }
    let total = entries.len();
    let mut bad: Vec<(usize, &'static str)> = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let (name, payload) = match entry_of_value(&entry) {
            Ok((name, args)) => (
                name.to_owned(),
                args.first()
                    .cloned()
                    .ok_or_else(|| "first element not found".to_owned()),
            ),
            Err(why) => {
                bad.push((index, why));
                continue;
            }
        };
        let answered_later = response_event(&name).is_some();
        let entry = handle(app.clone(), socket.clone(), name, payload, Reply::none());
        if answered_later {
            tokio::spawn(entry);
        } else {
            entry.await;
        }
    }
    let handed = total - bad.len();
    if let Some((index, why)) = bad.first() {
        for _ in 1..bad.len() {
            app.metrics.error(codes::INVALID_BATCH);
        }
        let f = Failure::new(
            codes::INVALID_BATCH,
            format!(
                "entry {index} of a batch {why}; {} of its {total} entries refused, the others handled",
                bad.len()
            ),
        );
        // One answer per envelope, however many entries were bad: the
        // refusal must not cost more than the envelope did.
        fail(&app, &socket, Reply::none(), None, &f);
    }
    let _ = reply.send(&json!({ "received": handed }));
}

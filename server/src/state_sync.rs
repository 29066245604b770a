//! The state protocol over Socket.IO: `state:subscribe`, `state:update`,
//! `state:unsubscribe`, and the `state:patch` pushes, plus the permission
//! rule per scope. Scopes live inside the caller's world: `world` of world
//! `w1` and `world` of world `w2` are two documents.
//!
//! | scope | read | write |
//! | --- | --- | --- |
//! | `world` | everyone | GM |
//! | `combat:<id>` | everyone | GM |
//! | `user:<id>` | that user, GM | that user, GM |
//! | anything else | GM | GM |

use crate::app::Shared;
use crate::auth::{check_id, Identity, Role};
use crate::cluster::state::SharedError;
use crate::cluster::{Unavailable, UNAVAILABLE};
use crate::compress;
use crate::events::{Failure, Outcome};
use crate::reply::Reply;
use crate::rooms;
use crate::state_store::{CatchUp, PatchError};
use frinny_agent::catalogue::{
    codes, names, StateConflict, StatePatchEntry, StatePatchPayload, StateSubscribePayload,
    StateSubscribeReply, StateUnsubscribePayload, StateUpdateAck, StateUpdatePayload,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

/// Whether `identity` may read (subscribe to) `scope`.
pub fn may_read(identity: &Identity, scope: &str) -> bool {
    scope == "world" || scope.starts_with("combat:") || may_write(identity, scope)
}

/// Whether `identity` may write (update) `scope`.
pub fn may_write(identity: &Identity, scope: &str) -> bool {
    match identity.role {
        Role::Gm => true,
        Role::Player => scope
            .strip_prefix("user:")
            .is_some_and(|u| u == identity.user_id),
    }
}

/// A client's state payload read into its catalogue type, with `scope`
/// checked as an id. The payload was validated against the catalogue, so
/// the read itself only fails if the table and the type disagree.
fn read<T: DeserializeOwned>(payload: &Value, scope: impl Fn(&T) -> &str) -> Result<T, Failure> {
    let request =
        T::deserialize(payload).map_err(|e| Failure::new(codes::INVALID_PAYLOAD, e.to_string()))?;
    check_id("scope", scope(&request)).map_err(|e| {
        let mut f = Failure::new(codes::INVALID_PAYLOAD, e);
        f.field = Some("scope".into());
        f
    })?;
    Ok(request)
}

fn forbidden(identity: &Identity, action: &str, scope: &str) -> Failure {
    let mut f = Failure::new(
        codes::FORBIDDEN,
        format!(
            "role `{}` may not {action} scope `{scope}`",
            identity.role.as_str()
        ),
    );
    f.field = Some("scope".into());
    f
}

/// The `state:subscribe` reply for a catch-up.
pub fn catch_up_reply(scope: &str, catch_up: CatchUp, epoch: &str) -> StateSubscribeReply {
    let (version, doc, patches) = match catch_up {
        CatchUp::Snapshot(s) => (s.version, Some(s.doc), None),
        CatchUp::Patches { version, patches } => {
            let patches = patches
                .into_iter()
                .map(|e| StatePatchEntry {
                    base: e.base,
                    version: e.version,
                    patch: e.patch,
                })
                .collect();
            (version, None, Some(patches))
        }
    };
    StateSubscribeReply {
        scope: scope.to_owned(),
        version,
        doc,
        patches,
        epoch: Some(epoch.to_owned()),
        compressed: None,
    }
}

/// Most scopes one connection may follow at once.
pub const MAX_SCOPES_PER_SOCKET: usize = 64;

/// `state:subscribe` {scope, since?, epoch?}: joins the scope's room; the ack
/// carries a snapshot {scope, version, doc, epoch} or the missed patches
/// {scope, version, patches: [{base, version, patch}], epoch}.
pub async fn subscribe<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    identity: &Identity,
    payload: &Value,
    ack: Reply<A>,
) -> Outcome<A> {
    let request = match read(payload, |r: &StateSubscribePayload| &r.scope) {
        Ok(r) => r,
        Err(f) => return Err((f, ack)),
    };
    let scope = request.scope.as_str();
    if !may_read(identity, scope) {
        return Err((forbidden(identity, "read", scope), ack));
    }
    // A socket follows a bounded number of scopes: each is a room, and
    // anyone may read any `combat:<id>`.
    let room = rooms::state(&identity.world, scope);
    let following = socket
        .rooms()
        .into_iter()
        .filter(|r| r.starts_with(rooms::STATE_PREFIX))
        .count();
    if following >= MAX_SCOPES_PER_SOCKET && !socket.rooms().contains(&room.clone().into()) {
        let mut f = Failure::new(
            codes::INVALID_PAYLOAD,
            format!("a connection may follow at most {MAX_SCOPES_PER_SOCKET} scopes; unsubscribe some first"),
        );
        f.field = Some("scope".into());
        return Err((f, ack));
    }
    // Join first, then read: a patch applied after the read is pushed to the
    // room this socket is already in.
    socket.join(room);
    let since = request.since;
    let epoch = request.epoch.as_deref();
    if let Some(cluster) = &app.cluster {
        return match cluster
            .state
            .catch_up(&identity.world, scope, since, epoch)
            .await
        {
            Ok((catch_up, epoch)) => {
                send_reply(app, ack, catch_up_reply(scope, catch_up, &epoch), &request);
                Ok(())
            }
            Err(u) => {
                // Not following what it could not read: the client retries.
                socket.leave(rooms::state(&identity.world, scope));
                Err((unavailable(&u), ack))
            }
        };
    }
    let catch_up = app.store.catch_up(&identity.world, scope, since, epoch);
    let reply = catch_up_reply(scope, catch_up, app.store.epoch());
    send_reply(app, ack, reply, &request);
    Ok(())
}

/// Acks a `state:subscribe` with `reply`, its snapshot compressed when the
/// subscriber asked and it is large enough (`--compress-threshold-bytes`).
fn send_reply<A: Adapter>(
    app: &Shared,
    ack: Reply<A>,
    reply: StateSubscribeReply,
    request: &StateSubscribePayload,
) {
    let threshold = app.config.compress_threshold_bytes;
    let _ = match compress::encode(reply, request.compress.as_deref(), threshold) {
        compress::Reply::Plain(r) => ack.send(&r),
        compress::Reply::Compressed(c) => ack.send(&c),
    };
}

/// `state:unsubscribe` {scope}: leaves the scope's room; acks {scope}.
pub fn unsubscribe<A: Adapter>(
    socket: &SocketRef<A>,
    identity: &Identity,
    payload: &Value,
    ack: Reply<A>,
) -> Outcome<A> {
    let request = match read(payload, |r: &StateUnsubscribePayload| &r.scope) {
        Ok(r) => r,
        Err(f) => return Err((f, ack)),
    };
    socket.leave(rooms::state(&identity.world, &request.scope));
    let _ = ack.send(&request);
    Ok(())
}

/// The refusal of a state operation that needed Redis while it was down or
/// stalled (`--redis` only).
pub fn unavailable(why: &Unavailable) -> Failure {
    Failure::new(
        UNAVAILABLE,
        format!("{why}; nothing was changed, try again shortly (re-sending the same `id` is safe)"),
    )
}

/// The `state:patch` push for an applied patch.
pub fn patch_event(scope: &str, base: u64, version: u64, patch: &Value) -> StatePatchPayload {
    StatePatchPayload {
        scope: scope.to_owned(),
        base,
        version,
        patch: patch.clone(),
    }
}

/// The refusal of a stale update.
pub fn conflict_reply(scope: &str, version: u64, doc: Value) -> StateConflict {
    StateConflict {
        code: codes::CONFLICT.to_owned(),
        message: format!("scope `{scope}` is at version {version}; rebase the patch on it"),
        scope: scope.to_owned(),
        version,
        doc,
    }
}

/// `state:update` {scope, base, patch, id?}: compare-and-set. Acked with
/// {scope, base, version} (and `duplicate: true` for a re-sent id already
/// applied) after `state:patch` went to the scope's subscribers; a stale base
/// is acked with {code: CONFLICT, scope, version, doc}.
pub async fn update<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    identity: &Identity,
    payload: &Value,
    ack: Reply<A>,
) -> Outcome<A> {
    let request = match read(payload, |r: &StateUpdatePayload| &r.scope) {
        Ok(r) => r,
        Err(f) => return Err((f, ack)),
    };
    let (scope, base, patch) = (request.scope.as_str(), request.base, &request.patch);
    if !may_write(identity, scope) {
        return Err((forbidden(identity, "write", scope), ack));
    }
    let origin = match request.id.as_deref() {
        None => None,
        Some(id) if !id.is_empty() && id.len() <= 128 => {
            Some(format!("{}\u{1f}{id}", identity.user_id))
        }
        Some(_) => {
            let mut f = Failure::new(
                codes::INVALID_PAYLOAD,
                "`id` must be a string of 1 to 128 bytes",
            );
            f.field = Some("id".into());
            return Err((f, ack));
        }
    };
    if let Some(cluster) = &app.cluster {
        // Shared: Redis publishes the patch and every instance, this one
        // included, pushes it to its own subscribers; acked after ours did.
        let result = cluster
            .state
            .apply_and_wait(
                &identity.world,
                scope,
                patch,
                Some(base),
                origin.as_deref(),
                true,
            )
            .await;
        return match result {
            Ok(applied) => {
                let _ = ack.send(&update_ack(
                    scope,
                    applied.base,
                    applied.version,
                    applied.duplicate,
                ));
                Ok(())
            }
            Err(SharedError::Patch(e)) => refused(app, scope, e, ack),
            Err(SharedError::Unavailable(u)) => Err((unavailable(&u), ack)),
        };
    }
    let _in_order = app.state_writes.lock().await;
    match app
        .store
        .apply(&identity.world, scope, patch, Some(base), origin.as_deref())
    {
        Ok(applied) => {
            if !applied.duplicate {
                let push = patch_event(scope, applied.base, applied.version, patch);
                let room = rooms::state(&identity.world, scope);
                match socket.within(room).emit(names::STATE_PATCH, &push).await {
                    Ok(()) => app.metrics.event_out(names::STATE_PATCH),
                    Err(e) => tracing::warn!("state:patch push failed: {e}"),
                }
            }
            let _ = ack.send(&update_ack(
                scope,
                applied.base,
                applied.version,
                applied.duplicate,
            ));
            Ok(())
        }
        Err(e) => refused(app, scope, e, ack),
    }
}

/// The ack of an applied (or recognised re-sent) update.
fn update_ack(scope: &str, base: u64, version: u64, duplicate: bool) -> StateUpdateAck {
    StateUpdateAck {
        scope: scope.to_owned(),
        base,
        version,
        duplicate,
    }
}

/// Answers a refused update: a conflict in the ack, the rest as failures.
fn refused<A: Adapter>(app: &Shared, scope: &str, e: PatchError, ack: Reply<A>) -> Outcome<A> {
    match e {
        PatchError::Conflict(now) => {
            // A normal outcome of compare-and-set: told in the ack only, so
            // that the client's request resolves with the server's document.
            app.metrics.error(codes::CONFLICT);
            let _ = ack.send(&conflict_reply(scope, now.version, now.doc));
            Ok(())
        }
        PatchError::TooLarge { size, max } => {
            let mut f = Failure::new(
                codes::STATE_TOO_LARGE,
                format!("scope `{scope}` would be {size} bytes; the limit is {max}"),
            );
            f.field = Some("patch".into());
            Err((f, ack))
        }
        PatchError::Invalid(why) => {
            let mut f = Failure::new(codes::INVALID_PAYLOAD, why);
            f.field = Some("patch".into());
            Err((f, ack))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(user: &str, role: Role) -> Identity {
        Identity {
            user_id: user.into(),
            role,
            world: "w1".into(),
            expires_at: None,
        }
    }

    #[test]
    fn scope_permissions() {
        let p = id("u1", Role::Player);
        let gm = id("g", Role::Gm);
        for scope in ["world", "combat:c1"] {
            assert!(may_read(&p, scope));
            assert!(!may_write(&p, scope));
            assert!(may_read(&gm, scope) && may_write(&gm, scope));
        }
        assert!(may_read(&p, "user:u1") && may_write(&p, "user:u1"));
        assert!(!may_read(&p, "user:u2") && !may_write(&p, "user:u2"));
        assert!(may_read(&gm, "user:u2") && may_write(&gm, "user:u2"));
        assert!(!may_read(&p, "secret") && may_read(&gm, "secret"));
    }
}

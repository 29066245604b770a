//! The socket side of custom events: `events:define` (a GM declares events
//! for the world), a custom event sent by a client (validated against its
//! declaration, then relayed or handed to the responder), and a custom
//! event inside a GM's `broadcast`. The rules of declaring are in
//! [`crate::custom_events`]; failures use the catalogue's codes and reach
//! the sender as `error` (and in the ack), as every other failure does.

use crate::app::Shared;
use crate::auth::{Identity, Role};
use crate::custom_events::{self, DefineError};
use crate::events::{Failure, Outcome};
use crate::reply::Reply;
use crate::responder::Request;
use crate::rooms;
use frinny_agent::catalogue::custom::{parse_list, CustomDirection, CustomEventSpec};
use frinny_agent::catalogue::{codes, Direction, EventsDefineReply};
use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use std::sync::Arc;

/// The metrics label of every custom event (labels stay bounded).
pub const METRIC_LABEL: &str = "_custom";

fn direction_name(d: CustomDirection) -> &'static str {
    match d {
        CustomDirection::ClientToServer => "client_to_server",
        CustomDirection::ServerToClient => "server_to_client",
        CustomDirection::Both => "both",
    }
}

/// `events:define {events: [...]}`: a GM declares (or replaces) custom
/// events for the world; acked with `{ok, defined, count}`.
pub async fn define<A: Adapter>(
    app: &Shared,
    identity: &Identity,
    payload: &Value,
    ack: Reply<A>,
) -> Outcome<A> {
    if identity.role != Role::Gm {
        let f = Failure::new(
            codes::FORBIDDEN,
            format!(
                "role `{}` may not declare custom events; only a GM may",
                identity.role.as_str()
            ),
        );
        return Err((f, ack));
    }
    let list = payload.get("events").unwrap_or(&Value::Null);
    let specs = match parse_list(list, "events") {
        Ok(specs) => specs,
        Err(e) => {
            let mut f = Failure::new(e.code(), e.message);
            f.field = Some(e.field);
            return Err((f, ack));
        }
    };
    match custom_events::define(app, &identity.world, &specs).await {
        Ok(count) => {
            let defined: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
            tracing::info!(user = %identity.user_id, world = %identity.world, ?defined, count, "custom events declared");
            let _ = ack.send(&EventsDefineReply {
                ok: true,
                defined,
                count,
            });
            Ok(())
        }
        Err(DefineError::Reserved { index, name }) => {
            let mut f = Failure::new(
                codes::FORBIDDEN,
                format!(
                    "`{name}` is declared by the server's --events file; it cannot be redefined at run time"
                ),
            );
            f.field = Some(format!("events[{index}].name"));
            Err((f, ack))
        }
        Err(DefineError::TooMany { count, max }) => Err((
            Failure::new(
                codes::TOO_MANY_EVENTS,
                format!(
                    "the world would have {count} custom events; the server allows {max} (--max-custom-events)"
                ),
            ),
            ack,
        )),
        Err(DefineError::Unavailable(why)) => Err((
            Failure::new(
                codes::UNAVAILABLE,
                format!("custom events could not be stored, nothing was declared: {why}"),
            ),
            ack,
        )),
    }
}

/// Refuses a custom event payload over `--max-custom-payload-bytes`.
pub fn check_size(app: &Shared, event: &str, size: usize) -> Result<(), Failure> {
    let max = app.config.max_custom_payload_bytes;
    if size > max {
        return Err(Failure::new(
            codes::PAYLOAD_TOO_LARGE,
            format!(
                "the payload of `{event}` is {size} bytes; custom events may carry {max} (--max-custom-payload-bytes)"
            ),
        ));
    }
    Ok(())
}

/// The declaration of `event` in the sender's world, or INVALID_EVENT.
async fn declared(
    app: &Shared,
    identity: &Identity,
    event: &str,
) -> Result<Arc<CustomEventSpec>, Failure> {
    custom_events::lookup(app, &identity.world, event)
        .await
        .ok_or_else(|| {
            let shown: String = event.chars().take(64).collect();
            Failure::new(
                codes::INVALID_EVENT,
                format!(
                    "custom event `{shown}` is not declared in this world \
                     (a GM declares it with defineEvents, or the server's --events file)"
                ),
            )
        })
}

fn invalid_payload(e: frinny_agent::catalogue::CatalogueError, prefix: &str) -> Failure {
    let mut f = Failure::new(codes::INVALID_PAYLOAD, e.message);
    f.field = Some(match (e.field, prefix) {
        (Some(field), "") => field,
        (Some(field), p) => format!("{p}.{field}"),
        (None, "") => return f,
        (None, p) => p.to_owned(),
    });
    f
}

/// A custom event a client sent: it must be declared in its world as
/// travelling client to server and its payload must fit. One declared
/// `both` is relayed to the other sockets of the world; one declared
/// `client_to_server` goes to the responder's hook. Acked with
/// `{ok, event, recipients}`.
pub async fn on_custom<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    identity: &Identity,
    event: &str,
    payload: Value,
    ack: Reply<A>,
) -> Outcome<A> {
    let spec = match declared(app, identity, event).await {
        Ok(s) => s,
        Err(f) => return Err((f, ack)),
    };
    if !spec.direction.allows(Direction::ClientToServer) {
        let f = Failure::new(
            codes::INVALID_EVENT,
            format!(
                "`{}` is declared {}: clients may not send it",
                spec.name,
                direction_name(spec.direction)
            ),
        );
        return Err((f, ack));
    }
    if let Err(e) = spec.validate(&payload) {
        return Err((invalid_payload(e, ""), ack));
    }
    let recipients = if spec.direction.allows(Direction::ServerToClient) {
        let room = rooms::world(&identity.world);
        let recipients = socket.to(room.clone()).sockets().len();
        if let Err(e) = socket.to(room).emit(spec.name.as_str(), &payload).await {
            tracing::warn!("custom event relay failed: {e}");
            return Err((Failure::new(codes::INTERNAL, "relay failed"), ack));
        }
        app.metrics.event_out(METRIC_LABEL);
        recipients
    } else {
        app.responder.custom_event(&Request {
            event: spec.name.clone(),
            payload,
            identity: identity.clone(),
        });
        0
    };
    let _ = ack.send(&json!({"ok": true, "event": spec.name, "recipients": recipients}));
    Ok(())
}

/// A custom event inside a GM's `broadcast` (the role is checked already):
/// declared broadcastable in the world, its payload within bounds and
/// fitting. Delivered to the other sockets of the world.
pub async fn broadcast<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    identity: &Identity,
    event: &str,
    inner: Value,
    ack: Reply<A>,
) -> Outcome<A> {
    let spec = match declared(app, identity, event).await {
        Ok(s) => s,
        Err(mut f) => {
            f.field = Some("event".into());
            return Err((f, ack));
        }
    };
    if !spec.broadcastable {
        let mut f = Failure::new(
            codes::INVALID_EVENT,
            format!("`{}` is not declared broadcastable", spec.name),
        );
        f.field = Some("event".into());
        return Err((f, ack));
    }
    let size = serde_json::to_string(&inner).map_or(usize::MAX, |s| s.len());
    if let Err(mut f) = check_size(app, &spec.name, size) {
        f.field = Some("payload".into());
        return Err((f, ack));
    }
    if let Err(e) = spec.validate(&inner) {
        let mut f = invalid_payload(e, "payload");
        f.message = format!("broadcast payload: {}", f.message);
        return Err((f, ack));
    }
    let room = rooms::world(&identity.world);
    let recipients = socket.to(room.clone()).sockets().len();
    if let Err(e) = socket.to(room).emit(spec.name.as_str(), &inner).await {
        tracing::warn!("broadcast failed: {e}");
        return Err((Failure::new(codes::INTERNAL, "broadcast failed"), ack));
    }
    app.metrics.event_out(METRIC_LABEL);
    tracing::info!(user = %identity.user_id, event = %spec.name, recipients, "custom broadcast relayed");
    let _ = ack.send(&json!({"ok": true, "event": spec.name, "recipients": recipients}));
    Ok(())
}

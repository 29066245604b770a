//! Every client event enters through [`on_event`]: counted, rate limited,
//! size-checked and validated against the catalogue, then dispatched to the
//! Frinny request handler, the broadcast relay, the state protocol
//! ([`state_sync`]) or the custom events' declaring ([`crate::custom_socket`]).
//! A custom event (`x-<module>:<event>`) is checked against its world's
//! declaration instead of the catalogue, with the same codes.
//! Failures answer with `error` {request_id, code, message, field?,
//! retryAfterMs?} to the sending socket (and in the ack when one was asked for).
//! A `batch` envelope from the client is read by [`crate::batch::inbound`],
//! which hands each entry to [`handle`] as if it had come alone.

use crate::app::Shared;
use crate::auth::{now_millis, now_secs, Identity};
use crate::limits::ConnectionLimiter;
use crate::reply::Reply;
use crate::responder::Request;
use crate::rooms;
use crate::state_sync;
use frinny_agent::catalogue::custom::is_custom;
use frinny_agent::catalogue::{
    codes, names, response_event, spec, validate_from, validate_spec, BroadcastPayload, Direction,
    ErrorPayload, EventSpec, ReplyPayload, RequestId, SuggestionFeedbackPayload,
    TypingStatusPayload, EVENTS,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use std::time::{Duration, Instant};

/// An error to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// A code from [`codes`].
    pub code: &'static str,
    /// The human message.
    pub message: String,
    /// The field at fault.
    pub field: Option<String>,
    /// For `RATE_LIMITED`.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure with `code` and `message`, no field.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// The `error` payload for this failure.
    pub fn payload(&self, request_id: Option<&RequestId>) -> ErrorPayload {
        ErrorPayload {
            request_id: request_id.cloned(),
            code: self.code.to_owned(),
            message: self.message.clone(),
            error: Some(self.message.clone()),
            field: self.field.clone(),
            retry_after_ms: self
                .retry_after
                .map(|wait| u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
            timestamp: Some(now_millis()),
        }
    }
}

/// The `request_id` of a payload, when it has a usable one.
fn request_id_in(payload: &Value) -> Option<RequestId> {
    payload
        .get("request_id")
        .and_then(|id| RequestId::deserialize(id).ok())
}

fn request_id_of(payload: &Result<Value, String>) -> Option<RequestId> {
    payload.as_ref().ok().and_then(request_id_in)
}

/// Sends `error` to the socket, and the same payload in the ack if asked.
/// What waits in the socket's batch goes first: an answer never overtakes
/// an event pushed before it.
pub(crate) fn fail<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    ack: Reply<A>,
    request_id: Option<&RequestId>,
    f: &Failure,
) {
    let body = f.payload(request_id);
    app.metrics.error(f.code);
    app.batcher.flush(socket.id);
    if socket.emit(names::ERROR, &body).is_ok() {
        app.metrics.event_out(names::ERROR);
    }
    let _ = ack.send(&body);
}

/// The catch-all event handler of a connected socket.
pub async fn on_event<A: Adapter>(
    socket: SocketRef<A>,
    Event(event): Event,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(app): State<Shared>,
) {
    let ack = Reply::ack(ack, &app.batcher, &socket);
    let data = data.map_err(|e| e.to_string());
    if event == names::BATCH {
        crate::batch::inbound::dispatch(app, socket, data, ack).await;
    } else {
        handle(app, socket, event, data, ack).await;
    }
}

/// One client event, alone or an entry of a `batch` envelope: counted,
/// rate limited, size-checked, validated, then dispatched. `data` is its
/// payload, or why there is none readable.
pub async fn handle<A: Adapter>(
    app: Shared,
    socket: SocketRef<A>,
    event: String,
    data: Result<Value, String>,
    ack: Reply<A>,
) {
    let (Some(identity), Some(limiter)) = (
        socket.extensions.get::<Identity>(),
        socket.extensions.get::<ConnectionLimiter>(),
    ) else {
        return;
    };
    let known = spec(&event);
    let custom = is_custom(&event);
    app.metrics.event_in(match known {
        Some(s) => s.name,
        None if custom => crate::custom_socket::METRIC_LABEL,
        None => "_unknown",
    });
    let request_id = request_id_of(&data);

    if identity.expired(now_secs()) {
        let f = Failure::new(
            codes::TOKEN_EXPIRED,
            "token expired: get a new token and reconnect",
        );
        fail(&app, &socket, ack, request_id.as_ref(), &f);
        // The socket must not outlive its token: the server disconnects it
        // (a DISCONNECT the client does not retry by itself).
        let _ = socket.clone().disconnect();
        return;
    }

    if let Err(wait) = crate::limits::check_event(&app, &limiter, &identity.user_id).await {
        app.metrics.rate_limited();
        // One answer per window, not one per dropped event (see
        // `RATE_NOTICE_WINDOW`); the others are only counted.
        let first = socket
            .extensions
            .get::<std::sync::Arc<crate::limits::RateNotice>>()
            .is_none_or(|n| n.first_in_window(Instant::now(), wait));
        if !first {
            return;
        }
        let mut f = Failure::new(
            codes::RATE_LIMITED,
            format!(
                "too many events; `{}` dropped, retry later",
                known.map(|s| s.name).unwrap_or("event")
            ),
        );
        f.retry_after = Some(wait);
        fail(&app, &socket, ack, request_id.as_ref(), &f);
        return;
    }

    let payload = match data {
        Ok(p) => p,
        Err(e) => {
            let f = Failure::new(
                codes::INVALID_PAYLOAD,
                format!("the payload of `{event}` is missing or unreadable: {e}"),
            );
            fail(&app, &socket, ack, request_id.as_ref(), &f);
            return;
        }
    };

    let size = serde_json::to_string(&payload)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    let max = app.config.max_payload_bytes;
    if size > max {
        let f = Failure::new(
            codes::PAYLOAD_TOO_LARGE,
            format!("the payload of `{event}` is {size} bytes; the limit is {max}"),
        );
        fail(&app, &socket, ack, request_id.as_ref(), &f);
        return;
    }

    if custom {
        // Not the catalogue's: checked against the world's declaration.
        let outcome = match crate::custom_socket::check_size(&app, &event, size) {
            Ok(()) => {
                crate::custom_socket::on_custom(&app, &socket, &identity, &event, payload, ack)
                    .await
            }
            Err(f) => Err((f, ack)),
        };
        if let Err((f, ack)) = outcome {
            fail(&app, &socket, ack, request_id.as_ref(), &f);
        }
        return;
    }

    if let Err(e) = validate_from(Direction::ClientToServer, &event, &payload) {
        let mut f = Failure::new(
            if e.code() == codes::INVALID_EVENT {
                codes::INVALID_EVENT
            } else {
                codes::INVALID_PAYLOAD
            },
            e.message,
        );
        f.field = e.field;
        fail(&app, &socket, ack, request_id.as_ref(), &f);
        return;
    }

    let outcome = match event.as_str() {
        names::BROADCAST => relay_broadcast(&app, &socket, &identity, payload, ack).await,
        names::STATE_SUBSCRIBE => {
            state_sync::subscribe(&app, &socket, &identity, &payload, ack).await
        }
        names::STATE_UPDATE => state_sync::update(&app, &socket, &identity, &payload, ack).await,
        names::STATE_UNSUBSCRIBE => state_sync::unsubscribe(&socket, &identity, &payload, ack),
        names::EVENTS_DEFINE => crate::custom_socket::define(&app, &identity, &payload, ack).await,
        names::SUGGESTION_FEEDBACK => match SuggestionFeedbackPayload::deserialize(&payload) {
            // Nothing to answer: recorded, and acked if an ack was asked for.
            Ok(feedback) => {
                tracing::info!(user = %identity.user_id, id = ?feedback.id, accepted = feedback.accepted, "suggestion feedback");
                let _ = ack.send(&json!({"received": true, "id": feedback.id}));
                Ok(())
            }
            Err(e) => Err((Failure::new(codes::INVALID_PAYLOAD, e.to_string()), ack)),
        },
        _ => match response_event(&event) {
            Some(reply_event) => {
                answer(&app, &socket, identity, event, reply_event, payload, ack).await;
                Ok(())
            }
            None => Err((
                Failure::new(codes::INVALID_EVENT, format!("`{event}` is not handled")),
                ack,
            )),
        },
    };
    if let Err((f, ack)) = outcome {
        fail(&app, &socket, ack, request_id.as_ref(), &f);
    }
}

/// What a handler did: `Err` carries the failure and the ack to answer it with.
pub type Outcome<A> = Result<(), (Failure, Reply<A>)>;

async fn emit_to_user<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    user: &str,
    event: &str,
    body: &impl Serialize,
) {
    match socket.within(rooms::user(user)).emit(event, body).await {
        Ok(()) => app.metrics.event_out(event),
        Err(e) => tracing::debug!(%event, "emit to user room failed: {e}"),
    }
}

/// Answers a Frinny request: `typing_status` true, the responder, the
/// `<event>_response` to the user's room (and the ack), `typing_status` false.
async fn answer<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    identity: Identity,
    event: String,
    reply_event: &'static str,
    mut payload: Value,
    ack: Reply<A>,
) {
    let started = Instant::now();
    // The old backend believed `userId` in the payload; a responder must see
    // the authenticated user, whatever the client wrote.
    if let Some(obj) = payload.as_object_mut() {
        obj.insert("userId".into(), json!(identity.user_id));
    }
    let request_id = request_id_in(&payload);
    let user = identity.user_id.clone();
    let mut typing = TypingStatusPayload {
        is_typing: true,
        request_id: request_id.clone(),
    };
    emit_to_user(app, socket, &user, names::TYPING_STATUS, &typing).await;

    let request = Request {
        event,
        payload,
        identity,
    };
    let follow_ups = app.responder.follow_ups(&request);
    let result = app.responder.respond(request).await;

    match result {
        Ok(reply) => {
            let body = ReplyPayload {
                request_id: request_id.clone(),
                content: reply.content,
                timestamp: Some(now_millis()),
                demo: reply.demo,
            };
            emit_to_user(app, socket, &user, reply_event, &body).await;
            let _ = ack.send(&body);
            app.metrics.observe_latency(started.elapsed());
            for up in follow_ups {
                emit_to_user(app, socket, &user, up.event, &up.payload).await;
            }
        }
        Err(e) => {
            tracing::warn!(%user, "responder failed: {e}");
            let f = Failure::new(codes::RESPONDER_FAILED, e.to_string());
            fail(app, socket, ack, request_id.as_ref(), &f);
        }
    }
    typing.is_typing = false;
    emit_to_user(app, socket, &user, names::TYPING_STATUS, &typing).await;
}

fn broadcastable_names() -> String {
    EVENTS
        .iter()
        .filter(|e| e.broadcastable)
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The client `broadcast` event: only for roles that may broadcast; the inner
/// event must be broadcastable and its payload must fit it. Delivered to the
/// other sockets of the sender's world; the ack says how many.
async fn relay_broadcast<A: Adapter>(
    app: &Shared,
    socket: &SocketRef<A>,
    identity: &Identity,
    payload: Value,
    ack: Reply<A>,
) -> Outcome<A> {
    if !identity.role.can_broadcast() {
        let f = Failure::new(
            codes::FORBIDDEN,
            format!(
                "role `{}` may not broadcast; only a GM may",
                identity.role.as_str()
            ),
        );
        return Err((f, ack));
    }
    // Validated against the catalogue already, so this read only fails if
    // the table and the type disagree.
    let BroadcastPayload {
        event: inner_event,
        payload: mut inner,
    } = match BroadcastPayload::deserialize(payload) {
        Ok(b) => b,
        Err(e) => return Err((Failure::new(codes::INVALID_PAYLOAD, e.to_string()), ack)),
    };
    if is_custom(&inner_event) {
        return crate::custom_socket::broadcast(app, socket, identity, &inner_event, inner, ack)
            .await;
    }
    let inner_spec: &EventSpec = match spec(&inner_event) {
        Some(s) if s.broadcastable => s,
        _ => {
            let mut f = Failure::new(
                codes::INVALID_EVENT,
                format!(
                    "`{inner_event}` cannot be broadcast; allowed: {} and custom events declared broadcastable",
                    broadcastable_names()
                ),
            );
            f.field = Some("event".into());
            return Err((f, ack));
        }
    };
    if let Err(e) = validate_spec(inner_spec, &inner) {
        let mut f = Failure::new(
            codes::INVALID_PAYLOAD,
            format!("broadcast payload: {}", e.message),
        );
        f.field = Some(
            e.field
                .map(|f| format!("payload.{f}"))
                .unwrap_or_else(|| "payload".into()),
        );
        return Err((f, ack));
    }
    if let Some(obj) = inner.as_object_mut() {
        if inner_spec.name == names::NOTIFICATION {
            // Always the sender: a GM's relay must not pass for `/notify`.
            obj.insert("from".into(), json!(identity.user_id));
            obj.entry("timestamp")
                .or_insert_with(|| json!(now_millis()));
        }
    }
    let room = rooms::world(&identity.world);
    let recipients = socket.to(room.clone()).sockets().len();
    if let Err(e) = socket.to(room).emit(inner_spec.name, &inner).await {
        tracing::warn!("broadcast failed: {e}");
        return Err((Failure::new(codes::INTERNAL, "broadcast failed"), ack));
    }
    app.metrics.event_out(inner_spec.name);
    tracing::info!(user = %identity.user_id, event = inner_spec.name, recipients, "broadcast relayed");
    let _ = ack.send(&json!({"ok": true, "event": inner_spec.name, "recipients": recipients}));
    Ok(())
}

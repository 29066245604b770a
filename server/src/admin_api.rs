//! The HTTP admin endpoints that make the server push events: `POST
//! /broadcast`, `POST /notify`, `POST /state/update`. All need
//! `Authorization: Bearer <admin token>`. `/broadcast` checks a catalogue
//! event's payload, and a custom event's against its declaration. Malformed JSON gives 400, a bad
//! field 422 naming it.

use crate::api_error::ApiError;
use crate::auth::{check_id, now_millis};
use crate::bus::Target;
use crate::cluster::state::SharedError;
use crate::cluster::UNAVAILABLE;
use crate::http_state::HttpState;
use crate::rooms;
use crate::state_store::PatchError;
use crate::state_sync;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use frinny_agent::catalogue::custom::is_custom;
use frinny_agent::catalogue::{
    codes, names, spec, validate_spec, Direction, NotificationPayload, NOTIFICATION_LEVELS,
};
use frinny_agent::protocol::socket_io::RESERVED_EVENTS;
use serde_json::{json, Map, Value};

/// Names a broadcast may not use beside Socket.IO's reserved ones: events
/// the server itself sends, which clients must be able to trust.
const SERVER_ONLY: &[&str] = &[
    "error",
    "connection_established",
    "state:patch",
    "server_shutdown",
];

fn check_admin(state: &HttpState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.app.admin_token else {
        return Err(ApiError::unauthorized(
            "admin endpoints are disabled: no admin token is configured",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("missing `Authorization: Bearer <admin token>`"))?;
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::unauthorized("wrong admin token"));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The body as read by axum, or why it could not be: past the body limit
/// (`--max-payload-bytes`) 413 `PAYLOAD_TOO_LARGE`, otherwise 400 (a
/// client that hung up mid-body, a broken chunked encoding).
type Body = Result<Bytes, BytesRejection>;

fn body_bytes(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let mut err = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {limit} bytes (--max-payload-bytes)"),
            );
            err.extra.insert("limit".into(), json!(limit));
            err
        } else {
            ApiError::bad_json(format!("the body could not be read: {}", e.body_text()))
        }
    })
}

fn parse_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_json("the body is empty; send a JSON object"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_json("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad_json(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

fn required_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, ApiError> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(ApiError::field(
            field,
            format!("`{field}` must not be empty"),
        )),
        Some(_) => Err(ApiError::field(
            field,
            format!("`{field}` must be a string"),
        )),
        None => Err(ApiError::field(field, format!("`{field}` is required"))),
    }
}

fn optional_str<'a>(
    body: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => required_str(body, field).map(Some),
    }
}

fn check_event_name(name: &str) -> Result<(), ApiError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c));
    if name.len() > 64 || !ok_chars {
        return Err(ApiError::field(
            "event",
            "`event` must be at most 64 characters of letters, digits, `_`, `:`, `.`, `-`",
        ));
    }
    if RESERVED_EVENTS.contains(&name) || SERVER_ONLY.contains(&name) {
        return Err(ApiError::field(
            "event",
            format!("`event` may not be the reserved name `{name}`"),
        ));
    }
    if spec(name).is_some_and(|s| s.direction == Direction::ClientToServer) {
        return Err(ApiError::field(
            "event",
            format!("`{name}` is a client-to-server event"),
        ));
    }
    Ok(())
}

/// A custom event declared in `world` (or by the `--events` file) must be
/// one the server may send, with a payload that fits; one nobody declared
/// goes out unchecked, as any other name the admin chooses.
async fn check_custom(
    state: &HttpState,
    world: Option<&str>,
    event: &str,
    payload: &Value,
) -> Result<(), ApiError> {
    if !is_custom(event) {
        return Ok(());
    }
    let declared = match world {
        Some(w) => crate::custom_events::lookup(&state.app, w, event).await,
        None => state.app.custom_events.from_file(event),
    };
    let Some(spec) = declared else {
        return Ok(());
    };
    if !spec.direction.allows(Direction::ServerToClient) {
        return Err(ApiError::field(
            "event",
            format!("`{event}` is declared client_to_server"),
        ));
    }
    spec.validate(payload).map_err(|e| {
        let field = e
            .field
            .map(|f| format!("payload.{f}"))
            .unwrap_or_else(|| "payload".into());
        ApiError::field(&field, e.message)
    })
}

/// `POST /broadcast` {event, payload, world?}: emits `event` with `payload` to
/// every client, or to one world's room. A catalogue event's payload must fit
/// its type. Answers {delivered, event, recipients}.
pub async fn broadcast(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_admin(&state, &headers)?;
    let body = parse_object(&body_bytes(body, state.app.config.max_payload_bytes)?)?;
    let event = required_str(&body, "event")?;
    check_event_name(event)?;
    let payload = body
        .get("payload")
        .filter(|p| !p.is_null())
        .ok_or_else(|| ApiError::field("payload", "`payload` is required"))?;
    if let Some(s) = spec(event) {
        validate_spec(s, payload).map_err(|e| {
            let field = e
                .field
                .map(|f| format!("payload.{f}"))
                .unwrap_or_else(|| "payload".into());
            ApiError::field(&field, e.message)
        })?;
    }
    let world = optional_str(&body, "world")?;
    check_custom(&state, world, event, payload).await?;
    let target = match world {
        Some(w) => Target::Room(rooms::world(w)),
        None => Target::All,
    };
    let recipients = state.io.emit(&target, event, payload).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            format!("emit failed: {e}"),
        )
    })?;
    state
        .app
        .metrics
        .event_out(spec(event).map(|s| s.name).unwrap_or("_custom"));
    Ok(Json(
        json!({"delivered": true, "event": event, "recipients": recipients}),
    ))
}

/// `POST /notify` {userId?, level, title, message}: emits `notification` to
/// one user's room or to everyone. Answers {delivered, recipients}.
pub async fn notify(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_admin(&state, &headers)?;
    let body = parse_object(&body_bytes(body, state.app.config.max_payload_bytes)?)?;
    let level = required_str(&body, "level")?;
    if !NOTIFICATION_LEVELS.contains(&level) {
        return Err(ApiError::field(
            "level",
            format!("`level` must be one of {}", NOTIFICATION_LEVELS.join(", ")),
        ));
    }
    let title = required_str(&body, "title")?;
    let message = required_str(&body, "message")?;
    let user = optional_str(&body, "userId")?;
    if let Some(u) = user {
        check_id("userId", u).map_err(|e| ApiError::field("userId", e))?;
    }
    let payload = NotificationPayload {
        message: message.to_owned(),
        title: Some(title.to_owned()),
        level: Some(level.to_owned()),
        timestamp: Some(now_millis()),
        from: Some("server".to_owned()),
    };
    let target = match user {
        Some(u) => Target::Room(rooms::user(u)),
        None => Target::All,
    };
    let recipients = state
        .io
        .emit(&target, names::NOTIFICATION, &payload)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                format!("emit failed: {e}"),
            )
        })?;
    state.app.metrics.event_out(names::NOTIFICATION);
    Ok(Json(json!({"delivered": true, "recipients": recipients})))
}

/// `POST /state/update` {scope, patch, world?, base? (or baseVersion), push?}:
/// the same compare-and-set path as the `state:update` event, with the
/// rights of a GM. `world` defaults to `default` (the world of legacy
/// `userId` connections). Applies the merge patch, pushes `state:patch`
/// {scope, base, version, patch} to the scope's subscribers (unless `push`
/// is `false`: for tests that need a gap), answers {world, scope, base,
/// version, doc, recipients}. A stale base gives 409 {code: CONFLICT,
/// version, doc, currentVersion}; a document past the size limit 413; with
/// `--redis`, Redis down or stalled 503 {code: UNAVAILABLE} (nothing was
/// applied). `recipients` counts the subscribers on this instance.
pub async fn state_update(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_admin(&state, &headers)?;
    let body = parse_object(&body_bytes(body, state.app.config.max_payload_bytes)?)?;
    let scope = required_str(&body, "scope")?;
    check_id("scope", scope).map_err(|e| ApiError::field("scope", e))?;
    let world = optional_str(&body, "world")?.unwrap_or("default");
    check_id("world", world).map_err(|e| ApiError::field("world", e))?;
    let patch = match body.get("patch") {
        Some(p @ Value::Object(_)) => p,
        Some(_) => {
            return Err(ApiError::field(
                "patch",
                "`patch` must be a JSON object (a JSON merge patch)",
            ))
        }
        None => {
            return Err(ApiError::field(
                "patch",
                "`patch` is required (a JSON merge patch)",
            ))
        }
    };
    let (base_field, base_value) = match (body.get("base"), body.get("baseVersion")) {
        (Some(v), _) if !v.is_null() => ("base", Some(v)),
        (_, Some(v)) if !v.is_null() => ("baseVersion", Some(v)),
        _ => ("base", None),
    };
    let base = match base_value {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            ApiError::field(
                base_field,
                format!("`{base_field}` must be a non-negative integer"),
            )
        })?),
    };
    let push = match body.get("push") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::field("push", "`push` must be a boolean")),
    };
    if !push && !state.app.config.dev {
        // Silent writes exist to force gaps in tests; in production every
        // change must reach its subscribers.
        return Err(ApiError::field(
            "push",
            "`push: false` is only accepted in --dev",
        ));
    }
    let to_api = |e: PatchError| match e {
        PatchError::Conflict(now) => {
            state.app.metrics.error(codes::CONFLICT);
            let mut err = ApiError::new(
                StatusCode::CONFLICT,
                codes::CONFLICT,
                format!(
                    "`{base_field}` {} is stale; the current version is {}",
                    base.unwrap_or(0),
                    now.version
                ),
            );
            err.field = Some(base_field.into());
            err.extra.insert("version".into(), json!(now.version));
            err.extra
                .insert("currentVersion".into(), json!(now.version));
            err.extra.insert("doc".into(), now.doc);
            err
        }
        PatchError::TooLarge { size, max } => {
            let mut err = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::STATE_TOO_LARGE,
                format!("scope `{scope}` would be {size} bytes; the limit is {max}"),
            );
            err.field = Some("patch".into());
            err
        }
        PatchError::Invalid(why) => ApiError::field("patch", why),
    };
    let room = rooms::state(world, scope);
    if let Some(cluster) = &state.app.cluster {
        // Shared: every instance, this one included, pushes the patch to its
        // own subscribers when Redis publishes it.
        let applied = cluster
            .state
            .apply_and_wait(world, scope, patch, base, None, push)
            .await
            .map_err(|e| match e {
                SharedError::Patch(p) => to_api(p),
                SharedError::Unavailable(u) => {
                    state.app.metrics.error(UNAVAILABLE);
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE, u.to_string())
                }
            })?;
        let recipients = state.io.local_count(&room);
        return Ok(Json(json!({
            "world": world, "scope": scope, "base": applied.base,
            "version": applied.version, "doc": applied.doc,
            "recipients": if push { recipients } else { 0 },
        })));
    }
    let _in_order = state.app.state_writes.lock().await;
    let applied = state
        .app
        .store
        .apply(world, scope, patch, base, None)
        .map_err(to_api)?;
    let mut recipients = 0;
    if push {
        let push = state_sync::patch_event(scope, applied.base, applied.version, patch);
        match state
            .io
            .emit(&Target::Room(room), names::STATE_PATCH, &push)
            .await
        {
            Ok(n) => {
                recipients = n;
                state.app.metrics.event_out(names::STATE_PATCH);
            }
            Err(e) => tracing::warn!("state:patch push failed: {e}"),
        }
    }
    Ok(Json(json!({
        "world": world, "scope": scope, "base": applied.base,
        "version": applied.version, "doc": applied.doc, "recipients": recipients,
    })))
}

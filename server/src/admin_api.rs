//! The HTTP admin endpoints that make the server push events: `POST
//! /broadcast`, `POST /notify`, `POST /state/update`. All need
//! `Authorization: Bearer <admin token>`. Malformed JSON gives 400, a bad
//! field 422 naming it.

use crate::api_error::ApiError;
use crate::auth::{check_id, now_millis};
use crate::http::HttpState;
use crate::rooms;
use crate::state_store::PatchError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use frinny_agent::catalogue::{names, spec, validate_spec, Direction, NOTIFICATION_LEVELS};
use frinny_agent::protocol::socket_io::RESERVED_EVENTS;
use serde_json::{json, Map, Value};

/// Names a broadcast may not use beside Socket.IO's reserved ones: events
/// the server itself sends, which clients must be able to trust.
const SERVER_ONLY: &[&str] = &["error", "connection_established", "state:patch", "server_shutdown"];

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

fn parse_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
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

/// `POST /broadcast` {event, payload, world?}: emits `event` with `payload` to
/// every client, or to one world's room. A catalogue event's payload must fit
/// its type. Answers {delivered, event, recipients}.
pub async fn broadcast(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    check_admin(&state, &headers)?;
    let body = parse_object(&body)?;
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
    let target = match world {
        Some(w) => state.io.to(rooms::world(w)),
        None => state.io.broadcast(),
    };
    let recipients = target.clone().sockets().len();
    target.emit(event, payload).await.map_err(|e| {
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
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    check_admin(&state, &headers)?;
    let body = parse_object(&body)?;
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
    let payload = json!({
        "level": level, "title": title, "message": message,
        "from": "server", "timestamp": now_millis(),
    });
    let target = match user {
        Some(u) => state.io.to(rooms::user(u)),
        None => state.io.broadcast(),
    };
    let recipients = target.clone().sockets().len();
    target
        .emit(names::NOTIFICATION, &payload)
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

/// `POST /state/update` {scope, patch, baseVersion?}: applies a JSON merge
/// patch to the scope, pushes `state:patch` {scope, version, patch} to its
/// subscribers, answers {scope, version, state}. A stale `baseVersion` gives
/// 409 with `currentVersion`.
pub async fn state_update(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    check_admin(&state, &headers)?;
    let body = parse_object(&body)?;
    let scope = required_str(&body, "scope")?;
    check_id("scope", scope).map_err(|e| ApiError::field("scope", e))?;
    let patch = body
        .get("patch")
        .ok_or_else(|| ApiError::field("patch", "`patch` is required (a JSON merge patch)"))?;
    let base = match body.get("baseVersion") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            ApiError::field(
                "baseVersion",
                "`baseVersion` must be a non-negative integer",
            )
        })?),
    };
    let snapshot = state
        .app
        .store
        .apply(scope, patch, base)
        .map_err(|e| match e {
            PatchError::Conflict { current } => {
                let mut err = ApiError::new(
                    StatusCode::CONFLICT,
                    "VERSION_CONFLICT",
                    format!(
                        "`baseVersion` {} is stale; the current version is {current}",
                        base.unwrap_or(0)
                    ),
                );
                err.field = Some("baseVersion".into());
                err.extra.insert("currentVersion".into(), json!(current));
                err
            }
        })?;
    let push = json!({"scope": scope, "version": snapshot.version, "patch": patch});
    if let Err(e) = state
        .io
        .to(rooms::state(scope))
        .emit(names::STATE_PATCH, &push)
        .await
    {
        tracing::warn!("state:patch push failed: {e}");
    } else {
        state.app.metrics.event_out(names::STATE_PATCH);
    }
    Ok(Json(
        json!({"scope": scope, "version": snapshot.version, "state": snapshot.state}),
    ))
}

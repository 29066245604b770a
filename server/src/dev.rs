//! `--dev` only: `GET /dev/token?userId=..&role=..&world=..[&ttl=secs]` mints
//! a signed token for the demo page (and short-lived ones for tests of
//! token expiry). The server refuses `--dev` on a non-loopback
//! address, so this never faces a network.

use crate::api_error::ApiError;
use crate::auth::{check_id, now_secs, Role};
use crate::cors::{is_loopback_host, is_loopback_origin};
use crate::http_state::HttpState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// The query of `GET /dev/token`.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    /// The user id (required).
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
    /// `gm` or `player` (default `player`).
    pub role: Option<String>,
    /// The world (default `default`).
    pub world: Option<String>,
    /// Lifetime in seconds, 1 to [`MAX_TTL_SECS`] (default
    /// `--dev-token-ttl-secs`), so a test can watch a token expire.
    pub ttl: Option<u64>,
}

/// The longest lifetime `ttl` may ask for: a day.
pub const MAX_TTL_SECS: u64 = 86_400;

/// Mints a token: {token, userId, role, world, expiresAt}.
pub async fn token(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Json<Value>, ApiError> {
    // DNS rebinding: a site whose name resolves to 127.0.0.1 would reach us
    // with its own Host; a cross-site page sends its Origin.
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let local_host = header("host").is_some_and(is_loopback_host);
    let local_origin = header("origin").is_none_or(is_loopback_origin);
    if !(local_host && local_origin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "/dev/token answers only loopback pages".to_owned(),
        ));
    }
    let user = q.user_id.unwrap_or_default();
    check_id("userId", &user).map_err(|e| ApiError::field("userId", e))?;
    let role_name = q.role.unwrap_or_else(|| "player".to_owned());
    let role = Role::parse(&role_name)
        .ok_or_else(|| ApiError::field("role", "`role` must be `gm` or `player`"))?;
    let world = q.world.unwrap_or_else(|| "default".to_owned());
    check_id("world", &world).map_err(|e| ApiError::field("world", e))?;
    let ttl = match q.ttl {
        None => state.app.config.dev_token_ttl_secs,
        Some(ttl) if (1..=MAX_TTL_SECS).contains(&ttl) => ttl,
        Some(_) => {
            return Err(ApiError::field(
                "ttl",
                format!("`ttl` must be from 1 to {MAX_TTL_SECS} seconds"),
            ))
        }
    };
    let token = state
        .app
        .auth
        .issue(&user, role, &world, ttl)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))?;
    tracing::warn!(user = %user, role = role.as_str(), world = %world, "DEV MODE: minted a token via /dev/token");
    Ok(Json(json!({
        "token": token, "userId": user, "role": role.as_str(), "world": world,
        "expiresAt": now_secs().saturating_add(ttl),
    })))
}

//! Operations endpoints: `GET /healthz` and `GET /metrics`.

use crate::http::HttpState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

/// `GET /healthz`: {status: "ok", connections, uptimeSecs, dev}.
pub async fn healthz(State(state): State<HttpState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "connections": state.app.metrics.connections(),
        "uptimeSecs": state.app.started.elapsed().as_secs(),
        "dev": state.app.config.dev,
    }))
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.app.metrics.render(),
    )
}

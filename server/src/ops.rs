//! Operations endpoints: `GET /healthz` and `GET /metrics`.

use crate::http_state::HttpState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// `GET /healthz`: {status: "ok", connections, uptimeSecs, dev}. With
/// `--redis` also `redis` {status: "up" | "down", url, lastError?}, and
/// `status` is `degraded` while Redis is down or stalled: the server still
/// serves its own sockets, but state writes answer `UNAVAILABLE` and
/// events stay on this instance. Always 200: a degraded instance is better
/// than none for the clients connected to it.
pub async fn healthz(State(state): State<HttpState>) -> Json<Value> {
    let mut body = json!({
        "status": "ok",
        "connections": state.app.metrics.connections(),
        "uptimeSecs": state.app.started.elapsed().as_secs(),
        "dev": state.app.config.dev,
    });
    if let (Some(cluster), Some(obj)) = (&state.app.cluster, body.as_object_mut()) {
        let up = cluster.link.is_up();
        let mut redis = json!({"status": if up { "up" } else { "down" }, "url": cluster.url});
        if let (Some(err), Some(r)) = (cluster.link.last_error(), redis.as_object_mut()) {
            r.insert("lastError".into(), json!(err));
        }
        obj.insert("redis".into(), redis);
        if !up {
            obj.insert("status".into(), json!("degraded"));
        }
    }
    Json(body)
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    let mut text = state.app.metrics.render();
    if let Some(cluster) = &state.app.cluster {
        let link = &cluster.link;
        let _ = writeln!(
            text,
            "# HELP frinny_redis_up Whether Redis answered the last probe (1) or not (0)."
        );
        let _ = writeln!(text, "# TYPE frinny_redis_up gauge");
        let _ = writeln!(text, "frinny_redis_up {}", u8::from(link.is_up()));
        let _ = writeln!(
            text,
            "# HELP frinny_redis_failures_total Redis operations that failed or timed out."
        );
        let _ = writeln!(text, "# TYPE frinny_redis_failures_total counter");
        let _ = writeln!(text, "frinny_redis_failures_total {}", link.failures());
        let _ = writeln!(
            text,
            "# HELP frinny_redis_publishes_dropped_total Events not relayed to other instances while Redis was down (local sockets still got them)."
        );
        let _ = writeln!(text, "# TYPE frinny_redis_publishes_dropped_total counter");
        let _ = writeln!(
            text,
            "frinny_redis_publishes_dropped_total {}",
            link.dropped_publishes()
        );
        let _ = writeln!(text, "# HELP frinny_redis_malformed_total Messages from Redis that could not be read (dropped).");
        let _ = writeln!(text, "# TYPE frinny_redis_malformed_total counter");
        let _ = writeln!(
            text,
            "frinny_redis_malformed_total {}",
            link.malformed_count()
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

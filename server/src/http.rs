//! The axum router: admin and ops endpoints, `--dev` token minting, and the
//! static demo page (`www/` at `/`, `pkg/` at `/pkg`, `js/` at `/js`).

use crate::http_state::HttpState;
use crate::{admin_api, dev, ops};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::services::ServeDir;

/// Builds the router (without the Socket.IO layer).
pub fn router(state: HttpState) -> Router {
    let config = &state.app.config;
    let mut router = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/broadcast", post(admin_api::broadcast))
        .route("/notify", post(admin_api::notify))
        .route("/state/update", post(admin_api::state_update));
    if config.dev {
        router = router.route("/dev/token", get(dev::token));
    }
    router
        .nest_service("/pkg", ServeDir::new(&config.pkg_dir))
        .nest_service("/js", ServeDir::new(&config.js_dir))
        .fallback_service(ServeDir::new(&config.www_dir))
        .layer(DefaultBodyLimit::max(config.max_payload_bytes))
        .with_state(state)
}

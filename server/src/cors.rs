//! Cross-origin access: which pages on other origins may call the HTTP
//! endpoints and the long-polling transport (WebSockets need no CORS).

use crate::config::Config;
use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// The CORS layer for `config`, or `None` when no cross-origin access is
/// allowed: `--allow-origin` values (`*` for any), or any origin in `--dev`
/// when none is given.
///
/// ```
/// let mut config = frinny_server::config::Config::for_tests(false);
/// assert!(frinny_server::cors::layer(&config).is_none());
/// config.allow_origins = vec!["http://127.0.0.1:30000".into()];
/// assert!(frinny_server::cors::layer(&config).is_some());
/// ```
pub fn layer(config: &Config) -> Option<CorsLayer> {
    let any = config.allow_origins.iter().any(|o| o == "*") || (config.dev && config.allow_origins.is_empty());
    let origin = if any {
        AllowOrigin::any()
    } else if config.allow_origins.is_empty() {
        return None;
    } else {
        let list: Vec<HeaderValue> =
            config.allow_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        AllowOrigin::list(list)
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers(Any),
    )
}

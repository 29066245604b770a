//! Cross-origin access: which pages on other origins may call the HTTP
//! endpoints and the long-polling transport (WebSockets need no CORS).

use crate::config::Config;
use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// The CORS layer for `config`, or `None` when no cross-origin access is
/// allowed: `--allow-origin` values (`*` for any), or, in `--dev` when none
/// is given, pages served from a loopback address.
///
/// ```
/// let mut config = frinny_server::config::Config::for_tests(false);
/// assert!(frinny_server::cors::layer(&config).is_none());
/// config.allow_origins = vec!["http://127.0.0.1:30000".into()];
/// assert!(frinny_server::cors::layer(&config).is_some());
/// ```
pub fn layer(config: &Config) -> Option<CorsLayer> {
    let origin = if config.allow_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else if config.allow_origins.is_empty() {
        if !config.dev {
            return None;
        }
        // A loopback-only server is still reachable from any page open in
        // the same browser: in --dev only loopback pages may read it (or a
        // site could mint itself a GM token from /dev/token).
        AllowOrigin::predicate(|origin, _| origin.to_str().is_ok_and(is_loopback_origin))
    } else {
        let list: Vec<HeaderValue> = config
            .allow_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        AllowOrigin::list(list)
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers(Any),
    )
}

/// True for `http(s)://localhost`, `127.0.0.1` or `[::1]`, with any port.
///
/// ```
/// use frinny_server::cors::is_loopback_origin;
/// assert!(is_loopback_origin("http://127.0.0.1:30000"));
/// assert!(is_loopback_origin("http://localhost"));
/// assert!(!is_loopback_origin("http://127.0.0.1.evil.example"));
/// assert!(!is_loopback_origin("https://foundry.example"));
/// ```
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    is_loopback_host(rest)
}

/// True for a `Host` (or origin authority) of `localhost`, `127.0.0.1` or
/// `[::1]`, with or without a port.
pub fn is_loopback_host(authority: &str) -> bool {
    let host = if authority.starts_with('[') {
        authority
            .split_once(']')
            .map(|(h, _)| h.trim_start_matches('['))
            .unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

//! What every HTTP handler is given. Its own module, so that the handler
//! modules (`admin_api`, `ops`, `dev`) and the router that mounts them
//! (`http`) depend on it rather than on each other.

use crate::app::Shared;

/// State of the HTTP handlers.
#[derive(Clone)]
pub struct HttpState {
    /// The shared application state.
    pub app: Shared,
    /// The Socket.IO handle, to push events.
    pub io: crate::bus::Io,
}

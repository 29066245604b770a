//! Bounds on what a decoder accepts from the network.

/// Limits every decoder enforces before it does any real work, so that a
/// hostile or broken peer cannot make the client allocate or recurse without
/// bound.
///
/// ```
/// use frinny_agent::protocol::Limits;
/// let strict = Limits { max_frame_bytes: 64 * 1024, ..Limits::default() };
/// assert_eq!(strict.max_depth, Limits::default().max_depth);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest text or binary frame, in bytes (default 1 MB, as Engine.IO's
    /// default `maxHttpBufferSize`).
    pub max_frame_bytes: usize,
    /// Most binary attachments one Socket.IO packet may announce (default 16).
    pub max_attachments: usize,
    /// Deepest JSON nesting of arrays and objects (default 64; serde_json's
    /// own recursion limit is 128, so ours always trips first).
    pub max_depth: usize,
}

impl Limits {
    /// 1 MB, as Engine.IO's default `maxHttpBufferSize`.
    pub const DEFAULT_MAX_FRAME_BYTES: usize = 1_000_000;
    /// Enough for any real Frinny payload, small enough to bound memory.
    pub const DEFAULT_MAX_ATTACHMENTS: usize = 16;
    /// Deep enough for any real document, well under serde_json's 128.
    pub const DEFAULT_MAX_DEPTH: usize = 64;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: Self::DEFAULT_MAX_FRAME_BYTES,
            max_attachments: Self::DEFAULT_MAX_ATTACHMENTS,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}

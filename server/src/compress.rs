//! Compressed `state:subscribe` snapshots.
//!
//! The WebSocket stack cannot negotiate permessage-deflate (engineioxide
//! answers the upgrade itself without `Sec-WebSocket-Extensions`, and
//! tungstenite 0.30 has no extension support: a frame with RSV1 set is a
//! protocol error), so large snapshots are compressed here instead: the
//! document's JSON text, zlib-deflated, travels as the reply's one binary
//! attachment, marked `compressed: "deflate"`. Only a subscriber that asked
//! with `compress: "deflate"` gets it; every other client (socket.io-client,
//! the old module) keeps plain JSON.

use bytes::Bytes;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use frinny_agent::catalogue::{StateSubscribeReply, SNAPSHOT_COMPRESSION};
use serde::Serialize;
use std::io::Write;

/// A snapshot reply whose `doc` is the compressed JSON text of the document:
/// serialised by socketioxide as a BINARY_ACK, `doc` becoming a placeholder.
#[derive(Debug, Serialize)]
pub struct CompressedSnapshot {
    scope: String,
    version: u64,
    compressed: &'static str,
    doc: Bytes,
    #[serde(skip_serializing_if = "Option::is_none")]
    epoch: Option<String>,
}

impl CompressedSnapshot {
    /// The compressed bytes (for tests and metrics).
    pub fn doc_bytes(&self) -> &[u8] {
        &self.doc
    }
}

/// A `state:subscribe` reply as it goes out.
#[derive(Debug)]
pub enum Reply {
    /// Plain JSON.
    Plain(StateSubscribeReply),
    /// The snapshot compressed.
    Compressed(CompressedSnapshot),
}

/// What to send for `reply`: compressed when the subscriber asked for
/// `wanted` compression, the reply is a snapshot, and its JSON text is at
/// least `threshold` bytes (`0`: never); plain otherwise, or should
/// compressing fail.
pub fn encode(reply: StateSubscribeReply, wanted: Option<&str>, threshold: usize) -> Reply {
    match compress(&reply, wanted, threshold) {
        Some(c) => Reply::Compressed(c),
        None => Reply::Plain(reply),
    }
}

fn compress(
    reply: &StateSubscribeReply,
    wanted: Option<&str>,
    threshold: usize,
) -> Option<CompressedSnapshot> {
    if threshold == 0 || wanted != Some(SNAPSHOT_COMPRESSION) {
        return None;
    }
    let text = serde_json::to_vec(reply.doc.as_ref()?).ok()?;
    if text.len() < threshold {
        return None;
    }
    // Level 6 (zlib's default): about as small as 9 on JSON, much faster;
    // this runs on the reply path of every large subscribe.
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(text.len() / 4), Compression::new(6));
    let compressed = match encoder.write_all(&text).and_then(|()| encoder.finish()) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("snapshot not compressed: {e}");
            return None;
        }
    };
    Some(CompressedSnapshot {
        scope: reply.scope.clone(),
        version: reply.version,
        compressed: SNAPSHOT_COMPRESSION,
        doc: Bytes::from(compressed),
        epoch: reply.epoch.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::ZlibDecoder;
    use serde_json::{json, Value};
    use std::io::Read;

    fn reply(doc: Option<Value>) -> StateSubscribeReply {
        StateSubscribeReply {
            scope: "world".into(),
            version: 3,
            doc,
            patches: None,
            epoch: Some("e".into()),
            compressed: None,
        }
    }

    #[test]
    fn a_large_snapshot_is_compressed_only_when_asked() {
        let doc = json!({"actors": (0..500).map(|i| json!({"name": format!("a{i}"), "hp": i})).collect::<Vec<_>>()});
        let len = serde_json::to_vec(&doc).unwrap().len();
        let Reply::Compressed(c) = encode(reply(Some(doc.clone())), Some("deflate"), 1024) else {
            panic!("not compressed");
        };
        assert!(c.doc_bytes().len() * 4 < len);
        let mut text = String::new();
        ZlibDecoder::new(c.doc_bytes())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
        let plain = |r, wanted, threshold| matches!(encode(r, wanted, threshold), Reply::Plain(_));
        assert!(plain(reply(Some(doc.clone())), None, 1024));
        assert!(plain(reply(Some(doc.clone())), Some("gzip"), 1024));
        assert!(plain(reply(Some(doc.clone())), Some("deflate"), 0));
        assert!(plain(reply(Some(doc)), Some("deflate"), len + 1));
        assert!(plain(reply(None), Some("deflate"), 1));
    }
}

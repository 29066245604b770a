//! Copies a request's head (URI and header values) out of hyper's read buffer.
//!
//! hyper parses the URI and every header value as a slice of the connection's
//! read buffer (8 KiB, grown to 16 KiB by its adaptive read strategy), so
//! whatever keeps a head alive keeps that whole buffer alive too. Socket.IO
//! keeps the head of the request that opened a session for the session's whole
//! life (`SocketRef::req_parts`), so each connected client pinned ~16 KiB it
//! never used: 31 of the 68 MiB the server held with 2,000 WebSocket clients
//! (heaptrack, `cargo xtask bench --only server`). [`detach_head`] runs before
//! the Socket.IO layer and moves the head into one exactly sized allocation of
//! its own, so hyper's buffer is freed when the upgrade hands the connection
//! over. Header names need no copy: hyper makes them static or owned.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Uri};

/// Middleware (`axum::middleware::map_request`): the same request, with a head
/// that shares no memory with hyper's read buffer.
pub async fn detach_head(req: Request) -> Request {
    let (mut parts, body) = req.into_parts();
    let (uri, headers) = detached(&parts.uri, &parts.headers);
    parts.uri = uri;
    parts.headers = headers;
    Request::from_parts(parts, body)
}

/// Copies of `uri` and `headers` whose bytes all live in one new buffer.
fn detached(uri: &Uri, headers: &HeaderMap) -> (Uri, HeaderMap) {
    let uri_text = uri.to_string();
    let total = uri_text.len() + headers.values().map(|v| v.len()).sum::<usize>();
    let mut buf = Vec::with_capacity(total);
    buf.extend_from_slice(uri_text.as_bytes());
    for value in headers.values() {
        buf.extend_from_slice(value.as_bytes());
    }
    let buf = Bytes::from(buf);
    let mut at = uri_text.len();
    // Re-parsing what `Uri` itself printed cannot fail; if it ever did, the
    // original is kept (correct, just not detached).
    let uri = buf
        .get(..at)
        .and_then(|b| Uri::from_maybe_shared(buf.slice_ref(b)).ok())
        .unwrap_or_else(|| uri.clone());
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let end = at + value.len();
        let copy = buf
            .get(at..end)
            .and_then(|b| HeaderValue::from_maybe_shared(buf.slice_ref(b)).ok())
            .map(|mut v| {
                v.set_sensitive(value.is_sensitive());
                v
            })
            .unwrap_or_else(|| value.clone());
        at = end;
        out.append(name.clone(), copy);
    }
    (uri, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::{HeaderName, AUTHORIZATION, HOST};

    #[test]
    fn the_copy_is_equal_and_owns_its_bytes() {
        let source = Bytes::from_static(b"/socket.io/?EIO=4&transport=websocket&userId=u1");
        let uri = Uri::from_maybe_shared(source).unwrap();
        let mut headers = HeaderMap::new();
        headers.append(HOST, HeaderValue::from_static("127.0.0.1:5001"));
        let custom = HeaderName::from_static("x-frinny");
        headers.append(&custom, HeaderValue::from_static("a"));
        headers.append(&custom, HeaderValue::from_static(""));
        headers.append(&custom, HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        let mut secret = HeaderValue::from_static("Bearer t");
        secret.set_sensitive(true);
        headers.append(AUTHORIZATION, secret);

        let (u, h) = detached(&uri, &headers);
        assert_eq!(u, uri);
        assert_eq!(u.query(), Some("EIO=4&transport=websocket&userId=u1"));
        assert_eq!(h, headers);
        let all: Vec<_> = h.get_all(&custom).iter().collect();
        assert_eq!(all, headers.get_all(&custom).iter().collect::<Vec<_>>());
        assert!(h.get(AUTHORIZATION).unwrap().is_sensitive());
        // The copies point into one new buffer, not into the originals.
        let original = headers.get(HOST).unwrap().as_bytes().as_ptr();
        assert_ne!(h.get(HOST).unwrap().as_bytes().as_ptr(), original);
    }

    #[test]
    fn an_absolute_uri_survives() {
        let uri: Uri = "http://example.test:8080/socket.io/?EIO=4".parse().unwrap();
        let (u, h) = detached(&uri, &HeaderMap::new());
        assert_eq!(u, uri);
        assert!(h.is_empty());
    }
}

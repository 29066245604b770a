//! The URLs the client dials: the WebSocket's, and the HTTP long-polling
//! transport's.

/// Builds `<ws url><path>?EIO=4&transport=websocket&<query>` for Socket.IO,
/// or `<ws url><path>?<query>` for plain JSON, mapping http→ws and
/// https→wss and percent-encoding the query.
///
/// ```
/// use frinny_agent::core::url::websocket_url;
/// let url = websocket_url("http://127.0.0.1:5001", "/socket.io/", &[("userId".into(), "u 1".into())], true);
/// assert_eq!(url, "ws://127.0.0.1:5001/socket.io/?EIO=4&transport=websocket&userId=u%201");
/// ```
pub fn websocket_url(
    base: &str,
    path: &str,
    query: &[(String, String)],
    socket_io: bool,
) -> String {
    let base = base.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    let mut url = base;
    if !path.is_empty() && !path.starts_with('/') {
        url.push('/');
    }
    url.push_str(path);
    let mut sep = if url.contains('?') { '&' } else { '?' };
    if socket_io {
        url.push(sep);
        url.push_str("EIO=4&transport=websocket");
        sep = '&';
    }
    for (k, v) in query {
        url.push(sep);
        sep = '&';
        encode_into(&mut url, k);
        url.push('=');
        encode_into(&mut url, v);
    }
    url
}

/// Builds `<http url><path>?EIO=4&transport=polling&t=<t>[&sid=<sid>]&<query>`
/// for the Engine.IO long-polling transport, mapping ws→http and
/// wss→https. `t` is the cache buster socket.io-client also sends: each
/// request of a session must have its own URL, or a cache could answer it.
///
/// ```
/// use frinny_agent::core::url::polling_url;
/// let url = polling_url("ws://127.0.0.1:5001", "/socket.io/", &[("userId".into(), "u1".into())], Some("a b"), "7");
/// assert_eq!(url, "http://127.0.0.1:5001/socket.io/?EIO=4&transport=polling&t=7&sid=a%20b&userId=u1");
/// ```
pub fn polling_url(
    base: &str,
    path: &str,
    query: &[(String, String)],
    sid: Option<&str>,
    t: &str,
) -> String {
    let base = base.trim_end_matches('/');
    let mut url = if let Some(rest) = base.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = base.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        base.to_owned()
    };
    if !path.is_empty() && !path.starts_with('/') {
        url.push('/');
    }
    url.push_str(path);
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str("EIO=4&transport=polling&t=");
    encode_into(&mut url, t);
    if let Some(sid) = sid {
        url.push_str("&sid=");
        encode_into(&mut url, sid);
    }
    for (k, v) in query {
        url.push('&');
        encode_into(&mut url, k);
        url.push('=');
        encode_into(&mut url, v);
    }
    url
}

/// `encodeURIComponent`.
fn encode_into(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 15] {
                let digit = char::from_digit(u32::from(nibble), 16).unwrap_or('0');
                out.push(digit.to_ascii_uppercase());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::websocket_url;

    #[test]
    fn schemes_and_paths() {
        assert_eq!(
            websocket_url("https://h/", "/socket.io/", &[], true),
            "wss://h/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(websocket_url("ws://h:1", "ws", &[], false), "ws://h:1/ws");
        assert_eq!(
            websocket_url("ws://h", "/x?a=1", &[("b".into(), "é&".into())], false),
            "ws://h/x?a=1&b=%C3%A9%26"
        );
    }
}

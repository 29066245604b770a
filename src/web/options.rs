//! The constructor's options object, parsed into the core's [`Config`]: the
//! object goes through `JSON.stringify`, and `read` takes the text apart
//! field by field with the project's JSON helpers (no serde derive).
//! Unknown keys and ill-typed values are rejected (the constructor throws an
//! `Error` with code `INVALID_OPTIONS` naming the problem), so a typo such
//! as `reconectionDelay` does not go unnoticed.

use crate::core::{Backoff, ClientError, Config, ErrorCode, Protocol};
use crate::protocol::json;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// The options as JS spells them. Names follow socket.io-client where it has
/// one (`reconnectionDelay`, `reconnectionDelayMax`, `reconnectionAttempts`,
/// `randomizationFactor`, `timeout`), with the roadmap's short forms
/// (`delay`, `delayMax`, `attempts`) as aliases. `null` means the default.
#[derive(Default)]
struct Options {
    url: Option<String>,
    path: Option<String>,
    query: Option<Vec<(String, String)>>,
    namespace: Option<String>,
    auth: Option<Value>,
    protocol: Option<String>,
    wrap_events: Option<Vec<String>>,
    reconnection: Option<bool>,
    reconnection_delay: Option<f64>,
    reconnection_delay_max: Option<f64>,
    randomization_factor: Option<f64>,
    reconnection_attempts: Option<f64>,
    connect_timeout: Option<f64>,
    timeout: Option<f64>,
    buffer_size: Option<f64>,
}

/// Every option, for the unknown-option message.
const NAMES: &str = "url, path, query, namespace, auth, protocol, wrapEvents, reconnection, \
                     reconnectionDelay (or delay), reconnectionDelayMax (or delayMax), randomizationFactor, \
                     reconnectionAttempts (or attempts), connectTimeout, timeout, bufferSize";

/// Reads the options' JSON text by hand rather than with
/// `#[derive(Deserialize)]`: the derived struct, its `Option<T>` fields and
/// the untagged query values cost ~19 KB of wasm; this reuses the
/// `serde_json::Value` parser the client has anyway. Fields are read in the
/// order JS lists them, so query parameters keep their order.
fn read(text: &str) -> Result<Options, ClientError> {
    let fields = json::object_fields(text).ok_or_else(|| {
        invalid("options must be an object such as { url: 'http://127.0.0.1:5001' }")
    })?;
    let mut o = Options::default();
    let mut seen: Vec<&str> = Vec::new();
    for (key, raw) in &fields {
        let v =
            json::parse_value(raw.get()).map_err(|e| invalid(format!("invalid options: {e}")))?;
        let name = match key.as_ref() {
            "delay" => "reconnectionDelay",
            "delayMax" => "reconnectionDelayMax",
            "attempts" => "reconnectionAttempts",
            other => other,
        };
        if seen.contains(&name) {
            return Err(invalid(format!(
                "option {name} is given twice (as itself and by its short name)"
            )));
        }
        seen.push(name);
        match name {
            "url" => o.url = string(name, v)?,
            "path" => o.path = string(name, v)?,
            "namespace" => o.namespace = string(name, v)?,
            "protocol" => o.protocol = string(name, v)?,
            "query" => o.query = query(raw.get(), v)?,
            "wrapEvents" => o.wrap_events = names(name, v)?,
            "auth" => o.auth = Some(v).filter(|v| !v.is_null()),
            "reconnection" => {
                o.reconnection = match v {
                    Value::Null => None,
                    Value::Bool(b) => Some(b),
                    _ => return Err(invalid("option reconnection must be a boolean")),
                }
            }
            "reconnectionDelay" => o.reconnection_delay = number(name, v)?,
            "reconnectionDelayMax" => o.reconnection_delay_max = number(name, v)?,
            "randomizationFactor" => o.randomization_factor = number(name, v)?,
            "reconnectionAttempts" => o.reconnection_attempts = number(name, v)?,
            "connectTimeout" => o.connect_timeout = number(name, v)?,
            "timeout" => o.timeout = number(name, v)?,
            "bufferSize" => o.buffer_size = number(name, v)?,
            _ => {
                return Err(invalid(format!(
                    "unknown option `{key}`; the options are {NAMES}"
                )))
            }
        }
    }
    Ok(o)
}

fn string(name: &str, v: Value) -> Result<Option<String>, ClientError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(invalid(format!("option {name} must be a string"))),
    }
}

fn number(name: &str, v: Value) -> Result<Option<f64>, ClientError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        _ => Err(invalid(format!("option {name} must be a number"))),
    }
}

/// A list of event names.
fn names(name: &str, v: Value) -> Result<Option<Vec<String>>, ClientError> {
    let bad = || invalid(format!("option {name} must be an array of event names"));
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(bad()),
    }
}

/// Query parameters in the order JS lists them; values may be strings,
/// numbers or booleans (sent as their text).
fn query(raw: &str, v: Value) -> Result<Option<Vec<(String, String)>>, ClientError> {
    const BAD: &str = "option query must be an object of string, number or boolean values";
    if v.is_null() {
        return Ok(None);
    }
    let fields = json::object_fields(raw).ok_or_else(|| invalid(BAD))?;
    let mut out = Vec::with_capacity(fields.len());
    for (key, raw) in fields {
        let text = match json::parse_value(raw.get()) {
            Ok(Value::String(s)) => s,
            Ok(Value::Bool(b)) => b.to_string(),
            Ok(Value::Number(n)) => match n.as_f64() {
                Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => format!("{}", n as i64),
                Some(n) => n.to_string(),
                None => return Err(invalid(BAD)),
            },
            _ => return Err(invalid(BAD)),
        };
        out.push((key.into_owned(), text));
    }
    Ok(Some(out))
}

fn invalid(message: impl Into<String>) -> ClientError {
    ClientError::new(ErrorCode::InvalidOptions, message)
}

/// A whole number of milliseconds (or a count) in `0..=max`.
fn whole(name: &str, v: f64, max: f64) -> Result<u64, ClientError> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= max {
        Ok(v as u64)
    } else {
        Err(invalid(format!(
            "option {name} must be a whole number from 0 to {max}, got {v}"
        )))
    }
}

const MAX_MS: f64 = 2_147_483_647.0; // setTimeout's own limit

/// Parses the JS options object into a [`Config`], and the `auth` option
/// when it is a function (the shell keeps that; the core only learns that
/// auth is asked for per attempt).
pub(crate) fn parse(options: &JsValue) -> Result<(Config, Option<js_sys::Function>), ClientError> {
    use wasm_bindgen::JsCast;
    if !options.is_object() || js_sys::Array::is_array(options) {
        return Err(invalid(
            "options must be an object such as { url: 'http://127.0.0.1:5001' }",
        ));
    }
    // Taken out first: JSON.stringify below drops function-valued keys.
    let auth_fn = js_sys::Reflect::get(options, &JsValue::from_str("auth"))
        .map_err(|_| invalid("option auth could not be read"))?
        .dyn_into::<js_sys::Function>()
        .ok();
    // Through JSON text, read field by field by `read`, which refuses
    // unknown keys; it keeps serde-wasm-bindgen out of the package.
    // `Infinity` becomes null, i.e. the option's default (for
    // `reconnectionAttempts`, unlimited).
    let text = js_sys::JSON::stringify(options)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| invalid("options must be plain data (JSON.stringify failed)"))?;
    let o = read(&text)?;
    let url = o
        .url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid("option url is required"))?;
    let mut cfg = Config::new(url);
    cfg.protocol = match o.protocol.as_deref() {
        None | Some("socket.io") => Protocol::SocketIo,
        Some("json") => Protocol::Json,
        Some(other) => {
            return Err(invalid(format!(
                "option protocol must be 'socket.io' or 'json', got {other:?}"
            )))
        }
    };
    match (o.path, cfg.protocol) {
        (Some(p), _) => cfg.path = p,
        // The plain-JSON endpoint is the URL as given.
        (None, Protocol::Json) => cfg.path = String::new(),
        (None, Protocol::SocketIo) => {}
    }
    if let Some(q) = o.query {
        cfg.query = q;
    }
    if let Some(ns) = o.namespace {
        if ns.contains(',') {
            return Err(invalid(format!(
                "option namespace must not contain ',', got {ns:?}"
            )));
        }
        cfg.namespace = if ns.starts_with('/') {
            ns
        } else {
            format!("/{ns}")
        };
    }
    if let Some(names) = o.wrap_events {
        if cfg.protocol != Protocol::Json {
            return Err(invalid("option wrapEvents only applies to protocol 'json'"));
        }
        cfg.wrap_events = names;
    }
    if let Some(auth) = o.auth {
        if !auth.is_object() {
            return Err(invalid("option auth must be an object or a function"));
        }
        cfg.auth = Some(json::text(&auth));
    }
    cfg.auth_per_attempt = auth_fn.is_some();
    if let Some(r) = o.reconnection {
        cfg.reconnection = r;
    }
    let mut backoff = Backoff::default();
    if let Some(v) = o.reconnection_delay {
        backoff.delay_ms = whole("reconnectionDelay", v, MAX_MS)?;
    }
    if let Some(v) = o.reconnection_delay_max {
        backoff.delay_max_ms = whole("reconnectionDelayMax", v, MAX_MS)?;
    }
    if let Some(v) = o.randomization_factor {
        if !(0.0..=1.0).contains(&v) {
            return Err(invalid(format!(
                "option randomizationFactor must be from 0 to 1, got {v}"
            )));
        }
        backoff.randomization_factor = v;
    }
    if let Some(v) = o.reconnection_attempts {
        backoff.attempts = if v == f64::INFINITY {
            // Only reachable if the tree ever keeps non-finite numbers.
            None
        } else {
            Some(whole("reconnectionAttempts", v, f64::from(u32::MAX))? as u32)
        };
    }
    cfg.backoff = backoff;
    if let Some(v) = o.connect_timeout {
        cfg.connect_timeout_ms = whole("connectTimeout", v, MAX_MS)?;
    }
    if let Some(v) = o.timeout {
        cfg.request_timeout_ms = whole("timeout", v, MAX_MS)?;
    }
    if let Some(v) = o.buffer_size {
        cfg.buffer_size = whole("bufferSize", v, 1_000_000.0)? as usize;
    }
    Ok((cfg, auth_fn))
}

/// Options of one `request()` call: `{timeout, signal, retry}`.
pub(crate) struct RequestOpts {
    /// Overrides the manager's request timeout.
    pub timeout_ms: Option<u64>,
    /// Re-send once after a reconnect instead of rejecting DISCONNECTED.
    pub retry: bool,
    /// Rejects the request with ABORTED when it fires.
    pub signal: Option<web_sys::AbortSignal>,
}

/// Parses `request()`'s third argument (`undefined` or an object).
pub(crate) fn request_opts(v: &JsValue) -> Result<RequestOpts, ClientError> {
    let mut out = RequestOpts {
        timeout_ms: None,
        retry: false,
        signal: None,
    };
    if v.is_undefined() || v.is_null() {
        return Ok(out);
    }
    if !v.is_object() {
        return Err(invalid(
            "request options must be an object { timeout, signal, retry }",
        ));
    }
    let keys = js_sys::Object::keys(v.unchecked_ref_object());
    for key in keys.iter() {
        let name = key.as_string().unwrap_or_default();
        let value = js_sys::Reflect::get(v, &key).unwrap_or(JsValue::UNDEFINED);
        if value.is_undefined() {
            continue;
        }
        match name.as_str() {
            "timeout" => {
                let ms = value
                    .as_f64()
                    .ok_or_else(|| invalid("request option timeout must be a number"))?;
                out.timeout_ms = Some(whole("timeout", ms, MAX_MS)?);
            }
            "retry" => {
                out.retry = value
                    .as_bool()
                    .ok_or_else(|| invalid("request option retry must be a boolean"))?;
            }
            "signal" => {
                use wasm_bindgen::JsCast;
                if value.is_null() {
                    continue;
                }
                let signal = value
                    .dyn_into::<web_sys::AbortSignal>()
                    .map_err(|_| invalid("request option signal must be an AbortSignal"))?;
                out.signal = Some(signal);
            }
            other => return Err(invalid(format!("unknown request option {other:?}"))),
        }
    }
    Ok(out)
}

/// `{volatile}` of `emit()`.
pub(crate) fn emit_volatile(v: &JsValue) -> Result<bool, ClientError> {
    if v.is_undefined() || v.is_null() {
        return Ok(false);
    }
    let volatile =
        js_sys::Reflect::get(v, &JsValue::from_str("volatile")).unwrap_or(JsValue::UNDEFINED);
    if volatile.is_undefined() {
        return Ok(false);
    }
    volatile
        .as_bool()
        .ok_or_else(|| invalid("emit option volatile must be a boolean"))
}

trait AsObject {
    fn unchecked_ref_object(&self) -> &js_sys::Object;
}

impl AsObject for JsValue {
    fn unchecked_ref_object(&self) -> &js_sys::Object {
        wasm_bindgen::JsCast::unchecked_ref::<js_sys::Object>(self)
    }
}

//! The constructor's options object, read into the core's [`Config`].
//!
//! The object is read with serde-wasm-bindgen into [`Options`], a derived
//! struct, so its fields, their names and their aliases are declared once.
//! Unknown keys and ill-typed values are refused (the constructor throws an
//! `Error` with code `INVALID_OPTIONS` naming the problem), so a typo such
//! as `reconectionDelay` does not go unnoticed. `auth` may be a function,
//! which serde cannot hold: it is read with `Reflect` beside the derive.

use super::polling::HttpOptions;
use crate::core::{
    Backoff, ClientError, Config, EmitOptions, ErrorCode, Parser, Priority, Protocol, Transport,
};
use serde::de::{self, Deserializer, IgnoredAny, IntoDeserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// The options as JS spells them. Names follow socket.io-client where it has
/// one (`reconnectionDelay`, `reconnectionDelayMax`, `reconnectionAttempts`,
/// `randomizationFactor`, `timeout`), with the roadmap's short forms
/// (`delay`, `delayMax`, `attempts`) as aliases. `null` (or `undefined`)
/// means the default.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct Options {
    url: Setting<String>,
    path: Setting<String>,
    query: Setting<Query>,
    namespace: Setting<String>,
    /// Read with `Reflect` (it may be a function); named here so that it
    /// is a known option.
    auth: IgnoredAny,
    protocol: Setting<String>,
    parser: Setting<String>,
    wrap_events: Setting<Vec<String>>,
    reconnection: Setting<bool>,
    #[serde(alias = "delay")]
    reconnection_delay: Setting<f64>,
    #[serde(alias = "delayMax")]
    reconnection_delay_max: Setting<f64>,
    randomization_factor: Setting<f64>,
    #[serde(alias = "attempts")]
    reconnection_attempts: Setting<f64>,
    connect_timeout: Setting<f64>,
    timeout: Setting<f64>,
    buffer_size: Setting<f64>,
    high_water_mark: Setting<f64>,
    transports: Setting<Vec<String>>,
    upgrade: Setting<bool>,
    with_credentials: Setting<bool>,
    extra_headers: Setting<Query>,
    debug: Setting<bool>,
    force_new: Setting<bool>,
    multiplex: Setting<bool>,
    /// Read by the package entry (`js/index.js`), which hands out a proxy
    /// to a manager in a SharedWorker instead; the class itself is always
    /// a manager of its own, so here they are only checked.
    share_across_tabs: Setting<bool>,
    shared_worker_url: Setting<String>,
}

/// What the shell keeps of the options, beside the core's [`Config`].
pub(crate) struct ShellOptions {
    /// The `auth` option when it is a function.
    pub auth: Option<js_sys::Function>,
    /// `debug`: log frames and state changes to the console.
    pub debug: bool,
    /// What the polling transport's requests carry (`withCredentials`,
    /// `extraHeaders`).
    pub http: HttpOptions,
    /// `forceNew: true` or `multiplex: false`: a connection of its own
    /// rather than the page's shared one for the same endpoint.
    pub force_new: bool,
}

/// One option's value: given (`None` for `null` or `undefined`), or of the
/// wrong type, which [`Setting::get`] reports naming the option.
enum Setting<T> {
    Given(Option<T>),
    IllTyped,
}

impl<T> Default for Setting<T> {
    fn default() -> Self {
        Setting::Given(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Setting<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Each option is one JS value read on its own, so a failed read
        // leaves nothing half-consumed: it only marks the option ill-typed.
        Ok(Option::<T>::deserialize(d).map_or(Setting::IllTyped, Setting::Given))
    }
}

impl<T> Setting<T> {
    /// The value, or INVALID_OPTIONS saying that option `name` must be `what`.
    fn get(self, name: &str, what: &str) -> Result<Option<T>, ClientError> {
        match self {
            Setting::Given(v) => Ok(v),
            Setting::IllTyped => Err(invalid(format!("option {name} must be {what}"))),
        }
    }
}

impl Setting<f64> {
    /// A number; `Infinity` and `NaN` mean the default, as `null` does.
    fn number(self, name: &str) -> Result<Option<f64>, ClientError> {
        Ok(self.get(name, "a number")?.filter(|v| v.is_finite()))
    }
}

const QUERY_VALUES: &str = "an object of string, number or boolean values";

/// Query parameters in the order JS lists them; values may be strings,
/// numbers or booleans (sent as their text).
struct Query(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Query;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(QUERY_VALUES)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Query, A::Error> {
                let mut out = Vec::new();
                while let Some((key, QueryValue(value))) = map.next_entry()? {
                    out.push((key, value));
                }
                Ok(Query(out))
            }
        }
        d.deserialize_map(Fields)
    }
}

/// One query value as the text sent. Only scalars are taken: an object or
/// array is refused without being read (it may even be cyclic).
struct QueryValue(String);

impl<'de> Deserialize<'de> for QueryValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Scalar;
        impl Visitor<'_> for Scalar {
            type Value = QueryValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E>(self, s: &str) -> Result<QueryValue, E> {
                Ok(QueryValue(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<QueryValue, E> {
                Ok(QueryValue(s))
            }
            fn visit_bool<E>(self, b: bool) -> Result<QueryValue, E> {
                Ok(QueryValue(b.to_string()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<QueryValue, E> {
                Ok(QueryValue(n.to_string()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<QueryValue, E> {
                Ok(QueryValue(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<QueryValue, E> {
                if !n.is_finite() {
                    return Err(E::invalid_value(de::Unexpected::Float(n), &self));
                }
                Ok(QueryValue(js_number(n)))
            }
        }
        d.deserialize_any(Scalar)
    }
}

/// Why the options object could not be read: the message of its
/// INVALID_OPTIONS error. Its own type so that an unknown or repeated key
/// gets the option-specific messages below rather than serde's.
#[derive(Debug)]
struct OptionsError(String);

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OptionsError {}

impl de::Error for OptionsError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        OptionsError(format!("invalid options: {msg}"))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        OptionsError(format!(
            "unknown option `{field}`; the options are {}",
            expected.join(", ")
        ))
    }

    fn duplicate_field(field: &'static str) -> Self {
        OptionsError(format!(
            "option {field} is given twice (as itself and by its short name)"
        ))
    }
}

/// One option's JS value, read by serde-wasm-bindgen with its errors as
/// [`OptionsError`]s.
struct OptionValue(JsValue);

impl OptionValue {
    fn js(self) -> serde_wasm_bindgen::Deserializer {
        serde_wasm_bindgen::Deserializer::from(self.0)
    }
}

fn options_error(e: serde_wasm_bindgen::Error) -> OptionsError {
    de::Error::custom(e)
}

impl<'de> Deserializer<'de> for OptionValue {
    type Error = OptionsError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, OptionsError> {
        self.js().deserialize_any(v).map_err(options_error)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, OptionsError> {
        self.js().deserialize_option(v).map_err(options_error)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, OptionsError> {
        self.js().deserialize_ignored_any(v).map_err(options_error)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier
    }
}

impl IntoDeserializer<'_, OptionsError> for OptionValue {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// Reads the options object: every own key whose value is not `undefined`,
/// in the order JS lists them, through the derive (which refuses unknown
/// keys and an option given under both its names).
///
/// The keys are handed to the derive as a map rather than the object to
/// serde-wasm-bindgen's struct reader, which looks up only the declared
/// fields and so would never meet an unknown one.
fn read(options: &js_sys::Object) -> Result<Options, ClientError> {
    let entries = js_sys::Object::entries(options);
    let entries = entries.iter().filter_map(|entry| {
        let entry = entry.unchecked_into::<js_sys::Array>();
        let value = entry.get(1);
        let key = entry.get(0).as_string()?;
        (!value.is_undefined()).then_some((key, OptionValue(value)))
    });
    let fields = de::value::MapDeserializer::<_, OptionsError>::new(entries);
    Options::deserialize(fields).map_err(|e| invalid(e.0))
}

/// `n` as JS writes it (`String(n)`): `1`, `0.5`, `1e+21`, which is what
/// socket.io-client puts in the URL and what a message should show.
fn js_number(n: f64) -> String {
    js_sys::Number::from(n)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
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
            "option {name} must be a whole number from 0 to {}, got {}",
            js_number(max),
            js_number(v)
        )))
    }
}

const MAX_MS: f64 = 2_147_483_647.0; // setTimeout's own limit

/// Parses the JS options object into a [`Config`], and what the shell keeps:
/// the `auth` option when it is a function (the core only learns that auth
/// is asked for per attempt) and `debug`.
pub(crate) fn parse(options: &JsValue) -> Result<(Config, ShellOptions), ClientError> {
    if !options.is_object() || js_sys::Array::is_array(options) {
        return Err(invalid(
            "options must be an object such as { url: 'http://127.0.0.1:5001' }",
        ));
    }
    let o = read(options.unchecked_ref())?;
    let auth = js_sys::Reflect::get(options, &JsValue::from_str("auth"))
        .map_err(|_| invalid("option auth could not be read"))?;
    let url = o
        .url
        .get("url", "a string")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid("option url is required"))?;
    let mut cfg = Config::new(url);
    // Large state snapshots may then come deflated (see `inflate`).
    cfg.inflate = super::inflate::available();
    cfg.protocol = match o.protocol.get("protocol", "a string")?.as_deref() {
        None | Some("socket.io") => Protocol::SocketIo,
        Some("json") => Protocol::Json,
        Some(other) => {
            return Err(invalid(format!(
                "option protocol must be 'socket.io' or 'json', got {other:?}"
            )))
        }
    };
    cfg.parser = match o.parser.get("parser", "a string")?.as_deref() {
        None | Some("json") => Parser::Json,
        Some("msgpack") if cfg.protocol == Protocol::Json => return Err(invalid(
            "option parser 'msgpack' is a Socket.IO parser: it does not apply to protocol 'json'",
        )),
        Some("msgpack") => Parser::Msgpack,
        Some(other) => {
            return Err(invalid(format!(
                "option parser must be 'json' or 'msgpack', got {other:?}"
            )))
        }
    };
    match (o.path.get("path", "a string")?, cfg.protocol) {
        (Some(p), _) => cfg.path = p,
        // The plain-JSON endpoint is the URL as given.
        (None, Protocol::Json) => cfg.path = String::new(),
        (None, Protocol::SocketIo) => {}
    }
    if let Some(Query(q)) = o.query.get("query", QUERY_VALUES)? {
        cfg.query = q;
    }
    if let Some(ns) = o.namespace.get("namespace", "a string")? {
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
    if let Some(names) = o.wrap_events.get("wrapEvents", "an array of event names")? {
        if cfg.protocol != Protocol::Json {
            return Err(invalid("option wrapEvents only applies to protocol 'json'"));
        }
        cfg.wrap_events = names;
    }
    let auth_fn = auth.dyn_ref::<js_sys::Function>().cloned();
    if auth_fn.is_none() && !auth.is_null() && !auth.is_undefined() {
        if !auth.is_object() || js_sys::Array::is_array(&auth) {
            return Err(invalid("option auth must be an object or a function"));
        }
        let text = js_sys::JSON::stringify(&auth)
            .ok()
            .and_then(|t| t.as_string())
            .ok_or_else(|| invalid("option auth must be plain data (JSON.stringify failed)"))?;
        cfg.auth = Some(text);
    }
    cfg.auth_per_attempt = auth_fn.is_some();
    if let Some(r) = o.reconnection.get("reconnection", "a boolean")? {
        cfg.reconnection = r;
    }
    let mut backoff = Backoff::default();
    if let Some(v) = o.reconnection_delay.number("reconnectionDelay")? {
        backoff.delay_ms = whole("reconnectionDelay", v, MAX_MS)?;
    }
    if let Some(v) = o.reconnection_delay_max.number("reconnectionDelayMax")? {
        backoff.delay_max_ms = whole("reconnectionDelayMax", v, MAX_MS)?;
    }
    if let Some(v) = o.randomization_factor.number("randomizationFactor")? {
        if !(0.0..=1.0).contains(&v) {
            return Err(invalid(format!(
                "option randomizationFactor must be from 0 to 1, got {}",
                js_number(v)
            )));
        }
        backoff.randomization_factor = v;
    }
    // `Infinity`, like `null`, keeps the default: unlimited.
    if let Some(v) = o.reconnection_attempts.number("reconnectionAttempts")? {
        backoff.attempts = Some(whole("reconnectionAttempts", v, f64::from(u32::MAX))? as u32);
    }
    cfg.backoff = backoff;
    if let Some(v) = o.connect_timeout.number("connectTimeout")? {
        cfg.connect_timeout_ms = whole("connectTimeout", v, MAX_MS)?;
    }
    if let Some(v) = o.timeout.number("timeout")? {
        cfg.request_timeout_ms = whole("timeout", v, MAX_MS)?;
    }
    if let Some(v) = o.buffer_size.number("bufferSize")? {
        cfg.buffer_size = whole("bufferSize", v, 1_000_000.0)? as usize;
    }
    if let Some(v) = o.high_water_mark.number("highWaterMark")? {
        // The browser reports `bufferedAmount` as an unsigned 32-bit number.
        cfg.high_water_mark = whole("highWaterMark", v, f64::from(u32::MAX))?;
    }
    if let Some(names) = o
        .transports
        .get("transports", "an array of 'websocket' and 'polling'")?
    {
        let mut transports = Vec::new();
        for name in &names {
            let t = Transport::from_name(name).ok_or_else(|| {
                invalid(format!(
                    "option transports may hold 'websocket' and 'polling', got {name:?}"
                ))
            })?;
            if !transports.contains(&t) {
                transports.push(t);
            }
        }
        if transports.is_empty() {
            return Err(invalid(
                "option transports must name at least one transport",
            ));
        }
        cfg.transports = transports;
    }
    if cfg.protocol == Protocol::Json {
        // The plain-JSON wire is one JSON object per WebSocket frame.
        if !cfg.transports.contains(&Transport::WebSocket) {
            return Err(invalid(
                "protocol 'json' only runs over a WebSocket: transports must include 'websocket'",
            ));
        }
        cfg.transports = vec![Transport::WebSocket];
    }
    if let Some(u) = o.upgrade.get("upgrade", "a boolean")? {
        cfg.upgrade = u;
    }
    let mut http = HttpOptions::default();
    if let Some(w) = o.with_credentials.get("withCredentials", "a boolean")? {
        http.with_credentials = w;
    }
    if let Some(Query(h)) = o.extra_headers.get("extraHeaders", QUERY_VALUES)? {
        http.extra_headers = h;
    }
    let debug = o.debug.get("debug", "a boolean")?.unwrap_or(false);
    let force_new = o.force_new.get("forceNew", "a boolean")?.unwrap_or(false)
        || !o.multiplex.get("multiplex", "a boolean")?.unwrap_or(true);
    o.share_across_tabs.get("shareAcrossTabs", "a boolean")?;
    o.shared_worker_url.get("sharedWorkerUrl", "a string")?;
    Ok((
        cfg,
        ShellOptions {
            auth: auth_fn,
            debug,
            http,
            force_new,
        },
    ))
}

/// Options of one `request()` call: `{timeout, signal, retry, priority}`.
pub(crate) struct RequestOpts {
    /// Overrides the manager's request timeout.
    pub timeout_ms: Option<u64>,
    /// Re-send once after a reconnect instead of rejecting DISCONNECTED.
    pub retry: bool,
    /// Where it stands among what waits.
    pub priority: Priority,
    /// Rejects the request with ABORTED when it fires.
    pub signal: Option<web_sys::AbortSignal>,
}

/// Parses `request()`'s third argument (`undefined` or an object).
pub(crate) fn request_opts(v: &JsValue) -> Result<RequestOpts, ClientError> {
    let mut out = RequestOpts {
        timeout_ms: None,
        retry: false,
        priority: Priority::default(),
        signal: None,
    };
    if v.is_undefined() || v.is_null() {
        return Ok(out);
    }
    if !v.is_object() {
        return Err(invalid(
            "request options must be an object { timeout, signal, retry, priority }",
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
            "priority" => out.priority = priority("request", &value)?,
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

/// `{volatile, priority}` of `emit()`. Other keys are let through, as they
/// always were for `emit()`.
pub(crate) fn emit_opts(v: &JsValue) -> Result<EmitOptions, ClientError> {
    let mut out = EmitOptions::default();
    if v.is_undefined() || v.is_null() {
        return Ok(out);
    }
    let get = |key: &str| js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap_or_default();
    let volatile = get("volatile");
    if !volatile.is_undefined() {
        out.volatile = volatile
            .as_bool()
            .ok_or_else(|| invalid("emit option volatile must be a boolean"))?;
    }
    out.priority = priority("emit", &get("priority"))?;
    Ok(out)
}

/// The `priority` option of an `emit()` or `request()` (`call`): `'high'`,
/// `'normal'` or `'low'`; `undefined` and `null` mean normal.
fn priority(call: &str, value: &JsValue) -> Result<Priority, ClientError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Priority::default());
    }
    let name = value.as_string();
    name.as_deref()
        .and_then(Priority::from_name)
        .ok_or_else(|| {
            let got = name.map_or_else(
                || value.js_typeof().as_string().unwrap_or_default(),
                |s| format!("{s:?}"),
            );
            invalid(format!(
                "{call} option priority must be 'high', 'normal' or 'low', got {got}"
            ))
        })
}

trait AsObject {
    fn unchecked_ref_object(&self) -> &js_sys::Object;
}

impl AsObject for JsValue {
    fn unchecked_ref_object(&self) -> &js_sys::Object {
        wasm_bindgen::JsCast::unchecked_ref::<js_sys::Object>(self)
    }
}

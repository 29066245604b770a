//! Custom events: events a Foundry module (or a GM's homebrew) declares for
//! itself, beside the catalogue's, with the catalogue's own field spec.
//!
//! A custom event's name is `x-<module>:<event>`:
//!
//! - `<module>` is a Foundry module id as Foundry writes them: lowercase
//!   ASCII letters and digits, `-` and `_`, starting with a letter or digit;
//! - `<event>` follows the same rule;
//! - the whole name is at most [`MAX_NAME_LEN`] bytes.
//!
//! So `x-my-module:roll-request` is one; `X-Mod:a`, `x-mod`, `x-:a`,
//! `x-mod:a:b` and every catalogue name are not. The prefix keeps modules
//! from colliding by accident; it is not an access rule (the server decides
//! who may declare, see `server/src/custom_events.rs`).
//!
//! A declaration is a [`CustomEventSpec`], read from JSON (`defineEvents`
//! at run time, or the server's `--events` file) and checked by
//! [`CustomEventSpec::parse`], which refuses with a typed [`SpecError`]
//! naming the member at fault. Payloads are then checked against it by
//! [`CustomEventSpec::validate`], with the same rules and errors as the
//! catalogue's [`validate_spec`](super::validate_spec).

use super::{check_payload, CatalogueError, Direction, FieldKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// How every custom event name starts.
pub const PREFIX: &str = "x-";
/// The longest custom event name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// The most fields one custom event may declare.
pub const MAX_FIELDS: usize = 32;
/// The longest field name, in bytes.
pub const MAX_FIELD_NAME_LEN: usize = 64;
/// The longest `doc`, in characters.
pub const MAX_DOC_CHARS: usize = 200;
/// The largest declaration, as compact JSON, in bytes.
pub const MAX_SPEC_BYTES: usize = 4096;

/// Which ways a custom event may travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomDirection {
    /// Clients send it; the server takes it (its responder's hook).
    ClientToServer,
    /// Only the server sends it (`POST /broadcast`, or a GM's `broadcast`
    /// when broadcastable); clients subscribe.
    ServerToClient,
    /// Clients send it and the server relays it to the other clients of
    /// the sender's world, who subscribe.
    Both,
}

impl CustomDirection {
    /// Whether an event declared so may travel in `direction`.
    pub fn allows(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (CustomDirection::Both, _)
                | (CustomDirection::ClientToServer, Direction::ClientToServer)
                | (CustomDirection::ServerToClient, Direction::ServerToClient)
        )
    }
}

/// One field of a custom event's payload: the catalogue's
/// [`FieldSpec`](super::FieldSpec), owned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldSpec {
    /// The JSON member name.
    pub name: String,
    /// The JSON type it must have.
    pub kind: FieldKind,
    /// Whether it must be present (and not `null`). Default `false`.
    #[serde(default)]
    pub required: bool,
}

/// A custom event's declaration, as JSON carries it:
///
/// ```json
/// {"name": "x-my-module:roll-request", "direction": "both", "broadcastable": false,
///  "fields": [{"name": "formula", "kind": "non_empty_string", "required": true}],
///  "doc": "A player asks the GM to roll."}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomEventSpec {
    /// `x-<module>:<event>`.
    pub name: String,
    /// Which ways it travels.
    pub direction: CustomDirection,
    /// Whether a GM may relay it to the table with `broadcast` (only for
    /// an event that travels server to client). Default `false`.
    #[serde(default)]
    pub broadcastable: bool,
    /// Known fields; others are allowed and passed through, as in the catalogue.
    #[serde(default)]
    pub fields: Vec<CustomFieldSpec>,
    /// At least one of these declared fields must be present.
    #[serde(default, rename = "anyOf", skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<String>,
    /// One line for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

/// Why a declaration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecErrorKind {
    /// Not a declaration, or a member that does not fit (a name outside the
    /// grammar, an unknown kind or member, a duplicate field, ...): the
    /// wire code [`INVALID_PAYLOAD`](super::codes::INVALID_PAYLOAD).
    Invalid,
    /// Over one of the size bounds ([`MAX_FIELDS`], [`MAX_SPEC_BYTES`],
    /// ...): the wire code [`SPEC_TOO_LARGE`](super::codes::SPEC_TOO_LARGE).
    TooLarge,
}

/// A refused declaration: what kind, the member at fault (`name`,
/// `fields[2].kind`, ...; prefixed by [`SpecError::at`]), and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// What kind of refusal.
    pub kind: SpecErrorKind,
    /// The member at fault.
    pub field: String,
    /// A human message naming it.
    pub message: String,
}

impl SpecError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: SpecErrorKind::Invalid,
            field: field.into(),
            message: message.into(),
        }
    }

    fn too_large(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: SpecErrorKind::TooLarge,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable wire code: `INVALID_PAYLOAD` or `SPEC_TOO_LARGE`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            SpecErrorKind::Invalid => super::codes::INVALID_PAYLOAD,
            SpecErrorKind::TooLarge => super::codes::SPEC_TOO_LARGE,
        }
    }

    /// The same error about the declaration at `path` (`events[3]`): the
    /// field becomes `events[3].name`, the message starts with the path.
    pub fn at(mut self, path: &str) -> Self {
        self.field = if self.field.is_empty() {
            path.to_owned()
        } else {
            format!("{path}.{}", self.field)
        };
        self.message = format!("{path}: {}", self.message);
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for SpecError {}

/// Whether `name` is in the custom events' namespace (starts with `x-`),
/// well formed or not: such a name is never a catalogue event.
pub fn is_custom(name: &str) -> bool {
    name.starts_with(PREFIX)
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

fn is_id(part: &str) -> bool {
    part.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && part.chars().all(is_id_char)
}

/// Checks `name` against the grammar `x-<module>:<event>`; returns the
/// module id.
pub fn check_name(name: &str) -> Result<&str, SpecError> {
    let grammar = "a custom event is named `x-<module>:<event>`: a lowercase Foundry module id \
                   and an event name, each of lowercase letters, digits, `-` and `_`, starting \
                   with a letter or digit (e.g. `x-my-module:roll-request`)";
    let shown: String = name.chars().take(MAX_NAME_LEN).collect();
    if name.len() > MAX_NAME_LEN {
        return Err(SpecError::too_large(
            "name",
            format!("`{shown}…` is longer than {MAX_NAME_LEN} bytes"),
        ));
    }
    let refuse = || {
        SpecError::invalid(
            "name",
            format!("`{shown}` is not a custom event name: {grammar}"),
        )
    };
    let rest = name.strip_prefix(PREFIX).ok_or_else(refuse)?;
    let (module, event) = rest.split_once(':').ok_or_else(refuse)?;
    if !is_id(module) || !is_id(event) {
        return Err(refuse());
    }
    if super::spec(name).is_some() {
        return Err(SpecError::invalid(
            "name",
            format!("`{shown}` is a catalogue event"),
        ));
    }
    Ok(module)
}

impl CustomEventSpec {
    /// Reads and checks one declaration from JSON.
    pub fn parse(value: &Value) -> Result<Self, SpecError> {
        let bytes = serde_json::to_string(value).map_or(usize::MAX, |s| s.len());
        if bytes > MAX_SPEC_BYTES {
            return Err(SpecError::too_large(
                "",
                format!("the declaration is {bytes} bytes of JSON; the limit is {MAX_SPEC_BYTES}"),
            ));
        }
        if !value.is_object() {
            return Err(SpecError::invalid(
                "",
                "a declaration must be a JSON object",
            ));
        }
        let spec = Self::deserialize(value).map_err(|e| {
            let name = value.get("name").and_then(Value::as_str).unwrap_or("?");
            let shown: String = name.chars().take(MAX_NAME_LEN).collect();
            SpecError::invalid("", format!("`{shown}`: {e}"))
        })?;
        spec.check()?;
        Ok(spec)
    }

    /// Checks a declaration made in Rust (what [`parse`](Self::parse) does
    /// after reading it).
    pub fn check(&self) -> Result<(), SpecError> {
        check_name(&self.name)?;
        if self.fields.len() > MAX_FIELDS {
            return Err(SpecError::too_large(
                "fields",
                format!(
                    "`{}` declares {} fields; the limit is {MAX_FIELDS}",
                    self.name,
                    self.fields.len()
                ),
            ));
        }
        for (i, field) in self.fields.iter().enumerate() {
            let at = format!("fields[{i}].name");
            if field.name.is_empty() || field.name.len() > MAX_FIELD_NAME_LEN {
                return Err(SpecError::invalid(
                    at,
                    format!("a field name has 1 to {MAX_FIELD_NAME_LEN} bytes"),
                ));
            }
            if field.name.chars().any(char::is_control) {
                return Err(SpecError::invalid(
                    at,
                    "a field name has no control characters",
                ));
            }
            if self.fields.iter().take(i).any(|f| f.name == field.name) {
                return Err(SpecError::invalid(
                    at,
                    format!("field `{}` is declared twice", field.name),
                ));
            }
        }
        if self.any_of.len() > MAX_FIELDS {
            return Err(SpecError::too_large(
                "anyOf",
                format!("`anyOf` names more than {MAX_FIELDS} fields"),
            ));
        }
        for (i, name) in self.any_of.iter().enumerate() {
            if !self.fields.iter().any(|f| &f.name == name) {
                return Err(SpecError::invalid(
                    format!("anyOf[{i}]"),
                    "`anyOf` may only name declared fields",
                ));
            }
        }
        if self.broadcastable && !self.direction.allows(Direction::ServerToClient) {
            return Err(SpecError::invalid(
                "broadcastable",
                "only an event that travels server to client (`server_to_client` or `both`) may be broadcastable",
            ));
        }
        if self
            .doc
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DOC_CHARS)
        {
            return Err(SpecError::too_large(
                "doc",
                format!("`doc` is longer than {MAX_DOC_CHARS} characters"),
            ));
        }
        Ok(())
    }

    /// The module id of its name (`my-module` of `x-my-module:roll`).
    pub fn module(&self) -> &str {
        self.name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .map_or("", |(module, _)| module)
    }

    /// Checks `payload` against this declaration, as
    /// [`validate_spec`](super::validate_spec) does for a catalogue event.
    pub fn validate(&self, payload: &Value) -> Result<(), CatalogueError> {
        check_payload(
            &self.name,
            payload,
            self.fields
                .iter()
                .map(|f| (f.name.as_str(), f.kind, f.required)),
            &self.any_of,
        )
    }
}

/// Reads a list of declarations (the `--events` file, or `defineEvents`'
/// `events`): every entry checked, names unique within the list. An error
/// names its entry (`events[2].fields[0].kind`, with `path` `events`).
pub fn parse_list(value: &Value, path: &str) -> Result<Vec<CustomEventSpec>, SpecError> {
    let Some(items) = value.as_array() else {
        return Err(SpecError::invalid(
            path,
            format!("`{path}` must be an array of event declarations"),
        ));
    };
    let mut specs: Vec<CustomEventSpec> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let spec = CustomEventSpec::parse(item).map_err(|e| e.at(&at))?;
        if specs.iter().any(|s| s.name == spec.name) {
            return Err(SpecError::invalid(
                "name",
                format!("`{}` is declared twice in the list", spec.name),
            )
            .at(&at));
        }
        specs.push(spec);
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roll() -> Value {
        json!({"name": "x-my-module:roll-request", "direction": "both",
               "fields": [{"name": "formula", "kind": "non_empty_string", "required": true},
                          {"name": "actorId", "kind": "string"}]})
    }

    #[test]
    fn the_grammar() {
        for ok in [
            "x-my-module:roll-request",
            "x-a:b",
            "x-pf2e_toolbelt:x1",
            "x-0:9",
        ] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        assert_eq!(check_name("x-my-module:roll").unwrap(), "my-module");
        for bad in [
            "",
            "x-",
            "x-mod",
            "x-:a",
            "x-mod:",
            "x-Mod:a",
            "x-mod:A",
            "X-mod:a",
            "y-mod:a",
            "x-mod:a:b",
            "x--mod:a",
            "x-mod:-a",
            "x-mod:a b",
            "x-mod:é",
            "query",
            "state:update",
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(
                (e.code(), e.field.as_str()),
                ("INVALID_PAYLOAD", "name"),
                "{bad}"
            );
        }
        let long = format!("x-m:{}", "a".repeat(61));
        assert_eq!(check_name(&long).unwrap_err().code(), "SPEC_TOO_LARGE");
        assert!(check_name(&format!("x-m:{}", "a".repeat(60))).is_ok());
        assert!(is_custom("x-anything") && !is_custom("query"));
    }

    #[test]
    fn a_declaration_parses_and_validates_payloads() {
        let spec = CustomEventSpec::parse(&roll()).unwrap();
        assert_eq!(spec.module(), "my-module");
        assert_eq!(spec.direction, CustomDirection::Both);
        assert!(!spec.broadcastable);
        assert_eq!(
            spec.validate(&json!({"formula": "1d20", "extra": 1})),
            Ok(())
        );
        let e = spec.validate(&json!({"formula": " "})).unwrap_err();
        assert_eq!(
            (e.code(), e.field.as_deref()),
            ("INVALID_PAYLOAD", Some("formula"))
        );
        let e = spec
            .validate(&json!({"formula": "1d4", "actorId": 3}))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("actorId"));
        assert!(
            e.message.contains("x-my-module:roll-request"),
            "{}",
            e.message
        );
        assert_eq!(spec.validate(&json!([])).unwrap_err().field, None);
        // It round-trips through JSON.
        let again = CustomEventSpec::parse(&serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn any_of_works_as_in_the_catalogue() {
        let spec =
            CustomEventSpec::parse(&json!({"name": "x-m:rate", "direction": "client_to_server",
            "fields": [{"name": "stars", "kind": "number"}, {"name": "text", "kind": "string"}],
            "anyOf": ["stars", "text"]}))
            .unwrap();
        assert_eq!(spec.validate(&json!({"text": "ok"})), Ok(()));
        assert_eq!(
            spec.validate(&json!({})).unwrap_err().field.as_deref(),
            Some("stars")
        );
        let e = CustomEventSpec::parse(&json!({"name": "x-m:rate", "direction": "both",
            "fields": [], "anyOf": ["nope"]}))
        .unwrap_err();
        assert_eq!(e.field, "anyOf[0]");
    }

    #[test]
    fn bad_declarations_are_refused_with_the_member_named() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!("x"), "INVALID_PAYLOAD", ""),
            (json!({"name": "x-m:a"}), "INVALID_PAYLOAD", ""),
            (
                json!({"name": "x-m:a", "direction": "sideways"}),
                "INVALID_PAYLOAD",
                "",
            ),
            (
                json!({"name": "x-m:a", "direction": "both", "extra": 1}),
                "INVALID_PAYLOAD",
                "",
            ),
            (
                json!({"name": "bad", "direction": "both"}),
                "INVALID_PAYLOAD",
                "name",
            ),
            (
                json!({"name": "x-m:a", "direction": "both", "fields": [{"name": "f", "kind": "float"}]}),
                "INVALID_PAYLOAD",
                "",
            ),
            (
                json!({"name": "x-m:a", "direction": "both", "fields": [{"name": "f", "kind": "string", "requred": true}]}),
                "INVALID_PAYLOAD",
                "",
            ),
            (
                json!({"name": "x-m:a", "direction": "both", "fields": [{"name": "f", "kind": "string"}, {"name": "f", "kind": "bool"}]}),
                "INVALID_PAYLOAD",
                "fields[1].name",
            ),
            (
                json!({"name": "x-m:a", "direction": "both", "fields": [{"name": "", "kind": "string"}]}),
                "INVALID_PAYLOAD",
                "fields[0].name",
            ),
            (
                json!({"name": "x-m:a", "direction": "client_to_server", "broadcastable": true}),
                "INVALID_PAYLOAD",
                "broadcastable",
            ),
            (
                json!({"name": "x-m:a", "direction": "both", "doc": "d".repeat(201)}),
                "SPEC_TOO_LARGE",
                "doc",
            ),
        ];
        for (value, code, field) in cases {
            let e = CustomEventSpec::parse(&value).unwrap_err();
            assert_eq!((e.code(), e.field.as_str()), (code, field), "{value}: {e}");
        }
        let fields: Vec<Value> = (0..=MAX_FIELDS)
            .map(|i| json!({"name": format!("f{i}"), "kind": "any"}))
            .collect();
        let e = CustomEventSpec::parse(
            &json!({"name": "x-m:a", "direction": "both", "fields": fields}),
        )
        .unwrap_err();
        assert_eq!((e.code(), e.field.as_str()), ("SPEC_TOO_LARGE", "fields"));
        let e = CustomEventSpec::parse(
            &json!({"name": "x-m:a", "direction": "both", "pad": "p".repeat(5000)}),
        )
        .unwrap_err();
        assert_eq!(e.code(), "SPEC_TOO_LARGE");
    }

    #[test]
    fn lists_name_their_entry() {
        let list = json!([roll(), {"name": "x-m:b", "direction": "server_to_client", "broadcastable": true}]);
        let specs = parse_list(&list, "events").unwrap();
        assert_eq!(specs.len(), 2);
        assert!(specs[1].broadcastable);
        let e = parse_list(
            &json!([roll(), {"name": "X", "direction": "both"}]),
            "events",
        )
        .unwrap_err();
        assert_eq!(e.field, "events[1].name");
        assert!(e.message.starts_with("events[1]: "), "{}", e.message);
        let e = parse_list(&json!([roll(), roll()]), "events").unwrap_err();
        assert_eq!(e.field, "events[1].name");
        let e = parse_list(&json!({"events": []}), "events").unwrap_err();
        assert_eq!(e.field, "events");
        assert_eq!(parse_list(&json!([]), "events"), Ok(vec![]));
    }

    #[test]
    fn directions() {
        use CustomDirection as C;
        assert!(
            C::Both.allows(Direction::ClientToServer) && C::Both.allows(Direction::ServerToClient)
        );
        assert!(C::ClientToServer.allows(Direction::ClientToServer));
        assert!(!C::ClientToServer.allows(Direction::ServerToClient));
        assert!(!C::ServerToClient.allows(Direction::ClientToServer));
    }
}

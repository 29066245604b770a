//! RFC 7396 merge-patch *diffs*: [`diff`]`(current, wanted)` is the merge
//! patch that takes `current` to `wanted`, so that UI code can hand the
//! state API a whole document (`replaceState(scope, doc)`) instead of
//! writing patches by hand.
//!
//! The law: for every `current`, and every `wanted` that [`diff`] accepts,
//! `merge(current, diff(current, wanted)) == wanted` (checked by a property
//! test against the `json-patch` crate's `merge`, the one the state store
//! applies).
//!
//! What a merge patch cannot say, and how [`diff`] handles it:
//!
//! - **`null` members.** In a merge patch `null` means "remove this member",
//!   so no patch can *set* an object member to `null`. A `wanted` document
//!   with a `null` object member (at any depth) is refused with
//!   [`DiffError`] (`INVALID_PAYLOAD`, naming the path): silently dropping
//!   it would make the document differ from what the caller handed over.
//!   Remove the member instead. `null` *inside an array* is fine: arrays are
//!   replaced whole.
//! - **Arrays** are values, not containers: a changed array is sent whole.
//! - **The document itself** must be an object (a state scope's document
//!   always is, and a merge patch at the top is an object).
//!
//! Pure `serde_json`, no I/O; nothing here panics on any input.

use serde_json::{Map, Value};
use std::fmt;

/// Why a document cannot be reached with a merge patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffError {
    /// Where, as a JSON pointer (`/a/b`; empty for the document itself).
    pub path: String,
    /// A human message naming the path.
    pub message: String,
}

impl DiffError {
    /// The stable error code: always `INVALID_PAYLOAD`.
    pub fn code(&self) -> &'static str {
        crate::catalogue::codes::INVALID_PAYLOAD
    }
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for DiffError {}

/// How deep [`diff`] follows nested objects before refusing (the same order
/// as the JSON depth limits of the codecs; keeps recursion bounded).
pub const MAX_DEPTH: usize = 128;

/// The RFC 7396 merge patch that takes `current` to `wanted`.
///
/// `current` may be anything (a missing document is `Value::Null`: the patch
/// is then `wanted` itself). `wanted` must be an object with no `null`
/// object member at any depth. Unchanged members are left out, removed ones
/// are `null`, changed objects are diffed member by member, and anything
/// else that changed (numbers, strings, arrays, an object replacing a
/// non-object) is sent whole. Equal documents give `{}`.
///
/// ```
/// use frinny_agent::core::merge_diff::diff;
/// use serde_json::json;
/// let current = json!({"hp": 9, "name": "Valeros", "tags": ["a"], "gone": 1});
/// let wanted = json!({"hp": 5, "name": "Valeros", "tags": ["a", "b"]});
/// assert_eq!(diff(&current, &wanted).unwrap(), json!({"hp": 5, "tags": ["a", "b"], "gone": null}));
/// assert!(diff(&current, &json!({"hp": null})).is_err());
/// ```
pub fn diff(current: &Value, wanted: &Value) -> Result<Value, DiffError> {
    let Some(wanted) = wanted.as_object() else {
        return Err(DiffError {
            path: String::new(),
            message: "a state document must be a JSON object".to_owned(),
        });
    };
    let mut path = String::new();
    match current.as_object() {
        Some(current) => diff_objects(current, wanted, &mut path, 0).map(Value::Object),
        None => {
            check_no_null_members(wanted, &mut path, 0)?;
            Ok(Value::Object(wanted.clone()))
        }
    }
}

fn too_deep(path: &str) -> DiffError {
    DiffError {
        path: path.to_owned(),
        message: format!("the document is nested deeper than {MAX_DEPTH} objects at `{path}`"),
    }
}

fn null_member(path: &str) -> DiffError {
    DiffError {
        path: path.to_owned(),
        message: format!(
            "`{path}` is null: a merge patch cannot set a member to null (null removes it); \
             leave the member out instead"
        ),
    }
}

/// Appends `/key` (JSON-pointer escaped) to `path`; returns the old length.
fn push(path: &mut String, key: &str) -> usize {
    let len = path.len();
    path.push('/');
    path.push_str(&key.replace('~', "~0").replace('/', "~1"));
    len
}

fn diff_objects(
    current: &Map<String, Value>,
    wanted: &Map<String, Value>,
    path: &mut String,
    depth: usize,
) -> Result<Map<String, Value>, DiffError> {
    if depth > MAX_DEPTH {
        return Err(too_deep(path));
    }
    let mut patch = Map::new();
    for key in current.keys() {
        if !wanted.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    for (key, want) in wanted {
        let len = push(path, key);
        let have = current.get(key);
        if have == Some(want) {
            // Equal values hold no null member unless `current` did, and a
            // null member in `current` cannot be kept by any patch.
            if want.is_null() {
                return Err(null_member(path));
            }
            if let Value::Object(w) = want {
                check_no_null_members(w, path, depth + 1)?;
            }
        } else {
            let member = match (have, want) {
                (_, Value::Null) => return Err(null_member(path)),
                (Some(Value::Object(h)), Value::Object(w)) => {
                    Value::Object(diff_objects(h, w, path, depth + 1)?)
                }
                (_, Value::Object(w)) => {
                    check_no_null_members(w, path, depth + 1)?;
                    want.clone()
                }
                _ => want.clone(),
            };
            patch.insert(key.clone(), member);
        }
        path.truncate(len);
    }
    Ok(patch)
}

/// Refuses a `null` object member anywhere in `object` (arrays are values:
/// their items are not looked into).
fn check_no_null_members(
    object: &Map<String, Value>,
    path: &mut String,
    depth: usize,
) -> Result<(), DiffError> {
    if depth > MAX_DEPTH {
        return Err(too_deep(path));
    }
    for (key, value) in object {
        let len = push(path, key);
        match value {
            Value::Null => return Err(null_member(path)),
            Value::Object(inner) => check_no_null_members(inner, path, depth + 1)?,
            _ => {}
        }
        path.truncate(len);
    }
    Ok(())
}

/// `current` with `patch` merged in, by the `json-patch` crate (what the
/// state store applies).
#[cfg(test)]
fn merged(current: &Value, patch: &Value) -> Value {
    let mut doc = current.clone();
    json_patch::merge(&mut doc, patch);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_documents_give_an_empty_patch() {
        let doc = json!({"a": 1, "b": {"c": [1, null, 2]}});
        assert_eq!(diff(&doc, &doc).unwrap(), json!({}));
    }

    #[test]
    fn nested_changes_are_diffed_member_by_member() {
        let current = json!({"chat": {"m1": {"text": "hi"}, "m2": {"text": "yo"}}, "n": 1});
        let wanted = json!({"chat": {"m1": {"text": "hi"}, "m3": {"text": "new"}}, "n": 1});
        let patch = diff(&current, &wanted).unwrap();
        assert_eq!(patch, json!({"chat": {"m2": null, "m3": {"text": "new"}}}));
        assert_eq!(merged(&current, &patch), wanted);
    }

    #[test]
    fn arrays_and_type_changes_are_sent_whole() {
        let current = json!({"list": [1, 2, 3], "x": "s", "o": {"k": 1}});
        let wanted = json!({"list": [1, 2], "x": {"now": "object"}, "o": 7});
        let patch = diff(&current, &wanted).unwrap();
        assert_eq!(
            patch,
            json!({"list": [1, 2], "x": {"now": "object"}, "o": 7})
        );
        assert_eq!(merged(&current, &patch), wanted);
    }

    #[test]
    fn a_missing_document_gives_the_whole_document() {
        let wanted = json!({"a": {"b": [null]}});
        assert_eq!(diff(&Value::Null, &wanted).unwrap(), wanted);
    }

    #[test]
    fn null_members_are_refused_with_their_path() {
        let e = diff(&json!({}), &json!({"a": {"b/c": null}})).unwrap_err();
        assert_eq!(e.path, "/a/b~1c");
        assert_eq!(e.code(), "INVALID_PAYLOAD");
        assert!(
            e.message.contains("cannot set a member to null"),
            "{}",
            e.message
        );
        // Also when the member is unchanged, and from a missing document.
        assert_eq!(
            diff(&json!({"a": null}), &json!({"a": null}))
                .unwrap_err()
                .path,
            "/a"
        );
        assert_eq!(
            diff(&Value::Null, &json!({"x": {"y": null}}))
                .unwrap_err()
                .path,
            "/x/y"
        );
        assert_eq!(
            diff(&json!({"o": {"k": null}}), &json!({"o": {"k": null}}))
                .unwrap_err()
                .path,
            "/o/k"
        );
    }

    #[test]
    fn the_document_must_be_an_object() {
        for wanted in [json!(null), json!([1]), json!("s"), json!(3)] {
            let e = diff(&json!({}), &wanted).unwrap_err();
            assert_eq!(e.path, "");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let mut deep = json!(1);
        for _ in 0..(MAX_DEPTH + 5) {
            deep = json!({ "d": deep });
        }
        assert!(diff(&json!({}), &deep).is_err());
        assert!(diff(&deep, &json!({"d": 1})).is_ok());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Any JSON value; objects never hold `null` members when `null_free`.
    fn arb_json(null_free: bool) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-50i64..50).prop_map(|n| json!(n)),
            "[a-c]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-d]", inner, 0..5).prop_map(move |m| {
                    Value::Object(
                        m.into_iter()
                            .filter(|(_, v)| !(null_free && v.is_null()))
                            .collect(),
                    )
                }),
            ]
        })
    }

    fn arb_doc(null_free: bool) -> impl Strategy<Value = Value> {
        prop::collection::btree_map("[a-d]", arb_json(null_free), 0..5).prop_map(move |m| {
            Value::Object(
                m.into_iter()
                    .filter(|(_, v)| !(null_free && v.is_null()))
                    .collect(),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn merge_of_the_diff_is_the_wanted_document(
            current in arb_json(false),
            wanted in arb_doc(true),
        ) {
            let patch = diff(&current, &wanted).unwrap();
            prop_assert!(patch.is_object());
            prop_assert_eq!(merged(&current, &patch), wanted);
        }

        #[test]
        fn diff_never_panics_and_refuses_only_null_members(
            current in arb_json(false),
            wanted in arb_json(false),
        ) {
            match diff(&current, &wanted) {
                Ok(patch) => prop_assert_eq!(merged(&current, &patch), wanted),
                Err(e) => prop_assert!(!e.message.is_empty()),
            }
        }
    }
}

//! The `batch` envelope: several events in one Socket.IO EVENT,
//! `["batch", [["name", payload], …]]`, so that a burst of small events
//! costs one frame instead of one frame each.
//!
//! Each entry is exactly the argument array a plain event carries
//! (`["name", ...args]`): unpacking hands every entry on as if its own
//! `42[...]` frame had arrived, and packing writes each event's arguments
//! unchanged. The client and the reference server both read and write the
//! envelope here; the capability is announced in `connection_established`
//! (`catalogue::BatchCapability`), so only peers that asked for it see one.
//!
//! ```
//! use frinny_agent::protocol::batch;
//! let mut w = batch::Writer::new("42");
//! w.push(r#"["typing_status",{"isTyping":true}]"#);
//! w.push(r#"["notification",{"message":"hi"}]"#);
//! let frame = w.finish();
//! assert_eq!(frame, r#"42["batch",[["typing_status",{"isTyping":true}],["notification",{"message":"hi"}]]]"#);
//!
//! let entries = batch::entries(r#"[["a",1],7,["b"]]"#).unwrap();
//! assert_eq!(entries[0].as_ref().map(|e| (e.name.as_ref(), e.json)), Ok(("a", r#"["a",1]"#)));
//! assert_eq!(entries[1].as_ref().map_err(|bad| bad.index).err(), Some(1));
//! assert_eq!(entries[2].as_ref().map(|e| e.name.as_ref()), Ok("b"));
//! ```

use super::json::{self, Shallow};
use super::socket_io::RESERVED_EVENTS;
use super::DecodeError;
use std::borrow::Cow;

/// The envelope's event name.
pub const EVENT: &str = "batch";

/// The handshake query pair by which a client asks the server to batch
/// (on the Engine.IO URL, so the server knows before it sends anything).
pub const QUERY: (&str, &str) = ("batch", "1");

/// The opening of a batch's arguments, after the frame's packet header.
const OPEN: &str = "[\"batch\",[";
/// Its closing.
const CLOSE: &str = "]]";

/// One well-formed entry: an event as if it had arrived alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The event name (its escapes decoded).
    pub name: Cow<'a, str>,
    /// The entry as raw JSON, `["name", ...args]`: the arguments array of
    /// the event it stands for.
    pub json: &'a str,
}

/// An entry that is not an event: where it sits in the batch and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEntry {
    /// Its position, from 0.
    pub index: usize,
    /// What is wrong with it.
    pub why: &'static str,
}

/// The entries of a batch, in order: `batch` is the envelope's argument,
/// the raw JSON array `[["name", payload], …]`. An argument that is not an
/// array is [`DecodeError::InvalidBatch`]; otherwise each entry is read on
/// its own, so one bad entry (not an array, no string name first, a
/// socket.io reserved name, a batch inside the batch) leaves the others
/// whole.
pub fn entries(batch: &str) -> Result<Vec<Result<Entry<'_>, BadEntry>>, DecodeError> {
    let items = match json::shallow(batch) {
        Ok(Shallow::Array(items)) => items,
        Ok(_) => {
            return Err(DecodeError::InvalidBatch(
                "a batch must be an array of [name, payload] entries",
            ))
        }
        Err(e) => return Err(DecodeError::InvalidJson(e.to_string())),
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(index, item)| entry(item.get()).map_err(|why| BadEntry { index, why }))
        .collect())
}

fn entry(json: &str) -> Result<Entry<'_>, &'static str> {
    let Ok(Shallow::Array(items)) = json::shallow(json) else {
        return Err(NOT_AN_ARRAY);
    };
    let first = items.first().ok_or(EMPTY)?;
    let name = match json::shallow(first.get()) {
        Ok(Shallow::String(name)) => name,
        _ => return Err(NO_NAME),
    };
    check_name(&name)?;
    Ok(Entry { name, json })
}

/// The rule of [`entries`] for one entry already parsed into a tree (the
/// reference server reads envelopes as `serde_json::Value`): the entry's
/// event name and its arguments after the name, or why it is no event.
pub fn entry_of_value(
    entry: &serde_json::Value,
) -> Result<(&str, &[serde_json::Value]), &'static str> {
    let items = entry.as_array().ok_or(NOT_AN_ARRAY)?;
    let (first, args) = items.split_first().ok_or(EMPTY)?;
    let name = first.as_str().ok_or(NO_NAME)?;
    check_name(name)?;
    Ok((name, args))
}

const NOT_AN_ARRAY: &str = "is not an array";
const EMPTY: &str = "is an empty array";
const NO_NAME: &str = "does not start with a string event name";

fn check_name(name: &str) -> Result<(), &'static str> {
    if name == EVENT {
        Err("is a batch inside the batch")
    } else if RESERVED_EVENTS.contains(&name) {
        Err("uses a name reserved by Socket.IO")
    } else {
        Ok(())
    }
}

/// Writes a batch frame entry by entry.
#[derive(Debug, Clone)]
pub struct Writer {
    buf: String,
    count: usize,
}

impl Writer {
    /// A batch whose frame starts with `header`: `42` (or `42/nsp,`) for
    /// an Engine.IO text frame, empty for the Socket.IO arguments alone.
    pub fn new(header: &str) -> Self {
        let mut buf = String::with_capacity(header.len() + OPEN.len() + 64);
        buf.push_str(header);
        buf.push_str(OPEN);
        Writer { buf, count: 0 }
    }

    /// Adds an entry: an event's arguments array, `["name", ...args]`.
    pub fn push(&mut self, entry_json: &str) {
        if self.count > 0 {
            self.buf.push(',');
        }
        self.buf.push_str(entry_json);
        self.count += 1;
    }

    /// Entries written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The frame's length, in bytes, if it were finished after adding an
    /// entry of `entry_len` bytes.
    pub fn len_with(&self, entry_len: usize) -> usize {
        self.buf.len() + usize::from(self.count > 0) + entry_len + CLOSE.len()
    }

    /// The whole frame.
    pub fn finish(mut self) -> String {
        self.buf.push_str(CLOSE);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_one_by_one() {
        let all = entries(r#"[["a",{"x":[1,2]}], "s", [], [1], ["connect",{}], ["batch",[]], ["b\u0021"], ["c",1,2]]"#).unwrap();
        type Read<'a> = Result<(&'a str, &'a str), (usize, &'static str)>;
        let got: Vec<Read<'_>> = all
            .iter()
            .map(|r| {
                r.as_ref()
                    .map(|e| (e.name.as_ref(), e.json))
                    .map_err(|b| (b.index, b.why))
            })
            .collect();
        assert_eq!(
            got,
            vec![
                Ok(("a", r#"["a",{"x":[1,2]}]"#)),
                Err((1, "is not an array")),
                Err((2, "is an empty array")),
                Err((3, "does not start with a string event name")),
                Err((4, "uses a name reserved by Socket.IO")),
                Err((5, "is a batch inside the batch")),
                Ok(("b!", r#"["b\u0021"]"#)),
                Ok(("c", "[\"c\",1,2]")),
            ]
        );
    }

    #[test]
    fn a_parsed_entry_follows_the_same_rules() {
        use serde_json::json;
        let read = |v: serde_json::Value| {
            entry_of_value(&v)
                .map(|(name, args)| (name.to_owned(), args.len()))
                .map_err(str::to_owned)
        };
        assert_eq!(read(json!(["a", {"x": 1}])), Ok(("a".to_owned(), 1)));
        assert_eq!(read(json!(["a"])), Ok(("a".to_owned(), 0)));
        for (bad, why) in [
            (json!(7), "is not an array"),
            (json!([]), "is an empty array"),
            (json!([1, 2]), "does not start with a string event name"),
            (json!(["disconnect"]), "uses a name reserved by Socket.IO"),
            (json!(["batch", []]), "is a batch inside the batch"),
        ] {
            assert_eq!(read(bad.clone()), Err(why.to_owned()), "{bad}");
            let text = format!("[{bad}]");
            let from_text = entries(&text).unwrap();
            assert_eq!(from_text[0].as_ref().err().map(|b| b.why), Some(why));
        }
    }

    #[test]
    fn a_batch_that_is_not_an_array_is_refused_whole() {
        for bad in [r#"{"a":1}"#, "\"x\"", "null", "3"] {
            assert_eq!(
                entries(bad).map(|e| e.len()).map_err(|e| e.code()),
                Err("INVALID_BATCH"),
                "{bad}"
            );
        }
        assert_eq!(entries("[").map_err(|e| e.code()), Err("INVALID_JSON"));
        assert_eq!(entries("[]").map(|e| e.len()), Ok(0));
    }

    #[test]
    fn the_writer_measures_what_it_would_write() {
        let mut w = Writer::new("");
        assert_eq!(w.len_with(5), "[\"batch\",[".len() + 5 + 2);
        w.push("[\"a\"]");
        let before = w.len_with(7);
        w.push("[\"b\",1]");
        assert_eq!(w.count(), 2);
        let frame = w.finish();
        assert_eq!(frame.len(), before);
        assert_eq!(frame, r#"["batch",[["a"],["b",1]]]"#);
        assert_eq!(Writer::new("").finish(), r#"["batch",[]]"#);
    }
}

//! The one hand-written JSON scanner: it checks that a text is exactly one
//! RFC 8259 JSON value, enforces the nesting limit, and reports the
//! top-level shape and, for arrays, the first element (the Socket.IO event
//! name), without building anything.
//!
//! Every inbound JSON text goes through it first: on the hot path it is the
//! whole validation of an event payload, which then stays raw text; off it,
//! [`json::parse`](super::json::parse) runs it to bound the depth before
//! serde_json, which recurses, reads the text into a type.
//!
//! Why not serde_json with `IgnoredAny` on the hot path: that decodes every
//! number and runs a visitor per value; on a ~300-byte Frinny event it costs
//! more than the browser's own `JSON.parse` of the payload. This scanner
//! only looks at bytes, iteratively (nesting costs heap, never stack). Its
//! verdicts are checked against serde_json's by a property test and a fuzz
//! target.
//!
//! ```
//! use frinny_agent::protocol::scan::{scan, Shape};
//! let shape = scan(r#"["combat_update",{"round":3,"hp":[12,-4.5e1]}]"#, 64).unwrap();
//! assert_eq!(shape, Shape::NamedArray { start: 2, end: 15 });
//! assert!(scan(r#"["a",tru]"#, 64).is_err());
//! ```

use super::DecodeError;

/// What the top-level value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A non-empty array whose first element is a string: the byte range of
    /// that string's contents in the text (between its quotes; escapes not
    /// decoded). The Socket.IO event name.
    NamedArray {
        /// Offset of the first byte after the opening quote.
        start: usize,
        /// Offset of the closing quote.
        end: usize,
    },
    /// An empty array.
    EmptyArray,
    /// A non-empty array whose first element is not a string.
    Array,
    /// An object.
    Object,
    /// A string.
    String,
    /// A number, `true`, `false` or `null`.
    Other,
}

fn err(what: &str, at: usize) -> DecodeError {
    DecodeError::InvalidJson(format!("{what} at byte {at}"))
}

/// Validates `text` as one JSON value (surrounding whitespace allowed) with
/// arrays and objects nested at most `max_depth` deep.
pub fn scan(text: &str, max_depth: usize) -> Result<Shape, DecodeError> {
    let b = text.as_bytes();
    let mut s = Scanner {
        b,
        i: 0,
        max_depth,
        stack: Vec::new(),
    };
    s.ws();
    let shape = s.top()?;
    s.ws();
    if s.i != b.len() {
        return Err(err("trailing characters", s.i));
    }
    Ok(shape)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    max_depth: usize,
    /// Open containers: `true` for an object.
    stack: Vec<bool>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The top-level value, noting its shape.
    fn top(&mut self) -> Result<Shape, DecodeError> {
        match self.peek() {
            Some(b'[') => {
                // Look at the first element, then let the general loop
                // validate the rest.
                self.open(false)?;
                self.ws();
                match self.peek() {
                    Some(b']') => {
                        self.i += 1;
                        self.close();
                        Ok(Shape::EmptyArray)
                    }
                    Some(b'"') => {
                        let start = self.i + 1;
                        self.string()?;
                        let end = self.i - 1;
                        self.run(false)?;
                        Ok(Shape::NamedArray { start, end })
                    }
                    _ => {
                        self.run(true)?;
                        Ok(Shape::Array)
                    }
                }
            }
            Some(b'{') => {
                self.run(true)?;
                Ok(Shape::Object)
            }
            Some(b'"') => {
                self.string()?;
                Ok(Shape::String)
            }
            _ => {
                self.run(true)?;
                Ok(Shape::Other)
            }
        }
    }

    fn open(&mut self, object: bool) -> Result<(), DecodeError> {
        if self.stack.len() >= self.max_depth {
            return Err(DecodeError::TooDeep {
                max: self.max_depth,
            });
        }
        self.stack.push(object);
        self.i += 1;
        Ok(())
    }

    fn close(&mut self) {
        self.stack.pop();
    }

    /// Validates until every open container is closed. Starts expecting a
    /// value (`need_value`) or just after one. Iterative: nesting costs a
    /// byte of heap per level, never stack.
    fn run(&mut self, mut need_value: bool) -> Result<(), DecodeError> {
        loop {
            if need_value {
                self.ws();
                match self.peek() {
                    Some(b'[') => {
                        self.open(false)?;
                        self.ws();
                        if self.peek() == Some(b']') {
                            self.i += 1;
                            self.close();
                        } else {
                            continue;
                        }
                    }
                    Some(b'{') => {
                        self.open(true)?;
                        self.ws();
                        if self.peek() == Some(b'}') {
                            self.i += 1;
                            self.close();
                        } else {
                            self.key()?;
                            continue;
                        }
                    }
                    Some(b'"') => self.string()?,
                    Some(b't') => self.literal(b"true")?,
                    Some(b'f') => self.literal(b"false")?,
                    Some(b'n') => self.literal(b"null")?,
                    Some(b'-' | b'0'..=b'9') => self.number()?,
                    Some(_) => return Err(err("expected a value", self.i)),
                    None => return Err(err("unexpected end", self.i)),
                }
            }
            // Just after a complete value: close containers, or find the next.
            need_value = true;
            loop {
                let Some(&object) = self.stack.last() else {
                    return Ok(());
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if object {
                            self.ws();
                            self.key()?;
                        }
                        break;
                    }
                    Some(b']') if !object => {
                        self.i += 1;
                        self.close();
                    }
                    Some(b'}') if object => {
                        self.i += 1;
                        self.close();
                    }
                    Some(_) => return Err(err("expected `,` or a closing bracket", self.i)),
                    None => return Err(err("unexpected end", self.i)),
                }
            }
        }
    }

    /// `"key":` inside an object.
    fn key(&mut self) -> Result<(), DecodeError> {
        if self.peek() != Some(b'"') {
            return Err(err("expected a string key", self.i));
        }
        self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return Err(err("expected `:`", self.i));
        }
        self.i += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), DecodeError> {
        let end = self.i + word.len();
        if self.b.get(self.i..end) == Some(word) {
            self.i = end;
            Ok(())
        } else {
            Err(err("invalid literal", self.i))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), DecodeError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(err("invalid number", self.i)),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(err("invalid number", self.i));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(err("invalid number", self.i));
            }
        }
        Ok(())
    }

    /// A string, from its opening quote to just past its closing one.
    fn string(&mut self) -> Result<(), DecodeError> {
        self.i += 1;
        loop {
            // Skip plain bytes quickly: anything but `"`, `\` and controls.
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(c) if c.is_ascii_hexdigit() => self.i += 1,
                                    _ => return Err(err("invalid \\u escape", self.i)),
                                }
                            }
                        }
                        _ => return Err(err("invalid escape", self.i)),
                    }
                }
                Some(_) => return Err(err("control character in string", self.i)),
                None => return Err(err("unterminated string", self.i)),
            }
        }
    }
}

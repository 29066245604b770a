//! The `batch` envelope on the client ([`crate::protocol::batch`]): what
//! the server offered for this link, unpacking the envelopes it sends, and
//! coalescing the emits of one tick into envelopes of our own.
//!
//! Both directions wait for the offer: the server's `connection_established`
//! carries `batch: {windowMs, maxBytes}` only when it batches for this
//! client (which asked with `batch=1` in the handshake query). Before it,
//! and on any other server, an event named `batch` is an ordinary event and
//! every emit goes out alone.
//!
//! Inbound, each entry is handed on as if its own frame had arrived: the
//! same subscribers, the same reply matching, the same routing of
//! `state:patch` to the sync store. A bad envelope or entry is a typed
//! error (`PROTOCOL_ERROR`, detail `INVALID_BATCH`), counted once per bad
//! entry and reported once per envelope; the good entries of the same
//! envelope are still delivered, in order. Each entry stands alone on the
//! wire, so a neighbour's fault says nothing about it, and dropping it would
//! lose an event a subscriber asked for. The link stays up: the frame around
//! the envelope was sound.
//!
//! Outbound, a plain `emit` (no ack, no binary) that could go out at once
//! (the link up, its socket not congested) waits in [`Coalesced`] instead,
//! and [`Output::FlushEmits`] asks the shell to call [`Client::flush_emits`]
//! once the current task is done. Then one emit goes out as a plain event
//! and several as envelopes of at most `maxBytes`, in call order, as they
//! would have gone out alone; an envelope holds emits of one priority, so
//! on polling each still waits for the POST by its own. Anything else the
//! client sends first flushes them, so nothing overtakes an earlier emit.
//! Requests never wait here: their acks and timeouts run from the moment
//! they are sent.

use super::outbound::Frame;
use super::output::{ArgsForm, Output};
use super::priority::Priority;
use super::server_acks::AckKey;
use super::Client;
use crate::catalogue::{names, BatchCapability};
use crate::core::error::ClientError;
use crate::protocol::{batch, json, DecodeError};

/// Emits held until the end of the tick, oldest first.
#[derive(Debug, Default)]
pub(super) struct Coalesced {
    held: Vec<Held>,
}

/// One held emit: its whole frame, where its arguments array starts (after
/// `42` or `42/nsp,`), and what the buffer needs if the link drops first.
#[derive(Debug)]
struct Held {
    frame: String,
    args_at: usize,
    event: String,
    priority: Priority,
    volatile: bool,
}

impl Coalesced {
    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.held.len()
    }
}

/// The `batch` member of a `connection_established` payload, if it is a
/// well-formed offer. Read field by field from the raw text rather than
/// through serde's derive, which would cost the wasm a deserializer for one
/// read per connection.
fn offer(payload: &str) -> Option<BatchCapability> {
    let member = |text: &str, name: &str| {
        json::object_fields(text)?
            .into_iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.get().to_owned())
    };
    let batch = member(payload, "batch")?;
    let number = |name: &str| member(&batch, name)?.parse::<u64>().ok();
    Some(BatchCapability {
        window_ms: number("windowMs")?,
        max_bytes: number("maxBytes")?,
    })
}

impl Client {
    /// Whether the server batches for this link: it announced it in
    /// `connection_established`. The shell's fast path unpacks envelopes
    /// itself while this holds.
    pub fn batching(&self) -> bool {
        self.link.batch.is_some()
    }

    /// Sends the emits held since the last flush (see the module docs):
    /// one alone as a plain event, several in envelopes of at most the
    /// server's `maxBytes`. Nothing to do if something else already sent
    /// them, or if the link went down meanwhile (they wait in the buffer
    /// then).
    pub fn flush_emits(&mut self) {
        if self.coalesced.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.coalesced.held);
        let max = self
            .link
            .batch
            .map_or(0, |b| usize::try_from(b.max_bytes).unwrap_or(usize::MAX));
        let mut group: Vec<Held> = Vec::new();
        let mut writer: Option<batch::Writer> = None;
        for h in held {
            let args = h.frame.get(h.args_at..).unwrap_or_default();
            let same = !matches!(group.last(), Some(last) if last.priority != h.priority);
            let fits = writer
                .as_ref()
                .is_some_and(|w| w.len_with(args.len()) <= max);
            if !(same && fits) {
                self.send_group(std::mem::take(&mut group), writer.take());
                let header = h.frame.get(..h.args_at).unwrap_or_default();
                writer = Some(batch::Writer::new(header));
            }
            if let Some(w) = writer.as_mut() {
                w.push(args);
            }
            group.push(h);
        }
        self.send_group(group, writer);
    }

    /// One emit as its own frame, several (of one priority) as the envelope
    /// `writer` holds.
    fn send_group(&mut self, mut group: Vec<Held>, writer: Option<batch::Writer>) {
        let Some(priority) = group.first().map(|h| h.priority) else {
            return;
        };
        match (group.len(), writer) {
            (_, None) => {}
            (1, _) => {
                if let Some(h) = group.pop() {
                    self.send_frame(priority, Frame::Text(h.frame), Vec::new());
                }
            }
            (_, Some(w)) => self.send_frame(priority, Frame::Text(w.finish()), Vec::new()),
        }
    }

    /// Holds an encoded emit that could go out now for the end of the tick,
    /// if the server batches and it is a plain text event (no binary
    /// attachments; a msgpack frame is not text); gives it back otherwise.
    pub(super) fn coalesce(
        &mut self,
        priority: Priority,
        event: &str,
        frame: Frame,
        attachments: &[Vec<u8>],
        volatile: bool,
    ) -> Option<Frame> {
        let Frame::Text(frame) = frame else {
            return Some(frame);
        };
        if self.link.batch.is_none() || !attachments.is_empty() {
            return Some(Frame::Text(frame));
        }
        let Some(args_at) = frame.find('[') else {
            return Some(Frame::Text(frame));
        };
        if self.coalesced.is_empty() {
            self.out.push_back(Output::FlushEmits);
        }
        self.coalesced.held.push(Held {
            frame,
            args_at,
            event: event.to_owned(),
            priority,
            volatile,
        });
        None
    }

    /// The link went down with emits still held: they join the buffer, as
    /// an emit made while not connected would (a volatile one is dropped).
    /// They were accepted while connected, so they go in whatever the room.
    pub(super) fn requeue_coalesced(&mut self) {
        for h in std::mem::take(&mut self.coalesced.held) {
            if h.volatile {
                self.metrics.volatile_dropped += 1;
            } else {
                self.outbox
                    .push_frame(h.priority, &h.event, Frame::Text(h.frame), Vec::new());
            }
        }
    }

    /// Reads the offer in `connection_established` (whose arguments are
    /// `json`); a server without one, or a client that did not ask, leaves
    /// batching off.
    pub(super) fn read_offer(&mut self, json: &str, form: ArgsForm) {
        if !self.cfg.batch || form != ArgsForm::NamedArray {
            return;
        }
        self.link.batch = super::inbound::first_arg(json, 1).and_then(|payload| offer(&payload));
    }

    /// Whether an event named `name` is an envelope to unpack now.
    pub(super) fn is_envelope(&self, name: &str, form: ArgsForm) -> bool {
        name == names::BATCH && form == ArgsForm::NamedArray && self.link.batch.is_some()
    }

    /// Hands every entry of the envelope whose arguments are `json` on as
    /// an event of its own (see the module docs for bad entries).
    pub(super) fn unpack(&mut self, json: &str, attachments: &[Vec<u8>], ack: Option<AckKey>) {
        if let Some(key) = ack {
            // Its entries would have no answer of their own to give.
            self.server_acks.take(key);
            return self.batch_error(
                DecodeError::InvalidBatch("a batch cannot ask for an answer"),
                1,
                None,
            );
        }
        if !attachments.is_empty() {
            return self.batch_error(
                DecodeError::InvalidBatch("a batch cannot carry binary attachments"),
                1,
                None,
            );
        }
        let args = match json::shallow(json) {
            Ok(json::Shallow::Array(args)) => args,
            _ => return,
        };
        let [_, envelope] = args.as_slice() else {
            return self.batch_error(
                DecodeError::InvalidBatch("a batch carries exactly one array of entries"),
                1,
                None,
            );
        };
        let entries = match batch::entries(envelope.get()) {
            Ok(entries) => entries,
            Err(e) => return self.batch_error(e, 1, None),
        };
        let total = entries.len();
        let mut bad = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => self.on_event(
                    &e.name,
                    e.json.to_owned(),
                    ArgsForm::NamedArray,
                    Vec::new(),
                    None,
                ),
                Err(b) => bad.push(b),
            }
        }
        if let Some(first) = bad.first() {
            let message = format!(
                "entry {} of a batch {}; {} of its {total} entries refused, the others delivered",
                first.index,
                first.why,
                bad.len()
            );
            self.batch_error(
                DecodeError::InvalidBatch(first.why),
                bad.len(),
                Some(message),
            );
        }
    }

    /// Reports one envelope's fault to `onError` and counts `count` errors
    /// under its code; the link stays up.
    fn batch_error(&mut self, e: DecodeError, count: usize, message: Option<String>) {
        self.metrics.count_errors(e.code(), count as u64);
        let mut err = ClientError::from(e);
        if let Some(m) = message {
            err.message = m;
        }
        self.out.push_back(Output::Error(err));
    }
}

//! The pending request table: every request from the call that made it to
//! its one settlement, with the indexes inbound traffic needs to find it
//! (its `request_id` for reply events, its ack id for Socket.IO acks) and
//! the order of its deadline. Removing an entry removes it from every
//! index at once, which is what makes a request settle exactly once: a late
//! ack or a duplicate reply finds nothing.

use super::output::Output;
use super::priority::Priority;
use crate::core::error::{ClientError, ErrorCode};
use crate::core::sort;
use crate::protocol::json;
use std::collections::{HashMap, VecDeque};

/// Identifies one request for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestKey(pub u64);

/// Per-request options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// Overrides [`Config::request_timeout_ms`](super::Config::request_timeout_ms).
    pub timeout_ms: Option<u64>,
    /// If the link drops while in flight, re-send once after reconnect
    /// instead of rejecting with DISCONNECTED.
    pub retry: bool,
    /// Where the request stands among what waits (see [`Priority`]).
    pub priority: Priority,
}

/// One pending request.
#[derive(Debug)]
pub(super) struct Request {
    pub(super) event: String,
    /// The payload with `request_id` in it.
    pub(super) payload: String,
    /// Binary attachments the payload's placeholders refer to.
    pub(super) attachments: Vec<Vec<u8>>,
    pub(super) request_id: String,
    pub(super) deadline: u64,
    pub(super) priority: Priority,
    pub(super) retry: bool,
    pub(super) retried: bool,
    /// Socket.IO ack id while in flight.
    pub(super) ack: Option<u64>,
    pub(super) in_flight: bool,
    /// The server acknowledged receipt with an empty ack: it has the
    /// request, and the reply is an event still to come. Never re-sent.
    pub(super) receipted: bool,
}

/// The table and its indexes.
#[derive(Debug)]
pub(super) struct Requests {
    table: HashMap<RequestKey, Request>,
    by_request_id: HashMap<String, RequestKey>,
    by_ack: HashMap<u64, RequestKey>,
    /// `(deadline, key)` of every pending request, ascending. A sorted
    /// deque rather than a `BTreeSet` (~5 KB of wasm): requests mostly
    /// arrive and settle in deadline order, so inserts land at the back and
    /// removals at the front.
    deadlines: VecDeque<(u64, RequestKey)>,
    next_key: u64,
    next_ack: u64,
    /// Random per client, so that two tabs of one user never share a
    /// `request_id` (replies go to the user's room, which both join).
    id_prefix: String,
}

impl Requests {
    /// An empty table whose `request_id`s start with `id_prefix`.
    pub(super) fn new(id_prefix: String) -> Self {
        Requests {
            table: HashMap::new(),
            by_request_id: HashMap::new(),
            by_ack: HashMap::new(),
            deadlines: VecDeque::new(),
            next_key: 0,
            next_ack: 0,
            id_prefix,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub(super) fn contains(&self, key: RequestKey) -> bool {
        self.table.contains_key(&key)
    }

    pub(super) fn get(&self, key: RequestKey) -> Option<&Request> {
        self.table.get(&key)
    }

    /// The key and `request_id` the next [`insert`](Self::insert) takes;
    /// nothing is used up until it does.
    pub(super) fn next_ids(&self) -> (RequestKey, String) {
        (
            RequestKey(self.next_key),
            format!("{}-{}", self.id_prefix, self.next_key),
        )
    }

    /// Adds the request made with [`next_ids`](Self::next_ids).
    pub(super) fn insert(&mut self, key: RequestKey, request: Request) {
        self.next_key += 1;
        let deadline = request.deadline;
        self.by_request_id.insert(request.request_id.clone(), key);
        self.table.insert(key, request);
        let at = self.deadlines.partition_point(|d| *d < (deadline, key));
        self.deadlines.insert(at, (deadline, key));
    }

    /// A fresh Socket.IO ack id.
    pub(super) fn next_ack(&mut self) -> u64 {
        let id = self.next_ack;
        self.next_ack = self.next_ack.wrapping_add(1);
        id
    }

    /// The request went out (with `ack` on Socket.IO).
    pub(super) fn mark_sent(&mut self, key: RequestKey, ack: Option<u64>) {
        if let Some(req) = self.table.get_mut(&key) {
            req.in_flight = true;
            req.ack = ack;
            if let Some(id) = ack {
                self.by_ack.insert(id, key);
            }
        }
    }

    /// The request an ack answers; the ack id is used up.
    pub(super) fn take_ack(&mut self, ack: u64) -> Option<RequestKey> {
        self.by_ack.remove(&ack)
    }

    /// The server acknowledged the request without answering it: its reply
    /// is an event still to come.
    pub(super) fn mark_receipted(&mut self, key: RequestKey) {
        if let Some(req) = self.table.get_mut(&key) {
            req.receipted = true;
            req.ack = None;
        }
    }

    /// The request a reply carrying `request_id` answers.
    pub(super) fn by_request_id(&self, request_id: &str) -> Option<RequestKey> {
        self.by_request_id.get(request_id).copied()
    }

    /// Takes the request out of the table and every index.
    pub(super) fn remove(&mut self, key: RequestKey) -> Option<Request> {
        let req = self.table.remove(&key)?;
        self.by_request_id.remove(&req.request_id);
        if let Ok(at) = self.deadlines.binary_search(&(req.deadline, key)) {
            self.deadlines.remove(at);
        }
        if let Some(ack) = req.ack {
            self.by_ack.remove(&ack);
        }
        Some(req)
    }

    /// The earliest deadline.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        self.deadlines.front().map(|(t, _)| *t)
    }

    /// The request with the earliest deadline, if it passed at `now`.
    pub(super) fn first_expired(&mut self, now: u64) -> Option<RequestKey> {
        loop {
            let &(t, key) = self.deadlines.front()?;
            if t > now {
                return None;
            }
            if self.table.contains_key(&key) {
                return Some(key);
            }
            // Cannot happen (removal clears the deadline too), but a stale
            // entry must not stop the timer loop.
            self.deadlines.pop_front();
        }
    }

    /// Every key, oldest first (settling in this order keeps outputs
    /// deterministic).
    pub(super) fn keys(&self) -> Vec<RequestKey> {
        let mut keys: Vec<RequestKey> = self.table.keys().copied().collect();
        sort::sort(&mut keys);
        keys
    }

    /// The link is gone, and with it every ack id: returns the requests
    /// that were on it and had no receipt, oldest first, marked not in
    /// flight, each with whether it may be re-sent and its priority. A receipted request stays as it is: the server has it, its
    /// reply may still come after the reconnect, and re-sending would run
    /// it twice.
    pub(super) fn unsent_by_link_loss(&mut self) -> Vec<(RequestKey, bool, Priority)> {
        self.by_ack.clear();
        let mut in_flight: Vec<RequestKey> = self
            .table
            .iter()
            .filter(|(_, r)| r.in_flight && !r.receipted)
            .map(|(k, _)| *k)
            .collect();
        sort::sort(&mut in_flight);
        in_flight
            .into_iter()
            .filter_map(|key| {
                let req = self.table.get_mut(&key)?;
                req.in_flight = false;
                req.ack = None;
                Some((key, req.retry && !req.retried, req.priority))
            })
            .collect()
    }

    /// The request is going out again after a lost link; it will not be
    /// re-sent a second time.
    pub(super) fn mark_retried(&mut self, key: RequestKey) {
        if let Some(req) = self.table.get_mut(&key) {
            req.retried = true;
        }
    }
}

/// `payload` (a JSON object) with `"request_id": id` set, keeping the other
/// fields verbatim and in order.
pub(super) fn with_request_id(payload: &str, id: &str) -> Option<String> {
    let fields = json::object_fields(payload)?;
    let mut out = String::with_capacity(payload.len() + id.len() + 20);
    out.push('{');
    for (k, v) in fields.iter().filter(|(k, _)| k != "request_id") {
        json::push_string(&mut out, k);
        out.push(':');
        out.push_str(v.get());
        out.push(',');
    }
    out.push_str("\"request_id\":");
    json::push_string(&mut out, id);
    out.push('}');
    Some(out)
}

impl super::Client {
    pub(super) fn settle(&mut self, key: RequestKey, result: Result<String, ClientError>) {
        self.settle_with(key, result, Vec::new());
    }

    /// Settles the request once: it leaves the table (and the outbox, if it
    /// never went out), so nothing can settle it again.
    pub(super) fn settle_with(
        &mut self,
        key: RequestKey,
        result: Result<String, ClientError>,
        attachments: Vec<Vec<u8>>,
    ) {
        let Some(req) = self.requests.remove(key) else {
            return;
        };
        if !req.in_flight {
            self.outbox.forget_request(key, req.priority);
        }
        if let Err(e) = &result {
            self.metrics.count_error(e.code.as_str());
        }
        self.out.push_back(Output::Settled {
            key,
            result,
            attachments,
        });
    }

    /// The link carrying the in-flight requests is gone: with `reconnecting`
    /// those that asked for a retry (and had none yet) go back to the
    /// outbox, ahead of what their priority buffered since, the rest
    /// reject with `code`.
    pub(super) fn fail_in_flight(&mut self, reconnecting: bool, code: ErrorCode, reason: &str) {
        let mut again = Vec::new();
        for (key, may_retry, priority) in self.requests.unsent_by_link_loss() {
            if reconnecting && may_retry {
                self.requests.mark_retried(key);
                again.push((key, priority));
            } else {
                self.settle(
                    key,
                    Err(ClientError::new(code, format!("link lost: {reason}"))),
                );
            }
        }
        self.outbox.requeue_front(again);
    }
}

// Every listener of one AgentManager, kept on the JS side: the event
// subscribers, with the inbound fast path that reaches them without
// entering wasm, and the other listeners (`onStateChange`, `onError`,
// `subscribeState`, `onConflict`). Rust decides what to deliver and when;
// this holds the functions, calls them, and hands out the unsubscribe
// functions.
//
// Why in JS: a plain `42["name",...]` event needs nothing from the core but
// to be counted and delivered, and every crossing into wasm and back (the
// frame, the name, the subscriber lookup, one call per callback) cost more
// than socket.io-parser's whole decode (BENCHMARKS.md). The core still
// decides *when* the fast path may be used: the driver sets `gate` after
// every pump (`Client::fast_path`), and anything the fast path declines goes
// to wasm unchanged. Events the core decodes itself (binary, namespaced,
// replies, errors) are handed to `deliver` and reach the same subscribers,
// in the same order, with the same rules:
//
// - named subscribers in subscription order, then the catch-all ones
//   (which get the name first);
// - the list is taken when the event arrives, and each subscription is
//   checked again just before its call, so unsubscribing from inside a
//   callback stops the calls that have not happened yet, and a `once`
//   subscription ends as it fires;
// - a callback that throws does not stop the others: the driver's `thrown`
//   hook counts it and tells the `onError` listeners;
// - an event that asks for an answer (it carried an ack id; only the core
//   decodes those, so the fast path never sees one) gets an `ack` function
//   as its last argument, the same one for every subscriber, as
//   socket.io-client's listeners get it. It is a plain function made here
//   that hands the core's key and its arguments to the driver's `answer`
//   hook: no wasm closure per event, and nothing to release when it is
//   dropped. The core answers once; after `clear` it does nothing.
//
// Lists are copy-on-write: subscribing never changes an array a dispatch
// is walking. The other listeners follow the same rules (see `listen`).
//
// Batching: once the server offered it (`Client::batching`, set by the
// driver), a `batch` envelope is unpacked here when every entry would take
// the fast path alone, so a burst of small events costs one frame and one
// `JSON.parse`; the driver's `flusher` sends the emits coalesced during a
// tick, from one microtask.
//
// Filters cost nothing to subscribers without one: `subscribe(name, cb,
// {filter})` keeps the predicate on the entry, and only an entry that has
// one pays for the call (a throwing filter is reported like a throwing
// subscriber, and that subscriber skips the event). `subscribeAll` takes a
// name pattern, kept as a matcher on the entry the same way.
//
// The inspector tap (`inspect`, `debug`): `inspector` is undefined while
// nobody inspects, so every tap point (frames in, frames out, state
// changes) costs one comparison. Frames are handed over as the text (or
// bytes) that went on the wire; naming and sizing them is the
// inspector's business, done only if it wants to.
//
// An unsubscribe function never throws and does nothing the second time,
// after a `once` fired, or after the manager ended (`clear`). An ended
// subscription lets go of its callback.

/** The kinds of listener besides events, each kept by key (a scope for
 * `doc` and `conflict`; `stateChange` and `error` for the other two). */
const KINDS = ['state', 'error', 'doc', 'conflict'];

/** Dispatch durations kept for `metrics()` until the driver drains them. */
const SAMPLES = 64;

/** The envelope of several events in one (`protocol::batch`). */
const BATCH = 'batch';

/** An Error with a stable `code`, as the manager throws them. */
function coded(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/**
 * A `subscribeAll` name pattern as a test of names: a RegExp (its `g` and
 * `y` flags dropped, so testing keeps no state), or a string where `*`
 * stands for any run of characters (`'x-my-module:*'`, `'*_response'`);
 * a string without `*` is one name.
 */
function matcher(pattern) {
  if (pattern instanceof RegExp) {
    const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    return (name) => re.test(name);
  }
  if (typeof pattern !== 'string') {
    throw coded('INVALID_OPTIONS', 'subscribeAll: the pattern must be a string or a RegExp');
  }
  if (!pattern.includes('*')) return (name) => name === pattern;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const re = new RegExp(`^${source}$`, 's');
  return (name) => re.test(name);
}

/** The size of a frame in bytes (UTF-8 for text). */
function frameBytes(data) {
  return typeof data === 'string' ? new TextEncoder().encode(data).length : data.byteLength;
}

/**
 * `debug`'s inspector: one collapsed console group per frame or state
 * change, titled with the direction, the event name when the frame is a
 * Socket.IO event or a JSON action, and the size; the frame's JSON inside.
 * js/debug_log.js is the same for the managers written in JS: a snippet
 * cannot import it (tests/js/debug_log.test.mjs keeps the two alike).
 */
export function logRecord(record) {
  if (record.type === 'state') {
    console.groupCollapsed(`frinny-agent ● ${record.state}`, record.reason);
    console.log(record);
    console.groupEnd();
    return;
  }
  const { data } = record;
  let name = typeof data === 'string' ? '' : 'binary';
  let body = data;
  if (typeof data === 'string') {
    const start = data.search(/[[{]/);
    try {
      body = start < 0 ? data : JSON.parse(data.slice(start));
    } catch {
      body = data;
    }
    name = Array.isArray(body) && typeof body[0] === 'string' ? body[0]
      : body !== null && typeof body === 'object' && typeof body.action === 'string' ? body.action
      : `packet ${data.slice(0, start < 0 ? 3 : Math.min(start, 3))}`;
  }
  console.groupCollapsed(`frinny-agent ${record.direction === 'in' ? '⇣' : '⇡'} ${name} (${frameBytes(data)} B)`);
  console.log(typeof data === 'string' ? data : '(binary frame)');
  if (body !== data) console.log(body);
  console.groupEnd();
}

export class EventHub {
  /**
   * @param {(name: string, thrown: unknown) => void} thrown called when a
   *   subscriber throws
   * @param {number} maxUnits the longest frame, in UTF-16 units, the fast
   *   path takes (longer ones go to the core, which measures bytes)
   * @param {string[]} coreNames names the fast path always leaves to the
   *   core (`FastPath::core_names` and `state:patch`)
   * @param {string[]} replyNames @param {string} replySuffix the core's
   *   rule for events that may answer a request (`core::reply_policy`):
   *   these names, and names ending in the suffix. While requests wait
   *   (gate 2) replies go to the core, which matches their `request_id`.
   *   Without a rule every name counts as a reply (every name ends in ''),
   *   so gate 2 then leaves every event to the core, which is never wrong.
   * @param {(key: number, args: unknown[]) => void} answer called with the
   *   core's key and the arguments when an event's `ack` is called (may
   *   throw INVALID_PAYLOAD)
   */
  constructor(thrown, maxUnits, coreNames, replyNames = [], replySuffix = '', answer = () => {}) {
    this.thrown = thrown;
    this.answer = answer;
    this.maxUnits = maxUnits;
    this.coreNames = new Set(coreNames);
    // Reply names the core keeps anyway (`error`) need no second look.
    this.replyNames = new Set(replyNames.filter((name) => !this.coreNames.has(name)));
    this.replySuffix = replySuffix;
    /** 0: closed; 1: open; 2: open except for reply names (requests wait). */
    this.gate = 0;
    this.generation = -1;
    this.named = new Map();
    this.all = [];
    this.count = 0;
    /** kind -> key -> live listeners, in the order they were added. */
    this.lists = new Map(KINDS.map((kind) => [kind, new Map()]));
    /** Live listeners of every kind but events. */
    this.listening = 0;
    // What the fast path did since the driver last drained it (one event
    // per frame, or the entries of a batch).
    this.units = 0;
    this.frames = 0;
    this.events = 0;
    this.dispatches = 0;
    this.samples = new Uint32Array(SAMPLES);
    this.sampled = 0;
    /** `inspect` listeners, and whether `debug` logs. */
    this.inspectors = [];
    this.debugging = false;
    /** The tap: undefined while nobody inspects (see `retap`). */
    this.inspector = undefined;
    /** The server batches for this link: `batch` envelopes are unpacked. */
    this.batching = false;
    // The end-of-tick flush of coalesced emits: `flusher` is the driver's
    // (undefined once the manager ended), called from one microtask per tick.
    this.flusher = undefined;
    this.flushPending = false;
    this.flushTask = () => {
      this.flushPending = false;
      const flusher = this.flusher;
      if (flusher !== undefined) flusher();
    };
  }

  /** Asks for `flusher()` once the current task is done (once per tick). */
  scheduleFlush() {
    if (this.flushPending) return;
    this.flushPending = true;
    queueMicrotask(this.flushTask);
  }

  /**
   * Adds a subscription: to `name`, or to every event when `name` is
   * undefined. `options` may hold `filter`, a predicate over the payload
   * (the first argument): only events it accepts reach `callback`.
   * Returns its unsubscribe function, which never throws and does nothing
   * the second time. Throws INVALID_OPTIONS for a `filter` that is not a
   * function.
   */
  add(name, callback, once, options) {
    let filter;
    if (options !== undefined && options !== null) {
      filter = options.filter;
      if (filter !== undefined && typeof filter !== 'function') {
        throw coded('INVALID_OPTIONS', 'option filter must be a function');
      }
    }
    return this.enter({ callback, name, once, live: true, filter, match: undefined });
  }

  /**
   * `subscribeAll(callback)` or `subscribeAll(pattern, callback)`: every
   * event, or those whose name matches `pattern` (see `matcher`).
   */
  addAll(pattern, callback) {
    if (callback === undefined) {
      if (typeof pattern !== 'function') throw coded('INVALID_OPTIONS', 'subscribeAll: the callback must be a function');
      return this.enter({ callback: pattern, name: undefined, once: false, live: true, filter: undefined, match: undefined });
    }
    if (typeof callback !== 'function') throw coded('INVALID_OPTIONS', 'subscribeAll: the callback must be a function');
    const match = matcher(pattern);
    return this.enter({ callback, name: undefined, once: false, live: true, filter: undefined, match });
  }

  /** Keeps `entry`; returns its unsubscribe function. */
  enter(entry) {
    const { name } = entry;
    if (name === undefined) {
      this.all = [...this.all, entry];
    } else {
      const list = this.named.get(name);
      this.named.set(name, list === undefined ? [entry] : [...list, entry]);
    }
    this.count++;
    return () => { this.end(entry); };
  }

  /** Ends every subscription of `callback` to `name`; how many ended. */
  removeNamed(name, callback) {
    const list = this.named.get(name);
    if (list === undefined) return 0;
    let n = 0;
    for (const entry of list) {
      if (entry.callback === callback && this.end(entry)) n++;
    }
    return n;
  }

  /** Ends one subscription; false if it had already ended. */
  end(entry) {
    if (!entry.live) return false;
    entry.live = false;
    entry.callback = undefined;
    entry.filter = undefined;
    this.count--;
    if (entry.name === undefined) {
      this.all = this.all.filter((e) => e !== entry);
    } else {
      const rest = this.named.get(entry.name).filter((e) => e !== entry);
      if (rest.length === 0) this.named.delete(entry.name);
      else this.named.set(entry.name, rest);
    }
    return true;
  }

  /**
   * Adds a listener of `kind` (`state`, `error`, `doc` or `conflict`) for
   * `key`. Returns its unsubscribe function.
   */
  listen(kind, key, callback) {
    const lists = this.lists.get(kind);
    const entry = { callback, kind, key, live: true };
    const list = lists.get(key);
    lists.set(key, list === undefined ? [entry] : [...list, entry]);
    this.listening++;
    return () => { this.unlisten(entry); };
  }

  /** Ends one listener; false if it had already ended. */
  unlisten(entry) {
    if (!entry.live) return false;
    entry.live = false;
    entry.callback = undefined;
    this.listening--;
    const lists = this.lists.get(entry.kind);
    const rest = lists.get(entry.key).filter((e) => e !== entry);
    if (rest.length === 0) lists.delete(entry.key);
    else lists.set(entry.key, rest);
    return true;
  }

  /**
   * Calls the listeners of `kind` for `key` with `args`, in the order they
   * were added, skipping any ended meanwhile; returns how many there were.
   * One that throws does not stop the others: an `error` listener's throw
   * goes to the console (reporting it to itself could loop), any other's
   * to the `thrown` hook, named by `key`.
   */
  notify(kind, key, args) {
    if (kind === 'state' && this.inspector !== undefined) {
      this.inspector({ type: 'state', state: args[0], reason: args[1], time: Date.now() });
    }
    const list = this.lists.get(kind).get(key);
    if (list === undefined) return 0;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      if (!entry.live) continue;
      try {
        entry.callback.apply(undefined, args);
      } catch (thrown) {
        if (kind === 'error') console.error('frinny-agent: an onError listener threw', thrown);
        else this.thrown(key, thrown);
      }
    }
    return list.length;
  }

  /** The callback of the latest live listener of `kind` for `key`. */
  latest(kind, key) {
    const list = this.lists.get(kind).get(key);
    return list === undefined ? undefined : list[list.length - 1].callback;
  }

  /** Live subscriptions and listeners of every kind. */
  get held() {
    return this.count + this.listening + this.inspectors.length;
  }

  /**
   * Adds an inspector: `callback(record)` for every frame in and out
   * (`{type: 'frame', direction, data, time}`, `data` the frame's text or
   * an ArrayBuffer) and state change (`{type: 'state', state, reason,
   * time}`). Returns its unsubscribe function. One that throws is logged
   * to the console (reporting it as an error could loop back to it).
   */
  inspect(callback) {
    if (typeof callback !== 'function') throw coded('INVALID_OPTIONS', 'inspect: the listener must be a function');
    const entry = { callback };
    this.inspectors = [...this.inspectors, entry];
    this.retap();
    return () => {
      if (!this.inspectors.includes(entry)) return;
      this.inspectors = this.inspectors.filter((e) => e !== entry);
      entry.callback = undefined;
      this.retap();
    };
  }

  /** `agent.debug`: logs every frame and state change to the console. */
  set debug(on) {
    this.debugging = on;
    this.retap();
  }

  get debug() {
    return this.debugging;
  }

  /** Sets the tap to undefined when nobody inspects, else to a fan-out. */
  retap() {
    const inspectors = this.inspectors;
    const debugging = this.debugging;
    if (inspectors.length === 0 && !debugging) {
      this.inspector = undefined;
      return;
    }
    this.inspector = (record) => {
      if (debugging) logRecord(record);
      for (const entry of inspectors) {
        if (entry.callback === undefined) continue;
        try {
          entry.callback(record);
        } catch (thrown) {
          console.error('frinny-agent: an inspect listener threw', thrown);
        }
      }
    };
  }

  /** Whether an inspector (or `debug`) is on: a pooled guest writes its frames out for it only then. */
  get inspecting() {
    return this.inspector !== undefined;
  }

  /**
   * Shows the inspector a frame of a link this manager shares without
   * tapping it (a pooled guest's namespace, see src/web/guest_tap.rs):
   * text, or bytes in wasm memory, copied. `transport` is `'polling'` on a
   * polling link, as the link's own records say.
   */
  tapFrame(direction, data, transport) {
    if (this.inspector === undefined) return;
    const record = { type: 'frame', direction, data: typeof data === 'string' ? data : data.slice().buffer, time: Date.now() };
    if (transport !== undefined) record.transport = transport;
    this.inspector(record);
  }

  /**
   * Sends `data` (text, or bytes in wasm memory) on `ws`, telling the
   * inspector first, and returns the socket's `bufferedAmount` after it
   * (read here, where the socket is, to spare the driver a second call out
   * of wasm per send). A send on a socket that is not open is dropped (see
   * the driver).
   */
  send(ws, data) {
    if (this.inspector !== undefined) {
      // Bytes are a view into wasm memory: copied before anyone keeps them.
      this.inspector({ type: 'frame', direction: 'out', data: typeof data === 'string' ? data : data.slice().buffer, time: Date.now() });
    }
    try {
      ws.send(data);
    } catch {
      // not open
    }
    return ws.bufferedAmount;
  }

  /**
   * Shows a long-polling payload to the inspector as a WebSocket would
   * have carried it: one record per Engine.IO packet, a `b<base64>` packet
   * as its bytes, each marked `transport: 'polling'`.
   */
  tapPayload(direction, payload) {
    if (this.inspector === undefined || payload.length === 0) return;
    const time = Date.now();
    for (const packet of payload.split('\x1e')) {
      let data = packet;
      if (packet.charCodeAt(0) === 98) {
        try {
          data = Uint8Array.from(atob(packet.slice(1)), (c) => c.charCodeAt(0)).buffer;
        } catch {
          // not base64: shown as the text it is
        }
      }
      this.inspector({ type: 'frame', direction, data, time, transport: 'polling' });
    }
  }

  /** Ends every subscription and listener (the manager is ending). */
  clear() {
    for (const list of this.named.values()) for (const entry of list) this.release(entry);
    for (const entry of this.all) this.release(entry);
    for (const lists of this.lists.values()) {
      for (const list of lists.values()) for (const entry of list) this.release(entry);
      lists.clear();
    }
    this.listening = 0;
    this.named = new Map();
    this.all = [];
    this.count = 0;
    this.gate = 0;
    for (const entry of this.inspectors) entry.callback = undefined;
    this.inspectors = [];
    this.debugging = false;
    this.inspector = undefined;
    this.batching = false;
    this.flusher = undefined;
    // The driver's hooks are released with the manager; a callback that
    // closed the manager and then threw (or answered) must not call them.
    this.thrown = () => {};
    this.answer = () => {};
  }

  /** Marks `entry` ended and lets go of its callback. */
  release(entry) {
    entry.live = false;
    entry.callback = undefined;
  }

  /**
   * The socket's `onmessage`: the fast path first, else `slow(event)` (into
   * wasm). `generation` is the socket's number: a late event of an old
   * socket never takes the fast path.
   */
  onmessage(generation, slow) {
    return (event) => {
      if (this.inspector !== undefined && generation === this.generation) {
        this.inspector({ type: 'frame', direction: 'in', data: event.data, time: Date.now() });
      }
      if (!this.fast(event.data, generation)) slow(event);
    };
  }

  /** The fast path; true if it delivered the frame. */
  fast(data, generation) {
    if (this.gate === 0 || generation !== this.generation || typeof data !== 'string') return false;
    const n = data.length;
    // `42[`: a Socket.IO EVENT on `/` without an ack id.
    if (n < 4 || n > this.maxUnits || data.charCodeAt(0) !== 52 || data.charCodeAt(1) !== 50 || data.charCodeAt(2) !== 91) {
      return false;
    }
    let items;
    try {
      items = JSON.parse(data.slice(2));
    } catch {
      return false; // the core reports it
    }
    const name = items[0];
    if (typeof name !== 'string') return false;
    if (this.batching && name === BATCH) return this.fastBatch(items, n);
    if (this.coreNames.has(name) || (this.gate === 2 && this.isReply(name))) return false;
    this.units += n;
    this.frames++;
    this.events++;
    this.dispatch(name, items);
    return true;
  }

  /**
   * A `batch` envelope `[BATCH, [[name, ...args], …]]` of `n` units: its
   * entries delivered in order, as if each had come alone. Only when every
   * entry would take the fast path alone; otherwise the core unpacks the
   * whole envelope (and reports bad entries), so order is kept either way.
   */
  fastBatch(items, n) {
    const entries = items[1];
    if (items.length !== 2 || !Array.isArray(entries)) return false;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (!Array.isArray(entry)) return false;
      const name = entry[0];
      if (typeof name !== 'string' || name === BATCH || this.coreNames.has(name) || (this.gate === 2 && this.isReply(name))) {
        return false;
      }
    }
    this.units += n;
    this.frames++;
    this.events += entries.length;
    for (let i = 0; i < entries.length; i++) this.dispatch(entries[i][0], entries[i]);
    return true;
  }

  /** Whether `name` may answer a request (`core::reply_policy::is_reply`). */
  isReply(name) {
    return name.endsWith(this.replySuffix) || (this.replyNames.size !== 0 && this.replyNames.has(name));
  }

  /** Whether anyone would see a `name` event. */
  wants(name) {
    return this.all.length > 0 || this.named.has(name);
  }

  /** An event the core decoded: `args` without the name. */
  deliver(name, args) {
    args.unshift(name);
    this.dispatch(name, args);
  }

  /**
   * An event the core decoded that asks for an answer: as `deliver`, with
   * its `ack` function (answering under the core's `key`) as the last
   * argument.
   */
  deliverAsking(name, args, key) {
    args.push((...values) => this.answer(key, values));
    this.deliver(name, args);
  }

  /** Calls `name`'s subscribers; `items` is `[name, ...args]`. */
  dispatch(name, items) {
    const named = this.named.get(name);
    const all = this.all;
    if (named === undefined && all.length === 0) return;
    // One dispatch in 64 is timed: reading the clock twice per event cost
    // more than a small subscriber (in Chromium about 8 ns per event even
    // at one in 16).
    const timed = (++this.dispatches & 63) === 1;
    const started = timed ? performance.now() : 0;
    if (named !== undefined) {
      for (let i = 0; i < named.length; i++) {
        const entry = named[i];
        if (!entry.live) continue;
        if (entry.filter !== undefined && !this.accepts(entry, name, items)) continue;
        const callback = entry.callback;
        if (entry.once) this.end(entry);
        this.call(callback, name, items, 1);
      }
    }
    for (let i = 0; i < all.length; i++) {
      const entry = all[i];
      if (!entry.live) continue;
      if (entry.match !== undefined && !entry.match(name)) continue;
      this.call(entry.callback, name, items, 0);
    }
    if (timed) {
      const micros = Math.min(Math.max(0, Math.round((performance.now() - started) * 1000)), 0xffffffff);
      this.samples[this.sampled++ % SAMPLES] = micros;
    }
  }

  /** Whether `entry`'s filter accepts the payload; a throw is reported as a subscriber's and skips it. */
  accepts(entry, name, items) {
    try {
      return Boolean(entry.filter(items[1]));
    } catch (thrown) {
      this.thrown(name, thrown);
      return false;
    }
  }

  /** `callback(...items.slice(from))`, reporting a throw. */
  call(callback, name, items, from) {
    try {
      if (from === 0) callback.apply(undefined, items);
      else if (items.length === 2) callback(items[1]);
      else if (items.length === 1) callback();
      else callback.apply(undefined, items.slice(1));
    } catch (thrown) {
      this.thrown(name, thrown);
    }
  }

  /**
   * What happened since the last drain, for the core's metrics:
   * `[frames, events, units, ...dispatch micros oldest first]`.
   */
  drain() {
    const kept = Math.min(this.sampled, SAMPLES);
    const out = new Float64Array(3 + kept);
    out[0] = this.frames;
    out[1] = this.events;
    out[2] = this.units;
    for (let i = 0; i < kept; i++) out[3 + i] = this.samples[(this.sampled - kept + i) % SAMPLES];
    this.units = 0;
    this.frames = 0;
    this.events = 0;
    this.sampled = 0;
    return out;
  }
}

// The test agent: the AgentManager API (js/index.d.ts over
// pkg/frinny_agent.d.ts) over a simulated link to a TestServer instead of a
// WebSocket, with no wasm. It keeps the real client's contract where a test
// can see it: the states and their reasons (src/core/client/link.rs), the
// outgoing buffer, request settling exactly once with the same error codes,
// retry across a lost link, priorities in the outgoing buffer (high, normal,
// low; the oldest low one given up when it is full), the shape of metrics(), and synced state with
// optimistic updates and conflicts (src/core/sync.rs, simplified).

import { addFrinnyHelpers } from '../frinny_helpers.js';
import { agentError, handlerError, serverError } from './errors.js';
import { matcher } from '../event_pattern.js';
import { Hub } from './hub.js';
import { logRecord } from '../debug_log.js';
import { applyMergePatch, mergeDiff } from './merge_patch.js';
import { checkEventName, emitOptions, parseOptions, requestOptions } from './options.js';
import { TestServer } from './server.js';
import { isObject, wireCopy, wireSize } from './wire.js';

/** How many times one update is re-submitted after conflicts (the real store's limit). */
const MAX_RESUBMITS = 8;

/** The order waiting items leave in (core::Priority). */
const RANK = { high: 0, normal: 1, low: 2 };

/** Which events may answer a request (core::reply_policy). @param {string} name */
const isReply = (name) => name === 'error' || name.endsWith('_response');

/**
 * @typedef {object} Request
 * @property {string} event
 * @property {Record<string, unknown>} payload with its request_id
 * @property {string} requestId
 * @property {boolean} retry
 * @property {'high' | 'normal' | 'low'} priority
 * @property {boolean} retried
 * @property {boolean} inFlight
 * @property {number} link the link it went out on
 * @property {(value: unknown) => void} resolve
 * @property {(error: Error) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 * @property {(() => void) | null} unhookAbort
 */

/**
 * @typedef {object} Update
 * @property {number} id
 * @property {Record<string, unknown>} patch
 * @property {boolean} optimistic
 * @property {boolean} inFlight
 * @property {number} resubmits
 * @property {(value: {version: number}) => void} resolve
 * @property {(error: Error) => void} reject
 */

/**
 * @typedef {object} Scope
 * @property {number | null} version null until the first snapshot
 * @property {any} confirmed the server's document at `version`
 * @property {Update[]} updates waiting or in flight, in order
 * @property {Array<{resolve: (doc: any) => void, reject: (e: Error) => void}>} waiting syncState calls
 */

/**
 * A timer. It keeps Node's event loop alive as a real one does: a test
 * awaiting a TIMEOUT must get it. (Close agents at the end of a test, or a
 * pending request keeps the process up until its timeout.)
 * @param {() => void} fn @param {number} ms
 */
function timer(fn, ms) {
  return setTimeout(fn, ms);
}

export class TestAgent {
  #cfg;
  #server;
  #state = 'disconnected';
  /** The user wants to be connected (connect() called, not disconnect()). */
  #wanted = false;
  /** The current link is up and joined. */
  #linked = false;
  /** Number of the current link, so answers sent over an older one are dropped. */
  #link = 0;
  #everJoined = false;
  #attempt = 0;
  /** Number of the latest connection attempt (only its outcome counts). */
  #attemptNo = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #reconnectTimer = null;
  /** @type {number | null} */
  #nextReconnectAt = null;
  /** @type {Array<{resolve: () => void, reject: (e: Error) => void}>} */
  #connectWaiters = [];
  /** @type {ReturnType<typeof setTimeout> | null} */
  #connectTimer = null;
  #released = false;
  #hub;
  /** @type {Map<number, Function>} */
  #stateListeners = new Map();
  /** @type {Map<number, Function>} */
  #errorListeners = new Map();
  /** @type {Map<string, Map<number, Function>>} */
  #docListeners = new Map();
  /** @type {Map<string, Map<number, Function>>} */
  #resolvers = new Map();
  #nextListener = 1;
  /** @type {Map<number, Request>} */
  #requests = new Map();
  #nextKey = 1;
  #idPrefix = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');
  /**
   * Waiting for a link: emits and request keys, in the order they leave
   * (by priority, oldest first within one).
   * @type {Array<{name: string, payload: unknown, priority: 'high' | 'normal' | 'low'} | number>}
   */
  #outbox = [];
  /** @type {Map<string, Scope>} */
  #scopes = new Map();
  #nextUpdate = 1;
  #metrics = {
    connects: 0,
    reconnects: 0,
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    eventsDispatched: 0,
    timeouts: 0,
    volatileDropped: 0,
    lowDropped: 0,
    acksDropped: 0,
    /** @type {Record<string, number>} */
    errors: {},
    /** The simplified store has no gaps to heal nor resyncs beyond a join. */
    stateSync: { gaps: 0, resyncs: 0, rollbacks: 0, conflicts: 0 },
  };
  /** `inspect` listeners. @type {Array<{callback: Function | undefined}>} */
  #inspectors = [];
  #debug = false;
  /** The latest conflict per scope, for `inspectState`. @type {Map<string, object>} */
  #conflicts = new Map();

  /**
   * @param {unknown} [options] the AgentManager options (`url` optional)
   * @param {TestServer} [server]
   */
  constructor(options, server = new TestServer()) {
    this.#cfg = parseOptions(options);
    this.#debug = this.#cfg.debug;
    this.#server = server;
    this.#hub = new Hub((name, thrown) => this.#callbackThrew(name, thrown));
    const agent = this;
    server._attach({
      get linked() {
        return agent.#linked;
      },
      deliver: (name, args, question) => this.#inbound(name, args, question),
      linkLost: (reason) => this.#loseLink(reason),
      linkBack: () => this.#serverBack(),
      statePushed: (scope, version, doc) => this.#statePushed(scope, version, doc),
    });
  }

  // ----- connection ---------------------------------------------------------

  /** `'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed'`. */
  get state() {
    return /** @type {import('../index.js').AgentState} */ (this.#state);
  }

  /**
   * The transport of the connected link (the first of `transports`: the
   * test agent's server takes any), or undefined while not connected.
   * @returns {'websocket' | 'polling' | undefined}
   */
  get transport() {
    return this.#state === 'connected' ? this.#cfg.transports[0] : undefined;
  }

  /** While waiting out a reconnection backoff: when the next attempt starts (`Date.now()` ms); else null. */
  get nextReconnectAt() {
    return this.#reconnectTimer && this.#nextReconnectAt !== null ? this.#nextReconnectAt : undefined;
  }

  /** Requests not yet settled (in flight or buffered). */
  get pendingCount() {
    return this.#requests.size;
  }

  /** Live event subscriptions (`subscribe`, `once`, `subscribeAll`). */
  get subscriberCount() {
    return this.#hub.count;
  }

  /** Callbacks and Promises the agent holds; 0 after `close()`. For leak checks. */
  get heldCallbacks() {
    let n = this.#hub.count + this.#stateListeners.size + this.#errorListeners.size + this.#inspectors.length;
    for (const m of this.#docListeners.values()) n += m.size;
    for (const m of this.#resolvers.values()) n += m.size;
    n += this.#requests.size + this.#connectWaiters.length;
    for (const s of this.#scopes.values()) n += s.waiting.length + s.updates.length;
    if (typeof this.#cfg.auth === 'function' && !this.#released) n += 1;
    return n;
  }

  /** Connects; resolves once joined, rejects with CONNECT_REFUSED, TIMEOUT, DISCONNECTED, RECONNECT_FAILED or CLOSED. */
  connect() {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    /** @type {Promise<void>} */
    const promise = new Promise((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
    if (this.#state === 'connected') {
      this.#settleConnect(null);
      return promise;
    }
    if (this.#state === 'reconnecting' && this.#reconnectTimer) {
      // Asked again while waiting out the backoff (a Retry button): try now.
      this.#stopReconnectTimer();
      this.#startAttempt();
    } else if (this.#state === 'disconnected') {
      this.#wanted = true;
      this.#attempt = 0;
      this.#everJoined = false;
      this.#setState('connecting', 'io client connect');
      this.#startAttempt();
    }
    if (!this.#connectTimer) {
      const ms = this.#cfg.connectTimeout;
      this.#connectTimer = timer(() => {
        this.#connectTimer = null;
        if (!this.#connectWaiters.length) return;
        this.#countError('TIMEOUT');
        this.#settleConnect(agentError('TIMEOUT', `not connected within ${ms} ms; still trying`));
      }, ms);
    }
    return promise;
  }

  /** Leaves the server; no automatic reconnection. In-flight requests reject with DISCONNECTED; buffered emits wait for the next connect(). */
  disconnect() {
    if (this.#state === 'closed') return;
    this.#wanted = false;
    this.#stopReconnectTimer();
    this.#dropLink();
    this.#settleConnect(agentError('DISCONNECTED', 'disconnect() was called'));
    this.#failInFlight(false, 'disconnect() was called');
    this.#setState('disconnected', 'io client disconnect');
  }

  /** Ends the agent for good: pending requests reject with CLOSED and every callback is released. */
  close() {
    if (this.#released) return;
    this.#shutdown(true);
  }

  /** `close()` without calling listeners (wasm-bindgen's `free`). */
  free() {
    if (this.#released) return;
    this.#shutdown(false);
  }

  /** @param {boolean} tell whether the state listeners hear `closed` */
  #shutdown(tell) {
    this.#wanted = false;
    this.#stopReconnectTimer();
    this.#dropLink();
    const closed = this.#closedError();
    this.#settleConnect(closed);
    for (const key of [...this.#requests.keys()]) this.#settle(key, closed);
    this.#outbox = [];
    for (const s of this.#scopes.values()) {
      for (const w of s.waiting) w.reject(closed);
      for (const u of s.updates) u.reject(closed);
    }
    this.#scopes.clear();
    if (tell) this.#setState('closed', 'closed');
    else this.#state = 'closed';
    this.#released = true;
    this.#hub.clear();
    this.#stateListeners.clear();
    this.#errorListeners.clear();
    this.#docListeners.clear();
    this.#resolvers.clear();
    for (const entry of this.#inspectors) entry.callback = undefined;
    this.#inspectors = [];
    this.#debug = false;
  }

  #closedError() {
    return agentError('CLOSED', 'the manager is closed');
  }

  /** One connection attempt, a moment later (as a socket opens). */
  #startAttempt() {
    const no = ++this.#attemptNo;
    Promise.resolve()
      .then(() => this.#authFor())
      .then(
        (auth) => {
          if (no !== this.#attemptNo || !this.#wanted) return;
          const outcome = this.#server._join(auth);
          if ('down' in outcome) this.#attemptFailed('transport close');
          else if ('refused' in outcome) this.#refused(outcome.refused);
          else this.#joined();
        },
        (/** @type {unknown} */ thrown) => {
          if (no !== this.#attemptNo || !this.#wanted) return;
          const text = thrown instanceof Error ? thrown.message : String(thrown);
          this.#countError('AUTH_FAILED');
          this.#report(agentError('AUTH_FAILED', `auth failed: ${text}`));
          this.#attemptFailed('auth failed');
        },
      );
  }

  /** The CONNECT auth of an attempt: the object, or what the function gives (callback, value or Promise). */
  async #authFor() {
    const auth = this.#cfg.auth;
    if (typeof auth !== 'function') return auth;
    const given = await new Promise((resolve, reject) => {
      try {
        const returned = auth(resolve);
        if (returned !== undefined) Promise.resolve(returned).then(resolve, reject);
      } catch (err) {
        reject(err);
      }
    });
    if (!isObject(given)) throw new Error('auth must yield an object such as { token }');
    return /** @type {Record<string, unknown>} */ (given);
  }

  #joined() {
    const reconnect = this.#everJoined;
    this.#linked = true;
    this.#link += 1;
    this.#everJoined = true;
    this.#attempt = 0;
    this.#metrics.connects += 1;
    if (reconnect) this.#metrics.reconnects += 1;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#setState('connected', reconnect ? 'reconnected' : 'connected');
    this.#settleConnect(null);
    this.#flushOutbox();
    for (const scope of this.#scopes.keys()) this.#sendSubscribe(scope);
    this.#server._welcome(this.#cfg.query.userId ?? 'test-user');
  }

  /** @param {string} message the server's CONNECT_ERROR */
  #refused(message) {
    this.#wanted = false;
    const err = agentError('CONNECT_REFUSED', message);
    this.#countError('CONNECT_REFUSED');
    this.#settleConnect(err);
    for (const key of [...this.#requests.keys()]) this.#settle(key, err);
    this.#setState('disconnected', 'connect refused');
  }

  /** The link broke under a joined agent (server.drop()). @param {string} reason */
  #loseLink(reason) {
    if (!this.#linked) return;
    this.#linked = false;
    this.#attemptFailed(reason);
  }

  /** An attempt failed or the link was lost: reconnect with backoff, or give up. @param {string} reason */
  #attemptFailed(reason) {
    const reconnecting = this.#wanted && this.#cfg.reconnection;
    this.#failInFlight(reconnecting, reason);
    if (!reconnecting) {
      this.#wanted = false;
      this.#settleConnect(agentError('DISCONNECTED', reason));
      this.#setState('disconnected', reason);
      return;
    }
    const delay = this.#backoff(this.#attempt);
    if (delay === null) {
      this.#wanted = false;
      const message = `gave up after ${this.#attempt} reconnection attempts`;
      this.#settleConnect(agentError('RECONNECT_FAILED', message));
      for (const item of [...this.#outbox]) {
        if (typeof item === 'number') this.#settle(item, agentError('RECONNECT_FAILED', message));
      }
      this.#countError('RECONNECT_FAILED');
      this.#setState('disconnected', 'reconnect failed');
      return;
    }
    this.#attempt += 1;
    this.#nextReconnectAt = Date.now() + delay;
    this.#reconnectTimer = timer(() => {
      this.#reconnectTimer = null;
      this.#nextReconnectAt = null;
      if (this.#wanted && !this.#linked) this.#startAttempt();
    }, delay);
    this.#setState('reconnecting', reason);
  }

  /** socket.io-client's backoff, as core::Backoff computes it; null: no attempts left. @param {number} attempt */
  #backoff(attempt) {
    const { reconnectionDelay, reconnectionDelayMax, randomizationFactor, reconnectionAttempts } = this.#cfg;
    if (attempt >= reconnectionAttempts) return null;
    const base = reconnectionDelay * 2 ** Math.min(attempt, 62);
    const rand = Math.random();
    const deviation = Math.floor(rand * randomizationFactor * base);
    const jittered = Math.floor(rand * 10) % 2 === 0 ? base - deviation : base + deviation;
    return Math.max(0, Math.min(jittered, reconnectionDelayMax));
  }

  /** server.restore(): an agent waiting to reconnect tries at once (as the real one does when the browser comes back online). */
  #serverBack() {
    if (this.#wanted && !this.#linked && this.#reconnectTimer) {
      this.#stopReconnectTimer();
      this.#startAttempt();
    }
  }

  #stopReconnectTimer() {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#nextReconnectAt = null;
  }

  /** Leaves the server, if joined; an attempt under way is forgotten. */
  #dropLink() {
    this.#attemptNo += 1;
    if (this.#linked) this.#server._leave();
    this.#linked = false;
  }

  /** @param {Error | null} error */
  #settleConnect(error) {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  /** @param {string} state @param {string} reason */
  #setState(state, reason) {
    if (this.#state === state) return;
    this.#state = state;
    this.#tap({ type: 'state', state, reason, time: Date.now() });
    for (const listener of [...this.#stateListeners.values()]) {
      try {
        listener(state, reason);
      } catch (thrown) {
        this.#callbackThrew('state', thrown);
      }
    }
  }

  // ----- listeners ----------------------------------------------------------

  /** @param {Map<number, Function>} map @param {unknown} callback */
  #addListener(map, callback) {
    if (this.#released) throw this.#closedError();
    if (typeof callback !== 'function') throw new TypeError('a listener must be a function');
    const id = this.#nextListener++;
    map.set(id, callback);
    return () => {
      map.delete(id);
    };
  }

  /** `callback(state, reason)` on every state change; returns the unsubscribe function. @param {(state: any, reason: string) => void} callback */
  onStateChange(callback) {
    return this.#addListener(this.#stateListeners, callback);
  }

  /** `callback(error)` for errors no request owns; returns the unsubscribe function. @param {(error: any) => void} callback */
  onError(callback) {
    return this.#addListener(this.#errorListeners, callback);
  }

  /** @param {Error} error */
  #report(error) {
    for (const listener of [...this.#errorListeners.values()]) {
      try {
        listener(error);
      } catch {
        // An onError listener that throws has nobody left to tell.
      }
    }
  }

  /** @param {string} name @param {unknown} thrown */
  #callbackThrew(name, thrown) {
    const text = thrown instanceof Error ? thrown.message : typeof thrown === 'string' ? thrown : 'a non-Error value was thrown';
    this.#countError('CALLBACK_ERROR');
    this.#report(agentError('CALLBACK_ERROR', `a callback for ${JSON.stringify(name)} threw: ${text}`, { event: name, cause: thrown }));
  }

  /** @param {string} code */
  #countError(code) {
    this.#metrics.errors[code] = (this.#metrics.errors[code] ?? 0) + 1;
  }

  // ----- events -------------------------------------------------------------

  /** `callback(...args)` for every `name` event; returns the unsubscribe function. @param {string} name @param {(...args: any[]) => void} callback */
  subscribe(name, callback, options) {
    if (this.#released) throw this.#closedError();
    return this.#hub.add(String(name), callback, false, options);
  }

  /** `callback(...args)` for the next `name` event only; returns the unsubscribe function. @param {string} name @param {(...args: any[]) => void} callback */
  once(name, callback, options) {
    if (this.#released) throw this.#closedError();
    return this.#hub.add(String(name), callback, true, options);
  }

  /** Removes every subscription of `callback` to `name`; whether there was one. @param {string} name @param {any} callback */
  unsubscribe(name, callback) {
    return this.#hub.removeNamed(String(name), callback) > 0;
  }

  /**
   * `subscribeAll(callback)`: `callback(name, ...args)` for every event;
   * `subscribeAll(pattern, callback)`: for names matching `pattern` (a glob
   * with `*`, or a RegExp). Returns the unsubscribe function.
   * @param {any} pattern @param {(name: string, ...args: any[]) => void} [callback]
   */
  subscribeAll(pattern, callback) {
    if (this.#released) throw this.#closedError();
    if (callback === undefined) return this.#hub.add(null, pattern, false);
    return this.#hub.add(null, callback, false, undefined, matcher(pattern));
  }

  // ----- inspection ---------------------------------------------------------

  /**
   * `listener(record)` for every frame in and out and every state change,
   * as the real client's tap gives them (frames here are the Socket.IO text
   * the exchange would have been). Returns the unsubscribe function.
   * @param {(record: any) => void} listener
   */
  inspect(listener) {
    if (this.#released) throw this.#closedError();
    if (typeof listener !== 'function') throw agentError('INVALID_OPTIONS', 'inspect: the listener must be a function');
    const entry = { callback: /** @type {Function | undefined} */ (listener) };
    this.#inspectors = [...this.#inspectors, entry];
    return () => {
      entry.callback = undefined;
      this.#inspectors = this.#inspectors.filter((e) => e !== entry);
    };
  }

  /** Whether frames and state changes are logged to the console. */
  get debug() {
    return this.#debug;
  }

  set debug(on) {
    if (!this.#released) this.#debug = Boolean(on);
  }

  /** @param {any} record */
  #tap(record) {
    if (this.#debug) logRecord(record);
    for (const entry of this.#inspectors) {
      if (entry.callback === undefined) continue;
      try {
        entry.callback(record);
      } catch (thrown) {
        console.error('frinny-agent: an inspect listener threw', thrown);
      }
    }
  }

  /** A frame in or out, as its Socket.IO text. @param {'in' | 'out'} direction @param {string} prefix @param {unknown[]} items */
  #tapFrame(direction, prefix, items) {
    if (this.#inspectors.length === 0 && !this.#debug) return;
    this.#tap({ type: 'frame', direction, data: `${prefix}${JSON.stringify(items)}`, time: Date.now() });
  }

  /**
   * What the store holds for `scope` (or every scope), in the real client's shape.
   * @param {string} [scope]
   */
  inspectState(scope) {
    /** @param {string} name @param {Scope} s */
    const view = (name, s) => ({
      scope: name,
      version: s.version,
      confirmed: s.version === null ? null : wireCopy(s.confirmed),
      doc: s.version === null ? null : this.#view(s),
      pending: s.updates.map((u) => ({ id: u.id, patch: wireCopy(u.patch), optimistic: u.optimistic, inFlight: u.inFlight })),
      lastConflict: this.#conflicts.get(name) ?? null,
    });
    if (scope === undefined) return [...this.#scopes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, s]) => view(n, s));
    const s = this.#scopes.get(String(scope));
    return s ? view(String(scope), s) : undefined;
  }

  /** `callback({isTyping})` on every `typing_status` event. @param {(status: {isTyping: boolean}) => void} callback */
  onTypingStatus(callback) {
    return this.subscribe('typing_status', callback);
  }

  /**
   * An event from the server (server.emit, or server.emitWithAck with its
   * `question`).
   * @param {string} name @param {unknown[]} args
   * @param {import('./server.js').Question} [question]
   */
  #inbound(name, args, question) {
    this.#tapFrame('in', question ? `42${question.id}` : '42', [name, ...args]);
    this.#metrics.framesIn += 1;
    this.#metrics.bytesIn += wireSize([name, ...args]);
    const payload = /** @type {any} */ (args[0]);
    let owner;
    if (this.#requests.size && isReply(name) && isObject(payload) && payload.request_id != null) {
      owner = [...this.#requests].find(([, r]) => r.requestId === String(payload.request_id))?.[0];
    }
    if (owner !== undefined) {
      this.#settle(owner, name === 'error' ? serverError(payload) : null, payload);
    } else if (name === 'error') {
      this.#countError('SERVER_ERROR');
      this.#report(serverError(payload));
    }
    this.#metrics.eventsDispatched += 1;
    this.#hub.dispatch(name, question ? [...args, this.#ackFor(question)] : args);
  }

  /**
   * The `ack` every subscriber of a question gets, as the real client makes
   * it: the first call on the link the question came on answers; later
   * calls, and calls after that link ended, do nothing but count in
   * `acksDropped`. Args that cannot cross the wire throw INVALID_PAYLOAD and
   * leave the question open.
   * @param {import('./server.js').Question} question
   */
  #ackFor(question) {
    const link = this.#link;
    let open = true;
    return (/** @type {unknown[]} */ ...values) => {
      if (!open || link !== this.#link || !this.#linked) {
        this.#metrics.acksDropped += 1;
        return;
      }
      const copy = this.#onWire(values);
      open = false;
      this.#tapFrame('out', `43${question.id}`, copy);
      this.#metrics.framesOut += 1;
      this.#metrics.bytesOut += wireSize(copy);
      question.answer(copy);
    };
  }

  /** Fire and forget; buffered by priority while not connected unless `volatile`. @param {string} event @param {unknown} [payload] @param {{volatile?: boolean, priority?: 'high' | 'normal' | 'low'}} [options] */
  emit(event, payload, options) {
    const { volatile, priority } = emitOptions(options);
    if (this.#state === 'closed') throw this.#closedError();
    checkEventName(event);
    if (!this.#linked && volatile) {
      this.#metrics.volatileDropped += 1;
      return;
    }
    const copy = this.#onWire(payload);
    if (this.#linked) {
      this.#sendEvent(event, copy);
      return;
    }
    this.#makeRoom(priority);
    this.#enqueue({ name: event, payload: copy, priority }, priority);
  }

  /** @param {unknown} payload */
  #onWire(payload) {
    try {
      return wireCopy(payload);
    } catch (err) {
      throw agentError('INVALID_PAYLOAD', err instanceof Error ? err.message : String(err));
    }
  }

  /** @param {{priority: 'high' | 'normal' | 'low'} | number} item an emit or a request key */
  #priorityOf(item) {
    return typeof item === 'number' ? (this.#requests.get(item)?.priority ?? 'normal') : item.priority;
  }

  /**
   * Puts `item` in the outbox behind everything as urgent or more; with
   * `front`, before everything of its own priority (a retried request).
   * @param {{name: string, payload: unknown, priority: 'high' | 'normal' | 'low'} | number} item
   * @param {'high' | 'normal' | 'low'} priority
   */
  #enqueue(item, priority, front = false) {
    const rank = RANK[priority];
    const at = this.#outbox.findIndex((x) => (front ? RANK[this.#priorityOf(x)] >= rank : RANK[this.#priorityOf(x)] > rank));
    if (at === -1) this.#outbox.push(item);
    else this.#outbox.splice(at, 0, item);
  }

  /**
   * Room for one more item of `priority`: when the buffer is full, the
   * oldest low item is given up for a high or normal one (a request
   * settles BUFFER_FULL, an emit is reported to onError); else BUFFER_FULL.
   * @param {'high' | 'normal' | 'low'} priority
   */
  #makeRoom(priority) {
    if (this.#outbox.length < this.#cfg.bufferSize) return;
    const at = priority === 'low' ? -1 : this.#outbox.findIndex((x) => this.#priorityOf(x) === 'low');
    if (at === -1) {
      this.#countError('BUFFER_FULL');
      throw agentError('BUFFER_FULL', `not connected and ${this.#outbox.length} messages already wait`);
    }
    const [given] = this.#outbox.splice(at, 1);
    this.#metrics.lowDropped += 1;
    /** @param {string} what */
    const message = (what) => `the buffer is full (not connected): ${what} was dropped to make room for a more urgent one`;
    if (typeof given === 'number') {
      this.#settle(given, agentError('BUFFER_FULL', message('this low-priority request')));
    } else {
      this.#countError('BUFFER_FULL');
      this.#report(agentError('BUFFER_FULL', message(`the low-priority emit of ${JSON.stringify(given.name)}`)));
    }
  }

  /** @param {string} name @param {unknown} payload */
  #sendEvent(name, payload) {
    this.#tapFrame('out', '42', payload === undefined ? [name] : [name, payload]);
    this.#metrics.framesOut += 1;
    this.#metrics.bytesOut += wireSize([name, payload]);
    this.#server._event(name, payload);
  }

  #flushOutbox() {
    const items = this.#outbox;
    this.#outbox = [];
    for (const item of items) {
      if (typeof item === 'number') {
        const req = this.#requests.get(item);
        if (req) this.#sendRequest(item, req);
      } else {
        this.#sendEvent(item.name, item.payload);
      }
    }
  }

  // ----- requests -----------------------------------------------------------

  /**
   * Sends `event` with `payload` (an object; `request_id` is added) and
   * resolves with the server's answer. Rejects with TIMEOUT, ABORTED,
   * DISCONNECTED, SERVER_ERROR, BUFFER_FULL, INVALID_PAYLOAD, INVALID_OPTIONS,
   * RECONNECT_FAILED, CONNECT_REFUSED or CLOSED.
   * @param {string} event @param {Record<string, unknown>} [payload]
   * @param {{timeout?: number, signal?: AbortSignal, retry?: boolean, priority?: 'high' | 'normal' | 'low'}} [options]
   * @returns {Promise<any>}
   */
  request(event, payload, options) {
    try {
      return this.#request(event, payload, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** @param {string} event @param {unknown} payload @param {unknown} options */
  #request(event, payload, options) {
    const opts = requestOptions(options);
    if (opts.signal?.aborted) throw agentError('ABORTED', 'the request was aborted');
    if (this.#state === 'closed') throw this.#closedError();
    checkEventName(event);
    const body = payload === undefined ? {} : this.#onWire(payload);
    if (!isObject(body)) throw agentError('INVALID_PAYLOAD', 'a request payload must be a JSON object');
    if (!this.#linked) this.#makeRoom(opts.priority);
    const key = this.#nextKey++;
    const requestId = `${this.#idPrefix}-${key}`;
    return new Promise((resolve, reject) => {
      const ms = opts.timeout ?? this.#cfg.timeout;
      /** @type {Request} */
      const req = {
        event,
        payload: { ...body, request_id: requestId },
        requestId,
        retry: opts.retry,
        priority: opts.priority,
        retried: false,
        inFlight: false,
        link: 0,
        resolve,
        reject,
        timer: timer(() => {
          if (!this.#requests.has(key)) return;
          this.#metrics.timeouts += 1;
          this.#settle(key, agentError('TIMEOUT', `no reply to ${JSON.stringify(event)} in time`));
        }, ms),
        unhookAbort: null,
      };
      if (opts.signal) {
        const signal = opts.signal;
        const onAbort = () => this.#settle(key, agentError('ABORTED', 'the request was aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        req.unhookAbort = () => signal.removeEventListener('abort', onAbort);
      }
      this.#requests.set(key, req);
      if (this.#linked) this.#sendRequest(key, req);
      else this.#enqueue(key, opts.priority);
    });
  }

  /** @param {number} key @param {Request} req */
  #sendRequest(key, req) {
    req.inFlight = true;
    req.link = this.#link;
    this.#tapFrame('out', `42${key}`, [req.event, req.payload]);
    this.#metrics.framesOut += 1;
    this.#metrics.bytesOut += wireSize([req.event, req.payload]);
    this.#server._request(req.event, req.payload, (ok, value) => {
      const current = this.#requests.get(key);
      // An answer sent over a link that has gone since is lost with it.
      if (current !== req || !req.inFlight || req.link !== this.#link || !this.#linked) return;
      this.#tapFrame('in', `43${key}`, [ok ? value : { code: 'SERVER_ERROR', message: String(value?.message ?? value) }]);
      this.#metrics.framesIn += 1;
      if (ok) {
        let reply;
        try {
          reply = wireCopy(value);
        } catch (err) {
          this.#settle(key, agentError('PROTOCOL_ERROR', `the handler's answer cannot be sent: ${err instanceof Error ? err.message : err}`, { detail: 'INVALID_JSON' }));
          return;
        }
        this.#metrics.bytesIn += wireSize(reply);
        this.#settle(key, null, reply);
      } else {
        this.#settle(key, handlerError(value));
      }
    });
  }

  /**
   * Settles a request once: it leaves the table (and the outbox).
   * @param {number} key @param {Error | null} error @param {unknown} [value]
   */
  #settle(key, error, value) {
    const req = this.#requests.get(key);
    if (!req) return;
    this.#requests.delete(key);
    clearTimeout(req.timer);
    req.unhookAbort?.();
    if (!req.inFlight) this.#outbox = this.#outbox.filter((item) => item !== key);
    if (error) {
      this.#countError(/** @type {any} */ (error).code);
      req.reject(error);
    } else {
      req.resolve(value);
    }
  }

  /**
   * The link carrying the in-flight requests is gone: with `reconnecting`
   * those that asked for a retry (and had none yet) go back to the front of
   * the outbox, the rest reject with DISCONNECTED.
   * @param {boolean} reconnecting @param {string} reason
   */
  #failInFlight(reconnecting, reason) {
    const again = [];
    for (const [key, req] of [...this.#requests]) {
      if (!req.inFlight) continue;
      req.inFlight = false;
      if (reconnecting && req.retry && !req.retried) {
        req.retried = true;
        again.push(key);
      } else {
        this.#settle(key, agentError('DISCONNECTED', `link lost: ${reason}`));
      }
    }
    for (const key of again.reverse()) this.#enqueue(key, this.#priorityOf(key), true);
    for (const s of this.#scopes.values()) {
      for (const u of s.updates) u.inFlight = false;
    }
  }

  /** Relays `event` with `payload` to the whole table: a `broadcast` request. @param {string} event @param {any} payload */
  broadcastEvent(event, payload) {
    return this.request('broadcast', { event, payload });
  }

  // ----- metrics ------------------------------------------------------------

  /** A snapshot of the counters, in the shape of the real client's. */
  metrics() {
    const m = this.#metrics;
    return {
      state: this.state,
      connects: m.connects,
      reconnects: m.reconnects,
      framesIn: m.framesIn,
      framesOut: m.framesOut,
      bytesIn: m.bytesIn,
      bytesOut: m.bytesOut,
      eventsDispatched: m.eventsDispatched,
      pendingRequests: this.#requests.size,
      buffered: this.#outbox.length,
      timeouts: m.timeouts,
      volatileDropped: m.volatileDropped,
      errors: { ...m.errors },
      // No socket, so no ping, and dispatch is not timed.
      lastPingMs: null,
      dispatchP50Us: null,
      dispatchP99Us: null,
      subscribers: this.#hub.count,
      stateSync: { ...m.stateSync },
      transport: this.transport ?? null,
      upgrades: 0,
      bufferedByPriority: {
        high: this.#outbox.filter((x) => this.#priorityOf(x) === 'high').length,
        normal: this.#outbox.filter((x) => this.#priorityOf(x) === 'normal').length,
        low: this.#outbox.filter((x) => this.#priorityOf(x) === 'low').length,
      },
      lowDropped: m.lowDropped,
      // No socket, so never congested.
      congested: false,
      acksDropped: m.acksDropped,
    };
  }

  // ----- synced state -------------------------------------------------------

  /** Follows `scope` and resolves with its document once in step with the server. @param {string} scope */
  syncState(scope) {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    const s = this.#follow(String(scope));
    if (s.version !== null) return Promise.resolve(this.#view(s));
    return new Promise((resolve, reject) => s.waiting.push({ resolve, reject }));
  }

  /** `callback(doc, change)` whenever the document of `scope` changes; starts syncing it. @param {string} scope @param {(doc: any, change: any) => void} callback */
  subscribeState(scope, callback) {
    let map = this.#docListeners.get(String(scope));
    if (!map) {
      map = new Map();
      this.#docListeners.set(String(scope), map);
    }
    const off = this.#addListener(map, callback);
    this.#follow(String(scope));
    return off;
  }

  /** The document of `scope` as this client sees it (optimistic updates included), or undefined. @param {string} scope */
  getState(scope) {
    const s = this.#scopes.get(String(scope));
    return s && s.version !== null ? this.#view(s) : undefined;
  }

  /** Stops following `scope`; waiting syncState calls reject with UNSUBSCRIBED. @param {string} scope */
  unsyncState(scope) {
    const s = this.#scopes.get(String(scope));
    if (!s) return;
    this.#scopes.delete(String(scope));
    const stopped = agentError('UNSUBSCRIBED', 'unsyncState() was called');
    for (const w of s.waiting) w.reject(stopped);
    for (const u of s.updates) u.reject(agentError('UNSUBSCRIBED', 'the scope was unsubscribed'));
    if (this.#linked) this.request('state:unsubscribe', { scope }).catch(() => {});
  }

  /** The conflict resolver of `scope` (the latest set wins); returns the function that removes it. @param {string} scope @param {(local: any, server: any) => object | undefined | null} resolver */
  onConflict(scope, resolver) {
    let map = this.#resolvers.get(String(scope));
    if (!map) {
      map = new Map();
      this.#resolvers.set(String(scope), map);
    }
    return this.#addListener(map, resolver);
  }

  /**
   * Applies the merge patch to `scope` on the server (compare-and-set against
   * this client's version); resolves with `{version}`.
   * @param {string} scope @param {any} patch @param {{optimistic?: boolean}} [options]
   * @returns {Promise<{version: number}>}
   */
  updateState(scope, patch, options) {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    let body;
    try {
      body = patch === undefined ? null : this.#onWire(patch);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!isObject(body)) {
      return Promise.reject(agentError('INVALID_PAYLOAD', 'a state patch must be a JSON object (an RFC 7396 merge patch)'));
    }
    const s = this.#scopes.get(String(scope));
    if (!s) return Promise.reject(agentError('NOT_SYNCED', `scope \`${scope}\` is not synced: call syncState first`));
    if (s.version === null) return Promise.reject(agentError('NOT_SYNCED', `scope \`${scope}\` has no document yet: wait for syncState`));
    const optimistic = Boolean(/** @type {any} */ (options)?.optimistic === true);
    return new Promise((resolve, reject) => {
      /** @type {Update} */
      const update = { id: this.#nextUpdate++, patch: body, optimistic, inFlight: false, resubmits: 0, resolve, reject };
      s.updates.push(update);
      if (optimistic) this.#changed(String(scope), s, { type: 'optimistic', updateId: update.id, patch: wireCopy(body) });
      this.#pumpUpdates(String(scope));
    });
  }

  /**
   * Replaces the document of `scope` with `doc`: sends the merge patch from
   * the current document to `doc` as updateState does.
   * @param {string} scope @param {any} doc @param {{optimistic?: boolean}} [options]
   */
  replaceState(scope, doc, options) {
    if (!isObject(doc)) return Promise.reject(agentError('INVALID_PAYLOAD', 'replaceState: doc must be an object'));
    let patch;
    try {
      patch = mergeDiff(this.getState(scope) ?? {}, this.#onWire(doc));
    } catch (err) {
      return Promise.reject(/** @type {any} */ (err).code ? err : agentError('INVALID_PAYLOAD', /** @type {Error} */ (err).message));
    }
    return this.updateState(scope, patch, options);
  }

  /** @param {string} scope */
  #follow(scope) {
    let s = this.#scopes.get(scope);
    if (!s) {
      s = { version: null, confirmed: undefined, updates: [], waiting: [] };
      this.#scopes.set(scope, s);
      this.#sendSubscribe(scope);
    }
    return s;
  }

  /** The document with the optimistic updates laid over it. @param {Scope} s */
  #view(s) {
    let doc = s.confirmed;
    for (const u of s.updates) if (u.optimistic) doc = applyMergePatch(doc, u.patch);
    return wireCopy(doc);
  }

  /** @param {string} scope @param {Scope} s @param {Record<string, unknown>} change */
  #changed(scope, s, change) {
    const listeners = this.#docListeners.get(scope);
    if (!listeners?.size) return;
    for (const listener of [...listeners.values()]) {
      try {
        listener(this.#view(s), change);
      } catch (thrown) {
        this.#callbackThrew(scope, thrown);
      }
    }
  }

  /** `state:subscribe {scope, since?}`, when connected (a join sends it for every followed scope). @param {string} scope */
  #sendSubscribe(scope) {
    const s = this.#scopes.get(scope);
    if (!s || !this.#linked) return;
    const payload = s.version === null ? { scope } : { scope, since: s.version };
    this.request('state:subscribe', payload).then(
      (reply) => this.#onSubscribeReply(scope, s, reply),
      (/** @type {any} */ err) => {
        if (this.#scopes.get(scope) !== s || err.code === 'DISCONNECTED' || err.code === 'CLOSED') return;
        const failed = agentError(err.serverCode ?? err.code, err.message);
        for (const w of s.waiting.splice(0)) w.reject(failed);
      },
    );
  }

  /** @param {string} scope @param {Scope} s @param {any} reply */
  #onSubscribeReply(scope, s, reply) {
    if (this.#scopes.get(scope) !== s) return;
    if (isObject(reply) && Array.isArray(reply.patches) && s.version !== null) {
      for (const p of reply.patches) {
        if (p?.base !== s.version) continue;
        s.confirmed = applyMergePatch(s.confirmed, p.patch);
        s.version = p.version;
        this.#changed(scope, s, { type: 'patch', version: p.version, patch: p.patch });
      }
    } else if (isObject(reply) && 'doc' in reply) {
      // server.setState may have brought this version (or a later one) already.
      if (s.version === null || Number(reply.version) > s.version) {
        s.confirmed = reply.doc;
        s.version = Number(reply.version);
        this.#changed(scope, s, { type: 'snapshot', version: s.version });
      }
    } else {
      const err = agentError('PROTOCOL_ERROR', 'a state:subscribe reply without doc or patches');
      for (const w of s.waiting.splice(0)) w.reject(err);
      return;
    }
    for (const w of s.waiting.splice(0)) w.resolve(this.#view(s));
    this.#pumpUpdates(scope);
  }

  /** server.setState: a newer document of a followed scope. @param {string} scope @param {number} version @param {any} doc */
  #statePushed(scope, version, doc) {
    const s = this.#scopes.get(scope);
    if (!s || (s.version !== null && version <= s.version)) return;
    s.confirmed = doc;
    s.version = version;
    this.#changed(scope, s, { type: 'snapshot', version });
    for (const w of s.waiting.splice(0)) w.resolve(this.#view(s));
  }

  /** Sends the scope's next update, one at a time, each against the version held when it goes. @param {string} scope */
  #pumpUpdates(scope) {
    const s = this.#scopes.get(scope);
    if (!s || !this.#linked || s.version === null) return;
    const update = s.updates[0];
    if (!update || update.inFlight) return;
    update.inFlight = true;
    const base = s.version;
    const sent = { scope, base, patch: update.patch, id: `${this.#idPrefix}-u${update.id}` };
    this.request('state:update', sent).then(
      (reply) => this.#onUpdateReply(scope, s, update, reply),
      (/** @type {any} */ err) => {
        update.inFlight = false;
        if (this.#scopes.get(scope) !== s || err.code === 'CLOSED') return;
        // A lost link: the update goes again after the reconnect.
        if (err.code === 'DISCONNECTED') return;
        this.#dropUpdate(scope, s, update);
        update.reject(agentError(err.serverCode ?? err.code, err.message));
        this.#pumpUpdates(scope);
      },
    );
  }

  /** @param {string} scope @param {Scope} s @param {Update} update @param {any} reply */
  #onUpdateReply(scope, s, update, reply) {
    update.inFlight = false;
    if (this.#scopes.get(scope) !== s) return;
    if (isObject(reply) && reply.code === 'CONFLICT') {
      const local = applyMergePatch(s.confirmed, update.patch);
      s.confirmed = reply.doc;
      s.version = Number(reply.version);
      this.#metrics.stateSync.conflicts += 1;
      this.#conflicts.set(scope, { updateId: update.id, version: s.version, patch: wireCopy(update.patch), local: wireCopy(local), server: wireCopy(s.confirmed) });
      const resolvers = [...(this.#resolvers.get(scope)?.values() ?? [])];
      const resolver = resolvers.at(-1);
      let again;
      if (resolver && update.resubmits < MAX_RESUBMITS) {
        try {
          again = resolver(wireCopy(local), wireCopy(s.confirmed));
        } catch (thrown) {
          this.#callbackThrew(scope, thrown);
        }
      }
      if (isObject(again)) {
        update.patch = wireCopy(again);
        update.resubmits += 1;
        this.#changed(scope, s, { type: 'conflict', version: s.version, updateId: update.id });
      } else {
        this.#dropUpdate(scope, s, update, { type: 'conflict', version: s.version, updateId: update.id });
        update.reject(agentError('CONFLICT', `the server's version of \`${scope}\` won`));
      }
    } else if (isObject(reply) && typeof reply.code === 'string') {
      this.#dropUpdate(scope, s, update);
      update.reject(agentError(reply.code, String(reply.message ?? reply.error ?? reply.code)));
    } else {
      s.updates = s.updates.filter((u) => u !== update);
      s.confirmed = applyMergePatch(s.confirmed, update.patch);
      s.version = Number(reply?.version);
      this.#changed(scope, s, { type: 'patch', version: s.version, patch: wireCopy(update.patch) });
      update.resolve({ version: s.version });
    }
    this.#pumpUpdates(scope);
  }

  /**
   * An update that will not apply leaves; an optimistic one is rolled back.
   * @param {string} scope @param {Scope} s @param {Update} update @param {Record<string, unknown>} [change]
   */
  #dropUpdate(scope, s, update, change) {
    s.updates = s.updates.filter((u) => u !== update);
    if (change) this.#changed(scope, s, change);
    else if (update.optimistic) {
      this.#metrics.stateSync.rollbacks += 1;
      this.#changed(scope, s, { type: 'rollback', updateId: update.id });
    }
  }
}

// sendQuery, notify*, submitFeedback and defineEvents (an `events:define`
// request the test server checks as the reference server does: `server.role`
// must be 'gm'; it resolves with {ok, defined, count}): requests, as in the
// wasm class.
addFrinnyHelpers(TestAgent);

if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(TestAgent.prototype, Symbol.dispose, {
    value() {
      this.free();
    },
    configurable: true,
    writable: true,
  });
}

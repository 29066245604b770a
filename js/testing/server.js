// The test server: what a test uses to play the backend's part for one
// test agent. It records what the client sent, answers requests through
// handlers, pushes events and synced state, and can lose the link and
// bring it back. No socket is involved; everything crosses a simulated
// wire (wire.js), so the two sides never share objects.

import { CustomEvents, isCustom } from './custom_events.js';
import { agentError } from './errors.js';
import { applyMergePatch } from './merge_patch.js';
import { isObject, wireCopy } from './wire.js';

/**
 * What the agent side of the link offers the server (agent.js).
 * @typedef {object} Peer
 * @property {boolean} linked whether the agent has joined over a live link
 * @property {(name: string, args: unknown[], question?: Question) => void} deliver an event from the server (with `question` when it asks for an answer)
 * @property {(reason: string) => void} linkLost the link broke
 * @property {() => void} linkBack the server is reachable again
 * @property {(scope: string, version: number, doc: unknown) => void} statePushed a scope's new document
 */

/** @typedef {{name: string, payload: any}} Received */

/**
 * An event's question to the agent (`emitWithAck`): its ack id, as on the
 * wire, and where the answer goes (called once at most).
 * @typedef {{id: number, answer: (args: unknown[]) => void}} Question
 */

export class TestServer {
  /** @type {Map<string, Function>} */
  #handlers = new Map();
  /** @type {Peer | null} */
  #peer = null;
  #up = true;
  /** @type {string | null} */
  #refusal = null;
  /** @type {Map<string, {version: number, doc: any}>} */
  #scopes = new Map();
  /** Scopes the connected agent follows (forgotten with the link, as a socket's are). */
  #watched = new Set();
  /** Versions made by each applied update id, so a re-sent update is acked, not applied twice. @type {Map<string, number>} */
  #applied = new Map();
  #sessions = 0;
  #custom = new CustomEvents();
  /** The `emitWithAck` Promises waiting for an answer, by their reject. @type {Set<(error: Error) => void>} */
  #questions = new Set();
  /** The ack id of the next question, as a socket.io server numbers them. */
  #nextAckId = 0;

  constructor() {
    /** Everything the client sent, in order: `{name, payload}` (requests carry their `request_id`). @type {Received[]} */
    this.received = [];
    /** The CONNECT auth of the latest connection attempt (the `auth` option, or what its function gave). @type {Record<string, unknown> | undefined} */
    this.auth = undefined;
    /** The agent's role as the server sees it: `'gm'` (the default) may `defineEvents`, `'player'` is refused with FORBIDDEN. @type {'gm' | 'player'} */
    this.role = 'gm';
  }

  /** The custom events declared with `defineEvents` (copies), in the order first declared. */
  get customEvents() {
    return this.#custom.list();
  }

  /** Whether the agent is connected to this server now. */
  get connected() {
    return Boolean(this.#peer?.linked);
  }

  /** Whether the server is reachable (false between `drop()` and `restore()`). */
  get reachable() {
    return this.#up;
  }

  /**
   * Delivers a server event to the agent's subscribers, as the backend
   * would push it. A `*_response` or `error` event whose payload carries a
   * waiting request's `request_id` answers that request, as it does for the
   * real client. Returns whether it was delivered: an event sent while the
   * agent is not connected is lost, as on a real socket.
   * @param {string} name
   * @param {...unknown} args the payload (usually one)
   */
  emit(name, ...args) {
    if (typeof name !== 'string') throw new TypeError('server.emit(name, payload): name must be a string');
    if (!this.#peer?.linked) return false;
    this.#peer.deliver(name, args.map(wireCopy));
    return true;
  }

  /**
   * Delivers a server event that asks for an answer, as a Node server's
   * `socket.emitWithAck` (python-socketio's `call`): the subscribers get an
   * `ack` function as their last argument, and the Promise resolves with
   * the first argument of the first `ack` call (a copy, as the wire would
   * carry it). It rejects with DISCONNECTED when the agent is not connected,
   * or when the link ends before the answer (the real server's question
   * dies with its socket, and a late `ack` goes nowhere).
   * @param {string} name
   * @param {...unknown} args the payload (usually one)
   * @returns {Promise<any>}
   */
  emitWithAck(name, ...args) {
    if (typeof name !== 'string') throw new TypeError('server.emitWithAck(name, payload): name must be a string');
    if (!this.#peer?.linked) {
      return Promise.reject(agentError('DISCONNECTED', 'the agent is not connected: nobody can answer'));
    }
    const copies = args.map(wireCopy);
    return new Promise((resolve, reject) => {
      /** @param {Error} error */
      const fail = (error) => reject(error);
      this.#questions.add(fail);
      const question = {
        id: this.#nextAckId++,
        /** @param {unknown[]} answer */
        answer: (answer) => {
          if (this.#questions.delete(fail)) resolve(answer[0]);
        },
      };
      this.#peer?.deliver(name, copies, question);
    });
  }

  /**
   * Answers every request named `name` with `fn(payload)`'s return value
   * (or what its Promise resolves to). A throw or rejection rejects the
   * request: with the thrown error's `code` when it is one of the client's
   * own (`TIMEOUT`, `DISCONNECTED`, ...), otherwise with `SERVER_ERROR`
   * carrying the thrown `code` (say `RATE_LIMITED`) as `serverCode`, as the
   * real client reports a server's refusal. The latest handler of a name
   * wins; returns the function that removes it.
   * @param {string} name
   * @param {(payload: any) => unknown} fn
   */
  handle(name, fn) {
    if (typeof name !== 'string') throw new TypeError('server.handle(name, fn): name must be a string');
    if (typeof fn !== 'function') throw new TypeError('server.handle(name, fn): fn must be a function');
    this.#handlers.set(name, fn);
    return () => {
      if (this.#handlers.get(name) === fn) this.#handlers.delete(name);
    };
  }

  /**
   * The link is lost (as when the backend goes away): the agent reports
   * `reconnecting` (or `disconnected` with `reconnection: false`), rejects
   * in-flight requests with DISCONNECTED (or keeps those that asked for
   * `retry`) and buffers what is sent meanwhile. Its reconnection attempts
   * fail until `restore()`.
   */
  drop() {
    if (!this.#up) return;
    this.#up = false;
    this.#watched.clear();
    this.#forgetQuestions('the link was lost');
    this.#peer?.linkLost('transport close');
  }

  /**
   * The backend is back: an agent waiting to reconnect does so at once
   * (the real one would at its next attempt), then sends what it buffered
   * and catches its synced scopes up.
   */
  restore() {
    if (this.#up) return;
    this.#up = true;
    this.#peer?.linkBack();
  }

  /**
   * Refuses the next connection attempts as a server's CONNECT_ERROR does
   * (`connect()` rejects with CONNECT_REFUSED and `message`), until called
   * with `null`.
   * @param {string | null} message
   */
  refuse(message) {
    this.#refusal = message == null ? null : String(message);
  }

  /**
   * Replaces the document of `scope` (a new version), as another client's
   * update or the backend's `/state/update` would; an agent following the
   * scope sees it at once (`subscribeState` callbacks get it with
   * `{type: 'snapshot', version}`). Returns the new version.
   * @param {string} scope
   * @param {Record<string, unknown>} doc
   */
  setState(scope, doc) {
    if (typeof scope !== 'string') throw new TypeError('server.setState(scope, doc): scope must be a string');
    if (!isObject(doc)) throw new TypeError('server.setState(scope, doc): doc must be an object');
    const s = this.#scope(scope);
    s.version += 1;
    s.doc = wireCopy(doc);
    if (this.#watched.has(scope) && this.#peer?.linked) this.#peer.statePushed(scope, s.version, wireCopy(s.doc));
    return s.version;
  }

  /**
   * The server's copy of `scope`: `{version, doc}`, or undefined if nobody
   * set or followed it yet.
   * @param {string} scope
   */
  state(scope) {
    const s = this.#scopes.get(scope);
    return s && { version: s.version, doc: wireCopy(s.doc) };
  }

  // ----- the agent's side of the link (not for tests) ----------------------

  /** @param {Peer} peer @internal */
  _attach(peer) {
    this.#peer = peer;
  }

  /**
   * A connection attempt with its CONNECT auth.
   * @param {Record<string, unknown> | undefined} auth
   * @returns {{ok: true} | {refused: string} | {down: true}}
   * @internal
   */
  _join(auth) {
    if (!this.#up) return { down: true };
    this.auth = auth === undefined ? undefined : wireCopy(auth);
    if (this.#refusal !== null) return { refused: this.#refusal };
    this.#watched.clear();
    return { ok: true };
  }

  /**
   * The agent joined: the Frinny backend greets every socket with
   * `connection_established`.
   * @param {string} userId @internal
   */
  _welcome(userId) {
    this.#sessions += 1;
    this.emit('connection_established', {
      status: 'connected',
      endpoints: [],
      userId,
      sid: `test-sid-${this.#sessions}`,
      timestamp: Date.now(),
      customEvents: this.#custom.list().map((s) => s.name).sort(),
    });
  }

  /** The agent left (disconnect, close). @internal */
  _leave() {
    this.#watched.clear();
    this.#forgetQuestions('the agent left');
  }

  /** The link ended: its questions can never be answered. @param {string} why */
  #forgetQuestions(why) {
    const waiting = [...this.#questions];
    this.#questions.clear();
    for (const fail of waiting) fail(agentError('DISCONNECTED', `no answer: ${why}`));
  }

  /** A fire-and-forget event. @param {string} name @param {unknown} payload @internal */
  _event(name, payload) {
    this.received.push({ name, payload: wireCopy(payload) });
    // A custom event is checked against its declaration, as the reference
    // server does; a refusal comes back as `error` (nobody else is there
    // to relay it to).
    const refusal = isCustom(name) ? this.#custom.check(name, payload) : null;
    if (refusal) this.emit('error', { ...refusal, timestamp: Date.now() });
  }

  /**
   * A request; `answer(ok, value)` is called once, later, unless nothing
   * handles it (then it waits, as for a server that never replies).
   * @param {string} name @param {unknown} payload
   * @param {(ok: boolean, value: unknown) => void} answer
   * @internal
   */
  _request(name, payload, answer) {
    const copy = wireCopy(payload);
    this.received.push({ name, payload: copy });
    const refusal = isCustom(name) ? this.#custom.check(name, copy) : null;
    if (refusal) {
      Promise.resolve().then(() => answer(false, { code: 'SERVER_ERROR', serverCode: refusal.code, message: refusal.message }));
      return;
    }
    const handler = this.#handlers.get(name) ?? this.#builtIn(name);
    if (!handler) return;
    Promise.resolve()
      .then(() => handler(copy))
      .then(
        (value) => answer(true, value),
        (thrown) => answer(false, thrown),
      );
  }

  /**
   * What the reference server answers by itself when the test set no
   * handler: the broadcast relay (to nobody else), the state protocol,
   * `events:define` and a declared custom event's ack.
   * @param {string} name
   * @returns {((payload: any) => unknown) | undefined}
   */
  #builtIn(name) {
    if (isCustom(name)) return () => ({ ok: true, event: name, recipients: 0 });
    switch (name) {
      case 'events:define':
        return (p) => {
          try {
            return this.#custom.define(p, this.role);
          } catch (refusal) {
            const r = /** @type {any} */ (refusal);
            throw Object.assign(new Error(r.message), { code: 'SERVER_ERROR', serverCode: r.code });
          }
        };
      case 'broadcast':
        return (p) => ({ ok: true, event: p?.event, recipients: 0 });
      case 'state:subscribe':
        return (p) => this.#subscribe(p);
      case 'state:update':
        return (p) => this.#update(p);
      case 'state:unsubscribe':
        return (p) => {
          this.#watched.delete(p?.scope);
          return { scope: p?.scope };
        };
      default:
        return undefined;
    }
  }

  /** @param {string} scope */
  #scope(scope) {
    let s = this.#scopes.get(scope);
    if (!s) {
      s = { version: 0, doc: {} };
      this.#scopes.set(scope, s);
    }
    return s;
  }

  /** `state:subscribe {scope, since?}`: the missed versions (none kept: a snapshot) or nothing new. @param {any} p */
  #subscribe(p) {
    const s = this.#scope(String(p?.scope));
    this.#watched.add(String(p?.scope));
    if (p?.since === s.version) return { scope: p.scope, version: s.version, patches: [] };
    return { scope: p?.scope, version: s.version, doc: wireCopy(s.doc) };
  }

  /** `state:update {scope, base, patch, id}`: compare-and-set, as the server does. @param {any} p */
  #update(p) {
    const s = this.#scope(String(p?.scope));
    const done = typeof p?.id === 'string' ? this.#applied.get(p.id) : undefined;
    if (done !== undefined) return { scope: p.scope, base: p.base, version: done };
    if (p?.base !== s.version) {
      return { code: 'CONFLICT', message: 'the scope changed since your base version', scope: p?.scope, version: s.version, doc: wireCopy(s.doc) };
    }
    s.doc = applyMergePatch(s.doc, p.patch);
    s.version += 1;
    if (typeof p.id === 'string') this.#applied.set(p.id, s.version);
    return { scope: p.scope, base: p.base, version: s.version };
  }
}

// The tab side of `shareAcrossTabs`: `SharedAgentManager` has the public
// surface of `AgentManager` and speaks to the real manager in a SharedWorker
// (worker.js, hub.js) over one MessagePort. The package entry hands one out
// from `new AgentManager({ ..., shareAcrossTabs: true })` where
// `SharedWorker` exists.
//
// What stays in the tab: this tab's subscriptions (filters, once, patterns),
// its listeners, its pending calls (each settles here exactly once), its
// intent (connect/disconnect) and, for `auth` as a function, the function
// itself (the worker asks for its answer). What the worker holds: the socket,
// the core, the synced documents.
import { AgentManager as LocalAgentManager } from '../../pkg/frinny_agent.js';
import { coded, errorFromData, errorToData, SHARE_UNSUPPORTED, workerOptions } from './protocol.js';
import { addFrinnyHelpers } from '../frinny_helpers.js';
import { TabListeners } from './listeners.js';
import { localOptions } from './options.js';
import { wasmLocation } from './wasm_location.js';
// `debug` logs here, as a local manager would: the worker's console is not the page's.
import { logRecord } from '../debug_log.js';

/** The SharedWorker could not start, or could not load the wasm. */
export const WORKER_FAILED = 'WORKER_FAILED';

/** Request options a tab may give (`signal` stays in the tab). */
const REQUEST_OPTIONS = new Set(['timeout', 'signal', 'retry', 'priority']);

/**
 * The realtime link to a Frinny backend, shared with the other tabs of this
 * browser through a SharedWorker: one connection for every tab that gives
 * the same options. Same methods and properties as `AgentManager`, except
 * `onConflict` and `inspectState`, which throw SHARE_UNSUPPORTED.
 */
export class SharedAgentManager {
  #shared;
  #workerUrl;
  #auth;
  #listeners;
  /** @type {MessagePort | undefined} */
  #port;
  #worker;
  #calls = new Map();
  #nextId = 1;
  #wants = false;
  #closed = false;
  #status = { state: 'disconnected', transport: undefined, nextReconnectAt: null };
  #visible = 'disconnected';
  #metrics = {};
  #docs = new Map();
  #scopes = new Set();
  #inspectors = 0;
  #debugOff;
  #heartbeat;
  #silenceMs = 120_000;
  #lastHeard = 0;
  #pageHide;
  #pageShow;
  /** @type {Error | undefined} */
  #failure;

  /**
   * Throws INVALID_OPTIONS for options a local `AgentManager` would refuse.
   * @param {Record<string, unknown>} options as for `AgentManager`, with `shareAcrossTabs: true`
   */
  constructor(options) {
    // The wasm reads the options exactly as a local manager would; the
    // probe is never connected and is freed at once.
    new LocalAgentManager(localOptions(options)).free();
    this.#shared = workerOptions(options);
    this.#workerUrl = options.sharedWorkerUrl === undefined || options.sharedWorkerUrl === null ? undefined : String(options.sharedWorkerUrl);
    this.#auth = typeof options.auth === 'function' ? options.auth : undefined;
    this.#listeners = new TabListeners({
      onNames: (name, on) => this.#post({ t: 'listen', name, on }),
      onAll: (on) => this.#post({ t: 'listenAll', on }),
      thrown: (error) => this.#listeners.notify('error', 'error', [error]),
    });
    if (options.debug === true) this.debug = true;
    this.#pageHide = () => this.#detach('the page was hidden');
    this.#pageShow = (event) => {
      if (event.persisted && this.#port === undefined && !this.#closed) this.#attach();
    };
    globalThis.addEventListener?.('pagehide', this.#pageHide);
    globalThis.addEventListener?.('pageshow', this.#pageShow);
    this.#attach();
  }

  /** Always true: this manager shares its connection across tabs. */
  get sharedAcrossTabs() {
    return true;
  }

  // ---- the port ----

  #attach() {
    this.#failure = undefined;
    try {
      // Written out in full so that bundlers (Vite) see the worker and build
      // it. The name is part of a SharedWorker's identity: it carries the
      // version of the messages (bump it when they change), so a tab never
      // joins a worker of another version still running for an older tab.
      this.#worker = this.#workerUrl === undefined
        ? new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'frinny-agent-share-1' })
        : new SharedWorker(this.#workerUrl, { type: 'module', name: 'frinny-agent-share-1' });
    } catch (e) {
      this.#fail(coded(WORKER_FAILED, `the SharedWorker could not start: ${e?.message ?? e}`));
      return;
    }
    const worker = this.#worker;
    worker.addEventListener('error', () => {
      // A worker left behind by an earlier attach is no concern of this one.
      if (this.#worker === worker) this.#fail(coded(WORKER_FAILED, 'the SharedWorker script failed to load'));
    });
    const port = worker.port;
    this.#port = port;
    this.#lastHeard = Date.now();
    port.onmessage = ({ data }) => {
      if (this.#port === port) this.#receive(data);
    };
    this.#post({
      t: 'hello',
      options: this.#shared,
      authFunction: this.#auth !== undefined,
      wants: this.#wants,
      names: this.#listeners.names,
      all: this.#listeners.all.length > 0,
      scopes: [...this.#scopes],
      inspecting: this.#inspectors > 0,
      wasm: wasmLocation(),
    });
  }

  /** Leaves the worker: a goodbye, and this tab's pending calls reject with DISCONNECTED. */
  #detach(reason) {
    const port = this.#port;
    if (port === undefined) return;
    this.#post({ t: 'bye' });
    this.#port = undefined;
    port.onmessage = null;
    port.close();
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#rejectAll(() => coded('DISCONNECTED', `the shared connection was left: ${reason}`));
    this.#status = { state: 'disconnected', transport: undefined, nextReconnectAt: null };
    this.#update(reason);
  }

  /** The worker could not be reached: what waits rejects, onError hears it, later calls reject with it. */
  #fail(error) {
    this.#failure = error;
    const port = this.#port;
    this.#port = undefined;
    if (port !== undefined) {
      port.onmessage = null;
      port.close();
    }
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#rejectAll(() => error);
    this.#listeners.notify('error', 'error', [error]);
  }

  /** Why this tab has no port: the worker's failure, or a page that is hidden. */
  #unattached() {
    return this.#failure ?? coded('DISCONNECTED', 'this tab is not attached to the shared worker');
  }

  /** Posts to the worker; a message the structured clone cannot copy throws INVALID_PAYLOAD. */
  #post(message) {
    if (this.#port === undefined) return false;
    try {
      this.#port.postMessage(message);
    } catch (e) {
      throw coded('INVALID_PAYLOAD', `it cannot be sent to the shared worker: ${e?.message ?? e}`);
    }
    return true;
  }

  #receive(m) {
    this.#lastHeard = Date.now();
    switch (m?.t) {
      case 'welcome':
        if (m.error !== undefined) return this.#fail(errorFromData(m.error));
        this.#silenceMs = m.silenceMs ?? this.#silenceMs;
        this.#startHeartbeat(m.heartbeatMs);
        this.#metrics = m.metrics ?? {};
        return this.#setStatus(m.status, 'joined the shared connection');
      case 'status':
        return this.#setStatus(m, m.reason);
      case 'pong':
        this.#metrics = m.metrics ?? this.#metrics;
        return this.#setStatus(m.status, undefined);
      case 'event':
        if (this.#wants) this.#listeners.deliver(m.name, m.args, this.#ack(m.ack));
        return;
      case 'any':
        if (this.#wants) this.#listeners.deliverAll(m.name, m.args, this.#ack(m.ack));
        return;
      case 'settle':
        return this.#settle(m);
      case 'error':
        return this.#listeners.notify('error', 'error', [errorFromData(m.error)]);
      case 'doc':
        if (this.#scopes.has(m.scope)) this.#docs.set(m.scope, m.doc);
        return this.#listeners.notify('doc', m.scope, [m.doc, m.change]);
      case 'record':
        return this.#listeners.notify('inspect', '', [m.record]);
      case 'askAuth':
        return this.#answerAuth(m.id);
      case 'dropped':
        // The worker gave up on this port (it was silent too long): join again.
        this.#detach('the shared worker dropped this tab');
        if (!this.#closed) this.#attach();
        return;
      default:
    }
  }

  #startHeartbeat(ms) {
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      if (Date.now() - this.#lastHeard > this.#silenceMs) {
        // The worker stopped answering (it crashed, or was ended): start it again.
        this.#detach('the shared worker stopped answering');
        if (!this.#closed) this.#attach();
        return;
      }
      this.#post({ t: 'ping' });
    }, Math.max(100, Number(ms) || 10_000));
  }

  /** The `ack` function of a server question `ack` (a number), or undefined. */
  #ack(ack) {
    if (ack === undefined) return undefined;
    let answered = false;
    return (...args) => {
      if (answered) return;
      this.#post({ t: 'ack', ack, args });
      answered = true;
    };
  }

  #answerAuth(id) {
    let done = false;
    const answer = (ok, value) => {
      if (done) return;
      done = true;
      try {
        this.#post(ok ? { t: 'auth', id, ok, value } : { t: 'auth', id, ok, error: errorToData(value) });
      } catch (e) {
        this.#post({ t: 'auth', id, ok: false, error: errorToData(e) });
      }
    };
    try {
      const r = this.#auth((value) => answer(true, value));
      if (r !== undefined) Promise.resolve(r).then((v) => answer(true, v), (e) => answer(false, e));
    } catch (e) {
      answer(false, e);
    }
  }

  // ---- state ----

  #setStatus(status, reason) {
    if (status === undefined) return;
    this.#status = { state: status.state, transport: status.transport, nextReconnectAt: status.nextReconnectAt ?? null };
    this.#update(reason ?? 'shared connection');
  }

  /** Recomputes the state this tab shows; listeners hear a change. */
  #update(reason) {
    const visible = this.#closed ? 'closed' : this.#wants ? this.#status.state : 'disconnected';
    if (visible === this.#visible) return;
    this.#visible = visible;
    this.#listeners.notify('state', 'state', [visible, reason]);
  }

  /** `'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed'`, as this tab sees the link. */
  get state() {
    return this.#visible;
  }

  /** `'websocket' | 'polling'` while connected, else undefined. */
  get transport() {
    return this.#visible === 'connected' ? this.#status.transport : undefined;
  }

  /** When the shared manager's next reconnection attempt starts (`Date.now()` ms), or undefined. */
  get nextReconnectAt() {
    return this.#wants && typeof this.#status.nextReconnectAt === 'number' ? this.#status.nextReconnectAt : undefined;
  }

  /** This tab's calls not yet settled. */
  get pendingCount() {
    let n = 0;
    for (const call of this.#calls.values()) if (call.method !== 'connect') n++;
    return n;
  }

  /** This tab's live event subscriptions. */
  get subscriberCount() {
    return this.#listeners.count;
  }

  /** What this tab holds: subscriptions, listeners, pending Promises, an auth function; 0 after close(). */
  get heldCallbacks() {
    if (this.#closed) return 0;
    return this.#listeners.held + this.#calls.size + (this.#auth === undefined ? 0 : 1);
  }

  /** The shared manager's counters as of the last heartbeat, with this tab's own pending and subscriber counts. */
  metrics() {
    return {
      ...this.#metrics,
      state: this.#visible,
      transport: this.transport ?? null,
      pendingRequests: this.pendingCount,
      subscribers: this.subscriberCount,
    };
  }

  /** Logs frames and state changes to this page's console. */
  get debug() {
    return this.#debugOff !== undefined;
  }

  set debug(on) {
    if (Boolean(on) === this.debug || this.#closed) return;
    if (on) this.#debugOff = this.inspect(logRecord);
    else {
      this.#debugOff();
      this.#debugOff = undefined;
    }
  }

  // ---- calls ----

  /** Posts a call and returns its Promise, settled once, here. */
  #call(method, args, extra = {}) {
    if (this.#closed) return Promise.reject(coded('CLOSED', 'the manager is closed'));
    if (this.#port === undefined) return Promise.reject(this.#unattached());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { method, resolve, reject, ...extra });
      try {
        this.#post(method === 'connect' ? { t: 'connect', id } : { t: 'call', id, method, args });
      } catch (e) {
        this.#calls.delete(id);
        reject(e);
      }
    });
  }

  #settle({ id, ok, value, error }) {
    const call = this.#calls.get(id);
    if (call === undefined) return;
    this.#calls.delete(id);
    call.release?.();
    if (!ok) return call.reject(errorFromData(error));
    if (call.method === 'syncState' && this.#scopes.has(call.scope)) this.#docs.set(call.scope, value);
    call.resolve(value);
  }

  /** Rejects this tab's pending calls that `which` picks (all by default). */
  #rejectAll(error, which = () => true) {
    for (const [id, call] of [...this.#calls]) {
      if (!which(call)) continue;
      this.#calls.delete(id);
      call.release?.();
      call.reject(error());
    }
  }

  /** Connects this tab: resolves once the shared link has joined the namespace. */
  connect() {
    if (this.#closed) return Promise.reject(coded('CLOSED', 'the manager is closed'));
    this.#wants = true;
    const promise = this.#call('connect', []);
    this.#update('connect() called');
    return promise;
  }

  /**
   * This tab no longer wants the link: it stops hearing events and its
   * in-flight requests reject with DISCONNECTED. The shared link stays up
   * while another tab wants it.
   */
  disconnect() {
    if (this.#closed || !this.#wants) return;
    this.#wants = false;
    for (const [id, call] of this.#calls) if (call.method === 'request') this.#post({ t: 'abort', id });
    this.#rejectAll(() => coded('DISCONNECTED', 'disconnected by the caller'), (call) => call.method === 'request' || call.method === 'connect');
    this.#post({ t: 'disconnect' });
    this.#update('disconnected by the caller');
  }

  /** Ends this tab's manager: its calls reject with CLOSED, its listeners are released; the shared link closes with its last tab. */
  close() {
    this.#end(true);
  }

  /** As `close()`, without calling listeners. */
  free() {
    this.#end(false);
  }

  #end(notify) {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectAll(() => coded('CLOSED', 'the manager is closed'));
    if (notify) this.#update('closed by the caller');
    this.#visible = 'closed';
    this.#debugOff = undefined;
    this.#listeners.clear();
    this.#detach('closed');
    this.#auth = undefined;
    globalThis.removeEventListener?.('pagehide', this.#pageHide);
    globalThis.removeEventListener?.('pageshow', this.#pageShow);
  }

  /**
   * Sends `event` and resolves with the reply, on this tab only. Options
   * `{timeout, signal, retry, priority}` as for a local manager.
   */
  request(event, payload, options) {
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') return Promise.reject(coded('INVALID_OPTIONS', 'request options must be an object { timeout, signal, retry, priority }'));
      for (const key of Object.keys(options)) {
        if (!REQUEST_OPTIONS.has(key)) return Promise.reject(coded('INVALID_OPTIONS', `unknown request option ${JSON.stringify(key)}`));
      }
    }
    const { signal, ...rest } = options ?? {};
    if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) {
      return Promise.reject(coded('INVALID_OPTIONS', 'request option signal must be an AbortSignal'));
    }
    if (signal?.aborted) return Promise.reject(coded('ABORTED', 'the request was aborted'));
    const id = this.#nextId;
    let onAbort;
    const release = () => signal?.removeEventListener('abort', onAbort);
    const promise = this.#call('request', [event, payload, rest], { release });
    if (signal && this.#calls.has(id)) {
      onAbort = () => {
        const call = this.#calls.get(id);
        if (call === undefined) return;
        this.#calls.delete(id);
        release();
        this.#post({ t: 'abort', id });
        call.reject(coded('ABORTED', 'the request was aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
    return promise;
  }

  /** Fire and forget through the shared link; what the worker's emit throws (BUFFER_FULL, ...) goes to onError. */
  emit(event, payload, options) {
    if (this.#closed) throw coded('CLOSED', 'the manager is closed');
    if (!this.#post({ t: 'emit', event, payload, options })) throw this.#unattached();
  }

  /** `broadcast {event, payload}`, resolved by the server's ack. */
  broadcastEvent(event, payload) {
    return this.request('broadcast', { event, payload });
  }

  // ---- subscriptions and listeners ----

  #live() {
    if (this.#closed) throw coded('CLOSED', 'the manager is closed');
  }

  /** Calls `callback(...args)` for every `name` event this tab hears. Returns the unsubscribe function. */
  subscribe(name, callback, options) {
    this.#live();
    return this.#listeners.add(String(name), callback, false, options);
  }

  /** For the next `name` event only. Returns the unsubscribe function. */
  once(name, callback, options) {
    this.#live();
    return this.#listeners.add(String(name), callback, true, options);
  }

  /** Removes every subscription of `callback` to `name`; returns whether there was one. */
  unsubscribe(name, callback) {
    return this.#listeners.removeNamed(String(name), callback) > 0;
  }

  /** `subscribeAll(callback)` or `subscribeAll(pattern, callback)`. Returns the unsubscribe function. */
  subscribeAll(patternOrCallback, callback) {
    this.#live();
    return this.#listeners.addAll(patternOrCallback, callback);
  }

  /** `typing_status` events. Returns the unsubscribe function. */
  onTypingStatus(callback) {
    return this.subscribe('typing_status', callback);
  }

  /** `callback(state, reason)` on every change of this tab's state. Returns the unsubscribe function. */
  onStateChange(callback) {
    this.#live();
    return this.#listeners.listen('state', 'state', callback);
  }

  /** `callback(error)` for errors no call owns. Returns the unsubscribe function. */
  onError(callback) {
    this.#live();
    return this.#listeners.listen('error', 'error', callback);
  }

  /** `listener(record)` for every frame and state change of the shared link. Returns the unsubscribe function. */
  inspect(listener) {
    this.#live();
    if (typeof listener !== 'function') throw coded('INVALID_OPTIONS', 'inspect: the listener must be a function');
    const off = this.#listeners.listen('inspect', '', listener);
    if (this.#inspectors++ === 0) this.#post({ t: 'inspect', on: true });
    let live = true;
    return () => {
      if (!live) return;
      live = false;
      off();
      if (--this.#inspectors === 0 && !this.#closed) this.#post({ t: 'inspect', on: false });
    };
  }

  // ---- state sync ----

  #watch(scope) {
    if (this.#scopes.has(scope)) return;
    this.#scopes.add(scope);
    this.#post({ t: 'watch', scope, on: true });
  }

  /** Follows `scope`; resolves with its document once in step with the server. */
  syncState(scope) {
    scope = String(scope);
    if (!this.#closed) this.#watch(scope);
    return this.#call('syncState', [scope], { scope });
  }

  /** The document of `scope` as this tab last heard it, or undefined if this tab does not sync it. */
  getState(scope) {
    return this.#docs.get(String(scope));
  }

  /** `callback(doc, change)` on every change of `scope`'s document. Returns the unsubscribe function. */
  subscribeState(scope, callback) {
    this.#live();
    scope = String(scope);
    const off = this.#listeners.listen('doc', scope, callback);
    this.#watch(scope);
    return off;
  }

  /** This tab stops following `scope` (the shared manager does once no tab follows it); its waiting syncState calls reject with UNSUBSCRIBED. */
  unsyncState(scope) {
    scope = String(scope);
    if (!this.#scopes.delete(scope)) return;
    this.#docs.delete(scope);
    this.#rejectAll(() => coded('UNSUBSCRIBED', `stopped syncing ${scope}`), (call) => call.method === 'syncState' && call.scope === scope);
    this.#post({ t: 'watch', scope, on: false });
  }

  /** Applies a merge patch to `scope` through the shared manager. */
  updateState(scope, patch, options) {
    return this.#call('updateState', [String(scope), patch, options]);
  }

  /** Replaces the document of `scope` (the patch is computed against the shared document). */
  replaceState(scope, doc, options) {
    return this.#call('replaceState', [String(scope), doc, options]);
  }

  /** Throws SHARE_UNSUPPORTED: a conflict resolver must answer synchronously, which a tab cannot do for the worker. */
  onConflict() {
    throw coded(SHARE_UNSUPPORTED, 'onConflict is not available with shareAcrossTabs: the resolver would have to answer the worker synchronously');
  }

  /** Throws SHARE_UNSUPPORTED: the sync store lives in the worker. */
  inspectState() {
    throw coded(SHARE_UNSUPPORTED, 'inspectState is not available with shareAcrossTabs: the sync store lives in the shared worker');
  }
}

// sendQuery, notify*, submitFeedback, defineEvents: requests, as in the wasm class.
addFrinnyHelpers(SharedAgentManager);

// `using agent = ...` frees it, as for the wasm class (where the runtime has `Symbol.dispose`).
if (typeof Symbol.dispose === 'symbol') SharedAgentManager.prototype[Symbol.dispose] = SharedAgentManager.prototype.free;

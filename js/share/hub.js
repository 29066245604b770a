// The bookkeeping of the SharedWorker (worker.js wires it to real ports):
// one real AgentManager per connection key, and per port (one per tab-side
// SharedAgentManager) what that tab listens to, the calls it waits on, and
// whether it wants the link up. It touches no global, so tests/js drive it
// with fake ports and a fake manager.
//
// - Events: one real subscription per event name (and one `subscribeAll`)
//   while any port listens; each event goes only to the ports that listen
//   to it and want the link. An event that asks for an answer carries an
//   ack number: the first `ack` message for it answers, later ones do nothing.
// - Calls (request, syncState, ...): the result goes to the port that asked,
//   once. A port that leaves has its requests aborted; what still comes back
//   for it is dropped and counted (`resultsDropped`).
// - connect/disconnect: the manager is connected while any port wants it.
// - auth as a function: the worker's manager asks a live port that holds
//   one; if that port leaves before answering, another is asked.
// - A port silent for `silenceMs` (no ping, no message) is dropped as if it
//   had said goodbye: a tab that crashed or froze leaks nothing.
import { coded, connectionKey, errorToData } from './protocol.js';

/** The methods a tab may call through `call` besides `request` (they resolve a Promise). */
const CALLS = new Set(['syncState', 'updateState', 'replaceState']);

/** How many unanswered server questions an entry remembers (oldest forgotten first). */
const MAX_ACKS = 1024;

/**
 * @typedef {{postMessage(message: unknown): void, close?(): void}} Port
 * @typedef {{
 *   port: Port, entry: Entry | undefined, wants: boolean, lastSeen: number,
 *   authFunction: boolean, calls: Map<number, AbortController | undefined>,
 *   names: Set<string>, all: boolean, scopes: Set<string>, inspecting: boolean,
 * }} Client
 * @typedef {{
 *   key: string, manager: any, clients: Set<Client>,
 *   names: Map<string, () => void>, all: (() => void) | undefined,
 *   scopes: Map<string, () => void>, inspector: (() => void) | undefined,
 *   acks: Map<number, Function>, ackIds: WeakMap<Function, number>,
 *   asks: Map<number, {client: Client | undefined, resolve: Function, reject: Function}>,
 *   release: (() => void)[],
 * }} Entry
 */

export class ShareHub {
  /**
   * @param {{
   *   createManager: (options: Record<string, unknown>) => any,
   *   now?: () => number,
   *   heartbeatMs?: number,
   *   silenceMs?: number,
   * }} config `createManager` builds a real manager from the worker options
   *   (`auth: 'function'` replaced by the asking function); `heartbeatMs` is
   *   how often tabs ping; a port silent `silenceMs` is dropped.
   */
  constructor({ createManager, now = Date.now, heartbeatMs = 10_000, silenceMs = heartbeatMs * 12 }) {
    this.createManager = createManager;
    this.now = now;
    this.heartbeatMs = heartbeatMs;
    this.silenceMs = silenceMs;
    /** @type {Map<string, Entry>} */
    this.entries = new Map();
    /** @type {Map<Port, Client>} */
    this.clients = new Map();
    this.nextAck = 1;
    this.nextAsk = 1;
    /** Results of calls whose port had left. */
    this.resultsDropped = 0;
    /** Ports dropped for silence. */
    this.portsDropped = 0;
  }

  /** The hub's own counters, sent to tabs with the manager's metrics. */
  counters(entry) {
    return {
      tabs: entry?.clients.size ?? 0,
      connections: this.entries.size,
      resultsDropped: this.resultsDropped,
      portsDropped: this.portsDropped,
    };
  }

  /**
   * A new port (the worker's `connect` event): it says `hello` first.
   * @param {Port} port
   */
  open(port) {
    this.clients.set(port, {
      port, entry: undefined, wants: false, lastSeen: this.now(), authFunction: false,
      calls: new Map(), names: new Set(), all: false, scopes: new Set(), inspecting: false,
    });
  }

  /**
   * One message from `port`.
   * @param {Port} port @param {any} m
   */
  receive(port, m) {
    const client = this.clients.get(port);
    if (client === undefined || typeof m !== 'object' || m === null) return;
    client.lastSeen = this.now();
    if (m.t === 'hello') return this.hello(client, m);
    if (m.t === 'bye') return this.drop(client, false);
    const entry = client.entry;
    if (entry === undefined) return;
    switch (m.t) {
      case 'ping':
        return post(client, { t: 'pong', status: status(entry.manager), metrics: this.metricsOf(entry) });
      case 'connect':
        return this.connect(client, m.id);
      case 'disconnect':
        client.wants = false;
        return this.settleIntent(entry);
      case 'listen':
        return this.listen(client, String(m.name), m.on !== false);
      case 'listenAll':
        return this.listenAll(client, m.on !== false);
      case 'watch':
        return this.watch(client, String(m.scope), m.on !== false);
      case 'inspect':
        return this.inspect(client, m.on !== false);
      case 'call':
        return this.call(client, m);
      case 'abort':
        return client.calls.get(m.id)?.abort();
      case 'emit':
        return this.emit(client, m);
      case 'ack':
        return this.answer(client, m.ack, m.args);
      case 'auth':
        return this.authAnswered(entry, m);
      default:
    }
  }

  /** `hello {options, authFunction, wants, names, all, scopes, inspecting}`: joins (or makes) the entry of its key. */
  hello(client, m) {
    if (client.entry !== undefined) this.leave(client);
    const options = m.options ?? {};
    const key = connectionKey(options);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      try {
        entry = this.makeEntry(key, options);
      } catch (e) {
        post(client, { t: 'welcome', error: errorToData(e) });
        return;
      }
    }
    client.entry = entry;
    client.authFunction = m.authFunction === true;
    entry.clients.add(client);
    post(client, {
      t: 'welcome',
      heartbeatMs: this.heartbeatMs,
      silenceMs: this.silenceMs,
      status: status(entry.manager),
      metrics: this.metricsOf(entry),
    });
    for (const name of m.names ?? []) this.listen(client, String(name), true);
    if (m.all) this.listenAll(client, true);
    for (const scope of m.scopes ?? []) this.watch(client, String(scope), true);
    if (m.inspecting) this.inspect(client, true);
    if (m.wants) this.connect(client, undefined);
  }

  /** A manager for `key`, with the listeners every port gets. */
  makeEntry(key, options) {
    /** @type {Entry} */
    const entry = {
      key, manager: undefined, clients: new Set(), names: new Map(), all: undefined,
      scopes: new Map(), inspector: undefined, acks: new Map(), ackIds: new WeakMap(),
      asks: new Map(), release: [],
    };
    const built = { ...options };
    if (options.auth === 'function') built.auth = () => this.askAuth(entry);
    entry.manager = this.createManager(built);
    entry.release.push(
      entry.manager.onStateChange((state, reason) => {
        // An answer to a question of a link that ended goes nowhere.
        if (state !== 'connected') entry.acks.clear();
        const message = { t: 'status', reason: String(reason ?? ''), ...status(entry.manager) };
        for (const c of entry.clients) post(c, message);
      }),
      entry.manager.onError((error) => {
        const message = { t: 'error', error: errorToData(error) };
        for (const c of entry.clients) if (c.wants) post(c, message);
      }),
    );
    this.entries.set(key, entry);
    return entry;
  }

  /** `connect {id}`: this port wants the link; `id` (if any) gets connect()'s outcome. */
  connect(client, id) {
    client.wants = true;
    const settle = (ok, value) => {
      if (id === undefined) return;
      if (!this.clients.has(client.port)) return void this.resultsDropped++;
      post(client, ok ? { t: 'settle', id, ok, value: undefined } : { t: 'settle', id, ok, error: errorToData(value) });
    };
    let promise;
    try {
      promise = client.entry.manager.connect();
    } catch (e) {
      return settle(false, e);
    }
    promise.then(() => settle(true), (e) => settle(false, e));
  }

  /** The link stays up while any port wants it. */
  settleIntent(entry) {
    for (const c of entry.clients) if (c.wants) return;
    if (entry.manager.state !== 'disconnected' && entry.manager.state !== 'closed') entry.manager.disconnect();
  }

  /** `listen {name, on}`. */
  listen(client, name, on) {
    const entry = client.entry;
    if (on) client.names.add(name);
    else client.names.delete(name);
    const wanted = [...entry.clients].some((c) => c.names.has(name));
    const off = entry.names.get(name);
    if (wanted && off === undefined) {
      entry.names.set(name, entry.manager.subscribe(name, (...args) => this.fan(entry, 'event', name, args)));
    } else if (!wanted && off !== undefined) {
      entry.names.delete(name);
      off();
    }
  }

  /** `listenAll {on}`: this port has `subscribeAll` listeners (their patterns are matched in the tab). */
  listenAll(client, on) {
    const entry = client.entry;
    client.all = on;
    const wanted = [...entry.clients].some((c) => c.all);
    if (wanted && entry.all === undefined) {
      entry.all = entry.manager.subscribeAll((name, ...args) => this.fan(entry, 'any', name, args));
    } else if (!wanted && entry.all !== undefined) {
      entry.all();
      entry.all = undefined;
    }
  }

  /** One event to the ports that listen to it (`kind` 'event': by name; 'any': subscribeAll). */
  fan(entry, kind, name, args) {
    let ack;
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args = args.slice(0, -1);
      ack = entry.ackIds.get(last);
      if (ack === undefined) {
        ack = this.nextAck++;
        entry.ackIds.set(last, ack);
        entry.acks.set(ack, last);
        if (entry.acks.size > MAX_ACKS) entry.acks.delete(entry.acks.keys().next().value);
      }
    }
    const message = { t: kind, name, args, ack };
    for (const c of entry.clients) {
      if (!c.wants) continue;
      if (kind === 'event' ? c.names.has(name) : c.all) post(c, message);
    }
  }

  /**
   * `ack {ack, args}`: the first answer to a server's question counts. One
   * the wasm cannot send (INVALID_PAYLOAD) leaves the question open, as it
   * does for a local manager, and goes to the answering tab's onError.
   */
  answer(client, ack, args) {
    const entry = client.entry;
    const fn = entry.acks.get(ack);
    if (fn === undefined) return;
    try {
      fn(...(Array.isArray(args) ? args : []));
      entry.acks.delete(ack);
    } catch (e) {
      post(client, { t: 'error', error: errorToData(e) });
    }
  }

  /** `watch {scope, on}`: this port follows a synced document. */
  watch(client, scope, on) {
    const entry = client.entry;
    if (on) client.scopes.add(scope);
    else client.scopes.delete(scope);
    const wanted = [...entry.clients].some((c) => c.scopes.has(scope));
    const off = entry.scopes.get(scope);
    if (wanted && off === undefined) {
      entry.scopes.set(scope, entry.manager.subscribeState(scope, (doc, change) => {
        for (const c of entry.clients) if (c.scopes.has(scope)) post(c, { t: 'doc', scope, doc, change });
      }));
    } else if (!wanted && off !== undefined) {
      entry.scopes.delete(scope);
      off();
      entry.manager.unsyncState(scope);
    }
  }

  /** `inspect {on}`: frames and state changes for this port's `inspect` listeners. */
  inspect(client, on) {
    const entry = client.entry;
    client.inspecting = on;
    const wanted = [...entry.clients].some((c) => c.inspecting);
    if (wanted && entry.inspector === undefined) {
      entry.inspector = entry.manager.inspect((record) => {
        for (const c of entry.clients) if (c.inspecting) post(c, { t: 'record', record });
      });
    } else if (!wanted && entry.inspector !== undefined) {
      entry.inspector();
      entry.inspector = undefined;
    }
  }

  /** `call {id, method, args}`: a request (abortable) or a state call; the outcome to this port only. */
  call(client, { id, method, args }) {
    const manager = client.entry.manager;
    const list = Array.isArray(args) ? args : [];
    let promise;
    let controller;
    try {
      if (method === 'request') {
        controller = new AbortController();
        const [event, payload, options] = list;
        promise = manager.request(event, payload, { ...(options ?? {}), signal: controller.signal });
      } else if (CALLS.has(method)) {
        promise = manager[method](...list);
      } else {
        throw coded('INVALID_OPTIONS', `no shared method ${String(method)}`);
      }
    } catch (e) {
      promise = Promise.reject(e);
    }
    client.calls.set(id, controller);
    const settle = (message) => {
      if (!client.calls.delete(id)) return void this.resultsDropped++;
      post(client, message);
    };
    Promise.resolve(promise).then(
      (value) => settle({ t: 'settle', id, ok: true, value }),
      (error) => settle({ t: 'settle', id, ok: false, error: errorToData(error) }),
    );
  }

  /** `emit {event, payload, options}`; what emit throws goes to this port's onError. */
  emit(client, { event, payload, options }) {
    try {
      client.entry.manager.emit(event, payload, options);
    } catch (e) {
      post(client, { t: 'error', error: errorToData(e) });
    }
  }

  /** The worker manager's `auth` function: asks a port that holds one. */
  askAuth(entry) {
    return new Promise((resolve, reject) => {
      const id = this.nextAsk++;
      entry.asks.set(id, { client: undefined, resolve, reject });
      this.ask(entry, id);
    });
  }

  /** Sends question `id` to the most recently heard port with an auth function. */
  ask(entry, id) {
    const pending = entry.asks.get(id);
    if (pending === undefined) return;
    let best;
    for (const c of entry.clients) if (c.authFunction && (best === undefined || c.lastSeen > best.lastSeen)) best = c;
    if (best === undefined) {
      entry.asks.delete(id);
      pending.reject(coded('AUTH_FAILED', 'no tab that shares this connection can supply auth'));
      return;
    }
    pending.client = best;
    post(best, { t: 'askAuth', id });
  }

  /** `auth {id, ok, value | error}`. */
  authAnswered(entry, { id, ok, value, error }) {
    const pending = entry.asks.get(id);
    if (pending === undefined) return;
    entry.asks.delete(id);
    if (ok) pending.resolve(value);
    else pending.reject(new Error(String(error?.message ?? 'the auth function failed')));
  }

  /** The manager's metrics with the hub's counters (`share`). */
  metricsOf(entry) {
    try {
      return { ...entry.manager.metrics(), share: this.counters(entry) };
    } catch {
      return { share: this.counters(entry) };
    }
  }

  /** Drops every port silent longer than `silenceMs`; call it every `heartbeatMs`. */
  sweep() {
    const now = this.now();
    for (const client of [...this.clients.values()]) {
      if (now - client.lastSeen > this.silenceMs) {
        this.portsDropped++;
        this.drop(client, true);
      }
    }
  }

  /** The port leaves: its requests aborted, its listeners gone, its questions asked elsewhere. */
  drop(client, tell) {
    if (tell) post(client, { t: 'dropped' });
    this.leave(client);
    this.clients.delete(client.port);
    try {
      client.port.close?.();
    } catch {}
  }

  /** Leaves its entry (closing the entry's manager if it was the last). */
  leave(client) {
    const entry = client.entry;
    if (entry === undefined) return;
    const calls = [...client.calls.values()];
    client.calls.clear();
    for (const controller of calls) controller?.abort();
    for (const name of [...client.names]) this.listen(client, name, false);
    this.listenAll(client, false);
    for (const scope of [...client.scopes]) this.watch(client, scope, false);
    this.inspect(client, false);
    client.wants = false;
    entry.clients.delete(client);
    client.entry = undefined;
    for (const [id, ask] of entry.asks) if (ask.client === client) this.ask(entry, id);
    if (entry.clients.size === 0) {
      this.entries.delete(entry.key);
      for (const off of entry.release) off();
      entry.manager.close();
      entry.manager.free?.();
    } else {
      this.settleIntent(entry);
    }
  }
}

/** What a tab mirrors of the manager: its state, transport and reconnect time. */
function status(manager) {
  return {
    state: manager.state,
    transport: manager.transport,
    nextReconnectAt: manager.nextReconnectAt ?? null,
  };
}

/** Posts to a port that may be gone (a closed port throws nothing; a detached one might). */
function post(client, message) {
  try {
    client.port.postMessage(message);
  } catch {}
}

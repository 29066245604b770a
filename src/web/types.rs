//! TypeScript declarations for what wasm-bindgen cannot infer: the options
//! objects, the state names, errors and the metrics snapshot.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Connection states, as `agent.state` and `onStateChange` report them. */
export type AgentState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Options of `new AgentManager(options)`. Unknown keys throw INVALID_OPTIONS. */
export interface AgentManagerOptions {
  /** Server URL; http(s) maps to ws(s). */
  url: string;
  /** Endpoint path (default '/socket.io/'; for protocol 'json' the URL as given). */
  path?: string;
  /** Extra query parameters, e.g. { userId }. */
  query?: Record<string, string | number | boolean>;
  /** Socket.IO namespace (default '/'). */
  namespace?: string;
  /** CONNECT auth payload: an object, or a function called before every
   *  connection attempt's CONNECT (so a reconnect sends a fresh token):
   *  socket.io-client's `(cb) => cb({ token })`, or one returning the object
   *  or a Promise of it (`async () => ({ token: await fetchToken() })`). If
   *  it throws, rejects or yields a non-object, `onError` gets AUTH_FAILED
   *  and the attempt is retried with backoff. With a function, the server's
   *  `error` {code: 'TOKEN_EXPIRED'} followed by its disconnect reconnects
   *  (calling it again) instead of ending the session. */
  auth?: Record<string, unknown>
    | ((cb: (auth: Record<string, unknown>) => void) =>
        void | Record<string, unknown> | Promise<Record<string, unknown>>);
  /** Wire protocol (default 'socket.io'). */
  protocol?: 'socket.io' | 'json';
  /** Socket.IO packet format (default 'json', socket.io-parser's text):
   *  'msgpack' speaks the npm socket.io-msgpack-parser 3.x format, one
   *  binary frame per packet with binary values inline (the server must use
   *  that parser too). Over WebSocket and polling alike; not with
   *  protocol 'json'. Events, requests, binary payloads and errors behave
   *  the same with either. */
  parser?: 'json' | 'msgpack';
  /** Protocol 'json' only: events sent in the Frinny gateway's envelope
   *  `{"action":"event","payload":{"action":<name>, ...fields, "request_id"}}`
   *  instead of `{"action":<name>, ...fields}`, e.g. ['character_creation_start',
   *  'combat_turn', 'level_up', 'combat_start', 'feedback']. Replies are
   *  matched by their request_id as usual. */
  wrapEvents?: string[];
  /** Reconnect automatically (default true). */
  reconnection?: boolean;
  /** First reconnection delay in ms (default 1000); alias `delay`. */
  reconnectionDelay?: number;
  delay?: number;
  /** Largest reconnection delay in ms (default 5000); alias `delayMax`. */
  reconnectionDelayMax?: number;
  delayMax?: number;
  /** Jitter, 0 to 1 (default 0.5). */
  randomizationFactor?: number;
  /** Attempts before giving up (default Infinity); alias `attempts`. */
  reconnectionAttempts?: number;
  attempts?: number;
  /** Connect timeout in ms (default 20000). */
  connectTimeout?: number;
  /** Default request timeout in ms (default 30000). */
  timeout?: number;
  /** Emits and requests held while they cannot go out, not connected or
   *  the socket congested (default 100). When it is full, the oldest
   *  'low' one waiting is given up for a 'high' or 'normal' one. */
  bufferSize?: number;
  /** Bytes the WebSocket may hold unsent (its `bufferedAmount`) before it
   *  counts as congested (default 1048576, 1 MiB): above it, emits and
   *  requests wait in the buffer and leave by priority once it drains. */
  highWaterMark?: number;
  /** Log every frame and state change to the console, grouped (default
   *  false); the same as setting `agent.debug`. */
  debug?: boolean;
  /**
   * Transports tried in order (default `['websocket', 'polling']`). A
   * WebSocket that cannot open falls back to polling by itself (and later
   * attempts start there); starting on polling upgrades to a WebSocket the
   * server offers. `protocol: 'json'` needs `'websocket'`.
   */
  transports?: ('websocket' | 'polling')[];
  /** Upgrade from polling to WebSocket when offered (default true). */
  upgrade?: boolean;
  /** Polling requests send cookies cross-origin (`credentials: 'include'`). */
  withCredentials?: boolean;
  /** Headers added to every polling request (a WebSocket cannot carry them). */
  extraHeaders?: Record<string, string>;
  /**
   * A connection of its own (default false). Otherwise managers of one page
   * for the same endpoint (URL, path, query, transports, upgrade,
   * withCredentials, extraHeaders) and different namespaces share one
   * Engine.IO connection, as socket.io-client's `io()` does; a second
   * manager for a namespace already on it gets its own connection.
   */
  forceNew?: boolean;
  /** `false` is `forceNew: true` (socket.io-client's name). */
  multiplex?: boolean;
  /** Through the package entry (`frinny-agent`): the tabs of this browser
   *  that give the same options share one connection, held by a
   *  SharedWorker; `new AgentManager` then returns a `SharedAgentManager`.
   *  Where `SharedWorker` does not exist it is a local manager, as without
   *  the option. The wasm class itself only checks it (default false). */
  shareAcrossTabs?: boolean;
  /** With `shareAcrossTabs`: where the SharedWorker script
   *  (`frinny-agent/js/share/worker.js`) is served, when not next to the
   *  package's JS. */
  sharedWorkerUrl?: string | URL;
}

/** The last argument of a subscriber when the server's event asks for an
 *  answer (`socket.emitWithAck` on a Node server, `call` in python-socketio),
 *  as socket.io-client passes it: `ack(...args)` answers with `args` (JSON;
 *  binary data goes as attachments). Every subscriber of that event gets the
 *  same `ack`, and only its first call answers: later calls, and calls after
 *  the link the event came on ended, do nothing (counted in
 *  `metrics().acksDropped`). Args that cannot be sent (a cycle, a BigInt)
 *  throw INVALID_PAYLOAD and leave the question open. */
export type Ack = (...args: unknown[]) => void;

/** Options of `subscribe()` and `once()`. */
export interface SubscribeOptions {
  /** Only events whose payload (the first argument) it accepts reach the
   *  callback. One that throws is reported like a throwing subscriber. */
  filter?: (payload: any) => unknown;
}

/** What an `inspect()` listener gets: a frame on its way in or out (the
 *  wire text, or an ArrayBuffer for a binary frame), or a state change.
 *  Over long-polling each Engine.IO packet of a payload is one record,
 *  marked `transport: 'polling'`. */
export type InspectRecord =
  | { type: 'frame'; direction: 'in' | 'out'; data: string | ArrayBuffer; time: number; transport?: 'polling' }
  | { type: 'state'; state: AgentState; reason: string; time: number };

/** An unsettled local update, as `inspectState()` shows it. */
export interface PendingUpdate {
  id: number;
  patch: object;
  optimistic: boolean;
  /** On the wire now (else queued, or pausing after a conflict). */
  inFlight: boolean;
}

/** What `inspectState(scope)` returns for a synced scope. */
export interface ScopeInspection {
  scope: string;
  /** The server version held; null until the first snapshot. */
  version: number | null;
  /** The server's document, without optimistic updates. */
  confirmed: any;
  /** The visible document (`getState`). */
  doc: any;
  pending: PendingUpdate[];
  /** The latest conflict met, or null. */
  lastConflict: { updateId: number; version: number; patch: object; local: any; server: any } | null;
}

/** Options of `request()`. */
export interface RequestOptions {
  /** Overrides the default request timeout (ms). */
  timeout?: number;
  /** Rejects the request with ABORTED when it fires. */
  signal?: AbortSignal;
  /** If the link drops in flight, re-send once after reconnect. */
  retry?: boolean;
  /** While it waits (not connected, or the socket congested): 'high'
   *  leaves first, 'low' last and is the first given up when the buffer
   *  is full (default 'normal'). */
  priority?: 'high' | 'normal' | 'low';
}

/** Options of `emit()`. */
export interface EmitOptions {
  /** Drop instead of buffering while not connected (or the socket congested). */
  volatile?: boolean;
  /** While it waits (not connected, or the socket congested): 'high'
   *  leaves first, 'low' last and is the first given up when the buffer
   *  is full (default 'normal'). */
  priority?: 'high' | 'normal' | 'low';
}

/** What changed a synced document: the second argument of `subscribeState` callbacks. */
export interface DocChange {
  type: 'snapshot' | 'patch' | 'optimistic' | 'rollback' | 'conflict';
  /** The server version it brought (snapshot, patch, conflict). */
  version?: number;
  /** The local update concerned (optimistic, rollback, conflict). */
  updateId?: number;
  /** The merge patch applied (patch, optimistic). */
  patch?: object;
}

/** Every rejection and `onError` report is an Error with a stable code. */
export interface AgentError extends Error {
  code: 'TIMEOUT' | 'DISCONNECTED' | 'CONNECT_REFUSED' | 'BUFFER_FULL' | 'ABORTED' | 'SERVER_ERROR'
    | 'INVALID_PAYLOAD' | 'INVALID_OPTIONS' | 'PROTOCOL_ERROR' | 'RECONNECT_FAILED' | 'CLOSED'
    | 'CALLBACK_ERROR' | 'AUTH_FAILED' | 'TRANSPORT_ERROR' | 'INFLATE_FAILED'
    | 'SHARE_UNSUPPORTED' | 'WORKER_FAILED' | string;
  /** For PROTOCOL_ERROR: the decoder's own code. */
  detail?: string;
  /** For SERVER_ERROR: the server's own code, when it sent one (e.g. 'RATE_LIMITED'). */
  serverCode?: string;
  /** For CALLBACK_ERROR: the event whose subscriber threw. */
  event?: string;
  /** For CALLBACK_ERROR: what it threw. */
  cause?: unknown;
}

/** Typed overloads of the methods whose options wasm-bindgen types as `any`
 *  (declaration merging with the generated class). */
export interface AgentManager {
  request(event: string, payload?: Record<string, unknown>, options?: RequestOptions): Promise<any>;
  emit(event: string, payload?: unknown, options?: EmitOptions): void;
  subscribe(name: string, callback: (...args: any[]) => void, options?: SubscribeOptions): () => void;
  once(name: string, callback: (...args: any[]) => void, options?: SubscribeOptions): () => void;
  subscribeAll(callback: (name: string, ...args: any[]) => void): () => void;
  subscribeAll(pattern: string | RegExp, callback: (name: string, ...args: any[]) => void): () => void;
}

/** What `metrics()` returns. */
export interface AgentMetrics {
  state: AgentState;
  connects: number;
  reconnects: number;
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  eventsDispatched: number;
  pendingRequests: number;
  buffered: number;
  timeouts: number;
  volatileDropped: number;
  errors: Record<string, number>;
  lastPingMs: number | null;
  dispatchP50Us: number | null;
  dispatchP99Us: number | null;
  subscribers: number;
  /** The sync store's counters: patches that arrived ahead (gaps), scopes
   *  asked for again (resyncs), optimistic updates taken back (rollbacks),
   *  updates refused with CONFLICT. */
  stateSync: { gaps: number; resyncs: number; rollbacks: number; conflicts: number };
  /** The transport of the connected link; null while not connected. */
  transport: 'websocket' | 'polling' | null;
  /** Upgrades from long-polling to WebSocket. */
  upgrades: number;
  /** Of `buffered`, how many of each priority. */
  bufferedByPriority: { high: number; normal: number; low: number };
  /** Low-priority emits and requests given up from a full buffer for more urgent ones. */
  lowDropped: number;
  /** The socket holds more than `highWaterMark` unsent: emits and requests wait. */
  congested: boolean;
  /** Answers to the server's acks that went nowhere: a second call of an
   *  event's `ack`, or one after the link the event came on ended. */
  acksDropped: number;
  /** Only from a `SharedAgentManager` (`shareAcrossTabs`): the SharedWorker's
   *  counters. `tabs`: managers on this connection; `connections`: the
   *  worker's connections (one per set of options); `resultsDropped`:
   *  outcomes of calls whose tab had left; `portsDropped`: tabs dropped
   *  after too long a silence. */
  share?: { tabs: number; connections: number; resultsDropped: number; portsDropped: number };
}
"#;

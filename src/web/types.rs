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
  /** CONNECT auth payload. */
  auth?: Record<string, unknown>;
  /** Wire protocol (default 'socket.io'). */
  protocol?: 'socket.io' | 'json';
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
  /** Emits and requests held while not connected (default 100). */
  bufferSize?: number;
}

/** Options of `request()`. */
export interface RequestOptions {
  /** Overrides the default request timeout (ms). */
  timeout?: number;
  /** Rejects the request with ABORTED when it fires. */
  signal?: AbortSignal;
  /** If the link drops in flight, re-send once after reconnect. */
  retry?: boolean;
}

/** Options of `emit()`. */
export interface EmitOptions {
  /** Drop instead of buffering while not connected. */
  volatile?: boolean;
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
    | 'CALLBACK_ERROR' | string;
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
}
"#;

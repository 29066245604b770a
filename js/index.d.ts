// Types of the package entry (`frinny-agent`). The class itself comes from
// the wasm module (pkg/frinny_agent.d.ts, written by wasm-bindgen from the
// Rust docs); here its event methods are typed by the catalogue's maps
// (EventTypes.d.ts, generated from src/catalogue.rs), so a known event name
// gets its payload type and any other name still works, untyped. The maps
// are interfaces: a module adds its custom events (`x-<module>:<event>`) by
// declaration merging (`declare module 'frinny-agent' { interface
// ClientEvents { ... } }`), and the overloads below pick them up.

import type {
  Ack,
  AgentManager as WasmAgentManager,
  AgentManagerOptions,
  AgentMetrics,
  EmitOptions,
  RequestOptions,
} from '../pkg/frinny_agent.js';
import type { ClientEvents, Responses, ServerEvents } from './EventTypes.js';

export type {
  Ack,
  AgentError,
  AgentManagerOptions,
  AgentMetrics,
  AgentState,
  CustomEventSpec,
  CustomFieldSpec,
  DefineEventsResult,
  DocChange,
  EmitOptions,
  FieldKind,
  InspectRecord,
  PendingUpdate,
  RequestOptions,
  ScopeInspection,
  SubscribeOptions,
} from '../pkg/frinny_agent.js';
export * from './EventTypes.js';

/** `N` itself unless it is one of the keys of `Known`: the untyped fallback of an overload. */
type Other<N extends string, Known> = N extends keyof Known ? never : N;

/** What a request `K` sends: its `ClientEvents` payload, or any object for a reply merged into `Responses` alone. */
type RequestPayload<K> = K extends keyof ClientEvents ? ClientEvents[K] : Record<string, unknown>;

/** `subscribe`/`once` options with `filter` typed by the event's payload. */
export interface TypedSubscribeOptions<P> {
  /**
   * Only events whose payload it accepts reach the callback; one that throws is
   * reported like a throwing subscriber (`onError`, CALLBACK_ERROR).
   * @example agent.subscribe('character_update', apply, { filter: (u) => u.actorId === myActor });
   */
  filter?: (payload: P) => unknown;
}

/** The event methods of `AgentManager`, typed by the event catalogue. */
export interface TypedEvents {
  /**
   * Calls `callback(payload)` for every `name` event. Returns the unsubscribe function.
   * When the server's event asks for an answer (`emitWithAck`), the callback gets an
   * `ack` function last (`Ack`): `ack(...args)` answers; only the first call counts.
   * @example agent.subscribe('typing_status', ({ isTyping }) => showTyping(isTyping));
   * @example agent.subscribe('x-my-module:confirm', (q, ack) => ack?.({ ok: window.confirm(q.text) }));
   */
  subscribe<K extends keyof ServerEvents>(
    name: K,
    callback: (payload: ServerEvents[K], ack?: Ack) => void,
    options?: TypedSubscribeOptions<ServerEvents[K]>,
  ): () => void;
  subscribe<N extends string>(
    name: Other<N, ServerEvents>,
    callback: (...args: any[]) => void,
    options?: TypedSubscribeOptions<any>,
  ): () => void;
  /**
   * Calls `callback(payload)` for the next `name` event (that `filter` accepts) only, with
   * `ack` last when the event asks for an answer. Returns the unsubscribe function.
   */
  once<K extends keyof ServerEvents>(
    name: K,
    callback: (payload: ServerEvents[K], ack?: Ack) => void,
    options?: TypedSubscribeOptions<ServerEvents[K]>,
  ): () => void;
  once<N extends string>(
    name: Other<N, ServerEvents>,
    callback: (...args: any[]) => void,
    options?: TypedSubscribeOptions<any>,
  ): () => void;
  /**
   * Calls `callback(name, ...args)` for every event, or, given a pattern, for the
   * events whose name matches it: a string where `*` stands for any run of
   * characters (`'x-my-module:*'`, `'*_response'`) or a RegExp. Returns the
   * unsubscribe function. An event that asks for an answer has its `ack` as the
   * last of `args`, as socket.io-client's `onAny` listeners get it.
   * @example agent.subscribeAll('state:*', (name, payload) => console.debug(name, payload));
   */
  subscribeAll(callback: (name: string, ...args: any[]) => void): () => void;
  subscribeAll(pattern: string | RegExp, callback: (name: string, ...args: any[]) => void): () => void;
  /** Removes every subscription of `callback` to `name`; returns whether there was one. */
  unsubscribe(name: string, callback: (...args: any[]) => void): boolean;
  /**
   * Sends a request and resolves with the reply: for a catalogue request, the payload of
   * its `*_response` event. Rejects with an `AgentError` (TIMEOUT, DISCONNECTED, SERVER_ERROR, ...).
   * @example const { content } = await agent.request('query', { content: 'What does Shield Block do?' });
   */
  request<K extends keyof Responses>(event: K, payload: RequestPayload<K>, options?: RequestOptions): Promise<Responses[K]>;
  request<N extends string>(
    event: Other<N, Responses>,
    payload?: Record<string, unknown>,
    options?: RequestOptions,
  ): Promise<any>;
  /** Fire and forget; buffered while not connected unless `volatile`. */
  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K], options?: EmitOptions): void;
  emit<N extends string>(event: Other<N, ClientEvents>, payload?: unknown, options?: EmitOptions): void;
  /** Calls `callback({isTyping})` on every `typing_status` event. Returns the unsubscribe function. */
  onTypingStatus(callback: (status: ServerEvents['typing_status']) => void): () => void;
  /** `query`: resolves with the `query_response` payload. */
  sendQuery(payload: ClientEvents['query']): Promise<Responses['query']>;
  /** `character_creation_start`: resolves with the `character_creation_response` payload. */
  notifyCharacterCreation(context: ClientEvents['character_creation_start']): Promise<Responses['character_creation_start']>;
  /** `combat_turn`: resolves with the `combat_turn_response` payload. */
  notifyCombatTurn(state: ClientEvents['combat_turn']): Promise<Responses['combat_turn']>;
  /** `level_up`: resolves with the `level_up_response` payload. */
  notifyLevelUp(data: ClientEvents['level_up']): Promise<Responses['level_up']>;
  /** `combat_start`: resolves with the `combat_start_response` payload. */
  notifyCombatStart(data: ClientEvents['combat_start']): Promise<Responses['combat_start']>;
  /** `feedback {messageId, type}`: resolves with the `feedback_response` payload. */
  submitFeedback(messageId: string | number, type: string): Promise<Responses['feedback']>;
}

/**
 * The realtime link to a Frinny backend. Every member not listed in
 * `TypedEvents` is documented in pkg/frinny_agent.d.ts.
 */
export type AgentManager = Omit<WasmAgentManager, keyof TypedEvents> & TypedEvents;

/**
 * `new AgentManager(options)`; throws an `AgentError` with code INVALID_OPTIONS for a bad option.
 * With `shareAcrossTabs: true` where `SharedWorker` exists it returns a `SharedAgentManager`
 * (`instanceof AgentManager` holds for it too).
 */
export declare const AgentManager: {
  new (options: AgentManagerOptions): AgentManager;
  readonly prototype: AgentManager;
};

/**
 * What `new AgentManager({ ..., shareAcrossTabs: true })` returns where
 * `SharedWorker` exists: the same surface as `AgentManager`, speaking to one
 * real manager in a SharedWorker that every tab with the same options
 * shares. Each tab keeps its own subscriptions, requests and
 * connect/disconnect intent. `onConflict` and `inspectState` throw an
 * `AgentError` with code SHARE_UNSUPPORTED; `metrics()` is the shared
 * manager's snapshot as of the last heartbeat, with this tab's
 * `pendingRequests` and `subscribers` and the worker's counters as `share`.
 */
export type SharedAgentManager = AgentManager & {
  /** Always true: this manager shares its connection across tabs. */
  readonly sharedAcrossTabs: true;
};

/** The SharedWorker's counters, in a `SharedAgentManager`'s `metrics().share`. */
export type ShareCounters = NonNullable<AgentMetrics['share']>;

/** `new SharedAgentManager(options)`: the same as `new AgentManager({ ...options, shareAcrossTabs: true })` where SharedWorker exists. */
export declare const SharedAgentManager: {
  new (options: AgentManagerOptions): SharedAgentManager;
  readonly prototype: SharedAgentManager;
};

/**
 * Loads and instantiates the wasm module; await it before the first
 * `new AgentManager(...)`. Any number of calls share one load. `wasm`
 * (used by the first call only) is where to fetch the `.wasm` from when the
 * host does not serve it next to the package's JS.
 */
export declare function ready(
  wasm?: string | URL | Request | Response | BufferSource | WebAssembly.Module,
): Promise<void>;

export default ready;

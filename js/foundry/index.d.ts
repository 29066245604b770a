// Types of `frinny-agent/foundry`: the drop-in for the Frinny Foundry
// module's AgentManager (js/foundry/AgentManager.js), wired to the wasm client.

import type {
  Ack,
  AgentError,
  AgentManagerOptions,
  AgentMetrics,
  AgentState,
  CustomEventSpec,
  DefineEventsResult,
  DocChange,
  EmitOptions,
  RequestOptions,
} from '../index.js';
import type { ServerEvents } from '../EventTypes.js';

export type { AgentError, AgentManagerOptions, AgentMetrics, AgentState, DocChange, EmitOptions, RequestOptions };
export { ready } from '../index.js';

/** The wasm client class the drop-in wraps. */
export declare const Client: typeof import('../index.js').AgentManager;
/** The wasm client type. */
export type Client = import('../index.js').AgentManager;

/** The wire the drop-in speaks: the API gateway's JSON frames (at `wsUrl`) or Socket.IO (at `backendUrl`). */
export type FrinnyProtocol = 'json' | 'socket.io';

/** A reply from the backend: the whole reply object (`{action, request_id, content, messageId, ...}` on the JSON wire). */
export interface FrinnyReply {
  request_id?: string;
  content?: string;
  messageId?: string;
  action?: string;
  [key: string]: any;
}

/** One item of the user's `frinny.messages` flag, as the chat window stores it. */
export interface StoredMessage {
  type: 'user' | 'assistant' | string;
  content: string;
  [key: string]: any;
}

/** Client options the drop-in passes through (it sets `url`, `protocol`, `wrapEvents` itself; `query` gets `userId` added). */
export type PassThroughOptions = Partial<Omit<AgentManagerOptions, 'url' | 'protocol' | 'wrapEvents'>>;

/** Options of `new AgentManager(options?)`; all optional: in Foundry it takes none. */
export interface FoundryAgentOptions extends PassThroughOptions {
  /** The client class (default: the wasm AgentManager). */
  Agent?: new (options: AgentManagerOptions) => any;
  /** Foundry's `game` (default `globalThis.game`). */
  game?: any;
  /** Overrides the `frinny.protocol` setting (default 'json', also when the setting is not registered). */
  protocol?: FrinnyProtocol;
  /** Overrides the `frinny.wsUrl` setting (default `wss://frinny.net/ws`). */
  wsUrl?: string;
  /** Overrides the `frinny.backendUrl` setting (default `https://frinny.net`). */
  backendUrl?: string;
  /** Overrides `game.user.id`. */
  userId?: string;
  /** What a server `character_update` does: 'apply' (default, as the old class) writes it to the sheet; 'suggest' leaves it to the caller. */
  characterUpdates?: 'apply' | 'suggest';
}

/**
 * The Frinny AgentManager for Foundry VTT: a drop-in for the module's old
 * class, backed by the frinny-agent client.
 *
 * Errors are `AgentError`s with a stable `code`. A server `error` with a
 * `request_id` rejects only that request (SERVER_ERROR, the server's
 * message); one without `request_id` goes to `onError` and the console and
 * rejects nothing. A frame that is not JSON, or has no `action`, is counted
 * in `metrics().errors` and reported to `onError` (PROTOCOL_ERROR); the link
 * and the pending requests are kept.
 */
export declare class AgentManager {
  /** Reads `frinny.wsUrl`, `frinny.backendUrl`, the optional `frinny.protocol` and `game.user.id`. */
  constructor(options?: FoundryAgentOptions);
  /** Foundry's `game` in use. */
  readonly game: any;
  /** The client underneath; never null; replaced when the URL in use changes. */
  readonly agent: Client;
  /** The Foundry user id this manager speaks for. */
  userId: string | null;
  /** The wire in use; setting it makes a new client for the matching URL. */
  protocol: FrinnyProtocol;
  /** The JSON gateway URL; setting it reconnects when the JSON wire is in use. */
  wsUrl: string;
  /** The Socket.IO backend URL; setting it reconnects when Socket.IO is in use. */
  backendUrl: string;
  /** The URL the client dials. */
  readonly url: string;
  /** The connection state. */
  readonly state: AgentState;
  /** Whether the link is up. */
  readonly isConnected: boolean;
  /** `pendingRequests.size`: requests not yet settled. */
  readonly pendingRequests: { readonly size: number };

  /** Connects; concurrent calls share one Promise. */
  connect(): Promise<void>;
  /** Leaves the backend (no automatic reconnection). */
  disconnect(): void;
  /** Ends the manager for good and releases every callback (`agent.heldCallbacks` is 0). */
  close(): void;

  /** Writes a `character_update` to the actor's sheet; whether it changed. */
  applyCharacterUpdate(data: { actorId?: string; updates?: Record<string, unknown>; message_id?: string | number }): Promise<boolean>;
  /** `callback(isTyping)` on every `typing_status`; returns the unsubscribe function. */
  onTypingStatus(callback: (isTyping: boolean) => void): () => void;
  /** A private query with the user's stored chat (last 10 + the new message) as history. */
  handlePrivateQuery(userId: string, content: string): Promise<FrinnyReply>;
  /** A public-chat query with the last 10 chat messages, the speaker and the system id. */
  handlePublicQuery(userId: string, content: string): Promise<FrinnyReply>;
  /** The `feedback` game event. */
  submitFeedback(messageId: string, type: 'positive' | 'negative' | string): Promise<FrinnyReply>;
  /** The `character_creation_start` game event. */
  notifyCharacterCreation(context: Record<string, any>): Promise<FrinnyReply>;
  /** The `combat_turn` game event. */
  notifyCombatTurn(combatState: Record<string, any>): Promise<FrinnyReply>;
  /** The `level_up` game event. */
  notifyLevelUp(levelUpData: Record<string, any>): Promise<FrinnyReply>;
  /** The `combat_start` game event. */
  notifyCombatStart(combatData: Record<string, any>): Promise<FrinnyReply>;

  /** `callback(payload)` for every `name` event (typed for the catalogue's events), with `ack` last when the event asks for an answer; kept across URL changes. */
  subscribe<K extends keyof ServerEvents>(name: K, callback: (payload: ServerEvents[K], ack?: Ack) => void): () => void;
  subscribe<N extends string>(name: N extends keyof ServerEvents ? never : N, callback: (...args: any[]) => void): () => void;
  /** Removes a `subscribe` subscription; whether there was one. */
  unsubscribe(name: string, callback: (...args: any[]) => void): boolean;
  /** As `subscribe`, for the next event only. */
  once<K extends keyof ServerEvents>(name: K, callback: (payload: ServerEvents[K], ack?: Ack) => void): () => void;
  once<N extends string>(name: N extends keyof ServerEvents ? never : N, callback: (...args: any[]) => void): () => void;
  /** `callback(state, reason)` on every state change; kept across URL changes. */
  onStateChange(callback: (state: AgentState, reason?: string) => void): () => void;
  /** `callback(err)` for errors no request owns; kept across URL changes. */
  onError(callback: (err: AgentError) => void): () => void;
  /** Fire and forget. */
  emit(event: string, payload?: unknown, options?: EmitOptions): void;
  /** Any request; resolves with the reply carrying its request_id. */
  request(event: string, payload?: Record<string, unknown>, options?: RequestOptions): Promise<any>;
  /** Relays an event to the whole table (GM only on the reference server). */
  broadcastEvent(event: string, payload: any): Promise<any>;
  /** Declares custom events for the world (GM only on the reference server, over Socket.IO). */
  defineEvents(specs: CustomEventSpec[]): Promise<DefineEventsResult>;
  /** Joins a synchronised state scope. */
  syncState(scope: string): Promise<any>;
  /** `callback(doc, change)` when the scope's document changes; kept across URL changes. */
  subscribeState(scope: string, callback: (doc: any, change: DocChange) => void): () => void;
  /** The scope's document as this client holds it (undefined when not synced). */
  getState(scope: string): any;
  /** Leaves a synchronised state scope. */
  unsyncState(scope: string): void;
  /** Replaces a synchronised document (the merge patch from the current one is sent). */
  replaceState(scope: string, doc: object, options?: { optimistic?: boolean }): Promise<{ version: number }>;
  /** When the next reconnection attempt starts (`Date.now()` ms) while waiting out the backoff; else null. */
  readonly nextReconnectAt: number | null;
  /** Changes a synchronised document. */
  updateState(scope: string, patch: any, options?: { optimistic?: boolean }): Promise<{ version: number }>;
  /** The merge for conflicting optimistic updates; kept across URL changes. */
  onConflict(scope: string, resolver: (local: any, server: any) => object | undefined | null): () => void;
  /** The client's counters. */
  metrics(): AgentMetrics;
}

/** How many earlier messages a query carries (10). */
export declare const HISTORY_LENGTH: number;
/** `wss://frinny.net/ws`. */
export declare const DEFAULT_WS_URL: string;
/** `https://frinny.net`. */
export declare const DEFAULT_BACKEND_URL: string;
/** The game events sent wrapped on the JSON wire. */
export declare const WRAPPED_EVENTS: readonly ['character_creation_start', 'combat_turn', 'level_up', 'combat_start', 'feedback'];
/** The old class's timings. */
export declare const DEFAULT_TIMINGS: Readonly<{
  timeout: number;
  connectTimeout: number;
  reconnectionAttempts: number;
  reconnectionDelay: number;
  reconnectionDelayMax: number;
}>;
/** PF2e proficiency ranks by name. */
export declare const PROFICIENCY_RANKS: Readonly<Record<'untrained' | 'trained' | 'expert' | 'master' | 'legendary', number>>;
/** A `frinny.<key>` setting, or undefined when it is not registered. */
export declare function readSetting(game: any, key: string): any;
/** Applies a `character_update` to the actor; whether an update was written. */
export declare function applyCharacterUpdate(
  game: any,
  data: { actorId?: string; updates?: { skills?: Record<string, string | number> }; message_id?: string },
): Promise<boolean>;
/** A chat message as the public query sends it (`toObject()`, rolls serialised). */
export declare function serializeChatMessage(message: any): Record<string, any>;

export default AgentManager;

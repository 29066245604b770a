// Types of `frinny-agent/components`: the Phase 2 UI elements and FrinnyChat.

import type { AgentError } from '../../pkg/frinny_agent.js';

/**
 * What the elements and FrinnyChat use of an agent: the package's
 * `AgentManager`, or the Foundry drop-in (`frinny-agent/foundry`) itself.
 */
export interface Agent {
  readonly state: string;
  /** When the next reconnection attempt starts (`Date.now()` ms), while waiting out the backoff. */
  readonly nextReconnectAt?: number | null;
  connect(): Promise<void>;
  close(): void;
  subscribe(name: string, callback: (...args: any[]) => void): () => void;
  emit(event: string, payload?: any, options?: any): void;
  request(event: string, payload?: any, options?: any): Promise<any>;
  onStateChange(callback: (state: any, reason?: string) => void): () => void;
  onError(callback: (error: AgentError) => void): () => void;
  syncState(scope: string): Promise<any>;
  getState(scope: string): any;
  subscribeState(scope: string, callback: (doc: any, change: any) => void): () => void;
  unsyncState(scope: string): void;
  updateState(scope: string, patch: any, options?: { optimistic?: boolean }): Promise<{ version: number }>;
  replaceState(scope: string, doc: any, options?: { optimistic?: boolean }): Promise<{ version: number }>;
  onConflict(scope: string, resolver: (local: any, server: any) => object | undefined | null): () => void;
}

/** The base of every Frinny element: an `agent` property; content in an open shadow root. */
export declare class FrinnyElement extends HTMLElement {
  /** CSS of the element's shadow root. */
  static styles: string;
  /**
   * The AgentManager the element listens to. Setting it subscribes (while the
   * element is in a document); `null`, or removing the element, releases
   * every subscription.
   */
  agent: Agent | null;
  readonly shadowRoot: ShadowRoot;
  /** Applies queued updates now instead of in the next animation frame. */
  flush(): void;
}

/** `<frinny-typing-indicator stale-after="30000">`. */
export declare class FrinnyTypingIndicator extends FrinnyElement {
  /** ms after the last typing event at which it hides by itself (attribute `stale-after`, default 30000). */
  staleAfter: number;
  /** Whether it is (or, within this frame, will be) showing. */
  readonly typing: boolean;
  /** Shows it and restarts the stale timer. */
  show(): void;
  /** Hides it. */
  hide(): void;
}

/** A notification as `<frinny-notification-panel>` takes it. */
export interface NotificationInput {
  message: string;
  title?: string;
  level?: 'info' | 'success' | 'warning' | 'error' | (string & {});
  from?: string;
  timestamp?: number;
}

/** `<frinny-notification-panel max="50" autohide>`. */
export declare class FrinnyNotificationPanel extends FrinnyElement {
  /** The most items held (attribute `max`, default 50). */
  max: number;
  /** Items shown (the pending frame included). */
  readonly count: number;
  /** Adds a local item, newest first. */
  notify(input: NotificationInput | string): void;
  /** Removes every item. */
  clear(): void;
}

/** One choice of a suggestion beside Accept and Dismiss. */
export interface SuggestionAction {
  label: string;
  value: unknown;
}

/** A suggestion as `<frinny-suggestion-box>` takes it (the `suggestion` event's payload). */
export interface SuggestionInput {
  id: string | number;
  text: string;
  actorId?: string;
  kind?: string;
  actions?: SuggestionAction[];
}

/** `detail` of the bubbling, composed `frinny-suggestion` event. */
export interface SuggestionChoice {
  id: string | number;
  accepted: boolean;
  /** The value of the action picked, if one was. */
  action: unknown;
  suggestion: SuggestionInput;
}

/** `<frinny-suggestion-box max="20">`. Dispatches `frinny-suggestion` on each choice. */
export declare class FrinnySuggestionBox extends FrinnyElement {
  /** The suggestions waiting for a choice. */
  readonly suggestions: SuggestionInput[];
  /** Names a suggestion's actor ("For Valeros"); without it no actor is shown. */
  describeActor: ((actorId: string) => string | undefined | null) | null;
  /** Adds (or replaces, by id) a suggestion; `local`: no `suggestion_feedback` is sent for it. */
  suggest(suggestion: SuggestionInput, options?: { local?: boolean }): void;
  /** Chooses as the buttons do; returns whether there was such a suggestion. */
  choose(id: string | number, accepted: boolean, action?: unknown): boolean;
  /** Removes every suggestion without answering. */
  clear(): void;
  addEventListener<K extends keyof FrinnyElementEventMap>(
    type: K,
    listener: (this: FrinnySuggestionBox, ev: FrinnyElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** One combatant's change in a `combat_update`. */
export interface CombatChange {
  name: string;
  actorId?: string;
  hp?: { value: number; max: number };
  conditions?: string[];
}

/** The `combat_update` payload (and the document of a combat scope). */
export interface CombatUpdate {
  combatId: string;
  round: number;
  turn: number;
  combatant: { name: string; actorId?: string };
  changes?: CombatChange[];
  /** In a synced document: the last changes, oldest first. */
  log?: Array<CombatChange & { round?: number; turn?: number }>;
}

/** `<frinny-combat-updates [scope="combat:<id>"] log-size="20" autohide collapsed>`. */
export declare class FrinnyCombatUpdates extends FrinnyElement {
  /** The synced state scope that drives it, or null (then `combat_update` events do). */
  scope: string | null;
  /** The latest update shown, or null. */
  readonly current: CombatUpdate | null;
  /** The log's changes, oldest first, each with its round and turn. */
  readonly log: Array<CombatChange & { round: number; turn: number }>;
  /** Applies one `combat_update` payload. */
  update(update: CombatUpdate): void;
  /** Forgets the encounter. */
  reset(): void;
}

/** What `<frinny-connection-status>` shows (its `data-state`). */
export type ShownState = 'connected' | 'connecting' | 'reconnecting' | 'offline' | 'closed';

/** `<frinny-connection-status error-ms="6000">`. */
export declare class FrinnyConnectionStatus extends FrinnyElement {
  /** The state shown. */
  readonly shown: ShownState;
  /** Tries to connect now. */
  retry(): void;
  /** Shows an error for `error-ms` ms. */
  showError(error: AgentError | { code?: string; message?: string } | unknown): void;
}

/** Map of the DOM events the elements dispatch. */
export interface FrinnyElementEventMap extends HTMLElementEventMap {
  'frinny-suggestion': CustomEvent<SuggestionChoice>;
  'frinny-error': CustomEvent<unknown>;
}

/** The state shown for an agent state and the browser's network. */
export declare function shownState(state: string, online: boolean): ShownState;

/** Tag name → class of every element. */
export declare const ELEMENTS: Readonly<{
  'frinny-typing-indicator': typeof FrinnyTypingIndicator;
  'frinny-notification-panel': typeof FrinnyNotificationPanel;
  'frinny-suggestion-box': typeof FrinnySuggestionBox;
  'frinny-combat-updates': typeof FrinnyCombatUpdates;
  'frinny-connection-status': typeof FrinnyConnectionStatus;
}>;

/** Registers every element (with `customElements`, or `registry`). Calling it again is harmless. */
export declare function defineComponents(registry?: CustomElementRegistry): void;

/** Every reply event name (`*_response`). */
export declare const RESPONSE_EVENTS: readonly string[];
export declare const DEFAULT_STALE_AFTER_MS: number;
export declare const DEFAULT_MAX_NOTIFICATIONS: number;
export declare const DEFAULT_MAX_SUGGESTIONS: number;
export declare const DEFAULT_COMBAT_LOG: number;
export declare const DEFAULT_ERROR_MS: number;
export declare const DEFAULT_HISTORY_LIMIT: number;
export declare const DEFAULT_SYNC_TIMEOUT_MS: number;

/** A chat message (as kept in the history scope under `chat.<id>`). */
export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  /** Milliseconds since the epoch. */
  ts: number;
  public?: boolean;
  feedback?: 'positive' | 'negative';
  requestId?: string | number;
  replyTo?: string;
}

/** A `character_update` payload. */
export interface CharacterUpdate {
  actorId: string;
  updates: Record<string, unknown>;
  message_id?: string | number;
}

/** Storage for the local history (a `Storage` such as localStorage fits). */
export type ChatStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

interface FrinnyChatCommonOptions {
  /** Where the window renders (appended to it). */
  element: Element;
  /** The user's id: names the history scope `user:<userId>` and is sent with queries. */
  userId?: string;
  /** The synced scope of the history (default `user:<userId>`); `null`: this device only. */
  historyScope?: string | null;
  /** A synced scope that drives the combat panel instead of `combat_update` events. */
  combatScope?: string;
  /** Messages kept (default 200). */
  historyLimit?: number;
  /** ms the first `syncState` may take before the history is kept locally (default 4000). */
  syncTimeout?: number;
  /** Where the local history is kept (default localStorage; null: nowhere). */
  storage?: ChatStorage | null;
  /** Applies an accepted `character_update` to the sheet; may return a Promise. */
  applyCharacterUpdate?: (update: CharacterUpdate) => unknown;
  /** An actor's display name. */
  describeActor?: (actorId: string) => string | undefined;
  /** Whether the toggle starts on Public (default false). */
  publicChat?: boolean;
  /** Sends a question, resolving with the reply (default: `agent.request('query', ...)`); e.g. the Foundry drop-in's handlePrivateQuery. */
  query?: (content: string, context: { public: boolean; history: Array<{ role: string; content: string }> }) => Promise<any>;
  /** Sends a thumbs up/down (default: `agent.request('feedback', ...)`). */
  feedback?: (messageId: string, type: 'positive' | 'negative', context: { requestId?: string | number }) => Promise<unknown>;
}

/** Options of `new FrinnyChat(...)`: an `agent` it is given (left open), or `agentOptions` for one it makes (and closes). */
export type FrinnyChatOptions =
  | (FrinnyChatCommonOptions & { agent: Agent; agentOptions?: undefined })
  | (FrinnyChatCommonOptions & { agent?: undefined; agentOptions: import('../../pkg/frinny_agent.js').AgentManagerOptions });

/** The chat window (roadmap Phase 2.1). */
export declare class FrinnyChat {
  constructor(options: FrinnyChatOptions);
  /** The element it renders into. */
  readonly element: Element;
  /** The AgentManager (null until made, with `agentOptions`). */
  readonly agent: Agent | null;
  /** Whether the window made the agent (and closes it on close()). */
  readonly ownsAgent: boolean;
  /** Functions that undo what the window set up; close() calls and clears them. */
  readonly cleanupFunctions: Set<() => void>;
  /** Whether the history is in the synced scope (false: kept on this device). */
  readonly synced: boolean;
  /** Whether close() was called. */
  readonly closed: boolean;
  /** Resolves once the window is set up. */
  readonly ready: Promise<void>;
  /** The window's host element (its content is in the host's open shadow root). */
  readonly host: HTMLElement;
  /** The messages shown, oldest first. */
  readonly messages: ChatMessage[];
  /** The synced scope holding the history, or null. */
  readonly historyScope: string | null;
  /** Whether the toggle is on Public. */
  publicChat: boolean;
  /** Sends a query; resolves with Frinny's answer, or null if it failed (shown with a retry button). */
  send(content: string, options?: { public?: boolean }): Promise<ChatMessage | null>;
  /** Sends a failed message again. */
  resend(id: string): Promise<ChatMessage | null>;
  /** Thumbs up/down on one of Frinny's answers. */
  submitFeedback(messageId: string, type: 'positive' | 'negative'): Promise<void>;
  /** Shows a `character_update` as a suggestion the player accepts before the sheet changes (for one that arrived while the window was closed). */
  suggestCharacterUpdate(update: CharacterUpdate): void;
  /** A note in the conversation (not sent). */
  addSystemMessage(content: string): void;
  /** Forgets the conversation, here and in the synced history. */
  clearHistory(): Promise<void>;
  /** Focuses the input. */
  focus(): void;
  /** Releases every subscription, clears state, removes the DOM; closes the agent only if it made it. */
  close(): void;
  /** Subscribes to what the window needs and sets up the elements (called by the constructor). */
  protected _setupEventSubscriptions(): void;
}

/** The history's conflict resolver: the messages (and feedback) the server lacks, by id. */
export declare function mergeConflict(local: unknown, server: unknown): { chat: Record<string, unknown> } | undefined;
/** `{skills: {acrobatics: 'expert'}}` → "Acrobatics: expert". */
export declare function describeUpdates(updates: Record<string, unknown>): string;

/** Every string key with its English default. */
export declare const STRINGS: Readonly<Record<string, string>>;
/** Routes strings through `fn(key, data)` (e.g. Foundry's game.i18n); null restores the defaults. */
export declare function setTranslator(fn: ((key: string, data?: Record<string, unknown>) => string | undefined | null) | null): void;
/** The text of `key` with `{name}` placeholders filled from `data`. */
export declare function localize(key: string, data?: Record<string, unknown>): string;

declare global {
  interface HTMLElementTagNameMap {
    'frinny-typing-indicator': FrinnyTypingIndicator;
    'frinny-notification-panel': FrinnyNotificationPanel;
    'frinny-suggestion-box': FrinnySuggestionBox;
    'frinny-combat-updates': FrinnyCombatUpdates;
    'frinny-connection-status': FrinnyConnectionStatus;
  }
}

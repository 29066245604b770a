// Drop-in replacement for the Frinny Foundry module's hand-written
// AgentManager (frinny/scripts/managers/AgentManager.js): the same surface
// the module's FrinnyChat and hooks call, with the realtime work (framing,
// request ids, timeouts, reconnection) done by the frinny-agent client.
//
// This file never imports the wasm: the client class is a dependency
// (`{ Agent }`), so node tests can hand it a fake. The package entry
// `frinny-agent/foundry` (./index.js) wires it to the wasm AgentManager:
//
//   import { AgentManager } from 'frinny-agent/foundry';
//   const manager = new AgentManager();            // reads game.settings and game.user
//   await manager.connect();
//   manager.onTypingStatus((isTyping) => chat.showTyping(isTyping));
//   const reply = await manager.handlePrivateQuery(game.user.id, 'What does Shield Block do?');
//
// Wire formats (chosen by the optional `frinny.protocol` world setting):
//
// - 'json' (the default, and what is used when the setting is not
//   registered): the current module's API-gateway framing, one JSON object
//   per WebSocket frame to `wsUrl?userId=<id>`. Queries go out as
//   `{action:'query', content, actorId, conversation_history, is_public_chat,
//   request_id, userId, ...}`; game events wrapped as `{action:'event',
//   payload:{action:<event>, ...data, request_id, userId}}`.
// - 'socket.io': the Flask-SocketIO backend contract at `backendUrl` with the
//   query `userId`; events unwrapped (`query`, `combat_turn`, ...), replies
//   `<event>_response`.

/** How many earlier messages go with a query as `conversation_history`. */
export const HISTORY_LENGTH = 10;
/** The WebSocket URL used when the `frinny.wsUrl` setting is unset or empty. */
export const DEFAULT_WS_URL = 'wss://frinny.net/ws';
/** The backend URL used when the `frinny.backendUrl` setting is unset or empty. */
export const DEFAULT_BACKEND_URL = 'https://frinny.net';
/** The game events the JSON gateway wants wrapped in `{action:'event', payload}`. */
export const WRAPPED_EVENTS = Object.freeze([
  'character_creation_start',
  'combat_turn',
  'level_up',
  'combat_start',
  'feedback',
]);
/** The old class's timings: 30 s per request, 15 s to connect, 5 reconnect attempts. */
export const DEFAULT_TIMINGS = Object.freeze({
  timeout: 30_000,
  connectTimeout: 15_000,
  reconnectionAttempts: 5,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
});
/** PF2e proficiency ranks by name, as the old SkillProficiencyManager read them. */
export const PROFICIENCY_RANKS = Object.freeze({ untrained: 0, trained: 1, expert: 2, master: 3, legendary: 4 });

const MODULE = 'frinny';
const PROTOCOLS = ['json', 'socket.io'];

/**
 * Reads a `frinny.<key>` setting. Foundry's `game.settings.get` throws for a
 * key that was never registered; that (and a missing `game`) reads as
 * `undefined`.
 * @param {any} game Foundry's `game`
 * @param {string} key the setting's key
 * @returns {any}
 */
export function readSetting(game, key) {
  try {
    return game?.settings?.get?.(MODULE, key);
  } catch {
    return undefined;
  }
}

/**
 * Applies a server `character_update` (`{actorId, updates: {skills: {name:
 * rank}}, message_id}`) to the actor through Foundry's API, as the old
 * SkillProficiencyManager did: skill names are lower-cased and must exist on
 * the actor's sheet; a rank is a name (`'expert'`) or a number 0-4; the
 * valid ones are written with one `actor.update({'system.skills.<skill>.rank':
 * n, ...})`. Problems are reported on the console, never thrown.
 * @param {any} game Foundry's `game`
 * @param {{actorId?: string, updates?: {skills?: Record<string, string|number>}, message_id?: string}} data
 * @returns {Promise<boolean>} whether an update was written
 */
export async function applyCharacterUpdate(game, data) {
  const skills = data?.updates?.skills;
  if (!skills || typeof skills !== 'object') return false;
  const actor = game?.actors?.get?.(data?.actorId);
  if (!actor) {
    console.warn('Frinny | character_update: actor not found', { actorId: data?.actorId, messageId: data?.message_id });
    return false;
  }
  if (actor.type !== 'character') {
    console.warn('Frinny | character_update: not a character', { actorId: data.actorId });
    return false;
  }
  const sheet = actor.system?.skills ?? {};
  const update = {};
  for (const [rawName, proficiency] of Object.entries(skills)) {
    const name = String(rawName).toLowerCase();
    const rank = typeof proficiency === 'number' ? proficiency : PROFICIENCY_RANKS[String(proficiency).toLowerCase()];
    if (!sheet[name]) {
      console.warn(`Frinny | character_update: skill "${name}" not on the sheet of ${actor.name}`);
    } else if (!Number.isInteger(rank) || rank < 0 || rank > 4) {
      console.warn(`Frinny | character_update: invalid proficiency ${JSON.stringify(proficiency)} for ${name}`);
    } else {
      update[`system.skills.${name}.rank`] = rank;
    }
  }
  if (Object.keys(update).length === 0) return false;
  try {
    await actor.update(update);
    return true;
  } catch (err) {
    console.warn('Frinny | character_update: actor.update failed', err);
    return false;
  }
}

/** `message.roll` / `message.rolls` as JSON data (rolls already serialised stay as they are). */
function rollData(roll) {
  return roll && typeof roll === 'object' && typeof roll.toJSON === 'function' ? roll.toJSON() : roll;
}

/**
 * One chat message as the old class sent it: `message.toObject()`, with
 * `roll` (and each of `rolls`) serialised.
 * @param {any} message a Foundry ChatMessage
 * @returns {object}
 */
export function serializeChatMessage(message) {
  const data = typeof message?.toObject === 'function' ? message.toObject() : { ...(message ?? {}) };
  if (message?.roll && typeof data.roll !== 'string') data.roll = rollData(message.roll);
  if (Array.isArray(message?.rolls) && message.rolls.length > 0) data.rolls = message.rolls.map(rollData);
  return data;
}

/**
 * A game event's payload: the caller's data without the keys the wire owns
 * (`action`, `request_id`), with the manager's `userId`, as the old class
 * sent it.
 */
function withUser(manager, data) {
  const { action: _action, request_id: _requestId, ...rest } = data && typeof data === 'object' ? data : {};
  return { ...rest, userId: manager.userId };
}

/**
 * The Frinny AgentManager for Foundry VTT: a drop-in for the module's old
 * class, backed by the frinny-agent client.
 *
 * Errors: every rejection is an `Error` with a stable `code` (`TIMEOUT`,
 * `DISCONNECTED`, `SERVER_ERROR`, `CLOSED`, ...). A server `error` frame that
 * carries a `request_id` rejects only that request (code `SERVER_ERROR`, the
 * server's message as `err.message`). An `error` with no `request_id` is
 * reported to the `onError` listeners and the console and rejects nothing
 * (the old class rejected every pending request). A frame that is not JSON,
 * or has no `action`, is counted in `metrics().errors` and reported to
 * `onError` (code `PROTOCOL_ERROR`) without dropping the link or any pending
 * request.
 */
export class AgentManager {
  /**
   * Takes no arguments in Foundry: reads `game.settings` (`frinny.wsUrl`,
   * `frinny.backendUrl`, the optional `frinny.protocol`) and `game.user.id`.
   * The client is created here (it never is `null`); nothing is dialled
   * before `connect()`.
   * @param {object} [options] for tests and other hosts
   * @param {new (options: object) => any} [options.Agent] the client class (the package entry passes the wasm AgentManager)
   * @param {any} [options.game] Foundry's `game` (default `globalThis.game`)
   * @param {'json'|'socket.io'} [options.protocol] overrides the `frinny.protocol` setting
   * @param {string} [options.wsUrl] overrides the `frinny.wsUrl` setting
   * @param {string} [options.backendUrl] overrides the `frinny.backendUrl` setting
   * @param {string} [options.userId] overrides `game.user.id`
   * @param {'apply'|'suggest'} [options.characterUpdates] what a server
   *   `character_update` does: `'apply'` (default, as the old class) writes it
   *   to the sheet at once; `'suggest'` leaves it to the caller (the chat
   *   window shows it as a suggestion the player accepts, then calls
   *   `applyCharacterUpdate`)
   * Any other key (`auth` — an object or a sync/async function —, `timeout`,
   * `connectTimeout`, `reconnectionAttempts`, `query`, ...) goes to the client as it is.
   */
  constructor(options = {}) {
    const { Agent, game, protocol, wsUrl, backendUrl, userId, characterUpdates, ...clientOptions } = options ?? {};
    if (typeof Agent !== 'function') {
      throw Object.assign(
        new Error("frinny-agent/foundry: no client class; import AgentManager from 'frinny-agent/foundry' (js/foundry/index.js) or pass { Agent }"),
        { code: 'INVALID_OPTIONS' },
      );
    }
    this._Agent = Agent;
    this._game = game;
    this._clientOptions = clientOptions;
    const g = this.game;
    this._wsUrl = wsUrl || readSetting(g, 'wsUrl') || DEFAULT_WS_URL;
    this._backendUrl = backendUrl || readSetting(g, 'backendUrl') || DEFAULT_BACKEND_URL;
    const wanted = protocol ?? readSetting(g, 'protocol');
    this._protocol = PROTOCOLS.includes(wanted) ? wanted : 'json';
    /** The Foundry user id this manager speaks for (`game.user.id`). */
    this.userId = userId ?? g?.user?.id ?? null;
    this._typing = new Set();
    this._bindings = new Set();
    this._connecting = null;
    this._closed = false;
    this._agent = null;

    // The drop-in's own subscriptions, re-attached to every client.
    this._bind((agent) => agent.onTypingStatus((payload) => this._relayTyping(payload)));
    if (characterUpdates !== 'suggest') {
      this._bind((agent) => agent.subscribe('character_update', (data) => {
        this.applyCharacterUpdate(data).catch((err) => console.warn('Frinny | character_update', err));
      }));
    }
    this._bind((agent) => agent.onError((err) => {
      console.warn(`Frinny | ${err?.code ?? 'ERROR'}: ${err?.message ?? err}`);
    }));

    this._swapClient();
  }

  /** Foundry's `game` (the one passed in, else `globalThis.game`). */
  get game() {
    return this._game ?? globalThis.game;
  }

  /** The client underneath (the wasm AgentManager). Never `null`; replaced when the URL in use changes. */
  get agent() {
    return this._agent;
  }

  /** The wire format in use: `'json'` (API gateway at `wsUrl`) or `'socket.io'` (backend at `backendUrl`). */
  get protocol() {
    return this._protocol;
  }

  /** Switches the wire format; a new client dials the matching URL (as for a URL change). */
  set protocol(value) {
    const next = PROTOCOLS.includes(value) ? value : 'json';
    if (next === this._protocol) return;
    this._protocol = next;
    this._reconfigure();
  }

  /** The JSON gateway URL (`frinny.wsUrl`). Setting it reconnects when the JSON wire is in use. */
  get wsUrl() {
    return this._wsUrl;
  }

  set wsUrl(url) {
    const next = url || DEFAULT_WS_URL;
    if (next === this._wsUrl) return;
    this._wsUrl = next;
    if (this._protocol === 'json') this._reconfigure();
  }

  /** The Socket.IO backend URL (`frinny.backendUrl`). Setting it reconnects when the Socket.IO wire is in use. */
  get backendUrl() {
    return this._backendUrl;
  }

  set backendUrl(url) {
    const next = url || DEFAULT_BACKEND_URL;
    if (next === this._backendUrl) return;
    this._backendUrl = next;
    if (this._protocol === 'socket.io') this._reconfigure();
  }

  /** The URL the client dials: `wsUrl` on the JSON wire, `backendUrl` on Socket.IO. */
  get url() {
    return this._protocol === 'json' ? this._wsUrl : this._backendUrl;
  }

  /** `'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed'`. */
  get state() {
    return this._agent.state;
  }

  /** Whether the link is up (the old class's flag). */
  get isConnected() {
    return this._agent.state === 'connected';
  }

  /** The old class's pending table, reduced to what callers read: `pendingRequests.size`. */
  get pendingRequests() {
    const agent = this._agent;
    return {
      get size() {
        return agent.pendingCount;
      },
    };
  }

  /**
   * Connects (the client then reconnects by itself: 5 attempts, 1-5 s apart).
   * Concurrent calls share one Promise. Resolves once the link is up; rejects
   * with TIMEOUT after 15 s (reconnection goes on), CONNECT_REFUSED, CLOSED, ...
   * @returns {Promise<void>}
   */
  connect() {
    if (this._connecting) return this._connecting;
    const agent = this._agent;
    const attempt = Promise.resolve()
      .then(() => agent.connect())
      .then(() => undefined)
      .finally(() => {
        if (this._connecting === attempt) this._connecting = null;
      });
    this._connecting = attempt;
    return attempt;
  }

  /** Leaves the backend (no automatic reconnection); `connect()` again later. In-flight requests reject with DISCONNECTED. */
  disconnect() {
    this._connecting = null;
    this._agent.disconnect();
  }

  /**
   * Ends the manager for good: every subscription is released, pending
   * requests reject with CLOSED and the client lets go of every callback
   * (`agent.heldCallbacks` is 0). The `agent` stays (closed).
   */
  close() {
    if (this._closed) return;
    this._closed = true;
    this._connecting = null;
    for (const binding of this._bindings) binding.detach();
    this._bindings.clear();
    this._typing.clear();
    this._agent.close();
  }

  /**
   * Writes a `character_update` (`{actorId, updates: {skills: {name: rank}}}`)
   * to the actor's sheet, as the old class did on arrival.
   * @param {{actorId?: string, updates?: object, message_id?: string}} data
   * @returns {Promise<boolean>} whether the sheet changed
   */
  applyCharacterUpdate(data) {
    return applyCharacterUpdate(this.game, data);
  }

  /**
   * Calls `callback(isTyping)` (a boolean) whenever Frinny starts or stops
   * typing. Several callbacks may be registered.
   * @param {(isTyping: boolean) => void} callback
   * @returns {() => void} unsubscribe
   */
  onTypingStatus(callback) {
    this._typing.add(callback);
    return () => {
      this._typing.delete(callback);
    };
  }

  /**
   * A query from the private Frinny window. History: the user's
   * `frinny.messages` flag (role `'user'` for `type === 'user'`, else
   * `'assistant'`), the last 10, then the new message; `actorId` is the
   * user's character (or null).
   * @param {string} userId whose stored chat is the history
   * @param {string} content the question
   * @returns {Promise<any>} the `query_response` (with `content`, `messageId`, ...)
   */
  async handlePrivateQuery(userId, content) {
    const game = this.game;
    const stored = (await game?.users?.get?.(userId)?.getFlag?.(MODULE, 'messages')) || [];
    const list = Array.isArray(stored) ? stored : Object.values(stored);
    const history = list
      .map((m) => ({ role: m?.type === 'user' ? 'user' : 'assistant', content: m?.content ?? '' }))
      .slice(-HISTORY_LENGTH);
    history.push({ role: 'user', content });
    return this._call((agent, payload) => agent.sendQuery(payload), {
      content,
      actorId: game?.user?.character?.id ?? null,
      conversation_history: history,
      is_public_chat: false,
      userId: this.userId,
    });
  }

  /**
   * A query from the public chat log (`!frinny ...`). History: the last 10
   * `game.messages` as `toObject()` with rolls serialised; plus
   * `current_speaker {userId, name, actorId, actorName}`, `system_id`,
   * `message_count` and `is_public_chat: true`. `actorId` (the user's
   * character, or null) is sent too, so both kinds of query carry the same
   * base keys.
   * @param {string} userId the asking user (the speaker is `game.user`, as before)
   * @param {string} content the question
   * @returns {Promise<any>} the `query_response`
   */
  async handlePublicQuery(userId, content) {
    const game = this.game;
    const messages = game?.messages?.contents ?? [];
    const history = messages.slice(-HISTORY_LENGTH).map(serializeChatMessage);
    const user = game?.user;
    const character = user?.character;
    return this._call((agent, payload) => agent.sendQuery(payload), {
      content,
      actorId: character?.id ?? null,
      conversation_history: history,
      is_public_chat: true,
      system_id: game?.system?.id ?? null,
      current_speaker: {
        userId: user?.id ?? userId ?? null,
        name: user?.name ?? null,
        actorId: character?.id ?? null,
        actorName: character?.name ?? null,
      },
      message_count: history.length,
      userId: this.userId,
    });
  }

  /**
   * Thumbs up/down on one of Frinny's messages (the `feedback` game event).
   * Resolves with the server's `feedback_response`; a gateway that sends
   * none makes it reject with TIMEOUT after 30 s, as the old class did.
   * @param {string} messageId
   * @param {string} type `'positive'` or `'negative'`
   * @returns {Promise<any>}
   */
  submitFeedback(messageId, type) {
    // Not the client's submitFeedback(messageId, type): the old module sent
    // the user id with it, and the JSON gateway files feedback under it.
    return this._call((agent, payload) => agent.request('feedback', payload), withUser(this, { messageId, type }));
  }

  /**
   * A new character was started (`character_creation_start`).
   * @param {object} context character data (actorId, name, items, ...)
   * @returns {Promise<any>} the `character_creation_response`
   */
  notifyCharacterCreation(context) {
    return this._call((agent, payload) => agent.notifyCharacterCreation(payload), withUser(this, context));
  }

  /**
   * It is the user's character's turn (`combat_turn`).
   * @param {object} combatState round, turn, combatants, ...
   * @returns {Promise<any>} the `combat_response` (`combat_turn_response` on Socket.IO)
   */
  notifyCombatTurn(combatState) {
    return this._call((agent, payload) => agent.notifyCombatTurn(payload), withUser(this, combatState));
  }

  /**
   * The user's character levelled up (`level_up`).
   * @param {object} levelUpData actorId, previousLevel, newLevel, character, ...
   * @returns {Promise<any>} the `level_up_response`
   */
  notifyLevelUp(levelUpData) {
    return this._call((agent, payload) => agent.notifyLevelUp(payload), withUser(this, levelUpData));
  }

  /**
   * A combat began (`combat_start`).
   * @param {object} combatData
   * @returns {Promise<any>} the `combat_response` (`combat_start_response` on Socket.IO)
   */
  notifyCombatStart(combatData) {
    return this._call((agent, payload) => agent.notifyCombatStart(payload), withUser(this, combatData));
  }

  /**
   * Calls `callback(...args)` for every `name` event (the last of `args` an
   * `ack` function when the server asks for an answer); kept across URL changes.
   * @param {string} name
   * @param {(...args: any[]) => void} callback
   * @returns {() => void} unsubscribe
   */
  subscribe(name, callback) {
    const binding = this._bind((agent) => agent.subscribe(name, callback), { name, callback });
    return () => this._unbind(binding);
  }

  /**
   * Removes a `subscribe(name, callback)` subscription.
   * @param {string} name
   * @param {Function} callback
   * @returns {boolean} whether one was removed
   */
  unsubscribe(name, callback) {
    for (const binding of this._bindings) {
      if (binding.name === name && binding.callback === callback) {
        this._unbind(binding);
        return true;
      }
    }
    return false;
  }

  /**
   * As `subscribe`, for the next `name` event only.
   * @param {string} name
   * @param {(...args: any[]) => void} callback
   * @returns {() => void} unsubscribe
   */
  once(name, callback) {
    const binding = this._bind((agent) => agent.once(name, (...args) => {
      this._unbind(binding, false);
      callback(...args);
    }));
    return () => this._unbind(binding);
  }

  /**
   * Calls `callback(state, reason)` on every connection state change; kept across URL changes.
   * @param {(state: string, reason?: string) => void} callback
   * @returns {() => void} unsubscribe
   */
  onStateChange(callback) {
    const binding = this._bind((agent) => agent.onStateChange(callback));
    return () => this._unbind(binding);
  }

  /**
   * Calls `callback(err)` for errors no request owns: a server `error`
   * without `request_id` (SERVER_ERROR), a malformed frame
   * (PROTOCOL_ERROR), failed reconnection, ... Kept across URL changes.
   * @param {(err: Error & {code: string}) => void} callback
   * @returns {() => void} unsubscribe
   */
  onError(callback) {
    const binding = this._bind((agent) => agent.onError(callback));
    return () => this._unbind(binding);
  }

  /**
   * Sends an event without waiting for a reply (game events are wrapped on the JSON wire).
   * @param {string} event
   * @param {object} [payload]
   * @param {object} [options] `{volatile}`
   */
  emit(event, payload, options) {
    return options === undefined ? this._agent.emit(event, payload) : this._agent.emit(event, payload, options);
  }

  /**
   * Any request: resolves with the reply carrying the same `request_id`.
   * @param {string} event
   * @param {object} [payload]
   * @param {{timeout?: number, signal?: AbortSignal, retry?: boolean}} [options]
   * @returns {Promise<any>}
   */
  request(event, payload, options) {
    return options === undefined ? this._agent.request(event, payload) : this._agent.request(event, payload, options);
  }

  /**
   * Asks the server to relay an event to the whole table (GM only on the reference server).
   * @param {string} event
   * @param {object} payload
   * @returns {Promise<any>}
   */
  broadcastEvent(event, payload) {
    return this._agent.broadcastEvent(event, payload);
  }

  /**
   * Declares custom events `x-<module>:<event>` for the world (GM only on
   * the reference server, over Socket.IO); resolves with `{ok, defined, count}`.
   * @param {object[]} specs
   * @returns {Promise<any>}
   */
  defineEvents(specs) {
    return this._agent.defineEvents(specs);
  }

  /**
   * Joins a synchronised state scope; resolves with its document.
   * After a URL change, call it again on the new server.
   * @param {string} scope
   * @returns {Promise<any>}
   */
  syncState(scope, ...rest) {
    return this._agent.syncState(scope, ...rest);
  }

  /**
   * The scope's document as this client holds it (undefined when not synced).
   * @param {string} scope
   * @returns {any}
   */
  getState(scope) {
    return this._agent.getState(scope);
  }

  /**
   * Leaves a synchronised state scope.
   * @param {string} scope
   */
  unsyncState(scope) {
    return this._agent.unsyncState(scope);
  }

  /**
   * Replaces a synchronised document: the merge patch from the current one is computed and sent.
   * @param {string} scope
   * @param {object} doc
   * @param {{optimistic?: boolean}} [options]
   * @returns {Promise<{version: number}>}
   */
  replaceState(scope, doc, options) {
    return options === undefined ? this._agent.replaceState(scope, doc) : this._agent.replaceState(scope, doc, options);
  }

  /** When the next reconnection attempt starts (`Date.now()` ms) while the client waits out its backoff; else null. */
  get nextReconnectAt() {
    return this._agent.nextReconnectAt ?? null;
  }

  /**
   * Calls `callback(doc, change)` whenever the scope's document changes; kept across URL changes.
   * @param {string} scope
   * @param {(doc: any, change: any) => void} callback
   * @returns {() => void} unsubscribe
   */
  subscribeState(scope, callback) {
    const binding = this._bind((agent) => agent.subscribeState(scope, callback));
    return () => this._unbind(binding);
  }

  /**
   * Changes a synchronised document.
   * @param {string} scope
   * @param {object} patch
   * @param {{optimistic?: boolean}} [options]
   * @returns {Promise<any>}
   */
  updateState(scope, patch, options) {
    return options === undefined ? this._agent.updateState(scope, patch) : this._agent.updateState(scope, patch, options);
  }

  /**
   * The merge used when an optimistic update conflicts with the server; kept across URL changes.
   * @param {string} scope
   * @param {(local: any, server: any) => any} resolver
   * @returns {() => void} unsubscribe
   */
  onConflict(scope, resolver) {
    const binding = this._bind((agent) => agent.onConflict(scope, resolver));
    return () => this._unbind(binding);
  }

  /**
   * The client's counters (frames, bytes, `errors` by code, subscribers, ...).
   * @returns {Record<string, any>}
   */
  metrics() {
    return this._agent.metrics();
  }

  // ---- internals ----

  /** The options the client is built with, for the wire in use. */
  _options() {
    const { query, ...extra } = this._clientOptions;
    const q = { ...(query ?? {}) };
    if (this.userId != null) q.userId = this.userId;
    const common = { ...DEFAULT_TIMINGS, ...extra, query: q };
    return this._protocol === 'json'
      ? { ...common, url: this._wsUrl, protocol: 'json', wrapEvents: [...WRAPPED_EVENTS] }
      : { ...common, url: this._backendUrl, protocol: 'socket.io' };
  }

  _relayTyping(payload) {
    const isTyping = Boolean(payload?.isTyping);
    for (const callback of [...this._typing]) {
      try {
        callback(isTyping);
      } catch (err) {
        console.error('Frinny | typing callback failed', err);
      }
    }
  }

  /** Keeps a subscription in the drop-in and attaches it to the current client. */
  _bind(attach, extra = {}) {
    const binding = {
      ...extra,
      attach,
      off: null,
      detach() {
        const off = this.off;
        this.off = null;
        try {
          off?.();
        } catch {
          // the client is already closed
        }
      },
    };
    this._bindings.add(binding);
    if (this._agent) binding.off = attach(this._agent);
    return binding;
  }

  _unbind(binding, detach = true) {
    if (!this._bindings.delete(binding)) return;
    if (detach) binding.detach();
  }

  /** Builds the client for the current settings, moving every subscription onto it. */
  _swapClient() {
    const next = new this._Agent(this._options());
    const old = this._agent;
    for (const binding of this._bindings) binding.detach();
    this._agent = next;
    this._connecting = null;
    for (const binding of this._bindings) binding.off = binding.attach(next);
    if (old) {
      try {
        old.close();
        old.free?.();
      } catch (err) {
        console.warn('Frinny | releasing the old client', err);
      }
    }
    return old;
  }

  /** The URL in use changed: a new client; it dials at once when the old one was up or trying. */
  _reconfigure() {
    if (this._closed) return;
    const wasActive = ['connecting', 'connected', 'reconnecting'].includes(this._agent.state);
    this._swapClient();
    if (wasActive) this.connect().catch(() => {}); // failures reach onError / the next connect()
  }

  /**
   * `send(client, payload)` on the current client: one of the package's
   * Frinny helpers (`sendQuery`, `notifyLevelUp`, ...). While disconnected
   * it also starts connecting, and the request waits in the client's buffer
   * until the link is up (or its own timeout), so it is never lost to a
   * slow connect.
   */
  _call(send, payload) {
    if (this._agent.state === 'disconnected') this.connect().catch(() => {}); // reported through onError
    return send(this._agent, payload);
  }
}

export default AgentManager;

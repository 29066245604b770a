// FrinnyChat: the chat window (roadmap Phase 2.1). Messages, an input,
// thumbs up/down feedback, a public/private toggle, and the Phase 2
// elements (connection status, combat updates, notifications, suggestions,
// typing indicator), all driven by one AgentManager.
//
//   const chat = new FrinnyChat({ agent, element, userId: game.user.id });
//   ...
//   chat.close();   // every subscription released; the agent stays open
//
// The history lives in the per-user synced state scope `user:<userId>` (as
// `{chat: {<messageId>: message}}`), so two tabs of one user show the same
// conversation. Appends are optimistic; a conflict merges by message id and
// never drops a message; after a reconnect the window catches up. Against a
// backend without state sync the first `syncState` is given `syncTimeout`
// ms, then the window keeps its history on this device only (localStorage)
// and never waits on it again until the next reconnect.
import { adoptStyles, button, el, timeOf } from './base.js';
import { CHAT_CSS, BASE_CSS } from './styles.js';
import { localize } from './strings.js';
import { defineComponents } from './define.js';

/** Messages kept in the history (the oldest go first). */
export const DEFAULT_HISTORY_LIMIT = 200;
/** How long the first `syncState` may take before the window keeps its history locally (ms). */
export const DEFAULT_SYNC_TIMEOUT_MS = 4000;
/** Messages of the conversation sent with each query (as the Frinny module does). */
const HISTORY_SENT = 10;

/**
 * @typedef {object} ChatMessage
 * @property {string} id
 * @property {'user' | 'assistant' | 'system'} role
 * @property {string} content
 * @property {number} ts milliseconds since the epoch
 * @property {boolean} [public]
 * @property {'positive' | 'negative'} [feedback]
 * @property {string | number} [requestId]
 * @property {string} [replyTo]
 */

/**
 * @typedef {object} FrinnyChatOptions
 * @property {any} [agent] the AgentManager to use (it stays open on close())
 * @property {object} [agentOptions] or: options for a new AgentManager, which the window connects and closes on close()
 * @property {Element} element where the window renders (its content is appended to it)
 * @property {string} [userId] the user's id: names the synced history scope `user:<userId>` and is sent with queries
 * @property {string | null} [historyScope] the scope holding the history (default `user:<userId>`; `null`: local only)
 * @property {string} [combatScope] a synced scope that drives the combat panel (default: `combat_update` events)
 * @property {number} [historyLimit] messages kept (default 200)
 * @property {number} [syncTimeout] ms the first sync may take (default 4000)
 * @property {Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null} [storage] where the local history is kept (default localStorage; null: nowhere)
 * @property {(update: {actorId: string, updates: Record<string, unknown>, message_id?: string | number}) => unknown} [applyCharacterUpdate]
 *   applies an accepted `character_update` (e.g. `actor.update(...)`); may return a Promise
 * @property {(actorId: string) => string | undefined} [describeActor] an actor's display name
 * @property {boolean} [publicChat] whether the toggle starts on Public (default false)
 * @property {(content: string, context: {public: boolean, history: Array<{role: string, content: string}>}) => Promise<any>} [query]
 *   sends a question and resolves with the reply (default: `agent.request('query', {content,
 *   conversation_history, is_public_chat, userId})`). A host whose backend wants another shape (the
 *   Foundry module's drop-in: `handlePrivateQuery` / `handlePublicQuery`) passes its own.
 * @property {(messageId: string, type: 'positive' | 'negative', context: {requestId?: string | number}) => Promise<any>} [feedback]
 *   sends a thumbs up/down (default: `agent.request('feedback', {messageId, type, context_id?})`)
 */

let instances = 0;

/** The chat window. */
export class FrinnyChat {
  /**
   * Renders the window into `options.element` and subscribes.
   * @param {FrinnyChatOptions} options
   */
  constructor(options) {
    if (!options || !(options.element instanceof Element)) throw new TypeError('FrinnyChat needs { element }');
    if (!options.agent && !options.agentOptions) throw new TypeError('FrinnyChat needs { agent } or { agentOptions }');
    defineComponents();
    /** The element the window renders into. */
    this.element = options.element;
    /** The AgentManager (null until created when built from `agentOptions`). @type {any} */
    this.agent = options.agent ?? null;
    /** Whether the window made the agent (and closes it on close()). */
    this.ownsAgent = !options.agent;
    /** Functions that undo what the window set up; close() calls and clears them. @type {Set<() => void>} */
    this.cleanupFunctions = new Set();
    /** Whether the history is in the synced scope (false: kept on this device). */
    this.synced = false;
    /** Whether close() was called. */
    this.closed = false;
    this._options = options;
    this._userId = options.userId ? String(options.userId) : '';
    this._historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    this._syncTimeout = options.syncTimeout ?? DEFAULT_SYNC_TIMEOUT_MS;
    this._storage = options.storage === undefined ? defaultStorage() : options.storage;
    this._public = Boolean(options.publicChat);
    this._clientId = `${randomId()}${(instances++).toString(36)}`;
    this._seq = 0;
    /** @type {Map<string, ChatMessage>} */
    this._msgs = new Map();
    /** @type {Map<string, {state: 'pending' | 'failed', code?: string}>} */
    this._status = new Map();
    /** Ids appended here whose update the server has not confirmed. @type {Set<string>} */
    this._unsynced = new Set();
    /** @type {Map<string, any>} */
    this._updates = new Map();
    /** @type {Map<string, {li: HTMLElement, sig: string}>} */
    this._nodes = new Map();
    this._frame = 0;
    this._saveTimer = 0;
    this._syncing = false;
    this._startedSync = false;
    this._syncChecked = false;
    this._historySetUp = false;
    /** @type {(() => void) | null} */
    this._stateOff = null;
    /** @type {string | null} */
    this._scope = null;
    this._render();
    /** Resolves once the window is set up (and, from `agentOptions`, its agent made). */
    this.ready = this.agent ? Promise.resolve(this._setupEventSubscriptions()) : this._createAgent(options.agentOptions);
  }

  /** The messages shown, oldest first. @returns {ChatMessage[]} */
  get messages() {
    return sortMessages([...this._msgs.values()]);
  }

  /** Whether the toggle is on Public. */
  get publicChat() {
    return this._public;
  }

  set publicChat(on) {
    this._public = Boolean(on);
    this._publicSwitch?.setAttribute('aria-checked', String(this._public));
  }

  /** The synced scope holding the history, or null. */
  get historyScope() {
    return this._scope;
  }

  /** @param {object} agentOptions */
  async _createAgent(agentOptions) {
    const { ready, AgentManager } = await import('../index.js');
    await ready();
    if (this.closed) return;
    this.agent = new AgentManager(/** @type {any} */ (agentOptions));
    this._setupEventSubscriptions();
    this.agent.connect().catch(() => {
      // Shown by the connection status; reconnection goes on.
    });
  }

  /**
   * Subscribes to what the window needs (typing, notifications,
   * suggestions, combat updates, `character_update`, connection state) and
   * gives the elements the agent. Everything it sets up is undone by a
   * function in `cleanupFunctions`.
   */
  _setupEventSubscriptions() {
    const agent = this.agent;
    const parts = [this._statusEl, this._combatEl, this._notificationsEl, this._suggestionsEl, this._typingEl];
    for (const part of parts) {
      part.agent = agent;
      this.cleanupFunctions.add(() => {
        part.agent = null;
      });
    }
    this._track(agent.subscribe('character_update', (/** @type {any} */ p) => this._onCharacterUpdate(p)));
    this._track(
      agent.subscribe('connection_established', (/** @type {any} */ p) => {
        if (!this._userId && p && typeof p.userId === 'string') {
          this._userId = p.userId;
          this._setupHistory();
        }
      }),
    );
    this._track(
      agent.onStateChange((/** @type {string} */ state) => {
        if (state === 'connected') this._catchUp();
      }),
    );
    const onChoice = (/** @type {Event} */ e) => this._onSuggestionChoice(/** @type {CustomEvent} */ (e).detail);
    this._suggestionsEl.addEventListener('frinny-suggestion', onChoice);
    this.cleanupFunctions.add(() => this._suggestionsEl.removeEventListener('frinny-suggestion', onChoice));
    this._setupHistory();
  }

  /** @param {unknown} off */
  _track(off) {
    if (typeof off === 'function') this.cleanupFunctions.add(/** @type {() => void} */ (off));
  }

  // ----- history ------------------------------------------------------------

  _setupHistory() {
    const o = this._options;
    const scope = o.historyScope === null ? null : o.historyScope ?? (this._userId ? `user:${this._userId}` : null);
    if (this._historySetUp && scope === this._scope) return;
    this._historySetUp = true;
    this._stateOff?.();
    this._scope = scope;
    this._loadLocal();
    if (scope && this.agent && safeState(this.agent) === 'connected') this._trySync();
  }

  /** `subscribeState` and `onConflict` on the history scope (once). */
  _subscribeHistory() {
    if (this._stateOff || !this._scope) return;
    const scope = this._scope;
    const agent = this.agent;
    if (!this._syncChecked) {
      this._syncChecked = true;
      this._startedSync = agent.getState(scope) === undefined;
    }
    const offState = agent.subscribeState(scope, (/** @type {any} */ doc, /** @type {any} */ change) => this._fromDoc(doc, change));
    const offConflict = agent.onConflict(scope, (/** @type {any} */ local, /** @type {any} */ server) => mergeConflict(local, server));
    const off = () => {
      this.cleanupFunctions.delete(off);
      offState();
      offConflict();
      this._stateOff = null;
    };
    this._stateOff = off;
    this.cleanupFunctions.add(off);
  }

  /** Tries the synced history, giving the backend `syncTimeout` ms. */
  _trySync() {
    const scope = this._scope;
    const agent = this.agent;
    if (!scope || !agent || this._syncing || this.closed) return;
    this._syncing = true;
    let timer = 0;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this._syncTimeout);
    });
    const cancel = () => clearTimeout(timer);
    this.cleanupFunctions.add(cancel);
    let synced;
    try {
      this._subscribeHistory();
      synced = agent.syncState(scope);
    } catch (err) {
      synced = Promise.reject(err);
    }
    Promise.race([synced, timeout])
      .then((doc) => {
        if (doc === TIMED_OUT) throw Object.assign(new Error('no state sync'), { code: 'TIMEOUT' });
        if (this.closed || this._scope !== scope) return;
        this.synced = true;
        this._fromDoc(doc, { type: 'snapshot' });
        this._pushLocalOnly(doc);
      })
      .catch(() => {
        if (this.closed || this.agent !== agent || this._scope !== scope) return;
        // No state sync here (or not now): keep the history on this
        // device, and stop the request that may never be answered.
        this.synced = false;
        this._stateOff?.();
        if (this._startedSync) {
          try {
            agent.unsyncState(scope);
          } catch {
            // Closed meanwhile.
          }
        }
      })
      .finally(() => {
        cancel();
        this.cleanupFunctions.delete(cancel);
        this._syncing = false;
        this._renderSyncHint();
      });
  }

  /** After a (re)connect: pick the synced history up again. */
  _catchUp() {
    if (this.closed || !this._scope) return;
    if (!this.synced) {
      this._trySync();
      return;
    }
    const scope = this._scope;
    this.agent.syncState(scope).then(
      (/** @type {any} */ doc) => {
        if (this.closed || this._scope !== scope) return;
        this._fromDoc(doc, { type: 'snapshot' });
        this._pushLocalOnly(doc);
      },
      () => {},
    );
  }

  /**
   * The synced document changed (snapshot, patch, optimistic, rollback, conflict).
   * @param {any} doc
   * @param {{type?: string}} [_change]
   */
  _fromDoc(doc, _change) {
    if (this.closed) return;
    const chat = doc && typeof doc === 'object' && doc.chat && typeof doc.chat === 'object' ? doc.chat : {};
    for (const [id, m] of Object.entries(chat)) {
      const msg = normalize(id, m);
      if (msg) this._msgs.set(id, msg);
    }
    // Gone from the document (cleared or pruned elsewhere) and not waiting
    // to be sent from here: gone from the view.
    for (const id of [...this._msgs.keys()]) {
      if (!Object.hasOwn(chat, id) && !this._unsynced.has(id) && !this._status.has(id)) this._msgs.delete(id);
    }
    this._changed();
  }

  /**
   * Messages appended here that the synced document lacks (written while
   * there was no sync, or refused) go up now.
   * @param {any} doc
   */
  _pushLocalOnly(doc) {
    const chat = (doc && doc.chat) || {};
    /** @type {Record<string, ChatMessage>} */
    const missing = {};
    for (const id of this._unsynced) {
      const m = this._msgs.get(id);
      if (m && !Object.hasOwn(chat, id)) missing[id] = m;
    }
    if (Object.keys(missing).length) this._write({ chat: missing }, Object.keys(missing));
  }

  /**
   * Sends `patch` to the synced history (optimistic), if there is one. The
   * messages in `ids` count as not yet synced until the server takes it.
   * @param {object} patch
   * @param {string[]} ids the messages it carries
   */
  _write(patch, ids) {
    for (const id of ids) this._unsynced.add(id);
    if (!this.synced || !this._scope || this.closed) return;
    const scope = this._scope;
    this.agent.updateState(scope, patch, { optimistic: true }).then(
      () => {
        for (const id of ids) this._unsynced.delete(id);
      },
      () => {
        // Refused or rolled back: the messages stay here (never dropped)
        // and go up with the next catch-up.
        this._changed();
      },
    );
  }

  /** @param {ChatMessage} msg */
  _append(msg) {
    this._msgs.set(msg.id, msg);
    this._write({ chat: { [msg.id]: msg } }, [msg.id]);
    this._prune();
    this._changed();
  }

  /** Keeps the last `historyLimit` messages (through replaceState when synced). */
  _prune() {
    if (this._msgs.size <= this._historyLimit) return;
    const keep = this.messages.slice(-this._historyLimit);
    const keepIds = new Set(keep.map((m) => m.id));
    for (const id of [...this._msgs.keys()]) {
      if (!keepIds.has(id)) {
        this._msgs.delete(id);
        this._unsynced.delete(id);
        this._status.delete(id);
      }
    }
    if (this.synced && this._scope) {
      const doc = this.agent.getState(this._scope) ?? {};
      const chat = Object.fromEntries(Object.entries(doc.chat ?? {}).filter(([id]) => keepIds.has(id)));
      this.agent.replaceState(this._scope, { ...doc, chat }, { optimistic: true }).catch(() => {});
    }
  }

  /** Forgets the conversation (here, and in the synced history). */
  async clearHistory() {
    this._msgs.clear();
    this._status.clear();
    this._unsynced.clear();
    this._changed();
    this._saveLocal();
    if (this.synced && this._scope) {
      const doc = this.agent.getState(this._scope) ?? {};
      await this.agent.replaceState(this._scope, { ...doc, chat: {} }, { optimistic: true });
    }
  }

  _loadLocal() {
    if (!this._storage) return;
    try {
      const raw = this._storage.getItem(this._storageKey());
      const list = raw ? JSON.parse(raw) : [];
      if (!Array.isArray(list)) return;
      for (const m of list) {
        const msg = normalize(m && m.id, m);
        if (msg && !this._msgs.has(msg.id)) this._msgs.set(msg.id, msg);
      }
      this._changed();
    } catch {
      // Unreadable or blocked storage: start empty.
    }
  }

  _saveLocal() {
    clearTimeout(this._saveTimer);
    this._saveTimer = 0;
    if (!this._storage) return;
    try {
      this._storage.setItem(this._storageKey(), JSON.stringify(this.messages.slice(-this._historyLimit)));
    } catch {
      // Full or blocked: the synced history (if any) still has it.
    }
  }

  _storageKey() {
    return `frinny-chat:${this._scope ?? 'local'}`;
  }

  // ----- sending ------------------------------------------------------------

  /**
   * Sends `content` to Frinny as a query (public or private per the toggle,
   * or `options.public`) and shows the answer. Resolves with the answer's
   * message, or `null` if it failed (the message shows why, with a button
   * to send it again).
   * @param {string} content
   * @param {{public?: boolean}} [options]
   * @returns {Promise<ChatMessage | null>}
   */
  async send(content, options = {}) {
    const text = String(content ?? '').trim();
    if (!text || this.closed || !this.agent) return null;
    const isPublic = options.public ?? this._public;
    const msg = { id: this._newId(), role: /** @type {const} */ ('user'), content: text, ts: Date.now(), public: isPublic };
    this._append(msg);
    return this._ask(msg);
  }

  /**
   * Sends a failed message again.
   * @param {string} id
   */
  resend(id) {
    const msg = this._msgs.get(id);
    if (!msg || msg.role !== 'user' || this.closed) return Promise.resolve(null);
    return this._ask(msg);
  }

  /** @param {ChatMessage} msg */
  async _ask(msg) {
    this._status.set(msg.id, { state: 'pending' });
    this._changed();
    const earlier = this.messages.filter((m) => m.id !== msg.id && m.role !== 'system' && m.ts <= msg.ts).slice(-HISTORY_SENT);
    /** @type {Record<string, unknown>} */
    const payload = {
      content: msg.content,
      conversation_history: [...earlier, msg].map((m) => ({ role: m.role, content: m.content })),
      is_public_chat: Boolean(msg.public),
    };
    if (this._userId) payload.userId = this._userId;
    try {
      const ask = this._options.query;
      const reply = typeof ask === 'function'
        ? await ask(msg.content, { public: Boolean(msg.public), history: /** @type {any} */ (payload.conversation_history) })
        : await this.agent.request('query', payload);
      if (this.closed) return null;
      this._status.delete(msg.id);
      const content = typeof reply?.content === 'string' ? reply.content : typeof reply?.response === 'string' ? reply.response : '';
      /** @type {ChatMessage} */
      const answer = { id: this._newId(), role: 'assistant', content, ts: Math.max(Date.now(), msg.ts + 1), replyTo: msg.id, public: Boolean(msg.public) };
      const rid = reply?.request_id ?? reply?.message_id ?? reply?.messageId;
      if (typeof rid === 'string' || typeof rid === 'number') answer.requestId = rid;
      this._append(answer);
      return answer;
    } catch (err) {
      if (this.closed) return null;
      this._status.set(msg.id, { state: 'failed', code: String(/** @type {any} */ (err)?.code ?? 'ERROR') });
      this._changed();
      return null;
    }
  }

  /**
   * Thumbs up (`positive`) or down (`negative`) on one of Frinny's answers:
   * shown at once (and synced), sent as `feedback {messageId, type}`.
   * @param {string} messageId
   * @param {'positive' | 'negative'} type
   */
  async submitFeedback(messageId, type) {
    const msg = this._msgs.get(messageId);
    if (!msg || msg.role !== 'assistant' || this.closed) return;
    if (msg.feedback === type) return;
    const before = msg.feedback;
    const updated = { ...msg, feedback: type };
    this._msgs.set(messageId, updated);
    this._write({ chat: { [messageId]: { feedback: type } } }, []);
    this._changed();
    /** @type {Record<string, unknown>} */
    const payload = { messageId, type };
    if (msg.requestId !== undefined) payload.context_id = msg.requestId;
    try {
      const send = this._options.feedback;
      if (typeof send === 'function') await send(messageId, type, { requestId: msg.requestId });
      else await this.agent.request('feedback', payload);
    } catch (err) {
      if (this.closed) return;
      const now = this._msgs.get(messageId);
      if (now && now.feedback === type) {
        const reverted = { ...now };
        if (before) reverted.feedback = before;
        else delete reverted.feedback;
        this._msgs.set(messageId, reverted);
        this._write({ chat: { [messageId]: { feedback: before ?? null } } }, []);
        this._changed();
      }
      this._statusEl.showError(err);
    }
  }

  /**
   * A note from Frinny's side in the conversation (not sent to the server).
   * @param {string} content
   */
  addSystemMessage(content) {
    if (this.closed) return;
    this._append({ id: this._newId(), role: 'system', content: String(content), ts: Date.now() });
  }

  _newId() {
    this._seq += 1;
    return `${this._clientId}-${Date.now().toString(36)}-${this._seq.toString(36)}`;
  }

  // ----- character updates ---------------------------------------------------

  /**
   * Shows a `character_update` (`{actorId, updates, message_id?}`) as a
   * suggestion the player accepts before the sheet changes. The window does
   * this by itself for the events it receives; a host calls it for one that
   * arrived while the window was closed.
   * @param {{actorId: string, updates: Record<string, unknown>, message_id?: string | number}} update
   */
  suggestCharacterUpdate(update) {
    if (!this.closed) this._onCharacterUpdate(update);
  }

  /** A `character_update` becomes a suggestion the player accepts first. @param {any} p */
  _onCharacterUpdate(p) {
    if (!p || typeof p !== 'object' || typeof p.actorId !== 'string' || !p.updates || typeof p.updates !== 'object') return;
    const id = `character_update:${p.message_id ?? `${Date.now().toString(36)}-${randomId()}`}`;
    this._updates.set(id, p);
    const actor = this._actorName(p.actorId);
    this._suggestionsEl.suggest(
      { id, text: localize('FRINNY.CharacterUpdate', { actor, changes: describeUpdates(p.updates) }), actorId: p.actorId, kind: 'character_update' },
      { local: true },
    );
  }

  /** @param {{id: string | number, accepted: boolean, suggestion: any}} detail */
  async _onSuggestionChoice(detail) {
    const key = String(detail?.id);
    const update = this._updates.get(key);
    if (!update) return;
    this._updates.delete(key);
    const actor = this._actorName(update.actorId);
    const changes = describeUpdates(update.updates);
    if (!detail.accepted) {
      this.addSystemMessage(localize('FRINNY.CharacterUpdateDeclined', { actor }));
      return;
    }
    const apply = this._options.applyCharacterUpdate;
    if (typeof apply !== 'function') return;
    try {
      await apply(update);
      this.addSystemMessage(localize('FRINNY.CharacterUpdated', { actor, changes }));
    } catch (err) {
      this.addSystemMessage(localize('FRINNY.CharacterUpdateFailed', { actor, message: String(/** @type {any} */ (err)?.message ?? err) }));
    }
  }

  /**
   * An actor's display name from `describeActor`; else its id (or, with
   * `orId` false, an empty string).
   * @param {string} actorId
   * @param {boolean} [orId]
   */
  _actorName(actorId, orId = true) {
    try {
      const name = this._options.describeActor?.(actorId);
      if (typeof name === 'string' && name) return name;
    } catch {
      // Fall back to the id.
    }
    return orId ? actorId : '';
  }

  // ----- rendering ----------------------------------------------------------

  _render() {
    const host = el('div', 'frinny-chat-host');
    host.setAttribute('data-frinny-chat', '');
    const root = host.attachShadow({ mode: 'open' });
    adoptStyles(root, BASE_CSS + CHAT_CSS);

    const header = el('header');
    const h = el('h2');
    const sigil = el('span', 'sigil', 'F');
    sigil.setAttribute('aria-hidden', 'true');
    h.append(sigil, el('span', '', localize('FRINNY.Title')));
    this._statusEl = /** @type {any} */ (document.createElement('frinny-connection-status'));
    // Clearing is for every device of the user: it asks once more first.
    const clear = button(localize('FRINNY.Clear'), 'clear icon', localize('FRINNY.ClearChat'));
    let armed = 0;
    clear.addEventListener('click', () => {
      if (!armed) {
        clear.textContent = localize('FRINNY.ClearConfirm');
        clear.classList.add('armed');
        armed = setTimeout(() => {
          armed = 0;
          clear.textContent = localize('FRINNY.Clear');
          clear.classList.remove('armed');
        }, 4000);
        return;
      }
      clearTimeout(armed);
      armed = 0;
      clear.textContent = localize('FRINNY.Clear');
      clear.classList.remove('armed');
      this.clearHistory().catch((err) => this._statusEl.showError(err));
      this._input?.focus();
    });
    this.cleanupFunctions.add(() => clearTimeout(armed));
    const tools = el('div', 'tools');
    tools.append(this._statusEl, clear);
    header.append(h, tools);

    const side = el('div', 'side');
    this._combatEl = /** @type {any} */ (document.createElement('frinny-combat-updates'));
    this._combatEl.setAttribute('autohide', '');
    this._combatEl.setAttribute('collapsed', '');
    if (this._options.combatScope) this._combatEl.setAttribute('scope', this._options.combatScope);
    this._notificationsEl = /** @type {any} */ (document.createElement('frinny-notification-panel'));
    this._notificationsEl.setAttribute('autohide', '');
    this._notificationsEl.setAttribute('max', '20');
    side.append(this._combatEl, this._notificationsEl);

    this._log = el('ol', 'log');
    this._log.setAttribute('role', 'log');
    this._log.setAttribute('aria-live', 'polite');
    this._log.setAttribute('aria-label', localize('FRINNY.ChatLabel'));
    this._log.tabIndex = 0;
    this._emptyEl = el('li', 'empty', localize('FRINNY.ChatEmpty'));
    this._log.append(this._emptyEl);
    this._log.addEventListener('click', (e) => this._onLogClick(e));
    // Stay at the newest message while the reader is there, also when the
    // panels above grow or the window is resized.
    this._pinned = true;
    this._log.addEventListener('scroll', () => {
      const log = this._log;
      this._pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    }, { passive: true });
    if (typeof ResizeObserver === 'function') {
      const ro = new ResizeObserver(() => {
        if (this._pinned) this._log.scrollTop = this._log.scrollHeight;
      });
      ro.observe(this._log);
      this._resizeObserver = ro;
    }

    this._suggestionsEl = /** @type {any} */ (document.createElement('frinny-suggestion-box'));
    this._suggestionsEl.describeActor = (/** @type {string} */ id) => this._actorName(id, false);
    this._typingEl = /** @type {any} */ (document.createElement('frinny-typing-indicator'));

    const form = /** @type {HTMLFormElement} */ (el('form'));
    form.setAttribute('aria-label', localize('FRINNY.ChatLabel'));
    const input = /** @type {HTMLTextAreaElement} */ (el('textarea'));
    input.rows = 2;
    input.placeholder = localize('FRINNY.InputPlaceholder');
    input.setAttribute('aria-label', localize('FRINNY.InputLabel'));
    input.maxLength = 4000;
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    const controls = el('div', 'controls');
    const sw = button('', 'switch');
    sw.setAttribute('role', 'switch');
    sw.setAttribute('aria-checked', String(this._public));
    sw.title = localize('FRINNY.PublicHint');
    const track = el('span', 'track');
    track.setAttribute('aria-hidden', 'true');
    sw.append(track, el('span', '', localize('FRINNY.Public')));
    sw.addEventListener('click', () => {
      this.publicChat = !this._public;
    });
    this._publicSwitch = sw;
    this._syncHint = el('span', 'hint');
    const right = el('div', 'right');
    const send = button(localize('FRINNY.Send'), 'primary send');
    send.type = 'submit';
    right.append(this._syncHint, send);
    controls.append(sw, right);
    form.append(input, controls);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      input.value = '';
      void this.send(text);
    });
    this._input = input;

    root.append(header, side, this._log, this._suggestionsEl, this._typingEl, form);
    this.host = host;
    this.root = root;
    this.element.append(host);
    this._renderSyncHint();
  }

  _renderSyncHint() {
    if (!this._syncHint) return;
    const text = this.synced ? localize('FRINNY.HistorySynced') : localize('FRINNY.HistoryLocal');
    this._syncHint.textContent = this.synced ? localize('FRINNY.Synced') : localize('FRINNY.Local');
    this._syncHint.title = text;
    this.host.dataset.synced = String(this.synced);
  }

  /** The model changed: one DOM update in the next frame, and a local save soon. */
  _changed() {
    if (this.closed) return;
    if (!this._frame) this._frame = requestAnimationFrame(() => this._flush());
    if (!this._saveTimer) this._saveTimer = setTimeout(() => this._saveLocal(), 300);
  }

  /** Applies the model to the DOM now (normally done once per animation frame). */
  _flush() {
    cancelAnimationFrame(this._frame);
    this._frame = 0;
    if (this.closed) return;
    const log = this._log;
    const list = this.messages;
    const seen = new Set();
    /** @type {ChildNode} */
    let prev = this._emptyEl;
    for (const m of list) {
      seen.add(m.id);
      const status = this._status.get(m.id);
      const sig = `${m.content}\u0000${m.feedback ?? ''}\u0000${status?.state ?? ''}\u0000${status?.code ?? ''}\u0000${m.public ? 1 : 0}`;
      let node = this._nodes.get(m.id);
      if (!node || node.sig !== sig) {
        node?.li.remove();
        node = { li: this._message(m, status), sig };
        this._nodes.set(m.id, node);
      }
      if (prev.nextSibling !== node.li) prev.after(node.li);
      prev = node.li;
    }
    for (const [id, node] of this._nodes) {
      if (!seen.has(id)) {
        node.li.remove();
        this._nodes.delete(id);
      }
    }
    this._emptyEl.hidden = list.length > 0;
    if (this._pinned) log.scrollTop = log.scrollHeight;
  }

  /**
   * @param {ChatMessage} m
   * @param {{state: string, code?: string} | undefined} status
   */
  _message(m, status) {
    const li = el('li', `msg ${m.role}${status ? ` ${status.state}` : ''}`);
    li.dataset.id = m.id;
    li.dataset.role = m.role;
    const who = el('div', 'who');
    who.append(el('span', 'author', localize(m.role === 'user' ? 'FRINNY.You' : m.role === 'assistant' ? 'FRINNY.Assistant' : 'FRINNY.System')));
    if (m.public) who.append(el('span', 'badge', localize('FRINNY.Public')));
    const time = el('time', '', timeOf(m.ts));
    time.dateTime = new Date(m.ts).toISOString();
    who.append(time);
    li.append(who, el('div', 'bubble', m.content));
    if (m.role === 'assistant') {
      const fb = el('div', 'feedback');
      fb.setAttribute('role', 'group');
      fb.setAttribute('aria-label', `${localize('FRINNY.ThumbsUp')} / ${localize('FRINNY.ThumbsDown')}`);
      for (const [type, key] of [['positive', 'FRINNY.ThumbsUp'], ['negative', 'FRINNY.ThumbsDown']]) {
        const b = button('', `thumb ${type}`, localize(key));
        b.title = localize(key);
        b.append(thumbIcon());
        b.dataset.feedback = type;
        b.setAttribute('aria-pressed', String(m.feedback === type));
        fb.append(b);
      }
      li.append(fb);
    }
    if (status?.state === 'pending') li.append(el('div', 'status', localize('FRINNY.Sending')));
    if (status?.state === 'failed') {
      const s = el('div', 'status', localize('FRINNY.SendFailed', { code: status.code ?? 'ERROR' }));
      s.setAttribute('role', 'alert');
      const again = button(localize('FRINNY.RetrySend'), 'resend');
      again.dataset.resend = m.id;
      s.append(again);
      li.append(s);
    }
    return li;
  }

  /** @param {MouseEvent} e */
  _onLogClick(e) {
    const b = /** @type {Element} */ (e.target).closest('button');
    if (!b) return;
    const li = b.closest('li[data-id]');
    const id = li instanceof HTMLElement ? li.dataset.id : undefined;
    if (!id) return;
    const fb = /** @type {HTMLElement} */ (b).dataset.feedback;
    if (fb === 'positive' || fb === 'negative') void this.submitFeedback(id, fb);
    else if (/** @type {HTMLElement} */ (b).dataset.resend) void this.resend(id);
  }

  /** Puts the keyboard focus in the input. */
  focus() {
    this._input?.focus();
  }

  /**
   * Closes the window: calls every function in `cleanupFunctions` (each
   * subscription, the elements' agents, the pending sync), stops syncing
   * the history scope if the window started it, clears its state, removes
   * its DOM, and closes the agent if the window made it. An agent it was
   * given stays open. Calling it again does nothing.
   */
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const fn of [...this.cleanupFunctions]) {
      try {
        fn();
      } catch {
        // One failing cleanup must not keep the others from running.
      }
    }
    this.cleanupFunctions.clear();
    if (this._saveTimer) this._saveLocal();
    cancelAnimationFrame(this._frame);
    this._frame = 0;
    const agent = this.agent;
    if (agent && this._scope && this._startedSync) {
      try {
        agent.unsyncState(this._scope);
      } catch {
        // Already closed.
      }
    }
    this._msgs.clear();
    this._status.clear();
    this._unsynced.clear();
    this._updates.clear();
    this._nodes.clear();
    this.synced = false;
    this._resizeObserver?.disconnect();
    this.host?.remove();
    if (agent && this.ownsAgent) {
      try {
        agent.close();
      } catch {
        // Already closed.
      }
    }
  }
}

const TIMED_OUT = Symbol('timed out');

/**
 * `onConflict` for the history: the server's document plus every message
 * (and feedback) this client meant to add that it lacks. Never drops one.
 * @param {any} local
 * @param {any} server
 */
export function mergeConflict(local, server) {
  const mine = (local && local.chat) || {};
  const theirs = (server && server.chat) || {};
  /** @type {Record<string, unknown>} */
  const add = {};
  for (const [id, m] of Object.entries(mine)) {
    const t = theirs[id];
    if (!t) add[id] = m;
    else if (m && t && m.feedback !== undefined && m.feedback !== t.feedback) add[id] = { feedback: m.feedback };
  }
  return Object.keys(add).length ? { chat: add } : undefined;
}

/**
 * A message from the document or storage, or null if it is not one.
 * @param {unknown} id
 * @param {any} m
 * @returns {ChatMessage | null}
 */
function normalize(id, m) {
  if (typeof id !== 'string' || !m || typeof m !== 'object') return null;
  const role = m.role === 'user' || m.role === 'assistant' || m.role === 'system' ? m.role : null;
  if (!role || typeof m.content !== 'string') return null;
  /** @type {ChatMessage} */
  const msg = { id, role, content: m.content, ts: Number.isFinite(m.ts) ? m.ts : 0 };
  if (m.public) msg.public = true;
  if (m.feedback === 'positive' || m.feedback === 'negative') msg.feedback = m.feedback;
  if (typeof m.requestId === 'string' || typeof m.requestId === 'number') msg.requestId = m.requestId;
  if (typeof m.replyTo === 'string') msg.replyTo = m.replyTo;
  return msg;
}

/** @param {ChatMessage[]} list */
function sortMessages(list) {
  return list.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * `{skills: {acrobatics: 'expert'}}` → "Acrobatics: expert".
 * @param {any} updates
 */
export function describeUpdates(updates) {
  const parts = [];
  for (const [group, value] of Object.entries(updates ?? {})) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) parts.push(`${capitalize(k)}: ${plain(v)}`);
    } else parts.push(`${capitalize(group)}: ${plain(value)}`);
  }
  return parts.slice(0, 12).join(', ') || '—';
}

/**
 * A thumbs-up icon (CSS turns it over for thumbs down): static SVG built
 * through the DOM, never from text.
 */
function thumbIcon() {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute(
    'd',
    'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L13.17 1 6.59 7.59C6.22 7.95 6 8.45 6 9v10a2 2 0 0 0 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z',
  );
  svg.append(path);
  return svg;
}

/** @param {string} s */
function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** @param {unknown} v */
function plain(v) {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return '?';
  }
}

function randomId() {
  try {
    return crypto.randomUUID().slice(0, 8);
  } catch {
    return Math.random().toString(36).slice(2, 10);
  }
}

/** `agent.state`, or `closed` for an agent that was freed. @param {any} agent */
function safeState(agent) {
  try {
    return String(agent.state);
  } catch {
    return 'closed';
  }
}

function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

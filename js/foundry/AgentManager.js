// Drop-in replacement for Frinny's hand-written AgentManager: the same
// surface the Foundry module (UIManager / FrinnyChat) already calls, with the
// realtime work delegated to the wasm AgentManager. This file only gathers
// Foundry data (users, flags, chat messages, the speaker, the system id).
//
//   const manager = new AgentManager();          // in Foundry: uses globalThis.game
//   await manager.connect();
//   const off = manager.onTypingStatus((isTyping) => chat.showTyping(isTyping));
//   const reply = await manager.handlePrivateQuery(game.user.id, 'What does Shield Block do?');

/** How many earlier messages go with a query as conversation_history. */
export const HISTORY_LENGTH = 10;

const DEFAULT_URL = 'http://127.0.0.1:5001';

export class AgentManager {
  /**
   * @param {object} [deps]
   * @param {string} [deps.backendUrl] Frinny backend URL (http(s) or ws(s)).
   * @param {Function} [deps.Agent] the client class; defaults to the wasm AgentManager.
   * @param {object} [deps.game] Foundry's `game`; defaults to `globalThis.game`.
   * @param {object} [deps.options] extra options for the client (timeout, auth, ...).
   */
  constructor({ backendUrl, Agent, game, options } = {}) {
    this._url = backendUrl ?? DEFAULT_URL;
    this._Agent = Agent;
    this._game = game;
    this._options = options ?? {};
    this._agent = null;
    this._typing = new Set();
    this._offTyping = null;
  }

  /** The backend URL; setting it takes effect on the next connect(). */
  get backendUrl() { return this._url; }
  set backendUrl(url) { this._reconfigure(url); }
  /** Alias kept from the raw-WebSocket variant of the old class. */
  get wsUrl() { return this._url; }
  set wsUrl(url) { this._reconfigure(url); }

  get game() { return this._game ?? globalThis.game; }

  /** The underlying client (null before connect()). */
  get agent() { return this._agent; }

  /** Old code read `pendingRequests.size`; the wasm client owns the table. */
  get pendingRequests() {
    const agent = this._agent;
    return { size: agent ? agent.pendingCount : 0 };
  }

  /** Connects (once); resolves when the backend accepted us. */
  async connect() {
    if (!this._agent) {
      const Agent = this._Agent ?? (await loadWasmAgent());
      const userId = this.game?.user?.id;
      this._agent = new Agent({
        url: this._url,
        ...(userId ? { query: { userId } } : {}),
        ...this._options,
      });
      this._offTyping = this._agent.subscribe('typing_status', (payload) => {
        const isTyping = Boolean(payload?.isTyping);
        for (const cb of [...this._typing]) cb(isTyping);
      });
    }
    await this._agent.connect();
    return this;
  }

  /** Calls cb(isTyping) whenever Frinny starts or stops typing; returns an unsubscribe function. */
  onTypingStatus(cb) {
    this._typing.add(cb);
    return () => this._typing.delete(cb);
  }

  /** A query from the private Frinny chat, with the user's last messages as history. */
  async handlePrivateQuery(userId, content) {
    const user = this.game?.users?.get?.(userId);
    const stored = user?.getFlag?.('frinny', 'messages') ?? [];
    const history = (Array.isArray(stored) ? stored : Object.values(stored))
      .slice(-HISTORY_LENGTH)
      .map((m) => ({ role: m.role ?? (m.isUser ? 'user' : 'assistant'), content: m.content ?? '' }));
    return this._request('query', {
      content,
      userId,
      conversation_history: history,
      is_public_chat: false,
    });
  }

  /** A query from the public chat log, with the last chat messages, the speaker and the system. */
  async handlePublicQuery(userId, content) {
    const game = this.game;
    const messages = game?.messages?.contents ?? [...(game?.messages ?? [])];
    const history = messages.slice(-HISTORY_LENGTH).map((m) => ({
      speaker: m.speaker?.alias ?? m.alias ?? m.user?.name ?? '',
      content: m.content ?? '',
      userId: m.user?.id ?? m.author?.id ?? null,
    }));
    const speaker = globalThis.ChatMessage?.getSpeaker?.() ?? null;
    return this._request('query', {
      content,
      userId,
      conversation_history: history,
      is_public_chat: true,
      speaker,
      actorId: speaker?.actor ?? undefined,
      system: game?.system?.id ?? null,
    });
  }

  /** Thumbs up/down on one of Frinny's messages. */
  submitFeedback(messageId, type) {
    return this._request('feedback', { messageId, type, context_id: messageId, userId: this._userId() });
  }

  notifyCharacterCreation(context) {
    return this._request('character_creation_start', { ...context, userId: this._userId() });
  }

  notifyCombatTurn(state) {
    return this._request('combat_turn', { ...state, userId: this._userId() });
  }

  notifyLevelUp(data) {
    return this._request('level_up', { ...data, userId: this._userId() });
  }

  notifyCombatStart(data) {
    return this._request('combat_start', { ...data, userId: this._userId() });
  }

  /** Leaves the backend and releases every callback the client holds. */
  disconnect() {
    this._offTyping?.();
    this._offTyping = null;
    this._agent?.disconnect();
    this._agent?.free?.();
    this._agent = null;
  }

  _userId() {
    return this.game?.user?.id ?? null;
  }

  async _request(event, payload) {
    if (!this._agent) await this.connect();
    return this._agent.request(event, payload);
  }

  _reconfigure(url) {
    if (url === this._url) return;
    this._url = url;
    // The next connect() dials the new URL.
    if (this._agent) this.disconnect();
  }
}

async function loadWasmAgent() {
  const { ready, AgentManager: Wasm } = await import('../index.js');
  await ready();
  return Wasm;
}

export default AgentManager;

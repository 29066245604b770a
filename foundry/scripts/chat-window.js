// The Frinny chat window in Foundry: FrinnyChat (frinny-agent/components)
// inside an ApplicationV2 on Foundry v13 and an Application on v12. The
// window is only a frame: FrinnyChat renders, subscribes and cleans up; the
// frame creates it when it opens and closes it (which releases every
// subscription, the connection staying open) when it closes.
//
// Queries go through the drop-in's handlePrivateQuery / handlePublicQuery,
// so the backend gets exactly what the old module sent (the history of the
// user's `frinny.messages` flag, the speaker, the system) on either wire,
// and each private exchange is appended to that flag as before.

const MODULE_ID = 'frinny';
/** The synced scope holding the running encounter (written by the GM's client, main.js). */
export const COMBAT_SCOPE = 'combat:active';
/** How many messages the `frinny.messages` flag keeps (the old `maxMessages` default). */
const STORED_MESSAGES = 50;

/**
 * Appends one exchange to the user's `frinny.messages` flag, in the old
 * module's format (`{type: 'user' | 'assistant', content, ...}`).
 * @param {any} user Foundry's `game.user`
 * @param {string} question
 * @param {any} reply the backend's reply
 */
async function storeExchange(user, question, reply) {
  const stored = user?.getFlag?.(MODULE_ID, 'messages');
  const now = Date.now();
  const messages = [
    ...(Array.isArray(stored) ? stored : []),
    { type: 'user', content: question, timestamp: now },
    { type: 'assistant', content: reply?.content ?? '', messageId: reply?.messageId ?? null, timestamp: now },
  ].slice(-STORED_MESSAGES);
  await user?.setFlag?.(MODULE_ID, 'messages', messages);
}

/**
 * The options FrinnyChat gets in Foundry.
 * @param {any} manager the drop-in AgentManager
 */
function chatOptions(manager) {
  const user = game.user;
  return {
    agent: manager,
    userId: user?.id,
    // The gateway (protocol 'json') has no state sync: the history stays on
    // this device rather than asking the gateway for a scope it does not know.
    historyScope: manager.protocol === 'socket.io' ? `user:${user?.id}` : null,
    // The encounter as the GM's client keeps it, so a player who opens the
    // window mid-fight sees it at once (Socket.IO wire only, as above).
    ...(manager.protocol === 'socket.io' ? { combatScope: COMBAT_SCOPE } : {}),
    query: async (content, { public: isPublic }) => {
      if (isPublic) return manager.handlePublicQuery(user.id, content);
      const reply = await manager.handlePrivateQuery(user.id, content);
      storeExchange(user, content, reply).catch((err) => console.warn('Frinny | storing the chat', err));
      return reply;
    },
    feedback: (messageId, type) => manager.submitFeedback(messageId, type),
    describeActor: (actorId) => game.actors?.get?.(actorId)?.name,
    applyCharacterUpdate: (update) => manager.applyCharacterUpdate(update),
  };
}

/**
 * The window class for this Foundry: ApplicationV2 on v13, Application on v12.
 * @param {{FrinnyChat: any, manager: any}} deps
 * @returns {any} a class whose instances are the chat window
 */
export function chatWindowClass({ FrinnyChat, manager }) {
  const title = 'FRINNY.Title';
  const ApplicationV2 = globalThis.foundry?.applications?.api?.ApplicationV2;
  if ((game.release?.generation ?? 12) >= 13 && ApplicationV2) {
    return class FrinnyChatWindow extends ApplicationV2 {
      static DEFAULT_OPTIONS = {
        id: 'frinny-chat',
        classes: ['frinny-chat-window'],
        window: { title, icon: 'fa-solid fa-comments', resizable: true },
        position: { width: 420, height: 640 },
      };

      /** @type {any} the FrinnyChat in this window, while it is open */
      chat = null;

      /** FrinnyChat renders itself; there is no template. */
      async _renderHTML() {
        return null;
      }

      _replaceHTML(_result, content) {
        if (this.chat && !this.chat.closed && this.chat.element === content) return;
        this.chat?.close();
        this.chat = new FrinnyChat({ ...chatOptions(manager), element: content });
      }

      _onClose(options) {
        this.chat?.close();
        this.chat = null;
        super._onClose?.(options);
      }
    };
  }
  return class FrinnyChatWindow extends Application {
    static get defaultOptions() {
      return {
        ...super.defaultOptions,
        id: 'frinny-chat',
        title,
        classes: ['frinny-chat-window'],
        width: 420,
        height: 640,
        resizable: true,
        popOut: true,
      };
    }

    /** @type {any} the FrinnyChat in this window, while it is open */
    chat = null;

    /** A fresh body for FrinnyChat (jQuery-wrapped where Foundry has jQuery). */
    async _renderInner() {
      const body = document.createElement('div');
      body.className = 'frinny-chat-body';
      return globalThis.jQuery ? globalThis.jQuery(body) : body;
    }

    activateListeners(html) {
      super.activateListeners?.(html);
      const element = html?.[0] ?? html;
      if (this.chat && !this.chat.closed && this.chat.element === element) return;
      this.chat?.close();
      this.chat = new FrinnyChat({ ...chatOptions(manager), element });
    }

    async close(options) {
      this.chat?.close();
      this.chat = null;
      return super.close(options);
    }
  };
}

/**
 * Opens the window if it is closed and closes it if it is open; remembers
 * which in the user's `frinny.windowVisible` flag (the window comes back
 * on the next load, as in the old module).
 * @param {any} app the window
 * @returns {Promise<void>}
 */
export async function toggleWindow(app) {
  const open = !app.rendered;
  if (open) await app.render(true);
  else await app.close();
  await game.user?.setFlag?.(MODULE_ID, 'windowVisible', open);
}

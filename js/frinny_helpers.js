// The Frinny helpers of `AgentManager` (src/web/frinny.rs) for the JS
// stand-ins that have its `request`: the tab proxy of `shareAcrossTabs`
// (js/share/tab.js) and the test agent (js/testing/agent.js). One place says
// which event each helper sends, as the wasm class does.
//
//   class Stand { request(event, payload) { return send(event, payload); } }
//   addFrinnyHelpers(Stand);
//   await new Stand().sendQuery({ content: 'Hi' }); // request('query', { content: 'Hi' })

/** Each helper and the event its payload goes out as. */
const HELPERS = {
  /** `query`: resolves with the `query_response` payload. */
  sendQuery: 'query',
  /** `character_creation_start`. */
  notifyCharacterCreation: 'character_creation_start',
  /** `combat_turn`. */
  notifyCombatTurn: 'combat_turn',
  /** `level_up`. */
  notifyLevelUp: 'level_up',
  /** `combat_start`. */
  notifyCombatStart: 'combat_start',
};

/**
 * Adds `sendQuery`, `notifyCharacterCreation`, `notifyCombatTurn`,
 * `notifyLevelUp`, `notifyCombatStart`, `submitFeedback` and
 * `defineEvents` to `Class.prototype`, each a call of `this.request`.
 * @param {{ prototype: { request(event: string, payload?: unknown): Promise<unknown> } }} Class
 */
export function addFrinnyHelpers(Class) {
  const proto = Class.prototype;
  for (const [method, event] of Object.entries(HELPERS)) {
    Object.defineProperty(proto, method, {
      value: function helper(payload) {
        return this.request(event, payload);
      },
      writable: true,
      configurable: true,
    });
  }
  Object.defineProperty(proto, 'submitFeedback', {
    /** `feedback {messageId, type}`. */
    value: function submitFeedback(messageId, type) {
      return this.request('feedback', { messageId, type });
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(proto, 'defineEvents', {
    /** `events:define {events: specs}`; specs must be an array. */
    value: function defineEvents(specs) {
      if (!Array.isArray(specs)) {
        const error = new Error('defineEvents(specs): specs must be an array of event declarations');
        error.code = 'INVALID_PAYLOAD';
        return Promise.reject(error);
      }
      return this.request('events:define', { events: specs });
    },
    writable: true,
    configurable: true,
  });
}

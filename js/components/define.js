// defineComponents(): registers every Frinny element (idempotent).
import { FrinnyTypingIndicator } from './typing-indicator.js';
import { FrinnyNotificationPanel } from './notification-panel.js';
import { FrinnySuggestionBox } from './suggestion-box.js';
import { FrinnyCombatUpdates } from './combat-updates.js';
import { FrinnyConnectionStatus } from './connection-status.js';

/** Tag name → class of every element. */
export const ELEMENTS = Object.freeze({
  'frinny-typing-indicator': FrinnyTypingIndicator,
  'frinny-notification-panel': FrinnyNotificationPanel,
  'frinny-suggestion-box': FrinnySuggestionBox,
  'frinny-combat-updates': FrinnyCombatUpdates,
  'frinny-connection-status': FrinnyConnectionStatus,
});

/**
 * Registers every element with `customElements` (or `registry`). Calling it
 * again is harmless: a tag already defined is left as it is.
 * @param {CustomElementRegistry} [registry]
 */
export function defineComponents(registry = globalThis.customElements) {
  for (const [tag, cls] of Object.entries(ELEMENTS)) {
    if (!registry.get(tag)) registry.define(tag, cls);
  }
}

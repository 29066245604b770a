// frinny-agent/components: the Phase 2 UI as framework-free custom elements,
// and the FrinnyChat window.
//
//   import { defineComponents, FrinnyChat } from 'frinny-agent/components';
//   defineComponents();
//   document.querySelector('frinny-notification-panel').agent = agent;
//   const chat = new FrinnyChat({ agent, element, userId });
export { defineComponents, ELEMENTS } from './define.js';
export { FrinnyElement } from './base.js';
export { FrinnyTypingIndicator, RESPONSE_EVENTS, DEFAULT_STALE_AFTER_MS } from './typing-indicator.js';
export { FrinnyNotificationPanel, DEFAULT_MAX_NOTIFICATIONS } from './notification-panel.js';
export { FrinnySuggestionBox, DEFAULT_MAX_SUGGESTIONS } from './suggestion-box.js';
export { FrinnyCombatUpdates, DEFAULT_COMBAT_LOG } from './combat-updates.js';
export { FrinnyConnectionStatus, DEFAULT_ERROR_MS, shownState } from './connection-status.js';
export { FrinnyChat, mergeConflict, describeUpdates, DEFAULT_HISTORY_LIMIT, DEFAULT_SYNC_TIMEOUT_MS } from './chat.js';
export { STRINGS, setTranslator, localize } from './strings.js';

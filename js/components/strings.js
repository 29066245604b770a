// The UI strings of frinny-agent/components: keys with English defaults.
// The same keys (nested under FRINNY) are in ./en.json, for the Foundry
// module to merge into its languages/en.json; a test keeps both in step.
//
// A host routes them through its own localisation with setTranslator:
//
//   import { setTranslator } from 'frinny-agent/components';
//   setTranslator((key, data) => (data ? game.i18n.format(key, data) : game.i18n.localize(key)));
//
// A translator that returns the key itself (Foundry does for an unknown
// key) or nothing falls back to the English default.

/** Every key and its English default. `{name}` is a placeholder. */
export const STRINGS = Object.freeze({
  'FRINNY.Title': 'Frinny',
  'FRINNY.Typing': 'Frinny is typing…',
  'FRINNY.Notifications': 'Notifications',
  'FRINNY.NotificationsEmpty': 'No notifications yet.',
  'FRINNY.ClearAll': 'Clear all',
  'FRINNY.Dismiss': 'Dismiss',
  'FRINNY.DismissNotification': 'Dismiss notification: {title}',
  'FRINNY.LevelInfo': 'Info',
  'FRINNY.LevelSuccess': 'Success',
  'FRINNY.LevelWarning': 'Warning',
  'FRINNY.LevelError': 'Error',
  'FRINNY.From': 'from {from}',
  'FRINNY.Suggestions': 'Suggestions',
  'FRINNY.SuggestionFor': 'For {actor}',
  'FRINNY.Accept': 'Accept',
  'FRINNY.AcceptSuggestion': 'Accept suggestion: {text}',
  'FRINNY.DismissSuggestion': 'Dismiss suggestion: {text}',
  'FRINNY.Combat': 'Combat',
  'FRINNY.CombatIdle': 'No encounter running.',
  'FRINNY.CombatRoundTurn': 'Round {round} · Turn {turn}',
  'FRINNY.CombatActing': '{name} is acting',
  'FRINNY.CombatLog': 'Recent changes',
  'FRINNY.CombatLogEmpty': 'No changes yet.',
  'FRINNY.CombatHp': 'HP {value}/{max}',
  'FRINNY.CombatHpLabel': '{name}: {value} of {max} hit points',
  'FRINNY.CombatChangeAt': 'R{round} T{turn}',
  'FRINNY.StateConnected': 'Connected',
  'FRINNY.StateConnecting': 'Connecting…',
  'FRINNY.StateReconnecting': 'Reconnecting…',
  'FRINNY.StateReconnectingIn': 'Reconnecting in {seconds} s',
  'FRINNY.StateReconnectingFor': 'Reconnecting… ({seconds} s)',
  'FRINNY.StateOffline': 'Offline',
  'FRINNY.StateNoNetwork': 'Offline: no network',
  'FRINNY.StateClosed': 'Closed',
  'FRINNY.StateNoAgent': 'Not connected',
  'FRINNY.Retry': 'Retry',
  'FRINNY.RetryConnection': 'Retry the connection now',
  'FRINNY.ConnectionStatus': 'Connection status',
  'FRINNY.ErrorCode': '{code}: {message}',
  'FRINNY.ChatLabel': 'Chat with Frinny',
  'FRINNY.ChatEmpty': 'Ask Frinny about rules, your character or the fight at hand.',
  'FRINNY.InputPlaceholder': 'Ask Frinny about Pathfinder 2e…',
  'FRINNY.InputLabel': 'Message to Frinny',
  'FRINNY.Send': 'Send',
  'FRINNY.Public': 'Public',
  'FRINNY.PublicHint': 'Public: the whole table sees the question and the answer',
  'FRINNY.Private': 'Private',
  'FRINNY.You': 'You',
  'FRINNY.Assistant': 'Frinny',
  'FRINNY.System': 'Frinny',
  'FRINNY.ThumbsUp': 'Helpful',
  'FRINNY.ThumbsDown': 'Not helpful',
  'FRINNY.Sending': 'Sending…',
  'FRINNY.SendFailed': 'Not answered ({code}). ',
  'FRINNY.RetrySend': 'Send again',
  'FRINNY.ClearChat': 'Clear conversation',
  'FRINNY.Clear': 'Clear',
  'FRINNY.ClearConfirm': 'Clear? Click again',
  'FRINNY.HistoryLocal': 'History kept on this device only',
  'FRINNY.HistorySynced': 'History synced across your devices',
  'FRINNY.Synced': 'Synced',
  'FRINNY.Local': 'This device',
  'FRINNY.CharacterUpdate': 'Update {actor}: {changes}',
  'FRINNY.CharacterUpdated': '{actor} was updated: {changes}',
  'FRINNY.CharacterUpdateFailed': 'Could not update {actor}: {message}',
  'FRINNY.CharacterUpdateDeclined': 'Update to {actor} declined.',
});

let translator = null;

/**
 * Routes every string through `fn(key, data)` (for example Foundry's
 * `game.i18n`). `null` restores the English defaults. A result that is not a
 * string, is empty, or is the key itself falls back to the default.
 * Elements already on the page keep the text they rendered.
 * @param {((key: string, data?: Record<string, unknown>) => string | undefined | null) | null} fn
 */
export function setTranslator(fn) {
  if (fn !== null && typeof fn !== 'function') throw new TypeError('setTranslator expects a function or null');
  translator = fn;
}

/**
 * The text of `key`, with `{name}` placeholders filled from `data`.
 * Unknown keys come back as the key itself.
 * @param {string} key
 * @param {Record<string, unknown>} [data]
 * @returns {string}
 */
export function localize(key, data) {
  let text;
  if (translator) {
    try {
      const out = translator(key, data);
      if (typeof out === 'string' && out !== '' && out !== key) text = out;
    } catch {
      // A broken translator must not break the UI: use the default.
    }
  }
  if (text === undefined) text = Object.hasOwn(STRINGS, key) ? STRINGS[key] : key;
  if (!data) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(data, name) ? String(data[name]) : whole));
}

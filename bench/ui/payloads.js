// The events the UI benchmark floods, shared by the Node flood server and
// the page so both build exactly the same frames: catalogue-shaped
// `notification` and `combat_update` payloads of realistic size.

/** The payload of the `i`-th event of `kind` (`notification` or `combat_update`). */
export function payload(kind, i) {
  if (kind === 'notification') {
    return { message: `n-${i}`, title: 'Initiative', level: ['info', 'warning', 'error'][i % 3], from: 'gm-1', timestamp: 1732600000000 + i };
  }
  return {
    combatId: 'cmb-7f3a9c',
    round: 3 + (i % 7),
    turn: i % 6,
    combatant: { name: 'Valeros', actorId: 'act-0001' },
    changes: [{ name: `c-${i}`, actorId: `act-${String(i % 50).padStart(4, '0')}`, hp: { value: 38 - (i % 10), max: 48 }, conditions: ['frightened 1', 'off-guard'] }],
  };
}

/** The `i`-th event as an Engine.IO text frame carrying a Socket.IO EVENT. */
export function frame(kind, i) {
  return '42' + JSON.stringify([kind, payload(kind, i)]);
}

/** The text the element shows for the last event of a flood of `n`. */
export function lastText(kind, n) {
  return kind === 'notification' ? `n-${n - 1}` : `c-${n - 1}`;
}

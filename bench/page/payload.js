// The Frinny-like event every client benchmark receives: a `combat_update`
// of about 300 bytes on the wire. Shared by the Node flood server and the
// bench page so both build exactly the same frames.

export const EVENT = 'combat_update';

/** The payload of the `i`-th event. */
export function combatUpdate(i) {
  return {
    combatId: 'cmb-7f3a9c',
    round: 3 + (i % 7),
    turn: i % 6,
    seq: i,
    actor: { id: 'act-' + String(i % 50).padStart(4, '0'), name: 'Valeros', hp: { value: 38 - (i % 10), max: 48 }, ac: 21 },
    conditions: [{ slug: 'frightened', value: 1 }, { slug: 'off-guard', value: null }],
    initiative: [{ id: 'act-0001', value: 24 }, { id: 'act-0002', value: 17 }],
    timestamp: 1732600000000 + i,
  };
}

/** The `i`-th event as an Engine.IO text frame carrying a Socket.IO EVENT. */
export function frame(i) {
  return '42' + JSON.stringify([EVENT, combatUpdate(i)]);
}

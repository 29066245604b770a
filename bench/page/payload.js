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

// ----- issue 17: a burst of small events, one frame each or batched --------

/** The small event of the batching benchmark. */
export const SMALL_EVENT = 'token_moved';

/** The payload of the `i`-th small event (about 30 bytes of JSON). */
export function small(i) {
  return { seq: i, x: i % 97, y: i % 89 };
}

/** The `i`-th small event as an Engine.IO text frame of its own. */
export function smallFrame(i) {
  return '42' + JSON.stringify([SMALL_EVENT, small(i)]);
}

/** What the reference server announces with `--batch-window-ms 5`. */
export const BATCH_OFFER = { windowMs: 5, maxBytes: 65536 };

/**
 * The `n` small events as the reference server batches a burst that falls
 * in one window: `42["batch",[[name, payload], …]]` frames whose arguments
 * stay within `maxBytes` (`--max-payload-bytes`, 64 KiB by default).
 */
export function batchFrames(n, maxBytes = BATCH_OFFER.maxBytes) {
  const frames = [];
  let entries = [];
  let bytes = '["batch",[]]'.length;
  const close = () => {
    if (entries.length > 0) frames.push(`42["batch",[${entries.join(',')}]]`);
    entries = [];
    bytes = '["batch",[]]'.length;
  };
  for (let i = 0; i < n; i++) {
    const entry = JSON.stringify([SMALL_EVENT, small(i)]);
    if (entries.length > 0 && bytes + 1 + entry.length > maxBytes) close();
    bytes += (entries.length > 0 ? 1 : 0) + entry.length;
    entries.push(entry);
  }
  close();
  return frames;
}

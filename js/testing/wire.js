// What crosses the (simulated) wire: a payload as the other side would
// decode it. The real client sends JSON (binary data as Socket.IO
// attachments), so a payload is copied the same way here: the receiver
// never shares objects with the sender, `undefined` members and functions
// vanish, `toJSON` is honoured (a Date becomes its ISO text), and binary
// data arrives as an `ArrayBuffer` holding a copy of the bytes.

/** Deepest payload copied; deeper input fails as the real client's does. */
const MAX_DEPTH = 100;

/**
 * A copy of `value` as the receiving side sees it.
 * @param {unknown} value
 * @returns {any}
 */
export function wireCopy(value) {
  return copy(value, 0, new Set());
}

/**
 * @param {unknown} value
 * @param {number} depth
 * @param {Set<object>} ancestors
 * @returns {any}
 */
function copy(value, depth, ancestors) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
    if (typeof value === 'bigint') throw new TypeError('a BigInt cannot be serialised');
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }
  if (value instanceof ArrayBuffer) return value.slice(0);
  if (ArrayBuffer.isView(value)) {
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  }
  const withJson = /** @type {any} */ (value);
  if (typeof withJson.toJSON === 'function') return copy(withJson.toJSON(), depth, ancestors);
  if (depth > MAX_DEPTH) throw new TypeError(`payload nested more than ${MAX_DEPTH} levels deep`);
  if (ancestors.has(value)) throw new TypeError('a payload with a cycle cannot be serialised');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item) => {
        const c = copy(item, depth + 1, ancestors);
        return c === undefined ? null : c;
      });
    }
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      const c = copy(item, depth + 1, ancestors);
      if (c !== undefined) out[key] = c;
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * About how many bytes `value` takes on the wire (its JSON text, binary
 * data by length), for `metrics().bytesIn` / `bytesOut`.
 * @param {unknown} value
 */
export function wireSize(value) {
  let binary = 0;
  const text = JSON.stringify(value, (_key, v) => {
    if (v instanceof ArrayBuffer) {
      binary += v.byteLength;
      return 0;
    }
    if (ArrayBuffer.isView(v)) {
      binary += v.byteLength;
      return 0;
    }
    return v;
  });
  return (text === undefined ? 0 : new TextEncoder().encode(text).length) + binary;
}

/** Whether `value` is a plain JSON object (not an array, not null). @param {unknown} value */
export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

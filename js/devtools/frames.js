// Reading wire frames for the devtools, lazily and in JS: the client hands
// its inspector the raw frame (text, or an ArrayBuffer), and only what the
// panel shows is worked out: a name, a size, and on demand the payload.
//
// Text frames are Engine.IO v4 packets (`4` message, `2` ping, ...) whose
// messages are Socket.IO v5 packets (`42["name",{...}]`, `43<id>[...]`),
// or, with protocol 'json', one `{"action": ...}` object per frame.

const ENGINE = { 0: 'open', 1: 'close', 2: 'ping', 3: 'pong', 5: 'upgrade', 6: 'noop' };
const SOCKET = { 0: 'connect', 1: 'disconnect', 4: 'connect_error' };

/** UTF-8 length of `text`, without encoding it. @param {string} text */
export function utf8Length(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * What a frame is: `{kind, name, size, ackId, body}` where `kind` is
 * `event`, `ack`, `engine` (ping, pong, open...), `socket` (connect...),
 * `json` (a plain-JSON action) or `binary`; `body` the JSON text after the
 * packet header (not parsed).
 * @param {string | ArrayBuffer} data
 */
export function describeFrame(data) {
  if (typeof data !== 'string') {
    return { kind: 'binary', name: 'binary', size: data.byteLength, ackId: undefined, body: undefined };
  }
  const size = utf8Length(data);
  if (data.charCodeAt(0) === 123 /* { */) {
    let name = 'json';
    const m = /"action"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(data);
    if (m) name = m[1];
    return { kind: 'json', name, size, ackId: undefined, body: data };
  }
  const engine = data[0];
  if (engine !== '4') {
    return { kind: 'engine', name: ENGINE[/** @type {keyof typeof ENGINE} */ (engine)] ?? `engine ${engine}`, size, ackId: undefined, body: data.length > 1 ? data.slice(1) : undefined };
  }
  const type = data[1];
  let i = 2;
  if (data[i] === '/') {
    const comma = data.indexOf(',', i);
    i = comma < 0 ? data.length : comma + 1;
  }
  const digits = /^\d*/.exec(data.slice(i, i + 20))?.[0] ?? '';
  const ackId = digits ? Number(digits) : undefined;
  const body = data.slice(i + digits.length);
  if (type === '2' || type === '5') {
    const m = /^\[\s*"((?:[^"\\]|\\.)*)"/.exec(body);
    return { kind: 'event', name: m ? m[1] : 'event', size, ackId, body };
  }
  if (type === '3' || type === '6') return { kind: 'ack', name: `ack ${ackId ?? ''}`.trim(), size, ackId, body };
  return { kind: 'socket', name: SOCKET[/** @type {keyof typeof SOCKET} */ (type)] ?? `packet 4${type}`, size, ackId, body };
}

/**
 * The frame's payload as a JS value: a Socket.IO event's arguments (one
 * argument alone, else the array), an ack's reply, a JSON action object;
 * `undefined` when there is none, the text itself when it is not JSON.
 * @param {{kind: string, body?: string}} frame
 */
export function payloadOf(frame) {
  if (frame.body === undefined || frame.body === '') return undefined;
  let value;
  try {
    value = JSON.parse(frame.body);
  } catch {
    return frame.body;
  }
  if (frame.kind === 'event' && Array.isArray(value)) {
    const args = value.slice(1);
    return args.length === 1 ? args[0] : args;
  }
  if (frame.kind === 'ack' && Array.isArray(value)) return value.length === 1 ? value[0] : value;
  return value;
}

/**
 * Pairs requests with their answers from the frames alone: an ack by its
 * id, a reply event (or a JSON action) by the `request_id` it carries.
 * `settle` hears `(latencyMs, code)`: `OK`, or the error code the answer
 * carried. At most `max` requests are followed at once (the oldest are
 * forgotten: they timed out long ago, as metrics().timeouts counts).
 */
export class RequestTracker {
  /** @param {(latencyMs: number, code: string) => void} settle @param {number} [max] */
  constructor(settle, max = 1000) {
    this.settle = settle;
    this.max = max;
    /** @type {Map<string, {time: number, keys: string[]}>} key -> the request it names */
    this.open = new Map();
  }

  /** @param {'in' | 'out'} direction @param {ReturnType<typeof describeFrame>} frame @param {number} time */
  see(direction, frame, time) {
    if (frame.kind !== 'event' && frame.kind !== 'ack' && frame.kind !== 'json') return;
    if (direction === 'out') {
      /** @type {{time: number, keys: string[]}} */
      const entry = { time, keys: [] };
      if (frame.kind === 'event' && frame.ackId !== undefined) entry.keys.push(`ack:${frame.ackId}`);
      const id = requestIdOf(frame.body);
      if (id !== undefined) entry.keys.push(`rid:${id}`);
      for (const key of entry.keys) this.start(key, entry);
      return;
    }
    let key;
    if (frame.kind === 'ack') key = `ack:${frame.ackId}`;
    else {
      const id = requestIdOf(frame.body);
      if (id !== undefined) key = `rid:${id}`;
    }
    const entry = key === undefined ? undefined : this.open.get(key);
    if (entry === undefined) return;
    // A request with both an ack id and a request_id is settled once.
    for (const k of entry.keys) this.open.delete(k);
    this.settle(Math.max(0, time - entry.time), codeOf(frame));
  }

  /** @param {string} key @param {{time: number, keys: string[]}} entry */
  start(key, entry) {
    this.open.set(key, entry);
    if (this.open.size > this.max) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
  }

  clear() {
    this.open.clear();
  }
}

/** The `request_id` a frame's JSON carries, without parsing it. @param {string | undefined} body */
function requestIdOf(body) {
  if (!body || !body.includes('request_id')) return undefined;
  const m = /"request_id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)/.exec(body);
  return m ? m[1].replace(/^"|"$/g, '') : undefined;
}

/** `OK`, or the code of an error answer. @param {ReturnType<typeof describeFrame>} frame */
function codeOf(frame) {
  const payload = /** @type {any} */ (payloadOf(frame));
  const errorish = frame.name === 'error' || (payload !== null && typeof payload === 'object' && typeof payload.code === 'string');
  if (!errorish) return 'OK';
  return typeof payload?.code === 'string' ? payload.code : 'SERVER_ERROR';
}

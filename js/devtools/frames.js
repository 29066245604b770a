// Reading wire frames for the devtools, lazily and in JS: the client hands
// its inspector the raw frame (text, or an ArrayBuffer), and only what the
// panel shows is worked out: a name, a size, and on demand the payload.
//
// Text frames are Engine.IO v4 packets (`4` message, `2` ping, ...) whose
// messages are Socket.IO v5 packets (`42["name",{...}]`, `43<id>[...]`),
// or, with protocol 'json', one `{"action": ...}` object per frame. With
// `parser: 'msgpack'` each Socket.IO packet is a binary frame holding one
// MessagePack map `{type, nsp, data?, id?}`: read here into the same
// description, its data as JSON text with binary values shown as the text
// parser's placeholders, so the panel and the request tracker treat both
// parsers alike. Other binary frames (the text parser's attachments) stay
// `binary`.

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
    return describeMsgpack(data) ?? { kind: 'binary', name: 'binary', size: data.byteLength, ackId: undefined, body: undefined };
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
 * A binary frame read as a msgpack Socket.IO packet, or undefined when it
 * is not one (an attachment of the text parser, or malformed).
 * @param {ArrayBuffer} data
 */
function describeMsgpack(data) {
  let packet;
  try {
    packet = readMsgpack(new Uint8Array(data));
  } catch {
    return undefined; // not msgpack, or nested too deep to show
  }
  if (packet === null || typeof packet !== 'object' || Array.isArray(packet)) return undefined;
  const { type, nsp, id } = packet;
  if (!Number.isInteger(type) || type < 0 || type > 4 || typeof nsp !== 'string') return undefined;
  const size = data.byteLength;
  const ackId = Number.isInteger(id) ? id : undefined;
  const body = packet.data === undefined ? undefined : JSON.stringify(packet.data);
  if (type === 2) {
    const name = Array.isArray(packet.data) && typeof packet.data[0] === 'string' ? packet.data[0] : 'event';
    return { kind: 'event', name, size, ackId, body };
  }
  if (type === 3) return { kind: 'ack', name: `ack ${ackId ?? ''}`.trim(), size, ackId, body };
  return { kind: 'socket', name: SOCKET[/** @type {keyof typeof SOCKET} */ (type)] ?? `packet ${type}`, size, ackId, body };
}

/**
 * One MessagePack value filling `bytes`, for display: `bin` (and
 * notepack's ArrayBuffer extension) as `{"_placeholder": true, "num": i}`
 * numbered depth first, as the client hands binary to subscribers; other
 * extensions as `{"_ext": type}`; 64-bit integers as the nearest number.
 * Throws on anything malformed or left over.
 * @param {Uint8Array} bytes
 */
function readMsgpack(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let binaries = 0;
  const need = (/** @type {number} */ n) => {
    if (pos + n > bytes.length) throw new Error('truncated');
    const at = pos;
    pos += n;
    return at;
  };
  const str = (/** @type {number} */ n) => new TextDecoder().decode(bytes.subarray(need(n), pos));
  const bin = (/** @type {number} */ n) => {
    need(n);
    return { _placeholder: true, num: binaries++ };
  };
  const ext = (/** @type {number} */ n) => {
    const type = view.getInt8(need(1));
    const at = need(n);
    if (type !== 0) return { _ext: type };
    if (n === 1) return undefined; // notepack's undefined
    if (n === 8) return new Date(view.getFloat64(at)).toJSON(); // notepack's Date
    binaries++; // notepack's ArrayBuffer
    return { _placeholder: true, num: binaries - 1 };
  };
  /** @returns {any} */
  const value = () => {
    const b = bytes[need(1)];
    if (b < 0x80) return b;
    if (b < 0x90) return map(b & 0x0f);
    if (b < 0xa0) return array(b & 0x0f);
    if (b < 0xc0) return str(b & 0x1f);
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bin(view.getUint8(need(1)));
      case 0xc5: return bin(view.getUint16(need(2)));
      case 0xc6: return bin(view.getUint32(need(4)));
      case 0xc7: return ext(view.getUint8(need(1)));
      case 0xc8: return ext(view.getUint16(need(2)));
      case 0xc9: return ext(view.getUint32(need(4)));
      case 0xca: return view.getFloat32(need(4));
      case 0xcb: return view.getFloat64(need(8));
      case 0xcc: return view.getUint8(need(1));
      case 0xcd: return view.getUint16(need(2));
      case 0xce: return view.getUint32(need(4));
      case 0xcf: return Number(view.getBigUint64(need(8)));
      case 0xd0: return view.getInt8(need(1));
      case 0xd1: return view.getInt16(need(2));
      case 0xd2: return view.getInt32(need(4));
      case 0xd3: return Number(view.getBigInt64(need(8)));
      case 0xd4: return ext(1);
      case 0xd5: return ext(2);
      case 0xd6: return ext(4);
      case 0xd7: return ext(8);
      case 0xd8: return ext(16);
      case 0xd9: return str(view.getUint8(need(1)));
      case 0xda: return str(view.getUint16(need(2)));
      case 0xdb: return str(view.getUint32(need(4)));
      case 0xdc: return array(view.getUint16(need(2)));
      case 0xdd: return array(view.getUint32(need(4)));
      case 0xde: return map(view.getUint16(need(2)));
      case 0xdf: return map(view.getUint32(need(4)));
      default: throw new Error(`reserved marker ${b}`);
    }
  };
  const array = (/** @type {number} */ n) => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(value());
    return out;
  };
  const map = (/** @type {number} */ n) => {
    /** @type {Record<string, any>} */
    const out = Object.create(null); // a `__proto__` key is data here
    for (let i = 0; i < n; i++) {
      const key = String(value());
      out[key] = value();
    }
    return out;
  };
  const v = value();
  if (pos !== bytes.length) throw new Error('bytes after the value');
  return v;
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

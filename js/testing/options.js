// The options of `createTestAgent` and of `request`/`emit`, checked as the
// real client checks them (src/web/options.rs): unknown or ill-typed ones
// throw an Error with code INVALID_OPTIONS, so a typo that would break the
// module in production breaks its tests too. Only `url` differs: the test
// agent dials nothing, so it is optional.

import { agentError } from './errors.js';
import { isObject } from './wire.js';

/** The option names, for the unknown-option message (the real client's list). */
const NAMES =
  'url, path, query, namespace, auth, protocol, parser, wrapEvents, reconnection, ' +
  'reconnectionDelay (or delay), reconnectionDelayMax (or delayMax), randomizationFactor, ' +
  'reconnectionAttempts (or attempts), connectTimeout, timeout, bufferSize, highWaterMark, transports, upgrade, ' +
  'withCredentials, extraHeaders, debug';

const ALIASES = { delay: 'reconnectionDelay', delayMax: 'reconnectionDelayMax', attempts: 'reconnectionAttempts' };

/** setTimeout's own limit, the real client's largest delay. */
const MAX_MS = 2_147_483_647;

/** The URL the test agent reports when none is given. */
export const TEST_URL = 'http://frinny.test';

/**
 * @typedef {object} Config
 * @property {string} url
 * @property {Record<string, string>} query
 * @property {string} namespace
 * @property {'socket.io' | 'json'} protocol
 * @property {'json' | 'msgpack'} parser the Socket.IO packet format; the
 *   test agent has no wire, so it only checks it (inspected frames stay text)
 * @property {Record<string, unknown> | Function | undefined} auth
 * @property {boolean} reconnection
 * @property {number} reconnectionDelay
 * @property {number} reconnectionDelayMax
 * @property {number} randomizationFactor
 * @property {number} reconnectionAttempts
 * @property {number} connectTimeout
 * @property {number} timeout
 * @property {number} bufferSize
 * @property {number} highWaterMark accepted and checked; the test agent has no socket to congest
 * @property {('websocket' | 'polling')[]} transports
 * @property {boolean} upgrade
 * @property {boolean} withCredentials
 * @property {Record<string, string>} extraHeaders
 * @property {boolean} debug
 */

/** @param {string} message */
const invalid = (message) => agentError('INVALID_OPTIONS', message);

/**
 * A whole number from 0 to `max`.
 * @param {string} name @param {unknown} v @param {number} max
 */
function whole(name, v, max) {
  if (typeof v !== 'number') throw invalid(`option ${name} must be a number`);
  if (!(Number.isFinite(v) && v >= 0 && Number.isInteger(v) && v <= max)) {
    throw invalid(`option ${name} must be a whole number from 0 to ${max}, got ${v}`);
  }
  return v;
}

/**
 * The options of `createTestAgent`, read into a Config.
 * @param {unknown} options
 * @returns {Config}
 */
export function parseOptions(options = {}) {
  if (!isObject(options)) throw invalid("options must be an object such as { url: 'http://127.0.0.1:5001' }");
  /** @type {Config} */
  const cfg = {
    url: TEST_URL,
    query: {},
    namespace: '/',
    protocol: 'socket.io',
    parser: 'json',
    auth: undefined,
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
    reconnectionAttempts: Infinity,
    connectTimeout: 20000,
    timeout: 30000,
    bufferSize: 100,
    highWaterMark: 1_048_576,
    transports: ['websocket', 'polling'],
    upgrade: true,
    withCredentials: false,
    extraHeaders: {},
    debug: false,
  };
  const seen = new Set();
  let wrapEvents;
  for (const [key, value] of Object.entries(/** @type {object} */ (options))) {
    if (value === undefined) continue; // as null: the default
    const name = /** @type {Record<string, string>} */ (ALIASES)[key] ?? key;
    if (seen.has(name)) throw invalid(`option ${name} is given twice (as itself and by its short name)`);
    seen.add(name);
    if (value === null) continue; // null means the default
    // Infinity and NaN mean the default too (the real client reads numbers that way).
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    switch (name) {
      case 'url':
      case 'path':
      case 'namespace':
      case 'protocol':
      case 'parser':
        if (typeof value !== 'string') throw invalid(`option ${name} must be a string`);
        if (name === 'parser') {
          if (value !== 'json' && value !== 'msgpack') {
            throw invalid(`option parser must be 'json' or 'msgpack', got ${JSON.stringify(value)}`);
          }
          cfg.parser = value;
        }
        if (name === 'url' && value) cfg.url = value;
        if (name === 'namespace') {
          if (value.includes(',')) throw invalid(`option namespace must not contain ',', got ${JSON.stringify(value)}`);
          cfg.namespace = value.startsWith('/') ? value : `/${value}`;
        }
        if (name === 'protocol') {
          if (value !== 'socket.io' && value !== 'json') {
            throw invalid(`option protocol must be 'socket.io' or 'json', got ${JSON.stringify(value)}`);
          }
          cfg.protocol = value;
        }
        break;
      case 'query': {
        const bad = 'option query must be an object of string, number or boolean values';
        if (!isObject(value)) throw invalid(bad);
        for (const [k, v] of Object.entries(/** @type {object} */ (value))) {
          if (!['string', 'number', 'boolean'].includes(typeof v)) throw invalid(bad);
          cfg.query[k] = String(v);
        }
        break;
      }
      case 'wrapEvents':
        if (!Array.isArray(value) || value.some((n) => typeof n !== 'string')) {
          throw invalid('option wrapEvents must be an array of event names');
        }
        wrapEvents = value;
        break;
      case 'auth':
        if (typeof value !== 'function' && !isObject(value)) throw invalid('option auth must be an object or a function');
        cfg.auth = /** @type {any} */ (value);
        break;
      case 'reconnection':
        if (typeof value !== 'boolean') throw invalid('option reconnection must be a boolean');
        cfg.reconnection = value;
        break;
      case 'randomizationFactor':
        if (typeof value !== 'number') throw invalid('option randomizationFactor must be a number');
        if (!(value >= 0 && value <= 1)) throw invalid(`option randomizationFactor must be from 0 to 1, got ${value}`);
        cfg.randomizationFactor = value;
        break;
      case 'reconnectionAttempts':
        cfg.reconnectionAttempts = whole(name, value, 4_294_967_295);
        break;
      case 'reconnectionDelay':
      case 'reconnectionDelayMax':
      case 'connectTimeout':
      case 'timeout':
        /** @type {any} */ (cfg)[name] = whole(name, value, MAX_MS);
        break;
      case 'bufferSize':
        cfg.bufferSize = whole(name, value, 1_000_000);
        break;
      case 'highWaterMark':
        cfg.highWaterMark = whole(name, value, 4_294_967_295);
        break;
      case 'transports': {
        if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
          throw invalid("option transports must be an array of 'websocket' and 'polling'");
        }
        const bad = value.find((t) => t !== 'websocket' && t !== 'polling');
        if (bad !== undefined) {
          throw invalid(`option transports may hold 'websocket' and 'polling', got ${JSON.stringify(bad)}`);
        }
        if (value.length === 0) throw invalid('option transports must name at least one transport');
        cfg.transports = [...new Set(value)];
        break;
      }
      case 'upgrade':
      case 'withCredentials':
        if (typeof value !== 'boolean') throw invalid(`option ${name} must be a boolean`);
        /** @type {any} */ (cfg)[name] = value;
        break;
      case 'extraHeaders': {
        const bad = 'option extraHeaders must be an object of string, number or boolean values';
        if (!isObject(value)) throw invalid(bad);
        for (const [k, v] of Object.entries(/** @type {object} */ (value))) {
          if (!['string', 'number', 'boolean'].includes(typeof v)) throw invalid(bad);
          cfg.extraHeaders[k] = String(v);
        }
        break;
      }
      case 'debug':
        if (typeof value !== 'boolean') throw invalid('option debug must be a boolean');
        cfg.debug = value;
        break;
      default:
        throw invalid(`unknown option \`${key}\`; the options are ${NAMES}`);
    }
  }
  if (cfg.parser === 'msgpack' && cfg.protocol === 'json') {
    throw invalid("option parser 'msgpack' is a Socket.IO parser: it does not apply to protocol 'json'");
  }
  if (wrapEvents && cfg.protocol !== 'json') throw invalid("option wrapEvents only applies to protocol 'json'");
  if (cfg.protocol === 'json') {
    if (!cfg.transports.includes('websocket')) {
      throw invalid("protocol 'json' only runs over a WebSocket: transports must include 'websocket'");
    }
    cfg.transports = ['websocket'];
  }
  return cfg;
}

/** @typedef {'high' | 'normal' | 'low'} Priority */

/**
 * The `priority` of an emit or request (`call`): `undefined` and `null` mean normal.
 * @param {string} call @param {unknown} value
 * @returns {Priority}
 */
function priority(call, value) {
  if (value === undefined || value === null) return 'normal';
  if (value === 'high' || value === 'normal' || value === 'low') return value;
  const got = typeof value === 'string' ? JSON.stringify(value) : typeof value;
  throw invalid(`${call} option priority must be 'high', 'normal' or 'low', got ${got}`);
}

/**
 * `request()`'s options: `{timeout, signal, retry, priority}`.
 * @param {unknown} v
 * @returns {{timeout?: number, retry: boolean, priority: Priority, signal?: AbortSignal}}
 */
export function requestOptions(v) {
  /** @type {{timeout?: number, retry: boolean, priority: Priority, signal?: AbortSignal}} */
  const out = { retry: false, priority: 'normal' };
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object') throw invalid('request options must be an object { timeout, signal, retry, priority }');
  for (const [name, value] of Object.entries(v)) {
    if (value === undefined) continue;
    if (name === 'timeout') {
      if (typeof value !== 'number') throw invalid('request option timeout must be a number');
      out.timeout = whole('timeout', value, MAX_MS);
    } else if (name === 'retry') {
      if (typeof value !== 'boolean') throw invalid('request option retry must be a boolean');
      out.retry = value;
    } else if (name === 'priority') {
      out.priority = priority('request', value);
    } else if (name === 'signal') {
      if (value === null) continue;
      if (typeof AbortSignal === 'undefined' || !(value instanceof AbortSignal)) {
        throw invalid('request option signal must be an AbortSignal');
      }
      out.signal = value;
    } else {
      throw invalid(`unknown request option ${JSON.stringify(name)}`);
    }
  }
  return out;
}

/**
 * `emit()`'s `{volatile, priority}` (other keys are let through, as the real client does).
 * @param {unknown} v
 * @returns {{volatile: boolean, priority: Priority}}
 */
export function emitOptions(v) {
  if (v === undefined || v === null) return { volatile: false, priority: 'normal' };
  const { volatile = false, priority: p } = /** @type {any} */ (v);
  if (typeof volatile !== 'boolean') throw invalid('emit option volatile must be a boolean');
  return { volatile, priority: priority('emit', p) };
}

/** Socket.IO's reserved event names, which the real client refuses to send. */
const RESERVED_EVENTS = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

/**
 * Throws INVALID_PAYLOAD for a name the real client would refuse.
 * @param {unknown} name
 */
export function checkEventName(name) {
  if (typeof name !== 'string') throw agentError('INVALID_PAYLOAD', 'an event name must be a string');
  if (RESERVED_EVENTS.includes(name)) throw agentError('INVALID_PAYLOAD', `reserved event name ${JSON.stringify(name)}`);
}

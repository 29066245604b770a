// What crosses the MessagePort between a tab's SharedAgentManager (tab.js)
// and the SharedWorker's hub (hub.js): the error codes of sharing, errors as
// plain data and back, and the key that says which tabs share a connection.
// Every message is a plain object `{t: <kind>, ...}` holding only what the
// structured clone algorithm copies (JSON data and ArrayBuffers, never a
// function), so an Error is sent as its fields and rebuilt on the other side.

/** A method the shared manager cannot offer (it needs a synchronous answer from a tab). */
export const SHARE_UNSUPPORTED = 'SHARE_UNSUPPORTED';

/** The options only the tab reads: they never reach the worker's manager. */
export const TAB_ONLY_OPTIONS = ['shareAcrossTabs', 'sharedWorkerUrl', 'debug', 'auth'];

/** The fields an agent error may carry besides its message (see `AgentError`). */
const ERROR_FIELDS = ['code', 'detail', 'serverCode', 'event'];

/**
 * An Error (or anything thrown) as structured-clone-safe data: name,
 * message, the agent error fields, and `cause` the same way (to a few levels).
 * @param {unknown} error
 * @returns {{name: string, message: string, code?: string, detail?: string, serverCode?: string, event?: string, cause?: unknown}}
 */
export function errorToData(error, depth = 0) {
  if (!(error instanceof Error) && (typeof error !== 'object' || error === null)) {
    return { name: 'Error', message: String(error) };
  }
  const data = { name: String(error.name ?? 'Error'), message: String(error.message ?? '') };
  for (const field of ERROR_FIELDS) {
    const value = error[field];
    if (typeof value === 'string' || typeof value === 'number') data[field] = value;
  }
  const { cause } = error;
  if (cause !== undefined && depth < 3) {
    data.cause = typeof cause === 'object' && cause !== null ? errorToData(cause, depth + 1) : cause;
    if (typeof data.cause === 'function' || typeof data.cause === 'symbol' || typeof data.cause === 'bigint') {
      data.cause = String(cause);
    }
  }
  return data;
}

/**
 * The Error `errorToData` described, with the same fields.
 * @param {ReturnType<typeof errorToData>} data
 * @returns {Error & {code?: string}}
 */
export function errorFromData(data) {
  const error = new Error(String(data?.message ?? 'unknown error'));
  if (data?.name && data.name !== 'Error') error.name = data.name;
  for (const field of ERROR_FIELDS) {
    if (data?.[field] !== undefined) error[field] = data[field];
  }
  if (data?.cause !== undefined) {
    error.cause = typeof data.cause === 'object' && data.cause !== null && 'message' in data.cause
      ? errorFromData(data.cause)
      : data.cause;
  }
  return error;
}

/**
 * An Error with a stable `code`, as the wasm makes them.
 * @param {string} code @param {string} message
 */
export function coded(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/**
 * What the worker's manager is built from: the options without those only
 * the tab reads, with `auth` as the worker will use it (`'function'` when
 * the tab holds a function it must be asked through, else the plain object).
 * @param {Record<string, unknown>} options
 */
export function workerOptions(options) {
  const out = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || TAB_ONLY_OPTIONS.includes(key)) continue;
    out[key] = value;
  }
  const { auth } = options;
  if (typeof auth === 'function') out.auth = 'function';
  else if (auth !== undefined && auth !== null) out.auth = auth;
  return out;
}

/**
 * The key of a connection: tabs whose `workerOptions` are the same data
 * share one. Object members are sorted, so `{a, b}` and `{b, a}` agree;
 * arrays keep their order (`transports` order matters).
 * @param {Record<string, unknown>} options the output of `workerOptions`
 */
export function connectionKey(options) {
  return JSON.stringify(sorted(options));
}

function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value !== 'object' || value === null) return value;
  const out = {};
  for (const key of Object.keys(value).sort()) out[key] = sorted(value[key]);
  return out;
}

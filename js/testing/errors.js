// Errors of the test agent: plain `Error`s with the stable `code` the real
// client gives (src/core/error.rs, src/web/errors.rs), so a module's error
// handling is tested against the same shapes it meets in production.

/**
 * The client's own codes: a failure the client itself reports. Any other
 * code thrown by a `server.handle` function is the server's, and reaches
 * the caller as the real client reports a server's refusal: SERVER_ERROR
 * with the code as `serverCode`.
 */
export const CLIENT_CODES = Object.freeze([
  'TIMEOUT',
  'DISCONNECTED',
  'CONNECT_REFUSED',
  'BUFFER_FULL',
  'ABORTED',
  'SERVER_ERROR',
  'INVALID_PAYLOAD',
  'INVALID_OPTIONS',
  'PROTOCOL_ERROR',
  'RECONNECT_FAILED',
  'CLOSED',
  'AUTH_FAILED',
  'TRANSPORT_ERROR',
  'INFLATE_FAILED',
  'CALLBACK_ERROR',
]);

/**
 * An `Error` with `code` and, when given, the extra fields the real client
 * sets (`serverCode`, `detail`, `event`, `cause`).
 * @param {string} code
 * @param {string} message
 * @param {{serverCode?: string, detail?: string, event?: string, cause?: unknown}} [extra]
 * @returns {Error & {code: string}}
 */
export function agentError(code, message, extra = {}) {
  const err = /** @type {Error & {code: string}} */ (new Error(message));
  err.code = code;
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) /** @type {any} */ (err)[key] = value;
  }
  return err;
}

/**
 * The SERVER_ERROR the real client makes of a server `error` payload: its
 * text from `error`, else `message`, else the whole payload; its `code` kept
 * as `serverCode` (core::ClientError::from_server_payload).
 * @param {unknown} payload
 */
export function serverError(payload) {
  if (typeof payload === 'string') return agentError('SERVER_ERROR', payload);
  if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
    const p = /** @type {Record<string, unknown>} */ (payload);
    if (p.code == null || typeof p.code === 'string') {
      const text = p.error ?? p.message;
      const message = text == null ? JSON.stringify(payload) : typeof text === 'string' ? text : JSON.stringify(text);
      return agentError('SERVER_ERROR', message, { serverCode: /** @type {string | undefined} */ (p.code ?? undefined) });
    }
  }
  return agentError('SERVER_ERROR', JSON.stringify(payload) ?? 'server error');
}

/**
 * What a `server.handle` function's throw (or rejection) becomes: the
 * client's own code as it is (a test may simulate a TIMEOUT), any other
 * code as the server's (SERVER_ERROR with `serverCode`), and no code at all
 * as a plain SERVER_ERROR.
 * @param {unknown} thrown
 */
export function handlerError(thrown) {
  const t = /** @type {any} */ (thrown);
  const message = t instanceof Error ? t.message : typeof t === 'string' ? t : t?.message ?? t?.error ?? 'server error';
  const code = typeof t?.code === 'string' ? t.code : undefined;
  if (code && CLIENT_CODES.includes(code)) return agentError(code, String(message), { serverCode: t.serverCode });
  return agentError('SERVER_ERROR', String(message), { serverCode: code });
}

// <frinny-connection-status>: the link state, a Retry button, and errors
// shown briefly. The roadmap's "error recovery", made visible.
import { FrinnyElement, button, el, intAttr, str } from './base.js';
import { CONNECTION_CSS } from './styles.js';
import { localize } from './strings.js';

/** Default of the `error-ms` attribute: how long an error stays shown. */
export const DEFAULT_ERROR_MS = 6000;

/**
 * What the element shows for each `agent.state`:
 * `connected`, `connecting`, `reconnecting`, `offline` (the agent is
 * `disconnected`, or the browser has no network) or `closed`.
 * @param {string} state
 * @param {boolean} online
 * @returns {'connected' | 'connecting' | 'reconnecting' | 'offline' | 'closed'}
 */
export function shownState(state, online) {
  if (state === 'closed') return 'closed';
  if (!online) return 'offline';
  if (state === 'connected' || state === 'connecting' || state === 'reconnecting') return state;
  return 'offline';
}

/**
 * Shows the link state from `onStateChange` (`data-state` on the element:
 * connected, connecting, reconnecting, offline, closed); while
 * reconnecting, a countdown to the next attempt (`agent.nextReconnectAt`),
 * or how long it has been trying while an attempt is under way; a Retry
 * button that tries at once; and each `onError` error for `error-ms`
 * (default 6000) ms in a `role="alert"` line.
 */
export class FrinnyConnectionStatus extends FrinnyElement {
  static styles = CONNECTION_CSS;

  constructor() {
    super();
    this._state = 'disconnected';
    this._since = 0;
    this._tick = 0;
    this._errorTimer = 0;
    /** @type {{code: string, message: string} | null} */
    this._error = null;
    this._onNetwork = () => this._setState(this._agent ? safeState(this._agent) : this._state, '');
  }

  /** The state shown: connected, connecting, reconnecting, offline or closed. */
  get shown() {
    return this.dataset.state ?? 'offline';
  }

  /** @internal */
  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'group');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', localize('FRINNY.ConnectionStatus'));
    super.connectedCallback();
    if (!this._agent) this._render();
  }

  /** @param {ShadowRoot} root */
  _build(root) {
    const row = el('div', 'row');
    row.setAttribute('part', 'row');
    const dot = el('span', 'dot');
    dot.setAttribute('aria-hidden', 'true');
    // The state line is a live region of its own: errors are alerts.
    this._label = el('span', 'label');
    this._label.setAttribute('role', 'status');
    this._label.setAttribute('part', 'label');
    this._retry = button(localize('FRINNY.Retry'), 'retry', localize('FRINNY.RetryConnection'));
    this._retry.setAttribute('part', 'retry');
    this._retry.addEventListener('click', () => this.retry());
    this._errorEl = el('span', 'error');
    this._errorEl.setAttribute('role', 'alert');
    this._errorEl.setAttribute('part', 'error');
    this._errorEl.hidden = true;
    row.append(dot, this._label, this._retry, this._errorEl);
    root.append(row);
  }

  /** @param {any} agent */
  _attach(agent) {
    this._track(agent.onStateChange((state, reason) => this._setState(state, reason)));
    this._track(
      agent.onError((err) => this.showError(err)),
    );
    window.addEventListener('online', this._onNetwork);
    window.addEventListener('offline', this._onNetwork);
    this._track(() => {
      window.removeEventListener('online', this._onNetwork);
      window.removeEventListener('offline', this._onNetwork);
    });
    this._setState(safeState(agent), '');
  }

  _attachFailed() {
    this._setState('closed', '');
  }

  /**
   * Tries to connect now: `connect()`, which during a reconnection backoff
   * starts the next attempt at once, and from `disconnected` connects. A
   * failure is shown like any error.
   */
  retry() {
    const agent = this._agent;
    if (!agent) return;
    const state = safeState(agent);
    if (state === 'closed' || state === 'connected') return;
    try {
      agent.connect().catch((/** @type {any} */ err) => this.showError(err));
    } catch (err) {
      this.showError(err);
    }
    this._setState(safeState(agent), 'retry');
  }

  /**
   * Shows `error` (an `Error` with `code`, or `{code, message}`) for `error-ms` ms.
   * @param {any} error
   */
  showError(error) {
    // A server's refusal arrives as SERVER_ERROR with the server's own code
    // (RATE_LIMITED, INVALID_PAYLOAD, ...) in serverCode: show that one.
    const code = str(error && (error.serverCode || error.code), 60) || 'ERROR';
    const message = str(error && error.message, 300) || String(error);
    this._error = { code, message };
    clearTimeout(this._errorTimer);
    this._errorTimer = setTimeout(() => {
      this._error = null;
      this._schedule();
    }, intAttr(this, 'error-ms', DEFAULT_ERROR_MS));
    this._schedule();
  }

  /**
   * @param {string} state
   * @param {string} _reason
   */
  _setState(state, _reason) {
    if (state !== this._state || !this._since) this._since = Date.now();
    this._state = state;
    clearInterval(this._tick);
    this._tick = 0;
    if (state === 'reconnecting' || state === 'connecting') {
      this._tick = setInterval(() => this._schedule(), 1000);
    }
    this._schedule();
  }

  _flush() {
    this._render();
  }

  _render() {
    if (!this._label) return;
    const online = typeof navigator === 'undefined' || navigator.onLine !== false;
    const state = this._agent ? this._state : 'none';
    const shown = this._agent ? shownState(state, online) : 'offline';
    if (this.dataset.state !== shown) this.dataset.state = shown;
    let text;
    if (!this._agent) text = localize('FRINNY.StateNoAgent');
    else if (shown === 'connected') text = localize('FRINNY.StateConnected');
    else if (shown === 'connecting') text = localize('FRINNY.StateConnecting');
    else if (shown === 'reconnecting') {
      const at = Number(this._agent.nextReconnectAt);
      if (Number.isFinite(at) && at > 0) {
        text = localize('FRINNY.StateReconnectingIn', { seconds: Math.max(0, Math.ceil((at - Date.now()) / 1000)) });
      } else {
        const seconds = Math.floor((Date.now() - this._since) / 1000);
        text = seconds >= 1 ? localize('FRINNY.StateReconnectingFor', { seconds }) : localize('FRINNY.StateReconnecting');
      }
    } else if (shown === 'closed') text = localize('FRINNY.StateClosed');
    else text = online ? localize('FRINNY.StateOffline') : localize('FRINNY.StateNoNetwork');
    if (this._label.textContent !== text) this._label.textContent = text;
    this._retry.hidden = !this._agent || shown === 'connected' || shown === 'connecting' || shown === 'closed';
    if (this._error) {
      const t = localize('FRINNY.ErrorCode', this._error);
      if (this._errorEl.textContent !== t) this._errorEl.textContent = t;
      this._errorEl.title = t;
      this._errorEl.hidden = false;
    } else {
      this._errorEl.hidden = true;
      this._errorEl.textContent = '';
    }
  }

  _detached() {
    clearInterval(this._tick);
    clearTimeout(this._errorTimer);
    this._tick = 0;
    this._errorTimer = 0;
    this._error = null;
    this._state = 'disconnected';
    this._render();
  }
}

/** `agent.state`, or `closed` for an agent that was freed. @param {any} agent */
function safeState(agent) {
  try {
    return String(agent.state);
  } catch {
    return 'closed';
  }
}

// <frinny-typing-indicator stale-after="30000">: "Frinny is typing…" while a
// request is being worked on.
import { FrinnyElement, el, intAttr } from './base.js';
import { TYPING_CSS } from './styles.js';
import { localize } from './strings.js';
import { ServerToClient } from '../EventTypes.js';

/** Every reply event (`*_response`): any of them ends the typing. */
export const RESPONSE_EVENTS = Object.freeze(Object.values(ServerToClient).filter((n) => n.endsWith('_response')));

/** Default of the `stale-after` attribute (ms). */
export const DEFAULT_STALE_AFTER_MS = 30_000;

/**
 * Shows on `typing_status {isTyping: true}` (`hidden` false, `role="status"`,
 * "Frinny is typing…"). Hides on `typing_status {isTyping: false}`, on any
 * `*_response`, on an `error` that ends a request, and `stale-after` ms
 * (default 30000) after the last typing event, so a lost `false` cannot
 * leave it on. Also driven by hand with `show()` / `hide()`.
 */
export class FrinnyTypingIndicator extends FrinnyElement {
  static styles = TYPING_CSS;
  static observedAttributes = ['stale-after'];

  constructor() {
    super();
    this._want = false;
    this._staleTimer = 0;
  }

  /** Milliseconds after the last typing event at which it hides by itself. */
  get staleAfter() {
    return intAttr(this, 'stale-after', DEFAULT_STALE_AFTER_MS);
  }

  set staleAfter(ms) {
    this.setAttribute('stale-after', String(ms));
  }

  /** Whether it is (or, within this frame, will be) showing. */
  get typing() {
    return this._want;
  }

  /** @internal */
  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'status');
    if (!this._built && !this._want) this.hidden = true;
    super.connectedCallback();
  }

  /** @param {ShadowRoot} root */
  _build(root) {
    const row = el('span', 'row');
    row.setAttribute('part', 'row');
    const dots = el('span', 'dots');
    dots.setAttribute('aria-hidden', 'true');
    dots.append(el('span'), el('span'), el('span'));
    this._label = el('span', 'label', localize('FRINNY.Typing'));
    this._label.setAttribute('part', 'label');
    row.append(dots, this._label);
    root.append(row);
  }

  /** @param {any} agent */
  _attach(agent) {
    this._on('typing_status', (p) => (p && p.isTyping === true ? this.show() : this.hide()));
    for (const name of RESPONSE_EVENTS) this._on(name, () => this.hide());
    this._on('error', (p) => {
      if (p && p.request_id !== undefined && p.request_id !== null) this.hide();
    });
    void agent;
  }

  /** Shows it and restarts the stale timer. */
  show() {
    this._want = true;
    clearTimeout(this._staleTimer);
    this._staleTimer = setTimeout(() => this.hide(), this.staleAfter);
    this._schedule();
  }

  /** Hides it. */
  hide() {
    clearTimeout(this._staleTimer);
    this._staleTimer = 0;
    if (!this._want && this.hidden) return;
    this._want = false;
    this._schedule();
  }

  _flush() {
    if (this.hidden === !this._want) return;
    this.hidden = !this._want;
  }

  _detached() {
    clearTimeout(this._staleTimer);
    this._staleTimer = 0;
    this._want = false;
    this.hidden = true;
  }

  /** @internal */
  attributeChangedCallback() {
    if (this._want) this.show();
  }
}

// The base of every Frinny element: the `agent` property and the
// bookkeeping that releases every subscription, the open shadow root with
// the element's styles, and per-animation-frame batching of DOM updates.
import { BASE_CSS } from './styles.js';

/** How long a frame may be skipped (hidden tab, no rAF) before a timer flushes anyway. */
const FALLBACK_FLUSH_MS = 250;

/**
 * A custom element driven by an `AgentManager`. Subclasses implement
 * `_build(root)` (once, the static skeleton), `_attach(agent)` (subscribe
 * through `this._track(off)`), `_flush()` (apply queued updates to the DOM)
 * and optionally `_detached()` (clear timers and queued work).
 *
 * Subscriptions exist only while the element is in a document AND has an
 * agent: setting `agent` to `null`, or removing the element, releases all
 * of them; inserting it again (or setting another agent) subscribes again.
 */
/** HTMLElement, or (where there is no DOM, e.g. Node importing the module for its strings) a stand-in. */
const Base = /** @type {typeof HTMLElement} */ (typeof HTMLElement === 'undefined' ? class {} : HTMLElement);

export class FrinnyElement extends Base {
  /** CSS of the element's shadow root (after the shared base CSS). */
  static styles = '';

  constructor() {
    super();
    /** @type {any} */
    this._agent = null;
    /** @type {Array<() => void>} */
    this._offs = [];
    this._attachedTo = null;
    this._frame = 0;
    this._fallback = 0;
    this._built = false;
    this.attachShadow({ mode: 'open' });
  }

  /**
   * The `AgentManager` this element listens to, or `null`.
   * @type {any}
   */
  get agent() {
    return this._agent;
  }

  set agent(agent) {
    if (agent === undefined) agent = null;
    if (agent === this._agent) return;
    this._agent = agent;
    this._release();
    this._sync();
  }

  /** @internal */
  connectedCallback() {
    // `el.agent = x` run before the element was upgraded left an own
    // property that hides the accessor: hand it over.
    if (Object.hasOwn(this, 'agent')) {
      const agent = /** @type {any} */ (this).agent;
      delete (/** @type {any} */ (this).agent);
      this.agent = agent;
    }
    this._ensureBuilt();
    this._sync();
  }

  /** @internal */
  disconnectedCallback() {
    this._release();
  }

  _ensureBuilt() {
    if (this._built) return;
    this._built = true;
    adoptStyles(this.shadowRoot, BASE_CSS + /** @type {typeof FrinnyElement} */ (this.constructor).styles);
    this._build(this.shadowRoot);
  }

  /** Subscribes if in a document with an agent and not yet subscribed. */
  _sync() {
    if (!this.isConnected || !this._agent || this._attachedTo === this._agent) return;
    this._ensureBuilt();
    this._attachedTo = this._agent;
    try {
      this._attach(this._agent);
    } catch (err) {
      // A closed agent throws on subscribe: hold nothing, show nothing stale.
      this._release();
      this._attachedTo = null;
      this._attachFailed(err);
    }
  }

  /** Releases every subscription and queued frame. */
  _release() {
    const offs = this._offs;
    this._offs = [];
    for (const off of offs) {
      try {
        off();
      } catch {
        // The agent may be closed already; its callbacks are gone then.
      }
    }
    if (this._frame) cancelAnimationFrame(this._frame);
    if (this._fallback) clearTimeout(this._fallback);
    this._frame = 0;
    this._fallback = 0;
    const was = this._attachedTo;
    this._attachedTo = null;
    if (was) this._detached();
  }

  /**
   * Keeps `off` to call on release.
   * @param {() => void} off
   */
  _track(off) {
    if (typeof off === 'function') this._offs.push(off);
  }

  /**
   * `agent.subscribe(name, cb)`, released with the element.
   * @param {string} name
   * @param {(payload: any) => void} callback
   */
  _on(name, callback) {
    this._track(this._agent.subscribe(name, callback));
  }

  /** Asks for one `_flush()` in the next animation frame (at most one per frame). */
  _schedule() {
    if (this._frame || this._fallback) return;
    const run = () => {
      if (this._frame) cancelAnimationFrame(this._frame);
      if (this._fallback) clearTimeout(this._fallback);
      this._frame = 0;
      this._fallback = 0;
      this._flush();
    };
    this._frame = requestAnimationFrame(run);
    // Background tabs get no animation frames: flush a few times a second
    // there, so the queue stays short and the view is current on return.
    this._fallback = setTimeout(run, FALLBACK_FLUSH_MS);
  }

  /** Applies what is queued now, without waiting for the frame. */
  flush() {
    if (this._frame) cancelAnimationFrame(this._frame);
    if (this._fallback) clearTimeout(this._fallback);
    this._frame = 0;
    this._fallback = 0;
    this._ensureBuilt();
    this._flush();
  }

  /** @param {ShadowRoot} _root */
  _build(_root) {}
  /** @param {any} _agent */
  _attach(_agent) {}
  _flush() {}
  _detached() {}
  /** @param {unknown} _err */
  _attachFailed(_err) {}
}

/** One constructed stylesheet per CSS text, shared by every shadow root that uses it. */
const sheets = new Map();

/**
 * Gives `root` the CSS `css`: a shared constructed stylesheet where the
 * browser has them (no <style> text in the root), else a <style> element.
 * @param {ShadowRoot} root
 * @param {string} css
 */
export function adoptStyles(root, css) {
  try {
    let sheet = sheets.get(css);
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      sheets.set(css, sheet);
    }
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch {
    const style = document.createElement('style');
    style.textContent = css;
    root.prepend(style);
  }
}

/**
 * `document.createElement(tag)` with a class and text (always as text).
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A `<button type="button">` with text, an optional accessible label and part.
 * @param {string} text
 * @param {string} [className]
 * @param {string} [label]
 * @returns {HTMLButtonElement}
 */
export function button(text, className, label) {
  const b = /** @type {HTMLButtonElement} */ (el('button', className, text));
  b.type = 'button';
  if (label) b.setAttribute('aria-label', label);
  return b;
}

/**
 * A positive integer attribute, or `fallback`.
 * @param {Element} node
 * @param {string} name
 * @param {number} fallback
 */
export function intAttr(node, name, fallback) {
  const n = Number.parseInt(node.getAttribute(name) ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * A short time of day for `timestamp` (ms since the epoch).
 * @param {number} timestamp
 */
export function timeOf(timestamp) {
  try {
    // One formatter for every item: building one per call costs more than the item.
    timeFormat ??= new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
    return timeFormat.format(timestamp);
  } catch {
    return '';
  }
}

/** @type {Intl.DateTimeFormat | undefined} */
let timeFormat;

/**
 * A string from an untrusted value (numbers allowed), or `''`.
 * @param {unknown} value
 * @param {number} [max]
 */
export function str(value, max = 4000) {
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max)}…` : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

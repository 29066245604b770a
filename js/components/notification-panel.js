// <frinny-notification-panel max="50">: the table's notifications, newest first.
import { FrinnyElement, button, el, intAttr, str, timeOf } from './base.js';
import { NOTIFICATION_CSS } from './styles.js';
import { localize } from './strings.js';

/** Default of the `max` attribute. */
export const DEFAULT_MAX_NOTIFICATIONS = 50;

const LEVELS = { info: 'FRINNY.LevelInfo', success: 'FRINNY.LevelSuccess', warning: 'FRINNY.LevelWarning', error: 'FRINNY.LevelError' };

/**
 * @typedef {object} NotificationInput
 * @property {string} message
 * @property {string} [title]
 * @property {'info' | 'success' | 'warning' | 'error' | string} [level]
 * @property {string} [from]
 * @property {number} [timestamp]
 */

/** @typedef {{id: number, message: string, title: string, level: string, from: string, timestamp: number}} Notice */
/** @typedef {{dismiss: string, levels: Record<string, string>}} Labels */

let nextId = 1;

/**
 * A queued notification as the panel shows it: text made safe and bounded,
 * a known level (else info).
 * @param {any} p the payload
 * @param {number} timestamp when it arrived, or its own `timestamp`
 * @returns {Notice}
 */
function notice(p, timestamp) {
  return {
    id: nextId++,
    message: str(p.message) || str(p.error) || '',
    title: str(p.title, 200),
    level: Object.hasOwn(LEVELS, p.level) ? p.level : 'info',
    from: str(p.from, 200),
    timestamp,
  };
}

/**
 * Sets `node`'s text if it differs.
 * @param {HTMLElement} node
 * @param {string} text
 */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** @param {number} ts */
function isoOf(ts) {
  try {
    return new Date(ts).toISOString();
  } catch {
    return '';
  }
}

/**
 * Shows every `notification {message, title?, level?, from?, timestamp?}` as
 * an item, newest first, with its level and a dismiss button; holds at most
 * `max` (default 50). `role="log"`, `aria-live="polite"`. `notify()` adds a
 * local item. With `autohide` it is hidden while empty. Updates are
 * applied once per animation frame: a burst of any
 * size costs one DOM update, and only the newest `max` items are built.
 */
export class FrinnyNotificationPanel extends FrinnyElement {
  static styles = NOTIFICATION_CSS;
  static observedAttributes = ['max'];

  constructor() {
    super();
    /** Notices not shown yet, as flat `[payload, arrival time]` pairs. @type {any[]} */
    this._queue = [];
  }

  /** The most items held (attribute `max`, default 50). */
  get max() {
    return intAttr(this, 'max', DEFAULT_MAX_NOTIFICATIONS);
  }

  set max(n) {
    this.setAttribute('max', String(n));
  }

  /** How many items are shown (after the pending frame is applied). */
  get count() {
    return Math.min(this.max, (this._list ? this._list.childElementCount : 0) + this._queue.length / 2);
  }

  /** @internal */
  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'log');
    if (!this.hasAttribute('aria-live')) this.setAttribute('aria-live', 'polite');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', localize('FRINNY.Notifications'));
    super.connectedCallback();
  }

  /** @param {ShadowRoot} root */
  _build(root) {
    const head = el('div', 'panel-head');
    const title = el('h2');
    title.append(el('span', '', localize('FRINNY.Notifications')));
    this._countEl = el('span', 'count');
    this._countEl.setAttribute('aria-hidden', 'true');
    title.append(this._countEl);
    this._clear = button(localize('FRINNY.ClearAll'), 'clear');
    this._clear.setAttribute('part', 'clear');
    this._clear.addEventListener('click', () => this.clear());
    head.append(title, this._clear);
    this._empty = el('p', 'empty', localize('FRINNY.NotificationsEmpty'));
    this._list = el('ol');
    this._list.setAttribute('part', 'list');
    this._list.addEventListener('click', (e) => this._onClick(e));
    root.append(head, this._empty, this._list);
    this._updateChrome();
  }

  /** @param {any} _agent */
  _attach(_agent) {
    this._on('notification', (payload) => this.notify(payload));
  }

  /**
   * Adds an item (as a `notification` event would). Text is shown as text.
   * @param {NotificationInput | string} input
   */
  notify(input) {
    // A flood shows only its newest `max`: the rest is dropped unread, so
    // each notice costs a push here and is read (made safe, shortened,
    // given its level) in `_flush`, once, if it is shown. Only its arrival
    // time must be taken now.
    const p = typeof input === 'string' ? { message: input } : input && typeof input === 'object' ? input : {};
    this._queue.push(p, typeof p.timestamp === 'number' && Number.isFinite(p.timestamp) ? p.timestamp : Date.now());
    // The queue holds [payload, time] pairs: keep at most `max` of them
    // once it is twice that, so a burst in a background tab holds no more.
    const max = this.max;
    if (this._queue.length > max * 4) this._queue.splice(0, this._queue.length - max * 2);
    this._schedule();
  }

  /** Removes every item. */
  clear() {
    this._queue.length = 0;
    if (this._list) this._list.replaceChildren();
    this._updateChrome();
  }

  _flush() {
    if (!this._queue.length) return;
    const max = this.max;
    const queued = this._queue.length > max * 2 ? this._queue.slice(-max * 2) : this._queue;
    this._queue = [];
    /** @type {Notice[]} */
    const fresh = [];
    for (let i = 0; i < queued.length; i += 2) fresh.push(notice(queued[i], queued[i + 1]));
    const labels = { dismiss: localize('FRINNY.DismissNotification', { title: '\u0000' }), levels: {} };
    for (const [level, key] of Object.entries(LEVELS)) labels.levels[level] = localize(key);
    const list = this._list;
    if (fresh.length >= max) {
      // A burst that fills the panel (the steady state of a flood): the
      // items already there are filled again, no node is made or dropped.
      const items = list.children;
      for (let i = 0; i < fresh.length; i++) {
        const n = fresh[fresh.length - 1 - i];
        const li = items[i];
        if (li) this._fill(/** @type {HTMLElement} */ (li), n, labels);
        else list.append(this._item(n, labels));
      }
      while (list.childElementCount > fresh.length) list.lastElementChild.remove();
    } else {
      const frag = document.createDocumentFragment();
      for (let i = fresh.length - 1; i >= 0; i--) frag.append(this._item(fresh[i], labels));
      list.prepend(frag);
      while (list.childElementCount > max) list.lastElementChild.remove();
    }
    this._updateChrome();
  }

  /**
   * A new item for `n`.
   * @param {Notice} n
   * @param {Labels} labels the frame's localized labels
   */
  _item(n, labels) {
    const li = el('li');
    const level = el('span', 'level');
    const body = el('div', 'body');
    const title = el('div', 'title');
    const message = el('div', 'message');
    const meta = el('div', 'meta');
    meta.append(el('time'), el('span', 'from'));
    body.append(title, message, meta);
    const dismiss = button('✕', 'dismiss icon');
    dismiss.setAttribute('part', 'dismiss');
    li.append(level, body, dismiss);
    this._fill(li, n, labels);
    return li;
  }

  /**
   * Puts `n` into the item `li` (made by `_item`), as text.
   * @param {HTMLElement} li
   * @param {Notice} n
   * @param {Labels} labels
   */
  _fill(li, n, labels) {
    // Only what differs is written: every write to the DOM is style work
    // for the frame, and in a flood most of an item (level, time, sender)
    // stays the same from one notice to the next.
    if (li.dataset.level !== n.level) {
      li.className = n.level;
      li.dataset.level = n.level;
      li.setAttribute('part', `item ${n.level}`);
    }
    li.dataset.id = String(n.id);
    const [level, body, dismiss] = /** @type {HTMLElement[]} */ ([...li.children]);
    const [title, message, meta] = /** @type {HTMLElement[]} */ ([...body.children]);
    const [time, from] = /** @type {HTMLElement[]} */ ([...meta.children]);
    setText(level, labels.levels[n.level]);
    setText(title, n.title);
    if (title.hidden !== !n.title) title.hidden = !n.title;
    setText(message, n.message);
    setText(time, timeOf(n.timestamp));
    const iso = isoOf(n.timestamp);
    if (time.getAttribute('datetime') !== iso) time.setAttribute('datetime', iso);
    setText(from, n.from ? ` · ${localize('FRINNY.From', { from: n.from })}` : '');
    dismiss.setAttribute('aria-label', labels.dismiss.replace('\u0000', n.title || n.message.slice(0, 60)));
    dismiss.dataset.dismiss = String(n.id);
  }

  /** @param {MouseEvent} e */
  _onClick(e) {
    const target = /** @type {Element} */ (e.target);
    const b = target.closest('button[data-dismiss]');
    if (!b) return;
    const li = b.closest('li');
    if (!li) return;
    // Keep the keyboard user in the list: focus the next item's button.
    const next = li.nextElementSibling ?? li.previousElementSibling;
    li.remove();
    this._updateChrome();
    const focus = next?.querySelector('button[data-dismiss]');
    if (focus instanceof HTMLElement) focus.focus();
    else this._clear.focus();
  }

  _updateChrome() {
    if (!this._list) return;
    const n = this._list.childElementCount;
    this._empty.hidden = n > 0;
    this._clear.disabled = n === 0;
    this._countEl.textContent = n ? `(${n})` : '';
    if (this.hasAttribute('autohide')) this.hidden = n === 0;
  }

  _detached() {
    this._queue.length = 0;
  }

  /** @internal */
  attributeChangedCallback() {
    if (!this._list) return;
    const max = this.max;
    while (this._list.childElementCount > max) this._list.lastElementChild.remove();
    this._updateChrome();
  }
}

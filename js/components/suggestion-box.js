// <frinny-suggestion-box>: Frinny's suggestions, each with Accept, Dismiss
// and a button per action.
import { FrinnyElement, button, el, intAttr, str } from './base.js';
import { SUGGESTION_CSS } from './styles.js';
import { localize } from './strings.js';

/** Default of the `max` attribute: suggestions held at once (oldest go first). */
export const DEFAULT_MAX_SUGGESTIONS = 20;

/**
 * @typedef {object} SuggestionInput
 * @property {string | number} id
 * @property {string} text
 * @property {string} [actorId]
 * @property {string} [kind]
 * @property {Array<{label: string, value: unknown}>} [actions]
 */

/**
 * Shows every `suggestion {id, text, actorId?, kind?, actions?}` with Accept,
 * Dismiss and one button per action. A choice sends `suggestion_feedback
 * {id, accepted, action?}` (for suggestions from the server), removes the
 * item and dispatches a bubbling, composed `frinny-suggestion` event whose
 * `detail` is `{id, accepted, action, suggestion}`. `suggest(s, {local:
 * true})` adds one that sends no feedback (the host acts on the event).
 */
export class FrinnySuggestionBox extends FrinnyElement {
  static styles = SUGGESTION_CSS;

  constructor() {
    super();
    /** @type {Map<string, {suggestion: SuggestionInput, local: boolean}>} */
    this._items = new Map();
    /** @type {Array<{key: string, suggestion: SuggestionInput, local: boolean}>} */
    this._queue = [];
    /**
     * Names the actor of a suggestion ("For Valeros"); without it, or when
     * it returns nothing, no actor is shown (ids are not for players).
     * @type {((actorId: string) => string | undefined | null) | null}
     */
    this.describeActor = null;
  }

  /** The suggestions waiting for a choice (the pending frame included). */
  get suggestions() {
    const all = new Map(this._items);
    for (const q of this._queue) all.set(q.key, { suggestion: q.suggestion, local: q.local });
    return [...all.values()].map((v) => v.suggestion);
  }

  /** @internal */
  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'region');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', localize('FRINNY.Suggestions'));
    this._updateHidden();
    super.connectedCallback();
  }

  /** @param {ShadowRoot} root */
  _build(root) {
    this._list = el('ol');
    this._list.setAttribute('part', 'list');
    this._list.setAttribute('aria-live', 'polite');
    this._list.addEventListener('click', (e) => this._onClick(e));
    root.append(this._list);
  }

  /** @param {any} _agent */
  _attach(_agent) {
    this._on('suggestion', (payload) => this.suggest(payload));
  }

  /**
   * Adds (or, for a known id, replaces) a suggestion.
   * @param {SuggestionInput} suggestion
   * @param {{local?: boolean}} [options] `local`: made on this page; no feedback is sent
   */
  suggest(suggestion, options = {}) {
    if (!suggestion || typeof suggestion !== 'object') return;
    const id = typeof suggestion.id === 'string' || typeof suggestion.id === 'number' ? suggestion.id : null;
    const text = str(suggestion.text);
    if (id === null || !text) return;
    this._queue.push({ key: String(id), suggestion, local: Boolean(options.local) });
    this._schedule();
  }

  /**
   * Chooses for suggestion `id` as its buttons do.
   * @param {string | number} id
   * @param {boolean} accepted
   * @param {unknown} [action] the value of the action picked
   * @returns {boolean} whether there was such a suggestion
   */
  choose(id, accepted, action) {
    this.flush();
    const key = String(id);
    const item = this._items.get(key);
    if (!item) return false;
    this._items.delete(key);
    const li = this._list.querySelector(`li[data-key="${CSS.escape(key)}"]`);
    const next = li?.nextElementSibling ?? li?.previousElementSibling;
    li?.remove();
    this._updateHidden();
    if (next) next.querySelector('button')?.focus();
    const s = item.suggestion;
    /** @type {{id: string | number, accepted: boolean, action?: unknown}} */
    const feedback = { id: s.id, accepted };
    if (action !== undefined) feedback.action = action;
    if (!item.local && this._agent) {
      try {
        this._agent.emit('suggestion_feedback', feedback);
      } catch (err) {
        // BUFFER_FULL or a closed agent: the choice still stands locally.
        this.dispatchEvent(new CustomEvent('frinny-error', { bubbles: true, composed: true, detail: err }));
      }
    }
    this.dispatchEvent(
      new CustomEvent('frinny-suggestion', {
        bubbles: true,
        composed: true,
        detail: { id: s.id, accepted, action, suggestion: s },
      }),
    );
    return true;
  }

  /** Removes every suggestion without answering any. */
  clear() {
    this._queue.length = 0;
    this._items.clear();
    this._list?.replaceChildren();
    this._updateHidden();
  }

  _flush() {
    if (!this._queue.length) return;
    const max = intAttr(this, 'max', DEFAULT_MAX_SUGGESTIONS);
    const queue = this._queue;
    this._queue = [];
    for (const { key, suggestion, local } of queue) {
      const li = this._item(key, suggestion);
      const old = this._items.has(key) ? this._list.querySelector(`li[data-key="${CSS.escape(key)}"]`) : null;
      if (old) old.replaceWith(li);
      else this._list.append(li);
      this._items.set(key, { suggestion, local });
    }
    while (this._items.size > max) {
      const [oldest] = this._items.keys();
      this._items.delete(oldest);
      this._list.querySelector(`li[data-key="${CSS.escape(oldest)}"]`)?.remove();
    }
    this._updateHidden();
  }

  /**
   * @param {string} key
   * @param {SuggestionInput} s
   */
  _item(key, s) {
    const li = el('li');
    li.dataset.key = key;
    li.setAttribute('part', 'item');
    const text = str(s.text);
    const short = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    const head = el('div', 'head');
    const kind = str(s.kind, 60);
    head.append(el('span', 'kind', kind ? kind.replace(/_/g, ' ') : localize('FRINNY.Suggestions')));
    const actorId = str(s.actorId, 200);
    const actor = actorId ? this._nameOf(actorId) : '';
    if (actor) head.append(el('span', 'actor', localize('FRINNY.SuggestionFor', { actor })));
    const p = el('p', 'text', text);
    const actions = el('div', 'actions');
    const accept = button(localize('FRINNY.Accept'), 'primary', localize('FRINNY.AcceptSuggestion', { text: short }));
    accept.dataset.choice = 'accept';
    actions.append(accept);
    const list = Array.isArray(s.actions) ? s.actions.slice(0, 8) : [];
    list.forEach((a, i) => {
      const label = a && typeof a === 'object' ? str(a.label, 80) : '';
      if (!label) return;
      const b = button(label, 'action');
      b.dataset.choice = 'action';
      b.dataset.index = String(i);
      actions.append(b);
    });
    const dismiss = button(localize('FRINNY.Dismiss'), 'dismiss', localize('FRINNY.DismissSuggestion', { text: short }));
    dismiss.dataset.choice = 'dismiss';
    actions.append(dismiss);
    li.append(head, p, actions);
    return li;
  }

  /**
   * The display name of an actor through `describeActor`, or `''`.
   * @param {string} actorId
   */
  _nameOf(actorId) {
    try {
      const name = this.describeActor?.(actorId);
      return typeof name === 'string' ? name.slice(0, 200) : '';
    } catch {
      return '';
    }
  }

  /** @param {MouseEvent} e */
  _onClick(e) {
    const b = /** @type {Element} */ (e.target).closest('button[data-choice]');
    const li = b?.closest('li');
    if (!b || !li) return;
    const key = li.dataset.key ?? '';
    const item = this._items.get(key);
    if (!item) return;
    const choice = /** @type {HTMLElement} */ (b).dataset.choice;
    if (choice === 'accept') this.choose(item.suggestion.id, true);
    else if (choice === 'dismiss') this.choose(item.suggestion.id, false);
    else {
      const action = item.suggestion.actions?.[Number(/** @type {HTMLElement} */ (b).dataset.index)];
      this.choose(item.suggestion.id, true, action?.value);
    }
  }

  _updateHidden() {
    this.hidden = this._items.size === 0 && this._queue.length === 0;
  }

  _detached() {
    this._queue.length = 0;
  }
}

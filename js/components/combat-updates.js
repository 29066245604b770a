// <frinny-combat-updates [scope="combat:<id>"]>: the current round and turn,
// and a rolling log of the last changes.
import { FrinnyElement, el, intAttr, str } from './base.js';
import { COMBAT_CSS } from './styles.js';
import { localize } from './strings.js';

/** Default of the `log-size` attribute: changes kept in the log. */
export const DEFAULT_COMBAT_LOG = 20;

/**
 * @typedef {object} CombatChange
 * @property {string} name
 * @property {string} [actorId]
 * @property {{value: number, max: number}} [hp]
 * @property {string[]} [conditions]
 */

/**
 * @typedef {object} CombatUpdate
 * @property {string} combatId
 * @property {number} round
 * @property {number} turn
 * @property {{name: string, actorId?: string}} combatant
 * @property {CombatChange[]} [changes]
 * @property {Array<CombatChange & {round?: number, turn?: number}>} [log] in a synced document: the last changes, oldest first
 */

/**
 * Shows `combat_update {combatId, round, turn, combatant, changes?}` as the
 * current round and turn and a rolling log of the last 20 changes
 * (attribute `log-size`). With a `scope` attribute it is driven by that
 * synced state scope instead (`syncState`/`subscribeState`): the document is
 * the latest update, optionally with `log` (the last changes, oldest first),
 * so a player who joins late sees the encounter as it is. With `autohide`
 * it is hidden while no encounter is shown; with `collapsed` the log starts
 * folded (a `<details>` the player opens).
 */
export class FrinnyCombatUpdates extends FrinnyElement {
  static styles = COMBAT_CSS;
  static observedAttributes = ['scope'];

  constructor() {
    super();
    /** @type {CombatUpdate | null} */
    this._current = null;
    /** @type {Array<CombatChange & {round: number, turn: number}>} */
    this._log = [];
    this._dirty = false;
    this._resetLog = false;
  }

  /** The synced state scope that drives it, or `null` (events drive it). */
  get scope() {
    return this.getAttribute('scope');
  }

  set scope(value) {
    if (value === null || value === undefined || value === '') this.removeAttribute('scope');
    else this.setAttribute('scope', String(value));
  }

  /** The latest update shown (the pending frame included), or `null`. */
  get current() {
    return this._current;
  }

  /** The log's changes, oldest first. */
  get log() {
    return this._log.slice();
  }

  /** @internal */
  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'region');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', localize('FRINNY.Combat'));
    super.connectedCallback();
  }

  /** @param {ShadowRoot} root */
  _build(root) {
    const head = el('div', 'panel-head');
    head.append(el('h2', '', localize('FRINNY.Combat')));
    const now = el('div', 'now');
    now.setAttribute('part', 'now');
    // The current turn is announced when it changes.
    now.setAttribute('aria-live', 'polite');
    this._acting = el('div', 'acting');
    this._round = el('div', 'round');
    now.append(this._acting, this._round);
    this._idle = el('p', 'idle', localize('FRINNY.CombatIdle'));
    // The log is a disclosure (open unless the `collapsed` attribute says
    // otherwise): summary and toggle come from the browser, keyboard and
    // screen reader included.
    const details = /** @type {HTMLDetailsElement} */ (el('details', 'log'));
    details.open = !this.hasAttribute('collapsed');
    const summary = el('summary');
    this._logTitle = el('h3', '', localize('FRINNY.CombatLog'));
    this._logCount = el('span', 'log-count');
    summary.append(this._logTitle, this._logCount);
    this._logEmpty = el('p', 'empty', localize('FRINNY.CombatLogEmpty'));
    this._list = el('ol');
    this._list.setAttribute('part', 'log');
    this._list.setAttribute('aria-label', localize('FRINNY.CombatLog'));
    details.append(summary, this._logEmpty, this._list);
    this._details = details;
    root.append(head, this._idle, now, details);
    this._render();
  }

  /** @param {any} agent */
  _attach(agent) {
    const scope = this.scope;
    if (!scope) {
      this._on('combat_update', (payload) => this.update(payload));
      return;
    }
    this._track(agent.subscribeState(scope, (doc) => this._fromDoc(doc)));
    const shown = agent.getState(scope);
    if (shown !== undefined) this._fromDoc(shown);
    agent.syncState(scope).then(
      (doc) => {
        if (this._attachedTo === agent && this.scope === scope) this._fromDoc(doc);
      },
      () => {
        // Refused (permissions) or unsynced: the subscription shows what comes.
      },
    );
  }

  /**
   * Applies one `combat_update` payload.
   * @param {CombatUpdate} update
   */
  update(update) {
    if (!update || typeof update !== 'object') return;
    const round = Number(update.round);
    const turn = Number(update.turn);
    if (this._current && this._current.combatId !== update.combatId) this._log = [];
    this._current = update;
    const changes = Array.isArray(update.changes) ? update.changes : [];
    for (const c of changes) {
      if (c && typeof c === 'object') this._log.push({ ...c, round, turn });
    }
    this._trim();
    this._dirty = true;
    this._schedule();
  }

  /** Forgets the encounter. */
  reset() {
    this._current = null;
    this._log = [];
    this._dirty = true;
    this._schedule();
  }

  /** @param {any} doc */
  _fromDoc(doc) {
    if (!doc || typeof doc !== 'object' || doc.combatant === undefined) {
      this.reset();
      return;
    }
    this._current = doc;
    const round = Number(doc.round);
    const turn = Number(doc.turn);
    const source = Array.isArray(doc.log) ? doc.log : Array.isArray(doc.changes) ? doc.changes : [];
    this._log = source
      .filter((c) => c && typeof c === 'object')
      .map((c) => ({ ...c, round: Number(c.round ?? round), turn: Number(c.turn ?? turn) }));
    this._trim();
    this._dirty = true;
    this._schedule();
  }

  _trim() {
    const size = intAttr(this, 'log-size', DEFAULT_COMBAT_LOG);
    if (this._log.length > size) this._log.splice(0, this._log.length - size);
  }

  _flush() {
    if (!this._dirty) return;
    this._dirty = false;
    this._render();
  }

  _render() {
    if (!this._list) return;
    const c = this._current;
    this._idle.hidden = Boolean(c);
    if (this.hasAttribute('autohide')) this.hidden = !c;
    /** @type {HTMLElement} */ (this._acting.parentElement).hidden = !c;
    if (c) {
      const name = str(c.combatant && c.combatant.name, 200) || '?';
      this._acting.textContent = localize('FRINNY.CombatActing', { name });
      // Foundry's turn is 0-based; people count from 1.
      this._round.textContent = localize('FRINNY.CombatRoundTurn', { round: num(c.round), turn: num(c.turn) + 1 });
      this.dataset.round = String(num(c.round));
      this.dataset.turn = String(num(c.turn));
    } else {
      delete this.dataset.round;
      delete this.dataset.turn;
    }
    // The log's items are kept and filled again, newest first: a flood
    // makes no nodes, and writes only the text that differs.
    const items = this._list.children;
    const n = this._log.length;
    for (let i = 0; i < n; i++) {
      let li = /** @type {HTMLElement | undefined} */ (items[i]);
      if (!li) {
        li = this._item();
        this._list.append(li);
      }
      this._fill(li, this._log[n - 1 - i]);
    }
    while (this._list.childElementCount > n) this._list.lastElementChild?.remove();
    this._logEmpty.hidden = this._log.length > 0;
    this._logCount.textContent = this._log.length ? `(${this._log.length})` : '';
  }

  /** A log item's nodes, filled by `_fill`. */
  _item() {
    const li = el('li');
    li.setAttribute('part', 'change');
    const bar = el('div', 'bar');
    bar.setAttribute('role', 'meter');
    bar.setAttribute('aria-valuemin', '0');
    bar.append(el('span'));
    li.append(el('span', 'at'), el('span', 'name'), el('span', 'hp'), bar, el('div', 'conditions'));
    return li;
  }

  /**
   * Puts `change` into the item `li`, as text.
   * @param {HTMLElement} li
   * @param {CombatChange & {round: number, turn: number}} change
   */
  _fill(li, change) {
    const [at, nameEl, hpEl, bar, box] = /** @type {HTMLElement[]} */ ([...li.children]);
    const name = str(change.name, 200) || '?';
    setText(at, localize('FRINNY.CombatChangeAt', { round: num(change.round), turn: num(change.turn) + 1 }));
    setText(nameEl, name);
    const hp = change.hp;
    const hasHp = Boolean(hp && typeof hp === 'object' && Number.isFinite(Number(hp.value)) && Number(hp.max) > 0);
    bar.hidden = !hasHp;
    if (hp && hasHp) {
      const value = Number(hp.value);
      const max = Number(hp.max);
      setText(hpEl, localize('FRINNY.CombatHp', { value, max }));
      const ratio = Math.max(0, Math.min(1, value / max));
      const cls = `bar${ratio <= 0.25 ? ' critical' : ratio <= 0.5 ? ' low' : ''}`;
      if (bar.className !== cls) bar.className = cls;
      bar.setAttribute('aria-valuemax', String(max));
      bar.setAttribute('aria-valuenow', String(value));
      bar.setAttribute('aria-label', localize('FRINNY.CombatHpLabel', { name, value, max }));
      const width = `${Math.round(ratio * 100)}%`;
      const fill = /** @type {HTMLElement} */ (bar.firstElementChild);
      if (fill.style.width !== width) fill.style.width = width;
    } else {
      setText(hpEl, '');
    }
    const conditions = Array.isArray(change.conditions) ? change.conditions.slice(0, 12).map((c) => str(c, 60)).filter(Boolean) : [];
    const shown = [...box.children].map((c) => c.textContent);
    if (shown.join('\u0000') !== conditions.join('\u0000')) box.replaceChildren(...conditions.map((c) => el('span', '', c)));
    box.hidden = conditions.length === 0;
  }

  /** @internal */
  attributeChangedCallback() {
    // A new scope (or none): subscribe again to the right source.
    if (this._attachedTo) {
      this._release();
      this._sync();
    }
  }
}

/**
 * Sets `node`'s text if it differs.
 * @param {HTMLElement} node
 * @param {string} text
 */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** @param {unknown} n */
function num(n) {
  const v = Number(n);
  return Number.isFinite(v) ? v : 0;
}

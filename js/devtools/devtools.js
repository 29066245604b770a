// <frinny-devtools>: what an AgentManager is doing, live. Four tabs:
//
// - Events: every frame in both directions (time, direction, name, size;
//   a row opens on its payload as pretty JSON text), filtered by name or
//   text, paused, cleared, exported as a JSON download;
// - State: each synced scope's version, its document as a collapsible
//   tree, its pending updates and its last conflict (`inspectState()`),
//   with the state-sync counters of `metrics()`;
// - Connection: state changes with their reasons, connection attempts,
//   and the server's pings (Engine.IO v4 pings come from the server: the
//   interval between them is what the client can measure);
// - Performance: dispatch p50/p99 over time, a request latency histogram
//   (requests paired with their answers from the frames), errors by code.
//
// It listens through `agent.inspect()`, the client's inspector tap, which
// costs the client nothing while no one inspects: removing the element or
// setting `agent = null` lets go of the tap and the one-second metrics
// poll. Its own memory is bounded by ring buffers (`log-size`, default
// 1,000 frames; 200 timeline entries; 1,000 latencies) and at most 300
// log rows are in the DOM. Frames are worked out lazily (frames.js):
// a name and a size per row, the payload only when a row is opened.
import { FrinnyElement, button, el, intAttr } from '../components/base.js';
import { chart, drawBars, drawLines } from './charts.js';
import { RequestTracker, describeFrame, payloadOf } from './frames.js';
import { RingBuffer } from './ring.js';
import { t } from './strings.js';
import { DEVTOOLS_CSS } from './styles.js';
import { jsonTree, prettyJson } from './tree.js';

/** Default of the `log-size` attribute: frames kept. */
export const DEFAULT_LOG_SIZE = 1000;
/** Log rows kept in the DOM at most (the newest that match the filter). */
const DOM_ROWS = 300;
const TIMELINE_SIZE = 200;
const LATENCY_SIZE = 1000;
/** Metrics samples kept for the dispatch chart (one a second). */
const PERF_POINTS = 60;
const POLL_MS = 1000;
/** Upper bounds (ms) of the latency histogram's buckets; the last is open. */
const LATENCY_BUCKETS = [10, 50, 100, 250, 500, 1000, 5000];

const TABS = /** @type {const} */ (['events', 'state', 'connection', 'performance']);
const TAB_KEYS = {
  events: 'FRINNY.Devtools.Events',
  state: 'FRINNY.Devtools.State',
  connection: 'FRINNY.Devtools.Connection',
  performance: 'FRINNY.Devtools.Performance',
};

/**
 * @typedef {object} LogEntry
 * @property {number} seq
 * @property {number} time Date.now() ms
 * @property {'in' | 'out'} direction
 * @property {string | ArrayBuffer} data the frame as it went on the wire
 * @property {ReturnType<typeof describeFrame>} frame
 */

/** `hh:mm:ss.mmm` of `time`. @param {number} time */
function clock(time) {
  const d = new Date(time);
  const p = (/** @type {number} */ n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A byte count, short. @param {number} n */
function bytes(n) {
  return n < 10_000 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

export class FrinnyDevtools extends FrinnyElement {
  static styles = DEVTOOLS_CSS;

  constructor() {
    super();
    /** @type {RingBuffer<LogEntry>} */
    this._log = new RingBuffer(DEFAULT_LOG_SIZE);
    /** @type {RingBuffer<{time: number, kind: 'state' | 'ping', state?: string, reason?: string, interval?: number}>} */
    this._timeline = new RingBuffer(TIMELINE_SIZE);
    /** @type {RingBuffer<number>} */
    this._latencies = new RingBuffer(LATENCY_SIZE);
    /** @type {RingBuffer<{p50: number, p99: number}>} */
    this._dispatch = new RingBuffer(PERF_POINTS);
    // Errors by code come from metrics(), which counts every one; the
    // tracker only times the answers.
    this._tracker = new RequestTracker((ms) => this._latencies.push(ms));
    /** @type {LogEntry[]} entries not yet in the DOM */
    this._fresh = [];
    this._seq = 0;
    this._paused = false;
    this._skipped = 0;
    this._filter = '';
    /** @type {typeof TABS[number]} */
    this._tab = 'events';
    this._attempts = 0;
    this._lastPing = 0;
    /** @type {any} the latest metrics() snapshot */
    this._metrics = null;
    this._stateSignature = '';
    /** Open tree nodes, by path. @type {Set<string>} */
    this._open = new Set();
    /** Scopes whose section was closed. @type {Set<string>} */
    this._closedScopes = new Set();
    this._dirty = { rebuild: true, state: true, timeline: true, perf: true };
  }

  /** @internal */
  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'region');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', t('FRINNY.Devtools.Title'));
    super.connectedCallback();
  }

  /** Frames kept (attribute `log-size`, default 1000). */
  get logSize() {
    return intAttr(this, 'log-size', DEFAULT_LOG_SIZE);
  }

  set logSize(n) {
    this.setAttribute('log-size', String(n));
  }

  /** The tab shown: `events`, `state`, `connection` or `performance`. */
  get tab() {
    return this._tab;
  }

  set tab(name) {
    if (!TABS.includes(/** @type {any} */ (name))) return;
    this._tab = /** @type {typeof TABS[number]} */ (name);
    this._ensureBuilt();
    for (const [i, id] of TABS.entries()) {
      const selected = id === this._tab;
      this._tabs[i].setAttribute('aria-selected', String(selected));
      this._tabs[i].tabIndex = selected ? 0 : -1;
      this._panels[i].hidden = !selected;
    }
    this._dirty = { rebuild: true, state: true, timeline: true, perf: true };
    this._schedule();
  }

  /** The log filter (matched against names and frame text, case-insensitive). */
  get filter() {
    return this._filter;
  }

  set filter(text) {
    this._filter = String(text ?? '');
    this._ensureBuilt();
    if (this._filterInput.value !== this._filter) this._filterInput.value = this._filter;
    this._dirty.rebuild = true;
    this._schedule();
  }

  /** Whether new frames are left out of the log. */
  get paused() {
    return this._paused;
  }

  set paused(on) {
    this._paused = Boolean(on);
    this._ensureBuilt();
    this._pauseButton.setAttribute('aria-pressed', String(this._paused));
    this._pauseButton.textContent = t(this._paused ? 'FRINNY.Devtools.Resume' : 'FRINNY.Devtools.Pause');
    if (!this._paused) this._skipped = 0;
    this._schedule();
  }

  /** Empties the event log. */
  clear() {
    this._log.clear();
    this._fresh = [];
    this._skipped = 0;
    this._dirty.rebuild = true;
    this._schedule();
  }

  /**
   * The log as plain data, oldest first: `{time (ISO), direction, name,
   * size, frame (the text; null for binary), payload}`.
   */
  exportLog() {
    return this._log.toArray().map((e) => ({
      time: new Date(e.time).toISOString(),
      direction: e.direction,
      name: e.frame.name,
      size: e.frame.size,
      frame: typeof e.data === 'string' ? e.data : null,
      payload: e.frame.kind === 'binary' ? null : payloadOf(e.frame) ?? null,
    }));
  }

  /** Downloads `exportLog()` as `frinny-events-<time>.json`. */
  download() {
    const blob = new Blob([JSON.stringify(this.exportLog(), null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = /** @type {HTMLAnchorElement} */ (el('a'));
    a.href = url;
    a.download = `frinny-events-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    a.hidden = true;
    this.shadowRoot.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }

  // ----- skeleton -----------------------------------------------------------

  /** @param {ShadowRoot} root */
  _build(root) {
    const head = el('div', 'head');
    head.append(el('h2', '', t('FRINNY.Devtools.Title')));
    const tablist = el('div');
    tablist.setAttribute('role', 'tablist');
    tablist.setAttribute('aria-label', t('FRINNY.Devtools.Title'));
    head.append(tablist);
    /** @type {HTMLButtonElement[]} */
    this._tabs = [];
    /** @type {HTMLElement[]} */
    this._panels = [];
    for (const [i, id] of TABS.entries()) {
      const tab = button(t(TAB_KEYS[id]));
      tab.setAttribute('role', 'tab');
      tab.id = `tab-${id}`;
      tab.setAttribute('aria-controls', `panel-${id}`);
      tab.setAttribute('part', 'tab');
      tab.addEventListener('click', () => {
        this.tab = id;
      });
      tab.addEventListener('keydown', (e) => this._tabKey(e, i));
      tablist.append(tab);
      this._tabs.push(tab);
      const panel = el('div', `panel panel-${id}`);
      panel.id = `panel-${id}`;
      panel.setAttribute('role', 'tabpanel');
      panel.setAttribute('aria-labelledby', `tab-${id}`);
      panel.tabIndex = 0;
      this._panels.push(panel);
    }
    root.append(head, ...this._panels);
    this._buildEvents(this._panels[0]);
    this._stateBox = el('div', 'states');
    this._panels[1].append(this._stateBox);
    this._attemptsLine = el('p', 'status');
    this._timelineList = el('ol', 'timeline mono');
    this._panels[2].append(this._attemptsLine, this._timelineList);
    this._buildPerformance(this._panels[3]);
    this.tab = this._tab;
  }

  /** @param {KeyboardEvent} e @param {number} i */
  _tabKey(e, i) {
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') next = (i + TABS.length - 1) % TABS.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = TABS.length - 1;
    if (next < 0) return;
    e.preventDefault();
    this.tab = TABS[next];
    this._tabs[next].focus();
  }

  /** @param {HTMLElement} panel */
  _buildEvents(panel) {
    const bar = el('div', 'toolbar');
    this._filterInput = /** @type {HTMLInputElement} */ (el('input'));
    this._filterInput.type = 'search';
    this._filterInput.placeholder = t('FRINNY.Devtools.Filter');
    this._filterInput.setAttribute('aria-label', t('FRINNY.Devtools.Filter'));
    this._filterInput.setAttribute('part', 'filter');
    this._filterInput.addEventListener('input', () => {
      this.filter = this._filterInput.value;
    });
    this._pauseButton = button(t('FRINNY.Devtools.Pause'), 'pause');
    this._pauseButton.setAttribute('aria-pressed', 'false');
    this._pauseButton.addEventListener('click', () => {
      this.paused = !this._paused;
    });
    const clear = button(t('FRINNY.Devtools.Clear'), 'clear');
    clear.addEventListener('click', () => this.clear());
    const save = button(t('FRINNY.Devtools.Export'), 'export');
    save.addEventListener('click', () => this.download());
    this._logStatus = el('span', 'status');
    this._logStatus.setAttribute('role', 'status');
    bar.append(this._filterInput, this._pauseButton, clear, save, this._logStatus);
    this._logList = el('div', 'log mono');
    this._logList.setAttribute('role', 'log');
    // A log of every frame read aloud as it comes would drown a screen
    // reader: the rows are there to browse, the status line counts them.
    this._logList.setAttribute('aria-live', 'off');
    panel.append(bar, this._logList);
  }

  /** @param {HTMLElement} panel */
  _buildPerformance(panel) {
    const grid = el('div', 'perf');
    const section = (/** @type {string} */ title) => {
      const s = el('section');
      const h = el('h3', '', title);
      s.append(h);
      grid.append(s);
      return s;
    };
    const dispatch = section(t('FRINNY.Devtools.DispatchTitle'));
    this._dispatchLine = el('p', 'status');
    this._dispatchChart = chart(t('FRINNY.Devtools.Dispatch', { p50: '-', p99: '-' }), 240, 60);
    this._trafficLine = el('p', 'status');
    dispatch.append(this._dispatchLine, this._dispatchChart, this._trafficLine);
    const latency = section(t('FRINNY.Devtools.Latency', { n: 0 }));
    this._latencyTitle = /** @type {HTMLElement} */ (latency.firstChild);
    this._latencyChart = chart(t('FRINNY.Devtools.Latency', { n: 0 }), 240, 70);
    latency.append(this._latencyChart);
    const errors = section(t('FRINNY.Devtools.Errors'));
    this._errorsEmpty = el('p', 'empty', t('FRINNY.Devtools.NoErrors'));
    this._errorsChart = chart(t('FRINNY.Devtools.Errors'), 240, 70);
    errors.append(this._errorsEmpty, this._errorsChart);
    panel.append(grid);
  }

  // ----- the agent ----------------------------------------------------------

  /** @param {any} agent */
  _attach(agent) {
    const size = this.logSize;
    if (size !== this._log.capacity) this._log = new RingBuffer(size);
    if (typeof agent.inspect === 'function') this._track(agent.inspect((/** @type {any} */ r) => this._record(r)));
    const poll = setInterval(() => this._poll(), POLL_MS);
    this._track(() => clearInterval(poll));
    this._timeline.push({ time: Date.now(), kind: 'state', state: String(agent.state), reason: 'attached' });
    this._poll();
  }

  _attachFailed() {
    this._schedule();
  }

  _detached() {
    this._tracker.clear();
    this._fresh = [];
    this._dirty = { rebuild: true, state: true, timeline: true, perf: true };
  }

  /** One inspector record. @param {any} record */
  _record(record) {
    const time = Number(record.time) || Date.now();
    if (record.type === 'state') {
      if (record.state === 'connecting' || record.state === 'reconnecting') this._attempts++;
      this._timeline.push({ time, kind: 'state', state: String(record.state), reason: String(record.reason ?? '') });
      this._dirty.timeline = true;
      this._schedule();
      return;
    }
    if (record.type !== 'frame') return;
    const direction = record.direction === 'out' ? 'out' : 'in';
    const frame = describeFrame(record.data);
    this._tracker.see(direction, frame, time);
    if (frame.name === 'ping' && direction === 'in') {
      this._timeline.push({ time, kind: 'ping', interval: this._lastPing ? time - this._lastPing : 0 });
      this._lastPing = time;
      this._dirty.timeline = true;
    }
    if (frame.name.startsWith('state:') || frame.kind === 'ack') this._dirty.state = true;
    if (this._paused) {
      this._skipped++;
    } else {
      const entry = { seq: ++this._seq, time, direction, data: record.data, frame };
      this._log.push(entry);
      this._fresh.push(entry);
      if (this._fresh.length > DOM_ROWS) this._fresh.splice(0, this._fresh.length - DOM_ROWS);
    }
    this._schedule();
  }

  /** Once a second: a metrics sample, and the scopes looked at again. */
  _poll() {
    const agent = this._agent;
    if (!agent) return;
    try {
      this._metrics = agent.metrics();
      const m = this._metrics;
      this._dispatch.push({ p50: Number(m.dispatchP50Us) || 0, p99: Number(m.dispatchP99Us) || 0 });
    } catch {
      // closed
    }
    this._dirty.perf = true;
    this._dirty.state = true;
    this._schedule();
  }

  // ----- rendering ----------------------------------------------------------

  _flush() {
    if (this._tab === 'events') this._renderLog();
    else if (this._tab === 'state' && this._dirty.state) this._renderState();
    else if (this._tab === 'connection' && this._dirty.timeline) this._renderTimeline();
    else if (this._tab === 'performance' && this._dirty.perf) this._renderPerformance();
  }

  /** @param {LogEntry} e */
  _matches(e) {
    const q = this._filter.trim().toLowerCase();
    if (!q) return true;
    return e.frame.name.toLowerCase().includes(q) || (typeof e.data === 'string' && e.data.toLowerCase().includes(q));
  }

  _renderLog() {
    const list = this._logList;
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    const cap = Math.min(DOM_ROWS, this._log.capacity);
    if (this._dirty.rebuild) {
      this._dirty.rebuild = false;
      this._fresh = [];
      const rows = this._log.toArray().filter((e) => this._matches(e)).slice(-cap).map((e) => this._row(e));
      list.replaceChildren(...rows);
    } else if (this._fresh.length) {
      const rows = this._fresh.filter((e) => this._matches(e)).map((e) => this._row(e));
      this._fresh = [];
      list.append(...rows);
      while (list.childElementCount > cap) list.firstElementChild?.remove();
    }
    if (list.childElementCount === 0) {
      list.replaceChildren(el('p', 'empty', this._agent ? t('FRINNY.Devtools.NoEvents') : t('FRINNY.Devtools.NoAgent')));
    } else if (list.firstElementChild?.classList.contains('empty') && list.childElementCount > 1) {
      list.firstElementChild.remove();
    }
    let status = t('FRINNY.Devtools.Shown', { shown: list.querySelectorAll('details').length, total: this._log.length });
    if (this._paused && this._skipped) status += ` · ${t('FRINNY.Devtools.Skipped', { n: this._skipped })}`;
    if (this._logStatus.textContent !== status) this._logStatus.textContent = status;
    if (stick) list.scrollTop = list.scrollHeight;
  }

  /** A log row: the summary now, the payload when first opened. @param {LogEntry} e */
  _row(e) {
    const row = /** @type {HTMLDetailsElement} */ (el('details', `row dir-${e.direction}`));
    row.dataset.seq = String(e.seq);
    row.dataset.name = e.frame.name;
    const summary = el('summary');
    summary.append(
      el('span', 'time', clock(e.time)),
      el('span', 'dir', t(e.direction === 'in' ? 'FRINNY.Devtools.In' : 'FRINNY.Devtools.Out')),
      el('span', 'name', e.frame.name),
      el('span', 'size', bytes(e.frame.size)),
    );
    summary.title = `${e.direction} ${e.frame.name}`;
    row.append(summary);
    row.addEventListener('toggle', () => {
      if (!row.open || row.querySelector('pre')) return;
      const text = e.frame.kind === 'binary' ? `(binary, ${e.frame.size} bytes)` : prettyJson(payloadOf(e.frame));
      row.append(el('pre', 'payload', text));
    });
    return row;
  }

  _renderState() {
    this._dirty.state = false;
    const agent = this._agent;
    let scopes = [];
    try {
      scopes = agent && typeof agent.inspectState === 'function' ? agent.inspectState() ?? [] : [];
    } catch {
      scopes = [];
    }
    const counters = this._metrics?.stateSync;
    let signature;
    try {
      signature = JSON.stringify([scopes, counters]);
    } catch {
      signature = String(Math.random());
    }
    if (signature === this._stateSignature && this._stateBox.childElementCount) return;
    this._stateSignature = signature;
    const out = [];
    if (counters) out.push(el('p', 'status counters', t('FRINNY.Devtools.SyncCounters', counters)));
    if (!scopes.length) out.push(el('p', 'empty', t('FRINNY.Devtools.NoScopes')));
    for (const s of scopes) out.push(this._scope(s));
    this._stateBox.replaceChildren(...out);
  }

  /** @param {any} s */
  _scope(s) {
    const name = String(s.scope);
    const box = /** @type {HTMLDetailsElement} */ (el('details', 'scope'));
    box.dataset.scope = name;
    box.open = !this._closedScopes.has(name);
    box.addEventListener('toggle', () => {
      if (box.open) this._closedScopes.delete(name);
      else this._closedScopes.add(name);
    });
    const summary = el('summary');
    const version = el('span', 'version', s.version === null || s.version === undefined ? '–' : t('FRINNY.Devtools.Version', { version: s.version }));
    summary.append(el('span', 'scope-name', name), version);
    box.append(summary);
    const body = el('div', 'scope-body');
    const tree = el('div', 'tree');
    tree.append(jsonTree(s.doc ?? null, t('FRINNY.Devtools.Document'), this._open, `${name}#doc`));
    body.append(tree);
    const pending = Array.isArray(s.pending) ? s.pending : [];
    if (pending.length) {
      const p = el('div', 'tree');
      p.append(jsonTree(pending, t('FRINNY.Devtools.Pending', { n: pending.length }), this._open, `${name}#pending`));
      body.append(p);
    } else body.append(el('p', 'status', t('FRINNY.Devtools.NoPending')));
    if (s.lastConflict) {
      const c = el('div', 'tree');
      c.append(jsonTree(s.lastConflict, t('FRINNY.Devtools.LastConflict', { id: s.lastConflict.updateId, version: s.lastConflict.version }), this._open, `${name}#conflict`));
      body.append(c);
    } else body.append(el('p', 'status', t('FRINNY.Devtools.NoConflict')));
    box.append(body);
    return box;
  }

  _renderTimeline() {
    this._dirty.timeline = false;
    this._attemptsLine.textContent = t('FRINNY.Devtools.Attempts', { n: this._attempts });
    const items = this._timeline.toArray().reverse().map((e) => {
      const li = el('li');
      if (e.kind === 'ping') {
        li.className = 'ping';
        li.append(
          el('span', 'time', clock(e.time)),
          el('span', 'state', 'ping'),
          el('span', 'reason', e.interval ? t('FRINNY.Devtools.Ping', { seconds: ((e.interval ?? 0) / 1000).toFixed(1) }) : t('FRINNY.Devtools.FirstPing')),
        );
      } else {
        li.append(el('span', 'time', clock(e.time)), el('span', `state ${e.state}`, e.state ?? ''), el('span', 'reason', e.reason ?? ''));
      }
      return li;
    });
    if (!items.length) items.push(el('li', 'empty', t('FRINNY.Devtools.NoTimeline')));
    this._timelineList.replaceChildren(...items);
  }

  _renderPerformance() {
    this._dirty.perf = false;
    const m = this._metrics;
    const samples = this._dispatch.toArray();
    const last = samples.at(-1);
    const line = t('FRINNY.Devtools.Dispatch', { p50: m?.dispatchP50Us ?? '-', p99: m?.dispatchP99Us ?? '-' });
    this._dispatchLine.textContent = line;
    drawLines(this._dispatchChart, [
      { values: samples.map((s) => s.p50), className: 'p50' },
      { values: samples.map((s) => s.p99), className: 'p99' },
    ], last ? line : t('FRINNY.Devtools.Dispatch', { p50: '-', p99: '-' }));
    if (m) {
      this._trafficLine.textContent = t('FRINNY.Devtools.Traffic', {
        framesIn: m.framesIn, framesOut: m.framesOut, pending: m.pendingRequests, timeouts: m.timeouts,
      });
    }
    const latencies = this._latencies.toArray();
    const counts = new Array(LATENCY_BUCKETS.length + 1).fill(0);
    for (const ms of latencies) {
      const i = LATENCY_BUCKETS.findIndex((b) => ms < b);
      counts[i < 0 ? LATENCY_BUCKETS.length : i]++;
    }
    const title = t('FRINNY.Devtools.Latency', { n: latencies.length });
    this._latencyTitle.textContent = title;
    const labels = [...LATENCY_BUCKETS.map((b) => `<${b < 1000 ? b : `${b / 1000}k`}`), `≥${LATENCY_BUCKETS.at(-1) / 1000}k`];
    drawBars(this._latencyChart, counts.map((value, i) => ({ label: labels[i], value })),
      `${title}: ${counts.map((n, i) => `${labels[i]} ${n}`).join(', ')}`);
    const errors = { ...(m?.errors ?? {}) };
    const bars = Object.entries(errors).map(([code, n]) => ({ label: code.slice(0, 12), value: Number(n) || 0, className: 'bar error' }));
    this._errorsEmpty.hidden = bars.length > 0;
    this._errorsChart.style.display = bars.length ? '' : 'none';
    drawBars(this._errorsChart, bars, `${t('FRINNY.Devtools.Errors')}: ${Object.entries(errors).map(([c, n]) => `${c} ${n}`).join(', ') || t('FRINNY.Devtools.NoErrors')}`);
  }
}

/**
 * Registers `<frinny-devtools>` (or with `registry`); harmless if it is
 * defined already.
 * @param {CustomElementRegistry} [registry]
 */
export function defineDevtools(registry = globalThis.customElements) {
  if (!registry.get('frinny-devtools')) registry.define('frinny-devtools', FrinnyDevtools);
}

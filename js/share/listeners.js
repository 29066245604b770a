// The listeners of one tab-side SharedAgentManager: its event subscriptions
// (by name, with `once` and `filter`, and `subscribeAll` with its pattern)
// and its `onStateChange`, `onError`, `subscribeState` and `inspect`
// listeners. The worker only learns which names this tab listens to
// (`onNames`) and whether it has `subscribeAll` listeners (`onAll`); which
// callbacks run, in what order, is decided here, as the wasm's event hub
// decides it for a local manager.
import { matcher } from '../event_pattern.js';
import { coded } from './protocol.js';

export class TabListeners {
  /**
   * @param {{
   *   onNames: (name: string, on: boolean) => void,
   *   onAll: (on: boolean) => void,
   *   thrown: (error: Error) => void,
   * }} hooks `onNames`/`onAll` when the first listener of a name (or of
   *   every event) comes or the last goes; `thrown` gets CALLBACK_ERROR
   *   for a callback or filter that threw
   */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {Map<string, any[]>} */
    this.named = new Map();
    /** @type {any[]} */
    this.all = [];
    /** kind ('state' | 'error' | 'doc' | 'inspect') -> key -> callbacks. */
    this.kinds = new Map();
  }

  /** Live event subscriptions. */
  get count() {
    let n = this.all.length;
    for (const list of this.named.values()) n += list.length;
    return n;
  }

  /** Live listeners of every kind, event subscriptions included. */
  get held() {
    let n = this.count;
    for (const keys of this.kinds.values()) for (const list of keys.values()) n += list.length;
    return n;
  }

  /** The names subscribed to, and whether anything listens to every event. */
  get names() {
    return [...this.named.keys()];
  }

  /** `subscribe`/`once`: returns the unsubscribe function. */
  add(name, callback, once, options) {
    if (typeof callback !== 'function') throw coded('INVALID_OPTIONS', 'the callback must be a function');
    const filter = options?.filter;
    if (filter !== undefined && typeof filter !== 'function') throw coded('INVALID_OPTIONS', 'option filter must be a function');
    const entry = { name, callback, once, filter, live: true };
    const list = this.named.get(name);
    this.named.set(name, list === undefined ? [entry] : [...list, entry]);
    if (list === undefined) this.hooks.onNames(name, true);
    return () => void this.end(entry);
  }

  /** `subscribeAll(callback)` or `subscribeAll(pattern, callback)`. */
  addAll(pattern, callback) {
    if (callback === undefined) [pattern, callback] = [undefined, pattern];
    if (typeof callback !== 'function') throw coded('INVALID_OPTIONS', 'subscribeAll: the callback must be a function');
    const match = pattern === undefined ? undefined : matcher(pattern);
    const entry = { name: undefined, callback, match, live: true };
    this.all = [...this.all, entry];
    if (this.all.length === 1) this.hooks.onAll(true);
    return () => void this.end(entry);
  }

  /** `unsubscribe(name, callback)`: how many subscriptions ended. */
  removeNamed(name, callback) {
    let n = 0;
    for (const entry of this.named.get(name) ?? []) if (entry.callback === callback && this.end(entry)) n++;
    return n;
  }

  /** Ends one subscription; false if it had ended already. */
  end(entry) {
    if (!entry.live) return false;
    entry.live = false;
    if (entry.name === undefined) {
      this.all = this.all.filter((e) => e !== entry);
      if (this.all.length === 0) this.hooks.onAll(false);
      return true;
    }
    const list = (this.named.get(entry.name) ?? []).filter((e) => e !== entry);
    if (list.length > 0) {
      this.named.set(entry.name, list);
    } else {
      this.named.delete(entry.name);
      this.hooks.onNames(entry.name, false);
    }
    return true;
  }

  /** A `name` event for the subscribers of that name (`ack` last when the server asked). */
  deliver(name, args, ack) {
    const full = ack === undefined ? args : [...args, ack];
    for (const entry of this.named.get(name) ?? []) {
      if (!entry.live) continue;
      if (entry.filter !== undefined && !this.guard(name, () => entry.filter(args[0]))) continue;
      if (entry.once) this.end(entry);
      this.guard(name, () => entry.callback(...full));
    }
  }

  /** A `name` event for the `subscribeAll` listeners whose pattern matches. */
  deliverAll(name, args, ack) {
    const full = ack === undefined ? [name, ...args] : [name, ...args, ack];
    for (const entry of this.all) {
      if (!entry.live) continue;
      if (entry.match !== undefined && !entry.match(name)) continue;
      this.guard(name, () => entry.callback(...full));
    }
  }

  /** Runs a callback of `name`; what it throws goes to `thrown` as CALLBACK_ERROR. */
  guard(name, run) {
    try {
      return run();
    } catch (thrown) {
      const text = thrown instanceof Error ? thrown.message : typeof thrown === 'string' ? thrown : 'a non-Error value was thrown';
      const error = coded('CALLBACK_ERROR', `a callback for ${JSON.stringify(name)} threw: ${text}`);
      error.event = name;
      error.cause = thrown;
      this.hooks.thrown(error);
      return false;
    }
  }

  /** A listener of `kind` for `key`; returns the function that removes it. */
  listen(kind, key, callback) {
    if (typeof callback !== 'function') throw coded('INVALID_OPTIONS', 'the listener must be a function');
    let keys = this.kinds.get(kind);
    if (keys === undefined) this.kinds.set(kind, (keys = new Map()));
    const entry = { callback };
    keys.set(key, [...(keys.get(key) ?? []), entry]);
    return () => {
      const list = (keys.get(key) ?? []).filter((e) => e !== entry);
      if (list.length > 0) keys.set(key, list);
      else keys.delete(key);
    };
  }

  /** How many listeners of `kind` there are for `key`. */
  listening(kind, key) {
    return this.kinds.get(kind)?.get(key)?.length ?? 0;
  }

  /** Calls the listeners of `kind` for `key`; one that throws does not stop the others. */
  notify(kind, key, args) {
    for (const { callback } of this.kinds.get(kind)?.get(key) ?? []) {
      if (kind === 'error') {
        // Reporting an onError listener's throw to onError could loop.
        try {
          callback(...args);
        } catch (e) {
          console.error('frinny-agent: an onError listener threw', e);
        }
      } else {
        this.guard(kind === 'doc' ? `state:${key}` : kind, () => callback(...args));
      }
    }
  }

  /** Ends everything (close). */
  clear() {
    const names = [...this.named.keys()];
    const all = this.all.length > 0;
    for (const list of this.named.values()) for (const e of list) e.live = false;
    for (const e of this.all) e.live = false;
    this.named.clear();
    this.all = [];
    this.kinds.clear();
    for (const name of names) this.hooks.onNames(name, false);
    if (all) this.hooks.onAll(false);
  }
}

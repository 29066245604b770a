// The test agent's event subscribers, with the real event hub's rules
// (src/web/event_hub.js): named subscribers in subscription order, then the
// catch-all ones (which get the name first); the list is taken when the
// event arrives and each subscription is checked again just before its
// call, so unsubscribing from inside a callback stops the calls not made
// yet and a `once` ends as it fires; a callback that throws does not stop
// the others.

/** @typedef {{name: string | null, callback: Function, once: boolean, live: boolean, filter?: (payload: any) => unknown, match?: (name: string) => boolean}} Subscription */

/** @param {string} code @param {string} message */
function coded(code, message) {
  const error = /** @type {Error & {code: string}} */ (new Error(message));
  error.code = code;
  return error;
}

export class Hub {
  /** @param {(name: string, thrown: unknown) => void} thrown called when a subscriber throws */
  constructor(thrown) {
    this.thrown = thrown;
    /** @type {Subscription[]} */
    this.subscriptions = [];
  }

  /** Live subscriptions. */
  get count() {
    return this.subscriptions.length;
  }

  /**
   * Adds a subscription (`name` null: every event, or those `match` accepts);
   * `options.filter` keeps only the payloads it accepts. Returns its
   * unsubscribe function.
   * @param {string | null} name @param {Function} callback @param {boolean} once
   * @param {any} [options] @param {(name: string) => boolean} [match]
   */
  add(name, callback, once, options, match) {
    if (typeof callback !== 'function') throw new TypeError('a subscriber must be a function');
    const filter = options === undefined || options === null ? undefined : options.filter;
    if (filter !== undefined && typeof filter !== 'function') throw coded('INVALID_OPTIONS', 'option filter must be a function');
    /** @type {Subscription} */
    const sub = { name, callback, once, live: true, filter, match };
    this.subscriptions.push(sub);
    return () => this.remove(sub);
  }

  /** @param {Subscription} sub */
  remove(sub) {
    if (!sub.live) return;
    sub.live = false;
    this.subscriptions = this.subscriptions.filter((s) => s !== sub);
  }

  /**
   * Removes every subscription of `callback` to `name`; how many there were.
   * @param {string} name @param {unknown} callback
   */
  removeNamed(name, callback) {
    const gone = this.subscriptions.filter((s) => s.name === name && s.callback === callback);
    for (const sub of gone) this.remove(sub);
    return gone.length;
  }

  /** Removes every subscription. */
  clear() {
    for (const sub of this.subscriptions) sub.live = false;
    this.subscriptions = [];
  }

  /**
   * Calls the subscribers of `name` with `args`.
   * @param {string} name @param {unknown[]} args
   */
  dispatch(name, args) {
    const list = this.subscriptions;
    const named = list.filter((s) => s.name === name);
    const all = list.filter((s) => s.name === null);
    for (const sub of [...named, ...all]) {
      if (!sub.live) continue;
      if (sub.match && !sub.match(name)) continue;
      if (sub.filter) {
        let accepted = false;
        try {
          accepted = Boolean(sub.filter(args[0]));
        } catch (thrown) {
          this.thrown(name, thrown);
        }
        if (!accepted) continue;
      }
      if (sub.once) this.remove(sub);
      try {
        if (sub.name === null) sub.callback(name, ...args);
        else sub.callback(...args);
      } catch (thrown) {
        this.thrown(name, thrown);
      }
    }
  }
}

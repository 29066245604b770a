// The package entry: loads the wasm module once and exports the client
// and the event catalogue.
//
//   import { ready, AgentManager, EventTypes } from 'frinny-agent';
//   await ready();
//   const agent = new AgentManager({ url: 'http://127.0.0.1:5001', auth: { token } });
//   agent.subscribe(EventTypes.TYPING_STATUS, ({ isTyping }) => showTyping(isTyping));
//
// `new AgentManager({ ..., shareAcrossTabs: true })` gives a
// `SharedAgentManager` (js/share/tab.js) where `SharedWorker` exists: the
// tabs of this browser then share one connection. Elsewhere it is the
// local manager, as without the option.
//
// In the package, `cargo xtask pack` builds this file and everything it
// imports, the tab proxy's dynamic imports included, into one file
// (npm/bundle.mjs): on a cold start, every level of imports a page must
// fetch before `ready()` can fetch the wasm is a round trip. Unbundled (the
// repository, the demo page), `ready()` loads the tab proxy beside the wasm
// rather than this file importing it, for the same reason.
import init, { AgentManager as LocalAgentManager } from '../pkg/frinny_agent.js';
import { canShareAcrossTabs, localOptions } from './share/options.js';
import { rememberWasm } from './share/wasm_location.js';

export { EventTypes, ClientToServer, ServerToClient, ResponseTo, Broadcastable } from './EventTypes.js';

/** js/share/tab.js once `ready()` loaded it (where `SharedWorker` exists). */
let share;

/**
 * The tab side of `shareAcrossTabs`: `new SharedAgentManager(options)` is
 * `new AgentManager({ ...options, shareAcrossTabs: true })` where
 * `SharedWorker` exists. Usable once `ready()` has resolved.
 */
export class SharedAgentManager {
  /** @param {import('./index.js').AgentManagerOptions} options */
  constructor(options) {
    if (share === undefined) {
      throw new Error(canShareAcrossTabs()
        ? 'frinny-agent: await ready() before new SharedAgentManager(...)'
        : 'frinny-agent: SharedAgentManager needs SharedWorker, which this browser does not have');
    }
    // A constructor may hand back another object: the proxy.
    return new share.SharedAgentManager(options);
  }

  static [Symbol.hasInstance](value) {
    return share !== undefined && value instanceof share.SharedAgentManager;
  }
}

/**
 * The realtime link to a Frinny backend: the wasm class, or with
 * `shareAcrossTabs: true` where `SharedWorker` exists, a
 * `SharedAgentManager` with the same surface. `instanceof AgentManager`
 * holds for both.
 */
export class AgentManager extends LocalAgentManager {
  /** @param {import('./index.js').AgentManagerOptions} options */
  constructor(options) {
    if (options?.shareAcrossTabs === true && share !== undefined) {
      // A constructor may hand back another object: the proxy.
      return new share.SharedAgentManager(options);
    }
    super(localOptions(options));
  }

  static [Symbol.hasInstance](value) {
    return Function.prototype[Symbol.hasInstance].call(this, value)
      || (this === AgentManager && value instanceof SharedAgentManager);
  }
}

let loading;

/**
 * Loads and instantiates the wasm module. Call it (and await it) before the
 * first `new AgentManager(...)`. Safe to call any number of times: every
 * call after the first returns the same Promise, and a failed load (say the
 * network was down) is tried again by the next call.
 *
 * By default the `.wasm` file is fetched from next to the package's JS
 * (`new URL('frinny_agent_bg.wasm', import.meta.url)`), which is right both
 * for files served as they are and for Vite builds. A host that serves it
 * from somewhere else passes its URL (or a `Response`, `BufferSource` or
 * compiled `WebAssembly.Module`); it is only used by the first call. A URL
 * is also where the SharedWorker of `shareAcrossTabs` loads it from.
 *
 * @param {string | URL | Request | Response | BufferSource | WebAssembly.Module} [wasm]
 * @returns {Promise<void>}
 */
export function ready(wasm) {
  if (loading === undefined) rememberWasm(wasm);
  loading ??= Promise.all([
    init(wasm === undefined ? undefined : { module_or_path: wasm }),
    loadShare(),
  ]).then(
    () => undefined,
    (error) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * Loads the tab proxy of `shareAcrossTabs` where `SharedWorker` exists. A
 * failure fails `ready()` (and the next call tries again): a manager asked
 * to share must not quietly get a connection of its own.
 */
function loadShare() {
  if (share !== undefined || !canShareAcrossTabs()) return undefined;
  // Unbundled, the proxy's own imports are fetched with it, not once it is
  // parsed: one round trip instead of two. Bundled, these are built in.
  return Promise.all([
    import('./share/tab.js'),
    import('./share/listeners.js'),
    import('./share/protocol.js'),
    import('./frinny_helpers.js'),
    import('./event_pattern.js'),
  ]).then(([module]) => {
    share = module;
  });
}

export default ready;

// The package entry: loads the wasm module once and re-exports the client
// and the event catalogue.
//
//   import { ready, AgentManager, EventTypes } from 'frinny-agent';
//   await ready();
//   const agent = new AgentManager({ url: 'http://127.0.0.1:5001', auth: { token } });
//   agent.subscribe(EventTypes.TYPING_STATUS, ({ isTyping }) => showTyping(isTyping));
import init, { AgentManager } from '../pkg/frinny_agent.js';

export { AgentManager };
export { EventTypes, ClientToServer, ServerToClient, ResponseTo, Broadcastable } from './EventTypes.js';

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
 * compiled `WebAssembly.Module`); it is only used by the first call.
 *
 * @param {string | URL | Request | Response | BufferSource | WebAssembly.Module} [wasm]
 * @returns {Promise<void>}
 */
export function ready(wasm) {
  loading ??= init(wasm === undefined ? undefined : { module_or_path: wasm }).then(
    () => undefined,
    (error) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

export default ready;

// `frinny-agent/foundry`: the Foundry drop-in wired to the wasm client.
//
//   import { AgentManager } from 'frinny-agent/foundry';
//   // or, unbundled as the Foundry module serves it:
//   // import { AgentManager } from '../lib/frinny-agent/js/foundry/index.js';
//   const manager = new AgentManager();   // reads game.settings / game.user, as the old class
//   await manager.connect();
//
// Importing this module loads the wasm once (top-level await), so
// `new AgentManager()` is synchronous afterwards, as the old class was.
import { ready, AgentManager as Client } from '../index.js';
import { AgentManager as DropIn } from './AgentManager.js';

await ready();

/**
 * The Frinny AgentManager for Foundry VTT, backed by the wasm client. Same
 * options as the drop-in in `./AgentManager.js`; `Agent` defaults to the wasm
 * `AgentManager`.
 */
export class AgentManager extends DropIn {
  /** @param {object} [options] see `./AgentManager.js` */
  constructor(options = {}) {
    super({ Agent: Client, ...(options ?? {}) });
  }
}

export {
  HISTORY_LENGTH,
  DEFAULT_WS_URL,
  DEFAULT_BACKEND_URL,
  WRAPPED_EVENTS,
  DEFAULT_TIMINGS,
  PROFICIENCY_RANKS,
  readSetting,
  applyCharacterUpdate,
  serializeChatMessage,
} from './AgentManager.js';
export { Client, ready };
export default AgentManager;

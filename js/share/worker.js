// The SharedWorker behind `new AgentManager({ ..., shareAcrossTabs: true })`:
// every tab of the origin that loads the package from the same place talks
// to this one worker, which holds the real managers (one per connection
// key, see hub.js). Started by tab.js as a module worker:
//
//   new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'frinny-agent-share-1' })
//
// A host that serves this file elsewhere passes `sharedWorkerUrl`; the
// `heartbeatMs` query parameter of that URL tunes how often tabs ping (a
// port silent twelve times as long is dropped, which a background tab
// whose timers the browser slows to one a minute still passes), e.g. `worker.js?heartbeatMs=2000`.
// The wasm glue itself, not the package entry: the worker needs no tab side.
// In the package this file is built into one with what it imports
// (npm/bundle.mjs), so a worker's start is one fetch before the wasm.
import init, { AgentManager as LocalAgentManager } from '../../pkg/frinny_agent.js';
import { ShareHub } from './hub.js';
import { errorToData } from './protocol.js';

const tuning = new URL(self.location.href).searchParams;
const heartbeatMs = Math.max(100, Number(tuning.get('heartbeatMs')) || 10_000);

const hub = new ShareHub({
  createManager: (options) => new LocalAgentManager(options),
  heartbeatMs,
});
setInterval(() => hub.sweep(), heartbeatMs);

/**
 * Loads the wasm once: from where the first tab's `ready(url)` loaded it
 * (`wasm` in its hello) or, by default, from next to the package's JS.
 */
let loading;
function load(wasm) {
  loading ??= init(typeof wasm === 'string' ? { module_or_path: wasm } : undefined).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

self.addEventListener('connect', (event) => {
  const port = event.ports[0];
  hub.open(port);
  // Messages wait (in order) until the wasm is loaded.
  let queue = Promise.resolve();
  port.addEventListener('message', ({ data }) => {
    queue = queue.then(async () => {
      try {
        await load(data?.t === 'hello' ? data.wasm : undefined);
      } catch (error) {
        if (data?.t === 'hello') port.postMessage({ t: 'welcome', error: errorToData(error) });
        return;
      }
      hub.receive(port, data);
    });
  });
  // Where the browser tells of a port whose page went away, that is a goodbye.
  port.addEventListener('close', () => hub.receive(port, { t: 'bye' }));
  port.start();
});

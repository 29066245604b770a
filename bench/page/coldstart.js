// Cold start, one client per page load: the time from navigation start
// (performance.now() counts from it) until the client is connected, through
// fetching its code and, for ours, fetching and compiling the wasm. The
// driver (bench/browser.mjs) loads this page in a fresh browser context with
// the cache disabled, so every run fetches and compiles everything again.
//
//   ?client=ours|sio&port=<socket.io server>
//
// Ours is the package as `cargo xtask pack` stages it (its entry built into
// one file, as a module installs it), with its default transports
// (WebSocket first). socket.io-client's default starts on long-polling and
// upgrades, which would add HTTP round trips that are not about loading
// code, so it is given `transports: ['websocket']`: both open one WebSocket.
// The outcome lands in `window.coldStart`: `{ loadedMs, readyMs,
// connectedMs }` or `{ error }`.

const params = new URLSearchParams(location.search);
const url = `http://127.0.0.1:${Number(params.get('port'))}`;

async function ours() {
  const { ready, AgentManager } = await import('/target/npm/package/js/index.js');
  const loadedMs = performance.now();
  await ready();
  const readyMs = performance.now();
  const agent = new AgentManager({ url, reconnection: false });
  await agent.connect();
  const connectedMs = performance.now();
  agent.close();
  return { loadedMs, readyMs, connectedMs };
}

async function sio() {
  const { io } = await import('/node_modules/socket.io-client/dist/socket.io.esm.min.js');
  const loadedMs = performance.now();
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const connectedMs = performance.now();
  socket.close();
  return { loadedMs, readyMs: loadedMs, connectedMs };
}

const clients = { ours, sio };
const run = clients[params.get('client')];
(run ? run() : Promise.reject(new Error(`unknown client ${params.get('client')}`))).then(
  (out) => { window.coldStart = out; },
  (e) => { window.coldStart = { error: String(e && e.stack || e) }; },
);

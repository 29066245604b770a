// The client benchmarks, run in headless Chromium by bench/browser.mjs.
// Every function is bounded (event counts, time limits) and returns plain
// numbers. The page is served cross-origin isolated (COOP/COEP) so that
// performance.now() has 5 µs resolution instead of 100 µs.
//
// Clients compared:
//   ours      frinny-agent's AgentManager (wasm), through js/index.js
//   sio       socket.io-client 4.8, its ESM min build
//   raw       a browser WebSocket + JSON.parse of each `42[...]` frame (the floor)
// Without the network (section 3) also:
//   parser    socket.io-parser's Decoder + a component-emitter (the peer)
//   sio-full  the whole socket.io-client over the same fake WebSocket as ours
// A burst of small events (issue 17, `burst`):
//   ours-batched  ours, the burst in `batch` envelopes as the reference server sends it
//   ours-frames   ours, one frame per event
//   raw-floor     a browser WebSocket that receives one frame per event and only counts them
//   raw-parse     the same with a JSON.parse and a callback per frame

import * as entry from '/js/index.js';
import { io } from '/node_modules/socket.io-client/dist/socket.io.esm.min.js';
import { Decoder, PacketType } from '/node_modules/socket.io-parser/build/esm/index.js';
import { Emitter } from '@socket.io/component-emitter';
import { EVENT, frame, SMALL_EVENT, batchFrames } from './payload.js';

const params = new URLSearchParams(location.search);
const FLOOD_PORT = Number(params.get('flood'));
const SIO_PORT = Number(params.get('sio'));
// `?pkg=/bench/.profile-pkg/frinny_agent.js` loads another build of ours
// (one that kept its function names, for bench/profile.mjs).
const PKG = params.get('pkg');
let AgentManager = entry.AgentManager;

let wasm = null;
// Payload fields are read into this so no engine can skip building them.
let sink = 0;

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** A subscriber that counts to `n`, noting its first and last call. */
function counter(n) {
  const c = { count: 0, t0: 0, t1: 0 };
  c.done = new Promise((resolve) => {
    c.cb = (payload) => {
      if (c.count === 0) c.t0 = performance.now();
      sink = (sink + payload.seq + payload.actor.hp.value) | 0;
      if (++c.count === n) {
        c.t1 = performance.now();
        resolve();
      }
    };
  });
  return c;
}

/** The raw-WebSocket floor: one JSON.parse per `42[...]` frame. */
function rawHandler(cb) {
  return (e) => {
    const d = e.data;
    if (typeof d === 'string' && d.charCodeAt(0) === 52 && d.charCodeAt(1) === 50) {
      const packet = JSON.parse(d.slice(2));
      if (packet[0] === EVENT) cb(packet[1]);
    }
  };
}

// ----- 2. inbound throughput over a real WebSocket --------------------------------

async function inbound(kind, n) {
  const c = counter(n);
  let close;
  const started = performance.now();
  if (kind === 'ours') {
    const agent = new AgentManager({ url: `http://127.0.0.1:${FLOOD_PORT}`, query: { mode: 'sio', n }, reconnection: false });
    agent.subscribe(EVENT, c.cb);
    agent.connect().catch(() => {});
    close = () => { agent.close(); agent.free(); };
  } else if (kind === 'sio') {
    const s = io(`http://127.0.0.1:${FLOOD_PORT}`, { transports: ['websocket'], query: { mode: 'sio', n }, reconnection: false, forceNew: true });
    s.on(EVENT, c.cb);
    close = () => s.disconnect();
  } else if (kind === 'raw') {
    const ws = new WebSocket(`ws://127.0.0.1:${FLOOD_PORT}/raw?mode=raw&n=${n}`);
    ws.onmessage = rawHandler(c.cb);
    close = () => ws.close();
  } else {
    throw new Error(`unknown client ${kind}`);
  }
  try {
    await withTimeout(c.done, 120000, `inbound ${kind} (${c.count}/${n} events)`);
  } finally {
    close();
  }
  const ms = c.t1 - c.t0;
  return { events: n, ms, rate: (n - 1) / (ms / 1000), totalMs: c.t1 - started };
}

// ----- a fake WebSocket for everything without the network ------------------------

const OPEN = '0' + JSON.stringify({ sid: 'fake', upgrades: [], pingInterval: 600000, pingTimeout: 600000, maxPayload: 100000000 });

/** Enough of the browser WebSocket for both clients: on* handlers, send,
 * close. It opens on the next task, answers CONNECT, and the benchmark then
 * calls `onmessage` synchronously with plain `{data}` objects. */
class FakeWebSocket {
  static last = null;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.binaryType = 'blob';
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    FakeWebSocket.last = this;
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({ type: 'open' });
      this.onmessage?.({ data: OPEN });
    }, 0);
  }
  send(data) {
    if (typeof data === 'string' && data.startsWith('40')) {
      setTimeout(() => this.onmessage?.({ data: '40{"sid":"fake-sio"}' }), 0);
    }
  }
  close() { this.readyState = 3; }
  addEventListener() {}
  removeEventListener() {}
}

const POOL = 1000;
const EVENTS = Array.from({ length: POOL }, (_, i) => ({ data: frame(i) }));

let fakeSio = null;
/** A second socket.io-client module instance that captured FakeWebSocket
 * (engine.io-client reads globalThis.WebSocket when its module loads). */
async function fakeSioModule() {
  if (!fakeSio) {
    const real = globalThis.WebSocket;
    globalThis.WebSocket = FakeWebSocket;
    try {
      fakeSio = await import('/node_modules/socket.io-client/dist/socket.io.esm.min.js?fake-websocket');
    } finally {
      globalThis.WebSocket = real;
    }
  }
  return fakeSio;
}

/** A connected client of `kind` over no network: `deliver(event)` feeds one
 * frame, `cycle()` does one subscribe + unsubscribe, `close()` ends it. */
async function harness(kind, cb) {
  if (kind === 'ours') {
    const real = globalThis.WebSocket;
    globalThis.WebSocket = FakeWebSocket;
    let agent;
    try {
      agent = new AgentManager({ url: 'http://127.0.0.1:9', reconnection: false });
      agent.subscribe(EVENT, cb);
      await withTimeout(agent.connect(), 5000, 'ours over the fake WebSocket');
    } finally {
      globalThis.WebSocket = real;
    }
    const ws = FakeWebSocket.last;
    const h = ws.onmessage;
    return {
      deliver: (ev) => h.call(ws, ev),
      cycle: () => { const off = agent.subscribe('other_event', () => {}); off(); },
      extra: () => ({ heldCallbacks: agent.heldCallbacks, subscriberCount: agent.subscriberCount }),
      close: () => { agent.close(); agent.free(); },
    };
  }
  if (kind === 'sio-full') {
    const mod = await fakeSioModule();
    const s = mod.io('http://127.0.0.1:9', { transports: ['websocket'], reconnection: false, forceNew: true });
    s.on(EVENT, cb);
    await withTimeout(new Promise((r) => s.once('connect', r)), 5000, 'socket.io-client over the fake WebSocket');
    const ws = s.io.engine.transport.ws;
    const h = ws.onmessage;
    return {
      deliver: (ev) => h.call(ws, ev),
      cycle: () => { const f = () => {}; s.on('other_event', f); s.off('other_event', f); },
      extra: () => ({}),
      close: () => s.disconnect(),
    };
  }
  if (kind === 'parser') {
    const emitter = new Emitter();
    emitter.on(EVENT, cb);
    const decoder = new Decoder();
    decoder.on('decoded', (p) => {
      if (p.type === PacketType.EVENT) emitter.emit.apply(emitter, p.data);
    });
    return {
      deliver: (ev) => {
        const d = ev.data;
        if (d.charCodeAt(0) === 52) decoder.add(d.slice(1)); // Engine.IO MESSAGE
      },
      cycle: () => { const f = () => {}; emitter.on('other_event', f); emitter.off('other_event', f); },
      extra: () => ({}),
      close: () => decoder.destroy(),
    };
  }
  if (kind === 'raw') {
    const deliver = rawHandler(cb);
    return { deliver, cycle: () => {}, extra: () => ({}), close: () => {} };
  }
  throw new Error(`unknown client ${kind}`);
}

// ----- 3. decode + dispatch without the network ---------------------------------

async function decode(kind, n) {
  const c = counter(n);
  const h = await harness(kind, c.cb);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) h.deliver(EVENTS[i % POOL]);
  // socket.io-client hands each decoded packet on in a microtask
  // (Manager.ondecoded's nextTick): wait for the last subscriber call.
  try {
    await withTimeout(c.done, 60000, `decode ${kind} (${c.count}/${n} events)`);
  } finally {
    h.close();
  }
  return { events: n, ms: c.t1 - t0, rate: n / ((c.t1 - t0) / 1000) };
}

// ----- 4. request / response ---------------------------------------------------------

async function rtt(kind, n, warmup = 200) {
  let call;
  let close;
  if (kind === 'ours') {
    const agent = new AgentManager({ url: `http://127.0.0.1:${SIO_PORT}`, reconnection: false, timeout: 10000 });
    await withTimeout(agent.connect(), 10000, 'ours connecting to the ack server');
    call = (i) => agent.request('bench_rpc', { i, content: 'What does Shield Block do?' });
    close = () => { agent.close(); agent.free(); };
  } else if (kind === 'sio') {
    const s = io(`http://127.0.0.1:${SIO_PORT}`, { transports: ['websocket'], reconnection: false, forceNew: true });
    await withTimeout(new Promise((r) => s.once('connect', r)), 10000, 'socket.io-client connecting to the ack server');
    call = (i) => s.timeout(10000).emitWithAck('bench_rpc', { i, content: 'What does Shield Block do?' });
    close = () => s.disconnect();
  } else {
    throw new Error(`unknown client ${kind}`);
  }
  try {
    for (let i = 0; i < warmup; i++) await call(i);
    const samples = new Float64Array(n);
    const deadline = performance.now() + 120000;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const reply = await call(i);
      samples[i] = performance.now() - t;
      if (!reply || reply.i !== i) throw new Error(`rtt ${kind}: wrong reply ${JSON.stringify(reply)} to ${i}`);
      if (t > deadline) throw new Error(`rtt ${kind}: over 120 s`);
    }
    samples.sort();
    const at = (p) => samples[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
    return { n, p50: at(50) * 1000, p99: at(99) * 1000, max: samples[n - 1] * 1000, resolutionUs: crossOriginIsolated ? 5 : 100 };
  } finally {
    close();
  }
}

// ----- 5. memory (bench/browser.mjs forces GC and reads the heap over CDP) ----------

let mem = null;
async function memSetup(kind, warmup) {
  const c = counter(Number.MAX_SAFE_INTEGER);
  mem = await harness(kind, c.cb);
  for (let i = 0; i < warmup; i++) mem.deliver(EVENTS[i % POOL]);
  return mem.extra();
}
function memEvents(n) {
  for (let i = 0; i < n; i++) mem.deliver(EVENTS[i % POOL]);
  return mem.extra();
}
function memCycles(n) {
  for (let i = 0; i < n; i++) mem.cycle();
  return mem.extra();
}
function memTeardown() {
  mem.close();
  mem = null;
}
function wasmBytes() {
  // A missing memory must fail the run, not read as "no growth".
  if (!wasm || !wasm.memory) throw new Error('bench: the wasm exports (and so its memory) are unknown');
  return wasm.memory.buffer.byteLength;
}

// ----- 9. a burst of small events, batched or one frame each (issue 17) ------------

async function burst(kind, n) {
  const c = { count: 0, t0: 0, t1: 0 };
  c.done = new Promise((resolve) => { c.resolve = resolve; });
  const tick = () => {
    if (c.count === 0) c.t0 = performance.now();
    if (++c.count === n) {
      c.t1 = performance.now();
      c.resolve();
    }
  };
  const cb = (payload) => {
    sink = (sink + payload.seq + payload.x) | 0;
    tick();
  };
  let close;
  let frames = n;
  if (kind === 'ours-batched' || kind === 'ours-frames') {
    const batched = kind === 'ours-batched';
    if (batched) frames = batchFrames(n).length;
    const agent = new AgentManager({ url: `http://127.0.0.1:${FLOOD_PORT}`, query: { mode: 'sio', kind: batched ? 'batched' : 'small', n }, reconnection: false });
    agent.subscribe(SMALL_EVENT, cb);
    agent.connect().catch(() => {});
    close = () => { agent.close(); agent.free(); };
  } else if (kind === 'raw-floor' || kind === 'raw-parse') {
    const ws = new WebSocket(`ws://127.0.0.1:${FLOOD_PORT}/raw?mode=raw&kind=small&n=${n}`);
    ws.onmessage = kind === 'raw-floor' ? tick : (e) => {
      const d = e.data;
      if (typeof d === 'string' && d.charCodeAt(0) === 52 && d.charCodeAt(1) === 50) {
        const packet = JSON.parse(d.slice(2));
        if (packet[0] === SMALL_EVENT) cb(packet[1]);
      }
    };
    close = () => ws.close();
  } else {
    throw new Error(`unknown client ${kind}`);
  }
  try {
    await withTimeout(c.done, 120000, `burst ${kind} (${c.count}/${n} events)`);
  } finally {
    close();
  }
  const ms = c.t1 - c.t0;
  return { events: n, frames, ms, rate: (n - 1) / (ms / 1000) };
}

window.bench = { inbound, decode, rtt, burst, memSetup, memEvents, memCycles, memTeardown, wasmBytes, sink: () => sink };

const loading = PKG
  ? import(PKG).then(async (m) => { AgentManager = m.AgentManager; return m.default(); })
  // `ready()` resolves to nothing; the glue's init, called again, hands
  // back the exports it already made, whose memory section 5 measures.
  : entry.ready().then(() => import('/pkg/frinny_agent.js')).then((glue) => glue.default());
loading.then((exports) => {
  wasm = exports;
  window.benchReady = true;
}, (e) => {
  window.benchError = String(e && e.stack || e);
});

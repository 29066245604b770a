// Client benchmarks (sections 2-5 of issue 6) in Debian's headless Chromium.
//
//   node bench/browser.mjs [--port 29001] [--runs 5] [--inbound 100000]
//        [--decode 1000000] [--decode-runs 3] [--rtt 10000]
//        [--mem-events 1000000] [--mem-cycles 100000] [--cold-runs 10]
//        [--batch-events 100000] [--batch-runs 5]
//        [--only inbound,decode,rtt,mem,coldstart,batch]
//
// Starts, in this process, on 127.0.0.1:
//   --port     a static server for the page (repo files, cross-origin isolated)
//   --port+1   the flood server: after the Engine.IO/Socket.IO handshake it writes
//              N pre-encoded `42["combat_update",{...}]` WebSocket frames in one go
//              (`?mode=sio`; `mode=raw` skips the handshake), or for the batching
//              section N small events, one frame each (`kind=small`) or batched as
//              the reference server batches a burst (`kind=batched`, after a
//              `connection_established` that offers batching)
//   --port+2   a socket.io 4.8 server that acks every `bench_rpc` with {ok, i}
// then drives bench/page/ with playwright-core and prints `RESULT <key> <value>`
// lines on stdout (everything else goes to stderr). Exits by itself; a hard
// time limit (--time-limit seconds, default 900) ends it in any case.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { Server as SioServer } from 'socket.io';
import { chromium } from 'playwright-core';
import { frame, smallFrame, batchFrames, BATCH_OFFER } from './page/payload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const PORT = Number(arg('port', 29001));
const RUNS = Number(arg('runs', 5));
const INBOUND = Number(arg('inbound', 100000));
const DECODE = Number(arg('decode', 1000000));
const DECODE_RUNS = Number(arg('decode-runs', 3));
const RTT = Number(arg('rtt', 10000));
const MEM_EVENTS = Number(arg('mem-events', 1000000));
const MEM_CYCLES = Number(arg('mem-cycles', 100000));
const COLD_RUNS = Number(arg('cold-runs', 10));
const BATCH_EVENTS = Number(arg('batch-events', 100000));
const BATCH_RUNS = Number(arg('batch-runs', RUNS));
const ONLY = arg('only', 'inbound,decode,rtt,mem').split(',');
const TIME_LIMIT = Number(arg('time-limit', 900));

const hardStop = setTimeout(() => {
  console.error(`bench/browser.mjs: time limit of ${TIME_LIMIT} s reached`);
  process.exit(3);
}, TIME_LIMIT * 1000);

const log = (...a) => console.error('[bench]', ...a);
const result = (key, value) => console.log(`RESULT ${key} ${typeof value === 'number' ? +value.toFixed(3) : value}`);

// ----- the static server ------------------------------------------------------------

const ALLOWED = ['/bench/page/', '/bench/.profile-pkg/', '/pkg/', '/js/', '/target/npm/package/', '/node_modules/socket.io-client/dist/',
  '/node_modules/socket.io-parser/build/esm/', '/node_modules/@socket.io/component-emitter/lib/esm/'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json' };

const staticServer = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = path.normalize(decodeURIComponent(url.pathname));
  const file = path.join(ROOT, p);
  if (!ALLOWED.some((a) => p.startsWith(a)) || !file.startsWith(ROOT) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
    // Cross-origin isolation: performance.now() at 5 µs instead of 100 µs.
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  });
  fs.createReadStream(file).pipe(res);
});

// ----- the flood server -----------------------------------------------------------------

const floods = new Map();
/** The text frames of a flood: `combat_update`s, small events, or small events batched. */
function floodFrames(kind, n) {
  if (kind === 'small') return Array.from({ length: n }, (_, i) => smallFrame(i));
  if (kind === 'batched') return batchFrames(n);
  return Array.from({ length: n }, (_, i) => frame(i));
}
/** The frames (server to client: unmasked) in one buffer. */
function floodBuffer(n, kind = 'combat') {
  const key = `${kind}:${n}`;
  if (!floods.has(key)) {
    const parts = [];
    for (const text of floodFrames(kind, n)) {
      const body = Buffer.from(text);
      const len = body.length;
      const head = len < 126 ? Buffer.from([0x81, len])
        : len < 65536 ? Buffer.from([0x81, 126, len >> 8, len & 255])
          : Buffer.from([0x81, 127, 0, 0, 0, 0, (len >>> 24) & 255, (len >> 16) & 255, (len >> 8) & 255, len & 255]);
      parts.push(head, body);
    }
    floods.set(key, Buffer.concat(parts));
  }
  return floods.get(key);
}

let floodSeq = 0;
const floodServer = new WebSocketServer({ host: '127.0.0.1', port: PORT + 1, perMessageDeflate: false });
floodServer.on('connection', (ws, req) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const n = Math.min(Number(q.get('n') || 1000), 2000000);
  const kind = q.get('kind') || 'combat';
  const buf = floodBuffer(n, kind);
  // Bypasses ws's sender: the frames are already encoded. Nothing else is
  // sent on this socket afterwards (no pings within the long pingInterval).
  const blast = () => ws._socket.write(buf);
  ws.on('error', () => {});
  if (q.get('mode') === 'raw') {
    blast();
    return;
  }
  const id = ++floodSeq;
  ws.send('0' + JSON.stringify({ sid: `flood${id}`, upgrades: [], pingInterval: 600000, pingTimeout: 600000, maxPayload: 100000000 }));
  ws.on('message', (data) => {
    if (!data.toString().startsWith('40')) return;
    if (kind !== 'batched') {
      ws.send(`40{"sid":"flood-sio${id}"}`, blast);
      return;
    }
    // As the reference server greets a client that asked for batches.
    ws.send(`40{"sid":"flood-sio${id}"}`);
    const hello = { status: 'connected', endpoints: [], userId: 'bench', sid: `flood-sio${id}`, timestamp: Date.now(), batch: BATCH_OFFER };
    ws.send('42' + JSON.stringify(['connection_established', hello]), blast);
  });
});

// ----- the acking socket.io server ------------------------------------------------------

const ackHttp = http.createServer();
const sio = new SioServer(ackHttp, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
sio.on('connection', (socket) => {
  socket.on('bench_rpc', (payload, ack) => {
    if (typeof ack === 'function') ack({ ok: true, i: payload?.i, request_id: payload?.request_id });
  });
});

await Promise.all([
  new Promise((r) => staticServer.listen(PORT, '127.0.0.1', r)),
  new Promise((r) => floodServer.on('listening', r)),
  new Promise((r) => ackHttp.listen(PORT + 2, '127.0.0.1', r)),
]);
log(`servers on 127.0.0.1:${PORT} (page), ${PORT + 1} (flood), ${PORT + 2} (socket.io acks)`);
if (ONLY.includes('inbound')) floodBuffer(INBOUND);
if (ONLY.includes('batch')) {
  floodBuffer(BATCH_EVENTS, 'small');
  floodBuffer(BATCH_EVENTS, 'batched');
}

// --serve-only S: only the servers, for S seconds (bench/profile.mjs).
if (arg('serve-only', null)) {
  clearTimeout(hardStop);
  setTimeout(() => process.exit(0), Number(arg('serve-only', 60)) * 1000);
  await new Promise(() => {});
}

// ----- the browser ---------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--enable-precise-memory-info'],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.on('console', (m) => log('[page]', m.text()));
  page.on('pageerror', (e) => log('[page error]', e.message));
  await page.goto(`http://127.0.0.1:${PORT}/bench/page/index.html?flood=${PORT + 1}&sio=${PORT + 2}`);
  await page.waitForFunction(() => window.benchReady === true || window.benchError !== undefined, null, { timeout: 30000 });
  const err = await page.evaluate(() => window.benchError);
  if (err) throw new Error(`the bench page did not load: ${err}`);
  log(`page loaded; crossOriginIsolated=${await page.evaluate(() => crossOriginIsolated)}`);
  const cdp = await page.context().newCDPSession(page);
  const run = (fn, ...args) => page.evaluate(([f, a]) => window.bench[f](...a), [fn, args]);

  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return { median, min: s[0], max: s[s.length - 1], spread: (s[s.length - 1] - s[0]) / median * 100 };
  };
  const section = async (name, body) => {
    if (!ONLY.includes(name)) return;
    const t = Date.now();
    try {
      await body();
    } catch (e) {
      failed = true;
      log(`${name} failed: ${e.stack || e}`);
      result(`${name}.error`, JSON.stringify(String(e.message || e).slice(0, 200)));
    }
    log(`${name} took ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };

  await section('inbound', async () => {
    const kinds = ['ours', 'sio', 'raw'];
    const rates = { ours: [], sio: [], raw: [] };
    for (const k of kinds) await run('inbound', k, Math.min(INBOUND, 5000)); // warm-up
    // How busy the renderer's main thread was (CDP TaskDuration / wall):
    // near 100 % means the client is the bottleneck, well below means the
    // browser's WebSocket delivery is.
    await cdp.send('Performance.enable');
    const taskSecs = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
    const busy = { ours: [], sio: [], raw: [] };
    for (let r = 0; r < RUNS; r++) {
      for (let j = 0; j < kinds.length; j++) {
        const k = kinds[(r + j) % kinds.length]; // rotate who goes first
        const before = await taskSecs();
        const t = Date.now();
        const out = await run('inbound', k, INBOUND);
        const load = ((await taskSecs()) - before) / ((Date.now() - t) / 1000) * 100;
        rates[k].push(out.rate);
        busy[k].push(load);
        log(`inbound run ${r + 1} ${k}: ${Math.round(out.rate)} events/s (${out.ms.toFixed(0)} ms first to last; main thread ${load.toFixed(0)} % busy)`);
      }
    }
    for (const k of kinds) {
      const s = stats(rates[k]);
      result(`inbound.${k}.median`, s.median);
      result(`inbound.${k}.min`, s.min);
      result(`inbound.${k}.max`, s.max);
      result(`inbound.${k}.spread_pct`, s.spread);
      result(`inbound.${k}.main_busy_pct`, stats(busy[k]).median);
    }
  });

  await section('decode', async () => {
    const kinds = ['ours', 'sio-full', 'parser', 'raw'];
    const rates = Object.fromEntries(kinds.map((k) => [k, []]));
    for (const k of kinds) await run('decode', k, 20000); // warm-up
    for (let r = 0; r < DECODE_RUNS; r++) {
      for (let j = 0; j < kinds.length; j++) {
        const k = kinds[(r + j) % kinds.length];
        const out = await run('decode', k, DECODE);
        rates[k].push(out.rate);
        log(`decode run ${r + 1} ${k}: ${Math.round(out.rate)} events/s (${out.ms.toFixed(0)} ms)`);
      }
    }
    for (const k of kinds) {
      const s = stats(rates[k]);
      result(`decode.${k}.median`, s.median);
      result(`decode.${k}.spread_pct`, s.spread);
    }
  });

  await section('rtt', async () => {
    for (const k of ['ours', 'sio']) {
      const out = await run('rtt', k, RTT);
      log(`rtt ${k}: p50 ${out.p50.toFixed(0)} µs, p99 ${out.p99.toFixed(0)} µs, max ${out.max.toFixed(0)} µs (clock resolution ${out.resolutionUs} µs)`);
      result(`rtt.${k}.p50_us`, out.p50);
      result(`rtt.${k}.p99_us`, out.p99);
    }
  });

  await section('mem', async () => {
    const measure = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      return { heap: usedSize, wasm: await run('wasmBytes') };
    };
    for (const k of ['ours', 'sio-full']) {
      await run('memSetup', k, 10000);
      const warm = await measure();
      const afterEventsExtra = await run('memEvents', MEM_EVENTS);
      const events = await measure();
      const afterCyclesExtra = await run('memCycles', MEM_CYCLES);
      const cycles = await measure();
      await run('memTeardown');
      log(`mem ${k}: heap ${warm.heap} -> ${events.heap} (1M events) -> ${cycles.heap} (cycles); wasm ${warm.wasm} -> ${events.wasm} -> ${cycles.wasm}`,
        JSON.stringify({ afterEventsExtra, afterCyclesExtra }));
      result(`mem.${k}.heap_warm`, warm.heap);
      result(`mem.${k}.heap_events`, events.heap);
      result(`mem.${k}.heap_cycles`, cycles.heap);
      if (k === 'ours') {
        result(`mem.${k}.wasm_warm`, warm.wasm);
        result(`mem.${k}.wasm_events`, events.wasm);
        result(`mem.${k}.wasm_cycles`, cycles.wasm);
        if (afterCyclesExtra.heldCallbacks !== undefined) result(`mem.${k}.held_callbacks`, afterCyclesExtra.heldCallbacks);
      }
    }
  });

  // Issue 17: a burst of small events, one WebSocket frame each or batched
  // as the reference server batches it, received by our client, against a
  // plain WebSocket that receives the per-frame burst and does nothing with
  // it (the floor of one frame per event). Who goes first rotates.
  await section('batch', async () => {
    const kinds = ['ours-batched', 'ours-frames', 'raw-floor', 'raw-parse'];
    const rates = Object.fromEntries(kinds.map((k) => [k, []]));
    for (const k of kinds) await run('burst', k, Math.min(BATCH_EVENTS, 5000)); // warm-up
    for (let r = 0; r < BATCH_RUNS; r++) {
      for (let j = 0; j < kinds.length; j++) {
        const k = kinds[(r + j) % kinds.length];
        const out = await run('burst', k, BATCH_EVENTS);
        rates[k].push(out.rate);
        log(`batch run ${r + 1} ${k}: ${Math.round(out.rate)} events/s (${out.ms.toFixed(0)} ms first to last, ${out.frames} frames)`);
      }
    }
    for (const k of kinds) {
      const s = stats(rates[k]);
      result(`batch.${k}.median`, s.median);
      result(`batch.${k}.min`, s.min);
      result(`batch.${k}.max`, s.max);
      result(`batch.${k}.spread_pct`, s.spread);
    }
    result('batch.frames', batchFrames(BATCH_EVENTS).length);
  });

  // Cold start: page load to connected, each run in a fresh context with the
  // cache disabled (the static server also says no-store), against the
  // socket.io server on --port+2. Who goes first alternates; the first run
  // of each is a warm-up of the browser process, not counted.
  await section('coldstart', async () => {
    const kinds = ['ours', 'sio'];
    const samples = { ours: { connected: [], ready: [], loaded: [] }, sio: { connected: [], ready: [], loaded: [] } };
    for (let r = -1; r < COLD_RUNS; r++) {
      for (let j = 0; j < kinds.length; j++) {
        const k = kinds[(r + 1 + j) % kinds.length];
        const context = await browser.newContext();
        try {
          const p = await context.newPage();
          p.on('pageerror', (e) => log('[coldstart page error]', e.message));
          const c = await context.newCDPSession(p);
          await c.send('Network.enable');
          await c.send('Network.setCacheDisabled', { cacheDisabled: true });
          await p.goto(`http://127.0.0.1:${PORT}/bench/page/coldstart.html?client=${k}&port=${PORT + 2}`);
          await p.waitForFunction(() => window.coldStart !== undefined, null, { timeout: 30000 });
          const out = await p.evaluate(() => window.coldStart);
          if (out.error) throw new Error(`${k}: ${out.error}`);
          if (r >= 0) {
            samples[k].connected.push(out.connectedMs);
            samples[k].ready.push(out.readyMs);
            samples[k].loaded.push(out.loadedMs);
          }
          log(`coldstart ${r < 0 ? 'warm-up' : `run ${r + 1}`} ${k}: code loaded ${out.loadedMs.toFixed(1)} ms, ready ${out.readyMs.toFixed(1)} ms, connected ${out.connectedMs.toFixed(1)} ms`);
        } finally {
          await context.close();
        }
      }
    }
    for (const k of kinds) {
      const s = stats(samples[k].connected);
      result(`coldstart.${k}.median_ms`, s.median);
      result(`coldstart.${k}.min_ms`, s.min);
      result(`coldstart.${k}.max_ms`, s.max);
      result(`coldstart.${k}.loaded_median_ms`, stats(samples[k].loaded).median);
      result(`coldstart.${k}.ready_median_ms`, stats(samples[k].ready).median);
    }
  });
} catch (e) {
  failed = true;
  log(`failed: ${e.stack || e}`);
} finally {
  await browser.close().catch(() => {});
  clearTimeout(hardStop);
  floodServer.close();
  sio.close();
  staticServer.close();
  staticServer.closeAllConnections?.();
  process.exit(failed ? 1 : 0);
}

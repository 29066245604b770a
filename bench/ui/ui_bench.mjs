// The UI benchmark: events per second that reach the screen through
// <frinny-notification-panel> and <frinny-combat-updates>, against a bare
// subscriber, in Debian's headless Chromium.
//
//   node bench/ui/ui_bench.mjs [--port 29040] [--runs 5] [--events 100000]
//
// Starts, in this process, on 127.0.0.1:
//   --port     a static server for the page (bench/ui/, js/, pkg/ of the repository)
//   --port+1   the flood server: after the Engine.IO/Socket.IO handshake it
//              writes N pre-encoded `42["<kind>",{...}]` frames in one go
// then drives bench/ui/index.html with playwright-core, alternating the
// clients run by run, and prints `RESULT <key> <value>` lines on stdout
// (everything else on stderr). A hard time limit (--time-limit s, default
// 600) ends it in any case.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { chromium } from 'playwright-core';
import { frame } from './payloads.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const PORT = Number(arg('port', 29040));
const RUNS = Number(arg('runs', 5));
const EVENTS = Number(arg('events', 100000));
const TIME_LIMIT = Number(arg('time-limit', 600));

const hardStop = setTimeout(() => {
  console.error(`bench/ui/ui_bench.mjs: time limit of ${TIME_LIMIT} s reached`);
  process.exit(3);
}, TIME_LIMIT * 1000);

const log = (...a) => console.error('[bench ui]', ...a);
const result = (key, value) => console.log(`RESULT ${key} ${+value.toFixed(3)}`);

const ALLOWED = ['/bench/ui/', '/pkg/', '/js/'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const staticServer = http.createServer((req, res) => {
  const p = path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  const file = path.join(ROOT, p);
  if (!ALLOWED.some((a) => p.startsWith(a)) || !file.startsWith(ROOT) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  fs.createReadStream(file).pipe(res);
});

const floods = new Map();
/** N WebSocket text frames (server to client: unmasked) of `kind`, in one buffer. */
function floodBuffer(kind, n) {
  const key = `${kind}:${n}`;
  if (!floods.has(key)) {
    const parts = [];
    for (let i = 0; i < n; i++) {
      const body = Buffer.from(frame(kind, i));
      const head = body.length < 126 ? Buffer.from([0x81, body.length]) : Buffer.from([0x81, 126, body.length >> 8, body.length & 255]);
      parts.push(head, body);
    }
    floods.set(key, Buffer.concat(parts));
  }
  return floods.get(key);
}

let seq = 0;
const floodServer = new WebSocketServer({ host: '127.0.0.1', port: PORT + 1, perMessageDeflate: false });
floodServer.on('connection', (ws, req) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const kind = q.get('kind') === 'combat_update' ? 'combat_update' : 'notification';
  const buf = floodBuffer(kind, Math.min(Number(q.get('n') || 1000), 1000000));
  const id = ++seq;
  ws.on('error', () => {});
  ws.send('0' + JSON.stringify({ sid: `ui${id}`, upgrades: [], pingInterval: 600000, pingTimeout: 600000, maxPayload: 100000000 }));
  ws.on('message', (data) => {
    if (data.toString().startsWith('40')) ws.send(`40{"sid":"ui-sio${id}"}`, () => ws._socket.write(buf));
  });
});

await Promise.all([
  new Promise((r) => staticServer.listen(PORT, '127.0.0.1', r)),
  new Promise((r) => floodServer.on('listening', r)),
]);
for (const kind of ['notification', 'combat_update']) floodBuffer(kind, EVENTS);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => log('[page error]', e.message));
  await page.goto(`http://127.0.0.1:${PORT}/bench/ui/index.html?flood=${PORT + 1}`);
  await page.waitForFunction(() => window.benchReady === true || window.benchError !== undefined, null, { timeout: 30000 });
  const err = await page.evaluate(() => window.benchError);
  if (err) throw new Error(`the bench page did not load: ${err}`);
  const cases = [
    ['bare-notification', 'bare', 'notification'],
    ['panel', 'panel', 'notification'],
    ['bare-combat', 'bare', 'combat_update'],
    ['combat', 'combat', 'combat_update'],
  ];
  const rates = Object.fromEntries(cases.map(([key]) => [key, []]));
  // A warm-up of each, then the runs, alternating so drift hits all alike.
  for (const [, how, kind] of cases) await page.evaluate(([h, k, n]) => window.bench.run(h, k, n), [how, kind, Math.min(EVENTS, 10000)]);
  for (let r = 0; r < RUNS; r++) {
    for (const [key, how, kind] of cases) {
      const out = await page.evaluate(([h, k, n]) => window.bench.run(h, k, n), [how, kind, EVENTS]);
      rates[key].push(out.rate);
      log(`run ${r + 1}/${RUNS} ${key}: ${Math.round(out.rate)} ev/s (${out.ms.toFixed(1)} ms for ${out.n})`);
    }
  }
  for (const [key] of cases) result(`ui.${key}.median`, median(rates[key]));
  result('ui.events', EVENTS);
  result('ui.runs', RUNS);
} catch (e) {
  failed = true;
  log('failed:', e.message);
} finally {
  await browser.close();
  floodServer.close();
  staticServer.close();
  clearTimeout(hardStop);
}
process.exit(failed ? 1 : 0);

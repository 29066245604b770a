// CPU profile of one client's decode + dispatch path (no network), to see
// where the time goes: `node bench/profile.mjs [ours|sio-full|parser|raw|inbound:K|rtt:K]
// [events] [pkg url]`. Prints the top functions by self time. For names in
// our wasm, build a named copy of the package first (see BENCHMARKS.md):
// the default is /bench/.profile-pkg/frinny_agent.js.

import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const kind = process.argv[2] ?? 'ours';
const n = Number(process.argv[3] ?? 300000);
const pkg = process.argv[4] ?? '/bench/.profile-pkg/frinny_agent.js';
const PORT = 29031;

// The page server of bench/browser.mjs, with no browser sections run.
const server = spawn('node', ['bench/browser.mjs', '--port', String(PORT), '--only', 'none', '--serve-only', '120'], { stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise((resolve) => server.stderr.on('data', (d) => { if (String(d).includes('servers on')) resolve(); }));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${PORT}/bench/page/index.html?flood=${PORT + 1}&sio=${PORT + 2}&pkg=${encodeURIComponent(pkg)}`);
  await page.waitForFunction(() => window.benchReady === true || window.benchError !== undefined);
  // `inbound:<kind>` profiles the real-WebSocket flood instead, `rtt:<kind>`
  // sequential requests against the acking socket.io server.
  const [fn, k2] = kind.includes(':') ? kind.split(':') : ['decode', kind];
  await page.evaluate(([f, k]) => window.bench[f](k, f === 'rtt' ? 200 : 5000), [fn, k2]);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await cdp.send('Profiler.start');
  const out = await page.evaluate(([f, k, m]) => window.bench[f](k, m), [fn, k2, n]);
  const { profile } = await cdp.send('Profiler.stop');
  const self = new Map();
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  for (const node of profile.nodes) {
    const t = dt.get(node.id) ?? 0;
    const cf = node.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').pop()}:${cf.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + t);
    total += t;
  }
  const figure = fn === 'rtt' ? `p50 ${Math.round(out.p50)} µs, p99 ${Math.round(out.p99)} µs` : `${Math.round(out.rate)} events/s`;
  console.log(`${kind}: ${figure} over ${n} events; profile ${(total / 1000).toFixed(0)} ms`);
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${(t / total * 100).toFixed(1).padStart(5)}%  ${(t / n * 1000).toFixed(0).padStart(5)} ns/event  ${k.slice(0, 140)}`);
  }
} finally {
  await browser.close();
  server.kill();
}

// The soak of issue 16: browser clients send requests through a TCP proxy to
// a `frinny-server --redis` while a fault injector breaks things, then every
// request's fate is counted. `cargo xtask soak [--quick]` runs it.
//
//   node tests/soak/soak.mjs [--quick] [--seed N]
//   env: FRINNY_SERVER_BIN (default target/debug/frinny-server), CHROMIUM
//
// Everything listens on 127.0.0.1, on free ports, and is stopped at the end
// (and by a hard deadline if something hangs). The last line printed is
//   soak: N requests, F faults, hung H, double-settled D, lost L
// and the exit status is non-zero if H, D or L is not 0, if the server
// restarted without being told to, or if acknowledged versions went back.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { launchChromium, newPage } from '../e2e/support/browser.mjs';
import { REPO_ROOT } from '../e2e/support/package.mjs';
import { freePort } from '../e2e/support/reference_server.mjs';
import { serveStatic } from '../e2e/support/static_server.mjs';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const seedArg = args.indexOf('--seed');
let seed = seedArg >= 0 ? Number(args[seedArg + 1]) : 16;

/** The two runs: the full one of the issue, and a tenth of it for CI. */
const RUN = QUICK
  ? { requests: 1_000, faults: 10, clients: 20, pages: 2, loadMs: 40_000 }
  : { requests: 10_000, faults: 100, clients: 20, pages: 2, loadMs: 420_000 };
/** Requests time out by themselves well before the drain ends. */
const REQUEST_TIMEOUT_MS = 4_000;
const DRAIN_MS = 30_000;
/** The whole run may not take longer than this, whatever hangs. */
const HARD_DEADLINE_MS = RUN.loadMs + 180_000;
const PING_INTERVAL_MS = 1_000;
const PING_TIMEOUT_MS = 1_500;
const REDIS_TIMEOUT_MS = 1_000;
const WORLD = 'soak';
const JWT_SECRET = randomBytes(24).toString('hex');
const ADMIN_TOKEN = randomBytes(24).toString('hex');
const SERVER_BIN = process.env.FRINNY_SERVER_BIN ?? resolve(REPO_ROOT, 'target/debug/frinny-server');

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** SplitMix-ish seeded draws, so a run can be repeated (`--seed`). */
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (n) => Math.floor(rand() * n);

// ---------------------------------------------------------------- tokens

const b64url = (s) => Buffer.from(s).toString('base64url');
/** An HS256 token as the server's `Authenticator` checks it. */
function token(sub, role, ttlSecs) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const exp = Math.floor(Date.now() / 1000) + ttlSecs;
  const body = b64url(JSON.stringify({ sub, role, world: WORLD, exp }));
  const sig = createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
/** Clients whose next token is short-lived (the token-expiry fault). */
const shortLived = new Set();
function mintFor(index) {
  if (index < 0) return token('soak-verifier', 'gm', 600);
  if (shortLived.delete(index)) return token(`soak-${index}`, 'player', 1);
  return token(`soak-${index}`, 'player', 600);
}

// ---------------------------------------------------------------- processes

const children = new Set();
function launch(cmd, argv, name) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => {
    const text = String(d).trim();
    if (text) for (const line of text.split('\n').slice(0, 5)) console.log(`  ${name}: ${line}`);
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function stopAll() {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGCONT');
    } catch {}
    c.kill('SIGKILL');
  }
}
process.on('exit', stopAll);

async function waitFor(what, ok, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await ok()) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${what} not ready within ${ms} ms`);
    await sleep(50);
  }
}

const redisPort = await freePort();
const redis = launch('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], 'redis');
await waitFor('redis', () => new Promise((ok) => {
  const s = net.connect(redisPort, '127.0.0.1', () => { s.destroy(); ok(true); });
  s.on('error', () => ok(false));
}));

const serverPort = await freePort();
const serverOrigin = `http://127.0.0.1:${serverPort}`;
let server = null;
let injectedRestarts = 0;
let unexpectedExits = 0;
/** Server counters summed over every server process of the run. */
const serverTotals = { errors: {}, rateLimited: 0, connectionsTotal: 0 };

function startServer() {
  const child = launch(SERVER_BIN, [
    '--port', String(serverPort), '--jwt-secret', JWT_SECRET, '--admin-token', ADMIN_TOKEN,
    '--redis', `redis://127.0.0.1:${redisPort}`, '--redis-timeout-ms', String(REDIS_TIMEOUT_MS),
    '--ping-interval-ms', String(PING_INTERVAL_MS), '--ping-timeout-ms', String(PING_TIMEOUT_MS),
    '--demo-delay-ms', '20', '--log', 'error',
  ], 'server');
  child.on('exit', (code, signal) => {
    if (!child.killedOnPurpose) {
      unexpectedExits += 1;
      log(`server exited by itself (code ${code}, signal ${signal})`);
    }
  });
  server = child;
  return waitFor('frinny-server', async () => (await fetch(`${serverOrigin}/healthz`)).ok);
}

/** Adds the current server's /metrics to the run's totals (before it dies, and at the end). */
async function harvestMetrics() {
  try {
    const text = await (await fetch(`${serverOrigin}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    for (const m of text.matchAll(/^frinny_errors_total\{code="([^"]+)"\} (\d+)$/gm)) {
      serverTotals.errors[m[1]] = (serverTotals.errors[m[1]] ?? 0) + Number(m[2]);
    }
    serverTotals.rateLimited += Number(/^frinny_rate_limited_total (\d+)$/m.exec(text)?.[1] ?? 0);
    serverTotals.connectionsTotal += Number(/^frinny_connections_total (\d+)$/m.exec(text)?.[1] ?? 0);
  } catch (e) {
    log(`could not read /metrics: ${e.message}`);
  }
}

const rssKiB = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
};

await startServer();

// ---------------------------------------------------------------- the proxy

/**
 * Between the browsers and the server: passes bytes both ways, knows which
 * client each connection belongs to (the `client=` query of its upgrade
 * request), can cut every connection (or one client's) without a close
 * frame, and can slip a WebSocket frame of its own between two of the
 * server's frames to a client.
 */
class Proxy {
  constructor(target) {
    this.target = target;
    this.links = new Set();
    this.server = net.createServer((down) => this.accept(down));
  }

  listen() {
    return new Promise((ok) => this.server.listen(0, '127.0.0.1', () => ok(this.server.address().port)));
  }

  accept(down) {
    const up = net.connect(this.target, '127.0.0.1');
    const link = { down, up, client: null, upgraded: false, http: false, head: Buffer.alloc(0), pending: Buffer.alloc(0) };
    this.links.add(link);
    const end = () => {
      if (!this.links.delete(link)) return;
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.on('data', (chunk) => {
      if (link.client === null) {
        const m = /[?&]client=(\d+)/.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 2048)));
        link.client = m ? Number(m[1]) : -1;
      }
      up.write(chunk);
    });
    up.on('data', (chunk) => this.fromServer(link, chunk));
  }

  /**
   * Forwards the server's bytes: whole WebSocket frames at a time once the
   * server switched protocols, as they come on a plain HTTP connection (a
   * long-polling client's).
   */
  fromServer(link, chunk) {
    if (link.http) {
      link.down.write(chunk);
      return;
    }
    if (!link.upgraded) {
      link.head = Buffer.concat([link.head, chunk]);
      const at = link.head.indexOf('\r\n\r\n');
      if (at < 0) return;
      if (!/^HTTP\/1\.1 101/.test(link.head.toString('latin1', 0, 16))) {
        link.http = true;
        link.down.write(link.head);
        link.head = null;
        return;
      }
      link.down.write(link.head.subarray(0, at + 4));
      link.upgraded = true;
      chunk = link.head.subarray(at + 4);
      link.head = null;
    }
    link.pending = link.pending.length ? Buffer.concat([link.pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const size = frameSize(link.pending, at);
      if (size === null || at + size > link.pending.length) break;
      at += size;
    }
    if (at > 0) link.down.write(link.pending.subarray(0, at));
    link.pending = link.pending.subarray(at);
  }

  /** Cuts every connection (or those of `client`) as a network failure would: no close frame. */
  cut(client = null) {
    let n = 0;
    for (const link of [...this.links]) {
      if (client !== null && link.client !== client) continue;
      link.down.resetAndDestroy();
      link.up.destroy();
      this.links.delete(link);
      n += 1;
    }
    return n;
  }

  /** Sends `text` as a WebSocket text frame to one upgraded link of `client`. */
  inject(client, text) {
    const link = [...this.links].find((l) => l.client === client && l.upgraded);
    if (!link) return false;
    link.down.write(textFrame(text));
    return true;
  }
}

/** Length of the WebSocket frame starting at `at`, or null if its header is incomplete. */
function frameSize(buf, at) {
  if (buf.length - at < 2) return null;
  const b1 = buf[at + 1];
  let len = b1 & 0x7f;
  let head = 2;
  if (len === 126) {
    if (buf.length - at < 4) return null;
    len = buf.readUInt16BE(at + 2);
    head = 4;
  } else if (len === 127) {
    if (buf.length - at < 10) return null;
    len = Number(buf.readBigUInt64BE(at + 2));
    head = 10;
  }
  if (b1 & 0x80) head += 4;
  return head + len;
}

/** An unmasked (server-to-client) WebSocket text frame. */
function textFrame(text) {
  const body = Buffer.from(text);
  let head;
  if (body.length < 126) head = Buffer.from([0x81, body.length]);
  else if (body.length < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x81;
    head[1] = 126;
    head.writeUInt16BE(body.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x81;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(body.length), 2);
  }
  return Buffer.concat([head, body]);
}

const proxy = new Proxy(serverPort);
const proxyPort = await proxy.listen();
const proxyUrl = `http://127.0.0.1:${proxyPort}`;

// ---------------------------------------------------------------- raw clients (faults towards the server)

/** A Socket.IO client straight to the server (not through the proxy), joined as `user`. */
function rawClient(user) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serverPort}/socket.io/?EIO=4&transport=websocket`);
    const timer = setTimeout(() => fail(new Error('raw client: no join within 5 s')), 5000);
    const inbox = [];
    ws.on('message', (data) => {
      const text = String(data);
      if (text === '2') return ws.send('3');
      if (text.startsWith('0')) return ws.send(`40${JSON.stringify({ token: token(user, 'player', 600) })}`);
      if (text.startsWith('40')) {
        clearTimeout(timer);
        ok({ ws, inbox });
        return;
      }
      inbox.push(text);
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
  });
}

/** Waits until `ws` closes (true) or `ms` pass (false). */
const closedWithin = (ws, ms) =>
  new Promise((ok) => {
    if (ws.readyState === WebSocket.CLOSED) return ok(true);
    const t = setTimeout(() => ok(false), ms);
    ws.on('close', () => {
      clearTimeout(t);
      ok(true);
    });
  });

// ---------------------------------------------------------------- the browsers

const site = await serveStatic(REPO_ROOT);
const browser = await launchChromium();
const pages = [];
const perPage = RUN.clients / RUN.pages;
for (let p = 0; p < RUN.pages; p++) {
  const page = await newPage(browser);
  // A trap in the wasm or an uncaught error would leave requests hanging
  // with no other trace: say it.
  page.on('pageerror', (e) => log(`page ${p}: uncaught ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket|Failed to load|ERR_/.test(m.text())) log(`page ${p}: console: ${m.text()}`); });
  await page.exposeFunction('mintToken', (index) => mintFor(index));
  await page.goto(`${site.url}/tests/soak/page.html`);
  await page.waitForFunction(() => window.soakReady === true, null, { timeout: 30_000 });
  await page.evaluate((cfg) => window.startClients(cfg), {
    url: proxyUrl, first: p * perPage, count: perPage, requestTimeout: REQUEST_TIMEOUT_MS, world: WORLD,
  });
  page.cdp = await page.context().newCDPSession(page);
  pages.push(page);
}
log(`${RUN.clients} clients joined through the proxy (${RUN.pages} Chromium pages)`);

/** JS heap (after a full GC) and wasm memory of every page, in bytes. */
async function clientMemory() {
  let heap = 0;
  let wasm = 0;
  for (const page of pages) {
    await page.cdp.send('HeapProfiler.collectGarbage');
    heap += (await page.cdp.send('Runtime.getHeapUsage')).usedSize;
    wasm += await page.evaluate(() => window.wasmMemory());
  }
  return { heap, wasm };
}

// ---------------------------------------------------------------- the faults

const SIGSTOP_MS = PING_INTERVAL_MS + PING_TIMEOUT_MS + 1_500;
const faultLog = {};
const faultNotes = {};
const note = (kind, what) => {
  faultNotes[kind] ??= {};
  faultNotes[kind][what] = (faultNotes[kind][what] ?? 0) + 1;
};
const randomClient = () => pick(RUN.clients);
let burstRequests = 0;

const FAULTS = {
  /** kill -9, then start it again on the same port. */
  async kill9() {
    await harvestMetrics();
    server.killedOnPurpose = true;
    server.kill('SIGKILL');
    await sleep(300 + pick(700));
    injectedRestarts += 1;
    await startServer();
  },
  /** SIGSTOP for longer than the ping interval + timeout, then SIGCONT. */
  async sigstop() {
    process.kill(server.pid, 'SIGSTOP');
    await sleep(SIGSTOP_MS);
    process.kill(server.pid, 'SIGCONT');
  },
  /** Every browser connection cut without a close frame (TCP reset). */
  async dropTcp() {
    note('dropTcp', `connections cut`);
    proxy.cut();
  },
  /** A frame that is not Socket.IO, slipped into one client's stream. */
  async malformedToClient() {
    note('malformedToClient', proxy.inject(randomClient(), '42["broken",{') ? 'injected' : 'client offline');
  },
  /** A frame past the client's limit (1,000,000 bytes), slipped into one client's stream. */
  async oversizeToClient() {
    const text = `42["typing_status",{"pad":"${'x'.repeat(1_100_000)}"}]`;
    note('oversizeToClient', proxy.inject(randomClient(), text) ? 'injected' : 'client offline');
  },
  /** Malformed frames from a raw client: the server must drop that connection and nothing else. */
  async malformedToServer() {
    const { ws } = await rawClient(`soak-raw-${pick(1000)}`);
    ws.send('42["query",{"content":');
    note('malformedToServer', (await closedWithin(ws, 3000)) ? 'server closed the connection' : 'connection left open');
    ws.terminate();
  },
  /** An event over --max-payload-bytes (refused, link kept), then a frame over the hard limit (link dropped). */
  async oversizeToServer() {
    const { ws, inbox } = await rawClient(`soak-raw-${pick(1000)}`);
    ws.send(`421${JSON.stringify(['query', { content: 'x'.repeat(100_000), request_id: 'big' }])}`);
    await sleep(300);
    const refused = inbox.some((t) => t.includes('PAYLOAD_TOO_LARGE'));
    note('oversizeToServer', refused && ws.readyState === WebSocket.OPEN ? 'event refused, link kept' : 'event not refused');
    ws.send(`42${JSON.stringify(['query', { content: 'x'.repeat(2_000_000) }])}`);
    note('oversizeToServer', (await closedWithin(ws, 3000)) ? 'frame over the hard limit: link dropped' : 'frame over the hard limit: link kept');
    ws.terminate();
  },
  /** One client's link cut; it comes back with a token that expires a second later, mid-traffic. */
  async tokenExpiry() {
    const client = randomClient();
    shortLived.add(client);
    proxy.cut(client);
    await sleep(2_500);
  },
  /** One client bursts 40 queries at once: over the per-connection burst of 20. */
  async rateLimit() {
    const client = randomClient();
    const page = pages[Math.floor(client / perPage)];
    burstRequests += 40;
    await page.evaluate(([i, n]) => window.burst(i, n), [client, 40]);
  },
  /** Redis stalls (SIGSTOP) past --redis-timeout-ms: state writes answer UNAVAILABLE meanwhile. */
  async redisStall() {
    process.kill(redis.pid, 'SIGSTOP');
    await sleep(REDIS_TIMEOUT_MS * 2 + 500);
    process.kill(redis.pid, 'SIGCONT');
  },
};
const KINDS = Object.keys(FAULTS);

/** The faults in order: every kind once per round, the round shuffled. */
function schedule(count) {
  const out = [];
  while (out.length < count) {
    const round = [...KINDS];
    for (let i = round.length - 1; i > 0; i--) {
      const j = pick(i + 1);
      [round[i], round[j]] = [round[j], round[i]];
    }
    out.push(...round);
  }
  return out.slice(0, count);
}

// ---------------------------------------------------------------- the run

const hardDeadline = setTimeout(() => {
  console.log(`soak: hard deadline of ${HARD_DEADLINE_MS / 1000} s passed; stopping everything`);
  stopAll();
  process.exit(2);
}, HARD_DEADLINE_MS);

await sleep(2_000);
const memBefore = { client: await clientMemory(), serverRssKiB: rssKiB(server.pid), redisRssKiB: rssKiB(redis.pid) };
log(`before: client heap ${(memBefore.client.heap / 1048576).toFixed(1)} MiB, wasm ${(memBefore.client.wasm / 1048576).toFixed(1)} MiB; server RSS ${(memBefore.serverRssKiB / 1024).toFixed(1)} MiB`);

// The budget: every request counts, the bursts included.
const burstBudget = schedule(RUN.faults).filter((k) => k === 'rateLimit').length * 40;
const loadPerClient = Math.floor((RUN.requests - burstBudget) / RUN.clients);
const loadRemainder = RUN.requests - burstBudget - loadPerClient * RUN.clients;
const intervalMs = Math.floor(RUN.loadMs / loadPerClient);
log(`load: ${loadPerClient} requests per client every ${intervalMs} ms (+ ${burstBudget} in bursts, + ${loadRemainder} at the end); ${RUN.faults} faults`);

const load = Promise.all(pages.map((page) => page.evaluate((cfg) => window.runLoad(cfg), { perClient: loadPerClient, intervalMs })));
const faults = schedule(RUN.faults);
const gap = Math.floor((RUN.loadMs - 2_000) / RUN.faults);
let faultsDone = 0;
for (const kind of faults) {
  const t0 = Date.now();
  try {
    await FAULTS[kind]();
    faultLog[kind] = (faultLog[kind] ?? 0) + 1;
  } catch (e) {
    note(kind, `failed: ${e.message}`);
    faultLog[kind] = (faultLog[kind] ?? 0) + 1;
  }
  faultsDone += 1;
  if (faultsDone % Math.max(1, Math.floor(RUN.faults / 10)) === 0) log(`${faultsDone}/${RUN.faults} faults`);
  await sleep(Math.max(0, gap - (Date.now() - t0)));
}
await load;
// Whatever the integer division left over, so the total is exactly RUN.requests.
if (loadRemainder > 0) await pages[0].evaluate(([i, n]) => window.burst(i, n), [0, loadRemainder]);
log('every request issued; draining');

// ---------------------------------------------------------------- drain and count

const tally = async () => {
  const all = { issued: 0, settled: 0, unsettled: 0, twice: 0, doubleSettles: 0, outcomes: {}, reported: {}, states: [] };
  for (const page of pages) {
    const t = await page.evaluate(() => window.tally());
    all.issued += t.issued;
    all.settled += t.settled;
    all.unsettled += t.unsettled;
    all.twice += t.twice;
    all.doubleSettles += t.doubleSettles;
    for (const [k, v] of Object.entries(t.outcomes)) all.outcomes[k] = (all.outcomes[k] ?? 0) + v;
    for (const [k, v] of Object.entries(t.reported)) all.reported[k] = (all.reported[k] ?? 0) + v;
    all.states.push(...t.states);
  }
  return all;
};
const drainUntil = Date.now() + DRAIN_MS;
let final = await tally();
while (final.unsettled > 0 && Date.now() < drainUntil) {
  await sleep(250);
  final = await tally();
}
log(`drained: ${final.settled} settled, ${final.unsettled} not; client states ${JSON.stringify(countBy(final.states))}`);

function countBy(list) {
  const out = {};
  for (const x of list) out[x] = (out[x] ?? 0) + 1;
  return out;
}

// Acknowledged writes: all present in the documents read back, versions rising.
const acked = (await Promise.all(pages.map((p) => p.evaluate(() => window.ackedWrites())))).flat();
const docs = await pages[0].evaluate((cfg) => window.readBack(cfg), { url: proxyUrl, scopes: acked.map((a) => a.scope) });
let lost = 0;
let ackedCount = 0;
let nonMonotonic = 0;
for (const { scope, acked: writes } of acked) {
  let last = -1;
  for (const w of writes) {
    ackedCount += 1;
    if (docs[scope]?.[w.key] !== w.value) lost += 1;
    if (!(w.version > last)) nonMonotonic += 1;
    last = w.version;
  }
}

const memAfter = { client: await clientMemory(), serverRssKiB: rssKiB(server.pid), redisRssKiB: rssKiB(redis.pid) };
await harvestMetrics();

// ---------------------------------------------------------------- report

const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
const kib = (k) => `${(k / 1024).toFixed(1)} MiB`;
const outcomes = final.outcomes;
const ok = outcomes.ok ?? 0;
const timeouts = outcomes.TIMEOUT ?? 0;
const disconnected = outcomes.DISCONNECTED ?? 0;
const other = final.settled - ok - timeouts - disconnected;
const otherCodes = Object.entries(outcomes).filter(([k]) => !['ok', 'TIMEOUT', 'DISCONNECTED'].includes(k));
const doubles = final.doubleSettles + final.twice;

console.log('');
console.log(`run: ${QUICK ? 'quick' : 'full'}, seed ${seedArg >= 0 ? args[seedArg + 1] : 16}, ${RUN.clients} clients in ${RUN.pages} Chromium pages, ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`requests issued: ${final.issued} (load ${loadPerClient * RUN.clients}, bursts ${burstRequests}, remainder ${loadRemainder})`);
console.log(`settled: ${final.settled}: ok ${ok}, TIMEOUT ${timeouts}, DISCONNECTED ${disconnected}, other ${other}${otherCodes.length ? ` (${otherCodes.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
console.log(`hung (not settled ${DRAIN_MS / 1000} s after the last request): ${final.unsettled}`);
console.log(`settled twice: ${doubles} (second resolve/reject calls seen by the Promise wrapper: ${final.doubleSettles}; requests booked twice: ${final.twice})`);
console.log(`acknowledged state updates: ${ackedCount}, lost ${lost}, versions out of order ${nonMonotonic}`);
console.log(`faults: ${faultsDone}: ${Object.entries(faultLog).map(([k, v]) => `${k} ${v}`).join(', ')}`);
for (const [kind, notes] of Object.entries(faultNotes)) {
  console.log(`  ${kind}: ${Object.entries(notes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
console.log(`client reports (onError): ${Object.entries(final.reported).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
console.log(`server reports (/metrics, all processes): errors ${Object.entries(serverTotals.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; rate-limited events ${serverTotals.rateLimited}; connections accepted ${serverTotals.connectionsTotal}`);
console.log(`server restarts: ${injectedRestarts} injected, ${unexpectedExits} unexpected`);
console.log(`memory: clients JS heap ${mib(memBefore.client.heap)} -> ${mib(memAfter.client.heap)}, wasm ${mib(memBefore.client.wasm)} -> ${mib(memAfter.client.wasm)}; server RSS ${kib(memBefore.serverRssKiB)} -> ${kib(memAfter.serverRssKiB)} (the last process, after ${injectedRestarts} restarts); redis RSS ${kib(memBefore.redisRssKiB)} -> ${kib(memAfter.redisRssKiB)}`);

clearTimeout(hardDeadline);
for (const page of pages) await page.evaluate(() => window.closeAll()).catch(() => {});
await browser.close();
await site.close();
proxy.server.close();
proxy.cut();
stopAll();

const failed = final.unsettled > 0 || doubles > 0 || lost > 0 || unexpectedExits > 0 || nonMonotonic > 0 || final.issued !== RUN.requests;
if (final.issued !== RUN.requests) console.log(`soak: ${final.issued} requests were issued instead of ${RUN.requests}`);
console.log(`soak: ${final.issued} requests, ${faultsDone} faults, hung ${final.unsettled}, double-settled ${doubles}, lost ${lost}`);
process.exit(failed ? 1 : 0);

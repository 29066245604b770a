// `shareAcrossTabs`: pages of one browser context (one origin) load the
// packed package and share one connection through its SharedWorker. The
// server is the official Node socket.io server, started here so that the
// test can count its Engine.IO connections (`io.engine` 'connection'
// events), push events to every socket, and ask questions (emitWithAck).
//
// The last test does the same with the app bundled by `vite build`, which
// must find and build the worker itself.
//
// FRINNY_SHARE_FROM=<checkout> serves the package from a checkout (after
// `cargo xtask build`) instead of the packed tarball, for working on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Server } from 'socket.io';
import { installedPackage, REPO_ROOT } from './support/package.mjs';
import { serveStatic } from './support/static_server.mjs';
import { launchChromium } from './support/browser.mjs';

let io;
let http;
let origin;
/** Engine.IO connections the server has seen since the last `reset()`. */
let engineConnections = 0;
/** The CONNECT auth payload of every socket, in order. */
const auths = [];
let browser;
let files;

const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>share</title>
<script type="importmap">${JSON.stringify({ imports: { 'frinny-agent': './node_modules/frinny-agent/js/index.js' } })}</script>
<script type="module">
  import { ready, AgentManager, SharedAgentManager } from 'frinny-agent';
  await ready();
  window.frinny = { AgentManager, SharedAgentManager };
</script>`;

/** A directory with the page and the package under node_modules/frinny-agent. */
function site() {
  if (process.env.FRINNY_SHARE_FROM) {
    const dir = mkdtempSync(join(tmpdir(), 'frinny-share-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(resolve(process.env.FRINNY_SHARE_FROM), join(dir, 'node_modules', 'frinny-agent'));
    return dir;
  }
  return installedPackage().dir;
}

before(async () => {
  http = createServer();
  io = new Server(http, { cors: { origin: true } });
  io.engine.on('connection', () => engineConnections++);
  io.on('connection', (socket) => {
    auths.push(socket.handshake.auth);
    socket.on('echo', (payload, ack) => ack?.({ echoed: payload.text, by: socket.id }));
    socket.on('slow', (payload, ack) => setTimeout(() => ack?.({ late: true }), payload.ms));
    socket.on('bytes', (payload, ack) => ack?.({ length: payload.data.length, data: payload.data }));
    socket.on('query', (payload, ack) => ack?.({ answer: payload.content }));
  });
  await new Promise((done) => http.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${http.address().port}`;
  const dir = site();
  writeFileSync(join(dir, 'index.html'), PAGE);
  files = await serveStatic(dir);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await files?.close();
  io?.close();
});

/** A fresh browser context (its own SharedWorkers) and `n` pages of it with the package loaded. */
async function pages(n, { withoutSharedWorker = false, from = files } = {}) {
  const context = await browser.newContext();
  if (withoutSharedWorker) await context.addInitScript(() => { delete window.SharedWorker; });
  const list = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    page.problems = [];
    page.on('pageerror', (e) => page.problems.push(`pageerror: ${e}`));
    page.on('console', (m) => {
      if (m.type() === 'error') page.problems.push(`console.error: ${m.text()}`);
    });
    await page.goto(`${from.url}/index.html`);
    await page.waitForFunction(() => window.frinny !== undefined, null, { timeout: 30_000 });
    list.push(page);
  }
  return { context, pages: list };
}

/** On `page`: a manager sharing across tabs, connected, recording what it hears in `window.heard`. */
function start(page, options = {}) {
  return page.evaluate(async ({ url, options }) => {
    const { AgentManager, SharedAgentManager } = window.frinny;
    const agent = new AgentManager({ url, shareAcrossTabs: true, ...options });
    window.agent = agent;
    window.heard = { news: [], all: [], states: [], errors: [], questions: 0 };
    agent.subscribe('news', (p) => window.heard.news.push(p.n));
    agent.subscribeAll('ne*', (name, p) => window.heard.all.push(`${name}:${p.n}`));
    agent.subscribe('question', (q, ack) => {
      window.heard.questions++;
      ack?.({ from: document.title, q: q.q });
    });
    agent.onStateChange((s) => window.heard.states.push(s));
    agent.onError((e) => window.heard.errors.push(`${e.code}: ${e.message}`));
    await agent.connect();
    return {
      shared: agent instanceof SharedAgentManager,
      isAgentManager: agent instanceof AgentManager,
      state: agent.state,
      transport: agent.transport,
    };
  }, { url: origin, options });
}

/**
 * The package's worker script with a heartbeat of `ms` (`sharedWorkerUrl`):
 * a quick one drops a silent page sooner and refreshes a tab's `metrics()`
 * (each pong carries them) within a test.
 */
function workerWithHeartbeat(ms) {
  return `${files.url}/node_modules/frinny-agent/js/share/worker.js?heartbeatMs=${ms}`;
}

/** A request from `page`, counting how many times it settles there. */
function requestFrom(page, text) {
  return page.evaluate(async (text) => {
    let settled = 0;
    const reply = await window.agent.request('echo', { text }).then((r) => { settled++; return r; });
    await new Promise((r) => setTimeout(r, 200));
    return { reply, settled, pending: window.agent.pendingCount };
  }, text);
}

async function until(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const heard = (page) => page.evaluate(() => window.heard);

test('two pages share one Engine.IO connection; events reach both; each request settles once on its own page', { timeout: 120_000 }, async () => {
  engineConnections = 0;
  const { context, pages: [a, b] } = await pages(2);
  try {
    await a.evaluate(() => { document.title = 'a'; });
    await b.evaluate(() => { document.title = 'b'; });
    const startedA = await start(a);
    const startedB = await start(b);
    for (const s of [startedA, startedB]) {
      assert.deepEqual({ shared: s.shared, isAgentManager: s.isAgentManager, state: s.state }, { shared: true, isAgentManager: true, state: 'connected' });
    }
    assert.equal(engineConnections, 1, 'the server saw one Engine.IO connection for two pages');
    assert.equal(io.engine.clientsCount, 1);

    io.emit('news', { n: 1 });
    await until(async () => (await heard(a)).news.length === 1 && (await heard(b)).news.length === 1, 'news on both pages');
    assert.deepEqual((await heard(a)).all, ['news:1'], 'subscribeAll with a pattern heard it');
    assert.deepEqual((await heard(b)).all, ['news:1']);

    const [fromA, fromB] = await Promise.all([requestFrom(a, 'from a'), requestFrom(b, 'from b')]);
    assert.equal(fromA.reply.echoed, 'from a');
    assert.equal(fromB.reply.echoed, 'from b');
    assert.deepEqual([fromA.settled, fromB.settled, fromA.pending, fromB.pending], [1, 1, 0, 0]);

    // `debug` logs the shared connection's frames in this page's console,
    // in the same groups a local manager logs.
    const logged = await a.evaluate(async () => {
      const titles = [];
      const original = console.groupCollapsed;
      console.groupCollapsed = (...args) => titles.push(args.join(' '));
      try {
        window.agent.debug = true;
        await window.agent.request('echo', { text: 'logged' });
        window.agent.debug = false;
        await window.agent.request('echo', { text: 'not logged' });
      } finally {
        console.groupCollapsed = original;
      }
      return titles;
    });
    assert.ok(logged.some((t) => /^frinny-agent ⇡ echo \(\d+ B\)$/.test(t)), `the request was logged: ${JSON.stringify(logged)}`);
    assert.ok(logged.some((t) => t.startsWith('frinny-agent ⇣ ')), `its answer was logged: ${JSON.stringify(logged)}`);
    assert.equal(logged.filter((t) => t.includes('echo')).length, 1, 'nothing after debug = false');

    // Binary payloads cross the port and the wire both ways.
    const bytes = await b.evaluate(async () => {
      const reply = await window.agent.request('bytes', { data: new Uint8Array([1, 2, 3, 250]).buffer });
      return { length: reply.length, isBuffer: reply.data instanceof ArrayBuffer, back: [...new Uint8Array(reply.data)] };
    });
    assert.deepEqual(bytes, { length: 4, isBuffer: true, back: [1, 2, 3, 250] });

    // The Frinny helpers are requests of the events the wasm class sends.
    const helpers = await a.evaluate(async () => ({
      query: await window.agent.sendQuery({ content: 'hp?' }),
      refused: await window.agent.defineEvents('not a list').then(() => 'resolved', (e) => e.code),
    }));
    assert.deepEqual(helpers, { query: { answer: 'hp?' }, refused: 'INVALID_PAYLOAD' });

    // The server asks; both pages' subscribers get an ack, the first answer counts.
    const answers = await io.timeout(5000).emitWithAck('question', { q: 'ready?' });
    assert.equal(answers.length, 1, 'one socket answered');
    assert.ok(['a', 'b'].includes(answers[0].from), `answered by a page: ${JSON.stringify(answers[0])}`);
    assert.equal((await heard(a)).questions, 1);
    assert.equal((await heard(b)).questions, 1);

    // An error keeps its code across the port.
    const timeout = await a.evaluate(() => window.agent.request('slow', { ms: 2000 }, { timeout: 100 }).then(() => 'resolved', (e) => ({ code: e.code, isError: e instanceof Error })));
    assert.deepEqual(timeout, { code: 'TIMEOUT', isError: true });
    assert.equal(engineConnections, 1);
    assert.deepEqual([...a.problems, ...b.problems], []);
  } finally {
    await context.close();
  }
});

test('the page that started the worker closes: the other keeps working on the same connection', { timeout: 120_000 }, async () => {
  engineConnections = 0;
  const { context, pages: [first, second] } = await pages(2);
  try {
    // The worker from another URL (`sharedWorkerUrl`), with a quick
    // heartbeat so that metrics() is fresh within the test.
    const sharedWorkerUrl = workerWithHeartbeat(200);
    await start(first, { sharedWorkerUrl });
    await start(second, { sharedWorkerUrl: new URL(sharedWorkerUrl) });
    assert.equal(engineConnections, 1);
    // A request of the closing page that is still in flight must not leak in the worker.
    await first.evaluate(() => { window.agent.request('slow', { ms: 1500 }).catch(() => {}); });
    await first.close();
    io.emit('news', { n: 2 });
    await until(async () => (await heard(second)).news.includes(2), 'news after the first page closed');
    const after = await requestFrom(second, 'still here');
    assert.equal(after.reply.echoed, 'still here');
    assert.equal(after.settled, 1);
    await new Promise((r) => setTimeout(r, 1900));
    const metrics = await second.evaluate(() => window.agent.metrics());
    assert.equal(metrics.pendingRequests, 0);
    assert.equal(metrics.share.tabs, 1, 'the worker let the closed page go');
    assert.equal(metrics.share.resultsDropped, 1, "the closed page's request was aborted and its outcome dropped");
    assert.equal(metrics.connects, 1);
    assert.equal(engineConnections, 1, 'no reconnect: the server still saw one connection');
    assert.equal(io.engine.clientsCount, 1);
    assert.equal((await second.evaluate(() => window.agent.state)), 'connected');
    assert.deepEqual(second.problems, []);
  } finally {
    await context.close();
  }
});

test('a page that falls silent is dropped with its requests, and joins again when it wakes', { timeout: 120_000 }, async () => {
  engineConnections = 0;
  const { context, pages: [a, b] } = await pages(2);
  try {
    // Heartbeats every 200 ms: a port silent 2.4 s is dropped.
    const sharedWorkerUrl = workerWithHeartbeat(200);
    await start(a, { sharedWorkerUrl });
    await start(b, { sharedWorkerUrl });
    await a.evaluate(() => {
      window.slow = window.agent.request('slow', { ms: 6000 }).then(() => 'answered', (e) => e.code);
    });
    // A page whose main thread is busy runs no timer and reads no message, as a hung tab.
    const hung = a.evaluate(() => {
      const end = Date.now() + 4500;
      while (Date.now() < end);
    });
    await until(async () => (await b.evaluate(() => window.agent.metrics().share)).portsDropped === 1, 'the silent page dropped', 10_000);
    assert.equal((await b.evaluate(() => window.agent.metrics().share)).tabs, 1);
    io.emit('news', { n: 9 });
    await until(async () => (await heard(b)).news.includes(9), 'news on b while a hangs');
    await hung;
    assert.equal(await a.evaluate(() => window.slow), 'DISCONNECTED', "the dropped page's request settled, once, as DISCONNECTED");
    await until(async () => (await a.evaluate(() => window.agent.state)) === 'connected', 'a joined again');
    io.emit('news', { n: 10 });
    await until(async () => (await heard(a)).news.includes(10), 'news on a after it joined again');
    assert.deepEqual((await requestFrom(a, 'awake')).reply.echoed, 'awake');
    await until(async () => (await b.evaluate(() => window.agent.metrics().share)).tabs === 2, 'two tabs again');
    assert.equal(engineConnections, 1, 'the connection outlived it all');
    assert.deepEqual([...a.problems, ...b.problems], []);
  } finally {
    await context.close();
  }
});

test('a page put in the back/forward cache leaves, and joins again when it is shown', { timeout: 120_000 }, async () => {
  engineConnections = 0;
  const { context, pages: [a, b] } = await pages(2);
  try {
    // Heartbeats every second, so b's metrics() tell of the worker.
    const sharedWorkerUrl = workerWithHeartbeat(1000);
    await start(a, { sharedWorkerUrl });
    await start(b, { sharedWorkerUrl });
    const share = () => b.evaluate(() => window.agent.metrics().share);
    await until(async () => (await share()).tabs === 2, 'two tabs');
    // What the browser fires when it keeps a page for back/forward
    // navigation: the tab says goodbye, and its requests settle.
    const left = await a.evaluate(async () => {
      const pending = window.agent.request('slow', { ms: 5000 }).then(() => 'answered', (e) => e.code);
      window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
      return { settled: await pending, state: window.agent.state };
    });
    assert.deepEqual(left, { settled: 'DISCONNECTED', state: 'disconnected' });
    await until(async () => (await share()).tabs === 1, 'the worker let the hidden page go');
    assert.equal((await share()).portsDropped, 0, 'a goodbye, not a drop');
    // Shown again from the cache: the tab joins with its subscriptions.
    await a.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
    await until(async () => (await a.evaluate(() => window.agent.state)) === 'connected', 'a joined again');
    io.emit('news', { n: 21 });
    await until(async () => (await heard(a)).news.includes(21), 'news on a after it came back');
    assert.equal((await requestFrom(a, 'back')).reply.echoed, 'back');
    assert.equal(engineConnections, 1, 'the connection outlived it');
    assert.deepEqual([...a.problems, ...b.problems], []);
  } finally {
    await context.close();
  }
});

test("one page's subscriptions and unsubscriptions do not touch the other's", { timeout: 120_000 }, async () => {
  const { context, pages: [a, b] } = await pages(2);
  try {
    await start(a);
    await start(b);
    await a.evaluate(() => {
      window.tick = [];
      window.onTick = (p) => window.tick.push(p.n);
      window.agent.subscribe('tick', window.onTick);
    });
    await b.evaluate(() => {
      window.tick = [];
      window.agent.subscribe('tick', (p) => window.tick.push(p.n));
      window.agent.once('tick', (p) => window.tick.push(`once ${p.n}`));
    });
    io.emit('tick', { n: 1 });
    await until(async () => (await b.evaluate(() => window.tick.length)) === 2 && (await a.evaluate(() => window.tick.length)) === 1, 'tick 1');
    // a leaves the event (by name and callback) and drops its other subscriptions too.
    const removed = await a.evaluate(() => window.agent.unsubscribe('tick', window.onTick));
    assert.equal(removed, true);
    await a.evaluate(() => window.agent.unsubscribe('news', () => {}));
    io.emit('tick', { n: 2 });
    io.emit('news', { n: 3 });
    await until(async () => (await b.evaluate(() => window.tick)).includes(2) && (await heard(a)).news.includes(3), 'tick 2 on b, news on a');
    assert.deepEqual(await a.evaluate(() => window.tick), [1], 'a no longer hears tick');
    assert.deepEqual(await b.evaluate(() => window.tick), [1, 'once 1', 2], 'b kept its subscription; its once ran once');
    // b closes its manager: a keeps its own and the link.
    const held = await b.evaluate(() => { window.agent.close(); return { held: window.agent.heldCallbacks, state: window.agent.state }; });
    assert.deepEqual(held, { held: 0, state: 'closed' });
    io.emit('news', { n: 4 });
    await until(async () => (await heard(a)).news.includes(4), 'news on a after b closed');
    assert.equal(await a.evaluate(() => window.agent.subscriberCount), 3, "a's news, subscribeAll and question subscriptions");
    assert.deepEqual([...a.problems, ...b.problems], []);
  } finally {
    await context.close();
  }
});

test("one page's disconnect() leaves the others connected; auth as a function is asked of a page", { timeout: 120_000 }, async () => {
  engineConnections = 0;
  auths.length = 0;
  const { context, pages: [a, b] } = await pages(2);
  try {
    for (const [page, title] of [[a, 'a'], [b, 'b']]) {
      await page.evaluate((title) => {
        document.title = title;
        window.asked = 0;
        window.authFn = async () => {
          window.asked++;
          return { token: `token of ${document.title}` };
        };
      }, title);
    }
    await a.evaluate(async ({ url }) => {
      const agent = new window.frinny.AgentManager({ url, shareAcrossTabs: true, auth: window.authFn });
      window.agent = agent;
      window.news = [];
      agent.subscribe('news', (p) => window.news.push(p.n));
      await agent.connect();
    }, { url: origin });
    await b.evaluate(async ({ url }) => {
      const agent = new window.frinny.AgentManager({ url, shareAcrossTabs: true, auth: window.authFn });
      window.agent = agent;
      window.news = [];
      agent.subscribe('news', (p) => window.news.push(p.n));
      await agent.connect();
    }, { url: origin });
    assert.equal(engineConnections, 1);
    assert.deepEqual(auths, [{ token: 'token of a' }], "the worker's CONNECT carried the first page's answer");
    assert.deepEqual([await a.evaluate(() => window.asked), await b.evaluate(() => window.asked)], [1, 0]);

    const after = await a.evaluate(() => {
      window.agent.disconnect();
      return window.agent.state;
    });
    assert.equal(after, 'disconnected');
    io.emit('news', { n: 7 });
    await until(async () => (await b.evaluate(() => window.news)).includes(7), 'news on b');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await a.evaluate(() => window.news), [], 'a, disconnected, hears nothing');
    assert.equal(await b.evaluate(() => window.agent.state), 'connected');
    assert.equal(io.engine.clientsCount, 1, 'the link stayed up for b');
    await a.evaluate(() => window.agent.connect());
    io.emit('news', { n: 8 });
    await until(async () => (await a.evaluate(() => window.news)).includes(8), 'news on a after it connected again');
    assert.equal(engineConnections, 1);
    assert.deepEqual([...a.problems, ...b.problems], []);
  } finally {
    await context.close();
  }
});

test('a worker script that does not load: calls reject with WORKER_FAILED and onError hears it', { timeout: 60_000 }, async () => {
  const { context, pages: [page] } = await pages(1);
  try {
    const got = await page.evaluate(async () => {
      const agent = new window.frinny.AgentManager({ url: 'http://127.0.0.1:9', shareAcrossTabs: true, sharedWorkerUrl: '/nowhere/worker.js' });
      const errors = [];
      agent.onError((e) => errors.push(e.code));
      const connected = await agent.connect().then(() => 'connected', (e) => e.code);
      const requested = await agent.request('echo', {}).then(() => 'answered', (e) => e.code);
      return { connected, requested, errors };
    });
    assert.deepEqual(got, { connected: 'WORKER_FAILED', requested: 'WORKER_FAILED', errors: ['WORKER_FAILED'] });
  } finally {
    await context.close();
  }
});

test('without SharedWorker, shareAcrossTabs still gives a working local manager', { timeout: 120_000 }, async () => {
  engineConnections = 0;
  const { context, pages: [a, b] } = await pages(2, { withoutSharedWorker: true });
  try {
    const started = await start(a);
    await start(b);
    assert.deepEqual({ shared: started.shared, isAgentManager: started.isAgentManager, state: started.state }, { shared: false, isAgentManager: true, state: 'connected' });
    assert.equal(engineConnections, 2, 'each page has its own connection');
    io.emit('news', { n: 5 });
    await until(async () => (await heard(a)).news.includes(5), 'news on the local manager');
    const reply = await requestFrom(a, 'local');
    assert.equal(reply.reply.echoed, 'local');
    assert.deepEqual([...a.problems, ...b.problems], []);
  } finally {
    await context.close();
  }
});

test('bundled by vite: the worker is built with the app, and two pages share one connection', { timeout: 180_000 }, async () => {
  const { dir } = installedPackage();
  writeFileSync(
    join(dir, 'app.js'),
    "import { ready, AgentManager, SharedAgentManager } from 'frinny-agent';\nawait ready();\nwindow.frinny = { AgentManager, SharedAgentManager };\n",
  );
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./app.js"></script>');
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 120_000,
  });
  const assets = readdirSync(join(dir, 'dist', 'assets'));
  assert.ok(assets.some((f) => /^worker-.*\.js$/.test(f)), `vite built the SharedWorker: ${assets.join(', ')}`);
  const bundled = await serveStatic(join(dir, 'dist'));
  engineConnections = 0;
  const { context, pages: [a, b] } = await pages(2, { from: bundled });
  try {
    const started = [await start(a), await start(b)];
    assert.deepEqual(started.map((s) => [s.shared, s.state]), [[true, 'connected'], [true, 'connected']]);
    assert.equal(engineConnections, 1);
    io.emit('news', { n: 6 });
    await until(async () => (await heard(a)).news.includes(6) && (await heard(b)).news.includes(6), 'news on both bundled pages');
    const [fromA, fromB] = await Promise.all([requestFrom(a, 'vite a'), requestFrom(b, 'vite b')]);
    assert.deepEqual([fromA.reply.echoed, fromA.settled, fromB.reply.echoed, fromB.settled], ['vite a', 1, 'vite b', 1]);
    assert.deepEqual([...a.problems, ...b.problems], []);
  } finally {
    await context.close();
    await bundled.close();
  }
});

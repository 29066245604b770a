// `frinny-agent/testing` from the installed tarball, as a module author's
// tests use it: the example of docs/testing.md (examples/testing/) copied
// into a fresh project that installed the package, its Node tests run with
// `node --test`, and its component tests run in headless Chromium from the
// files as they are (an import map), with no wasm and no server.
// Run by `node --test tests/e2e/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedPackage, REPO_ROOT } from './support/package.mjs';
import { serveStatic } from './support/static_server.mjs';
import { launchChromium, newPage } from './support/browser.mjs';

const EXAMPLE = join(REPO_ROOT, 'examples', 'testing');

let project;
let browser;
before(async () => {
  project = installedPackage();
  for (const file of ['ask-frinny.js', 'ask-frinny.test.mjs', 'components.test.js', 'index.html']) {
    cpSync(join(EXAMPLE, file), join(project.dir, file));
  }
  browser = await launchChromium();
}, { timeout: 900_000 });
after(async () => {
  await browser?.close();
});

test('the package exports ./testing with its types', () => {
  const manifest = JSON.parse(readFileSync(join(project.packageDir, 'package.json'), 'utf8'));
  assert.deepEqual(manifest.exports['./testing'], { types: './js/testing/index.d.ts', default: './js/testing/index.js' });
});

test("the example's Node tests pass against the installed package (node --test, no wasm)", { timeout: 60_000 }, () => {
  // Not as a child of this runner: NODE_TEST_CONTEXT would send its report to us instead of stdout.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const out = execFileSync(process.execPath, ['--test', 'ask-frinny.test.mjs'], { cwd: project.dir, encoding: 'utf8', env });
  assert.match(out, /# pass 4\b/);
  assert.match(out, /# fail 0\b/);
});

test("the example's component tests pass in Chromium: frinny-agent/testing drives the elements, no wasm is fetched", { timeout: 60_000 }, async () => {
  const files = await serveStatic(project.dir);
  const page = await newPage(browser);
  try {
    await page.goto(`${files.url}/index.html`);
    const results = await page.waitForFunction(() => window.testResults, null, { timeout: 30_000 }).then((h) => h.jsonValue());
    assert.deepEqual(results.filter((r) => !r.ok), [], 'every component test passed');
    assert.equal(results.length, 4);
    assert.ok(files.requests.includes('/node_modules/frinny-agent/js/testing/index.js'), 'the package entry was loaded');
    assert.ok(!files.requests.some((p) => p.endsWith('.wasm')), `no wasm: ${files.requests.join(', ')}`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await files.close();
  }
});

/** Runs in the page: the same calls on the real (wasm) AgentManager and on the test agent, and what each did. */
function sideBySide() {
  return (async () => {
    const { ready, AgentManager } = await import('frinny-agent');
    const { createTestAgent } = await import('frinny-agent/testing');
    await ready();
    const real = (options) => new AgentManager({ url: 'http://127.0.0.1:9', ...options });
    const fake = (options) => createTestAgent(options).agent;
    const outcome = async (fn) => {
      try {
        const value = await fn();
        return { ok: typeof value === 'object' && value !== null ? Object.keys(value).sort().join(',') : value === undefined ? 'undefined' : value };
      } catch (err) {
        return { code: err.code ?? String(err) };
      }
    };
    const badOptions = [
      { reconectionDelay: 10 }, { timeout: -1 }, { timeout: 1.5 }, { timeout: 'soon' }, { bufferSize: 'many' },
      { randomizationFactor: 2 }, { protocol: 'smoke' }, { wrapEvents: ['level_up'] }, { query: { u: { nested: 1 } } },
      { auth: 'token' }, { delay: 10, reconnectionDelay: 10 }, { namespace: 'a,b' }, { reconnection: 'yes' },
    ];
    const goodOptions = [
      {}, { timeout: null, delay: undefined }, { attempts: Infinity }, { protocol: 'json', wrapEvents: ['level_up'] },
      { auth: () => ({ token: 't' }) }, { query: { userId: 'u1', n: 1, b: true }, namespace: 'game' },
    ];
    const result = { options: [], calls: [] };
    for (const o of [...badOptions, ...goodOptions]) {
      result.options.push([JSON.stringify(o), await outcome(() => { real(o).free(); }), await outcome(() => { fake(o).close(); })]);
    }
    const calls = {
      'request with a string payload': (a) => a.request('x', 'text'),
      'request with an array payload': (a) => a.request('x', [1]),
      'request with an unknown option': (a) => a.request('x', {}, { retries: 1 }),
      'request with an ill-typed timeout': (a) => a.request('x', {}, { timeout: 'soon' }),
      'request with an aborted signal': (a) => { const c = new AbortController(); c.abort(); return a.request('x', {}, { signal: c.signal }); },
      'emit of a reserved name': (a) => a.emit('disconnect', {}),
      'emit with an ill-typed volatile': (a) => a.emit('x', {}, { volatile: 1 }),
      'updateState before syncState': (a) => a.updateState('world', { a: 1 }),
      'updateState with a non-object patch': (a) => a.updateState('world', 'text'),
      'replaceState with a null member': (a) => a.replaceState('world', { a: null }),
      'unsubscribe of nothing': (a) => a.unsubscribe('x', () => {}),
      'buffered request while disconnected': (a) => { const p = a.request('x', {}); const n = a.pendingCount; a.close(); return p.catch((e) => `${n} then ${e.code}`); },
    };
    for (const [what, fn] of Object.entries(calls)) {
      const r = real({ bufferSize: 5 });
      const f = fake({ bufferSize: 5 });
      result.calls.push([what, await outcome(() => fn(r)), await outcome(() => fn(f))]);
      r.close();
      f.close();
    }
    // Plain values, compared as they are.
    for (const [what, fn] of Object.entries({
      state: (a) => a.state,
      nextReconnectAt: (a) => String(a.nextReconnectAt),
      metricsKeys: (a) => Object.keys(a.metrics()).join(','),
      pendingCount: (a) => a.pendingCount,
      subscriberCount: (a) => a.subscriberCount,
      closedState: (a) => { a.close(); return `${a.state} ${a.heldCallbacks}`; },
    })) {
      result.calls.push([what, { value: fn(real({})) }, { value: fn(fake({})) }]);
    }
    for (const [what, fn] of Object.entries({
      'request after close': (a) => a.request('x', {}),
      'connect after close': (a) => a.connect(),
      'subscribe after close': (a) => a.subscribe('x', () => {}),
      'emit after close': (a) => a.emit('x', {}),
    })) {
      const r = real({});
      const f = fake({});
      r.close();
      f.close();
      result.calls.push([what, await outcome(() => fn(r)), await outcome(() => fn(f))]);
    }
    // The members of the class.
    const names = (proto) => Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor' && !n.startsWith('__')).sort();
    const realAgent = real({});
    const fakeAgent = fake({});
    result.missing = names(Object.getPrototypeOf(realAgent)).filter((n) => !(n in fakeAgent));
    realAgent.free();
    fakeAgent.close();
    return result;
  })();
}

test('the test agent answers like the real AgentManager: option validation, argument checks, states, metrics keys, members', { timeout: 60_000 }, async () => {
  writeFileSync(
    join(project.dir, 'parity.html'),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="importmap">${JSON.stringify({
      imports: {
        'frinny-agent': './node_modules/frinny-agent/js/index.js',
        'frinny-agent/testing': './node_modules/frinny-agent/js/testing/index.js',
      },
    })}</script><p>parity</p>`,
  );
  const files = await serveStatic(project.dir);
  const page = await newPage(browser);
  try {
    await page.goto(`${files.url}/parity.html`);
    const result = await page.evaluate(`(${sideBySide})()`);
    for (const [options, real, fake] of result.options) assert.deepEqual(fake, real, `new AgentManager(${options})`);
    for (const [what, real, fake] of result.calls) assert.deepEqual(fake, real, what);
    assert.deepEqual(result.missing, [], 'members of the real class the test agent lacks');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await files.close();
  }
});

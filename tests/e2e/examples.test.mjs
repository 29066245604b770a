// The examples of examples/, each built (where it builds) and loaded in
// headless Chromium from the installed tarball, against a real reference
// server (`frinny-server --dev`): each must really connect and get an event
// and a reply.
//   minimal-page/    one HTML file with an import map, served as it is
//   vite-app/        `vite build`, then the built files served
//   foundry-module/  the snippet as Foundry serves a module, on the fake
//                    Foundry runtime (support/fake_foundry.js)
// Run by `node --test tests/e2e/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedPackage, REPO_ROOT } from './support/package.mjs';
import { serveStatic } from './support/static_server.mjs';
import { launchChromium, newPage } from './support/browser.mjs';
import { startReferenceServer } from './support/reference_server.mjs';
import { waitFor, writeFoundryPage } from './support/foundry_servers.mjs';

const EXAMPLES = join(REPO_ROOT, 'examples');

let server;
let browser;
before(async () => {
  // Answers that take a moment, as a model's do: the typing indicator has something to show.
  server = await startReferenceServer({ delayMs: 150 });
  browser = await launchChromium();
}, { timeout: 900_000 });
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** POSTs an admin endpoint of the reference server. */
async function admin(path, body) {
  const res = await fetch(`${server.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
    body: JSON.stringify(body),
  });
  assert.ok(res.ok, `${path}: ${res.status} ${await res.text()}`);
}

/** Copies `names` of examples/`example` into `dir`. */
function copyExample(example, names, dir) {
  for (const name of names) cpSync(join(EXAMPLES, example, name), join(dir, name), { recursive: true });
}

test('examples/ holds no Rust target besides the catalogue generator', () => {
  const rust = readdirSync(EXAMPLES, { recursive: true }).map(String).filter((f) => f.endsWith('.rs'));
  assert.deepEqual(rust, ['event_types.rs'], 'cargo would build any other .rs (or */main.rs) as an example');
});

test('minimal-page: the HTML file as it is, with the installed package, connects, shows events and gets an answer', { timeout: 120_000 }, async () => {
  const { dir } = installedPackage();
  copyExample('minimal-page', ['index.html'], dir);
  const files = await serveStatic(dir);
  const page = await newPage(browser);
  try {
    await page.goto(`${files.url}/index.html?server=${encodeURIComponent(server.origin)}`);
    await page.waitForFunction(() => document.getElementById('state').textContent.startsWith('connected'), null, { timeout: 30_000 });
    await page.waitForSelector('#events li[data-event="connection_established"]', { timeout: 10_000 });
    await page.click('#ask button');
    await page.waitForFunction(() => document.getElementById('answer').textContent.length > 0, null, { timeout: 15_000 });
    const answer = await page.textContent('#answer');
    assert.match(answer, /What does Shield Block do\?/, `the demo responder's answer: ${answer}`);
    const events = await page.$$eval('#events li', (items) => items.map((li) => li.dataset.event));
    assert.ok(events.includes('typing_status'), `typing_status shown: ${events}`);
    assert.ok(events.includes('query_response'), `the reply event shown: ${events}`);
    assert.ok(files.requests.includes('/node_modules/frinny-agent/pkg/frinny_agent_bg.wasm'), 'the .wasm came from the installed package');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await files.close();
  }
});

test('vite-app: depends on the package, `vite build` emits the .wasm, and the built app connects, answers and shows a notification', { timeout: 240_000 }, async () => {
  const manifest = JSON.parse(readFileSync(join(EXAMPLES, 'vite-app', 'package.json'), 'utf8'));
  assert.ok(manifest.dependencies?.['frinny-agent'], 'the example depends on frinny-agent');
  assert.equal(manifest.scripts?.build, 'vite build');
  // The package from the tarball; vite from this repository (no registry needed).
  const { dir } = installedPackage();
  copyExample('vite-app', ['index.html', 'main.js', 'vite.config.js'], dir);
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 180_000,
  });
  const assets = readdirSync(join(dir, 'dist', 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `vite emitted the .wasm: ${assets.join(', ')}`);
  const files = await serveStatic(join(dir, 'dist'));
  const page = await newPage(browser);
  try {
    await page.goto(`${files.url}/index.html?server=${encodeURIComponent(server.origin)}`);
    await page.waitForFunction(() => document.getElementById('answer').textContent.length > 0, null, { timeout: 30_000 });
    assert.match(await page.textContent('#answer'), /What does Shield Block do\?/);
    assert.equal(await page.evaluate(() => document.querySelector('frinny-connection-status').shown), 'connected');
    await admin('/notify', { userId: 'vite-app', level: 'info', title: 'Table', message: 'Roll initiative!' });
    await page.waitForFunction(
      () => document.querySelector('frinny-notification-panel').shadowRoot.textContent.includes('Roll initiative!'),
      null,
      { timeout: 10_000 },
    );
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await files.close();
  }
});

test('foundry-module: the snippet, served as Foundry serves a module, connects through frinny-agent/foundry, shows notifications and answers /frinny', { timeout: 120_000 }, async () => {
  const { packageDir } = installedPackage();
  const root = mkdtempSync(join(tmpdir(), 'frinny-snippet-'));
  try {
    const moduleDir = join(root, 'modules', 'frinny-snippet');
    mkdirSync(join(moduleDir, 'lib', 'frinny-agent'), { recursive: true });
    copyExample('foundry-module', ['module.json', 'scripts'], moduleDir);
    for (const part of ['package.json', 'js', 'pkg']) {
      cpSync(join(packageDir, part), join(moduleDir, 'lib', 'frinny-agent', part), { recursive: true });
    }
    const manifest = JSON.parse(readFileSync(join(moduleDir, 'module.json'), 'utf8'));
    assert.equal(manifest.id, 'frinny-snippet');
    for (const script of manifest.esmodules) assert.ok(existsSync(join(moduleDir, script)), `${script} exists`);

    const pagePath = await writeFoundryPage(root);
    const site = await serveStatic(root);
    const page = await newPage(browser);
    try {
      await page.goto(`${site.url}${pagePath}`);
      await page.evaluate(() => {
        FakeFoundry.reset({ clearHooks: true });
        game.modules.set('frinny-snippet', { id: 'frinny-snippet', active: true });
        Hooks.on('frinnySnippet.ready', () => {
          window.snippetReady = true;
        });
      });
      await page.addScriptTag({ url: '/modules/frinny-snippet/scripts/main.js', type: 'module' });
      await page.evaluate(async (url) => {
        Hooks.callAll('init');
        await game.settings.set('frinny-snippet', 'backendUrl', url);
        Hooks.callAll('ready');
      }, server.url);
      await waitFor(() => page.evaluate(() => window.snippetReady === true), { what: 'the snippet ready', ms: 20_000 });
      assert.equal(await page.evaluate(() => game.modules.get('frinny-snippet').api.manager.isConnected), true);

      // A server notification becomes a Foundry notification.
      await admin('/notify', { userId: 'user1', level: 'info', title: 'Table', message: 'Roll initiative!' });
      await waitFor(() => page.evaluate(() => ui.notifications.log.some((n) => n.message === 'Frinny: Roll initiative!')), { what: 'the notification' });

      // `/frinny <question>` in the chat: not posted, answered in a whisper, escaped.
      const posted = await page.evaluate(() => Hooks.call('chatMessage', null, '/frinny Is <b>this</b> bold?', {}));
      assert.equal(posted, false, 'the command is not posted as a chat message');
      const reply = await waitFor(
        () => page.evaluate(() => game.messages.find((m) => m.speaker?.alias === 'Frinny' && m.whisper.includes('user1'))?.content),
        { what: "Frinny's whispered answer", ms: 15_000 },
      );
      assert.match(reply, /Is &lt;b&gt;this&lt;\/b&gt; bold\?/, `the answer, escaped: ${reply}`);
      assert.deepEqual(page.problems, []);
    } finally {
      await page.close();
      await site.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

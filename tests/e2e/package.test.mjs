// The npm package as a Foundry module author meets it: `cargo xtask pack`'s
// tarball installed into a fresh project, then loaded in headless Chromium
// (1) unbundled, as Foundry serves module files (import map, relative
// paths, and a .wasm served from elsewhere through `ready(url)`), and (2)
// bundled by `vite build`. Each page connects to a real reference server,
// subscribes, sends a request and reads EventTypes (support/consumer_app.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { installedPackage, REPO_ROOT } from './support/package.mjs';
import { serveStatic } from './support/static_server.mjs';
import { launchChromium, newPage } from './support/browser.mjs';
import { startReferenceServer } from './support/reference_server.mjs';

const APP = readFileSync(new URL('./support/consumer_app.js', import.meta.url), 'utf8');

let server;
let browser;
before(async () => {
  server = await startReferenceServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

/** Opens `url` (with the server's origin in the query) and returns what the app reported. */
async function runApp(url, extraQuery = '') {
  const page = await newPage(browser);
  try {
    await page.goto(`${url}${url.includes('?') ? '&' : '?'}server=${encodeURIComponent(server.origin)}${extraQuery}`);
    const result = await page.waitForFunction(() => window.consumer, null, { timeout: 30_000 }).then((h) => h.jsonValue());
    return { result, problems: page.problems };
  } finally {
    await page.close();
  }
}

function assertWorked({ result, problems }) {
  assert.equal(result.ok, true, `the app failed: ${result.error}`);
  assert.equal(result.state, 'connected');
  assert.match(result.replyContent, /\S/, 'the query was answered');
  assert.deepEqual(result.typing, [true, false], 'typing_status reached the subscriber');
  assert.equal(result.subscribersBefore - result.subscribersAfter, 1, 'unsubscribe released the subscription');
  assert.equal(result.typingStatusConstant, 'typing_status');
  assert.equal(result.stateSubscribeConstant, 'state:subscribe');
  assert.equal(result.entryMatches, true, "'frinny-agent/event-types' is the same module as the entry's EventTypes");
  assert.equal(result.queryAnsweredBy, 'query_response');
  assert.equal(result.frozen, true);
  assert.equal(result.heldAfterClose, 0, 'close() released every callback');
  assert.deepEqual(problems, []);
}

test('the tarball holds the package and nothing else', () => {
  const { packageDir } = installedPackage();
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'frinny-agent');
  assert.equal(manifest.type, 'module');
  for (const entry of ['.', './event-types', './foundry']) {
    const target = manifest.exports[entry];
    assert.ok(target?.types && target?.default, `exports[${entry}] has types and code`);
    assert.ok(existsSync(join(packageDir, target.types)), `${target.types} is in the package`);
    assert.ok(existsSync(join(packageDir, target.default)), `${target.default} is in the package`);
  }
  assert.ok(existsSync(join(packageDir, 'pkg', 'frinny_agent_bg.wasm')), 'the .wasm is in the package');
  const entry = readFileSync(join(packageDir, 'js', 'index.js'), 'utf8');
  assert.doesNotMatch(entry, /\bimport\s*(\(|["'{*])|\bfrom\s*["']/, 'the entry is built into one file: it imports nothing');
  assert.match(entry, /new URL\("\.\.\/pkg\/frinny_agent_bg\.wasm",\s*import\.meta\.url\)/, "the glue's .wasm URL points from the entry to pkg/");
  assert.match(entry, /new URL\("\.\/share\/worker\.js",\s*import\.meta\.url\)/, "the tab proxy's worker URL points from the entry to js/share/");
  assert.match(entry, /\/\/# sourceMappingURL=index\.js\.map\s*$/, 'the entry names its source map');
  assert.ok(existsSync(join(packageDir, 'js', 'index.js.map')), 'the source map is in the package');
  const worker = readFileSync(join(packageDir, 'js', 'share', 'worker.js'), 'utf8');
  assert.doesNotMatch(worker, /\bimport\s*(\(|["'{*])|\bfrom\s*["']/, 'the SharedWorker script is built into one file too');
  assert.match(worker, /new URL\("\.\.\/\.\.\/pkg\/frinny_agent_bg\.wasm",\s*import\.meta\.url\)/, "the worker's .wasm URL points from js/share/ to pkg/");
  for (const file of ['worker.js', 'hub.js', 'tab.js', 'listeners.js', 'protocol.js', 'options.js', 'wasm_location.js']) {
    assert.ok(existsSync(join(packageDir, 'js', 'share', file)), `js/share/${file} (shareAcrossTabs) is in the package`);
  }
  for (const file of ['frinny_helpers.js', 'event_pattern.js']) {
    assert.ok(existsSync(join(packageDir, 'js', file)), `js/${file} (shared by the manager's JS stand-ins) is in the package`);
  }
  const snippets = join(packageDir, 'pkg', 'snippets');
  const hub = readdirSync(snippets, { recursive: true }).filter((f) => String(f).endsWith('event_hub.js'));
  assert.equal(hub.length, 1, 'the event hub snippet is in the package');
  assert.ok(!existsSync(join(packageDir, 'pkg', 'package.json')), "wasm-pack's own manifest is left out");
});

test('unbundled: an import map, as a module page would use it', { timeout: 120_000 }, async () => {
  const { dir } = installedPackage();
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>import map</title>
<script type="importmap">${JSON.stringify({
      imports: {
        'frinny-agent': './node_modules/frinny-agent/js/index.js',
        'frinny-agent/event-types': './node_modules/frinny-agent/js/EventTypes.js',
      },
    })}</script>
<script type="module" src="./app.js"></script>`,
  );
  const files = await serveStatic(dir);
  try {
    assertWorked(await runApp(`${files.url}/index.html`));
    assert.ok(
      files.requests.includes('/node_modules/frinny-agent/pkg/frinny_agent_bg.wasm'),
      `the .wasm was found next to its JS through import.meta.url: ${files.requests.join(', ')}`,
    );
    // The entry is one file (npm/bundle.mjs): the glue, its snippets and the
    // tab proxy are built in, so nothing else of the package is fetched
    // but the catalogue's own entry, which the app imports too.
    const scripts = files.requests.filter((r) => r.startsWith('/node_modules/frinny-agent/') && r.endsWith('.js'));
    assert.deepEqual(
      [...new Set(scripts)].sort(),
      ['/node_modules/frinny-agent/js/EventTypes.js', '/node_modules/frinny-agent/js/index.js'],
      'the page fetched the entry and the catalogue entry, and no other module of the package',
    );
  } finally {
    await files.close();
  }
});

test('unbundled: relative paths, and the .wasm from another place through ready(url)', { timeout: 120_000 }, async () => {
  const { dir, packageDir } = installedPackage();
  const relative = APP.replace("from 'frinny-agent';", "from './node_modules/frinny-agent/js/index.js';").replace(
    "from 'frinny-agent/event-types';",
    "from './node_modules/frinny-agent/js/EventTypes.js';",
  );
  assert.notEqual(relative, APP);
  writeFileSync(join(dir, 'app.js'), relative);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./app.js"></script>');
  mkdirSync(join(dir, 'assets'));
  copyFileSync(join(packageDir, 'pkg', 'frinny_agent_bg.wasm'), join(dir, 'assets', 'frinny.wasm'));
  const files = await serveStatic(dir);
  try {
    assertWorked(await runApp(`${files.url}/index.html`, `&wasm=${encodeURIComponent('/assets/frinny.wasm')}`));
    assert.ok(files.requests.includes('/assets/frinny.wasm'), 'ready(url) fetched the .wasm from the given URL');
    assert.ok(
      !files.requests.includes('/node_modules/frinny-agent/pkg/frinny_agent_bg.wasm'),
      'and not from the default place',
    );
  } finally {
    await files.close();
  }
});

test('bundled: a vite build of the app', { timeout: 180_000 }, async () => {
  const { dir } = installedPackage();
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./app.js"></script>');
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 120_000,
  });
  const assets = readdirSync(join(dir, 'dist', 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `vite emitted the .wasm as an asset: ${assets.join(', ')}`);
  const files = await serveStatic(join(dir, 'dist'));
  try {
    assertWorked(await runApp(`${files.url}/index.html`));
  } finally {
    await files.close();
  }
});

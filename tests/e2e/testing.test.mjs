// `frinny-agent/testing` from the installed tarball, as a module author's
// tests use it: the example of docs/testing.md (examples/testing/) copied
// into a fresh project that installed the package, its Node tests run with
// `node --test`, and its component tests run in headless Chromium from the
// files as they are (an import map), with no wasm and no server.
// Run by `node --test tests/e2e/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
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
    assert.equal(results.length, 3);
    assert.ok(files.requests.includes('/node_modules/frinny-agent/js/testing/index.js'), 'the package entry was loaded');
    assert.ok(!files.requests.some((p) => p.endsWith('.wasm')), `no wasm: ${files.requests.join(', ')}`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await files.close();
  }
});

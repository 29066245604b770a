// End to end: the reference server serves the demo page, Debian's headless
// Chromium (driven by playwright-core, never a downloaded browser) loads it,
// and a query makes the full round trip through the wasm AgentManager.
// Run by `cargo xtask test e2e`, which builds pkg/ and the server first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const PORT = 38480;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const ADMIN = 'e2e-admin-token-for-tests';
const SERVER = process.env.FRINNY_SERVER_BIN ?? 'target/debug/frinny-server';

let server;
let browser;

async function waitForHealth(deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(`${ORIGIN}/healthz`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not come up');
}

before(async () => {
  server = spawn(SERVER, ['--dev', '--port', String(PORT), '--admin-token', ADMIN, '--demo-delay-ms', '50'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForHealth(20_000);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

test('the demo page connects, sends a query, shows typing then the reply, and shows a notification', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(ORIGIN);
  await page.click('#connect');
  await page.waitForSelector('[data-testid=state]:text("connected")', { timeout: 20_000 });

  await page.fill('#query', 'What does Shield Block do?');
  await page.click('#send');
  await page
    .waitForFunction(
      () => [...document.querySelectorAll('#messages li')].some((li) => li.textContent.includes('demo responder')),
      null,
      { timeout: 20_000 },
    )
    .catch(async (e) => {
      const shown = await page.$eval('#messages', (el) => el.textContent);
      throw new Error(`no reply shown; messages: ${shown}; page errors: ${errors.join(' | ')}`, { cause: e });
    });
  const typingHidden = await page.$eval('#typing', (el) => el.hidden);
  assert.equal(typingHidden, true, 'typing indicator is off after the reply');

  const r = await fetch(`${ORIGIN}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ level: 'info', title: 'E2E', message: 'hello table' }),
  });
  assert.equal(r.status, 200);
  await page.waitForFunction(
    () => document.querySelector('#notifications').textContent.includes('hello table'),
    null,
    { timeout: 10_000 },
  );
  assert.deepEqual(errors, []);
  await page.screenshot({ path: 'target/e2e-demo.png' });
});

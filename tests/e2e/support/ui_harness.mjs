// The UI tests' harness: the INSTALLED package (`frinny-agent/components`
// and the client) in a page served as files, a reference server to talk
// to, and helpers to mint tokens, open pages and count subscriptions.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { installedPackage } from './package.mjs';
import { serveStatic } from './static_server.mjs';
import { launchChromium, newPage } from './browser.mjs';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from './reference_server.mjs';
import { REPO_ROOT } from './package.mjs';

/**
 * `frinny-server --dev` on a free port, as support/reference_server.mjs
 * starts it, but with the demo responder's delay chosen by the test (the
 * typing indicator needs answers that take a moment, as a model's do).
 * @param {{delayMs?: number, extraArgs?: string[], port?: number}} options
 *   `port`: listen there (to start a server again where a client expects it)
 */
export async function startUiServer({ delayMs = 0, extraArgs = [], port: wanted } = {}) {
  const bin = process.env.FRINNY_SERVER_BIN ?? resolve(REPO_ROOT, 'target/debug/frinny-server');
  const port = wanted ?? (await freePort());
  const adminToken = 'e2e-admin-token-for-ui-tests';
  const child = spawn(
    bin,
    ['--dev', '--port', String(port), '--admin-token', adminToken, '--demo-delay-ms', String(delayMs), '--log', 'error', ...extraArgs],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const origin = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`frinny-server exited early (${child.exitCode})`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error('frinny-server did not come up within 20 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin,
    port,
    adminToken,
    /** A signed token from this server's /dev/token. */
    async token(userId, role = 'player', world = 'w1') {
      const q = new URLSearchParams({ userId, role, world });
      const res = await fetch(`${origin}/dev/token?${q}`);
      if (!res.ok) throw new Error(`/dev/token: ${res.status} ${await res.text()}`);
      return (await res.json()).token;
    },
    stop: () => {
      child.kill('SIGTERM');
      return new Promise((done) => (child.exitCode !== null ? done() : child.once('exit', () => done())));
    },
  };
}

/** The page every UI test opens: the package loaded through an import map, as a Foundry module page would. */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>frinny-agent components</title>
<script type="importmap">${JSON.stringify({
  imports: {
    'frinny-agent': './node_modules/frinny-agent/js/index.js',
    'frinny-agent/components': './node_modules/frinny-agent/js/components/index.js',
    'frinny-agent/event-types': './node_modules/frinny-agent/js/EventTypes.js',
  },
})}</script>
<style>
  html { background: #0e0f13; color: #ebe6d6; font-family: "Signika", system-ui, sans-serif; }
  body { margin: 0; padding: 16px; }
  #stage { display: flex; flex-direction: column; gap: 12px; width: 380px; }
  #stage.wide { width: 440px; }
</style>
</head><body><main id="stage"></main>
<script type="module">
import { ready, AgentManager } from 'frinny-agent';
import * as components from 'frinny-agent/components';
window.F = { ready, AgentManager, ...components };
/** A connected AgentManager for a token from the test. */
window.connectAgent = async (origin, token, options = {}) => {
  await ready();
  const agent = new AgentManager({ url: origin, auth: { token }, timeout: 10000, ...options });
  await agent.connect();
  return agent;
};
/** Waits until fn() is truthy (polling every frame), or throws after ms. */
window.until = async (fn, ms = 5000, what = 'condition') => {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  }
};
/** The shadow root's text of the first element matching selector. */
window.shadowText = (selector, root = document) => {
  const el = root.querySelector(selector);
  return el && el.shadowRoot ? el.shadowRoot.textContent : null;
};
window.harnessReady = true;
</script></body></html>`;

/**
 * Everything a UI test needs, started once per test file.
 * @param {{delayMs?: number, serverArgs?: string[]}} [options]
 */
export async function startUiHarness(options = {}) {
  const { dir, packageDir } = installedPackage();
  writeFileSync(join(dir, 'ui.html'), PAGE);
  const site = await serveStatic(dir);
  const server = await startUiServer({ delayMs: options.delayMs ?? 0, extraArgs: options.serverArgs ?? [] });
  const browser = await launchChromium();
  return {
    dir,
    packageDir,
    site,
    server,
    browser,
    /**
     * A signed token from the server's /dev/token.
     * @param {string} userId
     * @param {'gm' | 'player'} [role]
     * @param {string} [world]
     */
    token: (userId, role = 'player', world = 'w1') => server.token(userId, role, world),
    /** A new page with the harness loaded (`page.problems` records errors). */
    async open({ width = 480, height = 720 } = {}) {
      const page = await newPage(browser);
      await page.setViewportSize({ width, height });
      await page.goto(`${site.url}/ui.html`);
      await page.waitForFunction(() => window.harnessReady === true, null, { timeout: 20_000 });
      return page;
    },
    /** POSTs an admin endpoint (`/notify`, `/broadcast`) of the server. */
    async admin(path, body) {
      const res = await fetch(`${server.origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify(body),
      });
      const json = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async stop() {
      await browser?.close();
      await site?.close();
      await server?.stop();
    },
  };
}

/** The directory screenshots are saved to (committed). */
export function imagesDir() {
  const d = join(import.meta.dirname, '..', '..', '..', 'docs', 'images');
  mkdirSync(d, { recursive: true });
  return d;
}

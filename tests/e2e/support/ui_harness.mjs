// The UI tests' harness: the INSTALLED package (`frinny-agent/components`
// and the client) in a page served as files, a reference server to talk
// to, and helpers to mint tokens, open pages and count subscriptions.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { installedPackage, REPO_ROOT } from './package.mjs';
import { serveStatic } from './static_server.mjs';
import { launchChromium, newPage } from './browser.mjs';
import { startReferenceServer } from './reference_server.mjs';

/**
 * `frinny-server --dev` for a UI test: support/reference_server.mjs's, whose
 * options (`delayMs`: the demo responder's delay, which the typing indicator
 * needs; `extraArgs`; `port`, to start a server again where a client
 * expects it) and result (`origin`, `port`, `adminToken`, `token()`,
 * `stop()`) the UI tests use.
 */
export const startUiServer = startReferenceServer;

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

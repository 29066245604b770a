// The reference server (`frinny-server --dev`) on a free loopback port for
// a test, stopped with `stop()`. FRINNY_SERVER_BIN names the binary (the
// e2e suite builds it); `--dev` accepts the legacy `userId` query.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { REPO_ROOT } from './package.mjs';

/** A TCP port nothing listens on right now. */
export function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/**
 * Starts the server and waits for /healthz.
 * @param {{delayMs?: number, extraArgs?: string[], port?: number}} [options]
 *   `delayMs`: the demo responder's delay (default 0; the typing indicator
 *   needs answers that take a moment, as a model's do); `extraArgs`: more
 *   flags; `port`: listen there (to start a server again where a client
 *   expects it) instead of a free port
 * @returns {Promise<{origin: string, url: string, port: number, adminToken: string,
 *   token: (userId: string, role?: string, world?: string) => Promise<string>, stop: () => Promise<void>}>}
 */
export async function startReferenceServer({ delayMs = 0, extraArgs = [], port: wanted } = {}) {
  const bin = process.env.FRINNY_SERVER_BIN ?? resolve(REPO_ROOT, 'target/debug/frinny-server');
  const port = wanted ?? (await freePort());
  const adminToken = 'e2e-admin-token-for-tests';
  const child = spawn(
    bin,
    ['--dev', '--port', String(port), '--admin-token', adminToken, '--demo-delay-ms', String(delayMs), '--log', 'warn', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const origin = `http://127.0.0.1:${port}`;
  const stop = () => new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`frinny-server exited early (${child.exitCode})`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > until) {
      await stop();
      throw new Error('frinny-server did not come up within 20 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin,
    url: origin,
    port,
    adminToken,
    /** A signed token from this server's /dev/token. */
    async token(userId, role = 'player', world = 'w1') {
      const q = new URLSearchParams({ userId, role, world });
      const res = await fetch(`${origin}/dev/token?${q}`);
      if (!res.ok) throw new Error(`/dev/token: ${res.status} ${await res.text()}`);
      return (await res.json()).token;
    },
    stop,
  };
}

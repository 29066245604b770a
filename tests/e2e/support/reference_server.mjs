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
 * @param {string[]} [extraArgs] more flags (e.g. ['--demo-delay-ms', '50'])
 * @returns {Promise<{origin: string, port: number, adminToken: string, stop: () => void}>}
 */
export async function startReferenceServer(extraArgs = []) {
  const bin = process.env.FRINNY_SERVER_BIN ?? resolve(REPO_ROOT, 'target/debug/frinny-server');
  const port = await freePort();
  const adminToken = 'e2e-admin-token-for-tests';
  const child = spawn(
    bin,
    ['--dev', '--port', String(port), '--admin-token', adminToken, '--demo-delay-ms', '0', '--log', 'warn', ...extraArgs],
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
  return { origin, port, adminToken, stop: () => child.kill('SIGTERM') };
}

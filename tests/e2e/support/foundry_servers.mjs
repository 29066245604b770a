// Servers and page set-up for the Foundry end-to-end tests: the JSON
// gateway (tests/servers/json_gateway.mjs) and the python Socket.IO backend
// (tests/servers/frinny_backend.py), each on a free loopback port with a
// bounded lifetime, and a page running the fake Foundry runtime.
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, startReferenceServer } from './reference_server.mjs';

export { freePort, startReferenceServer };

export const REPO = resolve(import.meta.dirname, '..', '..', '..');
const FAKE_FOUNDRY = join(import.meta.dirname, 'fake_foundry.js');

/** Resolves with the first match of `re` in the child's stdout, or rejects after `ms`. */
function waitForLine(child, re, ms, what) {
  return new Promise((ok, fail) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not start within ${ms} ms; output: ${seen}`)), ms);
    const onData = (d) => {
      seen += d;
      const m = re.exec(seen);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        ok(m);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited (${code}) before listening; output: ${seen}`));
    });
  });
}

function stopper(child) {
  return () => new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    child.once('exit', () => ok());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * Starts the strict JSON gateway on a free port.
 * @returns {Promise<{port: number, wsUrl: string, http: string, frames: () => Promise<any[]>,
 *   clients: () => Promise<any[]>, send: (kind: string, extra?: object) => Promise<any>,
 *   release: () => Promise<any>, reset: () => Promise<any>, stop: () => Promise<void>}>}
 */
export async function startGateway({ lifetime = 180 } = {}) {
  const child = spawn(process.execPath, [join(REPO, 'tests/servers/json_gateway.mjs'), '--port', '0', '--lifetime', String(lifetime)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  const [, port] = await waitForLine(child, /listening (\d+)/, 15_000, 'the JSON gateway');
  const http = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const r = await fetch(`${http}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return r.json();
  };
  return {
    port: Number(port),
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    http,
    frames: () => call('GET', '/frames'),
    clients: () => call('GET', '/clients'),
    send: (kind, extra = {}) => call('POST', '/send', { kind, ...extra }),
    release: () => call('POST', '/release'),
    reset: () => call('POST', '/reset'),
    stop: stopper(child),
  };
}

/**
 * Starts tests/servers/frinny_backend.py (python-socketio) on a free port.
 * @returns {Promise<{port: number, url: string, stop: () => Promise<void>}>}
 */
export async function startPythonBackend({ lifetime = 120 } = {}) {
  const python = process.env.FRINNY_PYTHON ?? join(REPO, '.build/venv/bin/python');
  const port = await freePort();
  const child = spawn(python, [join(REPO, 'tests/servers/frinny_backend.py'), '--port', String(port), '--lifetime', String(lifetime)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: REPO,
  });
  child.stdout.setEncoding('utf8');
  await waitForLine(child, /frinny python backend on/, 30_000, 'the python backend');
  return { port, url: `http://127.0.0.1:${port}`, stop: stopper(child) };
}

/** Polls `fn` until it returns a truthy value; rejects with `what` after `ms`. */
export async function waitFor(fn, { ms = 10_000, what = 'condition' } = {}) {
  const until = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>fake Foundry</title><link rel="icon" href="data:,">
<script src="/fake_foundry.js"></script>
</head><body></body></html>
`;

/**
 * Puts the fake Foundry page (foundry_test.html) and fake_foundry.js at
 * the root of `dir`, the directory the static server serves.
 */
export async function writeFoundryPage(dir) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'foundry_test.html'), PAGE);
  copyFileSync(FAKE_FOUNDRY, join(dir, 'fake_foundry.js'));
  return '/foundry_test.html';
}


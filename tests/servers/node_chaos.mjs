// Servers that misbehave on request, for the browser tests
// (tests/browser_agent.rs). Started and stopped by `cargo xtask test browser`;
// everything binds 127.0.0.1 and the process exits by itself after 10
// minutes (or $CHAOS_LIFETIME_MS).
//
//   $CHAOS_SIO_PORT (28475)      the official socket.io 4.8 server with the
//                                handlers of node_sio_handlers.mjs, which the
//                                control endpoint kills and restarts
//   $CHAOS_SILENT_PORT (28476)   a hand-written Engine.IO v4 WebSocket server
//                                (pingInterval 300, pingTimeout 200) that joins
//                                any namespace, sends `?pings=N` pings (default
//                                2) and then never pings again
//   $CHAOS_CONTROL_PORT (28474)  HTTP control, CORS open:
//     POST /control/restart?downMs=N  destroys every connection of the socket.io
//                                server at once (as a killed process would:
//                                no close frame, no DISCONNECT), closes it,
//                                answers, and listens again on the same port
//                                after N ms (default 500) with a fresh server
//     GET  /control/status        {up, generation}
//     GET  /control/count?key=K   arrivals of `record {key: K}`, counted
//                                across restarts
//     GET  /control/silent?tag=T  the connections to the silent server made
//                                with `?tag=T`: [{pings, pongs, lastPingAt,
//                                closedAt, joined}] (times in ms, server clock)
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { WebSocketServer } from 'ws';
import { attach } from './node_sio_handlers.mjs';

const controlPort = Number(process.env.CHAOS_CONTROL_PORT || 28474);
const sioPort = Number(process.env.CHAOS_SIO_PORT || 28475);
const silentPort = Number(process.env.CHAOS_SILENT_PORT || 28476);
const lifetime = Number(process.env.CHAOS_LIFETIME_MS || 600_000);

// Set first, so that nothing below can keep the process alive past it.
setTimeout(() => {
  console.log('node chaos: lifetime over, exiting');
  process.exit(0);
}, lifetime);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

// ----- the restartable socket.io server ------------------------------------------

const records = new Map();
let sio = null;
let generation = 0;

function startSio() {
  return new Promise((resolve) => {
    const http = createServer();
    const sockets = new Set();
    http.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    const io = new Server(http, { cors: { origin: '*' } });
    attach(io, records);
    const listen = () => http.listen(sioPort, '127.0.0.1');
    http.on('error', (e) => {
      if (e.code === 'EADDRINUSE') setTimeout(listen, 50);
      else console.error('node chaos: socket.io server error', e);
    });
    http.on('listening', () => {
      generation += 1;
      resolve({ http, io, sockets });
    });
    listen();
  });
}

async function killSio() {
  const s = sio;
  sio = null;
  if (!s) return;
  for (const c of s.sockets) c.destroy();
  await new Promise((resolve) => {
    const t = setTimeout(resolve, 1000);
    s.io.close(() => { clearTimeout(t); resolve(); });
  });
}

// ----- the server that stops pinging ----------------------------------------------

const silentLog = new Map();
const silent = new WebSocketServer({ host: '127.0.0.1', port: silentPort });
const silentListening = new Promise((resolve) => silent.on('listening', resolve));
silent.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x');
  const tag = url.searchParams.get('tag') || '';
  const pings = Number(url.searchParams.get('pings') || 2);
  const entry = { pings: 0, pongs: 0, lastPingAt: null, closedAt: null, joined: false, openedAt: Date.now() };
  if (!silentLog.has(tag)) silentLog.set(tag, []);
  silentLog.get(tag).push(entry);
  const sid = Math.random().toString(36).slice(2);
  ws.send(`0${JSON.stringify({ sid, upgrades: [], pingInterval: 300, pingTimeout: 200, maxPayload: 1000000 })}`);
  const timer = setInterval(() => {
    if (entry.pings >= pings) {
      clearInterval(timer);
      return;
    }
    entry.pings += 1;
    entry.lastPingAt = Date.now();
    ws.send('2');
  }, 300);
  ws.on('message', (data) => {
    const text = data.toString();
    if (text === '3') entry.pongs += 1;
    else if (text.startsWith('40')) {
      // CONNECT to any namespace: `40` or `40/nsp,{auth}`.
      const nsp = text.startsWith('40/') ? `${text.slice(2).split(',')[0]},` : '';
      entry.joined = true;
      ws.send(`40${nsp}${JSON.stringify({ sid: `${sid}-nsp` })}`);
    }
  });
  ws.on('close', () => {
    clearInterval(timer);
    entry.closedAt = Date.now();
  });
});

// ----- control ------------------------------------------------------------------------

const control = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const reply = (status, body) => {
    res.writeHead(status, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': '*',
      'Content-Type': 'application/json',
    });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  try {
    if (req.method === 'OPTIONS') return reply(204);
    if (req.method === 'POST' && url.pathname === '/control/restart') {
      const downMs = Number(url.searchParams.get('downMs') || 500);
      await killSio();
      const was = generation;
      setTimeout(async () => { sio = await startSio(); }, downMs);
      return reply(200, { ok: true, generation: was, downMs });
    }
    if (req.method === 'GET' && url.pathname === '/control/status') {
      return reply(200, { up: sio !== null, generation });
    }
    if (req.method === 'GET' && url.pathname === '/control/count') {
      return reply(200, { count: records.get(url.searchParams.get('key')) || 0 });
    }
    if (req.method === 'GET' && url.pathname === '/control/silent') {
      return reply(200, silentLog.get(url.searchParams.get('tag') || '') || []);
    }
    return reply(404, { error: 'no such control' });
  } catch (e) {
    return reply(500, { error: String(e) });
  }
});

sio = await startSio();
await silentListening;
control.listen(controlPort, '127.0.0.1', () => {
  console.log(`node chaos: control ${controlPort}, socket.io ${sioPort}, silent ${silentPort}`);
});


// The official Node `socket.io` 4.8 server the browser tests talk to
// (tests/browser_agent.rs). Started and stopped by `cargo xtask test browser`
// on 127.0.0.1:28471 (or $SIO_PORT); CORS is open because the test page is
// served from another port. It exits by itself after 10 minutes (or
// $SIO_LIFETIME_MS) so a crashed test run leaves nothing behind.
//
// $SIO_TRANSPORTS (comma separated, e.g. `polling`) limits the Engine.IO
// transports the server accepts (default both): tests/browser_transports.rs
// uses a polling-only one.
//
// The namespaces and events are in node_sio_handlers.mjs, plus one here
// about HTTP (long-polling) requests:
//   http_seen(_, ack)   acks {cookie, extraHeader}: the `frinny_test` cookie
//                       and the `x-frinny-test` header, as any polling request
//                       of this Engine.IO session carried them (null if none
//                       did). Every handshake response sets that cookie, so a
//                       client sends it back only with `withCredentials`.
// CORS reflects the page's origin and allows credentials, as a server that
// wants cookies from another origin must (`*` forbids them).
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { attach } from './node_sio_handlers.mjs';

const port = Number(process.env.SIO_PORT || 28471);
const lifetime = Number(process.env.SIO_LIFETIME_MS || 600_000);

const http = createServer();
const transports = process.env.SIO_TRANSPORTS
  ? process.env.SIO_TRANSPORTS.split(',')
  : ['polling', 'websocket'];
const io = new Server(http, { cors: { origin: true, credentials: true }, transports });
attach(io, new Map());

/** Engine.IO sid -> what its polling requests carried. */
const httpSeen = new Map();
io.engine.on('initial_headers', (headers) => {
  headers['Set-Cookie'] = 'frinny_test=1; Path=/; SameSite=Lax';
});
io.engine.on('headers', (headers, req) => {
  const sid = new URL(req.url, 'http://x').searchParams.get('sid');
  if (!sid) return;
  const seen = httpSeen.get(sid) ?? { cookie: null, extraHeader: null };
  const cookie = /(?:^|;\s*)frinny_test=([^;]*)/.exec(req.headers.cookie ?? '');
  if (cookie) seen.cookie = cookie[1];
  if (req.headers['x-frinny-test'] !== undefined) seen.extraHeader = req.headers['x-frinny-test'];
  httpSeen.set(sid, seen);
});
io.on('connection', (socket) => {
  socket.on('http_seen', (_, ack) => {
    if (typeof ack === 'function') ack(httpSeen.get(socket.conn.id) ?? { cookie: null, extraHeader: null });
  });
  socket.on('disconnect', () => httpSeen.delete(socket.conn.id));
});

http.listen(port, '127.0.0.1', () => {
  console.log(`node socket.io ${port} listening`);
});

setTimeout(() => {
  console.log('node socket.io: lifetime over, exiting');
  process.exit(0);
}, lifetime);

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

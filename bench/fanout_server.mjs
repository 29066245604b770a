// The Node peer of the reference server for the fan-out benchmark (issue 6,
// section 6): socket.io 4.8 doing what frinny-server does for it.
//
//   node bench/fanout_server.mjs --port 29011 --admin-token T [--lifetime 600]
//
// - a connection with `?userId=` joins the user's room and the world room
//   and is greeted with `connection_established`, as frinny-server --dev does;
// - `POST /broadcast` {event, payload} with `Authorization: Bearer T` emits
//   the event to every client and answers {delivered, event, recipients}.
// Exits by itself after --lifetime seconds.

import http from 'node:http';
import { Server } from 'socket.io';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const PORT = Number(arg('port', 29011));
const TOKEN = arg('admin-token', '');
const LIFETIME = Number(arg('lifetime', 600));
if (!TOKEN) {
  console.error('--admin-token is required');
  process.exit(2);
}

const reply = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/broadcast') return reply(res, 404, { code: 'NOT_FOUND' });
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(res, 401, { code: 'UNAUTHORIZED' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      return reply(res, 400, { code: 'INVALID_PAYLOAD' });
    }
    if (typeof body?.event !== 'string' || body.payload == null) return reply(res, 400, { code: 'INVALID_PAYLOAD' });
    io.emit(body.event, body.payload);
    reply(res, 200, { delivered: true, event: body.event, recipients: io.engine.clientsCount });
  });
});

const io = new Server(server, { serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 1e6 });
io.on('connection', (socket) => {
  const userId = String(socket.handshake.query.userId ?? 'anonymous');
  socket.join(`user:${userId}`);
  socket.join('world:default');
  socket.emit('connection_established', {
    status: 'connected', endpoints: ['query', 'feedback'], userId, sid: socket.id, timestamp: Date.now(),
  });
});

server.listen(PORT, '127.0.0.1', () => console.error(`node fan-out server on 127.0.0.1:${PORT}`));
setTimeout(() => process.exit(0), LIFETIME * 1000);

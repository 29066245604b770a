// The official Node `socket.io` 4.8 server the browser tests talk to
// (tests/browser_agent.rs). Started and stopped by `cargo xtask test browser`
// on 127.0.0.1:38471 (or $SIO_PORT); CORS is open because the test page is
// served from another port. It exits by itself after 10 minutes (or
// $SIO_LIFETIME_MS) so a crashed test run leaves nothing behind.
//
// Namespaces and events:
//   /          connection_established on connect (Frinny contract)
//     echo(payload, ack)        acks the payload back
//     query(payload)            Frinny style: replies with query_response
//                               {request_id, content} to the client's room;
//                               content 'fail' -> error {error, request_id};
//                               content 'silent' -> no reply at all
//     trigger({event, args, count})  the server emits `event` with `args`
//                               `count` times, then `trigger_done`
//     kick()                    the server disconnects the socket
//     drop_link()               the server closes the transport (lost link)
//     record({key})             counts arrivals per key
//     count({key}, ack)         acks {count} for key
//     broadcast({event, payload}, ack)  fans event out to everyone, acks {ok}
//     error_no_id()             emits error {message} without request_id
//   /admin     admin_hello {nsp} on connect; echo(payload, ack)
//   /guarded   middleware refuses unless auth.token === 'secret'
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.env.SIO_PORT || 38471);
const lifetime = Number(process.env.SIO_LIFETIME_MS || 600_000);

const http = createServer();
const io = new Server(http, { cors: { origin: '*' } });
const records = new Map();

io.on('connection', (socket) => {
  const userId = socket.handshake.query.userId || 'anonymous';
  socket.join(String(userId));
  socket.emit('connection_established', {
    status: 'connected', userId, sid: socket.id, timestamp: Date.now(),
  });

  socket.on('echo', (payload, ack) => {
    if (typeof ack === 'function') ack(payload);
  });

  socket.on('query', (payload) => {
    const id = payload && payload.request_id;
    const content = payload && payload.content;
    if (content === 'silent') return;
    if (content === 'fail') {
      socket.emit('error', { error: 'the backend failed', request_id: id, timestamp: Date.now() });
      return;
    }
    io.to(String(userId)).emit('query_response', { request_id: id, content: `reply to ${content}` });
  });

  socket.on('trigger', ({ event, args = [], count = 1 } = {}) => {
    for (let i = 0; i < count; i++) socket.emit(event, ...args);
    socket.emit('trigger_done', { count });
  });

  socket.on('kick', () => socket.disconnect(true));

  // Closes the transport under the client (no Socket.IO DISCONNECT): to the
  // client a lost link, which it must reconnect.
  socket.on('drop_link', () => socket.conn.close());

  socket.on('record', (payload) => {
    const key = payload && payload.key;
    records.set(key, (records.get(key) || 0) + 1);
  });

  socket.on('count', (payload, ack) => {
    if (typeof ack === 'function') ack({ count: records.get(payload && payload.key) || 0 });
  });

  socket.on('broadcast', (payload, ack) => {
    if (payload && typeof payload.event === 'string') io.emit(payload.event, payload.payload);
    if (typeof ack === 'function') ack({ ok: true });
  });

  socket.on('error_no_id', () => {
    socket.emit('error', { message: 'something went wrong', timestamp: Date.now() });
  });
});

io.of('/admin').on('connection', (socket) => {
  socket.emit('admin_hello', { nsp: '/admin' });
  socket.on('echo', (payload, ack) => {
    if (typeof ack === 'function') ack({ nsp: '/admin', payload });
  });
});

const guarded = io.of('/guarded');
guarded.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === 'secret') next();
  else next(new Error('not authorized'));
});
guarded.on('connection', (socket) => socket.emit('welcome', { ok: true }));

http.listen(port, '127.0.0.1', () => {
  console.log(`node socket.io ${port} listening`);
});

setTimeout(() => {
  console.log('node socket.io: lifetime over, exiting');
  process.exit(0);
}, lifetime);

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

// The official Node `socket.io` 4.8 server speaking the msgpack parser
// (npm socket.io-msgpack-parser 3.x): the peer of the client's
// `parser: 'msgpack'`. Same namespaces and events as node_sio.mjs (they are
// in node_sio_handlers.mjs), on 127.0.0.1:28477 (or $SIO_PORT); CORS is open
// for test pages served from another port. It exits by itself after 10
// minutes (or $SIO_LIFETIME_MS) so a crashed test run leaves nothing behind.
//
// tests/msgpack_interop.rs starts it and connects a Node socket.io-client
// with the same parser to it; `cargo xtask test browser` starts it on
// 127.0.0.1:28479 for tests/browser_msgpack.rs.
//
// One event beyond the shared handlers:
//   bad_frame({bytes})   the server writes `bytes` as one binary Engine.IO
//                        message, bypassing the parser (a malformed packet)
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { Server } from 'socket.io';
import { attach } from './node_sio_handlers.mjs';

const require = createRequire(import.meta.url);
const parser = require('socket.io-msgpack-parser');

const port = Number(process.env.SIO_PORT || 28477);
const lifetime = Number(process.env.SIO_LIFETIME_MS || 600_000);

const http = createServer();
const io = new Server(http, { cors: { origin: '*' }, parser });
attach(io, new Map());
io.on('connection', (socket) => {
  socket.on('bad_frame', ({ bytes = [] } = {}) => socket.conn.write(Buffer.from(bytes)));
});

http.listen(port, '127.0.0.1', () => {
  console.log(`node socket.io msgpack ${port} listening`);
});

setTimeout(() => {
  console.log('node socket.io msgpack: lifetime over, exiting');
  process.exit(0);
}, lifetime);

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

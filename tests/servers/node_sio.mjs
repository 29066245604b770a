// The official Node `socket.io` 4.8 server the browser tests talk to
// (tests/browser_agent.rs). Started and stopped by `cargo xtask test browser`
// on 127.0.0.1:38471 (or $SIO_PORT); CORS is open because the test page is
// served from another port. It exits by itself after 10 minutes (or
// $SIO_LIFETIME_MS) so a crashed test run leaves nothing behind.
//
// $SIO_TRANSPORTS (comma separated, e.g. `polling`) limits the Engine.IO
// transports the server accepts (default both): tests/browser_transports.rs
// uses a polling-only one.
//
// The namespaces and events are in node_sio_handlers.mjs.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { attach } from './node_sio_handlers.mjs';

const port = Number(process.env.SIO_PORT || 38471);
const lifetime = Number(process.env.SIO_LIFETIME_MS || 600_000);

const http = createServer();
const transports = process.env.SIO_TRANSPORTS
  ? process.env.SIO_TRANSPORTS.split(',')
  : ['polling', 'websocket'];
const io = new Server(http, { cors: { origin: '*' }, transports });
attach(io, new Map());

http.listen(port, '127.0.0.1', () => {
  console.log(`node socket.io ${port} listening`);
});

setTimeout(() => {
  console.log('node socket.io: lifetime over, exiting');
  process.exit(0);
}, lifetime);

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

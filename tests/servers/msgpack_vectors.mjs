// Interop vectors for the Rust msgpack codec (src/protocol/msgpack.rs),
// produced and checked by the real npm socket.io-msgpack-parser 3.x.
// Run by tests/msgpack_interop.rs:
//
//   node msgpack_vectors.mjs encode
//       prints a JSON array of vectors {name, canonical, hex, expected}:
//       `hex` is what the npm parser's Encoder writes for the packet, and
//       `expected` is what its Decoder reads back, described the way the Rust
//       codec represents a packet (see describe()). `canonical` vectors are
//       built as {type, data, nsp, id} with Node Buffers for binary, the form
//       the Rust encoder must match byte for byte; the others are packets as
//       socket.io writes them (extra keys, undefined, Uint8Array, Date, NaN).
//
//   node msgpack_vectors.mjs decode < [{name, hex}, ...]
//       decodes each frame with the npm parser's Decoder and prints
//       [{name, packet: describe(...)} | {name, error}].
//
//   node msgpack_vectors.mjs client <url>
//       connects socket.io-client with the msgpack parser to <url> (a
//       node_sio_msgpack.mjs server), exercises it, prints one JSON report.
//
//   node msgpack_vectors.mjs raw <url> < [{send: hex, expect: n}, ...]
//       a bare Engine.IO v4 WebSocket to <url>: after the open packet, sends
//       each frame (bytes the Rust encoder wrote) as a binary message and
//       waits for `expect` binary messages from the server before the next;
//       prints the hex of every binary message the server sent, in order.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const msgpackParser = require('socket.io-msgpack-parser');
// socket.io-parser's own deconstructPacket (not in its package exports, so
// by path): the placeholder numbering the Rust codec must reproduce.
const { deconstructPacket } = require(join(root, 'node_modules/socket.io-parser/build/cjs/binary.js'));

const hex = (b) => Buffer.from(b.buffer ?? b, b.byteOffset ?? 0, b.byteLength).toString('hex');

/**
 * A decoded packet as the Rust codec represents it: the payload as the JSON
 * text socket.io-parser would send (binary replaced by placeholders, then
 * JSON.stringify, which is what turns undefined, Date and NaN into JSON) and
 * the binary values as attachments, in placeholder order.
 */
function describe(packet) {
  const { packet: flat, buffers } = deconstructPacket({ ...packet });
  return {
    type: flat.type,
    nsp: flat.nsp,
    id: flat.id ?? null,
    json: flat.data === undefined ? null : JSON.stringify(flat.data),
    attachments: buffers.map(hex),
  };
}

function decodeOne(bytes) {
  const decoder = new msgpackParser.Decoder();
  let out;
  decoder.on('decoded', (p) => { out = p; });
  decoder.add(bytes);
  return out;
}

function encodeOne(packet) {
  const frames = new msgpackParser.Encoder().encode(packet);
  if (frames.length !== 1) throw new Error('expected one frame');
  return frames[0];
}

const canonical = [
  ['connect with auth', { type: 0, data: { token: 'secret', n: 1.5, nested: { list: [1, -2, 'x', null] } }, nsp: '/' }],
  ['connect without auth', { type: 0, nsp: '/' }],
  ['connect reply on a namespace', { type: 0, data: { sid: 'Xy_12-ab' }, nsp: '/admin' }],
  ['event with nested payload', {
    type: 2,
    data: ['query', {
      content: 'hi', n: [1, 2, { deep: { deeper: [true, false, null, [[[]]]] } }],
      long: 'x'.repeat(300), big: 2 ** 40, neg: -70000, tiny: -5, f: 0.25, e: 1e-7,
      unicode: 'é 😀 \u0000 "quoted" \\', empty: {}, max: Number.MAX_SAFE_INTEGER,
    }],
    nsp: '/',
  }],
  ['event with binary at several depths and an ack id', {
    type: 2,
    data: ['upload', Buffer.from([1, 2, 3]), {
      file: { name: 'a.png', bytes: Buffer.alloc(300, 7) },
      parts: [Buffer.from([]), Buffer.from([255]), { more: [Buffer.alloc(70000, 1)] }],
    }],
    nsp: '/',
    id: 12,
  }],
  ['ack with id', { type: 3, data: [{ ok: true }], nsp: '/', id: 70000 }],
  ['ack with binary', { type: 3, data: [Buffer.from('hi'), 'and text'], nsp: '/', id: 1 }],
  ['empty ack', { type: 3, data: [], nsp: '/', id: 0 }],
  ['connect_error object', { type: 4, data: { message: 'not authorized', data: { code: 7 } }, nsp: '/guarded' }],
  ['connect_error string', { type: 4, data: 'bad namespace', nsp: '/' }],
  ['disconnect', { type: 1, nsp: '/admin' }],
  ['event on a non-root namespace', { type: 2, data: ['admin_hello', { nsp: '/admin' }], nsp: '/admin' }],
  ['event with array 16 and map 16', {
    type: 2,
    data: ['wide', Array.from({ length: 20 }, (_, i) => i * 1000),
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i % 2 === 0]))],
    nsp: '/',
  }],
];

const asSocketIoWritesThem = [
  // socket.io-client's emit: options added, id before nsp.
  ['client emit with options', { type: 2, data: ['echo', { a: 1 }], options: { compress: true }, id: 3, nsp: '/' }],
  // socket.io-client's CONNECT without auth: data present but undefined.
  ['client connect with undefined data', { type: 0, data: undefined, nsp: '/' }],
  // the server's emit with an ack: id before nsp.
  ['server emit with ack', { type: 2, data: ['ask', 'q'], id: 5, nsp: '/' }],
  ['typed arrays and ArrayBuffers', {
    type: 2,
    data: ['typed', new Uint8Array([1, 2, 3]), { big: new Uint8Array(300).fill(9), raw: new Uint8Array([4, 5]).buffer }],
    nsp: '/',
  }],
  ['undefined, Date, NaN and infinities', {
    type: 2,
    data: ['odd', [undefined, 1], { a: undefined, b: NaN, c: -Infinity, d: 2 },
      new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), new Date(-1), undefined],
    nsp: '/',
  }],
  ['integers past 2^53', { type: 2, data: ['big', 2 ** 53 + 2, -(2 ** 60), 2 ** 64 - 2 ** 12], nsp: '/' }],
  ['integral floats', { type: 3, data: [1e20, -0, 3.0, 0.5], nsp: '/', id: 2 ** 32 }],
];

async function client(url) {
  const { io } = await import('socket.io-client');
  const report = {};
  const socket = io(url, { parser: msgpackParser, transports: ['websocket'], reconnection: false, timeout: 5000 });
  const once = (ev) => new Promise((resolve) => socket.once(ev, resolve));
  const established = once('connection_established');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  report.connected = true;
  report.established = (await established).status;
  const payload = { text: 'hi', bytes: Buffer.from([1, 2, 3]), nested: [{ b: Buffer.from([255]) }] };
  const echoed = await socket.timeout(5000).emitWithAck('binary_echo', payload);
  report.binaryEcho = echoed.seen;
  report.echo = await socket.timeout(5000).emitWithAck('echo', { n: 1.5, list: [1, 'x', null] });
  const admin = io(`${url}/admin`, { parser: msgpackParser, transports: ['websocket'], reconnection: false, timeout: 5000 });
  report.adminHello = await new Promise((resolve) => admin.once('admin_hello', resolve));
  admin.close();
  socket.close();
  return report;
}

async function raw(url, steps) {
  const { WebSocket } = await import('ws');
  const wsUrl = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(wsUrl);
  const received = [];
  let wake = () => {};
  let opened;
  const open = new Promise((resolve) => { opened = resolve; });
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      received.push(Buffer.from(data).toString('hex'));
      wake();
    } else {
      const text = data.toString();
      if (text.startsWith('0')) opened();
      else if (text === '2') ws.send('3');
    }
  });
  const waitFor = (count) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`waited for ${count} frames, got ${received.length}`)), 5000);
    wake = () => { if (received.length >= count) { clearTimeout(timer); resolve(); } };
    wake();
  });
  await open;
  let expected = 0;
  for (const { send, expect } of steps) {
    ws.send(Buffer.from(send, 'hex'), { binary: true });
    expected += expect;
    await waitFor(expected);
  }
  ws.close();
  return received;
}

async function main() {
  const mode = process.argv[2];
  if (mode === 'encode') {
    const vectors = [
      ...canonical.map(([name, packet]) => ({ name, canonical: true, packet })),
      ...asSocketIoWritesThem.map(([name, packet]) => ({ name, canonical: false, packet })),
    ].map(({ name, canonical, packet }) => {
      const bytes = encodeOne(packet);
      return { name, canonical, hex: hex(bytes), expected: describe(decodeOne(bytes)) };
    });
    console.log(JSON.stringify(vectors));
  } else if (mode === 'decode') {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const results = JSON.parse(input).map(({ name, hex: h }) => {
      try {
        return { name, packet: describe(decodeOne(Buffer.from(h, 'hex'))) };
      } catch (e) {
        return { name, error: String(e && e.message) };
      }
    });
    console.log(JSON.stringify(results));
  } else if (mode === 'raw') {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    console.log(JSON.stringify(await raw(process.argv[3], JSON.parse(input))));
    process.exit(0);
  } else if (mode === 'client') {
    console.log(JSON.stringify(await client(process.argv[3])));
    process.exit(0);
  } else {
    console.error('usage: msgpack_vectors.mjs encode | decode | client <url> | raw <url>');
    process.exit(2);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

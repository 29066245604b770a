// The event handlers of the Node socket.io test servers, shared by
// node_sio.mjs (the long-lived server) and node_chaos.mjs (the one that is
// killed and restarted). `records` outlives any one io server, so arrivals
// are counted across restarts.
//
// Namespaces and events:
//   /          connection_established on connect (Frinny contract)
//     echo(payload, ack)        acks the payload back
//     auth_seen(_, ack)         acks the auth payload of this socket's CONNECT
//     slow_echo(payload, ack)   acks the payload back after payload.delayMs
//     query(payload)            Frinny style: replies with query_response
//                               {request_id, content} to the client's room;
//                               content 'fail' -> error {error, request_id};
//                               content 'silent' -> no reply at all
//     trigger({event, args, count})  the server emits `event` with `args`
//                               `count` times, then `trigger_done`
//     engine_id(_, ack)         acks {eio}: this socket's Engine.IO session id
//     kick()                    the server disconnects the socket
//     drop_link()               the server closes the transport (lost link)
//     record({key})             counts arrivals per key
//     count({key}, ack)         acks {count} for key
//     sequence({key, n})        appends n to key's sequence
//     sequence_of({key}, ack)   acks {seq} for key: the n's in arrival order
//     broadcast({event, payload}, ack)  fans event out to everyone, acks {ok}
//     error_no_id()             emits error {message} without request_id
//     binary_echo(payload, ack) acks {echo: payload, seen} where `seen` lists
//                               every Buffer the server got as {path, hex}
//     binary_push({bytes, count})  emits `binary_data` {index, data, parts}
//                               `count` times (data = Buffer of `bytes`,
//                               parts = [Buffer [index], Uint8Array [255-index]])
//     binary_query(payload)     replies binary_query_response
//                               {request_id, data: Buffer of payload.bytes}
//     ask({event, args, bytes, timeoutMs})  the server asks the client:
//                               socket.timeout(timeoutMs).emitWithAck(event,
//                               ...args) (with {data: Buffer of bytes} after
//                               args when bytes is given), then, 200 ms after
//                               the answer (or the timeout), emits `answered`
//                               {answer, error, seen, acks, total}: the first
//                               ack argument, the timeout's message or null,
//                               every Buffer of the answer as {path, hex}, the
//                               ACK packets this socket sent since the ask
//                               (socket.io text, so a second answer shows even
//                               though socket.io runs an ack callback once),
//                               and how many it sent in all
//     state:subscribe({scope, compress}, ack)  a server whose compression
//                               goes wrong: asked with `compress`, acks
//                               {scope, version: 1, compressed: 'deflate',
//                               doc: <attachment>} where the attachment is not
//                               zlib (or, for scope 'bomb', is 5 MB of spaces
//                               deflated); asked without, acks the snapshot
//                               {scope, version: 1, doc: {scope, plain: true}}
//   /admin     admin_hello {nsp} on connect; echo(payload, ack);
//              engine_id(_, ack); trigger({event, args, count});
//              ask({event, args, timeoutMs}) emits `answered` {answer, error}
//              as soon as the answer (or the timeout) is in
//   /guarded   middleware refuses unless auth.token === 'secret'

import { deflateSync } from 'node:zlib';

/** Every Buffer / typed array in `v`, as {path, hex}, depth first. */
export function binaries(v, path = '$', out = []) {
  if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) {
    out.push({ path, hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') });
  } else if (v instanceof ArrayBuffer) {
    out.push({ path, hex: Buffer.from(v).toString('hex') });
  } else if (Array.isArray(v)) {
    v.forEach((item, i) => binaries(item, `${path}[${i}]`, out));
  } else if (v && typeof v === 'object') {
    for (const [k, item] of Object.entries(v)) binaries(item, `${path}.${k}`, out);
  }
  return out;
}

export function attach(io, records) {
  io.on('connection', (socket) => {
    // Every ACK / BINARY_ACK this socket sent, as socket.io packet text
    // (the engine socket outlives a transport upgrade).
    const acks = [];
    socket.conn.on('packet', (packet) => {
      if (packet.type === 'message' && typeof packet.data === 'string' && /^[36]/.test(packet.data)) acks.push(packet.data);
    });
    const userId = socket.handshake.query.userId || 'anonymous';
    socket.join(String(userId));
    socket.emit('connection_established', {
      status: 'connected', userId, sid: socket.id, timestamp: Date.now(),
    });

    socket.on('echo', (payload, ack) => {
      if (typeof ack === 'function') ack(payload);
    });

    socket.on('auth_seen', (_payload, ack) => {
      if (typeof ack === 'function') ack(socket.handshake.auth ?? null);
    });

    socket.on('slow_echo', (payload, ack) => {
      const delay = Number((payload && payload.delayMs) || 500);
      setTimeout(() => { if (typeof ack === 'function') ack(payload); }, delay);
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
    // The Engine.IO session under this namespace socket: namespaces
    // multiplexed over one connection report the same one.
    socket.on('engine_id', (_payload, ack) => ack({ eio: socket.conn.id }));

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

    socket.on('sequence', (payload) => {
      const key = `seq:${payload && payload.key}`;
      if (!records.has(key)) records.set(key, []);
      records.get(key).push(payload && payload.n);
    });

    socket.on('sequence_of', (payload, ack) => {
      if (typeof ack === 'function') ack({ seq: records.get(`seq:${payload && payload.key}`) || [] });
    });

    socket.on('broadcast', (payload, ack) => {
      if (payload && typeof payload.event === 'string') io.emit(payload.event, payload.payload);
      if (typeof ack === 'function') ack({ ok: true });
    });

    socket.on('error_no_id', () => {
      socket.emit('error', { message: 'something went wrong', timestamp: Date.now() });
    });

    socket.on('binary_echo', (payload, ack) => {
      if (typeof ack === 'function') ack({ echo: payload, seen: binaries(payload) });
    });

    socket.on('binary_push', ({ bytes = [], count = 1 } = {}) => {
      for (let i = 0; i < count; i++) {
        socket.emit('binary_data', {
          index: i,
          data: Buffer.from(bytes),
          parts: [Buffer.from([i]), new Uint8Array([255 - i])],
        });
      }
    });

    socket.on('ask', async ({ event = 'question', args = [], bytes, timeoutMs = 5000 } = {}) => {
      const from = acks.length;
      const sent = bytes === undefined ? args : [...args, { data: Buffer.from(bytes) }];
      let answer = null;
      let error = null;
      try {
        answer = await socket.timeout(timeoutMs).emitWithAck(event, ...sent);
      } catch (e) {
        error = e.message;
      }
      // A second answer, if the client sent one, arrives meanwhile.
      setTimeout(() => {
        socket.emit('answered', { answer, error, seen: binaries(answer), acks: acks.slice(from), total: acks.length });
      }, 200);
    });

    socket.on('state:subscribe', (payload, ack) => {
      if (typeof ack !== 'function') return;
      const scope = payload && payload.scope;
      if (payload && payload.compress) {
        const doc = scope === 'bomb'
          ? deflateSync(Buffer.alloc(5_000_000, 0x20))
          : Buffer.from('this is not a zlib stream');
        ack({ scope, version: 1, compressed: 'deflate', doc, epoch: 'node' });
      } else {
        ack({ scope, version: 1, doc: { scope, plain: true }, epoch: 'node' });
      }
    });

    socket.on('binary_query', (payload) => {
      const id = payload && payload.request_id;
      socket.emit('binary_query_response', { request_id: id, data: Buffer.from((payload && payload.bytes) || []) });
    });
  });

  io.of('/admin').on('connection', (socket) => {
    socket.emit('admin_hello', { nsp: '/admin' });
    socket.on('engine_id', (_payload, ack) => ack({ eio: socket.conn.id }));
    socket.on('trigger', ({ event, args = [], count = 1 } = {}) => {
      for (let i = 0; i < count; i++) socket.emit(event, ...args);
    });
    socket.on('echo', (payload, ack) => {
      if (typeof ack === 'function') ack({ nsp: '/admin', payload });
    });
    socket.on('ask', async ({ event = 'question', args = [], timeoutMs = 5000 } = {}) => {
      let answer = null;
      let error = null;
      try {
        answer = await socket.timeout(timeoutMs).emitWithAck(event, ...args);
      } catch (e) {
        error = e.message;
      }
      socket.emit('answered', { answer, error });
    });
  });

  const guarded = io.of('/guarded');
  guarded.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === 'secret') next();
    else next(new Error('not authorized'));
  });
  guarded.on('connection', (socket) => socket.emit('welcome', { ok: true }));
}

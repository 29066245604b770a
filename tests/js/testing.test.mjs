// `frinny-agent/testing` (js/testing/) under Node's test runner, as a module
// author's tests use it: every `server` method, the agent's states and
// their reasons, the error codes, the outgoing buffer and retry across a
// dropped link, option validation, metrics and synced state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestAgent } from '../../js/testing/index.js';

/** Lets queued microtasks and zero-delay timers run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A connected test agent, its server, and the state changes it reported. */
async function connected(options) {
  const { agent, server } = createTestAgent(options);
  const states = [];
  agent.onStateChange((state, reason) => states.push([state, reason]));
  await agent.connect();
  return { agent, server, states };
}

/** Asserts that `promise` rejects with an Error carrying `code` (and the given fields). */
async function rejectsWith(promise, code, fields = {}) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Error, 'an Error');
    assert.equal(err.code, code, `code of: ${err.message}`);
    for (const [k, v] of Object.entries(fields)) assert.equal(err[k], v, k);
    return true;
  });
}

test('connect: disconnected -> connecting -> connected, with the real reasons, then connection_established', async () => {
  const { agent, server } = createTestAgent({ query: { userId: 'u1' } });
  assert.equal(agent.state, 'disconnected');
  const states = [];
  agent.onStateChange((state, reason) => states.push([state, reason]));
  const hello = [];
  agent.subscribe('connection_established', (p) => hello.push(p));
  assert.equal(server.connected, false);
  await agent.connect();
  assert.equal(agent.state, 'connected');
  assert.equal(server.connected, true);
  assert.deepEqual(states, [['connecting', 'io client connect'], ['connected', 'connected']]);
  assert.equal(hello.length, 1);
  assert.equal(hello[0].userId, 'u1');
  assert.equal(hello[0].status, 'connected');
  await agent.connect(); // already connected: resolves at once
  assert.equal(agent.metrics().connects, 1);
  agent.close();
});

test('server.emit delivers to subscribe, once and subscribeAll, in the real order; unsubscribe stops it', async () => {
  const { agent, server } = await connected();
  const seen = [];
  const named = (p) => seen.push(['named', p.isTyping]);
  agent.subscribe('typing_status', named);
  agent.once('typing_status', (p) => seen.push(['once', p.isTyping]));
  const offAll = agent.subscribeAll((name, p) => seen.push(['all', name, p.isTyping]));
  assert.equal(server.emit('typing_status', { isTyping: true }), true);
  server.emit('typing_status', { isTyping: false });
  assert.deepEqual(seen, [
    ['named', true], ['once', true], ['all', 'typing_status', true],
    ['named', false], ['all', 'typing_status', false],
  ]);
  assert.equal(agent.unsubscribe('typing_status', named), true);
  assert.equal(agent.unsubscribe('typing_status', named), false);
  offAll();
  seen.length = 0;
  server.emit('typing_status', { isTyping: true });
  assert.deepEqual(seen, []);
  assert.equal(agent.subscriberCount, 0);
  agent.close();
});

test('server.emit: the payload crosses a wire (a copy, as JSON would carry it; binary as an ArrayBuffer)', async () => {
  const { agent, server } = await connected();
  const original = { message: 'hi', when: new Date(0), skip: undefined, nested: { n: 1 }, bytes: new Uint8Array([1, 2, 3]) };
  let got;
  agent.subscribe('notification', (p) => (got = p));
  server.emit('notification', original);
  assert.notEqual(got, original);
  assert.notEqual(got.nested, original.nested);
  assert.equal(got.when, '1970-01-01T00:00:00.000Z');
  assert.ok(!('skip' in got));
  assert.ok(got.bytes instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(got.bytes)], [1, 2, 3]);
  agent.close();
});

test('server.emitWithAck: every subscriber gets the same ack last; the first call answers, once', async () => {
  const { agent, server } = await connected();
  const acks = [];
  agent.subscribe('x-mod:confirm', (payload, ack) => {
    acks.push(ack);
    ack({ ok: payload.question === 'Roll?', bytes: new Uint8Array([1, 2]) }, 'more');
    ack('again');
  });
  agent.once('x-mod:confirm', (...args) => { acks.push(args.at(-1)); args.at(-1)('once'); });
  agent.subscribeAll('x-mod:*', (name, payload, ack) => { acks.push(ack); ack('all'); });
  const answer = await server.emitWithAck('x-mod:confirm', { question: 'Roll?' });
  assert.equal(answer.ok, true);
  assert.ok(answer.bytes instanceof ArrayBuffer, 'binary data crosses the wire as an ArrayBuffer');
  assert.deepEqual([...new Uint8Array(answer.bytes)], [1, 2]);
  assert.equal(acks.length, 3);
  assert.ok(acks.every((ack) => ack === acks[0]), 'one ack for all');
  assert.equal(agent.metrics().acksDropped, 3);
  // An event that does not ask gets no ack.
  const plain = [];
  agent.subscribe('x-mod:tell', (...args) => plain.push(args));
  server.emit('x-mod:tell', 1);
  assert.deepEqual(plain, [[1]]);
  // ack() with nothing answers undefined; args that cannot be sent throw and leave the question open.
  agent.subscribe('x-mod:empty', (ack) => ack());
  assert.equal(await server.emitWithAck('x-mod:empty'), undefined);
  agent.subscribe('x-mod:cyclic', (ack) => {
    const cyclic = {};
    cyclic.self = cyclic;
    assert.throws(() => ack(cyclic), { code: 'INVALID_PAYLOAD' });
    ack('sendable');
  });
  assert.equal(await server.emitWithAck('x-mod:cyclic'), 'sendable');
  agent.close();
});

test('server.emitWithAck: rejects DISCONNECTED while not connected or when the link ends first; a kept ack then does nothing', async () => {
  const { agent, server } = createTestAgent({ reconnectionDelay: 5, randomizationFactor: 0 });
  await rejectsWith(server.emitWithAck('x-mod:confirm', {}), 'DISCONNECTED');
  await agent.connect();
  let kept;
  agent.subscribe('x-mod:confirm', (_payload, ack) => { kept = ack; });
  const asked = server.emitWithAck('x-mod:confirm', {});
  server.drop();
  await rejectsWith(asked, 'DISCONNECTED');
  server.restore();
  await settle();
  assert.equal(agent.state, 'connected');
  kept('too late');
  assert.equal(agent.metrics().acksDropped, 1);
  // disconnect() ends the question too.
  const again = server.emitWithAck('x-mod:confirm', {});
  agent.disconnect();
  await rejectsWith(again, 'DISCONNECTED');
  kept('late again');
  assert.equal(agent.metrics().acksDropped, 2);
  agent.close();
});

test('server.emit while not connected is lost, and says so', async () => {
  const { agent, server } = createTestAgent();
  const seen = [];
  agent.subscribe('notification', (p) => seen.push(p));
  assert.equal(server.emit('notification', { message: 'early' }), false);
  await agent.connect();
  server.drop();
  assert.equal(server.emit('notification', { message: 'while dropped' }), false);
  assert.deepEqual(seen, []);
  agent.close();
});

test('a subscriber that throws: the others still run, onError gets CALLBACK_ERROR with the event and the cause', async () => {
  const { agent, server } = await connected();
  const errors = [];
  agent.onError((e) => errors.push(e));
  const boom = new Error('boom');
  const after = [];
  agent.subscribe('notification', () => {
    throw boom;
  });
  agent.subscribe('notification', (p) => after.push(p.message));
  server.emit('notification', { message: 'still here' });
  assert.deepEqual(after, ['still here']);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'CALLBACK_ERROR');
  assert.equal(errors[0].event, 'notification');
  assert.equal(errors[0].cause, boom);
  assert.equal(agent.metrics().errors.CALLBACK_ERROR, 1);
  agent.close();
});

test('server.handle answers with a value or a Promise; the Frinny helpers send the catalogue events', async () => {
  const { agent, server } = await connected();
  server.handle('query', ({ content }) => ({ content: `You asked: ${content}` }));
  server.handle('level_up', async (p) => ({ content: `Level ${p.level}` }));
  server.handle('feedback', (p) => ({ ok: true, got: p.type }));
  server.handle('character_creation_start', () => ({ content: 'a fighter?' }));
  server.handle('combat_turn', () => ({ content: 'strike' }));
  server.handle('combat_start', () => ({ content: 'roll' }));
  assert.deepEqual(await agent.sendQuery({ content: 'hi' }), { content: 'You asked: hi' });
  assert.deepEqual(await agent.notifyLevelUp({ actorId: 'a1', level: 5 }), { content: 'Level 5' });
  assert.deepEqual(await agent.submitFeedback('m1', 'positive'), { ok: true, got: 'positive' });
  assert.equal((await agent.notifyCharacterCreation({ actorId: 'a1' })).content, 'a fighter?');
  assert.equal((await agent.notifyCombatTurn({ actorId: 'a1' })).content, 'strike');
  assert.equal((await agent.notifyCombatStart({ round: 1 })).content, 'roll');
  assert.deepEqual(await agent.broadcastEvent('notification', { message: 'all' }), { ok: true, event: 'notification', recipients: 0 });
  assert.deepEqual(server.received.map((r) => r.name), [
    'query', 'level_up', 'feedback', 'character_creation_start', 'combat_turn', 'combat_start', 'broadcast',
  ]);
  const feedback = server.received[2].payload;
  assert.equal(feedback.messageId, 'm1');
  assert.equal(feedback.type, 'positive');
  assert.match(feedback.request_id, /^[0-9a-f]{8}-\d+$/, 'request_id as the real client makes it');
  assert.deepEqual(server.received[6].payload.payload, { message: 'all' });
  agent.close();
});

test('server.handle: a throw rejects SERVER_ERROR; a client code stays itself; a server code becomes serverCode', async () => {
  const { agent, server } = await connected();
  server.handle('plain', () => {
    throw new Error('no luck');
  });
  server.handle('limited', () => {
    throw Object.assign(new Error('slow down'), { code: 'RATE_LIMITED' });
  });
  server.handle('late', async () => {
    throw Object.assign(new Error('took too long'), { code: 'TIMEOUT' });
  });
  await rejectsWith(agent.request('plain', {}), 'SERVER_ERROR', { message: 'no luck' });
  await rejectsWith(agent.request('limited', {}), 'SERVER_ERROR', { serverCode: 'RATE_LIMITED', message: 'slow down' });
  await rejectsWith(agent.request('late', {}), 'TIMEOUT');
  const off = server.handle('plain', () => 'fine');
  assert.equal(await agent.request('plain', {}), 'fine', 'the latest handler wins');
  off();
  await rejectsWith(agent.request('plain', {}, { timeout: 5 }), 'TIMEOUT', { message: 'no reply to "plain" in time' });
  assert.deepEqual(agent.metrics().errors, { SERVER_ERROR: 2, TIMEOUT: 2 });
  assert.equal(agent.metrics().timeouts, 1);
  agent.close();
});

test('a request nobody handles waits; server.emit of its *_response or error (with its request_id) settles it', async () => {
  const { agent, server } = await connected();
  const answered = agent.request('query', { content: 'hello?' });
  const refused = agent.request('level_up', { level: 2 });
  await settle();
  const [q, l] = server.received.map((r) => r.payload.request_id);
  const replies = [];
  agent.subscribe('query_response', (p) => replies.push(p.content));
  server.emit('query_response', { request_id: q, content: 'hello!' });
  server.emit('error', { request_id: l, error: 'not now', code: 'FORBIDDEN' });
  assert.deepEqual(await answered, { request_id: q, content: 'hello!' });
  await rejectsWith(refused, 'SERVER_ERROR', { serverCode: 'FORBIDDEN', message: 'not now' });
  assert.deepEqual(replies, ['hello!'], 'the reply also reaches subscribers, as on the real client');
  // An error no request owns goes to onError.
  const errors = [];
  agent.onError((e) => errors.push(e));
  server.emit('error', { code: 'TOKEN_EXPIRED', message: 'token expired' });
  assert.equal(errors[0].code, 'SERVER_ERROR');
  assert.equal(errors[0].serverCode, 'TOKEN_EXPIRED');
  agent.close();
});

test('request options: timeout, signal (ABORTED), and INVALID_OPTIONS / INVALID_PAYLOAD as the real client checks them', async () => {
  const { agent, server } = await connected({ timeout: 20 });
  await rejectsWith(agent.request('silent', {}), 'TIMEOUT');
  const controller = new AbortController();
  const aborted = agent.request('silent', {}, { signal: controller.signal, timeout: 10_000 });
  controller.abort();
  await rejectsWith(aborted, 'ABORTED');
  await rejectsWith(agent.request('silent', {}, { signal: controller.signal }), 'ABORTED');
  await rejectsWith(agent.request('silent', {}, { timeout: 'soon' }), 'INVALID_OPTIONS');
  await rejectsWith(agent.request('silent', {}, { retries: 2 }), 'INVALID_OPTIONS');
  await rejectsWith(agent.request('silent', {}, { signal: {} }), 'INVALID_OPTIONS');
  await rejectsWith(agent.request('silent', 'text'), 'INVALID_PAYLOAD');
  await rejectsWith(agent.request('silent', [1, 2]), 'INVALID_PAYLOAD');
  await rejectsWith(agent.request('connect', {}), 'INVALID_PAYLOAD');
  assert.throws(() => agent.emit('disconnect', {}), { code: 'INVALID_PAYLOAD' });
  assert.throws(() => agent.emit('x', {}, { volatile: 'yes' }), { code: 'INVALID_OPTIONS' });
  assert.throws(() => agent.emit('x', {}, { priority: 'urgent' }), { code: 'INVALID_OPTIONS' });
  await rejectsWith(agent.request('silent', {}, { priority: 3 }), 'INVALID_OPTIONS', {
    message: "request option priority must be 'high', 'normal' or 'low', got number",
  });
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => agent.emit('x', cyclic), { code: 'INVALID_PAYLOAD' });
  assert.equal(agent.pendingCount, 0);
  void server;
  agent.close();
});

test('createTestAgent validates its options like new AgentManager: INVALID_OPTIONS', () => {
  for (const bad of [
    'http://x',
    [],
    { reconectionDelay: 10 },
    { timeout: -1 },
    { timeout: 1.5 },
    { bufferSize: 'many' },
    { randomizationFactor: 2 },
    { protocol: 'smoke' },
    { wrapEvents: ['level_up'] },
    { query: { userId: { nested: true } } },
    { auth: 'token' },
    { delay: 10, reconnectionDelay: 10 },
    { namespace: 'a,b' },
    { highWaterMark: -1 },
    { highWaterMark: 'lots' },
    { parser: 'cbor' },
    { parser: 'msgpack', protocol: 'json' },
  ]) {
    assert.throws(() => createTestAgent(bad), (err) => err instanceof Error && err.code === 'INVALID_OPTIONS', JSON.stringify(bad));
  }
  const { agent } = createTestAgent({
    url: 'https://frinny.example', path: '/socket.io/', query: { userId: 'u1', n: 1, b: true }, namespace: 'game',
    auth: { token: 't' }, reconnection: true, delay: 10, delayMax: 100, randomizationFactor: 0, attempts: Infinity,
    connectTimeout: 1000, timeout: 1000, bufferSize: 5, highWaterMark: 65536, protocol: 'socket.io', parser: 'msgpack',
  });
  assert.equal(agent.state, 'disconnected');
  assert.doesNotThrow(() => createTestAgent({ protocol: 'json', wrapEvents: ['level_up'] }));
  assert.doesNotThrow(() => createTestAgent());
});

test('server.drop / restore: reconnecting then reconnected; buffered emits flush; in-flight requests reject DISCONNECTED or are re-sent with retry', async () => {
  const { agent, server, states } = await connected({ reconnectionDelay: 60_000 });
  server.handle('slow', () => new Promise(() => {})); // never answers
  const lost = agent.request('slow', { n: 1 });
  const retried = agent.request('query', { content: 'again?' }, { retry: true });
  await settle();
  server.drop();
  assert.equal(server.reachable, false);
  assert.equal(agent.state, 'reconnecting');
  assert.deepEqual(states.at(-1), ['reconnecting', 'transport close']);
  assert.equal(typeof agent.nextReconnectAt, 'number', 'the backoff countdown, as the real client reports it');
  await rejectsWith(lost, 'DISCONNECTED', { message: 'link lost: transport close' });
  agent.emit('feedback', { messageId: 'm1', type: 'positive' });
  agent.emit('cursor', { x: 1 }, { volatile: true }); // dropped while offline
  const buffered = agent.request('level_up', { level: 3 });
  assert.equal(agent.metrics().buffered, 3, 'the retried request, the emit and the new request wait');
  assert.equal(agent.metrics().volatileDropped, 1);
  const before = server.received.length;
  server.handle('query', ({ content }) => ({ content: `re: ${content}` }));
  server.handle('level_up', () => ({ content: 'level 3' }));
  server.restore();
  assert.deepEqual(await retried, { content: 're: again?' });
  assert.deepEqual(await buffered, { content: 'level 3' });
  assert.equal(agent.state, 'connected');
  assert.deepEqual(states.at(-1), ['connected', 'reconnected']);
  assert.equal(agent.nextReconnectAt, undefined);
  assert.deepEqual(server.received.slice(before).map((r) => r.name), ['query', 'feedback', 'level_up'], 'the retry first, then the buffer in order');
  assert.equal(server.received.filter((r) => r.name === 'query').length, 2, 'the retried query went out twice');
  const m = agent.metrics();
  assert.equal(m.reconnects, 1);
  assert.equal(m.connects, 2);
  assert.equal(m.errors.DISCONNECTED, 1);
  agent.close();
});

test('drop with reconnection: false: disconnected, retry requests reject too, and connect() again after restore', async () => {
  const { agent, server, states } = await connected({ reconnection: false });
  server.handle('slow', () => new Promise(() => {}));
  const inFlight = agent.request('slow', {}, { retry: true });
  await settle();
  server.drop();
  await rejectsWith(inFlight, 'DISCONNECTED');
  assert.deepEqual(states.at(-1), ['disconnected', 'transport close']);
  server.restore();
  await settle();
  assert.equal(agent.state, 'disconnected', 'no automatic reconnection');
  await agent.connect();
  assert.equal(agent.state, 'connected');
  agent.close();
});

test('BUFFER_FULL once bufferSize messages wait; RECONNECT_FAILED when the attempts run out', async () => {
  const { agent, server, states } = await connected({ bufferSize: 2, reconnectionDelay: 1, reconnectionDelayMax: 1, reconnectionAttempts: 2 });
  server.drop();
  agent.emit('a', {});
  const waiting = agent.request('b', {});
  assert.throws(() => agent.emit('c', {}), { code: 'BUFFER_FULL' });
  await rejectsWith(agent.request('d', {}), 'BUFFER_FULL');
  await rejectsWith(waiting, 'RECONNECT_FAILED', { message: 'gave up after 2 reconnection attempts' });
  assert.deepEqual(states.at(-1), ['disconnected', 'reconnect failed']);
  agent.close();
});

test('priority: what waits leaves high, normal, low, in order within one; a full buffer gives up its oldest low item', async () => {
  const { agent, server } = await connected({ bufferSize: 4, reconnectionDelay: 60_000 });
  server.handle('q', ({ n }) => ({ n }));
  const errors = [];
  agent.onError((e) => errors.push(e));
  server.drop();
  agent.emit('e', { n: 'low-1' }, { priority: 'low' });
  const lowRequest = agent.request('q', { n: 'low-2' }, { priority: 'low' });
  agent.emit('e', { n: 'normal-1' });
  const high = agent.request('q', { n: 'high-1' }, { priority: 'high' });
  assert.deepEqual(agent.metrics().bufferedByPriority, { high: 1, normal: 1, low: 2 });
  // Full: a low item cannot get in; a normal one takes the oldest low one's place.
  assert.throws(() => agent.emit('e', { n: 'low-3' }, { priority: 'low' }), { code: 'BUFFER_FULL' });
  agent.emit('e', { n: 'normal-2' }, { priority: 'normal' });
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'BUFFER_FULL');
  assert.match(errors[0].message, /low-priority emit of "e"/);
  const normal = agent.request('q', { n: 'normal-3' });
  await rejectsWith(lowRequest, 'BUFFER_FULL');
  assert.throws(() => agent.emit('e', { n: 'high-2' }, { priority: 'high' }), { code: 'BUFFER_FULL' }, 'no low item left to give up');
  assert.equal(agent.metrics().lowDropped, 2);
  const before = server.received.length;
  server.restore();
  assert.deepEqual(await high, { n: 'high-1' });
  assert.deepEqual(await normal, { n: 'normal-3' });
  assert.deepEqual(server.received.slice(before).map((r) => r.payload.n), ['high-1', 'normal-1', 'normal-2', 'normal-3']);
  const m = agent.metrics();
  assert.deepEqual(m.bufferedByPriority, { high: 0, normal: 0, low: 0 });
  assert.equal(m.congested, false);
  agent.close();
});

test('connect() while the server is down: TIMEOUT after connectTimeout, and it goes on trying', async () => {
  const { agent, server } = createTestAgent({ connectTimeout: 20, reconnectionDelay: 1, reconnectionDelayMax: 5 });
  server.drop();
  await rejectsWith(agent.connect(), 'TIMEOUT');
  assert.equal(agent.state, 'reconnecting');
  const joined = agent.connect();
  server.restore();
  await joined;
  assert.equal(agent.state, 'connected');
  agent.close();
});

test('server.refuse: connect() rejects CONNECT_REFUSED with the server message; disconnect() rejects in-flight DISCONNECTED', async () => {
  const { agent, server } = createTestAgent();
  server.refuse('TOO_MANY_CONNECTIONS: 8 already');
  await rejectsWith(agent.connect(), 'CONNECT_REFUSED', { message: 'TOO_MANY_CONNECTIONS: 8 already' });
  assert.equal(agent.state, 'disconnected');
  server.refuse(null);
  await agent.connect();
  server.handle('slow', () => new Promise(() => {}));
  const pending = agent.request('slow', {});
  await settle();
  agent.disconnect();
  await rejectsWith(pending, 'DISCONNECTED', { message: 'link lost: disconnect() was called' });
  assert.equal(agent.state, 'disconnected');
  agent.close();
});

test('auth: the object or what the function gives reaches server.auth on every attempt; a failing function is AUTH_FAILED', async () => {
  let n = 0;
  const { agent, server } = createTestAgent({ auth: (cb) => cb({ token: `t${++n}` }), reconnectionDelay: 1, reconnectionDelayMax: 1 });
  await agent.connect();
  assert.deepEqual(server.auth, { token: 't1' });
  server.drop();
  server.restore();
  await new Promise((resolve) => agent.onStateChange((s) => s === 'connected' && resolve()));
  assert.deepEqual(server.auth, { token: 't2' }, 'a fresh token for the reconnect');
  agent.close();

  let fail = true;
  const second = createTestAgent({ auth: async () => (fail ? Promise.reject(new Error('no token service')) : { token: 'ok' }), reconnectionDelay: 1, reconnectionDelayMax: 1 });
  const errors = [];
  second.agent.onError((e) => errors.push(e));
  const joined = second.agent.connect();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(errors[0]?.code, 'AUTH_FAILED');
  assert.match(errors[0].message, /no token service/);
  fail = false;
  await joined;
  assert.deepEqual(second.server.auth, { token: 'ok' });
  second.agent.close();
});

test('close(): pending requests reject CLOSED, listeners hear closed, every callback is released, later calls fail CLOSED', async () => {
  const { agent, server, states } = await connected();
  server.handle('slow', () => new Promise(() => {}));
  const pending = agent.request('slow', {});
  const syncing = agent.syncState('never');
  server.drop();
  const buffered = agent.request('b', {});
  agent.subscribe('x', () => {});
  assert.ok(agent.heldCallbacks > 0);
  agent.close();
  await rejectsWith(pending, 'DISCONNECTED'); // it was in flight when the link dropped
  await rejectsWith(buffered, 'CLOSED');
  await rejectsWith(syncing, 'CLOSED');
  assert.deepEqual(states.at(-1), ['closed', 'closed']);
  assert.equal(agent.state, 'closed');
  assert.equal(agent.heldCallbacks, 0);
  await rejectsWith(agent.request('q', {}), 'CLOSED');
  await rejectsWith(agent.connect(), 'CLOSED');
  assert.throws(() => agent.emit('q', {}), { code: 'CLOSED' });
  assert.throws(() => agent.subscribe('q', () => {}), { code: 'CLOSED' });
  agent.close(); // harmless
});

test('metrics() has the real client\'s shape', async () => {
  const { agent, server } = await connected();
  server.emit('notification', { message: 'x' });
  const m = agent.metrics();
  assert.deepEqual(Object.keys(m), [
    'state', 'connects', 'reconnects', 'framesIn', 'framesOut', 'bytesIn', 'bytesOut', 'eventsDispatched',
    'pendingRequests', 'buffered', 'timeouts', 'volatileDropped', 'errors', 'lastPingMs', 'dispatchP50Us',
    'dispatchP99Us', 'subscribers', 'stateSync', 'transport', 'upgrades', 'bufferedByPriority', 'lowDropped',
    'congested', 'acksDropped',
  ]);
  assert.deepEqual(Object.keys(m.stateSync), ['gaps', 'resyncs', 'rollbacks', 'conflicts']);
  assert.equal(m.state, 'connected');
  assert.equal(m.transport, 'websocket');
  assert.equal(agent.transport, 'websocket');
  assert.equal(m.eventsDispatched, 2, 'connection_established and the notification');
  assert.ok(m.bytesIn > 0);
  agent.close();
});

test('server.setState drives synced state: syncState, subscribeState, getState', async () => {
  const { agent, server } = await connected();
  server.setState('world', { weather: 'fog' });
  assert.deepEqual(await agent.syncState('world'), { weather: 'fog' });
  const seen = [];
  agent.subscribeState('world', (doc, change) => seen.push([doc, change]));
  assert.equal(server.setState('world', { weather: 'rain', round: 1 }), 2);
  assert.deepEqual(seen, [[{ weather: 'rain', round: 1 }, { type: 'snapshot', version: 2 }]]);
  assert.deepEqual(agent.getState('world'), { weather: 'rain', round: 1 });
  assert.equal(agent.getState('unknown'), undefined);
  assert.deepEqual(server.received.filter((r) => r.name.startsWith('state:')).map((r) => [r.name, r.payload.scope]), [['state:subscribe', 'world']]);
  agent.close();
});

test('updateState / replaceState apply on the server too; optimistic shows at once', async () => {
  const { agent, server } = await connected();
  await agent.syncState('combat:c1');
  const seen = [];
  agent.subscribeState('combat:c1', (doc, change) => seen.push(change.type));
  const done = agent.updateState('combat:c1', { round: 1 }, { optimistic: true });
  assert.deepEqual(agent.getState('combat:c1'), { round: 1 }, 'visible before the server answers');
  assert.deepEqual(await done, { version: 1 });
  assert.deepEqual(server.state('combat:c1'), { version: 1, doc: { round: 1 } });
  assert.deepEqual(await agent.replaceState('combat:c1', { round: 2, turn: 0 }), { version: 2 });
  assert.deepEqual(server.state('combat:c1').doc, { round: 2, turn: 0 });
  assert.deepEqual(seen, ['optimistic', 'patch', 'patch']);
  await rejectsWith(agent.updateState('combat:c1', 'text'), 'INVALID_PAYLOAD');
  await rejectsWith(agent.updateState('other', { a: 1 }), 'NOT_SYNCED');
  await rejectsWith(agent.replaceState('combat:c1', { round: { nested: null } }), 'INVALID_PAYLOAD');
  agent.close();
});

test('a conflicting update: onConflict re-submits; without a resolver the server wins (CONFLICT, rolled back)', async () => {
  const { agent, server } = await connected();
  server.setState('world', { notes: ['a'] });
  await agent.syncState('world');
  // Another writer gets in before our update reaches the server.
  const mine = agent.updateState('world', { notes: ['a', 'mine'] }, { optimistic: true });
  server.setState('world', { notes: ['a', 'theirs'] });
  agent.onConflict('world', (local, srv) => ({ notes: [...srv.notes, ...local.notes.filter((n) => !srv.notes.includes(n))] }));
  assert.deepEqual(await mine, { version: 3 });
  assert.deepEqual(server.state('world').doc, { notes: ['a', 'theirs', 'mine'] });

  const { agent: other, server: otherServer } = await connected();
  await other.syncState('world');
  const changes = [];
  other.subscribeState('world', (doc, change) => changes.push([change.type, doc.x]));
  const lost = other.updateState('world', { x: 'mine' }, { optimistic: true });
  otherServer.setState('world', { x: 'theirs' });
  await rejectsWith(lost, 'CONFLICT');
  assert.deepEqual(other.getState('world'), { x: 'theirs' });
  assert.deepEqual(changes.map(([type]) => type), ['optimistic', 'snapshot', 'conflict']);
  agent.close();
  other.close();
});

test('synced state across a dropped link: the scope catches up after restore, then updates made meanwhile go out against it', async () => {
  const { agent, server } = await connected({ reconnectionDelay: 60_000 });
  await agent.syncState('world');
  const seen = [];
  agent.subscribeState('world', (doc, change) => seen.push(change.type));
  server.drop();
  const later = agent.updateState('world', { weather: 'snow' }, { optimistic: true });
  server.setState('world', { weather: 'fog', wind: 'strong' }); // while the agent is away
  assert.deepEqual(agent.getState('world'), { weather: 'snow' });
  server.restore();
  // As the real store does: an update goes out against the version held when it is sent.
  assert.deepEqual(await later, { version: 2 });
  assert.deepEqual(server.state('world'), { version: 2, doc: { weather: 'snow', wind: 'strong' } });
  assert.deepEqual(agent.getState('world'), { weather: 'snow', wind: 'strong' });
  assert.deepEqual(seen, ['optimistic', 'snapshot', 'patch']);
  agent.close();
});

test('a state:update handler may refuse with the server\'s code; unsyncState rejects waiting syncState with UNSUBSCRIBED', async () => {
  const { agent, server } = await connected();
  await agent.syncState('world');
  server.handle('state:update', () => {
    throw Object.assign(new Error('players may not write the world'), { code: 'FORBIDDEN' });
  });
  await rejectsWith(agent.updateState('world', { a: 1 }), 'FORBIDDEN');
  server.handle('state:subscribe', () => new Promise(() => {}));
  const waiting = agent.syncState('stuck');
  agent.unsyncState('stuck');
  await rejectsWith(waiting, 'UNSUBSCRIBED');
  agent.close();
});

test('the test agent has every member the AgentManager types declare (pkg/frinny_agent.d.ts and js/index.d.ts)', async (t) => {
  const { existsSync, readFileSync } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const root = new URL('../../', import.meta.url);
  const wasmTypes = new URL('pkg/frinny_agent.d.ts', root);
  if (!existsSync(wasmTypes)) {
    t.skip('pkg/ is not built (cargo xtask build)');
    return;
  }
  const ts = createRequire(import.meta.url)(new URL('node_modules/typescript/lib/typescript.js', root).pathname);
  const members = new Set();
  for (const [file, owner] of [[wasmTypes, 'AgentManager'], [new URL('js/index.d.ts', root), 'TypedEvents']]) {
    const src = ts.createSourceFile(file.pathname, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const node of src.statements) {
      if ((ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) && node.name?.text === owner) {
        for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) members.add(m.name.text);
      }
    }
  }
  assert.ok(members.size > 30, `found the class's members: ${[...members]}`);
  const { agent } = createTestAgent();
  const missing = [...members].filter((name) => !(name in agent));
  assert.deepEqual(missing, [], 'members of AgentManager the test agent lacks');
  assert.equal(typeof agent[Symbol.dispose], typeof Symbol.dispose === 'symbol' ? 'function' : 'undefined');
  agent.close();
});

test('an answer that cannot cross the wire rejects PROTOCOL_ERROR; free() ends the agent without telling the listeners', async () => {
  const { agent, server } = await connected();
  server.handle('cyclic', () => {
    const reply = {};
    reply.self = reply;
    return reply;
  });
  await rejectsWith(agent.request('cyclic', {}), 'PROTOCOL_ERROR');
  const heard = [];
  agent.onStateChange((state) => heard.push(state));
  agent.free();
  assert.equal(agent.state, 'closed');
  assert.deepEqual(heard, [], 'free() calls no listener');
  assert.equal(agent.heldCallbacks, 0);
  agent.close(); // harmless after free()
});

test('filters, name patterns, the inspector tap, inspectState and debug, as the real client has them', async (t) => {
  const { agent, server } = await connected();
  const mine = [];
  const once = [];
  const family = [];
  const errors = [];
  agent.onError((e) => errors.push(e.code));
  agent.subscribe('character_update', (u) => mine.push(u.actorId), { filter: (u) => u.actorId === 'a1' });
  agent.once('character_update', (u) => once.push(u.actorId), { filter: (u) => u.actorId === 'a1' });
  agent.subscribe('character_update', () => {}, { filter: () => { throw new Error('bad'); } });
  agent.subscribeAll('x-my-module:*', (name) => family.push(name));
  agent.subscribeAll(/^typing_/g, (name) => family.push(name));
  assert.throws(() => agent.subscribe('x', () => {}, { filter: 'no' }), { code: 'INVALID_OPTIONS' });
  assert.throws(() => agent.subscribeAll(7, () => {}), { code: 'INVALID_OPTIONS' });
  const records = [];
  const held = agent.heldCallbacks;
  const off = agent.inspect((r) => records.push(r));
  assert.equal(agent.heldCallbacks, held + 1);
  for (const actorId of ['a2', 'a1', 'a1']) server.emit('character_update', { actorId, updates: {} });
  server.emit('x-my-module:roll', { total: 1 });
  server.emit('x-other:roll', { total: 2 });
  server.emit('typing_status', { isTyping: true });
  assert.deepEqual(mine, ['a1', 'a1']);
  assert.deepEqual(once, ['a1']);
  assert.deepEqual(family, ['x-my-module:roll', 'typing_status']);
  assert.deepEqual(errors, ['CALLBACK_ERROR', 'CALLBACK_ERROR', 'CALLBACK_ERROR'], 'a throwing filter is a throwing subscriber');
  server.handle('query', () => ({ content: 'hi' }));
  await agent.request('query', { content: 'q' });
  const frames = records.filter((r) => r.type === 'frame').map((r) => `${r.direction} ${r.data.slice(0, 3)}`);
  assert.ok(frames.includes('in 42['), frames.join());
  assert.ok(frames.some((f) => /^out 42\d/.test(f)), 'a request goes out with its ack id');
  assert.ok(frames.some((f) => /^in 43\d/.test(f)), 'and its answer comes back as an ack');
  off();
  assert.equal(agent.heldCallbacks, held - 1, 'the inspector is let go, and the once ended as it fired');

  server.setState('world', { hp: 3 });
  await agent.syncState('world');
  assert.deepEqual(agent.inspectState('world'), { scope: 'world', version: 1, confirmed: { hp: 3 }, doc: { hp: 3 }, pending: [], lastConflict: null });
  assert.deepEqual(agent.inspectState().map((s) => s.scope), ['world']);
  assert.equal(agent.inspectState('nowhere'), undefined);

  const groups = t.mock.method(console, 'groupCollapsed', () => {});
  t.mock.method(console, 'log', () => {});
  t.mock.method(console, 'groupEnd', () => {});
  agent.debug = true;
  server.emit('typing_status', { isTyping: false });
  agent.debug = false;
  server.emit('typing_status', { isTyping: true });
  assert.deepEqual(groups.mock.calls.map((c) => c.arguments[0]), [`frinny-agent ⇣ typing_status (${'42["typing_status",{"isTyping":false}]'.length} B)`]);
  agent.close();
  assert.equal(agent.heldCallbacks, 0);
});

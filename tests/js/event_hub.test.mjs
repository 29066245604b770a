// The event hub (src/web/event_hub.js) on its own, under node: the fast
// path's decisions and the dispatch rules both paths share. The browser
// tests (tests/browser_agent.rs) check the same rules through AgentManager
// against a real socket.io server.
import test from 'node:test';
import assert from 'node:assert/strict';
import { EventHub } from '../../src/web/event_hub.js';

const CORE = ['error', 'connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener', 'state:patch'];

function hub({ gate = 1, maxUnits = 1000 } = {}) {
  const thrown = [];
  const h = new EventHub((name, e) => thrown.push([name, e.message]), maxUnits, CORE);
  h.gate = gate;
  h.generation = 7;
  const slow = [];
  const onmessage = h.onmessage(7, (e) => slow.push(e.data));
  return { h, thrown, slow, onmessage };
}

const frame = (name, ...args) => '42' + JSON.stringify([name, ...args]);

test('plain events are delivered without the slow path and counted', () => {
  const { h, slow, onmessage } = hub();
  const got = [];
  h.add('tick', (...a) => got.push(a), false);
  onmessage({ data: frame('tick', 1, { x: 2 }) });
  onmessage({ data: frame('tick') });
  onmessage({ data: frame('nobody', 3) });
  assert.deepEqual(got, [[1, { x: 2 }], []]);
  assert.deepEqual(slow, []);
  const [frames, events, units, ...samples] = h.drain();
  assert.equal(frames, 3);
  assert.equal(events, 3);
  assert.equal(units, frame('tick', 1, { x: 2 }).length + frame('tick').length + frame('nobody', 3).length);
  assert.equal(samples.length, 1, 'the first dispatch is timed');
  assert.deepEqual([...h.drain()], [0, 0, 0], 'drained');
});

test('everything the core must see takes the slow path', () => {
  const { h, slow, onmessage } = hub();
  h.add('tick', () => assert.fail('not delivered here'), false);
  const frames = [
    '2', // ping
    '41', // disconnect
    '43["tick"]', // an ack
    '421["tick"]', // asks for an ack
    '42/admin,["tick"]', // another namespace
    '451-["tick",{"_placeholder":true,"num":0}]', // binary
    '42["tick",', // not JSON
    '42[1,2]', // numeric name
    frame('error', { message: 'x' }),
    frame('connect'),
    frame('state:patch', { scope: 's' }),
  ];
  for (const data of frames) onmessage({ data });
  onmessage({ data: new ArrayBuffer(2) });
  assert.equal(slow.length, frames.length + 1);
  assert.equal(h.drain()[0], 0);
});

test('the gate decides: closed, open, open except replies; old sockets never', () => {
  const { h, slow, onmessage } = hub({ gate: 0 });
  const got = [];
  h.add('query_response', (p) => got.push(p), false);
  onmessage({ data: frame('query_response', 1) });
  assert.equal(slow.length, 1, 'closed');
  h.gate = 2;
  onmessage({ data: frame('query_response', 2) });
  assert.equal(slow.length, 2, 'a waiting request may be answered by it');
  h.gate = 1;
  onmessage({ data: frame('query_response', 3) });
  assert.deepEqual(got, [3]);
  h.generation = 8;
  onmessage({ data: frame('query_response', 4) });
  assert.equal(slow.length, 3, "an old socket's event");
});

test('frames longer than maxUnits go to the core, which measures bytes', () => {
  const { h, slow, onmessage } = hub({ maxUnits: 20 });
  h.add('t', () => {}, false);
  onmessage({ data: frame('t', 'x'.repeat(30)) });
  assert.equal(slow.length, 1);
});

test('order, once, catch-alls, unsubscribing during a dispatch, throwing callbacks', () => {
  const { h, thrown } = hub();
  const log = [];
  let offB;
  h.add('e', (v) => { log.push(['a', v]); offB(); }, false);
  offB = h.add('e', (v) => log.push(['b', v]), false);
  h.add('e', (v) => log.push(['once', v]), true);
  h.add(undefined, (name, v) => log.push(['all', name, v]), false);
  h.add('e', () => { throw new Error('boom'); }, false);
  assert.equal(h.count, 5);
  h.deliver('e', [1]);
  h.deliver('e', [2]);
  assert.deepEqual(log, [['a', 1], ['once', 1], ['all', 'e', 1], ['a', 2], ['all', 'e', 2]]);
  assert.deepEqual(thrown, [['e', 'boom'], ['e', 'boom']]);
  assert.equal(h.count, 3, 'b and once ended');
  offB(); // a second call does nothing
  assert.equal(h.count, 3);
});

test('a subscription made during a dispatch sees only later events', () => {
  const { h } = hub();
  const log = [];
  h.add('e', (v) => { log.push(['first', v]); if (v === 1) h.add('e', (w) => log.push(['late', w]), false); }, false);
  h.deliver('e', [1]);
  h.deliver('e', [2]);
  assert.deepEqual(log, [['first', 1], ['first', 2], ['late', 2]]);
});

test('removeNamed, wants, clear', () => {
  const { h, thrown, onmessage } = hub();
  const cb = () => {};
  h.add('e', cb, false);
  h.add('e', cb, false);
  h.add('f', cb, false);
  assert.equal(h.wants('e'), true);
  assert.equal(h.wants('g'), false);
  assert.equal(h.removeNamed('e', cb), 2);
  assert.equal(h.removeNamed('e', cb), 0);
  assert.equal(h.wants('e'), false);
  const off = h.add(undefined, () => { throw new Error('late'); }, false);
  assert.equal(h.wants('anything'), true);
  h.clear();
  assert.equal(h.count, 0);
  assert.equal(h.gate, 0);
  off(); // no throw after clear
  h.deliver('f', []);
  onmessage({ data: frame('f') });
  assert.deepEqual(thrown, []);
});

test("gate 2 leaves the core's replies to it, and nothing else", () => {
  const h = new EventHub(() => {}, 1000, CORE, ['error', 'answer'], '_response');
  h.gate = 2;
  h.generation = 7;
  const slow = [];
  const onmessage = h.onmessage(7, (e) => slow.push(e.data));
  const got = [];
  h.add(undefined, (name) => got.push(name), false);
  for (const name of ['query_response', 'answer', 'error', 'typing_status', 'tick']) onmessage({ data: frame(name) });
  assert.deepEqual(got, ['typing_status', 'tick']);
  assert.equal(slow.length, 3);
});

test('other listeners: kept by kind and key, in order, removable during a notify, throws reported', () => {
  const { h, thrown } = hub();
  const log = [];
  let offB;
  h.listen('doc', 'world', (doc) => { log.push(['a', doc]); offB(); });
  offB = h.listen('doc', 'world', (doc) => log.push(['b', doc]));
  h.listen('doc', 'world', () => { throw new Error('doc boom'); });
  h.listen('doc', 'user:u1', (doc) => log.push(['user', doc]));
  h.listen('state', 'stateChange', (state, reason) => log.push(['state', state, reason]));
  assert.equal(h.held, 5);
  assert.equal(h.count, 0, 'count is event subscriptions only');
  assert.equal(h.notify('doc', 'world', [1]), 3, 'how many there were');
  assert.deepEqual(log, [['a', 1]], 'b was removed by a, before its turn');
  assert.deepEqual(thrown, [['world', 'doc boom']]);
  assert.equal(h.notify('state', 'stateChange', ['connected', 'io']), 1);
  assert.equal(h.notify('conflict', 'world', []), 0);
  assert.deepEqual(log.at(-1), ['state', 'connected', 'io']);
  assert.equal(h.held, 4);
  offB(); // idempotent
  assert.equal(h.held, 4);
});

test('an onError listener that throws goes to the console, not to thrown', () => {
  const { h, thrown } = hub();
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  try {
    h.listen('error', 'error', () => { throw new Error('loop?'); });
    const got = [];
    h.listen('error', 'error', (e) => got.push(e));
    assert.equal(h.notify('error', 'error', ['E']), 2);
    assert.deepEqual(got, ['E']);
  } finally {
    console.error = original;
  }
  assert.deepEqual(thrown, []);
  assert.equal(logged.length, 1);
});

test('latest gives the last live resolver; clear releases every kind', () => {
  const { h } = hub();
  const first = () => 1;
  const second = () => 2;
  h.listen('conflict', 'world', first);
  const off = h.listen('conflict', 'world', second);
  assert.equal(h.latest('conflict', 'world'), second);
  off();
  assert.equal(h.latest('conflict', 'world'), first);
  assert.equal(h.latest('conflict', 'other'), undefined);
  const offDoc = h.listen('doc', 'world', () => assert.fail('cleared'));
  h.add('e', () => {}, false);
  h.clear();
  assert.equal(h.held, 0);
  assert.equal(h.latest('conflict', 'world'), undefined);
  assert.equal(h.notify('doc', 'world', []), 0);
  offDoc(); // no throw after clear
  assert.equal(h.held, 0);
});

test('a filter lets through only the payloads it accepts, and costs nothing to others', () => {
  const { h, thrown, onmessage } = hub();
  const mine = [];
  const every = [];
  h.add('character_update', (p) => mine.push(p.actorId), false, { filter: (p) => p.actorId === 'a1' });
  h.add('character_update', (p) => every.push(p.actorId), false, {});
  h.add('character_update', (p) => every.push(`u:${p.actorId}`), false, undefined);
  onmessage({ data: frame('character_update', { actorId: 'a1' }) });
  onmessage({ data: frame('character_update', { actorId: 'a2' }) });
  assert.deepEqual(mine, ['a1']);
  assert.deepEqual(every, ['a1', 'u:a1', 'a2', 'u:a2']);
  assert.deepEqual(thrown, []);
});

test('a once with a filter fires on the first accepted event only', () => {
  const { h, onmessage } = hub();
  const got = [];
  h.add('tick', (n) => got.push(n), true, { filter: (n) => n > 1 });
  for (const n of [1, 2, 3]) onmessage({ data: frame('tick', n) });
  assert.deepEqual(got, [2]);
  assert.equal(h.count, 0, 'the once ended as it fired');
});

test('a throwing filter is reported like a throwing subscriber and skips only its subscriber', () => {
  const { h, thrown, onmessage } = hub();
  const got = [];
  h.add('tick', () => got.push('filtered'), false, { filter: () => { throw new Error('bad filter'); } });
  h.add('tick', () => got.push('plain'), false);
  onmessage({ data: frame('tick', 1) });
  assert.deepEqual(got, ['plain']);
  assert.deepEqual(thrown, [['tick', 'bad filter']]);
});

test('a filter that is not a function is refused with INVALID_OPTIONS', () => {
  const { h } = hub();
  assert.throws(() => h.add('tick', () => {}, false, { filter: 'yes' }), { code: 'INVALID_OPTIONS' });
  assert.equal(h.count, 0);
});

test('subscribeAll patterns: globs and RegExps; no pattern takes every event', () => {
  const { h, onmessage } = hub();
  const got = { glob: [], exact: [], re: [], all: [] };
  h.addAll('x-my-module:*', (name) => got.glob.push(name));
  h.addAll('typing_status', (name) => got.exact.push(name));
  h.addAll(/_response$/g, (name) => got.re.push(name));
  h.addAll((name) => got.all.push(name));
  for (const name of ['x-my-module:roll', 'x-other:roll', 'typing_status', 'query_response', 'level_up_response', 'x-my-module:']) {
    onmessage({ data: frame(name, {}) });
  }
  assert.deepEqual(got.glob, ['x-my-module:roll', 'x-my-module:']);
  assert.deepEqual(got.exact, ['typing_status']);
  assert.deepEqual(got.re, ['query_response', 'level_up_response'], 'a g flag keeps no state between names');
  assert.equal(got.all.length, 6);
  const dots = [];
  h.addAll('a.b*', (name) => dots.push(name));
  onmessage({ data: frame('a.bc', {}) });
  onmessage({ data: frame('axbc', {}) });
  assert.deepEqual(dots, ['a.bc'], 'only * is special in a glob');
  assert.throws(() => h.addAll(42, () => {}), { code: 'INVALID_OPTIONS' });
  assert.throws(() => h.addAll('x*', 'not a function'), { code: 'INVALID_OPTIONS' });
});

test('the inspector tap: unset while nobody inspects; frames in and out, state changes', () => {
  const { h, onmessage } = hub();
  assert.equal(h.inspector, undefined, 'nobody inspects: one comparison per frame');
  const records = [];
  const off = h.inspect((r) => records.push(r));
  assert.equal(h.held, 1, 'an inspector is a held callback');
  onmessage({ data: frame('tick', 1) });
  const sent = [];
  const ws = { send: (d) => sent.push(d) };
  h.send(ws, '42["hello"]');
  h.send(ws, new Uint8Array([1, 2, 3]));
  h.notify('state', 'stateChange', ['connected', 'connected']);
  // A late frame of an old socket is not the current link's.
  h.onmessage(6, () => {})({ data: frame('old') });
  assert.deepEqual(records.map((r) => [r.type, r.direction ?? r.state, typeof r.data === 'string' ? r.data : r.data?.byteLength]), [
    ['frame', 'in', frame('tick', 1)],
    ['frame', 'out', '42["hello"]'],
    ['frame', 'out', 3],
    ['state', 'connected', undefined],
  ]);
  assert.ok(records[2].data instanceof ArrayBuffer, 'bytes are copied out of wasm memory');
  assert.equal(sent.length, 2);
  assert.ok(records.every((r) => typeof r.time === 'number'));
  off();
  off();
  assert.equal(h.inspector, undefined, 'the tap is unset again');
  assert.equal(h.held, 0);
  h.send({ send() { throw new Error('not open'); } }, 'x'); // dropped, as the driver wants
});

test('an inspector that throws goes to the console and stops nothing', (t) => {
  const { h, onmessage } = hub();
  const errors = t.mock.method(console, 'error', () => {});
  const got = [];
  h.inspect(() => { throw new Error('boom'); });
  h.inspect((r) => got.push(r.type));
  h.add('tick', () => got.push('delivered'), false);
  onmessage({ data: frame('tick') });
  assert.deepEqual(got, ['frame', 'delivered']);
  assert.equal(errors.mock.callCount(), 1);
});

test('debug logs each frame and state change as a collapsed console group', (t) => {
  const { h, onmessage } = hub();
  const groups = t.mock.method(console, 'groupCollapsed', () => {});
  const logs = t.mock.method(console, 'log', () => {});
  const ends = t.mock.method(console, 'groupEnd', () => {});
  h.debug = true;
  assert.notEqual(h.inspector, undefined);
  onmessage({ data: frame('typing_status', { isTyping: true }) });
  h.send({ send() {} }, '420["query",{"content":"é"}]');
  h.notify('state', 'stateChange', ['reconnecting', 'transport close']);
  const titles = groups.mock.calls.map((c) => c.arguments.join(' '));
  assert.deepEqual(titles, [
    `frinny-agent ⇣ typing_status (${frame('typing_status', { isTyping: true }).length} B)`,
    'frinny-agent ⇡ query (29 B)', // UTF-8 bytes: é is two
    'frinny-agent ● reconnecting transport close',
  ]);
  assert.equal(ends.mock.callCount(), 3);
  assert.deepEqual(logs.mock.calls[1].arguments[0], ['typing_status', { isTyping: true }], 'the JSON, readable');
  h.debug = false;
  assert.equal(h.inspector, undefined);
  assert.equal(h.held, 0, 'debug is not a held callback');
});

test('clear lets go of inspectors and debug', () => {
  const { h } = hub();
  h.inspect(() => {});
  h.debug = true;
  h.clear();
  assert.equal(h.inspector, undefined);
  assert.equal(h.held, 0);
  assert.equal(h.debug, false);
});

test('an event that asks for an answer: every subscriber gets the same ack last, which hands the key and its args to answer', () => {
  const answers = [];
  const h = new EventHub(() => {}, 1000, CORE, [], '', (key, args) => answers.push([key, args]));
  const acks = [];
  h.add('ask', (payload, ack) => { acks.push(ack); ack({ got: payload }); ack('twice'); }, false);
  h.add('ask', (...args) => acks.push(args.at(-1)), true);
  h.add('ask', () => assert.fail('filtered out'), false, { filter: (p) => p.q !== 1 });
  h.addAll('a*', (name, payload, ack) => { acks.push(ack); ack(); });
  h.addAll((name, ...args) => acks.push(args.at(-1)));
  h.deliverAsking('ask', [{ q: 1 }], 17);
  assert.equal(acks.length, 4);
  assert.ok(acks.every((ack) => typeof ack === 'function' && ack === acks[0]), 'one ack for all');
  // The hub passes every call on; the core keeps the first.
  assert.deepEqual(answers, [[17, [{ got: { q: 1 } }]], [17, ['twice']], [17, []]]);
  // An event without a question gets no ack.
  const plain = [];
  h.add('tell', (...args) => plain.push(args), false);
  h.deliver('tell', [1]);
  assert.deepEqual(plain, [[1]]);
  // What answer throws reaches the caller of ack.
  const refusing = new EventHub(() => {}, 1000, CORE, [], '', () => { throw Object.assign(new Error('cyclic'), { code: 'INVALID_PAYLOAD' }); });
  let thrown;
  refusing.add('ask', (ack) => { try { ack(1); } catch (e) { thrown = e.code; } }, false);
  refusing.deliverAsking('ask', [], 3);
  assert.equal(thrown, 'INVALID_PAYLOAD');
});

test('after clear an ack does nothing', () => {
  const answers = [];
  const h = new EventHub(() => {}, 1000, CORE, [], '', (key) => answers.push(key));
  let kept;
  h.add('ask', (ack) => { kept = ack; }, false);
  h.deliverAsking('ask', [], 1);
  h.clear();
  kept('late');
  assert.deepEqual(answers, []);
});

test('a batch envelope is an ordinary event until the server offers batching', () => {
  const { h, slow, onmessage } = hub();
  const got = [];
  h.add('batch', (p) => got.push(p), false);
  h.add('tick', () => assert.fail('not unpacked'), false);
  onmessage({ data: frame('batch', [['tick', 1]]) });
  assert.deepEqual(got, [[['tick', 1]]]);
  assert.deepEqual(slow, []);
});

test('with batching on, a batch is unpacked in order to the same subscribers, one frame counted', () => {
  const { h, slow, onmessage } = hub();
  h.batching = true;
  const got = [];
  h.add('tick', (p) => got.push(['tick', p]), false);
  h.add('tock', (...a) => got.push(['tock', ...a]), false);
  h.addAll('t*', (name) => got.push(['all', name]));
  h.add('batch', () => assert.fail('the envelope itself is not an event'), false);
  const data = frame('batch', [['tick', 1], ['tock'], ['tick', 2], ['tock', 3, 4]]);
  onmessage({ data });
  assert.deepEqual(slow, []);
  assert.deepEqual(got, [
    ['tick', 1], ['all', 'tick'], ['tock'], ['all', 'tock'], ['tick', 2], ['all', 'tick'], ['tock', 3, 4], ['all', 'tock'],
  ]);
  const [frames, events, units] = h.drain();
  assert.deepEqual([frames, events, units], [1, 4, data.length]);
});

test('a batch the fast path cannot deliver whole goes to the core whole', () => {
  const { h, slow, onmessage } = hub();
  h.batching = true;
  h.add('tick', () => assert.fail('nothing delivered before the core sees it'), false);
  const envelopes = [
    frame('batch', [['tick', 1], 7]), // an entry that is not an array
    frame('batch', [['tick', 1], [3]]), // no string name
    frame('batch', [['tick', 1], []]), // empty
    frame('batch', [['tick', 1], ['state:patch', { scope: 's' }]]), // the sync store's
    frame('batch', [['tick', 1], ['error', { message: 'x' }]]), // onError's
    frame('batch', [['batch', []]]), // nested
    frame('batch', { tick: 1 }), // not an array
    frame('batch', [['tick', 1]], 'extra'),
  ];
  for (const data of envelopes) onmessage({ data });
  h.gate = 2;
  onmessage({ data: frame('batch', [['tick', 1], ['query_response', { request_id: 'r' }]]) });
  assert.equal(slow.length, envelopes.length + 1);
  assert.equal(h.drain()[0], 0);
});

test('scheduleFlush calls the flusher once per tick, and never after clear', async () => {
  const { h } = hub();
  let calls = 0;
  h.flusher = () => { calls++; };
  h.scheduleFlush();
  h.scheduleFlush();
  assert.equal(calls, 0, 'not before the current task ends');
  await Promise.resolve();
  assert.equal(calls, 1);
  h.scheduleFlush();
  h.clear();
  await Promise.resolve();
  assert.equal(calls, 1, 'a flush queued before clear finds no flusher');
  assert.equal(h.batching, false);
});

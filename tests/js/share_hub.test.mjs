// The SharedWorker's bookkeeping (js/share/hub.js) and the tab's listener
// registry (js/share/listeners.js), driven with fake ports, a fake manager
// and a fake clock: routing of events, calls, acks and auth questions per
// port, connection intent, and ports that leave or fall silent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShareHub } from '../../js/share/hub.js';
import { TabListeners } from '../../js/share/listeners.js';
import { coded, connectionKey, errorFromData, errorToData, workerOptions } from '../../js/share/protocol.js';

/** A stand-in for the wasm AgentManager: records what the hub asks of it. */
class FakeManager {
  constructor(options) {
    this.options = options;
    this.state = 'disconnected';
    this.transport = undefined;
    this.subs = new Map();
    this.all = new Set();
    this.stateListeners = new Set();
    this.requests = [];
    this.emits = [];
    this.closed = false;
    this.disconnects = 0;
  }
  setState(state) {
    this.state = state;
    for (const cb of this.stateListeners) cb(state, 'test');
  }
  connect() {
    this.setState('connected');
    return Promise.resolve();
  }
  disconnect() {
    this.disconnects++;
    this.setState('disconnected');
  }
  close() {
    this.closed = true;
    this.setState('closed');
  }
  onStateChange(cb) {
    this.stateListeners.add(cb);
    return () => this.stateListeners.delete(cb);
  }
  onError() {
    return () => {};
  }
  subscribe(name, cb) {
    const set = this.subs.get(name) ?? new Set();
    this.subs.set(name, set);
    set.add(cb);
    return () => set.delete(cb) && set.size === 0 && this.subs.delete(name);
  }
  subscribeAll(cb) {
    this.all.add(cb);
    return () => this.all.delete(cb);
  }
  /** The server sends `name` with `args`. */
  fire(name, ...args) {
    for (const cb of this.subs.get(name) ?? []) cb(...args);
    for (const cb of this.all) cb(name, ...args);
  }
  request(event, payload, options) {
    return new Promise((resolve, reject) => {
      const entry = { event, payload, options, resolve, reject };
      this.requests.push(entry);
      options.signal.addEventListener('abort', () => reject(coded('ABORTED', 'the request was aborted')));
    });
  }
  emit(event, payload) {
    if (event === 'too-much') throw coded('BUFFER_FULL', 'the buffer is full');
    this.emits.push([event, payload]);
  }
  metrics() {
    return { connects: 1 };
  }
}

class FakePort {
  constructor() {
    this.got = [];
  }
  postMessage(m) {
    this.got.push(structuredClone(m));
  }
  close() {
    this.closed = true;
  }
  of(t) {
    return this.got.filter((m) => m.t === t);
  }
}

function setup() {
  const clock = { now: 1000 };
  const managers = [];
  const hub = new ShareHub({
    createManager: (o) => {
      const m = new FakeManager(o);
      managers.push(m);
      return m;
    },
    now: () => clock.now,
    heartbeatMs: 100,
    silenceMs: 500,
  });
  const join = (hello = {}) => {
    const port = new FakePort();
    hub.open(port);
    hub.receive(port, { t: 'hello', options: { url: 'http://x' }, ...hello });
    return port;
  };
  return { hub, clock, managers, join };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test('tabs with the same options share one manager; other options get their own', () => {
  const { hub, managers, join } = setup();
  join();
  join({ options: { url: 'http://x' } });
  join({ options: { url: 'http://x', namespace: '/gm' } });
  assert.equal(managers.length, 2);
  assert.equal(hub.entries.size, 2);
  assert.equal(connectionKey({ a: 1, b: { d: 2, c: 3 } }), connectionKey({ b: { c: 3, d: 2 }, a: 1 }));
  assert.notEqual(connectionKey({ transports: ['websocket', 'polling'] }), connectionKey({ transports: ['polling', 'websocket'] }));
  assert.deepEqual(workerOptions({ url: 'u', shareAcrossTabs: true, sharedWorkerUrl: 'w', debug: true, auth: () => ({}) }), { url: 'u', auth: 'function' });
  assert.deepEqual(workerOptions({ url: 'u', auth: { token: 't' } }), { url: 'u', auth: { token: 't' } });
});

test('an event reaches only the ports that listen to it and want the link', async () => {
  const { hub, managers, join } = setup();
  const a = join({ names: ['news'], wants: true });
  const b = join({ names: ['news', 'tick'], wants: true });
  const quiet = join({ names: ['news'] }); // never connected
  const [m] = managers;
  m.fire('news', { n: 1 });
  m.fire('tick', { n: 2 });
  assert.deepEqual(a.of('event').map((e) => e.name), ['news']);
  assert.deepEqual(b.of('event').map((e) => e.name), ['news', 'tick']);
  assert.deepEqual(quiet.of('event'), []);
  // The real subscription ends with its last listener.
  hub.receive(b, { t: 'listen', name: 'tick', on: false });
  assert.equal(m.subs.has('tick'), false);
  hub.receive(a, { t: 'listen', name: 'news', on: false });
  assert.equal(m.subs.has('news'), true, 'b and quiet still listen to news');
  // subscribeAll: one real listener while any port has one.
  hub.receive(a, { t: 'listenAll', on: true });
  m.fire('other', 7);
  assert.deepEqual(a.of('any').map((e) => [e.name, e.args]), [['other', [7]]]);
  assert.deepEqual(b.of('any'), []);
  hub.receive(a, { t: 'listenAll', on: false });
  assert.equal(m.all.size, 0);
});

test("a server question: every listening port gets its ack number; the first answer counts", () => {
  const { hub, managers, join } = setup();
  const a = join({ names: ['question'], all: true, wants: true });
  const b = join({ names: ['question'], wants: true });
  const answers = [];
  const ack = (...args) => answers.push(args);
  managers[0].fire('question', { q: 1 }, ack);
  const [ea] = a.of('event');
  const [eb] = b.of('event');
  const [any] = a.of('any');
  assert.deepEqual(ea.args, [{ q: 1 }], 'the ack function does not cross the port');
  assert.equal(ea.ack, eb.ack);
  assert.equal(any.ack, ea.ack, 'the same question has one number, whichever way it came');
  hub.receive(b, { t: 'ack', ack: eb.ack, args: [{ ok: true }] });
  hub.receive(a, { t: 'ack', ack: ea.ack, args: [{ ok: false }] });
  assert.deepEqual(answers, [[{ ok: true }]]);
  // An answer the wasm refuses leaves the question open for another.
  const picky = (...args) => {
    if (args[0] === 'bad') throw coded('INVALID_PAYLOAD', 'cannot send');
    answers.push(args);
  };
  managers[0].fire('question', { q: 2 }, picky);
  const second = a.of('event').at(-1).ack;
  hub.receive(a, { t: 'ack', ack: second, args: ['bad'] });
  assert.equal(a.of('error').at(-1).error.code, 'INVALID_PAYLOAD', 'to the tab that answered');
  assert.deepEqual(b.of('error'), []);
  hub.receive(b, { t: 'ack', ack: second, args: ['good'] });
  assert.deepEqual(answers.at(-1), ['good']);
});

test("a request's outcome goes to the port that asked, once; a port that leaves has its requests aborted and their outcome dropped", async () => {
  const { hub, managers, join } = setup();
  const a = join({ wants: true });
  const b = join({ wants: true });
  const m = managers[0];
  hub.receive(a, { t: 'call', id: 1, method: 'request', args: ['echo', { text: 'a' }, { timeout: 50 }] });
  hub.receive(b, { t: 'call', id: 1, method: 'request', args: ['echo', { text: 'b' }] });
  assert.equal(m.requests[0].options.timeout, 50, 'request options pass through');
  m.requests[1].resolve({ echoed: 'b' });
  m.requests[0].reject(coded('TIMEOUT', 'no reply'));
  await tick();
  assert.deepEqual(b.of('settle'), [{ t: 'settle', id: 1, ok: true, value: { echoed: 'b' } }]);
  const [failed] = a.of('settle');
  assert.equal(failed.ok, false);
  assert.equal(errorFromData(failed.error).code, 'TIMEOUT');
  // a asks again and leaves before the answer.
  hub.receive(a, { t: 'call', id: 2, method: 'request', args: ['slow', {}] });
  hub.receive(a, { t: 'bye' });
  await tick();
  assert.equal(a.of('settle').length, 1, 'nothing more reached the port that left');
  assert.equal(hub.resultsDropped, 1);
  assert.equal(m.closed, false, 'b still uses the manager');
  hub.receive(b, { t: 'bye' });
  assert.equal(m.closed, true, 'the last port closed it');
  assert.equal(hub.entries.size, 0);
  // Unknown methods are refused with a code.
  const c = join();
  hub.receive(c, { t: 'call', id: 9, method: 'close', args: [] });
  await tick();
  assert.equal(c.of('settle')[0].error.code, 'INVALID_OPTIONS');
});

test('the link stays up while any port wants it', () => {
  const { hub, managers, join } = setup();
  const a = join({ wants: true });
  const b = join();
  hub.receive(b, { t: 'connect', id: 1 });
  const m = managers[0];
  assert.equal(m.state, 'connected');
  hub.receive(a, { t: 'disconnect' });
  assert.equal(m.disconnects, 0, 'b still wants it');
  hub.receive(b, { t: 'disconnect' });
  assert.equal(m.disconnects, 1);
  assert.ok(a.of('status').some((s) => s.state === 'disconnected'), 'every port hears the state');
});

test('auth as a function: the worker asks a port that has one, and another if that one leaves', async () => {
  const { hub, managers, join, clock } = setup();
  const plain = join({ options: { url: 'http://x', auth: 'function' } });
  clock.now += 10;
  const a = join({ options: { url: 'http://x', auth: 'function' }, authFunction: true });
  clock.now += 10;
  const b = join({ options: { url: 'http://x', auth: 'function' }, authFunction: true });
  const auth = managers[0].options.auth;
  assert.equal(typeof auth, 'function', "the worker's manager gets an asking function");
  const first = auth();
  const [asked] = b.of('askAuth');
  assert.ok(asked, 'the most recently heard port with a function is asked');
  assert.deepEqual(plain.of('askAuth'), []);
  hub.receive(b, { t: 'bye' });
  const [again] = a.of('askAuth');
  assert.ok(again, 'its question went to the other port');
  hub.receive(a, { t: 'auth', id: again.id, ok: true, value: { token: 't1' } });
  assert.deepEqual(await first, { token: 't1' });
  hub.receive(a, { t: 'bye' });
  await assert.rejects(auth(), (e) => e.code === 'AUTH_FAILED');
});

test('a silent port is dropped with its subscriptions and requests; emit errors go to the port that emitted', async () => {
  const { hub, managers, join, clock } = setup();
  const a = join({ names: ['news'], wants: true });
  const b = join({ names: ['tick'], wants: true });
  const m = managers[0];
  hub.receive(a, { t: 'call', id: 1, method: 'request', args: ['slow', {}] });
  clock.now += 400;
  hub.receive(b, { t: 'ping' });
  assert.equal(b.of('pong')[0].metrics.share.tabs, 2);
  clock.now += 200;
  hub.sweep();
  assert.equal(a.of('dropped').length, 1, 'a was told, in case it is only slow');
  assert.equal(a.closed, true);
  assert.equal(m.subs.has('news'), false);
  assert.equal(m.subs.has('tick'), true);
  await tick();
  assert.equal(hub.resultsDropped, 1);
  assert.equal(hub.portsDropped, 1);
  hub.receive(b, { t: 'emit', event: 'too-much', payload: {} });
  assert.equal(b.of('error')[0].error.code, 'BUFFER_FULL');
  hub.receive(b, { t: 'emit', event: 'fine', payload: { bytes: new ArrayBuffer(2) } });
  assert.equal(m.emits[0][0], 'fine');
});

test('errors keep their code, detail and cause across the port', () => {
  const cause = coded('INVALID_JSON', 'bad');
  const error = coded('PROTOCOL_ERROR', 'decoder said no');
  error.detail = 'INVALID_JSON';
  error.serverCode = 'X';
  error.cause = cause;
  const back = errorFromData(structuredClone(errorToData(error)));
  assert.ok(back instanceof Error);
  assert.deepEqual([back.message, back.code, back.detail, back.serverCode], ['decoder said no', 'PROTOCOL_ERROR', 'INVALID_JSON', 'X']);
  assert.equal(back.cause.code, 'INVALID_JSON');
  assert.deepEqual(errorToData('just text'), { name: 'Error', message: 'just text' });
});

test("the tab's listeners: once, filters, patterns, and which names the worker hears about", () => {
  const names = [];
  const all = [];
  const thrown = [];
  const l = new TabListeners({ onNames: (n, on) => names.push(`${on ? '+' : '-'}${n}`), onAll: (on) => all.push(on), thrown: (e) => thrown.push(e) });
  const seen = [];
  const cb = (p) => seen.push(`cb ${p.n}`);
  l.add('tick', cb, false);
  l.add('tick', (p) => seen.push(`once ${p.n}`), true, { filter: (p) => p.n > 1 });
  const offAll = l.addAll('ti*', (name, p) => seen.push(`all ${name} ${p.n}`));
  l.add('boom', () => { throw new Error('no'); }, false);
  l.deliver('tick', [{ n: 1 }]);
  l.deliverAll('tick', [{ n: 1 }]);
  l.deliver('tick', [{ n: 2 }], () => {});
  l.deliver('tick', [{ n: 3 }]);
  l.deliverAll('tack', [{ n: 4 }]);
  assert.deepEqual(seen, ['cb 1', 'all tick 1', 'cb 2', 'once 2', 'cb 3']);
  l.deliver('boom', [{}]);
  assert.equal(thrown[0].code, 'CALLBACK_ERROR');
  assert.equal(thrown[0].event, 'boom');
  assert.equal(l.removeNamed('tick', cb), 1);
  offAll();
  assert.deepEqual(names, ['+tick', '+boom', '-tick']);
  assert.deepEqual(all, [true, false]);
  assert.equal(l.count, 1);
  assert.throws(() => l.add('x', () => {}, false, { filter: 1 }), (e) => e.code === 'INVALID_OPTIONS');
  assert.throws(() => l.addAll(42, () => {}), (e) => e.code === 'INVALID_OPTIONS');
  l.clear();
  assert.equal(l.held, 0);
  assert.deepEqual(names.at(-1), '-boom');
});

// The Foundry drop-in (js/foundry/AgentManager.js) against a fake `game`
// and a fake client class that records what the wasm AgentManager would be
// asked. Run by `cargo xtask test js` (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AgentManager,
  HISTORY_LENGTH,
  WRAPPED_EVENTS,
  applyCharacterUpdate,
} from '../../js/foundry/AgentManager.js';

class FakeAgent {
  static made = [];
  constructor(options) {
    this.options = options;
    this.requests = [];
    this.subs = new Map(); // name -> Set(cb)
    this.stateListeners = new Set();
    this.errorListeners = new Set();
    this.state = 'disconnected';
    this.connects = 0;
    this.closed = false;
    this.freed = false;
    FakeAgent.made.push(this);
  }
  get heldCallbacks() {
    let n = this.stateListeners.size + this.errorListeners.size;
    for (const set of this.subs.values()) n += set.size;
    return n + this.requests.filter((r) => !r.done).length;
  }
  setState(state, reason) {
    this.state = state;
    for (const cb of [...this.stateListeners]) cb(state, reason);
  }
  async connect() {
    this.connects += 1;
    await null;
    this.setState('connected');
  }
  disconnect() { this.setState('disconnected'); }
  close() {
    this.closed = true;
    this.setState('closed');
    this.subs.clear();
    this.stateListeners.clear();
    this.errorListeners.clear();
    for (const r of this.requests) r.done = true;
  }
  free() { this.freed = true; }
  subscribe(name, cb) {
    if (!this.subs.has(name)) this.subs.set(name, new Set());
    this.subs.get(name).add(cb);
    return () => this.subs.get(name)?.delete(cb);
  }
  once(name, cb) {
    const off = this.subscribe(name, (...a) => { off(); cb(...a); });
    return off;
  }
  onStateChange(cb) { this.stateListeners.add(cb); return () => this.stateListeners.delete(cb); }
  onError(cb) { this.errorListeners.add(cb); return () => this.errorListeners.delete(cb); }
  fire(name, payload) { for (const cb of [...(this.subs.get(name) ?? [])]) cb(payload); }
  fireError(err) { for (const cb of [...this.errorListeners]) cb(err); }
  get pendingCount() { return this.requests.filter((r) => !r.done).length; }
  request(event, payload) {
    const entry = { event, payload, done: false };
    this.requests.push(entry);
    const answer = () => {
      entry.done = true;
      return { action: `${event}_response`, request_id: 'r', content: `reply to ${event}` };
    };
    if (!this.hold) return Promise.resolve().then(answer);
    return new Promise((resolve) => { entry.release = () => resolve(answer()); });
  }
  emit(event, payload) { this.requests.push({ event, payload, done: true, emitted: true }); }
  // The package's Frinny helpers, as the wasm client defines them: a request
  // of the catalogue event.
  helper(name, event, payload) { (this.helpers ??= []).push(name); return this.request(event, payload); }
  sendQuery(payload) { return this.helper('sendQuery', 'query', payload); }
  notifyCharacterCreation(context) { return this.helper('notifyCharacterCreation', 'character_creation_start', context); }
  notifyCombatTurn(state) { return this.helper('notifyCombatTurn', 'combat_turn', state); }
  notifyLevelUp(data) { return this.helper('notifyLevelUp', 'level_up', data); }
  notifyCombatStart(data) { return this.helper('notifyCombatStart', 'combat_start', data); }
  onTypingStatus(cb) { (this.helpers ??= []).push('onTypingStatus'); return this.subscribe('typing_status', cb); }
  metrics() { return { errors: {} }; }
  getState(scope) { return this.docs?.[scope]; }
  unsyncState(scope) { (this.unsynced ??= []).push(scope); }
  replaceState(scope, doc, options) { (this.replaced ??= []).push({ scope, doc, options }); return Promise.resolve({ version: 2 }); }
  get nextReconnectAt() { return this.reconnectAt ?? null; }
}

/** A fake `game` whose settings throw for unregistered keys, as Foundry's do. */
function fakeGame({ settings = {}, flags, messages, character } = {}) {
  const stored = flags !== undefined ? flags : Array.from({ length: 14 }, (_, i) => ({ type: i % 2 === 0 ? 'user' : 'assistant', content: `m${i}` }));
  const user = {
    id: 'u1',
    name: 'Alice',
    character: character === undefined ? { id: 'a1', name: 'Valeros' } : character,
    getFlag: (scope, key) => (scope === 'frinny' && key === 'messages' ? stored : undefined),
  };
  const values = new Map(Object.entries(settings));
  const actors = new Map();
  return {
    user,
    users: { get: (id) => (id === 'u1' ? user : undefined) },
    actors: { get: (id) => actors.get(id), set: (id, a) => actors.set(id, a) },
    messages: { contents: messages ?? [] },
    system: { id: 'pf2e' },
    settings: {
      get(scope, key) {
        if (!values.has(`${scope}.${key}`)) throw new Error(`"${scope}.${key}" is not a registered game setting`);
        return values.get(`${scope}.${key}`);
      },
    },
  };
}

const make = (game, extra = {}) => new AgentManager({ Agent: FakeAgent, game, ...extra });

test('without any registered setting: the JSON wire to the default wsUrl, with the old timings', () => {
  const m = make(fakeGame());
  const o = m.agent.options;
  assert.equal(m.protocol, 'json');
  assert.equal(o.protocol, 'json');
  assert.equal(o.url, 'wss://frinny.net/ws');
  assert.deepEqual(o.query, { userId: 'u1' });
  assert.deepEqual(o.wrapEvents, [...WRAPPED_EVENTS]);
  assert.deepEqual(o.wrapEvents, ['character_creation_start', 'combat_turn', 'level_up', 'combat_start', 'feedback']);
  assert.equal(o.timeout, 30_000);
  assert.equal(o.connectTimeout, 15_000);
  assert.equal(o.reconnectionAttempts, 5);
  assert.equal(o.reconnectionDelay, 1000);
  assert.equal(o.reconnectionDelayMax, 5000);
  assert.equal(m.backendUrl, 'https://frinny.net');
  assert.equal(m.userId, 'u1');
  assert.equal(m.agent.connects, 0, 'nothing is dialled before connect()');
});

test('registered settings are read; empty ones fall back to the defaults', () => {
  const m = make(fakeGame({ settings: { 'frinny.wsUrl': 'ws://127.0.0.1:7000/ws', 'frinny.backendUrl': '' } }));
  assert.equal(m.agent.options.url, 'ws://127.0.0.1:7000/ws');
  assert.equal(m.backendUrl, 'https://frinny.net');
  const n = make(fakeGame({ settings: { 'frinny.wsUrl': '', 'frinny.protocol': 'json' } }));
  assert.equal(n.agent.options.url, 'wss://frinny.net/ws');
});

test("protocol setting 'socket.io': the backend contract at backendUrl, unwrapped events", () => {
  const m = make(fakeGame({ settings: { 'frinny.protocol': 'socket.io', 'frinny.backendUrl': 'http://127.0.0.1:5001' } }));
  const o = m.agent.options;
  assert.equal(o.protocol, 'socket.io');
  assert.equal(o.url, 'http://127.0.0.1:5001');
  assert.deepEqual(o.query, { userId: 'u1' });
  assert.equal(o.wrapEvents, undefined);
  assert.equal(o.timeout, 30_000);
  // An unknown protocol value reads as json.
  assert.equal(make(fakeGame({ settings: { 'frinny.protocol': 'carrier-pigeon' } })).agent.options.protocol, 'json');
});

test('extra options go to the client; auth may be a function, handed over as it is', () => {
  const auth = async () => ({ token: 't' });
  const m = make(fakeGame(), { auth, timeout: 5000, query: { world: 'w1' } });
  assert.equal(m.agent.options.auth, auth);
  assert.equal(m.agent.options.timeout, 5000);
  assert.deepEqual(m.agent.options.query, { world: 'w1', userId: 'u1' });
});

test('without a client class the drop-in says where to import it from', () => {
  assert.throws(() => new AgentManager({ game: fakeGame() }), (e) => e.code === 'INVALID_OPTIONS' && /frinny-agent\/foundry/.test(e.message));
});

test('connect: concurrent calls share one Promise, which resolves when connected', async () => {
  const m = make(fakeGame());
  const a = m.connect();
  const b = m.connect();
  assert.equal(a, b);
  assert.equal(await a, undefined);
  assert.equal(m.agent.connects, 1);
  assert.equal(m.isConnected, true);
});

test('private query: flag history by type, the last 10, the new message appended, actorId', async () => {
  const m = make(fakeGame());
  const reply = await m.handlePrivateQuery('u1', 'hello');
  assert.equal(reply.content, 'reply to query');
  const { event, payload } = m.agent.requests[0];
  assert.equal(event, 'query');
  assert.deepEqual(m.agent.helpers, ['onTypingStatus', 'sendQuery']);
  assert.deepEqual(Object.keys(payload).sort(), ['actorId', 'content', 'conversation_history', 'is_public_chat', 'userId']);
  assert.equal(payload.content, 'hello');
  assert.equal(payload.userId, 'u1');
  assert.equal(payload.actorId, 'a1');
  assert.equal(payload.is_public_chat, false);
  assert.equal(payload.conversation_history.length, HISTORY_LENGTH + 1);
  assert.deepEqual(payload.conversation_history[0], { role: 'user', content: 'm4' });
  assert.deepEqual(payload.conversation_history[9], { role: 'assistant', content: 'm13' });
  assert.deepEqual(payload.conversation_history[10], { role: 'user', content: 'hello' });
  assert.equal(m.agent.connects, 1, 'a request while disconnected connects first');
});

test('private query: no flag, no character -> just the new message and actorId null', async () => {
  const m = make(fakeGame({ flags: null, character: null }));
  await m.handlePrivateQuery('u1', 'hi');
  const { payload } = m.agent.requests[0];
  assert.deepEqual(payload.conversation_history, [{ role: 'user', content: 'hi' }]);
  assert.equal(payload.actorId, null);
});

test('public query: last 10 game.messages as toObject() with rolls, the speaker, the system', async () => {
  const messages = Array.from({ length: 12 }, (_, i) => ({
    toObject: () => ({ _id: `c${i}`, content: `chat${i}`, rolls: i === 11 ? ['{"formula":"1d20"}'] : [] }),
    roll: i === 10 ? { toJSON: () => ({ formula: '1d20', total: 12 }) } : undefined,
    rolls: i === 11 ? [{ toJSON: () => ({ formula: '2d6', total: 7 }) }] : [],
  }));
  const m = make(fakeGame({ messages }));
  await m.handlePublicQuery('u1', 'roll?');
  const { event, payload } = m.agent.requests[0];
  assert.equal(event, 'query');
  assert.equal(payload.is_public_chat, true);
  assert.equal(payload.system_id, 'pf2e');
  assert.equal(payload.message_count, 10);
  assert.equal(payload.userId, 'u1');
  assert.equal(payload.actorId, 'a1');
  assert.deepEqual(payload.current_speaker, { userId: 'u1', name: 'Alice', actorId: 'a1', actorName: 'Valeros' });
  assert.equal(payload.conversation_history.length, HISTORY_LENGTH);
  assert.equal(payload.conversation_history[0]._id, 'c2');
  assert.deepEqual(payload.conversation_history[8].roll, { formula: '1d20', total: 12 });
  assert.deepEqual(payload.conversation_history[9].rolls, [{ formula: '2d6', total: 7 }]);
});

test('notify helpers and feedback: the catalogue events with the user id; action/request_id from callers are dropped', async () => {
  const m = make(fakeGame());
  await m.notifyCharacterCreation({ actorId: 'a' });
  await m.notifyCombatTurn({ round: 2, action: 'oops', request_id: 'x' });
  await m.notifyLevelUp({ newLevel: 3 });
  await m.notifyCombatStart({ combatants: [] });
  const fb = await m.submitFeedback('msg-1', 'positive');
  assert.equal(fb.content, 'reply to feedback');
  const events = m.agent.requests.map((r) => r.event);
  assert.deepEqual(events, ['character_creation_start', 'combat_turn', 'level_up', 'combat_start', 'feedback']);
  // The package's helpers carry them, not hand-spelled requests (feedback
  // excepted: the client's helper does not send the user id).
  assert.deepEqual(m.agent.helpers.filter((h) => h !== 'onTypingStatus'), [
    'notifyCharacterCreation',
    'notifyCombatTurn',
    'notifyLevelUp',
    'notifyCombatStart',
  ]);
  for (const r of m.agent.requests) assert.equal(r.payload.userId, 'u1');
  assert.deepEqual(m.agent.requests[1].payload, { round: 2, userId: 'u1' });
  assert.deepEqual(m.agent.requests[4].payload, { messageId: 'msg-1', type: 'positive', userId: 'u1' });
});

test('onTypingStatus: several callbacks get booleans; unsubscribe works', () => {
  const m = make(fakeGame());
  const a = [];
  const b = [];
  const offA = m.onTypingStatus((t) => a.push(t));
  m.onTypingStatus((t) => b.push(t));
  m.agent.fire('typing_status', { isTyping: true });
  offA();
  m.agent.fire('typing_status', { isTyping: 0 });
  m.agent.fire('typing_status', {});
  assert.deepEqual(a, [true]);
  assert.deepEqual(b, [true, false, false]);
});

test('pendingRequests.size follows the client', async () => {
  const m = make(fakeGame());
  assert.equal(m.pendingRequests.size, 0);
  await m.connect();
  m.agent.hold = true;
  const pending = m.pendingRequests;
  const p = m.handlePrivateQuery('u1', 'x');
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(pending.size, 1);
  m.agent.requests[0].release();
  await p;
  assert.equal(m.pendingRequests.size, 0);
});

test('setting wsUrl swaps to a new client on the new URL, keeps subscriptions, releases the old one', async () => {
  const m = make(fakeGame());
  await m.connect();
  const first = m.agent;
  const typing = [];
  const states = [];
  const errors = [];
  const events = [];
  m.onTypingStatus((t) => typing.push(t));
  m.onStateChange((s) => states.push(s));
  m.onError((e) => errors.push(e.code));
  m.subscribe('notification', (p) => events.push(p.message));
  m.once('hello', (p) => events.push(`once ${p.n}`));

  m.backendUrl = 'http://127.0.0.1:6001'; // not the URL in use on the JSON wire
  assert.equal(m.agent, first);

  m.wsUrl = 'ws://127.0.0.1:6000/ws';
  assert.notEqual(m.agent, first);
  assert.equal(first.closed, true);
  assert.equal(first.freed, true);
  assert.equal(first.heldCallbacks, 0);
  assert.ok(!states.includes('closed'), 'the swap does not report the old client closing');
  assert.equal(m.agent.options.url, 'ws://127.0.0.1:6000/ws');
  assert.equal(m.wsUrl, 'ws://127.0.0.1:6000/ws');
  // It was connected, so the new one dials at once; connect() shares that attempt.
  await m.connect();
  assert.equal(m.agent.connects, 1);
  assert.equal(m.isConnected, true);

  m.agent.fire('typing_status', { isTyping: true });
  m.agent.fire('notification', { message: 'hi' });
  m.agent.fire('hello', { n: 1 });
  m.agent.fire('hello', { n: 2 });
  m.agent.fireError(Object.assign(new Error('x'), { code: 'SERVER_ERROR' }));
  assert.deepEqual(typing, [true]);
  assert.deepEqual(events, ['hi', 'once 1']);
  assert.deepEqual(errors, ['SERVER_ERROR']);
  assert.ok(states.includes('connected'));

  m.wsUrl = 'ws://127.0.0.1:6000/ws'; // unchanged: no swap
  assert.equal(m.agent.options.url, 'ws://127.0.0.1:6000/ws');
  assert.equal(FakeAgent.made.at(-1), m.agent);
});

test('on Socket.IO, setting backendUrl is what reconnects', async () => {
  const m = make(fakeGame({ settings: { 'frinny.protocol': 'socket.io' } }));
  const first = m.agent;
  m.wsUrl = 'ws://elsewhere';
  assert.equal(m.agent, first);
  m.backendUrl = 'http://127.0.0.1:6002';
  assert.notEqual(m.agent, first);
  assert.equal(m.agent.options.url, 'http://127.0.0.1:6002');
  assert.equal(m.agent.connects, 0, 'it was never connected, so the new client waits for connect()');
  await m.connect();
  assert.equal(m.agent.connects, 1);
});

test('the client is never null, and close() releases everything', async () => {
  const m = make(fakeGame());
  assert.ok(m.agent);
  m.onTypingStatus(() => {});
  m.subscribe('x', () => {});
  m.onStateChange(() => {});
  assert.ok(m.agent.heldCallbacks > 0);
  m.close();
  assert.ok(m.agent, 'still there, closed');
  assert.equal(m.agent.closed, true);
  assert.equal(m.agent.heldCallbacks, 0);
  m.wsUrl = 'ws://after-close';
  assert.equal(m.agent.closed, true, 'no new client after close()');
});

test('character_update: skill ranks written through actor.update', async () => {
  const updates = [];
  const game = fakeGame();
  game.actors.set('a1', {
    name: 'Valeros',
    type: 'character',
    system: { skills: { athletics: { rank: 1 }, acrobatics: { rank: 0 } } },
    update: async (u) => updates.push(u),
  });
  const m = make(game);
  m.agent.fire('character_update', { actorId: 'a1', updates: { skills: { Athletics: 'expert', acrobatics: 1, nope: 'master' } }, message_id: 'm1' });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(updates, [{ 'system.skills.athletics.rank': 2, 'system.skills.acrobatics.rank': 1 }]);
  assert.equal(await applyCharacterUpdate(game, { actorId: 'missing', updates: { skills: { athletics: 1 } } }), false);
  assert.equal(await applyCharacterUpdate(game, { actorId: 'a1' }), false);
});

test('the state helpers FrinnyChat needs reach the client in use', async () => {
  const m = new AgentManager({ Agent: FakeAgent, game: fakeGame() });
  m.agent.docs = { 'user:u1': { chat: {} } };
  assert.deepEqual(m.getState('user:u1'), { chat: {} });
  assert.equal(m.getState('world'), undefined);
  assert.deepEqual(await m.replaceState('user:u1', { chat: { a: 1 } }, { optimistic: true }), { version: 2 });
  assert.deepEqual(m.agent.replaced, [{ scope: 'user:u1', doc: { chat: { a: 1 } }, options: { optimistic: true } }]);
  m.unsyncState('user:u1');
  assert.deepEqual(m.agent.unsynced, ['user:u1']);
  assert.equal(m.nextReconnectAt, null);
  m.agent.reconnectAt = 12345;
  assert.equal(m.nextReconnectAt, 12345);
  m.close();
});

test("characterUpdates: 'suggest' leaves a character_update to the caller, who applies it after asking", async () => {
  const game = fakeGame();
  const updates = [];
  game.actors = { get: (id) => (id === 'a1' ? { name: 'Valeros', type: 'character', system: { skills: { athletics: { rank: 1 } } }, update: async (u) => updates.push(u) } : undefined) };
  const m = new AgentManager({ Agent: FakeAgent, game, characterUpdates: 'suggest' });
  m.agent.fire('character_update', { actorId: 'a1', updates: { skills: { athletics: 'expert' } } });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(updates, [], 'nothing written on arrival');
  assert.equal(await m.applyCharacterUpdate({ actorId: 'a1', updates: { skills: { athletics: 'expert' } } }), true);
  assert.deepEqual(updates, [{ 'system.skills.athletics.rank': 2 }]);
  m.close();
});

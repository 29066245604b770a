// The Foundry drop-in (js/foundry/AgentManager.js) against a fake `game` and a
// fake client class that records what the wasm AgentManager would be asked.
// Run by `cargo xtask test js` (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentManager, HISTORY_LENGTH } from '../../js/foundry/AgentManager.js';

class FakeAgent {
  static made = [];
  constructor(options) {
    this.options = options;
    this.requests = [];
    this.subs = new Map();
    this.connected = 0;
    this.freed = false;
    FakeAgent.made.push(this);
  }
  async connect() { this.connected += 1; }
  subscribe(name, cb) {
    this.subs.set(name, cb);
    return () => this.subs.delete(name);
  }
  get pendingCount() { return this.requests.filter((r) => !r.done).length; }
  request(event, payload) {
    const entry = { event, payload, done: false };
    this.requests.push(entry);
    return Promise.resolve().then(() => {
      entry.done = true;
      return { request_id: 'r', content: `reply to ${event}` };
    });
  }
  disconnect() { this.disconnected = true; }
  free() { this.freed = true; }
}

function fakeGame() {
  const flags = Array.from({ length: 14 }, (_, i) => ({ content: `m${i}`, isUser: i % 2 === 0 }));
  const users = new Map([['u1', { id: 'u1', getFlag: (scope, key) => (scope === 'frinny' && key === 'messages' ? flags : undefined) }]]);
  const messages = Array.from({ length: 12 }, (_, i) => ({ content: `chat${i}`, speaker: { alias: `S${i}` }, user: { id: 'u2' } }));
  return {
    user: { id: 'u1' },
    users: { get: (id) => users.get(id) },
    messages: { contents: messages },
    system: { id: 'pf2e' },
  };
}

test('connect makes one client with the user id in the query and the backend URL', async () => {
  const m = new AgentManager({ backendUrl: 'http://127.0.0.1:5999', Agent: FakeAgent, game: fakeGame() });
  await m.connect();
  await m.connect();
  const agent = m.agent;
  assert.equal(agent.options.url, 'http://127.0.0.1:5999');
  assert.deepEqual(agent.options.query, { userId: 'u1' });
  assert.equal(agent.connected, 2);
});

test('handlePrivateQuery sends the last messages of the user flag as history', async () => {
  const m = new AgentManager({ Agent: FakeAgent, game: fakeGame() });
  await m.connect();
  const reply = await m.handlePrivateQuery('u1', 'hello');
  assert.equal(reply.content, 'reply to query');
  const { event, payload } = m.agent.requests[0];
  assert.equal(event, 'query');
  assert.equal(payload.content, 'hello');
  assert.equal(payload.userId, 'u1');
  assert.equal(payload.is_public_chat, false);
  assert.equal(payload.conversation_history.length, HISTORY_LENGTH);
  assert.deepEqual(payload.conversation_history[0], { role: 'user', content: 'm4' });
  assert.deepEqual(payload.conversation_history.at(-1), { role: 'assistant', content: 'm13' });
});

test('handlePublicQuery sends the last chat messages, the speaker and the system', async () => {
  globalThis.ChatMessage = { getSpeaker: () => ({ alias: 'Valeros', actor: 'a1' }) };
  try {
    const m = new AgentManager({ Agent: FakeAgent, game: fakeGame() });
    await m.handlePublicQuery('u1', 'roll?');
    const { payload } = m.agent.requests[0];
    assert.equal(payload.is_public_chat, true);
    assert.equal(payload.system, 'pf2e');
    assert.equal(payload.actorId, 'a1');
    assert.deepEqual(payload.speaker, { alias: 'Valeros', actor: 'a1' });
    assert.equal(payload.conversation_history.length, HISTORY_LENGTH);
    assert.deepEqual(payload.conversation_history[0], { speaker: 'S2', content: 'chat2', userId: 'u2' });
  } finally {
    delete globalThis.ChatMessage;
  }
});

test('notify helpers and feedback send their events with the user id', async () => {
  const m = new AgentManager({ Agent: FakeAgent, game: fakeGame() });
  await m.notifyCharacterCreation({ actorId: 'a' });
  await m.notifyCombatTurn({ round: 2 });
  await m.notifyLevelUp({ level: 3 });
  await m.notifyCombatStart({ combatants: [] });
  await m.submitFeedback('msg-1', 'positive');
  const events = m.agent.requests.map((r) => r.event);
  assert.deepEqual(events, ['character_creation_start', 'combat_turn', 'level_up', 'combat_start', 'feedback']);
  for (const r of m.agent.requests) assert.equal(r.payload.userId, 'u1');
  assert.equal(m.agent.requests[1].payload.round, 2);
  assert.deepEqual(m.agent.requests[4].payload, { messageId: 'msg-1', type: 'positive', context_id: 'msg-1', userId: 'u1' });
});

test('onTypingStatus relays isTyping and unsubscribes', async () => {
  const m = new AgentManager({ Agent: FakeAgent, game: fakeGame() });
  await m.connect();
  const seen = [];
  const off = m.onTypingStatus((t) => seen.push(t));
  m.agent.subs.get('typing_status')({ isTyping: true });
  off();
  m.agent.subs.get('typing_status')({ isTyping: false });
  assert.deepEqual(seen, [true]);
});

test('pendingRequests.size follows the client', async () => {
  const m = new AgentManager({ Agent: FakeAgent, game: fakeGame() });
  assert.equal(m.pendingRequests.size, 0);
  await m.connect();
  const p = m.handlePrivateQuery('u1', 'x');
  assert.equal(m.pendingRequests.size, 1);
  await p;
  assert.equal(m.pendingRequests.size, 0);
});

test('setting wsUrl or backendUrl re-dials on the next connect and frees the old client', async () => {
  const m = new AgentManager({ Agent: FakeAgent, game: fakeGame() });
  await m.connect();
  const first = m.agent;
  m.wsUrl = 'ws://127.0.0.1:6000';
  assert.equal(first.freed, true);
  assert.equal(first.subs.size, 0, 'the typing subscription was released');
  await m.connect();
  assert.equal(m.agent.options.url, 'ws://127.0.0.1:6000');
  assert.equal(m.backendUrl, 'ws://127.0.0.1:6000');
});

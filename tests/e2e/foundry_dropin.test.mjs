// The Foundry drop-in (`frinny-agent/foundry`) loaded from the INSTALLED
// package in headless Chromium, in a page running the fake Foundry runtime
// (support/fake_foundry.js), against (a) the strict JSON gateway the current
// module talks to and (b) the python-socketio backend with the `protocol`
// setting 'socket.io', and (c) the reference server with `auth` given as an
// async function (FRINNY_SERVER_BIN, default target/debug/frinny-server).
// Run by `node --test tests/e2e/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { installedPackage } from './support/package.mjs';
import { serveStatic } from './support/static_server.mjs';
import { launchChromium, newPage } from './support/browser.mjs';
import { startGateway, startPythonBackend, startReferenceServer, waitFor, writeFoundryPage } from './support/foundry_servers.mjs';

const ENTRY = '/node_modules/frinny-agent/js/foundry/index.js';

let site;
let pagePath;
let browser;
let gateway;

before(async () => {
  const { dir } = installedPackage();
  pagePath = await writeFoundryPage(dir);
  site = await serveStatic(dir);
  browser = await launchChromium();
  gateway = await startGateway();
}, { timeout: 900_000 });

after(async () => {
  await browser?.close();
  await site?.close();
  await gateway?.stop();
});

/**
 * A page with the fake Foundry world, the given `frinny.*` settings
 * registered (with the module's onChange: set the agent's URL, connect
 * again) and stored, and `window.manager = new AgentManager()` from the
 * installed package.
 */
async function foundryPage(settings, world = {}) {
  const page = await newPage(browser);
  await page.goto(`${site.url}${pagePath}`);
  await page.evaluate(async ({ settings, world, entry }) => {
    FakeFoundry.reset(world);
    const defaults = { wsUrl: 'wss://frinny.net/ws', backendUrl: 'https://frinny.net', protocol: 'json' };
    for (const [key, value] of Object.entries(settings)) {
      game.settings.register('frinny', key, {
        scope: 'world',
        type: String,
        default: defaults[key],
        onChange: (v) => {
          const m = window.manager;
          if (!m) return;
          m[key] = v;
          window.reconnected = m.connect();
        },
      });
      await game.settings.set('frinny', key, value);
    }
    const mod = await import(entry);
    window.frinnyModule = mod;
    window.manager = new mod.AgentManager();
    window.typing = [];
    window.errors = [];
    window.manager.onTypingStatus((t) => window.typing.push(t));
    window.manager.onError((e) => window.errors.push({ code: e.code, message: e.message }));
  }, { settings, world, entry: ENTRY });
  return page;
}

const history = Array.from({ length: 14 }, (_, i) => ({ type: i % 2 === 0 ? 'user' : 'assistant', content: `earlier ${i}` }));
const chatLog = Array.from({ length: 12 }, (_, i) => ({
  _id: `chat${i}`,
  content: `table talk ${i}`,
  speaker: { alias: 'Valeros' },
  ...(i === 11 ? { rolls: [{ formula: '1d20+7', total: 19 }] } : {}),
}));

test('(a) JSON gateway: connects to wsUrl?userId, private and public queries pass the shape check and resolve', { timeout: 60_000 }, async () => {
  await gateway.reset();
  const page = await foundryPage({ wsUrl: gateway.wsUrl }, { messages: chatLog });
  try {
    const out = await page.evaluate(async () => {
      await game.user.setFlag('frinny', 'messages', [
        ...Array.from({ length: 14 }, (_, i) => ({ type: i % 2 === 0 ? 'user' : 'assistant', content: `earlier ${i}` })),
      ]);
      await manager.connect();
      const connected = manager.isConnected;
      const priv = await manager.handlePrivateQuery(game.user.id, 'What does Shield Block do?');
      const pub = await manager.handlePublicQuery(game.user.id, 'Who rolled highest?');
      return { connected, protocol: manager.protocol, priv, pub, pending: manager.pendingRequests.size };
    });
    assert.equal(out.connected, true);
    assert.equal(out.protocol, 'json', 'the protocol setting is not registered: JSON');
    assert.equal(out.priv.action, 'query_response');
    assert.match(out.priv.content, /private, 11 in history\): What does Shield Block do\?/);
    assert.match(out.priv.messageId, /^msg-/);
    assert.match(out.pub.content, /public, 10 in history\): Who rolled highest\?/);
    assert.equal(out.pending, 0);

    const clients = await gateway.clients();
    assert.deepEqual(clients.map((c) => c.url), ['/ws?userId=user1']);
    const frames = await gateway.frames();
    assert.deepEqual(frames.map((f) => f.violation), [null, null]);
    const [priv, pub] = frames.map((f) => f.frame);
    assert.deepEqual(Object.keys(priv).sort(), ['action', 'actorId', 'content', 'conversation_history', 'is_public_chat', 'request_id', 'userId']);
    assert.equal(priv.actorId, 'actor1');
    assert.deepEqual(priv.conversation_history[0], { role: 'user', content: history[4].content });
    assert.deepEqual(priv.conversation_history.at(-1), { role: 'user', content: 'What does Shield Block do?' });
    assert.equal(pub.is_public_chat, true);
    assert.equal(pub.system_id, 'pf2e');
    assert.equal(pub.message_count, 10);
    assert.deepEqual(pub.current_speaker, { userId: 'user1', name: 'Alice', actorId: 'actor1', actorName: 'Valeros' });
    assert.equal(pub.conversation_history[0]._id, 'chat2');
    assert.deepEqual(pub.conversation_history[9].rolls, [{ class: 'Roll', formula: '1d20+7', total: 19, evaluated: true }]);
    // typing_status false follows the reply.
    await waitFor(() => page.evaluate(() => window.typing.length >= 4), { what: 'four typing_status events' });
    assert.deepEqual(await page.evaluate(() => window.typing), [true, false, true, false], 'typing callbacks get booleans');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('(a) JSON gateway: the five game events go out wrapped and resolve with their replies', { timeout: 60_000 }, async () => {
  await gateway.reset();
  const page = await foundryPage({ wsUrl: gateway.wsUrl });
  try {
    const replies = await page.evaluate(async () => {
      await manager.connect();
      return Promise.all([
        manager.notifyCharacterCreation({ actorId: 'actor1', name: 'Valeros' }),
        manager.notifyCombatTurn({ combatId: 'c1', round: 1, turn: 0 }),
        manager.notifyLevelUp({ actorId: 'actor1', previousLevel: 1, newLevel: 2 }),
        manager.notifyCombatStart({ combatId: 'c1', round: 1, turn: 0 }),
        manager.submitFeedback('msg-1', 'positive'),
      ]);
    });
    assert.deepEqual(replies.map((r) => r.action), [
      'character_creation_response', 'combat_response', 'level_up_response', 'combat_response', 'feedback_response',
    ]);
    const frames = await gateway.frames();
    assert.deepEqual(frames.map((f) => f.violation), [null, null, null, null, null]);
    for (const { frame } of frames) {
      assert.deepEqual(Object.keys(frame).sort(), ['action', 'payload']);
      assert.equal(frame.action, 'event');
      assert.equal(frame.payload.userId, 'user1');
      assert.equal(typeof frame.payload.request_id, 'string');
    }
    assert.deepEqual(frames.map((f) => f.frame.payload.action), ['character_creation_start', 'combat_turn', 'level_up', 'combat_start', 'feedback']);
    assert.deepEqual(frames[4].frame.payload, { action: 'feedback', messageId: 'msg-1', type: 'positive', request_id: frames[4].frame.payload.request_id, userId: 'user1' });
    // Each reply matched its own request.
    assert.deepEqual(replies.map((r) => r.request_id), frames.map((f) => f.frame.payload.request_id));
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('(a) JSON gateway: an error with request_id rejects only that request; one without is reported and rejects nothing', { timeout: 60_000 }, async () => {
  await gateway.reset();
  const page = await foundryPage({ wsUrl: gateway.wsUrl });
  try {
    const out = await page.evaluate(async () => {
      await manager.connect();
      const settled = await Promise.allSettled([
        manager.handlePrivateQuery(game.user.id, 'fail'),
        manager.handlePrivateQuery(game.user.id, 'fine'),
      ]);
      return settled.map((s) => (s.status === 'fulfilled' ? { ok: s.value.content } : { code: s.reason.code, message: s.reason.message, isError: s.reason instanceof Error }));
    });
    assert.deepEqual(out[0], { code: 'SERVER_ERROR', message: 'the model is unavailable', isError: true });
    assert.match(out[1].ok, /fine$/);

    // A held query is pending while an error without request_id arrives.
    await page.evaluate(() => {
      window.held = manager.handlePrivateQuery(game.user.id, 'hold').then((r) => ({ ok: r.content }), (e) => ({ code: e.code }));
    });
    await waitFor(async () => (await gateway.frames()).some((f) => f.frame?.content === 'hold'), { what: 'the held query at the gateway' });
    await gateway.send('error', { message: 'gateway hiccup' });
    await waitFor(() => page.evaluate(() => window.errors.some((e) => e.code === 'SERVER_ERROR')), { what: 'onError SERVER_ERROR' });
    const mid = await page.evaluate(() => ({ pending: manager.pendingRequests.size, state: manager.state, errors: window.errors }));
    assert.equal(mid.pending, 1, 'the held request is still pending');
    assert.equal(mid.state, 'connected');
    assert.deepEqual(mid.errors, [{ code: 'SERVER_ERROR', message: 'gateway hiccup' }]);
    await gateway.release();
    assert.match((await page.evaluate(() => window.held)).ok, /hold$/);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('(a) JSON gateway: a non-JSON frame and a frame without action are counted and reported; a pending request still resolves', { timeout: 60_000 }, async () => {
  await gateway.reset();
  const page = await foundryPage({ wsUrl: gateway.wsUrl });
  try {
    await page.evaluate(async () => {
      await manager.connect();
      window.held = manager.handlePrivateQuery(game.user.id, 'hold').then((r) => ({ ok: r.content }), (e) => ({ code: e.code, message: e.message }));
    });
    await waitFor(async () => (await gateway.frames()).some((f) => f.frame?.content === 'hold'), { what: 'the held query at the gateway' });
    const errorsBefore = await page.evaluate(() => Object.values(manager.metrics().errors ?? {}).reduce((a, b) => a + b, 0));
    await gateway.send('garbage');
    await gateway.send('no_action');
    await waitFor(() => page.evaluate(() => window.errors.filter((e) => e.code === 'PROTOCOL_ERROR').length >= 2), { what: 'two PROTOCOL_ERROR reports' });
    const mid = await page.evaluate(() => ({ metrics: manager.metrics(), state: manager.state, pending: manager.pendingRequests.size }));
    // Counted by their precise code (e.g. INVALID_PAYLOAD, MISSING_ACTION); reported as PROTOCOL_ERROR.
    const errorsAfter = Object.values(mid.metrics.errors ?? {}).reduce((a, b) => a + b, 0);
    assert.equal(errorsAfter - errorsBefore, 2, `metrics().errors counts both: ${JSON.stringify(mid.metrics.errors)}`);
    assert.equal(mid.state, 'connected', 'the link stays up');
    assert.equal(mid.pending, 1);
    await gateway.release();
    assert.match((await page.evaluate(() => window.held)).ok, /hold$/);
    const problems = page.problems.filter((p) => !/PROTOCOL_ERROR/.test(p));
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('(a) JSON gateway: the shape check bites: a query without the module\'s keys is refused with what was wrong', { timeout: 60_000 }, async () => {
  await gateway.reset();
  const page = await foundryPage({ wsUrl: gateway.wsUrl });
  try {
    const out = await page.evaluate(async () => {
      await manager.connect();
      try {
        await manager.request('query', { content: 'bare' });
        return { ok: true };
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    });
    assert.equal(out.code, 'SERVER_ERROR');
    assert.match(out.message, /^query keys: missing actorId, conversation_history, is_public_chat, userId/);
    const [frame] = await gateway.frames();
    assert.match(frame.violation, /^query keys/);
  } finally {
    await page.close();
  }
});

test('(a) JSON gateway: character_update sets the skill rank on the actor through Foundry', { timeout: 60_000 }, async () => {
  const page = await foundryPage({ wsUrl: gateway.wsUrl });
  try {
    await page.evaluate(() => manager.connect());
    await gateway.send('character_update', { actorId: 'actor1', skills: { Acrobatics: 'expert' } });
    await waitFor(() => page.evaluate(() => game.actors.get('actor1').system.skills.acrobatics.rank === 2), { what: 'the rank update' });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('(a) JSON gateway: setting wsUrl reconnects to the new gateway; callbacks survive the swap', { timeout: 60_000 }, async () => {
  const second = await startGateway({ lifetime: 60 });
  await gateway.reset();
  const page = await foundryPage({ wsUrl: gateway.wsUrl });
  try {
    const out = await page.evaluate(async (url) => {
      await manager.connect();
      const before = manager.agent;
      await game.settings.set('frinny', 'wsUrl', url);
      await window.reconnected;
      const swapped = manager.agent !== before;
      const oldState = (() => { try { return before.state; } catch { return 'freed'; } })();
      window.typing.length = 0;
      const reply = await manager.handlePrivateQuery(game.user.id, 'on the new gateway');
      return { swapped, oldState, url: manager.wsUrl, reply: reply.content, connected: manager.isConnected };
    }, second.wsUrl);
    assert.equal(out.swapped, true);
    assert.ok(['closed', 'freed'].includes(out.oldState), out.oldState);
    assert.equal(out.url, second.wsUrl);
    assert.equal(out.connected, true);
    assert.match(out.reply, /on the new gateway$/);
    await waitFor(() => page.evaluate(() => window.typing.length >= 2), { what: 'typing after the swap' });
    assert.deepEqual(await page.evaluate(() => window.typing), [true, false]);
    assert.deepEqual((await second.frames()).map((f) => f.frame.content), ['on the new gateway']);
    assert.deepEqual((await gateway.frames()).map((f) => f.frame.content), []);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await second.stop();
  }
});

test('(a) close() releases every callback the client holds', { timeout: 60_000 }, async () => {
  const page = await foundryPage({ wsUrl: gateway.wsUrl });
  try {
    const out = await page.evaluate(async () => {
      await manager.connect();
      manager.subscribe('notification', () => {});
      manager.onStateChange(() => {});
      const held = manager.agent.heldCallbacks;
      manager.close();
      return { held, after: manager.agent.heldCallbacks, state: manager.state };
    });
    assert.ok(out.held > 0);
    assert.equal(out.after, 0);
    assert.equal(out.state, 'closed');
  } finally {
    await page.close();
  }
});

test("(b) python Socket.IO backend with the protocol setting 'socket.io': query and a game event resolve", { timeout: 90_000 }, async () => {
  const backend = await startPythonBackend();
  const page = await foundryPage({ protocol: 'socket.io', backendUrl: backend.url, wsUrl: 'ws://127.0.0.1:9/unused' });
  try {
    const out = await page.evaluate(async () => {
      await manager.connect();
      const query = await manager.handlePrivateQuery(game.user.id, 'hello python');
      const level = await manager.notifyLevelUp({ actorId: 'actor1', previousLevel: 1, newLevel: 2 });
      return { protocol: manager.protocol, query, level };
    });
    assert.equal(out.protocol, 'socket.io');
    assert.equal(out.query.content, '[query] hello python');
    assert.equal(out.query.userId, 'user1');
    assert.equal(out.query.history_length, 1);
    assert.equal(out.level.content, '[level_up] ');
    await waitFor(() => page.evaluate(() => window.typing.length >= 4), { what: 'four typing_status events' });
    assert.deepEqual(await page.evaluate(() => window.typing), [true, false, true, false]);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await backend.stop();
  }
});

test('(c) reference server: auth given as an async function is called per connection; an expired token is replaced by itself', { timeout: 90_000 }, async () => {
  const server = await startReferenceServer();
  const page = await newPage(browser);
  try {
    await page.goto(`${site.url}${pagePath}`);
    const first = await page.evaluate(async ({ entry, url }) => {
      FakeFoundry.reset();
      game.settings.register('frinny', 'protocol', { scope: 'world', type: String, default: 'json' });
      game.settings.register('frinny', 'backendUrl', { scope: 'world', type: String, default: 'https://frinny.net' });
      await game.settings.set('frinny', 'protocol', 'socket.io');
      await game.settings.set('frinny', 'backendUrl', url);
      const { AgentManager } = await import(entry);
      window.tokens = 0;
      window.errors = [];
      window.manager = new AgentManager({
        auth: async () => {
          window.tokens += 1;
          const r = await fetch(`${url}/dev/token?userId=${game.user.id}&ttl=2`);
          return { token: (await r.json()).token };
        },
      });
      manager.onError((e) => window.errors.push(e.code ?? e.serverCode));
      await manager.connect();
      const reply = await manager.handlePrivateQuery(game.user.id, 'first question');
      return { tokens: window.tokens, reply };
    }, { entry: ENTRY, url: server.url });
    assert.equal(first.tokens, 1);
    assert.equal(typeof first.reply.content, 'string');

    // Let the token expire; the next event is refused, the client fetches a
    // new token by itself, and a question is answered again.
    await new Promise((r) => setTimeout(r, 2500));
    const later = await page.evaluate(async () => {
      const outcomes = [];
      for (let i = 0; i < 10; i += 1) {
        try {
          const reply = await manager.handlePrivateQuery(game.user.id, `after expiry ${i}`);
          outcomes.push('ok');
          return { outcomes, reply, tokens: window.tokens, state: manager.state };
        } catch (e) {
          outcomes.push(e.serverCode ?? e.code);
          await new Promise((r) => setTimeout(r, 300));
        }
      }
      return { outcomes, tokens: window.tokens, state: manager.state };
    });
    assert.ok(later.reply, `answered again after expiry: ${JSON.stringify(later)}`);
    assert.ok(later.tokens >= 2, `a fresh token was fetched: ${later.tokens}`);
    assert.equal(later.state, 'connected');
  } finally {
    await page.close();
    await server.stop();
  }
});

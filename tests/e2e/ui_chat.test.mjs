// FrinnyChat (frinny-agent/components) loaded from the INSTALLED package in
// headless Chromium: the window against the reference server (query,
// typing, thumbs, public toggle, close() releasing everything), its history
// in the per-user synced scope (two tabs converge, a tab catches up after
// a reconnect), a backend without state sync (a plain Socket.IO server),
// character_update as a suggestion, and replaceState.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUiHarness } from './support/ui_harness.mjs';
import { startPlainBackend } from './support/ui_plain_backend.mjs';

let h;
before(async () => {
  // Answers take 150 ms, long enough to see "typing".
  h = await startUiHarness({ delayMs: 150 });
}, { timeout: 900_000 });
after(async () => {
  await h?.stop();
});

/** A page with `window.agent` connected as `userId`. */
async function pageWithAgent(userId, role = 'player', world = 'w1') {
  const page = await h.open({ width: 480, height: 760 });
  const token = await h.token(userId, role, world);
  await page.evaluate(async ({ origin, token }) => {
    window.agent = await connectAgent(origin, token);
    window.count = () => ({ subscribers: agent.metrics().subscribers, held: agent.heldCallbacks });
    window.shown = () =>
      [...window.chat.root.querySelectorAll('.msg')].map((li) => [li.dataset.role, li.querySelector('.bubble').textContent]);
  }, { origin: h.server.origin, token });
  return page;
}

/** `new FrinnyChat({agent, element, userId, ...extra})` in the page, as `window.chat`. */
async function openChat(page, userId, extra = {}) {
  await page.evaluate(async ({ userId, extra }) => {
    window.chat = new F.FrinnyChat({ agent, element: document.querySelector('#stage'), userId, ...extra });
    await chat.ready;
  }, { userId, extra });
}

test('FrinnyChat: a query shows typing then the answer; thumbs and the public toggle; close() leaves the counts where they were and the agent open', { timeout: 90_000 }, async () => {
  const page = await pageWithAgent('chat-1', 'player', 'w-chat');
  try {
    const before = await page.evaluate(() => count());
    await openChat(page, 'chat-1');
    await page.waitForFunction(() => chat.synced === true, null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => chat.historyScope), 'user:chat-1');
    await page.evaluate(() => {
      window.requests = [];
      const request = agent.request.bind(agent);
      agent.request = (name, payload, opts) => {
        window.requests.push([name, payload]);
        return request(name, payload, opts);
      };
    });

    // Type and press Enter; "Frinny is typing…" shows, then the answer.
    await page.locator('textarea').fill('What does Shield Block do?');
    await page.locator('textarea').press('Enter');
    await page.waitForFunction(() => !chat.root.querySelector('frinny-typing-indicator').hidden, null, { timeout: 10_000 });
    assert.equal(await page.locator('frinny-typing-indicator').getAttribute('role'), 'status');
    await page.waitForFunction(() => shown().some(([role, text]) => role === 'assistant' && text.includes('demo responder')), null, { timeout: 10_000 });
    await page.waitForFunction(() => chat.root.querySelector('frinny-typing-indicator').hidden);
    const convo = await page.evaluate(() => shown());
    assert.deepEqual(convo[0], ['user', 'What does Shield Block do?']);
    assert.match(convo[1][1], /You said: "What does Shield Block do\?"/);
    const query = await page.evaluate(() => window.requests.find(([n]) => n === 'query')[1]);
    assert.equal(query.is_public_chat, false);
    assert.equal(query.userId, 'chat-1');
    assert.deepEqual(query.conversation_history, [{ role: 'user', content: 'What does Shield Block do?' }]);

    // Thumbs up: pressed at once, sent as feedback, kept in the synced history.
    const thumbs = page.locator('.msg.assistant button[data-feedback="positive"]');
    assert.equal(await thumbs.getAttribute('aria-label'), 'Helpful');
    await thumbs.click();
    await page.waitForFunction(() => chat.root.querySelector('.msg.assistant button[data-feedback="positive"]').getAttribute('aria-pressed') === 'true');
    await page.waitForFunction(() => Object.values(agent.getState('user:chat-1').chat).some((m) => m.feedback === 'positive'));
    const feedback = await page.evaluate(() => window.requests.find(([n]) => n === 'feedback')[1]);
    assert.equal(feedback.type, 'positive');
    assert.match(feedback.messageId, /\S/);

    // The public toggle (a switch, by keyboard).
    const sw = page.locator('button[role="switch"]');
    assert.equal(await sw.getAttribute('aria-checked'), 'false');
    await sw.focus();
    await page.keyboard.press('Space');
    assert.equal(await sw.getAttribute('aria-checked'), 'true');
    await page.evaluate(() => chat.send('Who goes first?'));
    const last = await page.evaluate(() => window.requests.filter(([n]) => n === 'query').at(-1)[1]);
    assert.equal(last.is_public_chat, true);
    assert.equal(last.conversation_history.length, 3, 'the earlier turns and the new one');
    assert.equal(await page.locator('.msg.user .badge').last().textContent(), 'Public');

    // close(): every subscription and callback released; the agent it was
    // given is still connected; its DOM is gone.
    await page.waitForFunction(() => agent.pendingCount === 0);
    const during = await page.evaluate(() => count());
    assert.ok(during.subscribers > before.subscribers && during.held > before.held, JSON.stringify({ before, during }));
    const after = await page.evaluate(async () => {
      chat.close();
      await new Promise((r) => setTimeout(r, 100));
      return { ...count(), state: agent.state, host: document.querySelector('[data-frinny-chat]'), cleanups: chat.cleanupFunctions.size, messages: chat.messages.length };
    });
    assert.deepEqual(after, { ...before, state: 'connected', host: null, cleanups: 0, messages: 0 });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('FrinnyChat: text is never HTML, in the question or the answer', { timeout: 60_000 }, async () => {
  const page = await pageWithAgent('chat-xss', 'player', 'w-chat');
  const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
  try {
    await openChat(page, 'chat-xss');
    await page.evaluate((evil) => chat.send(evil), evil);
    await page.waitForFunction(() => shown().length === 2);
    const out = await page.evaluate(() => ({ shown: shown(), imgs: chat.root.querySelectorAll('img, b').length, pwned: window.__pwned ?? 0 }));
    assert.deepEqual(out.shown[0], ['user', evil]);
    assert.ok(out.shown[1][1].includes(evil), out.shown[1][1]);
    assert.equal(out.imgs, 0);
    assert.equal(out.pwned, 0);
    await page.evaluate(() => chat.close());
  } finally {
    await page.close();
  }
});

test('two tabs of one user: the histories converge, concurrent appends all survive, and a tab back from offline catches up', { timeout: 120_000 }, async () => {
  const a = await pageWithAgent('twin', 'player', 'w-twin');
  const b = await pageWithAgent('twin', 'player', 'w-twin');
  const ids = (page) => page.evaluate(() => chat.messages.map((m) => m.id));
  const texts = (page) => page.evaluate(() => chat.messages.map((m) => `${m.role}:${m.content.slice(0, 40)}`));
  try {
    // Separate devices: no shared localStorage between the tabs' sessions.
    await openChat(a, 'twin', { storage: null });
    await openChat(b, 'twin', { storage: null });
    await a.waitForFunction(() => chat.synced);
    await b.waitForFunction(() => chat.synced);

    // The append is optimistic: in the synced document before the server confirms it.
    const optimistic = await a.evaluate(() => {
      const sent = chat.send('from tab A');
      const mine = chat.messages.find((m) => m.content === 'from tab A');
      const inDoc = Boolean(agent.getState('user:twin').chat?.[mine.id]);
      return sent.then(() => inDoc);
    });
    assert.equal(optimistic, true, 'visible in the synced document at once');
    await b.waitForFunction(() => chat.messages.length === 2, null, { timeout: 10_000 });
    assert.deepEqual(await texts(b), await texts(a));
    assert.deepEqual(await ids(b), await ids(a));

    // Both at once: each tab's optimistic append races the other's; the
    // conflict is merged by message id and nothing is dropped.
    await Promise.all([a.evaluate(() => chat.send('A at the same time')), b.evaluate(() => chat.send('B at the same time'))]);
    await a.waitForFunction(() => chat.messages.length === 6, null, { timeout: 15_000 });
    await b.waitForFunction(() => chat.messages.length === 6, null, { timeout: 15_000 });
    assert.deepEqual(await ids(a), await ids(b));
    const all = await texts(a);
    for (const t of ['user:from tab A', 'user:A at the same time', 'user:B at the same time']) assert.ok(all.includes(t), `${t} in ${all}`);
    // What the server holds is the same.
    const serverDoc = await a.evaluate(() => Object.keys(agent.getState('user:twin').chat).sort());
    assert.deepEqual(serverDoc, [...(await ids(a))].sort());

    // Tab B goes offline; A talks on; B reconnects and catches up.
    await b.evaluate(() => agent.disconnect());
    await a.evaluate(() => chat.send('while B was away'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await b.evaluate(() => chat.messages.length), 6, 'B is offline and has not seen it');
    await b.evaluate(() => agent.connect());
    await b.waitForFunction(() => chat.messages.length === 8, null, { timeout: 15_000 });
    assert.deepEqual(await ids(b), await ids(a));
    // The window shows them too (not only the model), from its next frame:
    // rendering is batched per animation frame.
    await b.waitForFunction(() => shown().length === 8, null, { timeout: 5_000 });

    // Clear (asked twice) empties the conversation on every tab: the window
    // hands replaceState the document without its messages.
    const clear = a.locator('header button.clear');
    await clear.click();
    assert.equal(await clear.textContent(), 'Clear? Click again');
    assert.equal(await a.evaluate(() => chat.messages.length), 8, 'nothing cleared on the first click');
    await clear.click();
    await a.waitForFunction(() => chat.messages.length === 0 && chat.root.querySelectorAll('.msg').length === 0);
    await b.waitForFunction(() => chat.messages.length === 0 && chat.root.querySelectorAll('.msg').length === 0, null, { timeout: 10_000 });
    assert.deepEqual(await b.evaluate(() => agent.getState('user:twin').chat), {});
    assert.deepEqual(a.problems, []);
    assert.deepEqual(b.problems, []);
    await a.evaluate(() => chat.close());
    await b.evaluate(() => chat.close());
  } finally {
    await a.close();
    await b.close();
  }
});

test('a backend without state sync (a plain Socket.IO server): the window answers at once and keeps the history on this device', { timeout: 90_000 }, async () => {
  const backend = await startPlainBackend();
  const page = await h.open();
  try {
    const out = await page.evaluate(async (url) => {
      localStorage.clear();
      window.agent = await connectAgent(url, undefined, { auth: undefined, query: { userId: 'plain-1' } });
      const start = performance.now();
      window.chat = new F.FrinnyChat({ agent, element: document.querySelector('#stage'), userId: 'plain-1', syncTimeout: 1500 });
      const answer = await chat.send('hello without sync');
      const answeredIn = performance.now() - start;
      const syncedThen = chat.synced;
      await until(() => !chat._syncing, 5000, 'the sync attempt to give up');
      return { answer: answer?.content, answeredIn, syncedThen, synced: chat.synced, held: agent.heldCallbacks, messages: chat.messages.map((m) => m.content) };
    }, backend.url);
    assert.equal(out.answer, '[plain backend] hello without sync');
    assert.ok(out.answeredIn < 1500, `answered in ${out.answeredIn} ms, before the sync attempt gave up`);
    assert.equal(out.syncedThen, false);
    assert.equal(out.synced, false);
    assert.deepEqual(out.messages, ['hello without sync', '[plain backend] hello without sync']);
    assert.ok(backend.events.some(([e]) => e === 'state:subscribe'), 'it asked once');
    // The page is reloaded: the history comes back from this device.
    await page.evaluate(() => chat.close());
    await page.reload();
    await page.waitForFunction(() => window.harnessReady === true);
    const restored = await page.evaluate(async (url) => {
      window.agent = await connectAgent(url, undefined, { auth: undefined, query: { userId: 'plain-1' } });
      window.chat = new F.FrinnyChat({ agent, element: document.querySelector('#stage'), userId: 'plain-1', syncTimeout: 500 });
      const now = chat.messages.map((m) => m.content);
      await until(() => chat.root.querySelectorAll('.msg').length === 2, 3000, 'the restored messages on screen');
      return now;
    }, backend.url);
    assert.deepEqual(restored, ['hello without sync', '[plain backend] hello without sync']);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
    await backend.stop();
  }
});

test('character_update becomes a suggestion: the sheet changes only when the player accepts', { timeout: 90_000 }, async () => {
  const player = await pageWithAgent('hero-1', 'player', 'w-hero');
  const gm = await pageWithAgent('gm-hero', 'gm', 'w-hero');
  try {
    await player.evaluate(async () => {
      window.sheet = { a1: { name: 'Valeros', skills: { acrobatics: 'trained' } } };
      window.applied = [];
      window.chat = new F.FrinnyChat({
        agent,
        element: document.querySelector('#stage'),
        userId: 'hero-1',
        describeActor: (id) => window.sheet[id]?.name,
        applyCharacterUpdate: async (u) => {
          window.applied.push(u);
          Object.assign(window.sheet[u.actorId].skills, u.updates.skills);
        },
      });
      await chat.ready;
    });
    await gm.evaluate(() => agent.broadcastEvent('character_update', { actorId: 'a1', updates: { skills: { acrobatics: 'expert' } }, message_id: 'm-1' }));
    const suggestion = player.locator('frinny-suggestion-box li');
    await suggestion.waitFor();
    assert.equal(await suggestion.locator('.text').textContent(), 'Update Valeros: Acrobatics: expert');
    assert.deepEqual(await player.evaluate(() => ({ applied: window.applied.length, rank: window.sheet.a1.skills.acrobatics })), { applied: 0, rank: 'trained' }, 'nothing changes before the player accepts');
    await suggestion.locator('button', { hasText: 'Accept' }).click();
    await player.waitForFunction(() => window.applied.length === 1);
    await player.waitForFunction(() => shown().some(([r, t]) => r === 'system' && t === 'Valeros was updated: Acrobatics: expert'));
    const after = await player.evaluate(() => ({ rank: window.sheet.a1.skills.acrobatics, applied: window.applied[0], left: chat.root.querySelector('frinny-suggestion-box').suggestions.length }));
    assert.equal(after.rank, 'expert');
    assert.deepEqual(after.applied.updates, { skills: { acrobatics: 'expert' } });
    assert.equal(after.left, 0);

    // Declined: nothing applied.
    await gm.evaluate(() => agent.broadcastEvent('character_update', { actorId: 'a1', updates: { skills: { athletics: 'master' } } }));
    await suggestion.waitFor();
    await suggestion.locator('button', { hasText: 'Dismiss' }).click();
    await player.waitForFunction(() => shown().some(([r, t]) => r === 'system' && t === 'Update to Valeros declined.'));
    assert.equal(await player.evaluate(() => window.applied.length), 1);
    assert.equal(await player.evaluate(() => window.sheet.a1.skills.athletics), undefined);
    assert.deepEqual(player.problems, []);
    await player.evaluate(() => chat.close());
  } finally {
    await player.close();
    await gm.close();
  }
});

test('FrinnyChat from agentOptions connects its own agent and closes it on close()', { timeout: 60_000 }, async () => {
  const page = await h.open();
  try {
    const token = await h.token('own-1', 'player', 'w-own');
    const out = await page.evaluate(async ({ origin, token }) => {
      window.chat = new F.FrinnyChat({ agentOptions: { url: origin, auth: { token } }, element: document.querySelector('#stage'), userId: 'own-1' });
      await chat.ready;
      await until(() => chat.agent.state === 'connected', 10000, 'connected');
      const reply = await chat.send('mine');
      chat.close();
      return { owns: chat.ownsAgent, reply: reply?.content, state: chat.agent.state, held: chat.agent.heldCallbacks };
    }, { origin: h.server.origin, token });
    assert.equal(out.owns, true);
    assert.match(out.reply, /You said: "mine"/);
    assert.equal(out.state, 'closed');
    assert.equal(out.held, 0);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('replaceState: the merge patch from the current document is sent; the other tab gets exactly the document; null members are refused', { timeout: 60_000 }, async () => {
  const a = await pageWithAgent('rs-1', 'player', 'w-rs');
  const b = await pageWithAgent('rs-1', 'player', 'w-rs');
  try {
    await b.evaluate(async () => {
      await agent.syncState('user:rs-1');
      window.patches = [];
      agent.subscribeState('user:rs-1', (doc, change) => change.type === 'patch' && window.patches.push(change.patch));
    });
    const out = await a.evaluate(async () => {
      await agent.syncState('user:rs-1');
      const first = { name: 'Valeros', skills: { acrobatics: 'trained', athletics: 'expert' }, tags: ['fighter'], gone: 1 };
      const v1 = await agent.replaceState('user:rs-1', first);
      const second = { name: 'Valeros', skills: { acrobatics: 'expert', athletics: 'expert' }, tags: ['fighter', 'human'] };
      const v2 = await agent.replaceState('user:rs-1', second, { optimistic: true });
      const errors = [];
      for (const bad of [{ name: null }, { skills: { acrobatics: null } }, ['not', 'an', 'object']]) {
        try {
          await agent.replaceState('user:rs-1', bad);
          errors.push('resolved');
        } catch (e) {
          errors.push(`${e.code}: ${e.message}`);
        }
      }
      return { v1: v1.version, v2: v2.version, doc: agent.getState('user:rs-1'), errors };
    });
    assert.ok(out.v2 > out.v1);
    assert.deepEqual(out.doc, { name: 'Valeros', skills: { acrobatics: 'expert', athletics: 'expert' }, tags: ['fighter', 'human'] });
    assert.match(out.errors[0], /^INVALID_PAYLOAD: `\/name` is null/);
    assert.match(out.errors[1], /^INVALID_PAYLOAD: `\/skills\/acrobatics` is null/);
    assert.match(out.errors[2], /^INVALID_PAYLOAD: a state document must be a JSON object/);
    await b.waitForFunction(() => window.patches.length >= 2);
    const seen = await b.evaluate(() => ({ doc: agent.getState('user:rs-1'), last: window.patches.at(-1) }));
    assert.deepEqual(seen.doc, out.doc);
    assert.deepEqual(seen.last, { skills: { acrobatics: 'expert' }, tags: ['fighter', 'human'], gone: null }, 'only what changed went over the wire');
    assert.deepEqual(a.problems, []);
    assert.deepEqual(b.problems, []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('the history conflict resolver merges by message id: it re-submits every message and feedback the server lacks, drops none', { timeout: 60_000 }, async () => {
  const page = await h.open();
  try {
    const out = await page.evaluate(() => {
      const m = (id, extra = {}) => ({ id, role: 'user', content: id, ts: 1, ...extra });
      const local = { chat: { a: m('a'), b: m('b', { feedback: 'positive' }), c: m('c') } };
      const server = { chat: { a: m('a'), b: m('b'), d: m('d') }, other: 1 };
      return {
        merged: F.mergeConflict(local, server),
        same: F.mergeConflict(server, server),
        empty: F.mergeConflict(undefined, { chat: {} }),
      };
    });
    assert.deepEqual(out.merged, { chat: { b: { feedback: 'positive' }, c: { id: 'c', role: 'user', content: 'c', ts: 1 } } });
    assert.equal(out.same, undefined, 'nothing to add: the server wins');
    assert.equal(out.empty, undefined);
  } finally {
    await page.close();
  }
});

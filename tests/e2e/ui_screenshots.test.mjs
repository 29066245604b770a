// Pictures of each element and of the chat window (default dark theme),
// driven by real events from the reference server, saved to docs/images/
// (committed). Each picture is also a check: what it shows is asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startUiHarness, imagesDir } from './support/ui_harness.mjs';

let h;
let images;
before(async () => {
  h = await startUiHarness({ delayMs: 100 });
  images = imagesDir();
}, { timeout: 900_000 });
after(async () => {
  await h?.stop();
});

const WORLD = 'w-pictures';
const push = (event, payload) => h.admin('/broadcast', { event, payload, world: WORLD });

/** A page with `window.agent` connected, and a GM agent for the table's events. */
async function scene(userId, { width = 460, height = 760 } = {}) {
  const page = await h.open({ width, height });
  const token = await h.token(userId, 'player', WORLD);
  const gmToken = await h.token(`${userId}-gm`, 'gm', WORLD);
  await page.evaluate(async ({ origin, token, gmToken }) => {
    F.defineComponents();
    window.agent = await connectAgent(origin, token);
    window.gm = await connectAgent(origin, gmToken);
  }, { origin: h.server.origin, token, gmToken });
  return page;
}

const encounter = {
  combatId: 'c-goblins',
  round: 2,
  turn: 1,
  combatant: { name: 'Kyra', actorId: 'a-kyra' },
  changes: [
    { name: 'Goblin Warrior', hp: { value: 4, max: 15 }, conditions: ['frightened 1'] },
    { name: 'Valeros', hp: { value: 31, max: 38 } },
    { name: 'Goblin Commando', hp: { value: 18, max: 18 }, conditions: ['off-guard'] },
    { name: 'Kyra', hp: { value: 14, max: 27 }, conditions: ['clumsy 1'] },
  ],
};

test('pictures of each element', { timeout: 120_000 }, async () => {
  const page = await scene('pic-elements');
  try {
    await page.evaluate(() => {
      const stage = document.querySelector('#stage');
      for (const tag of ['frinny-connection-status', 'frinny-typing-indicator', 'frinny-notification-panel', 'frinny-suggestion-box', 'frinny-combat-updates']) {
        const e = document.createElement(tag);
        e.id = tag;
        // The one-line elements take their own width, as in a window's header.
        if (tag === 'frinny-connection-status' || tag === 'frinny-typing-indicator') e.style.alignSelf = 'flex-start';
        stage.append(e);
        e.agent = agent;
      }
      document.querySelector('#frinny-suggestion-box').describeActor = (id) => ({ 'a-kyra': 'Kyra' })[id];
    });
    await page.evaluate(() => document.querySelector('#frinny-typing-indicator').setAttribute('stale-after', '600000'));
    await push('notification', { title: 'Initiative', message: 'Roll initiative! The goblins burst out of the brambles.', level: 'warning', from: 'GM' });
    await push('notification', { message: 'Valeros gained the Shield Block reaction.', level: 'info', from: 'server' });
    await push('notification', { title: 'Connection', message: 'The AI backend is slow to answer; replies may take a moment.', level: 'error' });
    await page.evaluate(() => agent.request('combat_turn', { actorId: 'a-kyra', combatant: { name: 'Kyra' } }));
    await page.evaluate((u) => gm.broadcastEvent('combat_update', u), encounter);
    // Frinny is working on something (its typing_status false never comes here).
    await push('typing_status', { isTyping: true });
    await page.waitForFunction(() =>
      document.querySelector('#frinny-combat-updates').log.length === 4 &&
      document.querySelector('#frinny-suggestion-box').suggestions.length === 1 &&
      document.querySelector('#frinny-notification-panel').count === 3 &&
      !document.querySelector('#frinny-typing-indicator').hidden &&
      document.querySelector('#frinny-connection-status').dataset.state === 'connected',
    );
    // Screenshots after the entry animations and a settled frame.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    for (const tag of ['frinny-connection-status', 'frinny-typing-indicator', 'frinny-notification-panel', 'frinny-suggestion-box', 'frinny-combat-updates']) {
      await page.locator(`#${tag}`).screenshot({ path: join(images, `${tag.replace('frinny-', '')}.png`), animations: 'disabled' });
    }
    await page.screenshot({ path: join(images, 'elements.png'), fullPage: true, animations: 'disabled' });

    // Every state of the connection status, one agent each: connected,
    // waiting out a backoff (a server that is not there), disconnected,
    // closed, and connected with an error being shown.
    await page.evaluate(async () => {
      const box = document.createElement('section');
      box.id = 'states';
      box.style.cssText = 'display:flex;flex-direction:column;align-items:flex-start;gap:10px;padding:12px 14px;background:#1b1c22;border:1px solid #3b3d4c;border-radius:6px';
      document.querySelector('#stage').prepend(box);
      const add = (a) => {
        const s = document.createElement('frinny-connection-status');
        box.append(s);
        s.agent = a;
        return s;
      };
      add(agent);
      const dead = new F.AgentManager({ url: 'http://127.0.0.1:9', reconnectionDelay: 30000, reconnectionDelayMax: 30000, randomizationFactor: 0 });
      dead.connect().catch(() => {});
      window.dead = dead;
      add(dead);
      add(new F.AgentManager({ url: 'http://127.0.0.1:9' }));
      const closed = new F.AgentManager({ url: 'http://127.0.0.1:9' });
      add(closed);
      closed.close();
      add(agent).showError({ code: 'RATE_LIMITED', message: 'too many events; retry in 2 s' });
    });
    await page.waitForFunction(() => {
      const shown = [...document.querySelectorAll('#states frinny-connection-status')].map((s) => s.dataset.state);
      return shown.join() === 'connected,reconnecting,offline,closed,connected';
    }, null, { timeout: 15_000 });
    await page.waitForFunction(() => /Reconnecting in \d+ s/.test(document.querySelectorAll('#states frinny-connection-status')[1].shadowRoot.textContent));
    const labels = await page.evaluate(() => [...document.querySelectorAll('#states frinny-connection-status')].map((s) => s.shadowRoot.querySelector('.label').textContent));
    assert.equal(labels[0], 'Connected');
    assert.match(labels[1], /^Reconnecting in \d+ s$/);
    assert.deepEqual(labels.slice(2), ['Offline', 'Closed', 'Connected']);
    await page.locator('#states').screenshot({ path: join(images, 'connection-status-states.png'), animations: 'disabled' });
    await page.evaluate(() => window.dead.close());
    // The browser logs the attempts on the server that is not there: the
    // WebSocket, then the long-polling fallback's request (port 9 is one
    // the browser refuses to fetch from).
    const dead = (p) =>
      p.includes("WebSocket connection to 'ws://127.0.0.1:9/") || p.includes('net::ERR_UNSAFE_PORT');
    assert.deepEqual(page.problems.filter((p) => !dead(p)), []);
  } finally {
    await page.close();
  }
});

test('picture of the chat window', { timeout: 120_000 }, async () => {
  const page = await scene('pic-chat', { width: 520, height: 900 });
  try {
    await page.evaluate(async () => {
      document.querySelector('#stage').classList.add('wide');
      document.querySelector('#stage').style.height = '860px';
      window.chat = new F.FrinnyChat({ agent, element: document.querySelector('#stage'), userId: 'pic-chat', storage: null, describeActor: () => 'Valeros' });
      await chat.ready;
      await until(() => chat.synced, 10000, 'synced history');
      await chat.clearHistory();
      await chat.send('How does Shield Block work with a sturdy shield?');
      const answer = await chat.send('Can I Raise a Shield and Strike in the same turn?', { public: true });
      await chat.submitFeedback(answer.id, 'positive');
    });
    await page.evaluate((u) => gm.broadcastEvent('combat_update', u), encounter);
    await page.evaluate(() => gm.broadcastEvent('notification', { title: 'GM', message: 'Roll initiative!', level: 'warning' }));
    await page.evaluate(() => gm.broadcastEvent('character_update', { actorId: 'a-valeros', updates: { skills: { athletics: 'expert' } }, message_id: 'm-42' }));
    await page.evaluate(() => chat.root.querySelector('frinny-typing-indicator').setAttribute('stale-after', '600000'));
    await push('typing_status', { isTyping: true });
    await page.waitForFunction(() => {
      const r = chat.root;
      return r.querySelector('frinny-suggestion-box').suggestions.length === 1 &&
        r.querySelector('frinny-combat-updates').current && r.querySelector('frinny-notification-panel').count === 1 &&
        !r.querySelector('frinny-typing-indicator').hidden && r.querySelectorAll('.msg').length === 4;
    });
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    await page.locator('[data-frinny-chat]').screenshot({ path: join(images, 'chat-window.png'), animations: 'disabled' });
    assert.deepEqual(page.problems, []);
    await page.evaluate(() => chat.close());
  } finally {
    await page.close();
  }
});

// The Phase 2 elements of `frinny-agent/components`, loaded from the
// INSTALLED package in headless Chromium, against the reference server:
// what each shows for the events the server sends, that network text is
// never HTML, keyboard use, and that removing an element (or setting its
// agent to null) releases every subscription, counted through metrics().
// Run by `node --test tests/e2e/` (cargo xtask test e2e).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startUiHarness } from './support/ui_harness.mjs';

let h;
before(async () => {
  // Answers take 200 ms, as a real model's would: long enough to see typing.
  h = await startUiHarness({ delayMs: 200 });
}, { timeout: 900_000 });
after(async () => {
  await h?.stop();
});

/** A page with `window.agent` connected as `userId` and the elements defined. */
async function pageWithAgent(userId, role = 'player', world = 'w1') {
  const page = await h.open();
  const token = await h.token(userId, role, world);
  await page.evaluate(async ({ origin, token }) => {
    F.defineComponents();
    window.agent = await connectAgent(origin, token);
  }, { origin: h.server.origin, token });
  return page;
}

test('defineComponents registers every element, and calling it twice is harmless', { timeout: 60_000 }, async () => {
  const page = await h.open();
  try {
    const out = await page.evaluate(() => {
      F.defineComponents();
      F.defineComponents();
      return Object.keys(F.ELEMENTS).map((tag) => [tag, customElements.get(tag) === F.ELEMENTS[tag]]);
    });
    assert.deepEqual(out, [
      ['frinny-typing-indicator', true],
      ['frinny-notification-panel', true],
      ['frinny-suggestion-box', true],
      ['frinny-combat-updates', true],
      ['frinny-connection-status', true],
    ]);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('typing indicator: shows on typing_status true with role=status, hides on the reply and on false', { timeout: 60_000 }, async () => {
  const page = await pageWithAgent('typing-1');
  try {
    const out = await page.evaluate(async () => {
      const t = document.createElement('frinny-typing-indicator');
      document.querySelector('#stage').append(t);
      t.agent = agent;
      const seen = [];
      const off = agent.subscribe('typing_status', ({ isTyping }) => {
        // What the element shows one frame after each typing event.
        requestAnimationFrame(() => requestAnimationFrame(() => seen.push([isTyping, t.hidden, t.shadowRoot.textContent.trim()])));
      });
      const initiallyHidden = t.hidden;
      const reply = await agent.request('query', { content: 'What does Shield Block do?' });
      await until(() => seen.length === 2, 5000, 'two typing events');
      off();
      return { initiallyHidden, role: t.getAttribute('role'), seen, hiddenAfter: t.hidden, reply: reply.content };
    });
    assert.equal(out.initiallyHidden, true);
    assert.equal(out.role, 'status');
    assert.deepEqual(out.seen[0], [true, false, 'Frinny is typing…']);
    assert.equal(out.seen[1][0], false);
    assert.equal(out.seen[1][1], true, 'hidden after typing_status false');
    assert.equal(out.hiddenAfter, true);
    assert.match(out.reply, /demo responder/);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('typing indicator: any *_response hides it, and a lost false is cleared after stale-after ms', { timeout: 60_000 }, async () => {
  const page = await pageWithAgent('typing-2', 'player', 'w-typing');
  const push = (event, payload) => h.admin('/broadcast', { event, payload, world: 'w-typing' });
  try {
    await page.evaluate(() => {
      const t = document.createElement('frinny-typing-indicator');
      t.id = 't';
      t.setAttribute('stale-after', '400');
      document.querySelector('#stage').append(t);
      t.agent = agent;
    });
    // typing true, then a reply with no typing false after it.
    await push('typing_status', { isTyping: true });
    await page.waitForFunction(() => !document.querySelector('#t').hidden);
    await push('level_up_response', { content: 'done' });
    await page.waitForFunction(() => document.querySelector('#t').hidden);

    // typing true, then nothing at all: the false was lost.
    await push('typing_status', { isTyping: true });
    await page.waitForFunction(() => !document.querySelector('#t').hidden);
    const t0 = Date.now();
    await page.waitForFunction(() => document.querySelector('#t').hidden, null, { timeout: 5000 });
    const staleMs = Date.now() - t0;
    assert.ok(staleMs >= 200 && staleMs < 3000, `hid ${staleMs} ms after it showed, with stale-after=400`);

    // Each typing event restarts the clock.
    await push('typing_status', { isTyping: true });
    await page.waitForFunction(() => !document.querySelector('#t').hidden);
    await new Promise((r) => setTimeout(r, 250));
    await push('typing_status', { isTyping: true });
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(await page.evaluate(() => document.querySelector('#t').hidden), false, 'still shown 500 ms after the first event');
    await page.waitForFunction(() => document.querySelector('#t').hidden, null, { timeout: 5000 });
    assert.equal(await page.evaluate(() => document.querySelector('#t').getAttribute('stale-after')), '400');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

/** Text of the shadow root of `selector` (what a reader of the element sees). */
const shadowText = (page, selector) => page.evaluate((s) => document.querySelector(s).shadowRoot.textContent, selector);

test('notification panel: newest first, level, title and sender shown, dismissable by keyboard, holds at most max', { timeout: 60_000 }, async () => {
  const page = await pageWithAgent('notify-1', 'player', 'w-notify');
  try {
    await page.evaluate(() => {
      const p = document.createElement('frinny-notification-panel');
      p.id = 'p';
      p.setAttribute('max', '3');
      document.querySelector('#stage').append(p);
      p.agent = agent;
    });
    const attrs = await page.evaluate(() => {
      const p = document.querySelector('#p');
      return [p.getAttribute('role'), p.getAttribute('aria-live')];
    });
    assert.deepEqual(attrs, ['log', 'polite']);
    // From the server: /notify (to this user), then broadcasts to the world.
    await h.admin('/notify', { userId: 'notify-1', level: 'warning', title: 'Heads up', message: 'first' });
    await page.waitForFunction(() => document.querySelector('#p').count === 1);
    for (const [i, level] of ['error', 'info', 'success'].entries()) {
      await h.admin('/broadcast', { event: 'notification', world: 'w-notify', payload: { message: `n${i + 2}`, level, from: 'gm-1' } });
    }
    await page.waitForFunction(() => document.querySelector('#p').shadowRoot.textContent.includes('n4'));
    const items = await page.evaluate(() =>
      [...document.querySelector('#p').shadowRoot.querySelectorAll('li')].map((li) => ({
        level: li.dataset.level,
        badge: li.querySelector('.level').textContent,
        message: li.querySelector('.message').textContent,
        meta: li.querySelector('.meta').textContent,
      })),
    );
    assert.deepEqual(items.map((i) => i.message), ['n4', 'n3', 'n2'], 'newest first, at most max=3 (the first was dropped)');
    assert.deepEqual(items.map((i) => [i.level, i.badge]), [['success', 'Success'], ['info', 'Info'], ['error', 'Error']]);
    assert.match(items[0].meta, /from gm-1/);

    // A local item through notify(); the title is shown.
    await page.evaluate(() => document.querySelector('#p').notify({ title: 'Local', message: 'made here', level: 'warning' }));
    await page.waitForFunction(() => document.querySelector('#p').shadowRoot.querySelector('li .title')?.textContent === 'Local');

    // Keyboard: focus the first dismiss button, Enter removes the item and
    // keeps the focus on the next item's button.
    await page.evaluate(() => document.querySelector('#p').shadowRoot.querySelector('button[data-dismiss]').focus());
    await page.keyboard.press('Enter');
    const after = await page.evaluate(() => {
      const root = document.querySelector('#p').shadowRoot;
      return {
        messages: [...root.querySelectorAll('li .message')].map((m) => m.textContent),
        focused: root.activeElement?.getAttribute('aria-label'),
      };
    });
    assert.deepEqual(after.messages, ['n4', 'n3']);
    assert.match(after.focused ?? '', /^Dismiss notification/);
    // Clear all empties it and says so.
    await page.evaluate(() => document.querySelector('#p').clear());
    assert.match(await shadowText(page, '#p'), /No notifications yet\./);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('text from the network is text: <img src=x onerror=…> shows literally and runs nothing, in every element', { timeout: 60_000 }, async () => {
  const page = await pageWithAgent('xss-1', 'player', 'w-xss');
  const evil = '<img src=x onerror="window.__pwned=(window.__pwned||0)+1">';
  try {
    await page.evaluate(() => {
      for (const tag of ['frinny-notification-panel', 'frinny-suggestion-box', 'frinny-combat-updates']) {
        const e = document.createElement(tag);
        document.querySelector('#stage').append(e);
        e.agent = agent;
      }
    });
    await h.admin('/broadcast', { event: 'notification', world: 'w-xss', payload: { message: evil, title: evil, from: evil } });
    await h.admin('/broadcast', { event: 'suggestion', world: 'w-xss', payload: { id: 's1', text: evil, kind: evil, actions: [{ label: evil, value: 1 }] } });
    await h.admin('/broadcast', {
      event: 'combat_update',
      world: 'w-xss',
      payload: { combatId: 'c', round: 1, turn: 0, combatant: { name: evil }, changes: [{ name: evil, conditions: [evil] }] },
    });
    await page.waitForFunction(() =>
      ['frinny-notification-panel', 'frinny-suggestion-box', 'frinny-combat-updates'].every((t) => document.querySelector(t).shadowRoot.textContent.includes('<img')),
    );
    await new Promise((r) => setTimeout(r, 300));
    const out = await page.evaluate(() => ({
      pwned: window.__pwned ?? 0,
      imgs: ['frinny-notification-panel', 'frinny-suggestion-box', 'frinny-combat-updates'].map((t) => document.querySelector(t).shadowRoot.querySelectorAll('img').length),
      message: document.querySelector('frinny-notification-panel').shadowRoot.querySelector('.message').textContent,
      suggestion: document.querySelector('frinny-suggestion-box').shadowRoot.querySelector('.text').textContent,
      action: document.querySelector('frinny-suggestion-box').shadowRoot.querySelector('button.action').textContent,
      acting: document.querySelector('frinny-combat-updates').shadowRoot.querySelector('.acting').textContent,
    }));
    assert.equal(out.pwned, 0, 'no script ran');
    assert.deepEqual(out.imgs, [0, 0, 0], 'no element was created from the text');
    assert.equal(out.message, evil);
    assert.equal(out.suggestion, evil);
    assert.equal(out.action, evil);
    assert.equal(out.acting, `${evil} is acting`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('suggestion box: a combat turn brings a suggestion; a choice sends suggestion_feedback, removes it and dispatches frinny-suggestion', { timeout: 60_000 }, async () => {
  const page = await pageWithAgent('sugg-1', 'player', 'w-sugg');
  try {
    await page.evaluate(() => {
      const box = document.createElement('frinny-suggestion-box');
      box.id = 'box';
      document.querySelector('#stage').append(box);
      box.agent = agent;
      window.choices = [];
      // Bubbling and composed: a listener on the document hears it.
      document.addEventListener('frinny-suggestion', (e) => window.choices.push({ detail: e.detail, bubbles: e.bubbles, composed: e.composed }));
      window.sent = [];
      const emit = agent.emit.bind(agent);
      agent.emit = (name, payload, opts) => {
        window.sent.push([name, payload]);
        return emit(name, payload, opts);
      };
    });
    const hiddenEmpty = await page.evaluate(() => document.querySelector('#box').hidden);
    assert.equal(hiddenEmpty, true, 'hidden while empty');
    await page.evaluate(() => agent.request('combat_turn', { actorId: 'a1', combatant: { name: 'Valeros' } }));
    await page.waitForFunction(() => document.querySelector('#box').shadowRoot.querySelectorAll('li').length === 1);
    const shown = await page.evaluate(() => {
      const root = document.querySelector('#box').shadowRoot;
      return {
        hidden: document.querySelector('#box').hidden,
        text: root.querySelector('.text').textContent,
        buttons: [...root.querySelectorAll('button')].map((b) => b.textContent),
        labels: [...root.querySelectorAll('button')].map((b) => b.getAttribute('aria-label')),
      };
    });
    assert.equal(shown.hidden, false);
    assert.match(shown.text, /^Valeros: raise your shield/);
    assert.deepEqual(shown.buttons, ['Accept', 'Raise a Shield', 'Stride', 'Recall Knowledge', 'Dismiss']);
    assert.match(shown.labels[0], /^Accept suggestion: Valeros/);

    // An action by keyboard: Tab from Accept to "Raise a Shield", Enter.
    await page.evaluate(() => document.querySelector('#box').shadowRoot.querySelector('button').focus());
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.choices.length === 1);
    const out = await page.evaluate(() => ({ choices: window.choices, sent: window.sent, left: document.querySelector('#box').shadowRoot.querySelectorAll('li').length, hidden: document.querySelector('#box').hidden }));
    const id = out.choices[0].detail.id;
    assert.match(String(id), /^turn-/);
    assert.equal(out.choices[0].detail.accepted, true);
    assert.equal(out.choices[0].detail.action, 'raise-shield');
    assert.equal(out.choices[0].detail.suggestion.actorId, 'a1');
    assert.equal(out.choices[0].bubbles, true);
    assert.equal(out.choices[0].composed, true);
    assert.deepEqual(out.sent, [['suggestion_feedback', { id, accepted: true, action: 'raise-shield' }]]);
    assert.equal(out.left, 0);
    assert.equal(out.hidden, true);

    // Dismiss sends accepted: false without an action; the server counts both.
    await page.evaluate(() => agent.request('combat_turn', { actorId: 'a1' }));
    await page.waitForFunction(() => document.querySelector('#box').shadowRoot.querySelectorAll('li').length === 1);
    await page.evaluate(() => document.querySelector('#box').shadowRoot.querySelector('button.dismiss').click());
    const last = await page.evaluate(() => window.sent.at(-1));
    assert.equal(last[0], 'suggestion_feedback');
    assert.equal(last[1].accepted, false);
    assert.equal('action' in last[1], false);
    const metrics = await (await fetch(`${h.server.origin}/metrics`)).text();
    const received = Number(/frinny_events_in_total\{event="suggestion_feedback"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    assert.ok(received >= 2, `the server received both: ${received}`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('combat updates: a GM relays combat_update with broadcastEvent, /broadcast sends one too; round, turn and the last 20 changes are shown', { timeout: 60_000 }, async () => {
  const player = await pageWithAgent('combat-p', 'player', 'w-combat');
  const gm = await pageWithAgent('combat-gm', 'gm', 'w-combat');
  try {
    await player.evaluate(() => {
      const c = document.createElement('frinny-combat-updates');
      c.id = 'c';
      document.querySelector('#stage').append(c);
      c.agent = agent;
    });
    assert.match(await shadowText(player, '#c'), /No encounter running\./);
    // The GM's client relays Foundry's combat changes.
    await gm.evaluate(async () => {
      // Three turns, 25 changes in all (one update per turn, as Foundry's
      // updateCombat hook gives them).
      let i = 0;
      for (const [turn, count] of [[2, 8], [3, 8], [0, 9]]) {
        const changes = [];
        for (let k = 0; k < count; k++, i++) {
          changes.push({ name: `Goblin ${i}`, hp: { value: 25 - i, max: 25 }, conditions: i % 2 ? ['frightened 1'] : [] });
        }
        await agent.broadcastEvent('combat_update', {
          combatId: 'c1',
          round: 2,
          turn,
          combatant: { name: ['Valeros', 'Kyra', 'Goblin', 'Merisiel'][turn], actorId: `a${turn}` },
          changes,
        });
      }
    });
    await player.waitForFunction(() => document.querySelector('#c').shadowRoot.textContent.includes('Goblin 24'));
    const shown = await player.evaluate(() => {
      const c = document.querySelector('#c');
      const root = c.shadowRoot;
      return {
        acting: root.querySelector('.acting').textContent,
        round: root.querySelector('.round').textContent,
        data: [c.dataset.round, c.dataset.turn],
        names: [...root.querySelectorAll('li .name')].map((n) => n.textContent),
        hp: root.querySelector('li .hp').textContent,
        meter: root.querySelector('li [role=meter]').getAttribute('aria-label'),
        conditions: [...root.querySelectorAll('li')].slice(0, 2).map((li) => li.querySelector('.conditions')?.textContent ?? ''),
      };
    });
    assert.equal(shown.acting, 'Valeros is acting');
    assert.equal(shown.round, 'Round 2 · Turn 1');
    assert.deepEqual(shown.data, ['2', '0']);
    assert.equal(shown.names.length, 20, 'a rolling log of the last 20 changes');
    assert.equal(shown.names[0], 'Goblin 24', 'newest first');
    assert.equal(shown.names[19], 'Goblin 5');
    assert.equal(shown.hp, 'HP 1/25');
    assert.equal(shown.meter, 'Goblin 24: 1 of 25 hit points');
    assert.deepEqual(shown.conditions, ['', 'frightened 1']);

    // Through the server's /broadcast (another encounter starts afresh).
    await h.admin('/broadcast', { event: 'combat_update', world: 'w-combat', payload: { combatId: 'c2', round: 1, turn: 2, combatant: { name: 'Amiri' } } });
    await player.waitForFunction(() => document.querySelector('#c').shadowRoot.querySelector('.acting').textContent === 'Amiri is acting');
    const fresh = await player.evaluate(() => ({ round: document.querySelector('#c').shadowRoot.querySelector('.round').textContent, log: document.querySelector('#c').log.length }));
    assert.deepEqual(fresh, { round: 'Round 1 · Turn 3', log: 0 });
    assert.deepEqual(player.problems, []);
    assert.deepEqual(gm.problems, []);
  } finally {
    await player.close();
    await gm.close();
  }
});

test('combat updates with scope: driven by the synced combat scope, so a player who joins late sees the encounter', { timeout: 60_000 }, async () => {
  const gm = await pageWithAgent('scope-gm', 'gm', 'w-scope');
  try {
    // The GM's client keeps the encounter in `combat:c9` (replaceState hands
    // over the whole document) before any player is there.
    const version = await gm.evaluate(async () => {
      await agent.syncState('combat:c9');
      await agent.replaceState('combat:c9', {
        combatId: 'c9', round: 3, turn: 1, combatant: { name: 'Kyra', actorId: 'a2' },
        log: [
          { name: 'Ogre', hp: { value: 40, max: 60 }, round: 3, turn: 0 },
          { name: 'Kyra', hp: { value: 12, max: 30 }, conditions: ['off-guard'], round: 3, turn: 1 },
        ],
      });
      return (await agent.replaceState('combat:c9', { ...agent.getState('combat:c9'), turn: 2, combatant: { name: 'Ogre' } })).version;
    });
    assert.ok(version >= 2);
    const late = await pageWithAgent('scope-late', 'player', 'w-scope');
    try {
      await late.evaluate(() => {
        const c = document.createElement('frinny-combat-updates');
        c.id = 'c';
        c.setAttribute('scope', 'combat:c9');
        document.querySelector('#stage').append(c);
        c.agent = agent;
      });
      await late.waitForFunction(() => document.querySelector('#c').shadowRoot.querySelector('.acting')?.textContent === 'Ogre is acting');
      const shown = await late.evaluate(() => {
        const root = document.querySelector('#c').shadowRoot;
        return { round: root.querySelector('.round').textContent, names: [...root.querySelectorAll('li .name')].map((n) => n.textContent) };
      });
      assert.deepEqual(shown, { round: 'Round 3 · Turn 3', names: ['Kyra', 'Ogre'] });
      // A later change of the scope reaches it; events do not drive it.
      await gm.evaluate(() => agent.replaceState('combat:c9', { ...agent.getState('combat:c9'), round: 4, turn: 0, combatant: { name: 'Valeros' } }));
      await late.waitForFunction(() => document.querySelector('#c').shadowRoot.querySelector('.acting').textContent === 'Valeros is acting');
      await h.admin('/broadcast', { event: 'combat_update', world: 'w-scope', payload: { combatId: 'x', round: 9, turn: 0, combatant: { name: 'Nobody' } } });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await late.evaluate(() => document.querySelector('#c').shadowRoot.querySelector('.acting').textContent), 'Valeros is acting');
      assert.deepEqual(late.problems, []);
    } finally {
      await late.close();
    }
    assert.deepEqual(gm.problems, []);
  } finally {
    await gm.close();
  }
});

test('connection status: connected, errors shown briefly, reconnecting with the time so far, Retry, offline and closed', { timeout: 90_000 }, async () => {
  const { startUiServer } = await import('./support/ui_harness.mjs');
  // One signing key for both runs of the server, so the token still holds after the restart.
  const secret = ['--jwt-secret', 'ui-connection-status-test-secret-0123456789'];
  let srv = await startUiServer({ extraArgs: secret });
  const page = await h.open();
  const state = () => page.evaluate(() => {
    const s = document.querySelector('#s');
    const root = s.shadowRoot;
    return { state: s.dataset.state, label: root.querySelector('.label').textContent, retry: !root.querySelector('.retry').hidden, error: root.querySelector('.error').hidden ? null : root.querySelector('.error').textContent };
  });
  try {
    const token = await srv.token('status-1');
    await page.evaluate(async ({ origin, token }) => {
      F.defineComponents();
      const s = document.createElement('frinny-connection-status');
      s.id = 's';
      s.setAttribute('error-ms', '600');
      document.querySelector('#stage').append(s);
      // A long backoff: after the server is back, only Retry brings the link back soon.
      window.agent = await connectAgent(origin, token, { reconnectionDelay: 60000, reconnectionDelayMax: 60000, randomizationFactor: 0 });
      s.agent = agent;
    }, { origin: srv.origin, token });
    await page.waitForFunction(() => document.querySelector('#s').dataset.state === 'connected');
    assert.deepEqual(await state(), { state: 'connected', label: 'Connected', retry: false, error: null });

    // An error no request owns (the server refuses an unknown event) is shown, then goes.
    await page.evaluate(() => agent.emit('no_such_event', { x: 1 }));
    await page.waitForFunction(() => !document.querySelector('#s').shadowRoot.querySelector('.error').hidden);
    const shownError = await state();
    assert.match(shownError.error, /^(INVALID_EVENT|SERVER_ERROR): /);
    assert.equal(await page.evaluate(() => document.querySelector('#s').shadowRoot.querySelector('.error').getAttribute('role')), 'alert');
    await page.waitForFunction(() => document.querySelector('#s').shadowRoot.querySelector('.error').hidden, null, { timeout: 5000 });

    // The server goes away: reconnecting, with a countdown to the next
    // attempt (a minute away: no jitter), ticking down.
    await srv.stop();
    await page.waitForFunction(() => document.querySelector('#s').dataset.state === 'reconnecting', null, { timeout: 10_000 });
    await page.waitForFunction(() => /^Reconnecting in \d+ s$/.test(document.querySelector('#s').shadowRoot.querySelector('.label').textContent), null, { timeout: 5000 });
    let s = await state();
    const first = Number(/(\d+)/.exec(s.label)[1]);
    assert.ok(first > 50 && first <= 60, s.label);
    assert.equal(s.retry, true);
    await page.waitForFunction((n) => Number(/(\d+)/.exec(document.querySelector('#s').shadowRoot.querySelector('.label').textContent)?.[1]) < n, first, { timeout: 5000 });

    // Back on the same port; the next attempt is a minute away, so Retry it is (by keyboard).
    srv = await startUiServer({ port: srv.port, extraArgs: secret });
    await page.evaluate(() => document.querySelector('#s').shadowRoot.querySelector('.retry').focus());
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#s').dataset.state === 'connected', null, { timeout: 10_000 });

    // Disconnected by hand: offline, and Retry connects.
    await page.evaluate(() => agent.disconnect());
    await page.waitForFunction(() => document.querySelector('#s').dataset.state === 'offline');
    s = await state();
    assert.equal(s.label, 'Offline');
    assert.equal(s.retry, true);
    await page.evaluate(() => document.querySelector('#s').retry());
    await page.waitForFunction(() => document.querySelector('#s').dataset.state === 'connected', null, { timeout: 10_000 });

    // The browser loses its network.
    await page.context().setOffline(true);
    await page.waitForFunction(() => document.querySelector('#s').shadowRoot.querySelector('.label').textContent === 'Offline: no network', null, { timeout: 10_000 });
    await page.context().setOffline(false);

    await page.evaluate(() => agent.close());
    await page.waitForFunction(() => document.querySelector('#s').dataset.state === 'closed');
    s = await state();
    assert.equal(s.label, 'Closed');
    assert.equal(s.retry, false);
    assert.deepEqual(page.problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|WebSocket/.test(p)), []);
  } finally {
    await page.close();
    await srv.stop();
  }
});

test('removing each element, or setting its agent to null, releases every subscription (metrics().subscribers, heldCallbacks)', { timeout: 60_000 }, async () => {
  const page = await pageWithAgent('release-1', 'gm', 'w-release');
  try {
    const out = await page.evaluate(async () => {
      await agent.syncState('combat:r1');
      const count = () => ({ subscribers: agent.metrics().subscribers, held: agent.heldCallbacks });
      const settle = () => new Promise((r) => setTimeout(r, 100));
      const results = [];
      const cases = [
        ['frinny-typing-indicator', {}],
        ['frinny-notification-panel', {}],
        ['frinny-suggestion-box', {}],
        ['frinny-combat-updates', {}],
        ['frinny-combat-updates', { scope: 'combat:r1' }],
        ['frinny-connection-status', {}],
      ];
      for (const [tag, attrs] of cases) {
        const before = count();
        const e = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
        document.querySelector('#stage').append(e);
        e.agent = agent;
        await settle();
        const attached = count();
        e.remove();
        const removed = count();
        document.querySelector('#stage').append(e);
        const again = count();
        e.agent = null;
        const nulled = count();
        e.agent = agent;
        const third = count();
        e.remove();
        await settle();
        const end = count();
        results.push({ tag: tag + (attrs.scope ? '[scope]' : ''), before, attached, removed, again, nulled, third, end });
      }
      return results;
    });
    for (const r of out) {
      const grew = r.attached.subscribers - r.before.subscribers + (r.attached.held - r.before.held);
      assert.ok(grew > 0, `${r.tag} subscribed: ${JSON.stringify(r)}`);
      assert.deepEqual(r.removed, r.before, `${r.tag}: removing it released everything`);
      assert.deepEqual(r.again, r.attached, `${r.tag}: inserting it again subscribed again`);
      assert.deepEqual(r.nulled, r.before, `${r.tag}: agent = null released everything`);
      assert.deepEqual(r.end, r.before, `${r.tag}: back where it was`);
    }
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('a burst of 1,000 events reaches the screen in at most one DOM update per frame per element', { timeout: 120_000 }, async () => {
  const page = await pageWithAgent('burst-1', 'player', 'w-burst');
  try {
    await page.evaluate(() => {
      for (const tag of ['frinny-notification-panel', 'frinny-combat-updates']) {
        const e = document.createElement(tag);
        document.querySelector('#stage').append(e);
        e.agent = agent;
      }
      window.frames = 0;
      const tick = () => {
        window.frames++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      window.flushes = { panel: 0, combat: 0 };
      const wrap = (cls, key) => {
        const orig = cls.prototype._flush;
        cls.prototype._flush = function () {
          window.flushes[key]++;
          return orig.call(this);
        };
      };
      wrap(F.FrinnyNotificationPanel, 'panel');
      wrap(F.FrinnyCombatUpdates, 'combat');
      window.received = 0;
      agent.subscribe('notification', () => window.received++);
      agent.subscribe('combat_update', () => window.received++);
      window.framesAtStart = window.frames;
    });
    const send = (event, payload) => h.admin('/broadcast', { event, payload, world: 'w-burst' });
    for (let i = 0; i < 500; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) => [
          send('notification', { message: `burst ${i + k}`, level: 'info' }),
          send('combat_update', { combatId: 'b', round: 1, turn: (i + k) % 5, combatant: { name: `C${i + k}` }, changes: [{ name: `x${i + k}`, hp: { value: 1, max: 2 } }] }),
        ]).flat(),
      );
    }
    await page.waitForFunction(() => window.received === 1000, null, { timeout: 60_000 });
    const out = await page.evaluate(async () => {
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const panel = document.querySelector('frinny-notification-panel');
      const combat = document.querySelector('frinny-combat-updates');
      return {
        frames: window.frames - window.framesAtStart,
        flushes: window.flushes,
        items: panel.shadowRoot.querySelectorAll('li').length,
        first: panel.shadowRoot.querySelector('li .message').textContent,
        log: combat.shadowRoot.querySelectorAll('li').length,
      };
    });
    // Every event's text is built at most once per frame: the flushes never
    // outnumber the frames (plus the one the hidden-tab timer may add).
    assert.ok(out.flushes.panel <= out.frames + 1, JSON.stringify(out));
    assert.ok(out.flushes.combat <= out.frames + 1, JSON.stringify(out));
    assert.ok(out.flushes.panel < 500, `1,000 events did not cost 1,000 updates: ${JSON.stringify(out)}`);
    assert.equal(out.items, 50, 'max 50 kept');
    assert.equal(out.log, 20);
    assert.match(out.first, /^burst \d+$/);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test("the package exports './components' with its types, and its files are in the tarball", () => {
  const manifest = JSON.parse(readFileSync(join(h.packageDir, 'package.json'), 'utf8'));
  const entry = manifest.exports['./components'];
  assert.deepEqual(entry, { types: './js/components/index.d.ts', default: './js/components/index.js' });
  for (const f of [entry.types, entry.default, manifest.exports['./components/en.json']]) {
    assert.ok(readFileSync(join(h.packageDir, f), 'utf8').length > 0, f);
  }
});

test('strings: en.json has every key of strings.js, and setTranslator routes them (falling back to English)', { timeout: 60_000 }, async () => {
  const en = JSON.parse(readFileSync(join(h.packageDir, 'js', 'components', 'en.json'), 'utf8'));
  const { STRINGS } = await import(join(h.packageDir, 'js', 'components', 'strings.js'));
  const flat = Object.fromEntries(Object.entries(en.FRINNY).map(([k, v]) => [`FRINNY.${k}`, v]));
  assert.deepEqual(flat, { ...STRINGS });
  assert.equal(STRINGS['FRINNY.Typing'], 'Frinny is typing…');
  const page = await h.open();
  try {
    const out = await page.evaluate(() => {
      F.defineComponents();
      F.setTranslator((key) => (key === 'FRINNY.Typing' ? 'Frinny écrit…' : key));
      const t = document.createElement('frinny-typing-indicator');
      document.querySelector('#stage').append(t);
      const translated = t.shadowRoot.textContent.trim();
      const fallback = F.localize('FRINNY.Accept');
      const formatted = F.localize('FRINNY.CombatRoundTurn', { round: 2, turn: 3 });
      F.setTranslator(() => {
        throw new Error('broken');
      });
      const broken = F.localize('FRINNY.Dismiss');
      F.setTranslator(null);
      return { translated, fallback, formatted, broken, unknown: F.localize('FRINNY.Nope') };
    });
    assert.deepEqual(out, { translated: 'Frinny écrit…', fallback: 'Accept', formatted: 'Round 2 · Turn 3', broken: 'Dismiss', unknown: 'FRINNY.Nope' });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

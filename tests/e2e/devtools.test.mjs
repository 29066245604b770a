// <frinny-devtools> from the INSTALLED package (`frinny-agent/devtools`) in
// headless Chromium, against the reference server: frames show as they
// flow and the filter narrows them (payloads are text, never HTML), a
// synced scope's version moves after an update, detaching (removing the
// element or `agent = null`) leaves no inspector or subscriber behind
// (heldCallbacks), `debug` logs grouped frames to the console; and the
// screenshot in docs/images/devtools.png.
// Run by `node --test tests/e2e/` (cargo xtask test e2e).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { imagesDir, startUiHarness } from './support/ui_harness.mjs';

let h;
before(async () => {
  h = await startUiHarness({ delayMs: 40 });
}, { timeout: 900_000 });
after(async () => {
  await h?.stop();
});

/** A page with `window.agent` connected as `userId`, `window.D` the devtools entry, and a panel helper. */
async function pageWithAgent(userId, { role = 'player', world = 'w1', width = 480, height = 720 } = {}) {
  const page = await h.open({ width, height });
  const token = await h.token(userId, role, world);
  await page.evaluate(async ({ origin, token }) => {
    window.D = await import('./node_modules/frinny-agent/js/devtools/index.js');
    D.defineDevtools();
    window.agent = await connectAgent(origin, token);
    /** The rows' names in the log, oldest first. */
    window.rowNames = (panel) => [...panel.shadowRoot.querySelectorAll('.log details')].map((r) => `${r.classList.contains('dir-in') ? 'in' : 'out'} ${r.dataset.name}`);
  }, { origin: h.server.origin, token });
  return page;
}

test('the event log shows frames both ways as they flow, filters them, pauses, exports, and shows payloads as text', { timeout: 90_000 }, async () => {
  const page = await pageWithAgent('devtools-1');
  try {
    const out = await page.evaluate(async () => {
      const panel = document.createElement('frinny-devtools');
      document.querySelector('#stage').append(panel);
      panel.agent = agent;
      await agent.request('query', { content: 'What does <b>Shield Block</b> do?' });
      agent.emit('feedback', { messageId: 'm1', type: 'positive' });
      await until(() => rowNames(panel).includes('in query_response') && rowNames(panel).includes('out feedback'), 5000, 'the reply and the feedback in the log');
      const flowing = rowNames(panel);
      panel.filter = 'query';
      panel.flush();
      const filtered = rowNames(panel);
      panel.filter = '';
      // Opening a row shows its payload as pretty JSON text.
      panel.flush();
      const row = [...panel.shadowRoot.querySelectorAll('.log details')].find((r) => r.dataset.name === 'query');
      row.open = true;
      await until(() => row.querySelector('pre'), 2000, 'the payload');
      const payload = row.querySelector('pre').textContent;
      const html = panel.shadowRoot.querySelectorAll('.log b').length;
      panel.paused = true;
      const before = panel.exportLog().length;
      await agent.request('query', { content: 'paused' });
      panel.flush();
      const status = panel.shadowRoot.querySelector('.toolbar .status').textContent;
      const afterPause = panel.exportLog().length;
      panel.paused = false;
      const exported = panel.exportLog();
      return { flowing, filtered, payload, html, before, afterPause, status, exported: exported.slice(0, 4), pauseLabel: panel.shadowRoot.querySelector('.pause').getAttribute('aria-pressed') };
    });
    assert.ok(out.flowing.includes('out query'), out.flowing.join());
    assert.ok(out.flowing.includes('in query_response'), 'and the reply, in');
    // The filter matches names and frame text: the query and its reply, not the feedback.
    assert.ok(out.filtered.includes('out query') && out.filtered.includes('in query_response'), out.filtered.join());
    assert.ok(!out.filtered.includes('out feedback'), out.filtered.join());
    assert.match(out.payload, /"content": "What does <b>Shield Block<\/b> do\?"/);
    assert.match(out.payload, /"request_id"/);
    assert.equal(out.html, 0, 'payload text is never HTML');
    assert.equal(out.afterPause, out.before, 'paused: frames are not kept');
    assert.match(out.status, /skipped while paused/);
    assert.equal(out.pauseLabel, 'false');
    for (const e of out.exported) {
      assert.deepEqual(Object.keys(e), ['time', 'direction', 'name', 'size', 'frame', 'payload']);
      assert.ok(e.size > 0);
    }
    // The filter box is a real input: typing filters.
    await page.locator('frinny-devtools input[type=search]').fill('_response');
    const typed = await page.evaluate(() => { const p = document.querySelector('frinny-devtools'); p.flush(); return rowNames(p); });
    assert.ok(typed.length > 0 && typed.every((n) => n === 'in query_response'), typed.join());
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('the state tab shows a scope\'s version change after an update, and the sync counters', { timeout: 90_000 }, async () => {
  const page = await pageWithAgent('devtools-2');
  try {
    const out = await page.evaluate(async () => {
      const panel = document.createElement('frinny-devtools');
      document.querySelector('#stage').append(panel);
      panel.agent = agent;
      panel.tab = 'state';
      const scope = 'user:devtools-2';
      await agent.syncState(scope);
      const version = () => {
        panel.flush();
        const s = [...panel.shadowRoot.querySelectorAll('.scope')].find((e) => e.dataset.scope === scope);
        return s ? s.querySelector('.version').textContent : null;
      };
      const v0 = agent.inspectState(scope).version;
      await until(() => version() === `v${v0}`, 5000, 'the scope shown');
      const first = version();
      const { version: v1 } = await agent.updateState(scope, { hp: 12, notes: ['<i>ok</i>'] }, { optimistic: true });
      await until(() => version() === `v${v1}`, 5000, 'the new version shown');
      const tree = panel.shadowRoot.querySelector(`.scope[data-scope="${scope}"] .tree`).textContent;
      const counters = panel.shadowRoot.querySelector('.counters')?.textContent ?? '';
      return { first, v0, v1, second: version(), tree, italics: panel.shadowRoot.querySelectorAll('.scope i').length, inspect: agent.inspectState(scope), all: agent.inspectState().map((s) => s.scope), stateSync: agent.metrics().stateSync };
    });
    assert.equal(out.first, `v${out.v0}`);
    assert.equal(out.v1, out.v0 + 1);
    assert.equal(out.second, `v${out.v1}`);
    assert.match(out.tree, /hp: 12/);
    assert.match(out.tree, /"<i>ok<\/i>"/);
    assert.equal(out.italics, 0);
    assert.deepEqual(out.inspect.doc, out.inspect.confirmed);
    assert.deepEqual(out.inspect.pending, []);
    assert.equal(out.inspect.lastConflict, null);
    assert.deepEqual(out.all, ['user:devtools-2']);
    assert.deepEqual(Object.keys(out.stateSync), ['gaps', 'resyncs', 'rollbacks', 'conflicts']);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('detaching (removing the element, or agent = null) leaves no inspector or subscriber behind', { timeout: 90_000 }, async () => {
  const page = await pageWithAgent('devtools-3');
  try {
    const out = await page.evaluate(async () => {
      const count = () => ({ held: agent.heldCallbacks, subscribers: agent.subscriberCount });
      const base = count();
      const panel = document.createElement('frinny-devtools');
      panel.agent = agent;
      const detachedBeforeInsert = count();
      document.querySelector('#stage').append(panel);
      const attached = count();
      panel.remove();
      const removed = count();
      document.querySelector('#stage').append(panel);
      const again = count();
      panel.agent = null;
      const nulled = count();
      // Nothing more is logged once detached.
      const kept = panel.exportLog().length;
      await agent.request('query', { content: 'after' });
      const later = panel.exportLog().length;
      return { base, detachedBeforeInsert, attached, removed, again, nulled, kept, later };
    });
    assert.deepEqual(out.detachedBeforeInsert, out.base, 'nothing held before it is in the document');
    assert.equal(out.attached.held, out.base.held + 1, 'attached: one inspector');
    assert.equal(out.attached.subscribers, out.base.subscribers);
    assert.deepEqual(out.removed, out.base);
    assert.equal(out.again.held, out.base.held + 1);
    assert.deepEqual(out.nulled, out.base);
    assert.equal(out.later, out.kept);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('debug logs every frame and state change as a collapsed console group', { timeout: 90_000 }, async () => {
  const page = await pageWithAgent('devtools-4');
  try {
    const out = await page.evaluate(async () => {
      const groups = [];
      const original = console.groupCollapsed;
      console.groupCollapsed = (...a) => groups.push(a.join(' '));
      try {
        agent.debug = true;
        const on = agent.debug;
        await agent.request('query', { content: 'debug me' });
        agent.disconnect();
        agent.debug = false;
        await agent.connect();
        return { on, off: agent.debug, groups, held: agent.heldCallbacks };
      } finally {
        console.groupCollapsed = original;
      }
    });
    assert.equal(out.on, true);
    assert.equal(out.off, false);
    assert.ok(out.groups.some((g) => /^frinny-agent ⇡ query \(\d+ B\)$/.test(g)), out.groups.join('\n'));
    assert.ok(out.groups.some((g) => /^frinny-agent ⇣ query_response \(\d+ B\)$/.test(g)), out.groups.join('\n'));
    assert.ok(out.groups.some((g) => g.startsWith('frinny-agent ● disconnected')), out.groups.join('\n'));
    assert.ok(!out.groups.some((g) => g.includes('connected') && !g.includes('disconnected')), 'nothing after debug = false');
    // The option does the same from the start.
    const fromOption = await page.evaluate(async ({ origin }) => {
      const a = new F.AgentManager({ url: origin, debug: true });
      const d = a.debug;
      a.close();
      let refused = null;
      try {
        new F.AgentManager({ url: origin, debug: 'yes' });
      } catch (e) {
        refused = e.code;
      }
      return { d, refused };
    }, { origin: h.server.origin });
    assert.equal(fromOption.d, true);
    assert.equal(fromOption.refused, 'INVALID_OPTIONS');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('filter and subscribeAll patterns on the real client', { timeout: 90_000 }, async () => {
  const page = await pageWithAgent('devtools-6', { world: 'w-filter' });
  try {
    const code = await page.evaluate(() => {
      window.got = { mine: [], pattern: [], regex: [] };
      agent.subscribe('notification', (n) => got.mine.push(n.message), { filter: (n) => n.level === 'warning' });
      agent.once('notification', (n) => got.mine.push(`once:${n.message}`), { filter: (n) => n.level === 'warning' });
      agent.subscribeAll('notif*', (name, n) => got.pattern.push(`${name}:${n.message}`));
      agent.subscribeAll(/^typing_/, (name) => got.regex.push(name));
      try {
        agent.subscribe('notification', () => {}, { filter: 1 });
      } catch (e) {
        return e.code;
      }
      return null;
    });
    assert.equal(code, 'INVALID_OPTIONS');
    for (const [message, level] of [['one', 'info'], ['two', 'warning'], ['three', 'warning']]) {
      await h.admin('/broadcast', { event: 'notification', world: 'w-filter', payload: { message, level } });
    }
    const out = await page.evaluate(async () => {
      await until(() => got.pattern.length === 3, 5000, 'the broadcasts');
      await agent.request('query', { content: 'typing?' });
      return got;
    });
    assert.deepEqual(out.mine, ['two', 'once:two', 'three']);
    assert.deepEqual(out.pattern, ['notification:one', 'notification:two', 'notification:three']);
    assert.ok(out.regex.length > 0 && out.regex.every((n) => n === 'typing_status'));
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test('screenshot: docs/images/devtools.png', { timeout: 90_000 }, async () => {
  const page = await pageWithAgent('devtools-shot', { width: 1240, height: 900 });
  try {
    await page.evaluate(async () => {
      const stage = document.querySelector('#stage');
      stage.style.cssText = 'width: 1200px; display: grid; grid-template-columns: 1fr 1fr; gap: 12px;';
      stage.id = 'shot';
      // The four tabs side by side, each panel on the same agent.
      const panels = ['events', 'state', 'connection', 'performance'].map((tab) => {
        const panel = document.createElement('frinny-devtools');
        panel.style.setProperty('--frinny-devtools-height', '19em');
        stage.append(panel);
        panel.agent = agent;
        panel.tab = tab;
        return panel;
      });
      // What a page's components would do: subscribers (so dispatch is timed), one that throws
      // once, an onError listener; a reconnect for the timeline.
      agent.subscribeAll(() => {});
      let thrown = false;
      agent.subscribe('query_response', () => { if (!thrown) { thrown = true; throw new Error('a broken subscriber'); } });
      agent.onError(() => {});
      agent.disconnect();
      await agent.connect();
      const scope = 'user:devtools-shot';
      await agent.syncState(scope);
      await agent.updateState(scope, { hp: 24, conditions: ['frightened 1'], notes: { last: 'Shield Block' } }, { optimistic: true });
      for (const content of ['What does Shield Block do?', 'And Sudden Charge?', 'Which is better at level 2?']) {
        await agent.request('query', { content });
      }
      agent.emit('feedback', { messageId: 'm1', type: 'positive' });
      await agent.request('query', {}).catch(() => {}); // refused by the server: SERVER_ERROR
      for (let i = 0; i < 3; i++) {
        await agent.request('query', { content: `Question ${i}` });
        await new Promise((r) => setTimeout(r, 700)); // metrics polls for the dispatch chart
      }
      for (const panel of panels) panel.flush();
      const [events, state] = panels;
      const row = [...events.shadowRoot.querySelectorAll('.log details')].find((r) => r.dataset.name === 'connection_established');
      if (row) row.open = true;
      const doc = state.shadowRoot.querySelector('.scope .tree details');
      if (doc) doc.open = true;
      await new Promise((r) => setTimeout(r, 50));
      for (const panel of panels) panel.flush();
      events.shadowRoot.querySelector('.panel-events').scrollTop = 0;
    });
    const images = imagesDir();
    await page.locator('#shot').screenshot({ path: join(images, 'devtools.png'), animations: 'disabled' });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

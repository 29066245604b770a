// The Foundry module as `cargo xtask pack` zips it (target/foundry/frinny.zip:
// foundry/ with the package under lib/frinny-agent/), unzipped where Foundry
// puts modules and its main script loaded UNCHANGED in headless Chromium:
//   /modules/frinny/                     module.json, scripts/, styles/, languages/
//   /modules/frinny/lib/frinny-agent/    the package's files
// on the fake Foundry runtime (support/fake_foundry.js), against the strict
// JSON gateway: init registers the settings, ready connects, and the game
// hooks send their events (checked on the gateway's recorded frames).
// Run by `node --test tests/e2e/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageTarball } from './support/package.mjs';
import { serveStatic } from './support/static_server.mjs';
import { launchChromium, newPage } from './support/browser.mjs';
import { REPO, startGateway, startReferenceServer, waitFor, writeFoundryPage } from './support/foundry_servers.mjs';

const ZIP = join(REPO, 'target', 'foundry', 'frinny.zip');

let root;
let site;
let pagePath;
let browser;
let gateway;

let MODULE_DIR;

before(async () => {
  packageTarball(); // packs (zip included) unless the suite already did
  if (!existsSync(ZIP)) throw new Error(`${ZIP} is missing: run \`cargo xtask pack\``);
  root = mkdtempSync(join(tmpdir(), 'frinny-foundry-'));
  MODULE_DIR = join(root, 'modules', 'frinny');
  mkdirSync(MODULE_DIR, { recursive: true });
  execFileSync('python3', ['-m', 'zipfile', '-e', ZIP, MODULE_DIR]);
  pagePath = await writeFoundryPage(root);
  site = await serveStatic(root);
  browser = await launchChromium();
  gateway = await startGateway();
}, { timeout: 900_000 });

after(async () => {
  await browser?.close();
  await site?.close();
  await gateway?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the zip has module.json at the top, naming files that exist, for Foundry v12 and v13', () => {
  const manifest = JSON.parse(readFileSync(join(MODULE_DIR, 'module.json'), 'utf8'));
  assert.equal(manifest.id, 'frinny');
  assert.equal(manifest.compatibility.minimum, '12');
  assert.equal(manifest.compatibility.verified, '13');
  assert.deepEqual(manifest.esmodules, ['scripts/main.js']);
  assert.deepEqual(manifest.styles, ['styles/frinny.css']);
  // The module's own strings, and the components' (FRINNY.*) from the package: Foundry merges
  // every file listed for the language.
  assert.deepEqual(manifest.languages, [
    { lang: 'en', name: 'English', path: 'languages/en.json' },
    { lang: 'en', name: 'English', path: 'lib/frinny-agent/js/components/en.json' },
  ]);
  for (const file of [...manifest.esmodules, ...manifest.styles, ...manifest.languages.map((l) => l.path)]) {
    assert.ok(existsSync(join(MODULE_DIR, file)), `${file} exists`);
  }
  assert.ok(existsSync(join(MODULE_DIR, 'lib/frinny-agent/js/foundry/index.js')), 'the package is under lib/');
  assert.ok(existsSync(join(MODULE_DIR, 'lib/frinny-agent/pkg/frinny_agent_bg.wasm')), 'with its .wasm');
});

/** Every language file module.json lists for English, merged as Foundry merges them. */
function moduleTranslations() {
  const manifest = JSON.parse(readFileSync(join(MODULE_DIR, 'module.json'), 'utf8'));
  const merged = {};
  for (const { lang, path } of manifest.languages) {
    if (lang === 'en') Object.assign(merged, JSON.parse(readFileSync(join(MODULE_DIR, path), 'utf8')));
  }
  return merged;
}

const eventsOf = (frames, action) => frames.filter((f) => f.frame?.action === 'event' && f.frame.payload?.action === action);

test('the module script: init registers the settings, ready connects, and the hooks send their events', { timeout: 90_000 }, async () => {
  await gateway.reset();
  const translations = moduleTranslations();
  const page = await newPage(browser);
  try {
    await page.goto(`${site.url}${pagePath}`);
    await page.evaluate((translations) => {
      FakeFoundry.reset({
        translations,
        actors: [
          {
            _id: 'actor1',
            name: 'Valeros',
            type: 'character',
            ownership: { default: 0, user1: 3 },
            system: { details: { level: { value: 1 } }, attributes: { hp: { value: 20, max: 20 }, ac: { value: 18 } }, skills: { athletics: { rank: 1 } } },
            items: [{ _id: 'cls1', name: 'Fighter', type: 'class' }, { _id: 'ft2', name: 'Sudden Charge', type: 'feat', system: { level: { value: 2, taken: 2 }, category: 'class', traits: { value: ['fighter'] } } }],
          },
          { _id: 'gob1', name: 'Goblin Warrior', type: 'npc', ownership: { default: 0 }, system: { attributes: { hp: { value: 6, max: 6 } } } },
        ],
      });
    }, translations);
    await page.addScriptTag({ url: '/modules/frinny/scripts/main.js', type: 'module' });

    // init: the settings exist, with their defaults.
    const settings = await page.evaluate(() => {
      Hooks.callAll('init');
      return ['wsUrl', 'backendUrl', 'protocol'].map((k) => {
        const s = game.settings.settings.get(`frinny.${k}`);
        return { key: k, scope: s.scope, default: s.default, value: game.settings.get('frinny', k), choices: s.choices && Object.keys(s.choices) };
      });
    });
    assert.deepEqual(settings, [
      { key: 'wsUrl', scope: 'world', default: 'wss://frinny.net/ws', value: 'wss://frinny.net/ws', choices: undefined },
      { key: 'backendUrl', scope: 'world', default: 'https://frinny.net', value: 'https://frinny.net', choices: undefined },
      { key: 'protocol', scope: 'world', default: 'json', value: 'json', choices: ['json', 'socket.io'] },
    ]);

    // The world's stored value, then ready: game.frinny connects to it.
    await page.evaluate(async (url) => {
      await game.settings.set('frinny', 'wsUrl', url);
      Hooks.callAll('setup');
      Hooks.callAll('ready');
    }, gateway.wsUrl);
    await waitFor(() => page.evaluate(() => Boolean(game.frinny?.agentManager?.isConnected)), { what: 'game.frinny connected', ms: 20_000 });
    assert.deepEqual((await gateway.clients()).map((c) => c.url), ['/ws?userId=user1']);

    // Level up of the user's character: level_up with the previous and new level.
    await page.evaluate(() => game.actors.get('actor1').update({ 'system.details.level.value': 2 }));
    await waitFor(async () => eventsOf(await gateway.frames(), 'level_up').length === 1, { what: 'level_up at the gateway' });
    const [levelUp] = eventsOf(await gateway.frames(), 'level_up');
    assert.equal(levelUp.violation, null);
    assert.equal(levelUp.frame.payload.previousLevel, 1);
    assert.equal(levelUp.frame.payload.newLevel, 2);
    assert.equal(levelUp.frame.payload.actorId, 'actor1');
    assert.deepEqual(levelUp.frame.payload.character.newFeats.map((f) => f.name), ['Sudden Charge']);
    // The reply is whispered to the user in the chat log.
    await waitFor(() => page.evaluate(() => game.messages.some((m) => m.content === '<div class="frinny-reply">Frinny on level_up</div>' && m.whisper.includes('user1'))), { what: 'the level_up reply in the chat log' });
    // Not a level up: another field, or the same level again, sends nothing.
    await page.evaluate(async () => {
      await game.actors.get('actor1').update({ 'system.attributes.hp.value': 15 });
      await game.actors.get('actor1').update({ 'system.details.level.value': 2 });
      await game.actors.get('gob1').update({ 'system.details.level.value': 5 });
    });

    // Combat: the goblin acts first (higher initiative), then Valeros.
    await page.evaluate(async () => {
      const combat = FakeFoundry.createCombat([
        { _id: 'cb-gob', actorId: 'gob1', initiative: 20 },
        { _id: 'cb-val', actorId: 'actor1', initiative: 12 },
      ]);
      await combat.startCombat(); // combatStart, then updateCombat to round 1 turn 0
    });
    await waitFor(async () => eventsOf(await gateway.frames(), 'combat_start').length === 1, { what: 'combat_start at the gateway' });
    await page.evaluate(() => game.combat.nextTurn()); // combatTurn: Valeros's turn
    await waitFor(async () => eventsOf(await gateway.frames(), 'combat_turn').length === 1, { what: 'combat_turn at the gateway' });
    await page.evaluate(() => game.combat.nextTurn()); // round 2, the goblin: nothing
    const [start] = eventsOf(await gateway.frames(), 'combat_start');
    const [turn] = eventsOf(await gateway.frames(), 'combat_turn');
    assert.equal(start.frame.payload.round, 1);
    assert.deepEqual(start.frame.payload.combatants.map((c) => c.name), ['Goblin Warrior', 'Valeros']);
    assert.equal(turn.frame.payload.turn, 1);
    assert.equal(turn.frame.payload.active_character.actorId, 'actor1');
    assert.deepEqual(turn.frame.payload.enemies.map((e) => e.name), ['Goblin Warrior']);

    // A new character created by this user.
    await page.evaluate(() => Actor.create({ name: 'Kyra', type: 'character', ownership: { default: 0, user1: 3 } }));
    await waitFor(async () => eventsOf(await gateway.frames(), 'character_creation_start').length === 1, { what: 'character_creation_start at the gateway' });

    // `!frinny` in the chat log: a public query, answered in the chat log.
    // The answer echoes the question: its markup is escaped, since Foundry
    // renders a chat message's content as HTML.
    await page.evaluate(() => ChatMessage.create({ content: '!frinny who acts <b>next</b>?', speaker: { alias: 'Alice' } }));
    await waitFor(
      () => page.evaluate(() => game.messages.some((m) => m.speaker?.alias === 'Frinny' && /public.*who acts &lt;b&gt;next&lt;\/b&gt;\?<\/div>$/.test(m.content))),
      { what: 'the public answer, escaped' },
    );

    // Changing the URL setting reconnects the running manager.
    const second = await startGateway({ lifetime: 60 });
    try {
      await page.evaluate((url) => game.settings.set('frinny', 'wsUrl', url), second.wsUrl);
      await waitFor(async () => (await second.clients()).length === 1, { what: 'the reconnection to the new wsUrl' });
      await waitFor(() => page.evaluate(() => game.frinny.agentManager.isConnected), { what: 'connected again' });
      const reply = await page.evaluate(() => game.frinny.ask('still there?'));
      assert.match(reply.content, /still there\?$/);
      assert.deepEqual(await page.evaluate(() => game.user.getFlag('frinny', 'messages').map((m) => m.type)), ['user', 'assistant']);
    } finally {
      await second.stop();
    }

    const frames = await gateway.frames();
    assert.deepEqual(frames.filter((f) => f.violation), [], 'every frame has the shape the gateway expects');
    assert.deepEqual(frames.map((f) => f.frame.payload?.action ?? f.frame.action), [
      'level_up', 'combat_start', 'combat_turn', 'character_creation_start', 'query',
    ]);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

for (const generation of [12, 13]) {
  test(`v${generation}: the chat window (FrinnyChat in ${generation >= 13 ? 'an ApplicationV2' : 'an Application'}) asks through the drop-in, keeps the stored chat, and turns a character_update into a suggestion`, { timeout: 90_000 }, async () => {
    await gateway.reset();
    const page = await newPage(browser);
    try {
      await page.goto(`${site.url}${pagePath}`);
      await page.evaluate(({ translations, generation }) => {
        FakeFoundry.reset({ translations, generation, clearHooks: true });
      }, { translations: moduleTranslations(), generation });
      await page.addScriptTag({ url: '/modules/frinny/scripts/main.js', type: 'module' });
      await page.evaluate(async (url) => {
        Hooks.callAll('init');
        await game.settings.set('frinny', 'wsUrl', url);
        Hooks.callAll('ready');
      }, gateway.wsUrl);
      await waitFor(() => page.evaluate(() => Boolean(game.frinny?.agentManager?.isConnected)), { what: 'connected', ms: 20_000 });

      // The scene controls get a button that opens the window.
      const control = await page.evaluate((generation) => {
        const controls = generation >= 13 ? {} : [];
        Hooks.call('getSceneControlButtons', controls);
        const group = generation >= 13 ? controls.frinny : controls.find((c) => c.name === 'frinny');
        const tool = generation >= 13 ? group.tools.chat : group.tools[0];
        (tool.onClick ?? tool.onChange)();
        return { title: tool.title, button: tool.button };
      }, generation);
      assert.deepEqual(control, { title: 'Frinny chat', button: true });
      await waitFor(() => page.evaluate(() => game.frinny.chat.rendered && Boolean(game.frinny.chat.chat)), { what: 'the window open' });
      const shown = await page.evaluate(() => {
        const frame = document.getElementById('frinny-chat');
        const host = frame.querySelector('.window-content [data-frinny-chat]');
        return { title: frame.querySelector('.window-header').textContent, inFrame: Boolean(host), text: host?.shadowRoot?.textContent ?? '' };
      });
      assert.equal(shown.title, 'Frinny', 'the title comes from the components\' strings through game.i18n');
      assert.ok(shown.inFrame, 'FrinnyChat renders inside the window content');
      assert.ok(await page.evaluate(() => game.user.getFlag('frinny', 'windowVisible')), 'the window remembers it is open');
      const before = await page.evaluate(() => game.frinny.agentManager.metrics().subscribers);

      // A private question: the gateway's shape check passes (the drop-in's handlePrivateQuery),
      // the answer shows in the window, and the exchange is kept in the user's frinny.messages flag.
      const answer = await page.evaluate(() => game.frinny.chat.chat.send('Can I Raise a Shield twice?').then((m) => m?.content));
      assert.match(answer, /Can I Raise a Shield twice\?$/);
      await waitFor(() => page.evaluate(() => document.querySelector('#frinny-chat [data-frinny-chat]').shadowRoot.textContent.includes('Raise a Shield twice')), { what: 'the exchange in the window' });
      assert.deepEqual(await page.evaluate(() => game.user.getFlag('frinny', 'messages').map((m) => m.type)), ['user', 'assistant']);
      // Thumbs up: the feedback game event, wrapped.
      await page.evaluate(async () => {
        const answer = game.frinny.chat.chat.messages.find((m) => m.role === 'assistant');
        await game.frinny.chat.chat.submitFeedback(answer.id, 'positive');
      });

      // A character_update while the window is open: a suggestion, and the sheet unchanged until Accept.
      await gateway.send('character_update', { actorId: 'actor1', skills: { acrobatics: 'expert' }, message_id: 'upd-1' });
      const accept = async () => {
        await waitFor(() => page.evaluate(() => {
          const chat = document.querySelector('#frinny-chat [data-frinny-chat]').shadowRoot;
          return Boolean(chat.querySelector('frinny-suggestion-box')?.shadowRoot?.querySelector('button[data-choice="accept"]'));
        }), { what: 'the suggestion' });
        assert.equal(await page.evaluate(() => game.actors.get('actor1').system.skills.acrobatics.rank), 0, 'not applied before Accept');
        await page.evaluate(() => {
          const chat = document.querySelector('#frinny-chat [data-frinny-chat]').shadowRoot;
          chat.querySelector('frinny-suggestion-box').shadowRoot.querySelector('button[data-choice="accept"]').click();
        });
        await waitFor(() => page.evaluate(() => game.actors.get('actor1').system.skills.acrobatics.rank === 2), { what: 'the skill applied after Accept' });
      };
      await accept();

      // Closing the window releases what it subscribed; the connection stays.
      await page.evaluate(() => game.frinny.toggleWindow());
      await waitFor(() => page.evaluate(() => !game.frinny.chat.rendered), { what: 'the window closed' });
      const after = await page.evaluate(() => ({
        subscribers: game.frinny.agentManager.metrics().subscribers,
        connected: game.frinny.agentManager.isConnected,
        frame: Boolean(document.getElementById('frinny-chat')),
        visible: game.user.getFlag('frinny', 'windowVisible'),
      }));
      assert.ok(after.subscribers < before, `the window's subscriptions are released (${before} -> ${after.subscribers})`);
      assert.deepEqual({ ...after, subscribers: 0 }, { subscribers: 0, connected: true, frame: false, visible: false });

      // A character_update while the window is closed opens it with the suggestion.
      await page.evaluate(() => game.actors.get('actor1').update({ 'system.skills.acrobatics.rank': 0 }));
      await gateway.send('character_update', { actorId: 'actor1', skills: { acrobatics: 'expert' }, message_id: 'upd-2' });
      await waitFor(() => page.evaluate(() => game.frinny.chat.rendered), { what: 'the window opened by the update' });
      await accept();

      const frames = await gateway.frames();
      assert.deepEqual(frames.filter((f) => f.violation), [], 'every frame has the shape the gateway expects');
      assert.deepEqual(frames.map((f) => f.frame.payload?.action ?? f.frame.action), ['query', 'feedback']);
      assert.deepEqual(page.problems, []);
    } finally {
      await page.close();
    }
  });
}

test("the GM's client relays the encounter on the Socket.IO wire: players get combat_update, and a window opened later reads the synced encounter", { timeout: 120_000 }, async () => {
  const server = await startReferenceServer();
  const pages = [];
  try {
    /** A page running the module as `userId`, on the reference server with a dev token of `role`. */
    const join = async (userId, role) => {
      const page = await newPage(browser);
      pages.push(page);
      await page.goto(`${site.url}${pagePath}`);
      await page.evaluate(({ translations, userId, role, url }) => {
        FakeFoundry.reset({ translations, userId, clearHooks: true });
        game.actors.set('gob1', new Actor({
          _id: 'gob1', name: 'Goblin Warrior', type: 'npc', ownership: { default: 0 },
          system: { attributes: { hp: { value: 6, max: 6 } } },
        }));
        // How a world script hands the module a token source (README, integration guide).
        Hooks.on('frinny.agentOptions', (options) => {
          options.auth = async () => {
            const r = await fetch(`${url}/dev/token?userId=${userId}&role=${role}&world=table`);
            return { token: (await r.json()).token };
          };
        });
        window.updates = [];
      }, { translations: moduleTranslations(), userId, role, url: server.url });
      await page.addScriptTag({ url: '/modules/frinny/scripts/main.js', type: 'module' });
      await page.evaluate(async (url) => {
        Hooks.callAll('init');
        await game.settings.set('frinny', 'protocol', 'socket.io');
        await game.settings.set('frinny', 'backendUrl', url);
        Hooks.callAll('ready');
      }, server.url);
      await waitFor(() => page.evaluate(() => Boolean(game.frinny?.agentManager?.isConnected)), { what: `${userId} connected`, ms: 20_000 });
      await page.evaluate(() => game.frinny.agentManager.subscribe('combat_update', (u) => window.updates.push(u)));
      return page;
    };
    const gm = await join('gm1', 'gm');
    const player = await join('user1', 'player');

    // The GM-only client setting frinny.devtools opens <frinny-devtools> in a window on the
    // module's client, and closing it lets go of the client's inspector tap.
    const setting = await gm.evaluate(() => {
      const s = game.settings.settings.get('frinny.devtools');
      return { scope: s.scope, restricted: s.restricted, type: s.type === Boolean, default: s.default, config: s.config };
    });
    assert.deepEqual(setting, { scope: 'client', restricted: true, type: true, default: false, config: true });
    const heldBefore = await gm.evaluate(() => game.frinny.agentManager.agent.heldCallbacks);
    await gm.evaluate(() => game.settings.set('frinny', 'devtools', true));
    await waitFor(() => gm.evaluate(() => {
      const panel = document.querySelector('#frinny-devtools frinny-devtools');
      return Boolean(panel && panel.agent === game.frinny.agentManager.agent && panel.exportLog);
    }), { what: 'the devtools window', ms: 15_000 });
    assert.equal(await gm.evaluate(() => game.frinny.agentManager.agent.heldCallbacks), heldBefore + 1, 'the panel inspects');
    await gm.evaluate(() => game.frinny.agentManager.request('query', { content: 'seen by the devtools' }).catch(() => {}));
    await waitFor(() => gm.evaluate(() => document.querySelector('#frinny-devtools frinny-devtools').exportLog().some((e) => e.name === 'query')),
      { what: 'the query in the devtools log' });
    await gm.evaluate(() => game.settings.set('frinny', 'devtools', false));
    await waitFor(() => gm.evaluate(() => !document.querySelector('#frinny-devtools')), { what: 'the devtools window closed' });
    assert.equal(await gm.evaluate(() => game.frinny.agentManager.agent.heldCallbacks), heldBefore, 'closed: nothing held');
    // A player's client never opens it, whatever is stored.
    await player.evaluate(() => game.settings.set('frinny', 'devtools', true));
    assert.equal(await player.evaluate(() => game.frinny.devtools === null && !document.querySelector('#frinny-devtools')), true);

    // The GM starts an encounter: Valeros (initiative 15) acts before the goblin.
    await gm.evaluate(async () => {
      const combat = FakeFoundry.createCombat([
        { _id: 'cb-val', actorId: 'actor1', initiative: 15 },
        { _id: 'cb-gob', actorId: 'gob1', initiative: 3 },
      ]);
      await combat.startCombat();
    });
    await waitFor(() => player.evaluate(() => window.updates.length >= 1), { what: 'combat_update at the player' });
    const first = await player.evaluate(() => window.updates.at(-1));
    assert.equal(first.round, 1);
    assert.equal(first.turn, 0);
    assert.equal(first.combatant.name, 'Valeros');
    assert.equal(first.combatant.actorId, 'actor1');
    assert.deepEqual(first.changes.map((c) => [c.name, c.hp]), [['Valeros', { value: 20, max: 20 }], ['Goblin Warrior', { value: 6, max: 6 }]]);

    // The next turn reaches the player too, and the synced encounter follows.
    await gm.evaluate(() => game.combat.nextTurn());
    await waitFor(() => player.evaluate(() => window.updates.some((u) => u.turn === 1)), { what: 'the second turn at the player' });
    // A window the player opens now shows the encounter from the synced scope.
    await player.evaluate(() => game.frinny.toggleWindow());
    await waitFor(
      () => player.evaluate(() => {
        const chat = document.querySelector('#frinny-chat [data-frinny-chat]')?.shadowRoot;
        const panel = chat?.querySelector('frinny-combat-updates');
        return panel?.shadowRoot?.textContent.includes('Round 1') && panel.shadowRoot.textContent.includes('Turn 2');
      }),
      { what: "the encounter in the player's window", ms: 15_000 },
    );
    assert.deepEqual(await player.evaluate(() => {
      const doc = game.frinny.agentManager.getState('combat:active');
      return { round: doc.round, turn: doc.turn };
    }), { round: 1, turn: 1 });
    for (const page of pages) assert.deepEqual(page.problems, []);
  } finally {
    for (const page of pages) await page.close();
    await server.stop();
  }
});

// End to end: the reference server serves the demo table (www/, with the
// package's files at /js and the wasm build at /pkg); Debian's headless
// Chromium (playwright-core, never a downloaded browser) joins it, asks
// Frinny a question in the chat window (typing, then the answer), sees a
// /notify, and drives every component through the GM's tools: a
// notification, a broadcast (a character update the player accepts, and a
// refused one), and combat turns that reach the synced encounter a late
// player sees. Run by `cargo xtask test e2e`, which builds pkg/ and the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchChromium, newPage } from './support/browser.mjs';
import { startUiServer, imagesDir } from './support/ui_harness.mjs';

let server;
let browser;

before(async () => {
  // Answers take 300 ms, as a model's would: long enough to see typing.
  server = await startUiServer({ delayMs: 300 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The demo page, joined as `userId`. */
async function joinTable(userId, { width = 1400, height = 900 } = {}) {
  const page = await newPage(browser);
  await page.setViewportSize({ width, height });
  await page.goto(server.origin);
  await page.fill('#user-id', userId);
  await page.fill('#world', 'demo-world');
  await page.click('#connect');
  await page.waitForSelector('frinny-connection-status[data-state="connected"]', { timeout: 20_000 });
  await page.waitForFunction(() => !document.querySelector('#combat-start').disabled);
  return page;
}

test('the demo table: connect, a query shows typing then the reply, and a /notify is shown', { timeout: 90_000 }, async () => {
  const page = await joinTable('demo-e2e');
  try {
    assert.equal(await page.locator('#status .label').textContent(), 'Connected');
    await page.locator('#chat textarea').fill('What does Shield Block do?');
    await page.locator('#chat textarea').press('Enter');
    await page.waitForSelector('#chat frinny-typing-indicator:not([hidden])', { timeout: 10_000 });
    assert.equal(await page.locator('#chat frinny-typing-indicator').textContent().catch(() => ''), '');
    assert.match(await page.locator('#chat frinny-typing-indicator .label').textContent(), /Frinny is typing…/);
    await page
      .waitForFunction(
        () => [...document.querySelector('[data-frinny-chat]').shadowRoot.querySelectorAll('.msg.assistant .bubble')].some((b) => b.textContent.includes('demo responder')),
        null,
        { timeout: 20_000 },
      )
      .catch(async (e) => {
        throw new Error(`no reply shown; page problems: ${page.problems.join(' | ')}`, { cause: e });
      });
    await page.waitForSelector('#chat frinny-typing-indicator[hidden]', { state: 'attached' });

    const r = await fetch(`${server.origin}/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ userId: 'demo-e2e', level: 'info', title: 'E2E', message: 'hello table' }),
    });
    assert.equal(r.status, 200);
    await page.locator('#chat frinny-notification-panel .message', { hasText: 'hello table' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

test("the demo table's GM tools drive every component: notification, broadcast, character update, combat; a late player sees the encounter", { timeout: 120_000 }, async () => {
  const page = await joinTable('demo-hero');
  try {
    // A notification from the GM's connection.
    await page.fill('#notify-message', 'Roll initiative!');
    await page.click('#notify');
    await page.locator('#chat frinny-notification-panel .message', { hasText: 'Roll initiative!' }).waitFor();

    // A broadcast character_update (the example payload): a suggestion the
    // player accepts before the sheet changes.
    await page.selectOption('#broadcast-event', 'character_update');
    assert.equal(await page.locator('#sheet dd[data-skill="intimidation"]').textContent(), 'trained');
    await page.click('#broadcast');
    const suggestion = page.locator('#chat frinny-suggestion-box li', { hasText: 'Update Valeros: Intimidation: expert' });
    await suggestion.waitFor();
    assert.equal(await page.locator('#sheet dd[data-skill="intimidation"]').textContent(), 'trained', 'not before it is accepted');
    await suggestion.locator('button', { hasText: 'Accept' }).click();
    await page.locator('#sheet dd[data-skill="intimidation"]', { hasText: 'expert' }).waitFor();
    await page.locator('#broadcast-result', { hasText: 'Delivered to 1' }).waitFor();

    // A payload that does not fit is refused by the server, and said so.
    await page.selectOption('#broadcast-event', 'combat_update');
    await page.fill('#broadcast-payload', '{"combatId": "x", "round": 1, "turn": 0}');
    await page.click('#broadcast');
    await page.locator('#broadcast-result', { hasText: 'INVALID_PAYLOAD' }).waitFor();

    // Combat: the encounter starts with Valeros acting: the synced encounter
    // and the chat's combat panel show it, and Frinny suggests his turn.
    await page.click('#combat-start');
    await page.locator('#encounter .acting', { hasText: 'Valeros is acting' }).waitFor();
    assert.equal(await page.locator('#encounter .round').textContent(), 'Round 1 · Turn 1');
    await page.locator('#chat frinny-combat-updates .acting', { hasText: 'Valeros is acting' }).waitFor();
    const turn = page.locator('#chat frinny-suggestion-box li', { hasText: 'Valeros: raise your shield' });
    await turn.waitFor();
    assert.deepEqual(await turn.locator('button').allTextContents(), ['Accept', 'Raise a Shield', 'Stride', 'Recall Knowledge', 'Dismiss']);
    await page.click('#combat-next');
    await page.locator('#encounter .acting', { hasText: 'Goblin Warrior is acting' }).waitFor();
    assert.equal(await page.locator('#encounter li').count(), 5, 'four at the start, one change this turn');

    // A player who joins now sees the encounter at once (synced scope).
    const late = await joinTable('demo-late', { width: 1400, height: 900 });
    try {
      await late.locator('#encounter .acting', { hasText: 'Goblin Warrior is acting' }).waitFor({ timeout: 10_000 });
      assert.deepEqual(late.problems, []);
    } finally {
      await late.close();
    }

    await page.evaluate(() => new Promise((r) => setTimeout(r, 400)));
    await page.screenshot({ path: join(imagesDir(), 'demo-page.png'), animations: 'disabled' });
    await page.click('#disconnect');
    await page.waitForSelector('frinny-connection-status[data-state="offline"]');
    assert.equal(await page.locator('[data-frinny-chat]').count(), 0, 'the chat window closed');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});

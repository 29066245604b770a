// js/event_pattern.js: subscribeAll's name patterns as the JS stand-ins read
// them, which must be as the real event hub (src/web/event_hub.js) reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matcher } from '../../js/event_pattern.js';

test('a string with * matches any run of characters, line breaks included', () => {
  const combat = matcher('combat_*');
  assert.equal(combat('combat_turn'), true);
  assert.equal(combat('combat_'), true);
  assert.equal(combat('xcombat_turn'), false);
  assert.equal(matcher('a*b')('a\nb'), true);
  assert.equal(matcher('*')(''), true);
});

test('the rest of a string pattern is literal, and without * it is one name', () => {
  assert.equal(matcher('state.*')('state.patch'), true);
  assert.equal(matcher('state.*')('stateXpatch'), false);
  assert.equal(matcher('(a)+*')('(a)+b'), true);
  assert.equal(matcher('typing_status')('typing_status'), true);
  assert.equal(matcher('typing_status')('typing'), false);
});

test('a RegExp is used without its g and y state, so a match does not move it on', () => {
  const sticky = /^state:/gy;
  const m = matcher(sticky);
  assert.equal(m('state:patch'), true);
  assert.equal(m('state:patch'), true);
  assert.equal(m('typing_status'), false);
  assert.equal(sticky.lastIndex, 0);
});

test('anything else is INVALID_OPTIONS', () => {
  for (const bad of [undefined, 3, {}, null]) {
    assert.throws(() => matcher(bad), (e) => e instanceof Error && e.code === 'INVALID_OPTIONS');
  }
});

// `debug`'s console output is one format for every manager: the wasm
// manager's hub (src/web/event_hub.js, a wasm-bindgen snippet that cannot
// import another file) and the managers written in JS (js/debug_log.js: the
// test agent, the tab side of `shareAcrossTabs`) keep two copies of the
// logger; these tests keep them alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logRecord as hubLog } from '../../src/web/event_hub.js';
import { logRecord as jsLog } from '../../js/debug_log.js';

const RECORDS = [
  { type: 'frame', direction: 'in', data: '42["typing_status",{"isTyping":true}]' },
  { type: 'frame', direction: 'out', data: '4212["query",{"content":"é"}]' },
  { type: 'frame', direction: 'in', data: '{"action":"notification","payload":{"title":"x"}}' },
  { type: 'frame', direction: 'in', data: '3' },
  { type: 'frame', direction: 'in', data: '42["broken' },
  { type: 'frame', direction: 'out', data: new Uint8Array([1, 2, 3]).buffer },
  { type: 'state', state: 'reconnecting', reason: 'transport close' },
];

/** Every console call `log` makes for `record`, in order. */
function consoleCalls(t, log, record) {
  const calls = [];
  for (const method of ['groupCollapsed', 'log', 'groupEnd']) {
    t.mock.method(console, method, (...args) => calls.push([method, ...args]));
  }
  try {
    log(record);
  } finally {
    t.mock.restoreAll();
  }
  return calls;
}

for (const record of RECORDS) {
  const what = record.type === 'state' ? `state ${record.state}` : `${record.direction} ${typeof record.data === 'string' ? JSON.stringify(record.data) : 'binary'}`;
  test(`the hub and the JS managers log ${what} alike`, (t) => {
    const hub = consoleCalls(t, hubLog, record);
    assert.ok(hub.length >= 3, 'a group with its title, contents and end');
    assert.equal(hub[0][0], 'groupCollapsed');
    assert.deepEqual(consoleCalls(t, jsLog, record), hub);
  });
}

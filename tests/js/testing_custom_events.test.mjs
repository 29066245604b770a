// `frinny-agent/testing`'s custom events: `agent.defineEvents` reaches the
// test server, which records the declarations and checks them, and then
// the custom events themselves, by the reference server's rules
// (src/catalogue/custom.rs, server/src/custom_events.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestAgent } from '../../js/testing/index.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

async function rejectsWith(promise, code, fields = {}) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `code of: ${err.message}`);
    for (const [k, v] of Object.entries(fields)) assert.equal(err[k], v, k);
    return true;
  });
}

const ROLL = {
  name: 'x-my-module:roll-request',
  direction: 'both',
  fields: [
    { name: 'formula', kind: 'non_empty_string', required: true },
    { name: 'actorId', kind: 'string' },
  ],
};

test('defineEvents: a GM declares, the server records and replaces; a player is refused', async () => {
  const { agent, server } = createTestAgent();
  await agent.connect();
  assert.deepEqual(await agent.defineEvents([ROLL]), { ok: true, defined: ['x-my-module:roll-request'], count: 1 });
  assert.deepEqual(server.received.at(-1).name, 'events:define');
  assert.equal(server.customEvents.length, 1);
  assert.deepEqual(server.customEvents[0].fields[1], { name: 'actorId', kind: 'string', required: false });
  const weather = { name: 'x-my-module:weather', direction: 'server_to_client', broadcastable: true };
  assert.equal((await agent.defineEvents([ROLL, weather])).count, 2, 'a redefinition replaces');
  // The greeting lists them, as the reference server's does.
  const hello = [];
  agent.subscribe('connection_established', (p) => hello.push(p.customEvents));
  agent.disconnect();
  await agent.connect();
  assert.deepEqual(hello, [['x-my-module:roll-request', 'x-my-module:weather']]);
  server.role = 'player';
  await rejectsWith(agent.defineEvents([weather]), 'SERVER_ERROR', { serverCode: 'FORBIDDEN' });
  await rejectsWith(agent.defineEvents('nope'), 'INVALID_PAYLOAD');
  agent.close();
});

test('defineEvents: bad declarations are refused as the server refuses them, all or nothing', async () => {
  const { agent, server } = createTestAgent();
  await agent.connect();
  for (const [spec, serverCode] of [
    [{ name: 'X-mod:a', direction: 'both' }, 'INVALID_PAYLOAD'],
    [{ name: 'x-mod', direction: 'both' }, 'INVALID_PAYLOAD'],
    [{ name: 'query', direction: 'both' }, 'INVALID_PAYLOAD'],
    [{ name: 'x-m:a', direction: 'sideways' }, 'INVALID_PAYLOAD'],
    [{ name: 'x-m:a', direction: 'both', fields: [{ name: 'f', kind: 'float' }] }, 'INVALID_PAYLOAD'],
    [{ name: 'x-m:a', direction: 'client_to_server', broadcastable: true }, 'INVALID_PAYLOAD'],
    [{ name: 'x-m:a', direction: 'both', doc: 'd'.repeat(201) }, 'SPEC_TOO_LARGE'],
    [{ name: 'x-m:a', direction: 'both', fields: Array.from({ length: 33 }, (_, i) => ({ name: `f${i}`, kind: 'any' })) }, 'SPEC_TOO_LARGE'],
  ]) {
    await rejectsWith(agent.defineEvents([ROLL, spec]), 'SERVER_ERROR', { serverCode });
  }
  assert.deepEqual(server.customEvents, [], 'nothing of a refused list holds');
  const many = Array.from({ length: 65 }, (_, i) => ({ name: `x-m:e${i}`, direction: 'both' }));
  await rejectsWith(agent.defineEvents(many), 'SERVER_ERROR', { serverCode: 'TOO_MANY_EVENTS' });
  agent.close();
});

test('custom events are checked against their declaration: acked, or refused with the server codes', async () => {
  const { agent, server } = createTestAgent();
  await agent.connect();
  await agent.defineEvents([ROLL, { name: 'x-my-module:weather', direction: 'server_to_client' }]);
  assert.deepEqual(await agent.request('x-my-module:roll-request', { formula: '1d20' }), {
    ok: true,
    event: 'x-my-module:roll-request',
    recipients: 0,
  });
  await rejectsWith(agent.request('x-my-module:roll-request', { formula: 20 }), 'SERVER_ERROR', { serverCode: 'INVALID_PAYLOAD' });
  await rejectsWith(agent.request('x-my-module:nope', {}), 'SERVER_ERROR', { serverCode: 'INVALID_EVENT' });
  await rejectsWith(agent.request('x-my-module:weather', { sky: 'x' }), 'SERVER_ERROR', { serverCode: 'INVALID_EVENT' });

  // An emit that does not fit comes back as `error`, to onError.
  const errors = [];
  agent.onError((e) => errors.push(e));
  agent.emit('x-my-module:roll-request', { formula: '2d6' });
  agent.emit('x-my-module:roll-request', {});
  await settle();
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'SERVER_ERROR');
  assert.equal(errors[0].serverCode, 'INVALID_PAYLOAD');
  assert.deepEqual(
    server.received.filter((m) => m.name === 'x-my-module:roll-request').map((m) => m.payload.formula),
    ['1d20', 20, '2d6', undefined],
  );

  // The server side pushes custom events like any other.
  const seen = [];
  agent.subscribe('x-my-module:weather', (p) => seen.push(p.sky));
  server.emit('x-my-module:weather', { sky: 'rain' });
  assert.deepEqual(seen, ['rain']);
  agent.close();
});

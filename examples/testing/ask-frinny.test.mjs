// Tests of ask-frinny.js under Node's test runner (`node --test`), with
// `frinny-agent/testing` in place of a backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestAgent } from 'frinny-agent/testing';
import { askFrinny } from './ask-frinny.js';

test('returns the answer, and sends a private query', async () => {
  const { agent, server } = createTestAgent({ query: { userId: 'player-1' } });
  server.handle('query', ({ content }) => ({ content: `You asked: ${content}` }));
  await agent.connect();

  assert.equal(await askFrinny(agent, 'What does Shield Block do?'), 'You asked: What does Shield Block do?');
  assert.equal(server.received[0].name, 'query');
  assert.equal(server.received[0].payload.is_public_chat, false);
  agent.close();
});

test('tells the player to slow down when the server says RATE_LIMITED', async () => {
  const { agent, server } = createTestAgent();
  server.handle('query', () => {
    throw Object.assign(new Error('too many events'), { code: 'RATE_LIMITED' });
  });
  await agent.connect();

  assert.equal(await askFrinny(agent, 'Again?'), 'Slow down a little, then ask again.');
  agent.close();
});

test('says the connection dropped when the link is lost mid-question', async () => {
  const { agent, server } = createTestAgent();
  server.handle('query', () => new Promise(() => {})); // the answer never comes
  await agent.connect();

  const answer = askFrinny(agent, 'Still there?');
  server.drop();
  assert.equal(await answer, 'The connection to Frinny dropped; try again.');
  assert.equal(agent.state, 'reconnecting');
  server.restore();
  agent.close();
});

test('gives up after the request timeout', async () => {
  const { agent } = createTestAgent({ timeout: 50 }); // nothing handles `query`
  await agent.connect();

  assert.equal(await askFrinny(agent, 'Hello?'), 'Frinny is taking too long; try again.');
  agent.close();
});

// `frinny-agent/testing`: an AgentManager for the tests of code that uses
// one (a Foundry module, a UI element), with the server's side in the
// test's hands. No wasm, no socket: it runs under Node's test runner and in
// browsers alike.
//
//   import { createTestAgent } from 'frinny-agent/testing';
//   const { agent, server } = createTestAgent({ query: { userId: 'u1' } });
//   server.handle('query', ({ content }) => ({ content: `echo: ${content}` }));
//   await agent.connect();
//   await agent.sendQuery({ content: 'hi' });     // { content: 'echo: hi' }
//   server.emit('typing_status', { isTyping: true });
//   server.received;                              // [{ name: 'query', payload: { content: 'hi', request_id: '…' } }]

import { TestAgent } from './agent.js';
import { TestServer } from './server.js';

export { TestAgent, TestServer };

/**
 * A test agent and the server it talks to. `options` are the
 * AgentManager's (`url` may be left out), checked the same way: a bad one
 * throws an Error with code INVALID_OPTIONS. The agent starts
 * `disconnected`, as a new AgentManager does: call `connect()`.
 * @param {import('./index.js').TestAgentOptions} [options]
 * @returns {{agent: import('../index.js').AgentManager, server: TestServer}}
 */
export function createTestAgent(options) {
  const server = new TestServer();
  const agent = new TestAgent(options, server);
  return { agent: /** @type {any} */ (agent), server };
}

export default createTestAgent;

// `frinny-agent/testing`'s types (js/testing/index.d.ts) as a module
// author's tests use them: the test agent is the package's AgentManager
// type, so it goes wherever one is expected (a function of the module, a
// UI element's `agent`), and the server's methods are typed by the event
// catalogue. Each @ts-expect-error must find an error, or tsc fails.
// Checked by `tsc --strict` in `cargo xtask test e2e`; nothing runs.
import { createTestAgent, TestServer } from '../../js/testing/index.js';
import type { ReceivedMessage, ServerScope, TestAgentOptions } from '../../js/testing/index.js';
import { AgentManager } from '../../js/index.js';
import type { AgentError, AgentState } from '../../js/index.js';
import type { Agent as ComponentAgent } from '../../js/components/index.js';

/** What a module's own code looks like: it takes the package's AgentManager. */
function moduleCode(agent: AgentManager): Promise<string> {
  return agent.sendQuery({ content: 'hi' }).then((r) => r.content);
}

export async function testAgentIsAnAgentManager(): Promise<void> {
  const { agent, server } = createTestAgent({ query: { userId: 'u1' }, timeout: 1_000 });
  createTestAgent();
  createTestAgent({ url: 'http://127.0.0.1:5001', reconnectionDelay: 10, bufferSize: 5 });
  const options: TestAgentOptions = { auth: async () => ({ token: 't' }) };
  createTestAgent(options);
  // @ts-expect-error: an unknown option (the real client throws INVALID_OPTIONS at run time too)
  createTestAgent({ reconectionDelay: 10 });
  // @ts-expect-error: timeout is a number
  createTestAgent({ timeout: 'soon' });

  const real: AgentManager = agent;
  const forComponents: ComponentAgent = agent;
  await moduleCode(agent);
  void real;
  void forComponents;
  // The whole AgentManager surface, typed as it is.
  await agent.connect();
  const state: AgentState = agent.state;
  agent.onStateChange((s: AgentState, reason: string) => console.log(s, reason));
  agent.onError((e: AgentError) => console.log(e.code, e.serverCode));
  agent.subscribe('typing_status', (p) => console.log(p.isTyping));
  agent.once('notification', (n) => console.log(n.message));
  agent.subscribeAll((name, ...args) => console.log(name, args));
  const reply = await agent.request('query', { content: 'hi' }, { timeout: 5, retry: true, signal: new AbortController().signal });
  const text: string = reply.content;
  agent.emit('feedback', { messageId: 'm1', type: 'positive' }, { volatile: true });
  agent.onTypingStatus(({ isTyping }) => console.log(isTyping));
  await agent.submitFeedback('m1', 'positive');
  await agent.notifyLevelUp({ actorId: 'a1', level: 2 });
  const doc = await agent.syncState('world');
  agent.subscribeState('world', (d, change) => console.log(d, change.type, change.version));
  const { version }: { version: number } = await agent.updateState('world', { a: 1 }, { optimistic: true });
  await agent.replaceState('world', { ...agent.getState('world'), b: 2 });
  agent.onConflict('world', (local, srv) => ({ ...srv, ...local }));
  const next: number | undefined = agent.nextReconnectAt;
  const p99: number | null = agent.metrics().dispatchP99Us;
  const held: number = agent.heldCallbacks;
  agent.unsyncState('world');
  agent.disconnect();
  agent.close();
  void state, text, doc, version, next, p99, held;
  // @ts-expect-error: typing_status has no `nope`
  agent.subscribe('typing_status', (p) => p.nope);
  // @ts-expect-error: a query needs its content
  await agent.request('query', { actorId: 'a1' });
  // @ts-expect-error: no such method on an AgentManager
  agent.definitelyNotAMethod();

  // The server.
  const s: TestServer = server;
  const delivered: boolean = server.emit('typing_status', { isTyping: true });
  server.emit('x-homebrew:roll', { anything: 1 }, 'more');
  // @ts-expect-error: isTyping is a boolean
  server.emit('typing_status', { isTyping: 'yes' });
  // @ts-expect-error: a notification needs its message
  server.emit('notification', { level: 'info' });
  // emitWithAck: the same typing, and a Promise of the answer.
  const answered: Promise<any> = server.emitWithAck('typing_status', { isTyping: true });
  await server.emitWithAck('x-homebrew:confirm', { text: 'Roll?' }, 'more');
  // @ts-expect-error: isTyping is a boolean
  void server.emitWithAck('typing_status', { isTyping: 'yes' });
  const off: () => void = server.handle('query', ({ content, request_id }) => ({ content: `${content} ${request_id}` }));
  server.handle('level_up', async () => ({ content: 'level 2' }));
  server.handle('x-homebrew:ask', (p) => p.anything);
  // @ts-expect-error: a query_response has a string content
  server.handle('query', () => ({ content: 42 }));
  // @ts-expect-error: the handler gets the query payload, which has no `nope`
  server.handle('query', (p) => ({ content: p.nope }));
  const received: ReceivedMessage[] = server.received;
  const first: string | undefined = received[0]?.name;
  server.drop();
  server.restore();
  server.refuse('TOO_MANY_CONNECTIONS');
  server.refuse(null);
  const v: number = server.setState('world', { weather: 'rain' });
  const copy: ServerScope | undefined = server.state('world');
  const auth: Record<string, unknown> | undefined = server.auth;
  // @ts-expect-error: a synced document is an object
  server.setState('world', 'rain');
  // @ts-expect-error: received is read-only
  server.received = [];
  void s, delivered, answered, off, first, v, copy, auth;
}

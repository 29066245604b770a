// Type-checks the package's TypeScript declarations the way a Foundry module
// would use them (tsc --noEmit --strict; run by `cargo xtask test e2e` after
// the package is built). Nothing here runs.
import init, { AgentManager } from '../../pkg/frinny_agent.js';
import type { AgentError, AgentManagerOptions, AgentState, DocChange, RequestOptions } from '../../pkg/frinny_agent.js';

export async function usage(token: string): Promise<void> {
  await init();
  const options: AgentManagerOptions = {
    url: 'http://127.0.0.1:5001',
    auth: { token },
    query: { userId: 'u1', table: 3, gm: false },
    reconnectionDelay: 500,
    attempts: 10,
    timeout: 10_000,
    protocol: 'socket.io',
  };
  const agent = new AgentManager(options);
  const offState: () => void = agent.onStateChange((state: AgentState, reason: string) => {
    console.log(state, reason);
  });
  agent.onError((err: AgentError) => console.warn(err.code, err.serverCode, err.detail));
  await agent.connect();
  const state: string = agent.state;
  const off = agent.subscribe('typing_status', (payload: { isTyping: boolean }) => payload.isTyping);
  agent.once('connection_established', () => {});
  agent.subscribeAll((name: string, ...args: unknown[]) => console.debug(name, args));
  const controller = new AbortController();
  const opts: RequestOptions = { timeout: 1_000, signal: controller.signal, retry: true };
  const reply: unknown = await agent.request('query', { content: 'hi' }, opts);
  agent.emit('feedback', { messageId: 'm', type: 'positive' });
  agent.emit('cursor', { x: 1 }, { volatile: true });
  await agent.broadcastEvent('notification', { message: 'hello' });
  await agent.sendQuery({ content: 'hi' });
  await agent.submitFeedback('m1', 'positive');
  const doc: unknown = await agent.syncState('world');
  agent.subscribeState('world', (d: unknown, change: DocChange) => console.log(d, change.type, change.version));
  agent.onConflict('world', (local: unknown, server: unknown) => ({ merged: [local, server] }));
  const { version }: { version: number } = await agent.updateState('world', { weather: 'rain' }, { optimistic: true });
  const pending: number = agent.pendingCount;
  const metrics = agent.metrics();
  console.log(reply, doc, version, pending, metrics, state);
  off();
  offState();
  agent.disconnect();
  agent.close();
  agent.free();
}

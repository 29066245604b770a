// The drop-in's types (js/foundry/index.d.ts) as the Frinny module and its
// FrinnyChat use them. Checked by `tsc --strict`; nothing runs.
import { AgentManager, HISTORY_LENGTH, ready } from '../../js/foundry/index.js';
import type { AgentError, FrinnyReply } from '../../js/foundry/index.js';

export async function dropIn(): Promise<void> {
  await ready();
  // In Foundry it takes no arguments; options are for tests and other hosts.
  const manager = new AgentManager();
  const forTests = new AgentManager({ protocol: 'socket.io', backendUrl: 'http://127.0.0.1:5001', timeout: 5_000, auth: async () => ({ token: 't' }) });
  // @ts-expect-error: the wire is 'json' or 'socket.io'
  new AgentManager({ protocol: 'websocket' });

  await manager.connect();
  const offTyping = manager.onTypingStatus((isTyping: boolean) => console.log(isTyping));
  // @ts-expect-error: onTypingStatus hands over a boolean, not the payload
  manager.onTypingStatus((status) => status.isTyping);
  const reply: FrinnyReply = await manager.handlePrivateQuery('user1', 'What does Shield Block do?');
  const text: string | undefined = reply.content;
  await manager.handlePublicQuery('user1', 'Who acts next?');
  await manager.submitFeedback('msg-1', 'positive');
  await manager.notifyLevelUp({ actorId: 'a1', previousLevel: 1, newLevel: 2 });
  const pending: number = manager.pendingRequests.size;
  const connected: boolean = manager.isConnected;
  // The settings' onChange sets the URL and connects again.
  manager.wsUrl = 'wss://gateway.example/ws';
  manager.backendUrl = 'https://frinny.example';
  // @ts-expect-error: pendingRequests is read-only
  manager.pendingRequests = { size: 0 };

  // The additions are typed by the catalogue, as on the package entry.
  manager.subscribe('notification', (n) => console.log(n.message, n.level));
  // @ts-expect-error: notification has no `nope`
  manager.subscribe('notification', (n) => n.nope);
  manager.subscribe('x-homebrew:ping', (anything) => anything.whatever);
  manager.onError((err: AgentError) => console.warn(err.code));
  manager.onStateChange((state) => console.log(state));
  const doc: unknown = await manager.syncState('world');
  await manager.updateState('world', { weather: 'rain' }, { optimistic: true });
  const held: number = manager.agent.heldCallbacks;
  console.log(HISTORY_LENGTH, text, pending, connected, doc, held);
  offTyping();
  manager.close();
  forTests.close();
}

// `shareAcrossTabs` as a module author types it: the option and
// `sharedWorkerUrl` on AgentManagerOptions, the SharedAgentManager type with
// the typed event methods of AgentManager, and its `share` counters.
// Checked by `tsc --strict` in `cargo xtask test e2e`; nothing runs.
import ready, { AgentManager, SharedAgentManager } from '../../js/index.js';
import type { ShareCounters } from '../../js/index.js';

export async function sharedTabs(): Promise<void> {
  await ready();
  const agent: AgentManager = new AgentManager({
    url: 'http://127.0.0.1:5001',
    shareAcrossTabs: true,
    sharedWorkerUrl: new URL('/modules/frinny/worker.js', location.href),
  });
  if (agent instanceof SharedAgentManager) {
    const shared: true = agent.sharedAcrossTabs;
    const counters: ShareCounters | undefined = agent.metrics().share;
    console.log(shared, counters?.tabs, counters?.resultsDropped);
  }
  const direct: SharedAgentManager = new SharedAgentManager({ url: 'http://127.0.0.1:5001', sharedWorkerUrl: '/w.js' });
  direct.subscribe('typing_status', ({ isTyping }) => console.log(isTyping));
  const reply = await direct.request('query', { content: 'hi' });
  console.log(reply.content);
  // @ts-expect-error: shareAcrossTabs is a boolean
  new AgentManager({ url: 'http://127.0.0.1:5001', shareAcrossTabs: 'yes' });
}

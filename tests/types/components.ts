// `frinny-agent/components` as a Foundry module author types against it
// (js/components/index.d.ts): the elements, FrinnyChat and the strings
// hook. Each @ts-expect-error must find an error, or tsc fails. Checked by
// `tsc --strict` in `cargo xtask test e2e`; nothing runs.
import { AgentManager } from '../../js/index.js';
import { AgentManager as FoundryAgentManager } from '../../js/foundry/index.js';
import {
  defineComponents,
  FrinnyChat,
  FrinnyCombatUpdates,
  FrinnyConnectionStatus,
  FrinnyNotificationPanel,
  FrinnySuggestionBox,
  FrinnyTypingIndicator,
  ELEMENTS,
  setTranslator,
  localize,
  mergeConflict,
  STRINGS,
} from '../../js/components/index.js';
import type { ChatMessage, CombatUpdate, ShownState, SuggestionChoice, FrinnyChatOptions } from '../../js/components/index.js';

export async function components(agent: AgentManager, root: HTMLElement): Promise<void> {
  defineComponents();
  defineComponents(customElements);

  // Elements from the tag name map are typed.
  const typing = document.createElement('frinny-typing-indicator');
  const sameTyping: FrinnyTypingIndicator = typing;
  typing.agent = agent;
  typing.agent = null;
  typing.staleAfter = 5000;
  typing.show();
  // @ts-expect-error: the agent is an AgentManager or null
  typing.agent = 'agent';
  // @ts-expect-error: staleAfter is a number
  typing.staleAfter = '5000';

  const panel = document.querySelector('frinny-notification-panel');
  if (panel) {
    const p: FrinnyNotificationPanel = panel;
    p.notify({ message: 'Roll initiative', level: 'warning', title: 'GM' });
    p.notify('plain text');
    const n: number = p.count;
    // @ts-expect-error: message is required
    p.notify({ title: 'no message' });
    void n;
  }

  const box = new FrinnySuggestionBox();
  box.suggest({ id: 's1', text: 'Raise a Shield', actions: [{ label: 'Stride', value: 'stride' }] }, { local: true });
  box.addEventListener('frinny-suggestion', (e) => {
    const choice: SuggestionChoice = e.detail;
    const accepted: boolean = e.detail.accepted;
    void choice;
    void accepted;
  });
  const chose: boolean = box.choose('s1', true, 'stride');
  // @ts-expect-error: a suggestion needs text
  box.suggest({ id: 's2' });

  const combat = document.createElement('frinny-combat-updates');
  const c: FrinnyCombatUpdates = combat;
  c.scope = 'combat:c1';
  const update: CombatUpdate = { combatId: 'c1', round: 1, turn: 0, combatant: { name: 'Valeros' }, changes: [{ name: 'Goblin', hp: { value: 3, max: 12 } }] };
  c.update(update);
  // @ts-expect-error: round is a number
  c.update({ combatId: 'c1', round: '1', turn: 0, combatant: { name: 'x' } });

  const status = document.createElement('frinny-connection-status');
  const s: FrinnyConnectionStatus = status;
  const shown: ShownState = s.shown;
  s.retry();
  // @ts-expect-error: shown is read-only
  s.shown = 'connected';

  const tags: (keyof typeof ELEMENTS)[] = ['frinny-typing-indicator', 'frinny-connection-status'];

  // FrinnyChat: with an agent it is given, or agentOptions for its own.
  const chat = new FrinnyChat({
    agent,
    element: root,
    userId: 'u1',
    applyCharacterUpdate: async (u) => {
      const actor: string = u.actorId;
      void actor;
    },
    describeActor: (id) => `Actor ${id}`,
  });
  await chat.ready;
  const reply: ChatMessage | null = await chat.send('What does Shield Block do?', { public: true });
  await chat.submitFeedback('m1', 'positive');
  const cleanups: Set<() => void> = chat.cleanupFunctions;
  const synced: boolean = chat.synced;
  chat.publicChat = true;
  chat.close();
  const own = new FrinnyChat({ agentOptions: { url: 'http://127.0.0.1:5001', auth: { token: 't' } }, element: root });
  own.close();
  // @ts-expect-error: feedback is positive or negative
  await chat.submitFeedback('m1', 'meh');
  // @ts-expect-error: an element is required
  new FrinnyChat({ agent });
  // @ts-expect-error: cleanupFunctions is read-only
  chat.cleanupFunctions = new Set();
  const options: FrinnyChatOptions = { agent, element: root, historyScope: null, syncTimeout: 500 };
  // The Foundry drop-in itself can be given to the window and the elements.
  const dropIn = new FoundryAgentManager();
  const inFoundry = new FrinnyChat({ agent: dropIn, element: root, userId: 'u1' });
  status.agent = dropIn;
  inFoundry.close();
  // @ts-expect-error: not an agent
  status.agent = { state: 'connected' };

  setTranslator((key, data) => (data ? `${key}:${JSON.stringify(data)}` : key));
  setTranslator(null);
  // @ts-expect-error: a translator is a function
  setTranslator('fr');
  const text: string = localize('FRINNY.Typing');
  const defaults: Readonly<Record<string, string>> = STRINGS;
  const merged = mergeConflict({ chat: {} }, { chat: {} });

  // replaceState on the typed AgentManager.
  const { version }: { version: number } = await agent.replaceState('combat:c1', { round: 2 }, { optimistic: true });

  console.log(sameTyping, chose, shown, tags, reply, cleanups, synced, options, text, defaults, merged, version);
}

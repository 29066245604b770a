// Custom events as a module author types them: the event maps of the
// package entry extended by declaration merging reach the overloads of
// `emit`, `subscribe`, `once` and `request` (js/index.d.ts) and the test
// server's `handle` (js/testing/index.d.ts); `defineEvents` takes typed
// declarations. A module writes `declare module 'frinny-agent'`; here the
// entry is named by its path, which is the same module. Every
// expected error below must be found, or tsc fails. Checked by
// `tsc --strict` in `cargo xtask test e2e`; nothing runs.
import { AgentManager } from '../../js/index.js';
import type { CustomEventSpec, CustomFieldSpec, DefineEventsResult, FieldKind } from '../../js/index.js';
import { createTestAgent } from '../../js/testing/index.js';

declare module '../../js/index.js' {
  interface ClientEvents {
    'x-my-module:roll-request': { formula: string; actorId?: string };
  }
  interface ServerEvents {
    'x-my-module:roll-request': { formula: string; actorId?: string };
    'x-my-module:weather': { sky: string; windKph?: number };
  }
  interface Responses {
    // A reply merged into Responses alone: the request's payload is any object.
    'x-my-module:ask-gm': { answer: string };
  }
}

export async function customEvents(agent: AgentManager): Promise<void> {
  const kind: FieldKind = 'non_empty_string';
  const field: CustomFieldSpec = { name: 'formula', kind, required: true };
  const specs: CustomEventSpec[] = [
    { name: 'x-my-module:roll-request', direction: 'both', fields: [field, { name: 'actorId', kind: 'string' }] },
    { name: 'x-my-module:weather', direction: 'server_to_client', broadcastable: true, doc: 'The sky.' },
    { name: 'x-my-module:rate', direction: 'client_to_server', fields: [{ name: 'stars', kind: 'number' }], anyOf: ['stars'] },
  ];
  const result: DefineEventsResult = await agent.defineEvents(specs);
  const defined: string[] = result.defined;
  const count: number = result.count;
  console.log(defined, count);
  // @ts-expect-error: a custom event's name starts with `x-` and has a module
  await agent.defineEvents([{ name: 'roll-request', direction: 'both' }]);
  // @ts-expect-error: no such direction
  await agent.defineEvents([{ name: 'x-m:a', direction: 'sideways' }]);
  // @ts-expect-error: no such field kind
  await agent.defineEvents([{ name: 'x-m:a', direction: 'both', fields: [{ name: 'f', kind: 'float' }] }]);

  // emit: the merged payload type.
  agent.emit('x-my-module:roll-request', { formula: '1d20' });
  agent.emit('x-my-module:roll-request', { formula: '1d20', actorId: 'a1' }, { volatile: true });
  // @ts-expect-error: formula is a string
  agent.emit('x-my-module:roll-request', { formula: 20 });
  // @ts-expect-error: formula is required
  agent.emit('x-my-module:roll-request', { actorId: 'a1' });
  // Names nobody merged still work, untyped.
  agent.emit('x-other-module:anything', { whatever: 1 });

  // subscribe / once: the merged server event types.
  agent.subscribe('x-my-module:weather', ({ sky, windKph }) => console.log(sky.toUpperCase(), windKph ?? 0));
  agent.once('x-my-module:roll-request', (p) => console.log(p.formula.length));
  // @ts-expect-error: sky is a string
  agent.subscribe('x-my-module:weather', (p) => p.sky.toFixed());
  // @ts-expect-error: weather has no `nope`
  agent.subscribe('x-my-module:weather', (p) => p.nope);

  // request: typed reply, and the request payload of a reply-only merge is any object.
  const reply = await agent.request('x-my-module:ask-gm', { question: 'May I?' });
  const answer: string = reply.answer;
  console.log(answer);
  // @ts-expect-error: the reply has no `nope`
  void reply.nope;

  // The catalogue's own events keep their types.
  agent.emit('feedback', { messageId: 'm1', type: 'positive' });
  // @ts-expect-error: still checked
  agent.subscribe('typing_status', (p) => p.isTyping.toUpperCase());
}

export async function customEventsOnTheTestAgent(): Promise<void> {
  const { agent, server } = createTestAgent();
  await agent.defineEvents([{ name: 'x-my-module:roll-request', direction: 'both' }]);
  server.role = 'player';
  // @ts-expect-error: a role is gm or player
  server.role = 'king';
  const declared: CustomEventSpec[] = server.customEvents;
  console.log(declared.length);
  server.handle('x-my-module:ask-gm', (p) => ({ answer: String(p.question) }));
  // @ts-expect-error: the reply must fit the merged Responses type
  server.handle('x-my-module:ask-gm', () => ({ answer: 42 }));
  server.emit('x-my-module:weather', { sky: 'rain' });
  // @ts-expect-error: sky is a string
  server.emit('x-my-module:weather', { sky: 1 });
}

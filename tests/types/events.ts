// The package entry's types (js/index.d.ts over the generated
// js/EventTypes.d.ts) as a module author uses them: known events get their
// payload types, wrong uses fail to compile (each @ts-expect-error must
// find an error, or tsc fails), and any other event name still works,
// untyped. Checked by `tsc --strict` in `cargo xtask test e2e`; nothing runs.
import ready, { AgentManager, EventTypes, ResponseTo, ClientToServer, ServerToClient } from '../../js/index.js';
import type { Ack, AgentError, ClientEvents, Responses, ServerEvents, TypingStatusPayload } from '../../js/index.js';
import * as catalogue from '../../js/EventTypes.js';

export async function typedEvents(): Promise<void> {
  await ready();
  await ready('/modules/frinny/lib/frinny-agent/pkg/frinny_agent_bg.wasm');
  const agent = new AgentManager({ url: 'http://127.0.0.1:5001' });

  // Constants carry their literal types.
  const typing: 'typing_status' = EventTypes.TYPING_STATUS;
  const subscribeName: 'state:subscribe' = EventTypes.STATE_SUBSCRIBE;
  const queryName: 'query' = ClientToServer.QUERY;
  const replyName: 'query_response' = ServerToClient.QUERY_RESPONSE;
  const answeredBy: 'query_response' = ResponseTo.query;
  const same: typeof catalogue.EventTypes = EventTypes;
  // @ts-expect-error: constants are read-only
  EventTypes.QUERY = 'other';
  // @ts-expect-error: no such constant
  void EventTypes.NOPE;
  // @ts-expect-error: a server-to-client constant is not in the client-to-server group
  void ClientToServer.TYPING_STATUS;

  // subscribe: the payload of a known event is typed.
  const off = agent.subscribe('typing_status', (p) => p.isTyping);
  agent.subscribe(EventTypes.TYPING_STATUS, (p: TypingStatusPayload) => console.log(p.isTyping, p.request_id));
  agent.once('notification', (n) => console.log(n.message.toUpperCase(), n.level ?? 'info'));
  agent.subscribe('character_update', (u) => console.log(u.actorId, u.updates));
  // @ts-expect-error: typing_status has no `nope`
  agent.subscribe('typing_status', (p) => p.nope);
  // @ts-expect-error: isTyping is a boolean, not a string
  agent.subscribe('typing_status', (p) => p.isTyping.toUpperCase());
  // Any other name still works, untyped.
  agent.subscribe('x-homebrew:roll', (anything) => anything.whatever);
  agent.subscribe('x-homebrew:roll', (...args) => console.log(args.length));
  const dynamic: string = 'made_up_at_runtime';
  agent.subscribe(dynamic, (p) => p.anything);

  // A subscriber's last argument: the ack of an event that asks for an answer, if it does.
  agent.subscribe('typing_status', (p, ack) => ack?.({ seen: p.isTyping }, 'more', new Uint8Array([1])));
  agent.once('notification', (_n, ack: Ack | undefined) => ack?.());
  const answer: Ack = (...args) => console.log(args.length);
  agent.subscribe('x-homebrew:confirm', (payload, ack) => (ack ?? answer)(payload.whatever));
  agent.subscribeAll((name, ...args) => {
    const last: unknown = args.at(-1);
    if (typeof last === 'function') last(name);
  });
  // @ts-expect-error: ack is undefined when the event does not ask
  agent.subscribe('typing_status', (_p, ack) => ack('x'));
  // @ts-expect-error: ack is a function, not a value
  agent.subscribe('typing_status', (_p, ack: string) => console.log(ack));

  // request: a known request resolves to its response's payload type.
  const reply = await agent.request('query', { content: 'hi', actorId: 'a1', extra_context: 1 });
  const content: string = reply.content;
  const id: string | number | undefined = reply.request_id;
  // @ts-expect-error: query_response has no `nope`
  void reply.nope;
  // @ts-expect-error: a query needs its content
  await agent.request('query', { actorId: 'a1' });
  // @ts-expect-error: content is a string
  await agent.request('query', { content: 42 });
  const levelUp = await agent.request(EventTypes.LEVEL_UP, { actorId: 'a1', level: 5 });
  const levelText: string = levelUp.content;
  // Any other name: untyped.
  const anyReply = await agent.request('x-homebrew:ask', { anything: true }, { timeout: 1_000 });
  console.log(anyReply.whatever);

  // emit
  agent.emit('feedback', { messageId: 'm1', type: 'positive' });
  agent.emit('cursor', { x: 1 }, { volatile: true });
  // @ts-expect-error: rating is a string or a number
  agent.emit('feedback', { rating: true });

  // Frinny helpers are typed by the same maps.
  const q = await agent.sendQuery({ content: 'hi' });
  const qText: string = q.content;
  agent.onTypingStatus(({ isTyping }) => console.log(isTyping));
  // @ts-expect-error: onTypingStatus hands over the payload object
  agent.onTypingStatus((status) => status.toFixed());

  // The rest of the class comes from the wasm module's own types.
  agent.onError((err: AgentError) => console.warn(err.code, err.serverCode));
  const state: string = agent.state;
  const held: number = agent.heldCallbacks;

  // The maps themselves.
  type QueryIn = ClientEvents['query'];
  type QueryOut = Responses['query'];
  type Typing = ServerEvents['typing_status'];
  const qIn: QueryIn = { content: 'x' };
  const qOut: QueryOut = { content: 'y' };
  const t: Typing = { isTyping: true };
  console.log(typing, subscribeName, queryName, replyName, answeredBy, same, content, id, levelText, qText, state, held, qIn, qOut, t);
  off();
  agent.close();
}

// The app a package test builds: what a Foundry module (or any page) does
// with the installed package. Imports by the package's own names; the test
// resolves them with an import map, relative paths, or Vite.
// Results land in `window.consumer` for the test to read.
import { ready, AgentManager, EventTypes } from 'frinny-agent';
import * as eventTypesEntry from 'frinny-agent/event-types';

async function main() {
  const params = new URLSearchParams(location.search);
  const wasmUrl = params.get('wasm') ?? undefined;
  // Any number of calls share one load.
  await Promise.all([ready(wasmUrl), ready(wasmUrl)]);
  await ready();

  const agent = new AgentManager({ url: params.get('server'), query: { userId: 'consumer-1' }, timeout: 10_000 });
  const typing = [];
  let typingDone;
  const stoppedTyping = new Promise((resolve) => (typingDone = resolve));
  const off = agent.subscribe(EventTypes.TYPING_STATUS, ({ isTyping }) => {
    typing.push(isTyping);
    if (!isTyping) typingDone();
  });
  await agent.connect();
  const reply = await agent.request(EventTypes.QUERY, { content: 'What does Shield Block do?' });
  // The server says it stopped typing after it sent the reply.
  await Promise.race([stoppedTyping, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  const subscribersBefore = agent.metrics().subscribers;
  off();
  const result = {
    state: agent.state,
    replyContent: reply.content,
    typing,
    subscribersBefore,
    subscribersAfter: agent.metrics().subscribers,
    typingStatusConstant: EventTypes.TYPING_STATUS,
    stateSubscribeConstant: EventTypes.STATE_SUBSCRIBE,
    entryMatches: eventTypesEntry.EventTypes === EventTypes && eventTypesEntry.default === EventTypes,
    queryAnsweredBy: eventTypesEntry.ResponseTo.query,
    frozen: Object.isFrozen(EventTypes),
  };
  agent.close();
  result.heldAfterClose = agent.heldCallbacks;
  return result;
}

window.consumer = main().then(
  (result) => ({ ok: true, ...result }),
  (error) => ({ ok: false, error: `${error?.code ?? ''} ${error?.message ?? error}` }),
);

// Tests of `frinny-agent/components` in a browser page (two elements and
// the chat window), driven by `frinny-agent/testing`'s server instead of a
// backend: no wasm, no socket. index.html runs them and shows the outcome.
import { createTestAgent } from 'frinny-agent/testing';
import { defineComponents, FrinnyChat } from 'frinny-agent/components';

defineComponents();

/** Fails with `message` unless `condition` holds. */
function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** A `tag` element in the page, listening to a connected test agent. */
async function mount(tag) {
  const { agent, server } = createTestAgent();
  await agent.connect();
  const element = document.createElement(tag);
  document.body.append(element);
  element.agent = agent;
  return {
    agent,
    server,
    element,
    done() {
      element.remove();
      agent.close();
    },
  };
}

export const tests = {
  async 'the typing indicator shows while Frinny types and hides on the answer'() {
    const { server, element, done } = await mount('frinny-typing-indicator');
    check(element.hidden, 'hidden at first');

    server.emit('typing_status', { isTyping: true });
    element.flush(); // apply now instead of at the next animation frame
    check(!element.hidden, 'shown while Frinny types');
    check(element.shadowRoot.textContent.includes('Frinny is typing'), 'says so');

    server.emit('query_response', { content: 'Raise your shield first.' });
    element.flush();
    check(element.hidden, 'hidden once the answer came');
    done();
  },

  async 'the notification panel lists notifications newest first, as text'() {
    const { server, element, done } = await mount('frinny-notification-panel');
    server.emit('notification', { message: 'Roll initiative!', level: 'warning' });
    server.emit('notification', { message: '<img src=x onerror=alert(1)>' });
    element.flush();

    const items = [...element.shadowRoot.querySelectorAll('li')];
    check(items.length === 2, `two items, got ${items.length}`);
    check(items[0].querySelector('.message').textContent === '<img src=x onerror=alert(1)>', 'the newest first, shown as text');
    check(!element.shadowRoot.querySelector('img'), 'network text is never markup');
    check(items[1].dataset.level === 'warning', 'the level is kept');
    done();
  },

  async 'a removed element leaves no subscription behind'() {
    const { agent, element, done } = await mount('frinny-notification-panel');
    check(agent.subscriberCount > 0, 'subscribed while in the page');
    element.remove();
    check(agent.subscriberCount === 0, `released when removed, ${agent.subscriberCount} left`);
    done();
  },

  async 'the chat window asks through the agent and keeps the conversation in the synced scope'() {
    const { agent, server } = createTestAgent({ query: { userId: 'u1' } });
    server.handle('query', ({ content }) => ({ content: `You asked: ${content}` }));
    await agent.connect();
    const element = document.createElement('div');
    document.body.append(element);
    const chat = new FrinnyChat({ agent, element, userId: 'u1', storage: null });
    await chat.ready;

    const answer = await chat.send('Can I Shield Block twice?');
    check(answer.content === 'You asked: Can I Shield Block twice?', `the answer: ${answer.content}`);
    check(chat.synced, 'the history is in the synced scope user:u1');
    const history = Object.values(server.state('user:u1').doc.chat).map((m) => m.role);
    check(history.join() === 'user,assistant', `the server holds the exchange: ${history}`);
    chat.close();
    check(agent.subscriberCount === 0, 'close() released what the window subscribed');
    element.remove();
    agent.close();
  },
};

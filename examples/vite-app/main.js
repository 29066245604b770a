// A bundled app: the client and three of the UI elements, imported by the
// package's own names and bundled by `vite build` (the .wasm becomes an
// asset next to the bundle). Run it:
//   cargo xtask pack && npm install && npm run build && npx vite preview
// with the reference server up (`cargo xtask run`); `?server=<url>` points
// it at another backend.
import { ready, AgentManager, EventTypes } from 'frinny-agent';
import { defineComponents } from 'frinny-agent/components';

defineComponents();
await ready();

const server = new URLSearchParams(location.search).get('server') ?? 'http://127.0.0.1:5001';
// `--dev` accepts the legacy userId query; a production server wants `auth: { token }`.
const agent = new AgentManager({ url: server, query: { userId: 'vite-app' }, timeout: 15_000 });

// The elements subscribe while they are in the document, and release on removal.
for (const element of document.querySelectorAll('frinny-connection-status, frinny-typing-indicator, frinny-notification-panel')) {
  element.agent = agent;
}

await agent.connect();
const reply = await agent.request(EventTypes.QUERY, { content: 'What does Shield Block do?' });
document.getElementById('answer').textContent = reply.content;

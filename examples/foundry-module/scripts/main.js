// A Foundry module snippet on frinny-agent/foundry. Put the package beside
// it, as Foundry serves a module's files as they are:
//
//   frinny-snippet/module.json
//   frinny-snippet/scripts/main.js          (this file)
//   frinny-snippet/lib/frinny-agent/        (package.json, js/, pkg/ of the installed package)
//
// What it does: a world setting for the backend's URL; on `ready`, a
// connection (the drop-in AgentManager on the Socket.IO wire); the server's
// notifications as Foundry notifications; `/frinny <question>` in the chat
// answered in a message whispered to the asker. Other modules get it as
// `game.modules.get('frinny-snippet').api` and through the
// `frinnySnippet.ready` hook.

const MODULE_ID = 'frinny-snippet';

// Imported dynamically: the drop-in loads its WebAssembly with a top-level
// await, and Foundry fires `init` without waiting for a module script's
// pending top-level await. So the hooks below are registered at once, and
// `ready` waits for the import.
const frinnyAgent = import('../lib/frinny-agent/js/foundry/index.js');
frinnyAgent.catch((err) => console.error(`${MODULE_ID} | could not load frinny-agent`, err));

Hooks.once('init', () => {
  game.settings.register(MODULE_ID, 'backendUrl', {
    name: 'Frinny backend URL',
    hint: 'The Socket.IO backend, e.g. https://frinny.example (https when Foundry is served over https).',
    scope: 'world',
    config: true,
    type: String,
    default: 'http://127.0.0.1:5001',
  });
});

Hooks.once('ready', async () => {
  const { AgentManager } = await frinnyAgent;
  // Options override the frinny.* settings the drop-in would read; the user id is game.user.id.
  const manager = new AgentManager({
    protocol: 'socket.io',
    backendUrl: game.settings.get(MODULE_ID, 'backendUrl'),
  });
  manager.onError((err) => console.warn(`${MODULE_ID} |`, err.code, err.message));
  manager.subscribe('notification', (n) => ui.notifications.info(`Frinny: ${n.message}`));

  /** Frinny's answer to `question`, whispered to this user. */
  async function ask(question) {
    const reply = await manager.handlePrivateQuery(game.user.id, question);
    await ChatMessage.create({
      content: `<p>${escapeHtml(reply.content ?? '')}</p>`,
      speaker: { alias: 'Frinny' },
      whisper: [game.user.id],
    });
    return reply;
  }

  const api = { manager, ask };
  const module = game.modules.get(MODULE_ID);
  if (module) module.api = api;

  try {
    await manager.connect();
  } catch (err) {
    ui.notifications.warn(`Frinny is not reachable (${err.code}); it keeps trying.`);
  }
  Hooks.callAll('frinnySnippet.ready', api);
});

// `/frinny <question>`: answered by Frinny instead of posted.
Hooks.on('chatMessage', (_chatLog, message) => {
  const match = /^\/frinny\s+(.+)/s.exec(message);
  if (!match) return true;
  const api = game.modules.get(MODULE_ID)?.api;
  if (!api) {
    ui.notifications.warn('Frinny is not ready yet.');
    return false;
  }
  api.ask(match[1]).catch((err) => ui.notifications.warn(`Frinny could not answer: ${err.message}`));
  return false;
});

/** Foundry renders a chat message's content as HTML: the backend's text is escaped. */
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

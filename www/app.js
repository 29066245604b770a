// Frinny demo chat: drives the wasm AgentManager (pkg/frinny_agent.js)
// against the reference server in --dev mode. Only the JS surface documented
// in DESIGN.md is used: new AgentManager({url, auth}), connect(), subscribe(),
// request(), broadcastEvent(), state, onStateChange(), disconnect().

const $ = (id) => document.getElementById(id);
const ui = {
  state: $('state'), messages: $('messages'), typing: $('typing'),
  connectForm: $('connect-form'), connect: $('connect'), disconnect: $('disconnect'),
  queryForm: $('query-form'), query: $('query'), send: $('send'),
  notifications: $('notifications'), broadcastForm: $('broadcast-form'), broadcastText: $('broadcast-text'),
};

let agent = null;
let identity = null;
let offs = [];
const history = [];   // conversation_history sent with each query
let pending = 0;      // queries awaiting a reply

function addMessage(kind, text) {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = text;          // never innerHTML: server text is untrusted
  ui.messages.append(li);
  ui.messages.scrollTop = ui.messages.scrollHeight;
  return li;
}

function addNotification(payload, origin) {
  const li = document.createElement('li');
  const level = payload.level || 'info';
  li.className = `level-${level}`;
  const title = payload.title ? `${payload.title}: ` : '';
  const from = payload.from ? ` (from ${payload.from})` : '';
  li.textContent = `[${origin}] ${title}${payload.message ?? JSON.stringify(payload)}${from}`;
  ui.notifications.prepend(li);
}

function showState(state) {
  ui.state.textContent = state;
  ui.state.className = `state state-${state}`;
  const connected = state === 'connected';
  ui.query.disabled = !connected;
  ui.send.disabled = !connected;
  ui.connect.disabled = connected || state === 'connecting' || state === 'reconnecting';
  ui.disconnect.disabled = !agent || state === 'disconnected' || state === 'closed';
  ui.broadcastForm.hidden = !(connected && identity && identity.role === 'gm');
}

function setTyping(on) {
  ui.typing.hidden = !on;
}

async function loadClient() {
  try {
    const mod = await import('/pkg/frinny_agent.js');
    await mod.default();            // init(): fetches and instantiates the .wasm
    return mod.AgentManager;
  } catch (err) {
    addMessage('error', 'The wasm client is not built (pkg/frinny_agent.js is missing). ' +
      'Run `cargo xtask build`, then reload. (' + err.message + ')');
    throw err;
  }
}

async function fetchToken(userId, role, world) {
  const q = new URLSearchParams({ userId, role, world });
  const res = await fetch(`/dev/token?${q}`);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `token request failed (${res.status})`);
  return body;
}

function subscribeAll() {
  const on = (event, cb) => offs.push(agent.subscribe(event, cb));
  on('connection_established', (p) => addMessage('system', `Connected as ${p.userId} (${p.role ?? 'player'}) in world ${p.world ?? '?'}.`));
  on('typing_status', (p) => setTyping(Boolean(p && p.isTyping)));
  on('notification', (p) => addNotification(p, 'notification'));
  on('character_update', (p) => addNotification({ message: `character ${p.actorId} updated: ${JSON.stringify(p.updates)}` }, 'broadcast'));
  on('state:patch', (p) => addNotification({ message: `state ${p.scope} → v${p.version}` }, 'state'));
  on('server_shutdown', (p) => addMessage('system', `Server: ${p.reason}`));
  on('error', (p) => addMessage('error', `${p.code ?? 'ERROR'}: ${p.message ?? p.error}`));
}

async function connect(event) {
  event.preventDefault();
  const userId = $('user-id').value.trim();
  const role = $('role').value;
  const world = $('world').value.trim();
  ui.connect.disabled = true;
  try {
    const AgentManager = await loadClient();
    const token = await fetchToken(userId, role, world);
    identity = { userId, role, world };
    agent = new AgentManager({ url: window.location.origin, auth: { token: token.token } });
    if (typeof agent.onStateChange === 'function') {
      agent.onStateChange((state) => showState(state));
    }
    subscribeAll();
    showState('connecting');
    await agent.connect();
    showState(agent.state ?? 'connected');
  } catch (err) {
    addMessage('error', `Could not connect: ${err.code ? err.code + ': ' : ''}${err.message}`);
    showState(agent ? agent.state ?? 'disconnected' : 'disconnected');
  }
}

function disconnect() {
  if (!agent) return;
  offs.forEach((off) => { try { off(); } catch (_) { /* already gone */ } });
  offs = [];
  agent.disconnect();
  showState(agent.state ?? 'disconnected');
  setTyping(false);
}

async function sendQuery(event) {
  event.preventDefault();
  const content = ui.query.value.trim();
  if (!content || !agent) return;
  ui.query.value = '';
  addMessage('user', content);
  pending += 1;
  try {
    const reply = await agent.request('query', {
      content,
      conversation_history: history.slice(-10),
      is_public_chat: false,
      userId: identity ? identity.userId : undefined,
    });
    const text = reply && (reply.content ?? reply.response ?? JSON.stringify(reply));
    addMessage('frinny', text);
    history.push({ role: 'user', content }, { role: 'assistant', content: text });
  } catch (err) {
    addMessage('error', `${err.code ?? 'ERROR'}: ${err.message}`);
  } finally {
    pending -= 1;
    if (pending === 0) setTyping(false);
  }
}

function broadcast(event) {
  event.preventDefault();
  const message = ui.broadcastText.value.trim();
  if (!message || !agent) return;
  ui.broadcastText.value = '';
  agent.broadcastEvent('notification', { message, title: 'GM' });
  addNotification({ message, title: 'GM', from: 'you' }, 'sent');
}

ui.connectForm.addEventListener('submit', connect);
ui.disconnect.addEventListener('click', disconnect);
ui.queryForm.addEventListener('submit', sendQuery);
ui.broadcastForm.addEventListener('submit', broadcast);
showState('disconnected');

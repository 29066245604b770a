// The demo table: the package's own components and FrinnyChat against the
// reference server in --dev mode. The page is served with the package's
// files at /js (the client entry and frinny-agent/components) and the wasm
// build at /pkg, as a Foundry module serves them.
//
// One connection is the player's (the chat window, the connection status,
// the synced encounter); a second one, as the world's GM, plays the part of
// a GM's Foundry client: notifications, broadcasts, combat updates and
// character updates, so every component can be seen at work.

const $ = (id) => document.getElementById(id);

let lib;
/** Loads the client and the components once (a missing build is shown, not thrown). */
async function load() {
  if (lib) return lib;
  try {
    const [client, components] = await Promise.all([import('/js/index.js'), import('/js/components/index.js')]);
    await client.ready();
    components.defineComponents();
    lib = { ...client, ...components };
    return lib;
  } catch (err) {
    showPageError(`The wasm client is not built (${err.message}). Run \`cargo xtask build\`, then reload.`);
    throw err;
  }
}

function showPageError(text) {
  const p = $('page-error');
  p.textContent = text;
  p.hidden = false;
}

/** Valeros' sheet: what an accepted character_update changes. */
const sheet = {
  a_valeros: { name: 'Valeros', skills: { acrobatics: 'trained', athletics: 'expert', intimidation: 'trained', medicine: 'untrained' } },
};
const ACTORS = { a_valeros: 'Valeros', a_kyra: 'Kyra', a_goblin1: 'Goblin Warrior', a_goblin2: 'Goblin Commando' };

function renderSheet(changed = []) {
  const dl = $('sheet');
  const frag = document.createDocumentFragment();
  for (const [skill, rank] of Object.entries(sheet.a_valeros.skills)) {
    const dt = document.createElement('dt');
    dt.textContent = skill[0].toUpperCase() + skill.slice(1);
    const dd = document.createElement('dd');
    dd.textContent = rank;
    dd.dataset.rank = rank;
    dd.dataset.skill = skill;
    if (changed.includes(skill)) dd.classList.add('changed');
    frag.append(dt, dd);
  }
  dl.replaceChildren(frag);
}

/** The encounter the GM runs: round, turn, combatants with hit points. */
const encounter = {
  combatId: 'demo',
  round: 0,
  turn: 0,
  combatants: [
    { name: 'Valeros', actorId: 'a_valeros', hp: { value: 38, max: 38 }, conditions: [] },
    { name: 'Goblin Warrior', actorId: 'a_goblin1', hp: { value: 15, max: 15 }, conditions: [] },
    { name: 'Kyra', actorId: 'a_kyra', hp: { value: 27, max: 27 }, conditions: [] },
    { name: 'Goblin Commando', actorId: 'a_goblin2', hp: { value: 18, max: 18 }, conditions: [] },
  ],
  log: [],
  seed: 7,
};

function roll(n) {
  encounter.seed = (encounter.seed * 1103515245 + 12345) % 2147483648;
  return 1 + (encounter.seed % n);
}

/** One turn of the encounter: who acts, and what changed. */
function advance(start) {
  const e = encounter;
  const changes = [];
  if (start) {
    e.round = 1;
    e.turn = 0;
    e.log = [];
    for (const c of e.combatants) {
      c.hp.value = c.hp.max;
      c.conditions = [];
      changes.push(snapshot(c));
    }
  } else {
    const actor = e.combatants[e.turn];
    const foes = e.combatants.filter((c) => c.actorId.startsWith('a_goblin') !== actor.actorId.startsWith('a_goblin') && c.hp.value > 0);
    const target = foes[roll(foes.length) - 1];
    if (target) {
      target.hp.value = Math.max(0, target.hp.value - roll(8) - 2);
      const conditions = ['frightened 1', 'off-guard', 'prone', 'clumsy 1'];
      target.conditions = roll(3) === 1 ? [conditions[roll(conditions.length) - 1]] : [];
      if (target.hp.value === 0) target.conditions = ['unconscious'];
      changes.push(snapshot(target));
    }
    e.turn += 1;
    if (e.turn >= e.combatants.length) {
      e.turn = 0;
      e.round += 1;
    }
  }
  for (const c of changes) e.log.push({ ...c, round: e.round, turn: e.turn });
  e.log = e.log.slice(-20);
  const acting = e.combatants[e.turn];
  return {
    combatId: e.combatId,
    round: e.round,
    turn: e.turn,
    combatant: { name: acting.name, actorId: acting.actorId },
    changes,
  };
}

function snapshot(c) {
  const s = { name: c.name, actorId: c.actorId, hp: { ...c.hp } };
  if (c.conditions.length) s.conditions = [...c.conditions];
  return s;
}

// ---------------------------------------------------------------------------

const session = { agent: null, gm: null, chat: null, identity: null };

async function fetchToken(userId, role, world) {
  const q = new URLSearchParams({ userId, role, world });
  const res = await fetch(`/dev/token?${q}`);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `token request failed (${res.status})`);
  return body.token;
}

function setConnected(on) {
  $('connect').disabled = on;
  $('disconnect').disabled = !on;
  for (const id of ['user-id', 'role', 'world']) $(id).disabled = on;
  for (const id of ['notify', 'broadcast', 'combat-start', 'combat-next', 'suggest-update']) $(id).disabled = !on;
  $('combat-next').disabled = !on || encounter.round === 0;
}

async function connect(event) {
  event.preventDefault();
  const { AgentManager, FrinnyChat } = await load();
  const userId = $('user-id').value.trim();
  const role = $('role').value;
  const world = $('world').value.trim();
  $('connect').disabled = true;
  try {
    // auth as a function: every (re)connection attempt gets a fresh token.
    const agent = new AgentManager({ url: location.origin, auth: async () => ({ token: await fetchToken(userId, role, world) }) });
    const gm = new AgentManager({ url: location.origin, auth: async () => ({ token: await fetchToken(`${userId}-gm`, 'gm', world) }) });
    session.agent = agent;
    session.gm = gm;
    session.identity = { userId, role, world };
    $('status').agent = agent;
    $('encounter').agent = agent;
    session.chat = new FrinnyChat({
      agent,
      element: $('chat'),
      userId,
      describeActor: (id) => ACTORS[id],
      applyCharacterUpdate: async ({ actorId, updates }) => {
        const actor = sheet[actorId];
        if (!actor) throw new Error(`no actor ${actorId} on this table`);
        const skills = updates && typeof updates.skills === 'object' ? updates.skills : {};
        Object.assign(actor.skills, skills);
        renderSheet(Object.keys(skills));
      },
    });
    $('who').textContent = `${userId} · ${role === 'gm' ? 'GM' : 'player'} · world ${world}`;
    await Promise.all([agent.connect(), gm.connect()]);
    setConnected(true);
    session.chat.focus();
  } catch (err) {
    showPageError(`Could not connect: ${err.code ? `${err.code}: ` : ''}${err.message}`);
    disconnect();
  }
}

function disconnect() {
  session.chat?.close();
  $('status').agent = null;
  $('encounter').agent = null;
  session.agent?.close();
  session.gm?.close();
  session.agent = session.gm = session.chat = null;
  $('who').textContent = 'Not connected';
  setConnected(false);
}

// ----- the GM's tools -------------------------------------------------------

/** The GM's broadcast; a refusal is shown in the header unless `quiet` (the caller shows it). */
async function gmSend(event, payload, { quiet = false } = {}) {
  try {
    return await session.gm.broadcastEvent(event, payload);
  } catch (err) {
    if (!quiet) $('status').showError(err);
    throw err;
  }
}

function sendNotification(event) {
  event.preventDefault();
  const message = $('notify-message').value.trim();
  if (!message || !session.gm) return;
  gmSend('notification', { title: $('notify-title').value.trim() || undefined, message, level: $('notify-level').value }).catch(() => {});
}

const EXAMPLES = {
  notification: { title: 'Broadcast', message: 'The bridge creaks under your weight…', level: 'info' },
  character_update: { actorId: 'a_valeros', updates: { skills: { intimidation: 'expert' } }, message_id: 'demo-1' },
  combat_update: { combatId: 'demo', round: 1, turn: 0, combatant: { name: 'Valeros', actorId: 'a_valeros' }, changes: [{ name: 'Goblin Warrior', hp: { value: 9, max: 15 }, conditions: ['off-guard'] }] },
};

function fillExample() {
  $('broadcast-payload').value = JSON.stringify(EXAMPLES[$('broadcast-event').value], null, 2);
}

async function broadcast(event) {
  event.preventDefault();
  if (!session.gm) return;
  const result = $('broadcast-result');
  let payload;
  try {
    payload = JSON.parse($('broadcast-payload').value);
  } catch (err) {
    result.textContent = `Not JSON: ${err.message}`;
    return;
  }
  try {
    const ack = await gmSend($('broadcast-event').value, payload, { quiet: true });
    result.textContent = `Delivered to ${ack?.recipients ?? 0}`;
  } catch (err) {
    result.textContent = `${err.serverCode ?? err.code}: ${err.message}`;
  }
}

/** A turn passes: the GM relays it (combat_update) and keeps the synced scope (replaceState). */
async function combatStep(start) {
  if (!session.gm) return;
  const update = advance(start);
  $('combat-next').disabled = false;
  const gm = session.gm;
  try {
    await gmSend('combat_update', update);
    // The whole document, handed over as it is: replaceState works out the patch.
    await gm.syncState('combat:demo');
    const { combatId, round, turn, combatant, log } = { ...update, log: encounter.log };
    await gm.replaceState('combat:demo', { combatId, round, turn, combatant, log });
  } catch (err) {
    $('status').showError(err);
  }
  // The player's character acts: the module tells Frinny (combat_turn), and
  // the server answers with advice and a suggestion for this turn.
  if (update.combatant.actorId === 'a_valeros' && session.agent) {
    session.agent
      .request('combat_turn', { actorId: 'a_valeros', combatant: update.combatant, round: update.round })
      .then((reply) => session.chat?.addSystemMessage(reply.content), (err) => $('status').showError(err));
  }
}

function suggestUpdate() {
  const ranks = ['untrained', 'trained', 'expert', 'master', 'legendary'];
  const skills = sheet.a_valeros.skills;
  const skill = Object.keys(skills).find((s) => skills[s] !== 'legendary') ?? 'athletics';
  const next = ranks[Math.min(ranks.indexOf(skills[skill]) + 1, ranks.length - 1)];
  gmSend('character_update', { actorId: 'a_valeros', updates: { skills: { [skill]: next } }, message_id: `demo-${Date.now()}` }).catch(() => {});
}

$('connect-form').addEventListener('submit', connect);
$('disconnect').addEventListener('click', disconnect);
$('notify-form').addEventListener('submit', sendNotification);
$('broadcast-form').addEventListener('submit', broadcast);
$('broadcast-event').addEventListener('change', fillExample);
$('combat-start').addEventListener('click', () => combatStep(true));
$('combat-next').addEventListener('click', () => combatStep(false));
$('suggest-update').addEventListener('click', suggestUpdate);
fillExample();
renderSheet();
setConnected(false);
load().catch(() => {});

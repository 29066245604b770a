// Frinny for Foundry VTT v12/v13: settings, the game hooks, and the
// frinny-agent drop-in that talks to the backend.
//
// The drop-in is imported from the package copied next to this module
// (lib/frinny-agent/, served as plain files). It is imported dynamically:
// the package entry loads its WebAssembly with a top-level await, and
// Foundry fires `init` without waiting for module scripts' pending
// top-level awaits, so the hooks below are registered first, synchronously,
// and `ready` waits for the import.
//
// What reaches the backend:
// - `createActor` of a `character` by this user -> notifyCharacterCreation;
// - `updateActor` raising the level of this user's character -> notifyLevelUp;
// - `combatStart` (and `updateCombat` to round 1 turn 0, which every client
//   sees) when this user's character is a combatant -> notifyCombatStart;
// - `combatTurn` (and `updateCombat` with a turn change) when the new turn
//   is this user's character's -> notifyCombatTurn. The GM is treated as any
//   user: notified for the turns of the character assigned to them, if any,
//   not for every NPC. Each start/turn is sent once per client, whichever of
//   the two hooks comes first.
// - `!frinny <question>` in the chat log -> handlePublicQuery, the answer
//   posted as a public chat message, as before.
//
// Replies to game events are shown as chat messages whispered to the user
// (speaker "Frinny"); a failure is a `ui.notifications.warn`. The private
// chat window is FrinnyChat (frinny-agent/components) in a Foundry window
// (./chat-window.js), opened from the scene controls or
// `game.frinny.toggleWindow()`. A `character_update` from the server is a
// suggestion in that window, applied to the sheet only when the player
// accepts it (the old module applied it silently). A GM who turns on the
// client setting `frinny.devtools` gets <frinny-devtools> (frinny-agent/devtools)
// in a window (./devtools-window.js).

import { COMBAT_SCOPE, chatWindowClass, toggleWindow } from './chat-window.js';
import { devtoolsWindowClass, registerDevtoolsSetting, showDevtools } from './devtools-window.js';

const MODULE_ID = 'frinny';
const agentModule = import('../lib/frinny-agent/js/foundry/index.js');
const componentsModule = import('../lib/frinny-agent/js/components/index.js');
// Keep an import failure visible but do not leave an unhandled rejection.
agentModule.catch((err) => console.error('Frinny | could not load frinny-agent', err));
componentsModule.catch((err) => console.error('Frinny | could not load the Frinny components', err));

/** Sent start/turn keys per combat, so a start or turn is notified once. */
const seenCombatKeys = new Set();

const t = (key, data) => (data ? game.i18n?.format?.(key, data) : game.i18n?.localize?.(key)) ?? key;

function manager() {
  return game.frinny?.agentManager ?? null;
}

function reportError(context, err) {
  console.warn(`Frinny | ${context}`, err);
  ui.notifications?.warn?.(t('frinny.notifications.error', { message: err?.message ?? String(err) }));
}

/**
 * A reply as chat-message HTML: the backend's text is escaped (Foundry
 * renders a message's content as HTML) and its line breaks kept.
 * @param {string} text
 */
function replyHtml(text) {
  const escaped = String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
  return `<div class="frinny-reply">${escaped.replace(/\r?\n/g, '<br>')}</div>`;
}

/**
 * Shows a reply to a game event: a chat message whispered to this user, or
 * a notification when a chat message cannot be created.
 * @param {{content?: string, messageId?: string}} response
 */
async function showReply(response) {
  const content = response?.content;
  if (!content) return;
  try {
    await ChatMessage.create({
      content: replyHtml(content),
      speaker: { alias: t('frinny.chat.speaker') },
      whisper: [game.user.id],
      flags: { [MODULE_ID]: { isFrinnyMessage: true, messageType: 'success', messageId: response.messageId ?? null } },
    });
  } catch (err) {
    console.warn('Frinny | could not post the reply in the chat log', err);
    ui.notifications?.info?.(t('frinny.notifications.reply', { content }));
  }
}

/** Runs a notify* call and shows its reply; never throws into a hook. */
function send(context, call) {
  const m = manager();
  if (!m) return Promise.resolve();
  return Promise.resolve()
    .then(() => call(m))
    .then(showReply, (err) => reportError(context, err));
}

// ---------- data gathering (small and defensive: a missing field is never a throw) ----------

function itemSummary(item) {
  return { id: item?.id ?? null, name: item?.name ?? null, type: item?.type ?? null };
}

function itemsOf(actor, types) {
  const items = actor?.items?.contents ?? [...(actor?.items ?? [])];
  return Object.fromEntries(types.map((type) => [type, items.filter((i) => i?.type === type).map(itemSummary)]));
}

function actorSummary(actor) {
  if (!actor) return null;
  const system = actor.system ?? {};
  return {
    actorId: actor.id ?? null,
    name: actor.name ?? null,
    level: system.details?.level?.value ?? null,
    hp: system.attributes?.hp ?? null,
    ac: system.attributes?.ac?.value ?? null,
  };
}

function characterCreationData(actor) {
  return {
    actorId: actor?.id ?? null,
    name: actor?.name ?? null,
    system_id: game.system?.id ?? null,
    details: actor?.system?.details ?? null,
    items: itemsOf(actor, ['class', 'ancestry', 'background']),
  };
}

function levelUpData(actor, previousLevel, newLevel) {
  const items = actor?.items?.contents ?? [...(actor?.items ?? [])];
  const feats = items.filter((i) => i?.type === 'feat');
  const feat = (f) => ({
    id: f.id ?? null,
    name: f.name ?? null,
    level: f.system?.level?.value ?? null,
    type: f.system?.category ?? null,
    traits: f.system?.traits?.value ?? [],
  });
  const skills = {};
  for (const [key, skill] of Object.entries(actor?.system?.skills ?? {})) {
    if (skill?.rank) skills[key] = { name: key, rank: skill.rank };
  }
  const cls = items.find((i) => i?.type === 'class');
  return {
    actorId: actor?.id ?? null,
    system_id: game.system?.id ?? null,
    previousLevel,
    newLevel,
    character: {
      name: actor?.name ?? null,
      class: cls ? itemSummary(cls) : null,
      skills,
      feats: feats.map(feat),
      newFeats: feats.filter((f) => f.system?.level?.taken === newLevel).map(feat),
      attributes: { hp: actor?.system?.attributes?.hp ?? null, ac: actor?.system?.attributes?.ac ?? null },
      details: {
        level: actor?.system?.details?.level?.value ?? null,
        keyability: actor?.system?.details?.keyability?.value ?? null,
      },
    },
  };
}

function combatantSummary(c) {
  return {
    id: c?.id ?? null,
    name: c?.name ?? null,
    actorId: c?.actor?.id ?? c?.actorId ?? null,
    initiative: c?.initiative ?? null,
    isPlayer: Boolean(c?.actor?.hasPlayerOwner ?? c?.hasPlayerOwner),
    defeated: Boolean(c?.defeated ?? c?.isDefeated),
  };
}

function combatData(combat, character, round, turn) {
  const turns = Array.isArray(combat?.turns) ? combat.turns : [];
  const others = turns.filter((c) => (c?.actor?.id ?? c?.actorId) !== character?.id);
  const hp = (c) => c?.actor?.system?.attributes?.hp ?? null;
  return {
    combatId: combat?.id ?? null,
    system_id: game.system?.id ?? null,
    round: round ?? combat?.round ?? null,
    turn: turn ?? combat?.turn ?? null,
    active_character: actorSummary(character),
    combatants: turns.map(combatantSummary),
    allies: others.filter((c) => c?.actor?.hasPlayerOwner).map((c) => ({ id: c.id ?? null, name: c.name ?? null, hp: hp(c) })),
    enemies: others.filter((c) => !c?.actor?.hasPlayerOwner).map((c) => ({ id: c.id ?? null, name: c.name ?? null, hp: hp(c) })),
  };
}

function isMyCharacter(actor) {
  const mine = game.user?.character;
  return Boolean(actor && mine && actor.id === mine.id);
}

function myCombatant(combat) {
  const mine = game.user?.character;
  if (!mine || !Array.isArray(combat?.turns)) return null;
  return combat.turns.find((c) => (c?.actor?.id ?? c?.actorId) === mine.id) ?? null;
}

function onCombatStart(combat) {
  const key = `${combat?.id}:start`;
  if (seenCombatKeys.has(key)) return;
  if (!myCombatant(combat)) return;
  seenCombatKeys.add(key);
  seenCombatKeys.add(`${combat?.id}:1:0`);
  send('combat start', (m) => m.notifyCombatStart(combatData(combat, game.user.character, 1, 0)));
}

function onCombatTurn(combat, round, turn) {
  if (round == null || turn == null) return;
  const key = `${combat?.id}:${round}:${turn}`;
  if (seenCombatKeys.has(key)) return;
  const current = Array.isArray(combat?.turns) ? combat.turns[turn] : null;
  if (!current || !isMyCharacter(current.actor ?? game.actors?.get?.(current.actorId))) return;
  seenCombatKeys.add(key);
  send('combat turn', (m) => m.notifyCombatTurn(combatData(combat, game.user.character, round, turn)));
}

// ---------- settings ----------

Hooks.once('init', () => {
  const reconnect = (apply) => () => {
    const m = manager();
    if (!m) return;
    apply(m);
    m.connect().catch((err) => console.warn('Frinny | reconnection failed', err));
  };
  game.settings.register(MODULE_ID, 'wsUrl', {
    name: 'frinny.settings.wsUrl.name',
    hint: 'frinny.settings.wsUrl.hint',
    scope: 'world',
    config: true,
    type: String,
    default: 'wss://frinny.net/ws',
    onChange: (value) => reconnect((m) => { m.wsUrl = value; })(),
  });
  game.settings.register(MODULE_ID, 'backendUrl', {
    name: 'frinny.settings.backendUrl.name',
    hint: 'frinny.settings.backendUrl.hint',
    scope: 'world',
    config: true,
    type: String,
    default: 'https://frinny.net',
    onChange: (value) => reconnect((m) => { m.backendUrl = value; })(),
  });
  game.settings.register(MODULE_ID, 'protocol', {
    name: 'frinny.settings.protocol.name',
    hint: 'frinny.settings.protocol.hint',
    scope: 'world',
    config: true,
    type: String,
    choices: { json: 'frinny.settings.protocol.json', 'socket.io': 'frinny.settings.protocol.socketio' },
    default: 'json',
    onChange: (value) => reconnect((m) => { m.protocol = value; })(),
  });
  registerDevtoolsSetting((on) => showDevtools(game.frinny?.devtools, on));
});

Hooks.once('ready', async () => {
  let AgentManager;
  let components;
  try {
    ({ AgentManager } = await agentModule);
    components = await componentsModule;
  } catch (err) {
    reportError('loading frinny-agent', err);
    return;
  }
  // The components' strings (FRINNY.*) come from lib/frinny-agent/js/components/en.json,
  // listed in module.json's languages, through Foundry's localisation.
  components.setTranslator((key, data) => (data ? game.i18n.format(key, data) : game.i18n.localize(key)));
  components.defineComponents();
  // A world script or another module may add client options before the
  // connection is made, e.g. the token source a production backend needs:
  //   Hooks.on('frinny.agentOptions', (options) => { options.auth = async () => ({ token: await myToken() }); });
  const options = { characterUpdates: 'suggest' };
  Hooks.callAll('frinny.agentOptions', options);
  const agentManager = new AgentManager(options);
  const ChatWindow = chatWindowClass({ FrinnyChat: components.FrinnyChat, manager: agentManager });
  const chat = new ChatWindow();
  // A character_update while the window is closed opens it with the suggestion
  // (while it is open, the window's own subscription shows it).
  agentManager.subscribe('character_update', async (update) => {
    if (chat.rendered) return;
    await toggleWindow(chat);
    chat.chat?.suggestCharacterUpdate(update);
  });
  const DevtoolsWindow = devtoolsWindowClass({ manager: agentManager });
  game.frinny = {
    agentManager,
    chat,
    /** The devtools window (GM only; the `frinny.devtools` setting opens it). */
    devtools: game.user?.isGM ? new DevtoolsWindow() : null,
    /** Opens the chat window if it is closed, closes it if it is open. */
    toggleWindow: () => toggleWindow(chat),
    showReply,
    /**
     * A private question, kept in the user's `frinny.messages` flag (the
     * history the next question carries).
     * @param {string} content
     */
    async ask(content) {
      const response = await agentManager.handlePrivateQuery(game.user.id, content);
      const stored = game.user.getFlag(MODULE_ID, 'messages') ?? [];
      const now = Date.now();
      await game.user.setFlag(MODULE_ID, 'messages', [
        ...(Array.isArray(stored) ? stored : []),
        { type: 'user', content, timestamp: now },
        { type: 'assistant', content: response?.content ?? '', messageId: response?.messageId ?? null, timestamp: now },
      ]);
      return response;
    },
  };
  agentManager.connect().catch((err) => {
    console.warn('Frinny | connection failed', err);
    ui.notifications?.warn?.(t('frinny.notifications.connectionFailed', { message: err?.message ?? String(err) }));
  });
  if (game.user?.getFlag?.(MODULE_ID, 'windowVisible')) chat.render(true);
  if (game.settings.get(MODULE_ID, 'devtools')) {
    showDevtools(game.frinny.devtools, true).catch((err) => console.error('Frinny | could not open the devtools', err));
  }
});

// A button in the scene controls opens and closes the chat window. v12
// passes an array of control groups, v13 a record of them by name.
Hooks.on('getSceneControlButtons', (controls) => {
  const title = t('frinny.controls.chat');
  const onClick = () => game.frinny?.toggleWindow();
  if (Array.isArray(controls)) {
    controls.push({
      name: MODULE_ID,
      title,
      icon: 'fa-solid fa-guitar',
      layer: 'controls',
      tools: [{ name: 'chat', title, icon: 'fa-solid fa-comments', button: true, onClick }],
    });
  } else if (controls && typeof controls === 'object') {
    controls[MODULE_ID] = {
      name: MODULE_ID,
      title,
      icon: 'fa-solid fa-guitar',
      order: Object.keys(controls).length,
      visible: true,
      activeTool: 'chat',
      tools: { chat: { name: 'chat', title, icon: 'fa-solid fa-comments', order: 0, button: true, onChange: onClick } },
    };
  }
});

// ---------- game events ----------

Hooks.on('createActor', (actor, _options, userId) => {
  if (userId !== game.user?.id || actor?.type !== 'character') return;
  if (actor.isOwner === false) return;
  send('character creation', (m) => m.notifyCharacterCreation(characterCreationData(actor)));
});

Hooks.on('preUpdateActor', (actor, changes, options) => {
  if (changes?.system?.details?.level?.value !== undefined && options && typeof options === 'object') {
    options.frinnyPreviousLevel = actor?.system?.details?.level?.value;
  }
});

Hooks.on('updateActor', (actor, changes, options) => {
  const newLevel = Number(changes?.system?.details?.level?.value);
  if (!Number.isFinite(newLevel) || actor?.type !== 'character' || !isMyCharacter(actor)) return;
  const previousLevel = Number(options?.frinnyPreviousLevel ?? actor.getFlag?.(MODULE_ID, 'lastLevel') ?? newLevel - 1);
  if (!(newLevel > previousLevel)) return;
  send('level up', async (m) => {
    const reply = m.notifyLevelUp(levelUpData(actor, previousLevel, newLevel));
    actor.setFlag?.(MODULE_ID, 'lastLevel', newLevel)?.catch?.((err) => console.warn('Frinny | lastLevel flag', err));
    return reply;
  });
});

Hooks.on('combatStart', (combat) => onCombatStart(combat));

Hooks.on('combatTurn', (combat, updateData) => onCombatTurn(combat, updateData?.round, updateData?.turn));

Hooks.on('combatRound', (combat, updateData) => onCombatTurn(combat, updateData?.round, updateData?.turn));

Hooks.on('updateCombat', (combat, changed, options) => {
  if (!combat?.started || !changed || !('turn' in changed || 'round' in changed)) return;
  if (combat.round === 1 && combat.turn === 0 && !options?.direction) onCombatStart(combat);
  else onCombatTurn(combat, combat.round, combat.turn);
});

// ---------- the encounter, relayed by the GM ----------
// The GM's client tells every player's window about the encounter: a
// `combat_update` broadcast for the players connected now, and the synced
// scope COMBAT_SCOPE for a player who opens the window later. Only on the
// Socket.IO wire: the JSON gateway has neither broadcasts nor state sync.

/** `combat_update` (the catalogue's payload) for a Foundry combat. */
function combatUpdate(combat) {
  const turns = Array.isArray(combat?.turns) ? combat.turns : [];
  const current = turns[combat?.turn ?? -1] ?? null;
  const who = (c) => ({ name: String(c?.name ?? c?.actor?.name ?? '?'), ...(c?.actor?.id ? { actorId: c.actor.id } : {}) });
  const change = (c) => {
    const hp = c?.actor?.system?.attributes?.hp;
    const statuses = c?.actor?.statuses;
    return {
      ...who(c),
      ...(Number.isFinite(hp?.value) && Number.isFinite(hp?.max) ? { hp: { value: hp.value, max: hp.max } } : {}),
      ...(statuses && typeof statuses[Symbol.iterator] === 'function' ? { conditions: [...statuses].map(String) } : {}),
    };
  };
  return {
    combatId: String(combat?.id ?? ''),
    round: Number(combat?.round ?? 0),
    turn: Number(combat?.turn ?? 0),
    combatant: current ? who(current) : { name: '?' },
    changes: turns.map(change),
  };
}

/** Relays run one after another, so each replaceState diffs from the last. */
let relaying = Promise.resolve();

function relayCombat(combat) {
  const m = manager();
  if (!game.user?.isGM || !m || m.protocol !== 'socket.io' || !combat?.started) return;
  const update = combatUpdate(combat);
  relaying = relaying
    .then(async () => {
      await m.broadcastEvent('combat_update', update);
      await m.syncState(COMBAT_SCOPE);
      await m.replaceState(COMBAT_SCOPE, update);
    })
    .catch((err) => console.warn('Frinny | relaying the encounter', err));
}

Hooks.on('updateCombat', (combat) => relayCombat(combat));
Hooks.on('updateCombatant', (combatant) => relayCombat(combatant?.combat ?? combatant?.parent));

Hooks.on('createChatMessage', (message, _options, userId) => {
  if (userId !== game.user?.id) return;
  const content = typeof message?.content === 'string' ? message.content : '';
  if (!content.toLowerCase().startsWith('!frinny')) return;
  const question = content.slice(7).trim();
  const m = manager();
  if (!question || !m) return;
  m.handlePublicQuery(game.user.id, question)
    .then((response) => ChatMessage.create({
      content: replyHtml(response?.content ?? ''),
      speaker: { alias: t('frinny.chat.speaker') },
      flags: { [MODULE_ID]: { isFrinnyMessage: true, messageType: 'success', messageId: response?.messageId ?? null } },
    }))
    .catch((err) => {
      console.warn('Frinny | public query', err);
      return ChatMessage.create({
        content: t('frinny.error.failedResponse'),
        speaker: { alias: t('frinny.chat.speaker') },
        flags: { [MODULE_ID]: { isFrinnyMessage: true, messageType: 'error' } },
      }).catch(() => ui.notifications?.error?.(t('frinny.error.commandProcessing')));
    });
});

function markFrinnyMessage(message, element) {
  if (!message?.getFlag?.(MODULE_ID, 'isFrinnyMessage')) return;
  const el = element?.[0] ?? element; // v12 passes jQuery, v13 an HTMLElement
  el?.classList?.add('frinny-message');
  if (message.getFlag(MODULE_ID, 'messageType') === 'error') el?.classList?.add('frinny-error');
}

// v13 renders chat messages through renderChatMessageHTML (an HTMLElement)
// and deprecates renderChatMessage (jQuery), which v12 uses.
Hooks.once('init', () => {
  if ((game.release?.generation ?? 12) >= 13) {
    Hooks.on('renderChatMessageHTML', (message, element) => markFrinnyMessage(message, element));
  } else {
    Hooks.on('renderChatMessage', (message, html) => markFrinnyMessage(message, html));
  }
});

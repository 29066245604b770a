// A small, faithful fake of the Foundry VTT client runtime (v12/v13) for
// browser tests: the globals a module's scripts touch, with Foundry's
// behaviour where the Frinny module depends on it. Load it as a plain
// script before any module script:
//
//   <script src="/fake_foundry.js"></script>
//
// Then `FakeFoundry.reset({...})` sets up a world (it runs once with the
// defaults on load). What it mirrors:
// - `game.settings`: register/get/set; `get` THROWS for a key that was never
//   registered (`Error: "frinny.wsUrl" is not a registered game setting`), a
//   registered key without a stored value reads its `default`; `set` stores,
//   calls the setting's `onChange(value)` and resolves with the value.
// - documents with flags stored per scope (`getFlag`/`setFlag`/`unsetFlag`),
//   `Actor#update` with dotted keys that fires `preUpdateActor` (Hooks.call)
//   and `updateActor` (Hooks.callAll) with the same options object, as
//   Foundry does; `Actor.create` fires `createActor`.
// - `game.user` / `game.users` / `game.actors` / `game.messages` /
//   `game.combats` as collections (`get`, `contents`, `filter`, `find`, ...).
// - `Hooks.on/once/off/call/callAll` (call stops at the first `false`).
// - `ui.notifications.info/warn/error` (recorded in `ui.notifications.log`).
// - `ChatMessage.create` (records, fires `createChatMessage`), `Roll#toJSON`.
(function installFakeFoundry(global) {
  'use strict';

  // ---------- Hooks ----------
  const hooks = new Map();
  let nextHookId = 1;
  const Hooks = {
    events: hooks,
    on(name, fn, { once = false } = {}) {
      const id = nextHookId++;
      if (!hooks.has(name)) hooks.set(name, []);
      hooks.get(name).push({ id, fn, once });
      return id;
    },
    once(name, fn) {
      return Hooks.on(name, fn, { once: true });
    },
    off(name, fnOrId) {
      const list = hooks.get(name);
      if (!list) return;
      const i = list.findIndex((h) => h.id === fnOrId || h.fn === fnOrId);
      if (i >= 0) list.splice(i, 1);
    },
    _run(name, args, allowStop) {
      const list = [...(hooks.get(name) ?? [])];
      for (const h of list) {
        if (h.once) Hooks.off(name, h.id);
        let result;
        try {
          result = h.fn(...args);
        } catch (err) {
          console.error(`Error thrown in hooked function for ${name}`, err);
          continue;
        }
        if (result instanceof Promise) {
          result.catch((err) => console.error(`Error in async hooked function for ${name}`, err));
        }
        if (allowStop && result === false) return false;
      }
      return true;
    },
    /** Calls every handler; stops (returns false) when one returns false. */
    call(name, ...args) {
      return Hooks._run(name, args, true);
    },
    /** Calls every handler whatever they return. */
    callAll(name, ...args) {
      return Hooks._run(name, args, false);
    },
  };

  // ---------- helpers ----------
  let nextId = 1;
  const randomID = () => `fake${String(nextId++).padStart(12, '0')}`;
  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const getProperty = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
  function setProperty(obj, path, value) {
    const keys = path.split('.');
    let o = obj;
    for (const k of keys.slice(0, -1)) {
      if (o[k] == null || typeof o[k] !== 'object') o[k] = {};
      o = o[k];
    }
    o[keys.at(-1)] = value;
  }
  /** `{'a.b': 1}` -> `{a: {b: 1}}`, as foundry.utils.expandObject. */
  function expandObject(flat) {
    const out = {};
    for (const [k, v] of Object.entries(flat ?? {})) setProperty(out, k, v && typeof v === 'object' && !Array.isArray(v) ? expandObject(v) : v);
    return out;
  }
  function mergeInto(target, source) {
    for (const [k, v] of Object.entries(source)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object') mergeInto(target[k], v);
      else target[k] = clone(v);
    }
    return target;
  }

  class Collection extends Map {
    get contents() {
      return [...this.values()];
    }
    filter(fn) {
      return this.contents.filter(fn);
    }
    find(fn) {
      return this.contents.find(fn);
    }
    map(fn) {
      return this.contents.map(fn);
    }
    some(fn) {
      return this.contents.some(fn);
    }
    getName(name) {
      return this.find((d) => d.name === name);
    }
    [Symbol.iterator]() {
      return this.values();
    }
  }

  const CONST = {
    DOCUMENT_OWNERSHIP_LEVELS: { INHERIT: -1, NONE: 0, LIMITED: 1, OBSERVER: 2, OWNER: 3 },
    CHAT_MESSAGE_STYLES: { OTHER: 0, OOC: 1, IC: 2, EMOTE: 3 },
    CHAT_MESSAGE_TYPES: { OTHER: 0, OOC: 1, IC: 2, EMOTE: 3, WHISPER: 4, ROLL: 5 },
  };

  // ---------- documents ----------
  class Document {
    constructor(data = {}) {
      this._id = data._id ?? data.id ?? randomID();
      this.flags = clone(data.flags) ?? {};
    }
    get id() {
      return this._id;
    }
    getFlag(scope, key) {
      return getProperty(this.flags?.[scope] ?? {}, key);
    }
    async setFlag(scope, key, value) {
      await this.update({ [`flags.${scope}.${key}`]: value });
      return this;
    }
    async unsetFlag(scope, key) {
      if (this.flags?.[scope]) delete this.flags[scope][key];
      return this;
    }
    /** Applies `changes` (dotted or nested) and fires the document's hooks. */
    async update(changes = {}, options = {}) {
      const diff = expandObject(changes);
      const name = this.constructor.documentName;
      const userId = global.game?.user?.id;
      if (Hooks.call(`preUpdate${name}`, this, diff, options, userId) === false) return undefined;
      this._apply(diff);
      Hooks.callAll(`update${name}`, this, diff, options, userId);
      return this;
    }
    _apply(diff) {
      mergeInto(this, diff);
    }
  }

  class Item extends Document {
    static documentName = 'Item';
    constructor(data = {}) {
      super(data);
      this.name = data.name ?? 'Item';
      this.type = data.type ?? 'equipment';
      this.system = clone(data.system) ?? {};
    }
    toObject() {
      return { _id: this.id, name: this.name, type: this.type, system: clone(this.system), flags: clone(this.flags) };
    }
  }

  class Actor extends Document {
    static documentName = 'Actor';
    constructor(data = {}) {
      super(data);
      this.name = data.name ?? 'Actor';
      this.type = data.type ?? 'character';
      this.system = clone(data.system) ?? {};
      this.ownership = clone(data.ownership) ?? { default: 0 };
      this.items = new Collection((data.items ?? []).map((i) => {
        const item = i instanceof Item ? i : new Item(i);
        return [item.id, item];
      }));
    }
    /** Creates an actor in `game.actors` and fires `createActor(actor, options, userId)`. */
    static async create(data, options = {}) {
      const actor = new Actor(data);
      const userId = global.game?.user?.id;
      if (Hooks.call('preCreateActor', actor, data, options, userId) === false) return undefined;
      global.game.actors.set(actor.id, actor);
      Hooks.callAll('createActor', actor, options, userId);
      return actor;
    }
    getUserLevel(user = global.game?.user) {
      if (user?.isGM) return CONST.DOCUMENT_OWNERSHIP_LEVELS.OWNER;
      return this.ownership?.[user?.id] ?? this.ownership?.default ?? 0;
    }
    testUserPermission(user, level) {
      const wanted = typeof level === 'string' ? CONST.DOCUMENT_OWNERSHIP_LEVELS[level] : level;
      return this.getUserLevel(user) >= wanted;
    }
    get isOwner() {
      return this.getUserLevel() >= CONST.DOCUMENT_OWNERSHIP_LEVELS.OWNER;
    }
    get hasPlayerOwner() {
      const users = global.game?.users?.contents ?? [];
      return users.some((u) => !u.isGM && (this.ownership?.[u.id] ?? this.ownership?.default ?? 0) >= 3);
    }
    toObject() {
      return {
        _id: this.id,
        name: this.name,
        type: this.type,
        system: clone(this.system),
        items: this.items.map((i) => i.toObject()),
        ownership: clone(this.ownership),
        flags: clone(this.flags),
      };
    }
  }

  class User extends Document {
    static documentName = 'User';
    constructor(data = {}) {
      super(data);
      this.name = data.name ?? 'Player';
      this.role = data.role ?? 1;
      this._character = data.character ?? null;
    }
    get isGM() {
      return this.role >= 4;
    }
    /** The assigned character (an Actor from `game.actors`), as Foundry's getter. */
    get character() {
      return this._character ? global.game?.actors?.get(this._character) ?? null : null;
    }
    _apply(diff) {
      if ('character' in diff) {
        this._character = diff.character;
        delete diff.character;
      }
      super._apply(diff);
    }
  }

  class Roll {
    constructor(formula, total) {
      this.formula = formula;
      this.total = total;
    }
    toJSON() {
      return { class: 'Roll', formula: this.formula, total: this.total, evaluated: true };
    }
  }

  class ChatMessage extends Document {
    static documentName = 'ChatMessage';
    constructor(data = {}) {
      super(data);
      this.content = data.content ?? '';
      this.speaker = clone(data.speaker) ?? {};
      this.author = data.author ?? data.user ?? global.game?.user?.id ?? null;
      this.whisper = clone(data.whisper) ?? [];
      this.timestamp = data.timestamp ?? Date.now();
      // v12+: rolls (Roll instances); `roll` kept for the old API the module read.
      this.rolls = (data.rolls ?? []).map((r) => (r instanceof Roll ? r : new Roll(r.formula, r.total)));
      if (data.roll) this.roll = data.roll instanceof Roll ? data.roll : new Roll(data.roll.formula, data.roll.total);
    }
    get alias() {
      return this.speaker?.alias;
    }
    /** As Foundry's: plain data, the rolls as JSON strings. */
    toObject() {
      return {
        _id: this.id,
        content: this.content,
        speaker: clone(this.speaker),
        author: this.author,
        whisper: clone(this.whisper),
        timestamp: this.timestamp,
        rolls: this.rolls.map((r) => JSON.stringify(r.toJSON())),
        flags: clone(this.flags),
      };
    }
    /** Adds a message to `game.messages` and fires `createChatMessage(message, options, userId)`. */
    static async create(data, options = {}) {
      const message = new ChatMessage(data);
      const userId = global.game?.user?.id;
      if (Hooks.call('preCreateChatMessage', message, data, options, userId) === false) return undefined;
      global.game.messages.set(message.id, message);
      Hooks.callAll('createChatMessage', message, options, userId);
      return message;
    }
    static getSpeaker({ actor, alias } = {}) {
      const a = actor ?? global.game?.user?.character;
      return { scene: null, actor: a?.id ?? null, token: null, alias: alias ?? a?.name ?? global.game?.user?.name };
    }
    static getWhisperRecipients(name) {
      return global.game.users.filter((u) => u.name === name);
    }
  }

  class Combatant {
    constructor(combat, data = {}) {
      this.combat = combat;
      this._id = data._id ?? randomID();
      this.actorId = data.actorId ?? null;
      this.tokenId = data.tokenId ?? `token-${this._id}`;
      this._name = data.name;
      this.initiative = data.initiative ?? null;
      this.defeated = Boolean(data.defeated);
    }
    get id() {
      return this._id;
    }
    get actor() {
      return this.actorId ? global.game?.actors?.get(this.actorId) ?? null : null;
    }
    get name() {
      return this._name ?? this.actor?.name ?? 'Unknown';
    }
    get isOwner() {
      return Boolean(this.actor?.isOwner);
    }
    get hasPlayerOwner() {
      return Boolean(this.actor?.hasPlayerOwner);
    }
    toObject() {
      return { _id: this.id, actorId: this.actorId, tokenId: this.tokenId, name: this.name, initiative: this.initiative, defeated: this.defeated };
    }
  }

  class Combat extends Document {
    static documentName = 'Combat';
    constructor(data = {}) {
      super(data);
      this.round = data.round ?? 0;
      this.turn = data.turn ?? null;
      this.combatants = new Collection((data.combatants ?? []).map((c) => {
        const combatant = new Combatant(this, c);
        return [combatant.id, combatant];
      }));
    }
    get started() {
      return this.round > 0 && this.turn !== null;
    }
    get turns() {
      return [...this.combatants.values()].sort((a, b) => (b.initiative ?? -Infinity) - (a.initiative ?? -Infinity));
    }
    get combatant() {
      return this.turn === null ? undefined : this.turns[this.turn];
    }
    get current() {
      const c = this.combatant;
      return { round: this.round, turn: this.turn, combatantId: c?.id ?? null, tokenId: c?.tokenId ?? null };
    }
    /** As Foundry: fires `combatStart(combat, {round, turn})` then updates. */
    async startCombat() {
      const updateData = { round: 1, turn: 0 };
      Hooks.callAll('combatStart', this, updateData);
      return this.update(updateData);
    }
    /** As Foundry: fires `combatTurn(combat, {round, turn}, {direction: 1})` then updates. */
    async nextTurn() {
      const n = this.turns.length;
      let turn = (this.turn ?? -1) + 1;
      let round = this.round;
      if (turn >= n) {
        turn = 0;
        round += 1;
      }
      const updateData = { round, turn };
      const updateOptions = { direction: 1 };
      if (round !== this.round) Hooks.callAll('combatRound', this, updateData, updateOptions);
      else Hooks.callAll('combatTurn', this, updateData, updateOptions);
      return this.update(updateData, updateOptions);
    }
    toObject() {
      return { _id: this.id, round: this.round, turn: this.turn, combatants: this.turns.map((c) => c.toObject()) };
    }
  }

  // ---------- settings ----------
  class ClientSettings {
    constructor() {
      this.settings = new Map();
      this.storage = new Map();
    }
    register(namespace, key, data = {}) {
      if (!namespace || !key) throw new Error('You must specify both namespace and key portions of the setting');
      this.settings.set(`${namespace}.${key}`, { ...data, namespace, key });
    }
    get(namespace, key) {
      const id = `${namespace}.${key}`;
      const setting = this.settings.get(id);
      if (!setting) throw new Error(`"${id}" is not a registered game setting`);
      if (this.storage.has(id)) return clone(this.storage.get(id));
      return clone(setting.default);
    }
    async set(namespace, key, value) {
      const id = `${namespace}.${key}`;
      const setting = this.settings.get(id);
      if (!setting) throw new Error(`"${id}" is not a registered game setting`);
      if (setting.choices && !(value in setting.choices)) throw new Error(`${value} is not a valid choice for ${id}`);
      this.storage.set(id, clone(value));
      if (typeof setting.onChange === 'function') setting.onChange(clone(value), {});
      return value;
    }
  }

  // ---------- notifications, i18n ----------
  const notifications = {
    log: [],
    _push(type, message, options) {
      const entry = { type, message: String(message), options };
      notifications.log.push(entry);
      return entry;
    },
    info(message, options) {
      return notifications._push('info', message, options);
    },
    warn(message, options) {
      return notifications._push('warning', message, options);
    },
    error(message, options) {
      return notifications._push('error', message, options);
    },
    notify(message, type = 'info', options) {
      return notifications._push(type, message, options);
    },
  };

  function makeI18n(translations) {
    const lookup = (key) => {
      const v = getProperty(translations, key);
      return typeof v === 'string' ? v : undefined;
    };
    return {
      lang: 'en',
      translations,
      has: (key) => lookup(key) !== undefined,
      localize: (key) => lookup(key) ?? key,
      format: (key, data = {}) => (lookup(key) ?? key).replace(/{([^}]+)}/g, (_, k) => String(data[k] ?? `{${k}}`)),
    };
  }

  /**
   * Sets up a fresh world: `users` ([{_id, name, role, character}]),
   * `userId` (who is logged in; default the first user), `actors`
   * ([actor data]), `messages` ([chat message data]), `translations`,
 * `generation` (12 or 13: which window class the module should use).
   * Hooks are kept unless `clearHooks` is true.
   */
  function reset({
    users = [{ _id: 'user1', name: 'Alice', role: 1, character: 'actor1' }, { _id: 'gm1', name: 'Gamemaster', role: 4 }],
    userId,
    actors = [{
      _id: 'actor1',
      name: 'Valeros',
      type: 'character',
      ownership: { default: 0, user1: 3 },
      system: {
        details: { level: { value: 1 }, keyability: { value: 'str' } },
        attributes: { hp: { value: 20, max: 20 }, ac: { value: 18 } },
        skills: { athletics: { rank: 1, label: 'Athletics' }, acrobatics: { rank: 0, label: 'Acrobatics' } },
      },
      items: [{ _id: 'cls1', name: 'Fighter', type: 'class', system: {} }, { _id: 'ft1', name: 'Power Attack', type: 'feat', system: { level: { value: 1, taken: 1 }, category: 'class', traits: { value: ['fighter'] } } }],
    }],
    messages = [],
    translations = {},
    clearHooks = false,
    generation = 12,
  } = {}) {
    if (clearHooks) hooks.clear();
    notifications.log.length = 0;
    const game = {
      ready: false,
      system: { id: 'pf2e', version: '6.0.0' },
      version: generation >= 13 ? '13.348' : '12.331',
      release: { generation },
      world: { id: 'test-world', title: 'Test World' },
      modules: new Collection([['frinny', { id: 'frinny', active: true }]]),
      settings: new ClientSettings(),
      i18n: makeI18n(translations),
      users: new Collection(),
      actors: new Collection(),
      messages: new Collection(),
      combats: new Collection(),
      combat: null,
      frinny: undefined,
    };
    global.game = game;
    for (const a of actors) {
      const actor = new Actor(a);
      game.actors.set(actor.id, actor);
    }
    for (const u of users) {
      const user = new User(u);
      game.users.set(user.id, user);
    }
    game.user = game.users.get(userId ?? users[0]?._id) ?? null;
    for (const m of messages) {
      const message = new ChatMessage(m);
      game.messages.set(message.id, message);
    }
    return game;
  }

  /** A combat in `game.combats` (and `game.combat`) from [{actorId, initiative}]. */
  function createCombat(combatants, data = {}) {
    const combat = new Combat({ ...data, combatants });
    global.game.combats.set(combat.id, combat);
    global.game.combat = combat;
    return combat;
  }

  // ---------- applications (windows) ----------
  // Enough of Foundry's two window classes for a module's window to open,
  // render into a frame, re-render and close: v12's Application (jQuery-
  // free here: `_renderInner` may return an element or a jQuery-like
  // [element]) and v13's ApplicationV2 (`_renderHTML` + `_replaceHTML` into
  // the window's content element, `_onClose`).

  function windowFrame(id, title) {
    const frame = document.createElement('div');
    frame.className = 'app window-app';
    frame.id = id;
    const header = document.createElement('header');
    header.className = 'window-header';
    header.textContent = title;
    const content = document.createElement('section');
    content.className = 'window-content';
    frame.append(header, content);
    document.body.append(frame);
    return { frame, content };
  }

  class Application {
    static get defaultOptions() {
      return { id: '', title: '', width: 400, height: 400, popOut: true, resizable: false, classes: [] };
    }
    constructor(options = {}) {
      this.options = { ...this.constructor.defaultOptions, ...options };
      this._element = null;
      this.rendered = false;
    }
    get id() { return this.options.id; }
    get title() { return global.game?.i18n?.localize?.(this.options.title) ?? this.options.title; }
    get element() { return this._element; }
    async _renderInner() { return document.createElement('div'); }
    activateListeners() {}
    async render(force = false, options = {}) {
      if (!force && !this.rendered) return this;
      const inner = await this._renderInner({}, options);
      const el = inner?.[0] ?? inner;
      if (!this._element) this._element = windowFrame(this.id, this.title);
      this._element.content.replaceChildren(el);
      this.rendered = true;
      this.activateListeners(inner);
      Hooks.callAll(`render${this.constructor.name}`, this, inner, {});
      return this;
    }
    async close() {
      this._element?.frame.remove();
      this._element = null;
      this.rendered = false;
    }
  }

  class ApplicationV2 {
    static DEFAULT_OPTIONS = { id: '', window: { title: '', resizable: false }, position: { width: 400, height: 400 } };
    constructor(options = {}) {
      this.options = { ...this.constructor.DEFAULT_OPTIONS, ...options };
      this._frame = null;
    }
    get id() { return this.options.id; }
    get title() { return global.game?.i18n?.localize?.(this.options.window?.title ?? '') ?? ''; }
    get rendered() { return Boolean(this._frame); }
    get element() { return this._frame?.frame ?? null; }
    async _renderHTML() { throw new Error('ApplicationV2 subclasses must implement _renderHTML'); }
    _replaceHTML() { throw new Error('ApplicationV2 subclasses must implement _replaceHTML'); }
    _onClose() {}
    async render(options = {}) {
      const force = options === true || options?.force === true;
      if (!force && !this.rendered) return this;
      const result = await this._renderHTML({}, options);
      if (!this._frame) this._frame = windowFrame(this.id, this.title);
      this._replaceHTML(result, this._frame.content, options);
      Hooks.callAll(`render${this.constructor.name}`, this, this._frame.frame, {}, options);
      return this;
    }
    async close(options = {}) {
      if (!this._frame) return this;
      this._onClose(options);
      this._frame.frame.remove();
      this._frame = null;
      return this;
    }
  }

  global.Hooks = Hooks;
  global.Application = Application;
  global.CONST = CONST;
  global.Actor = Actor;
  global.Item = Item;
  global.User = User;
  global.ChatMessage = ChatMessage;
  global.Roll = Roll;
  global.Combat = Combat;
  global.Combatant = Combatant;
  global.ui = { notifications };
  global.foundry = {
    utils: { randomID, getProperty, setProperty, expandObject, deepClone: clone },
    applications: { api: { ApplicationV2 } },
  };
  global.FakeFoundry = { reset, createCombat, Collection, ClientSettings, Hooks };
  reset();
})(globalThis);

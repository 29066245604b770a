// Custom events on the test server: the reference server's rules
// (src/catalogue/custom.rs, server/src/custom_events.rs) in JS, so that a
// module's `defineEvents` call and its custom events meet in tests the
// refusals they meet in production: the name grammar `x-<module>:<event>`,
// the declaration's members and bounds, the world's count, and each
// event's payload against its declaration (the catalogue's field kinds).

import { isObject } from './wire.js';

/** The reference server's bounds (src/catalogue/custom.rs, `--max-custom-events`). */
export const LIMITS = Object.freeze({ nameBytes: 64, fields: 32, fieldNameBytes: 64, docChars: 200, specBytes: 4096, perWorld: 64 });

const ID = /^[a-z0-9][a-z0-9_-]*$/;
const DIRECTIONS = ['client_to_server', 'server_to_client', 'both'];
const MEMBERS = ['name', 'direction', 'broadcastable', 'fields', 'anyOf', 'doc'];
const FIELD_MEMBERS = ['name', 'kind', 'required'];

/** The catalogue's field kinds: whether a (non-null) value has each. */
const KINDS = {
  string: (v) => typeof v === 'string',
  non_empty_string: (v) => typeof v === 'string' && v.trim() !== '',
  bool: (v) => typeof v === 'boolean',
  number: (v) => typeof v === 'number',
  unsigned_integer: (v) => Number.isSafeInteger(v) && v >= 0,
  string_or_number: (v) => typeof v === 'string' || typeof v === 'number',
  array: (v) => Array.isArray(v),
  object: (v) => isObject(v),
  any: (v) => v !== null && v !== undefined,
};

/** A refusal as the server sends it: `{code, message, field?}`. */
class Refusal {
  /** @param {string} code @param {string} message @param {string} [field] */
  constructor(code, message, field) {
    this.code = code;
    this.message = message;
    if (field) this.field = field;
  }
}

const bytes = (s) => new TextEncoder().encode(s).length;

/** Whether `name` is in the custom events' namespace. @param {unknown} name */
export function isCustom(name) {
  return typeof name === 'string' && name.startsWith('x-');
}

/**
 * Checks one declaration; returns it as the server keeps it, or throws a
 * refusal whose field is relative to it (`name`, `fields[2].name`).
 * @param {unknown} spec
 */
function checkSpec(spec) {
  if (!isObject(spec)) throw new Refusal('INVALID_PAYLOAD', 'a declaration must be a JSON object', '');
  const s = /** @type {Record<string, any>} */ (spec);
  if (bytes(JSON.stringify(s)) > LIMITS.specBytes) throw new Refusal('SPEC_TOO_LARGE', `the declaration is over ${LIMITS.specBytes} bytes of JSON`, '');
  const unknown = Object.keys(s).find((k) => !MEMBERS.includes(k));
  if (unknown) throw new Refusal('INVALID_PAYLOAD', `unknown member \`${unknown}\``, '');
  if (typeof s.name !== 'string') throw new Refusal('INVALID_PAYLOAD', '`name` must be a string', '');
  if (!DIRECTIONS.includes(s.direction)) throw new Refusal('INVALID_PAYLOAD', `\`direction\` must be one of ${DIRECTIONS.join(', ')}`, '');
  if (bytes(s.name) > LIMITS.nameBytes) throw new Refusal('SPEC_TOO_LARGE', `\`name\` is longer than ${LIMITS.nameBytes} bytes`, 'name');
  const [module, event, ...rest] = s.name.startsWith('x-') ? s.name.slice(2).split(':') : [];
  if (!ID.test(module ?? '') || !ID.test(event ?? '') || rest.length) {
    throw new Refusal('INVALID_PAYLOAD', `\`${s.name}\` is not a custom event name: \`x-<module>:<event>\`, lowercase letters, digits, \`-\` and \`_\``, 'name');
  }
  if (s.broadcastable !== undefined && typeof s.broadcastable !== 'boolean') throw new Refusal('INVALID_PAYLOAD', '`broadcastable` must be a boolean', '');
  const fields = s.fields ?? [];
  if (!Array.isArray(fields)) throw new Refusal('INVALID_PAYLOAD', '`fields` must be an array', '');
  if (fields.length > LIMITS.fields) throw new Refusal('SPEC_TOO_LARGE', `more than ${LIMITS.fields} fields`, 'fields');
  fields.forEach((f, i) => {
    if (!isObject(f) || Object.keys(f).some((k) => !FIELD_MEMBERS.includes(k)) || !(f.kind in KINDS) || (f.required !== undefined && typeof f.required !== 'boolean') || typeof f.name !== 'string') {
      throw new Refusal('INVALID_PAYLOAD', `fields[${i}] must be {name, kind, required?} with a kind of ${Object.keys(KINDS).join(', ')}`, '');
    }
    if (f.name === '' || bytes(f.name) > LIMITS.fieldNameBytes) throw new Refusal('INVALID_PAYLOAD', `a field name has 1 to ${LIMITS.fieldNameBytes} bytes`, `fields[${i}].name`);
    if (fields.slice(0, i).some((g) => g.name === f.name)) throw new Refusal('INVALID_PAYLOAD', `field \`${f.name}\` is declared twice`, `fields[${i}].name`);
  });
  const anyOf = s.anyOf ?? [];
  if (!Array.isArray(anyOf)) throw new Refusal('INVALID_PAYLOAD', '`anyOf` must be an array', '');
  anyOf.forEach((n, i) => {
    if (!fields.some((f) => f.name === n)) throw new Refusal('INVALID_PAYLOAD', '`anyOf` may only name declared fields', `anyOf[${i}]`);
  });
  if (s.broadcastable && s.direction === 'client_to_server') throw new Refusal('INVALID_PAYLOAD', 'only an event that travels server to client may be broadcastable', 'broadcastable');
  if (s.doc !== undefined && (typeof s.doc !== 'string' || [...s.doc].length > LIMITS.docChars)) throw new Refusal('SPEC_TOO_LARGE', `\`doc\` is a string of at most ${LIMITS.docChars} characters`, 'doc');
  return { name: s.name, direction: s.direction, broadcastable: Boolean(s.broadcastable), fields: fields.map((f) => ({ name: f.name, kind: f.kind, required: Boolean(f.required) })), anyOf: [...anyOf], ...(s.doc === undefined ? {} : { doc: s.doc }) };
}

/** The declarations the test server holds, and the rules it applies. */
export class CustomEvents {
  /** @type {Map<string, any>} */
  #specs = new Map();

  /** The declarations, in the order first made. */
  list() {
    return [...this.#specs.values()].map((s) => structuredClone(s));
  }

  /**
   * `events:define {events}` from a client of `role`: all declared, or a
   * refusal thrown (the shape of the server's `error`).
   * @param {unknown} payload @param {string} role
   */
  define(payload, role) {
    if (role !== 'gm') throw new Refusal('FORBIDDEN', `role \`${role}\` may not declare custom events; only a GM may`);
    const list = isObject(payload) ? /** @type {any} */ (payload).events : undefined;
    if (!Array.isArray(list)) throw new Refusal('INVALID_PAYLOAD', '`events` must be an array of event declarations', 'events');
    const specs = list.map((item, i) => {
      try {
        const spec = checkSpec(item);
        if (list.slice(0, i).some((o) => isObject(o) && /** @type {any} */ (o).name === spec.name)) {
          throw new Refusal('INVALID_PAYLOAD', `\`${spec.name}\` is declared twice in the list`, 'name');
        }
        return spec;
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        throw new Refusal(err.code, `events[${i}]: ${err.message}`, err.field ? `events[${i}].${err.field}` : `events[${i}]`);
      }
    });
    const count = this.#specs.size + specs.filter((s) => !this.#specs.has(s.name)).length;
    if (count > LIMITS.perWorld) throw new Refusal('TOO_MANY_EVENTS', `the world would have ${count} custom events; the server allows ${LIMITS.perWorld}`);
    for (const s of specs) this.#specs.set(s.name, s);
    return { ok: true, defined: specs.map((s) => s.name), count: this.#specs.size };
  }

  /**
   * A custom event a client sent: the refusal the server would send, or
   * null when it is declared client to server and its payload fits.
   * @param {string} name @param {unknown} payload
   * @returns {Refusal | null}
   */
  check(name, payload) {
    const spec = this.#specs.get(name);
    if (!spec) return new Refusal('INVALID_EVENT', `custom event \`${name}\` is not declared in this world (a GM declares it with defineEvents)`);
    if (spec.direction === 'server_to_client') return new Refusal('INVALID_EVENT', `\`${name}\` is declared server_to_client: clients may not send it`);
    if (!isObject(payload)) return new Refusal('INVALID_PAYLOAD', `payload of \`${name}\` must be a JSON object`);
    const p = /** @type {Record<string, unknown>} */ (payload);
    for (const f of spec.fields) {
      const v = p[f.name];
      if (v === undefined || v === null) {
        if (f.required) return new Refusal('INVALID_PAYLOAD', `field \`${f.name}\` of \`${name}\` is required`, f.name);
      } else if (!KINDS[f.kind](v)) {
        return new Refusal('INVALID_PAYLOAD', `field \`${f.name}\` of \`${name}\` must be ${f.kind}`, f.name);
      }
    }
    if (spec.anyOf.length && !spec.anyOf.some((n) => p[n] !== undefined && p[n] !== null)) {
      return new Refusal('INVALID_PAYLOAD', `\`${name}\` needs one of the fields ${spec.anyOf.join(', ')}`, spec.anyOf[0]);
    }
    return null;
  }
}

// RFC 7396 JSON merge patches, as the server applies a `state:update`
// (the json-patch crate on both sides in the real product).

import { isObject } from './wire.js';

/**
 * `target` with `patch` applied; neither is changed. `null` in the patch
 * removes a member; an object merges; anything else replaces.
 * @param {unknown} target
 * @param {unknown} patch
 * @returns {any}
 */
export function applyMergePatch(target, patch) {
  if (!isObject(patch)) return patch;
  /** @type {Record<string, unknown>} */
  const out = isObject(target) ? { .../** @type {object} */ (target) } : {};
  for (const [key, value] of Object.entries(/** @type {object} */ (patch))) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

/**
 * The merge patch that takes `from` to `to` (both objects): members that
 * changed, `null` for members removed; arrays and other values whole.
 * Throws INVALID_PAYLOAD-worthy TypeErrors for a `null` member of `to`,
 * which a merge patch cannot express (the caller names the code).
 * @param {Record<string, unknown>} from
 * @param {Record<string, unknown>} to
 * @param {string} [path]
 * @returns {Record<string, unknown>}
 */
export function mergeDiff(from, to, path = '') {
  /** @type {Record<string, unknown>} */
  const patch = {};
  for (const key of Object.keys(from)) {
    if (!Object.hasOwn(to, key)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    const where = path ? `${path}.${key}` : key;
    if (value === null) {
      throw new TypeError(`${where} is null: a merge patch cannot set a member to null (it removes it); leave the member out instead`);
    }
    const before = from[key];
    if (isObject(value) && isObject(before)) {
      const inner = mergeDiff(/** @type {any} */ (before), /** @type {any} */ (value), where);
      if (Object.keys(inner).length) patch[key] = inner;
    } else if (JSON.stringify(before) !== JSON.stringify(value)) {
      patch[key] = isObject(value) ? mergeDiff({}, /** @type {any} */ (value), where) : value;
    }
  }
  return patch;
}

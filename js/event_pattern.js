// `subscribeAll`'s name pattern for the JS stand-ins of the manager (the
// test agent's hub, the tab proxy of `shareAcrossTabs`), read as the real
// event hub reads it (src/web/event_hub.js, a wasm-bindgen snippet whose
// path the package cannot import):
//
//   matcher('combat_*')('combat_turn')   // true
//   matcher(/^state:/)('state:patch')    // true
//   matcher('typing_status')('typing')   // false: without `*`, one name

/**
 * A `subscribeAll` name pattern as a test of names: a RegExp (without its
 * `g`/`y` state), or a string where `*` stands for any run of characters
 * (line breaks included); a string without `*` is one name.
 * @param {unknown} pattern
 * @returns {(name: string) => boolean}
 */
export function matcher(pattern) {
  if (pattern instanceof RegExp) {
    const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    return (name) => re.test(name);
  }
  if (typeof pattern !== 'string') {
    const error = /** @type {Error & {code: string}} */ (new Error('subscribeAll: the pattern must be a string or a RegExp'));
    error.code = 'INVALID_OPTIONS';
    throw error;
  }
  if (!pattern.includes('*')) return (name) => name === pattern;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const re = new RegExp(`^${source}$`, 's');
  return (name) => re.test(name);
}

// What the package entry needs of `shareAcrossTabs` before the rest of
// js/share/ is loaded: whether this global can share at all, and the
// options as the wasm reads them. Kept apart so that a page that never
// shares does not wait for the tab proxy (js/share/tab.js) to load.

/** Whether this global can share a connection across tabs. */
export function canShareAcrossTabs() {
  return typeof SharedWorker === 'function';
}

/**
 * The options as the wasm reads them: `sharedWorkerUrl` may be a URL object.
 * @param {unknown} options
 */
export function localOptions(options) {
  if (options === null || typeof options !== 'object' || options.sharedWorkerUrl === undefined || options.sharedWorkerUrl === null) return options;
  return { ...options, sharedWorkerUrl: String(options.sharedWorkerUrl) };
}

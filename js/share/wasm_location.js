// Where this page loaded the .wasm from, when `ready(url)` was given a URL:
// the SharedWorker loads it from the same place (a Response or compiled
// Module cannot be handed over; then the worker uses its default place,
// next to the package's JS).

let location;

/**
 * Remembers `wasm` (what `ready()` was given) when it is a URL or a path.
 * @param {unknown} wasm
 */
export function rememberWasm(wasm) {
  if (typeof wasm !== 'string' && !(typeof URL === 'function' && wasm instanceof URL)) return;
  try {
    location = new URL(String(wasm), globalThis.location?.href).href;
  } catch {
    location = undefined;
  }
}

/** The absolute URL `ready()` loaded the .wasm from, if it was given one. */
export function wasmLocation() {
  return location;
}

// `vite build` needs nothing: it sees the glue's
// `new URL('frinny_agent_bg.wasm', import.meta.url)` and emits the .wasm as
// an asset. The dev server's dependency pre-bundler would move the glue away
// from its .wasm, so the package is left out of it.
export default {
  optimizeDeps: { exclude: ['frinny-agent'] },
};

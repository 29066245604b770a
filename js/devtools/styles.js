// The look of <frinny-devtools>, after the components' BASE_CSS: the same
// `--frinny-*` custom properties (js/components/styles.js lists them), plus
// `--frinny-devtools-height` (28em), the height of each tab's panel, and
// `--frinny-mono` (ui-monospace), the font of frames and trees.

export const DEVTOOLS_CSS = `
:host {
  background: var(--frinny-bg, #17181d); border: 1px solid var(--frinny-border, #44465a);
  border-radius: var(--frinny-radius, 6px); padding: 0.5em; font-size: calc(var(--frinny-font-size, 14px) * 0.9);
}
.head { display: flex; align-items: center; gap: 0.6em; margin-bottom: 0.4em; }
[role="tablist"] { display: flex; gap: 0.25em; }
[role="tab"][aria-selected="true"] { border-color: var(--frinny-accent, #c9a14a); color: #fff4d6; }
.panel {
  height: var(--frinny-devtools-height, 28em); overflow: auto; background: var(--frinny-surface, #22232b);
  border: 1px solid var(--frinny-border, #44465a); border-radius: calc(var(--frinny-radius, 6px) - 2px); padding: 0.4em;
}
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.35em; margin-bottom: 0.4em; }
.toolbar input {
  flex: 1 1 12em; min-width: 8em; font: inherit; color: var(--frinny-text, #ebe6d6);
  background: var(--frinny-surface-2, #2c2e38); border: 1px solid var(--frinny-border, #44465a);
  border-radius: calc(var(--frinny-radius, 6px) - 2px); padding: 0.15em 0.4em;
}
.status { color: var(--frinny-muted, #a29e90); font-size: 0.85em; }
.mono, pre, .tree { font-family: var(--frinny-mono, ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace); font-size: 0.9em; }
.log { display: flex; flex-direction: column; }
.log details { border-bottom: 1px solid rgba(255, 255, 255, 0.05); }
.log summary {
  display: grid; grid-template-columns: 8.5em 2.2em minmax(0, 1fr) 5.5em; gap: 0.6em; padding: 0.1em 0.2em; cursor: pointer;
  list-style: none;
}
.log summary::-webkit-details-marker { display: none; }
.log summary:hover { background: var(--frinny-surface-2, #2c2e38); }
.dir-in .dir { color: var(--frinny-info, #4f8fc9); }
.dir-out .dir { color: var(--frinny-success, #4a9e64); }
.name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: #fff4d6; }
.size, .time { color: var(--frinny-muted, #a29e90); text-align: right; }
.time { text-align: left; }
pre {
  margin: 0.2em 0 0.4em 1em; padding: 0.4em; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--frinny-bg, #17181d); border-radius: 4px; max-height: 16em; overflow: auto;
}
.scope { margin-bottom: 0.6em; }
.scope > summary { font-weight: 600; color: #fff4d6; cursor: pointer; }
.scope .version { color: var(--frinny-accent, #c9a14a); margin-left: 0.5em; font-weight: 400; }
.scope-body { margin-left: 1em; display: flex; flex-direction: column; gap: 0.3em; }
.tree details > summary { cursor: pointer; }
.tree .members { margin-left: 1.2em; }
.tree .key { color: var(--frinny-accent, #c9a14a); }
.tree .preview, .tree .more { color: var(--frinny-muted, #a29e90); }
.tree .string { color: #b8d98f; }
.tree .number, .tree .boolean, .tree .null { color: #8fc3e8; }
.sub { color: var(--frinny-muted, #a29e90); font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.06em; }
.timeline li { display: grid; grid-template-columns: 8.5em 8em minmax(0, 1fr); gap: 0.6em; padding: 0.1em 0.2em; }
.timeline .state { font-weight: 600; }
.timeline .state.connected { color: var(--frinny-success, #4a9e64); }
.timeline .state.reconnecting, .timeline .state.connecting { color: var(--frinny-warning, #d6a03a); }
.timeline .state.disconnected, .timeline .state.closed { color: var(--frinny-error, #cf4b3e); }
.timeline .ping { color: var(--frinny-muted, #a29e90); }
.perf { display: grid; grid-template-columns: repeat(auto-fit, minmax(12em, 1fr)); gap: 0.6em; }
.perf section { background: var(--frinny-surface-2, #2c2e38); border-radius: 4px; padding: 0.4em; }
.chart { display: block; width: 100%; height: auto; margin-top: 0.3em; }
.chart .axis { stroke: var(--frinny-border, #44465a); }
.chart .p50 { stroke: var(--frinny-info, #4f8fc9); stroke-width: 1.5; }
.chart .p99 { stroke: var(--frinny-warning, #d6a03a); stroke-width: 1.5; }
.chart .bar { fill: var(--frinny-accent, #c9a14a); }
.chart .bar.error { fill: var(--frinny-error, #cf4b3e); }
.chart text { fill: var(--frinny-muted, #a29e90); font-size: 8px; font-family: inherit; }
.counters { font-size: 0.9em; }
`;

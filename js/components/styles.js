// Default look of the Frinny elements: Foundry's dark UI (charcoal panels,
// parchment text, gold accents, Foundry's orange focus glow). Everything goes
// through CSS custom properties, which cross shadow roots, so a theme is a
// handful of declarations on any ancestor:
//
//   frinny-notification-panel, .frinny-chat-host { --frinny-accent: #7fb2e5; }
//
// | property | default | use |
// | --- | --- | --- |
// | --frinny-font | Signika, system-ui | every text |
// | --frinny-font-size | 14px | base size |
// | --frinny-bg | #17181d | window background |
// | --frinny-surface | #22232b | panels, items |
// | --frinny-surface-2 | #2c2e38 | raised items, inputs |
// | --frinny-border | #44465a | borders |
// | --frinny-text | #ebe6d6 | text |
// | --frinny-muted | #a29e90 | secondary text |
// | --frinny-accent | #c9a14a | headings, accents (gold) |
// | --frinny-focus | #ff6400 | focus ring (Foundry orange) |
// | --frinny-info / -success / -warning / -error | blue / green / amber / red | levels, states |
// | --frinny-user-bg | #3a2e4f | the player's messages |
// | --frinny-assistant-bg | #262a33 | Frinny's messages |
// | --frinny-radius | 6px | corners |

/** Shared by every element's shadow root. */
export const BASE_CSS = `
:host {
  display: block;
  box-sizing: border-box;
  font-family: var(--frinny-font, "Signika", "Palatino Linotype", system-ui, sans-serif);
  font-size: var(--frinny-font-size, 14px);
  line-height: 1.4;
  color: var(--frinny-text, #ebe6d6);
}
:host([hidden]) { display: none !important; }
*, *::before, *::after { box-sizing: border-box; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
}
button {
  font: inherit; font-size: 0.9em; color: var(--frinny-text, #ebe6d6);
  background: var(--frinny-surface-2, #2c2e38);
  border: 1px solid var(--frinny-border, #44465a);
  border-radius: calc(var(--frinny-radius, 6px) - 2px);
  padding: 0.2em 0.7em; cursor: pointer; line-height: 1.5;
}
button:hover:not(:disabled) { border-color: var(--frinny-accent, #c9a14a); background: #363848; }
button:focus-visible, [tabindex]:focus-visible, input:focus-visible, textarea:focus-visible {
  outline: none; box-shadow: 0 0 0 2px var(--frinny-focus, #ff6400);
}
button:disabled { opacity: 0.5; cursor: default; }
button.primary {
  background: linear-gradient(#5c4a22, #46381a); border-color: var(--frinny-accent, #c9a14a); color: #fff4d6;
}
button.primary:hover:not(:disabled) { background: linear-gradient(#6f5a2a, #54431f); }
button.icon { padding: 0.1em 0.45em; line-height: 1.3; }
h2, h3 {
  margin: 0; font-size: 0.8em; font-weight: 600; letter-spacing: 0.08em; text-transform: uppercase;
  color: var(--frinny-accent, #c9a14a);
}
ol, ul { margin: 0; padding: 0; list-style: none; }
.empty { color: var(--frinny-muted, #a29e90); font-style: italic; padding: 0.4em 0.2em; margin: 0; }
.panel-head { display: flex; align-items: center; justify-content: space-between; gap: 0.5em; margin-bottom: 0.4em; }
@media (prefers-reduced-motion: reduce) { * { animation: none !important; transition: none !important; } }
`;

export const TYPING_CSS = `
:host { color: var(--frinny-muted, #a29e90); font-style: italic; padding: 0.25em 0.1em; }
.row { display: inline-flex; align-items: center; gap: 0.5em; }
.dots { display: inline-flex; gap: 3px; }
.dots span {
  width: 6px; height: 6px; border-radius: 50%; background: var(--frinny-accent, #c9a14a);
  animation: frinny-bounce 1.2s infinite ease-in-out;
}
.dots span:nth-child(2) { animation-delay: 0.15s; }
.dots span:nth-child(3) { animation-delay: 0.3s; }
@keyframes frinny-bounce { 0%, 80%, 100% { opacity: 0.25; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-3px); } }
`;

export const NOTIFICATION_CSS = `
:host {
  background: var(--frinny-surface, #22232b); border: 1px solid var(--frinny-border, #44465a);
  border-radius: var(--frinny-radius, 6px); padding: 0.6em;
}
.count { color: var(--frinny-muted, #a29e90); font-size: 0.85em; margin-left: 0.4em; }
ol {
  display: flex; flex-direction: column; gap: 0.4em; max-height: var(--frinny-notifications-max-height, 22em); overflow-y: auto;
  contain: content;
}
li {
  contain: content;
  display: grid; grid-template-columns: auto 1fr auto; gap: 0.15em 0.6em; align-items: start;
  background: var(--frinny-surface-2, #2c2e38); border-left: 3px solid var(--level, var(--frinny-info, #4f8fc9));
  border-radius: calc(var(--frinny-radius, 6px) - 2px); padding: 0.45em 0.5em 0.45em 0.6em;
}
li.info { --level: var(--frinny-info, #4f8fc9); }
li.success { --level: var(--frinny-success, #4a9e64); }
li.warning { --level: var(--frinny-warning, #d6a03a); }
li.error { --level: var(--frinny-error, #cf4b3e); }
.level {
  grid-row: span 2; font-size: 0.7em; font-weight: 700; text-transform: uppercase; letter-spacing: 0.06em;
  color: var(--level); border: 1px solid var(--level); border-radius: 3px; padding: 0.05em 0.35em; margin-top: 0.2em;
  min-width: 7.4em; text-align: center;
}
.title { font-weight: 600; color: #fff4d6; }
.message { grid-column: 2; white-space: pre-wrap; overflow-wrap: anywhere; }
.meta { grid-column: 2; color: var(--frinny-muted, #a29e90); font-size: 0.8em; }
.dismiss { grid-column: 3; grid-row: 1 / span 2; align-self: start; }
`;

export const SUGGESTION_CSS = `
:host { display: block; }
ol { display: flex; flex-direction: column; gap: 0.5em; }
li {
  background: linear-gradient(180deg, #2e2a1f, var(--frinny-surface, #22232b));
  border: 1px solid var(--frinny-accent, #c9a14a); border-radius: var(--frinny-radius, 6px);
  padding: 0.55em 0.65em; box-shadow: 0 0 8px rgba(201, 161, 74, 0.15);
}
.head { display: flex; align-items: baseline; gap: 0.5em; margin-bottom: 0.2em; }
.kind {
  font-size: 0.7em; font-weight: 700; text-transform: uppercase; letter-spacing: 0.06em;
  color: var(--frinny-accent, #c9a14a);
}
.actor { color: var(--frinny-muted, #a29e90); font-size: 0.85em; }
.text { margin: 0 0 0.45em; white-space: pre-wrap; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 0.35em; }
`;

export const COMBAT_CSS = `
:host {
  background: var(--frinny-surface, #22232b); border: 1px solid var(--frinny-border, #44465a);
  border-radius: var(--frinny-radius, 6px); padding: 0.6em;
}
.now { display: flex; align-items: baseline; justify-content: space-between; gap: 0.6em; margin: 0.2em 0 0.5em; }
.round { font-size: 0.85em; color: var(--frinny-muted, #a29e90); white-space: nowrap; }
.acting { font-size: 1.15em; font-weight: 600; color: #fff4d6; }
.idle { color: var(--frinny-muted, #a29e90); font-style: italic; }
details.log > summary {
  display: flex; align-items: center; gap: 0.4em; cursor: pointer; list-style: none; margin: 0.2em 0 0.3em;
  border-radius: 3px;
}
details.log > summary::-webkit-details-marker { display: none; }
details.log > summary::before {
  content: ""; width: 0; height: 0; border-style: solid; border-width: 0.3em 0 0.3em 0.45em;
  border-color: transparent transparent transparent var(--frinny-accent, #c9a14a); transition: transform 0.15s;
}
details.log[open] > summary::before { transform: rotate(90deg); }
details.log > summary:focus-visible { outline: none; box-shadow: 0 0 0 2px var(--frinny-focus, #ff6400); }
.log-count { color: var(--frinny-muted, #a29e90); font-size: 0.8em; }
h3 { margin: 0; }
ol {
  display: flex; flex-direction: column; gap: 0.25em; max-height: var(--frinny-combat-max-height, 16em); overflow-y: auto;
  contain: content;
}
li {
  contain: content;
  display: grid; grid-template-columns: 3.4em 1fr auto; gap: 0.1em 0.5em; align-items: center;
  background: var(--frinny-surface-2, #2c2e38); border-radius: 4px; padding: 0.3em 0.45em;
}
.at { color: var(--frinny-muted, #a29e90); font-size: 0.75em; font-variant-numeric: tabular-nums; }
.name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.hp { font-size: 0.8em; font-variant-numeric: tabular-nums; color: var(--frinny-muted, #a29e90); }
.bar { grid-column: 2 / span 2; height: 4px; border-radius: 2px; background: #111218; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--frinny-success, #4a9e64); }
.bar.low > span { background: var(--frinny-warning, #d6a03a); }
.bar.critical > span { background: var(--frinny-error, #cf4b3e); }
.conditions { grid-column: 2 / span 2; display: flex; flex-wrap: wrap; gap: 0.25em; }
.conditions[hidden], .bar[hidden] { display: none; }
.conditions span {
  font-size: 0.75em; padding: 0 0.4em; border-radius: 3px; background: #4a2330; color: #f4c9d0;
  border: 1px solid #7a3a4a;
}
`;

export const CONNECTION_CSS = `
:host { display: inline-block; }
.row { display: inline-flex; align-items: center; gap: 0.5em; flex-wrap: wrap; }
.dot { width: 0.6em; height: 0.6em; border-radius: 50%; background: var(--frinny-muted, #a29e90); flex: none; }
:host([data-state="connected"]) .dot { background: var(--frinny-success, #4a9e64); box-shadow: 0 0 6px var(--frinny-success, #4a9e64); }
:host([data-state="connecting"]) .dot, :host([data-state="reconnecting"]) .dot {
  background: var(--frinny-warning, #d6a03a); animation: frinny-pulse 1s infinite alternate;
}
:host([data-state="offline"]) .dot { background: var(--frinny-error, #cf4b3e); }
:host([data-state="closed"]) .dot { background: #6b6b6b; }
.label { font-size: 0.9em; white-space: nowrap; }
.error {
  font-size: 0.8em; color: #ffd7d2; background: rgba(207, 75, 62, 0.2); border: 1px solid var(--frinny-error, #cf4b3e);
  border-radius: 4px; padding: 0.05em 0.45em; max-width: 28em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
@keyframes frinny-pulse { from { opacity: 0.4; } to { opacity: 1; } }
`;

/** The chat window (FrinnyChat renders into a shadow root of its own host). */
export const CHAT_CSS = `
:host {
  display: flex; flex-direction: column; height: 100%; min-height: 24em;
  background: var(--frinny-bg, #17181d); border: 1px solid var(--frinny-border, #44465a);
  border-radius: var(--frinny-radius, 6px); overflow: hidden;
}
header {
  display: flex; align-items: center; justify-content: space-between; gap: 0.6em; padding: 0.45em 0.7em;
  background: linear-gradient(180deg, #2a2418, #1e1b14); border-bottom: 1px solid #5a4a26;
}
header h2 { font-size: 1.05em; letter-spacing: 0.12em; display: flex; align-items: center; gap: 0.45em; }
header h2 .sigil {
  width: 1.4em; height: 1.4em; border-radius: 50%; display: inline-grid; place-items: center;
  background: radial-gradient(circle at 35% 30%, #f0d58a, #9a7426); color: #231a06; font-size: 0.8em; letter-spacing: 0;
}
header .tools { display: flex; align-items: center; gap: 0.6em; }
header .clear { font-size: 0.8em; padding: 0.05em 0.55em; }
header .clear.armed { border-color: var(--frinny-error, #cf4b3e); color: #ffd7d2; }
.side {
  display: flex; flex-direction: column; gap: 0.5em; padding: 0.5em 0.7em; max-height: 45%; overflow-y: auto; flex: none;
  border-bottom: 1px solid var(--frinny-border, #44465a); background: rgba(0, 0, 0, 0.18);
  --frinny-combat-max-height: 9em; --frinny-notifications-max-height: 7.6em;
}
.side:not(:has(> :not([hidden]))) { display: none; }
.side > [hidden] { display: none; }
.log {
  flex: 1; overflow-y: auto; padding: 0.6em 0.7em; display: flex; flex-direction: column; gap: 0.5em;
  scroll-behavior: smooth;
}
.log .empty { text-align: center; margin: auto 1em; }
.msg { max-width: 88%; display: flex; flex-direction: column; gap: 0.15em; }
.msg.user { align-self: flex-end; align-items: flex-end; }
.msg.assistant, .msg.system { align-self: flex-start; }
.who { font-size: 0.75em; color: var(--frinny-muted, #a29e90); display: flex; gap: 0.5em; align-items: center; }
.badge {
  font-size: 0.85em; padding: 0 0.4em; border-radius: 3px; border: 1px solid var(--frinny-accent, #c9a14a);
  color: var(--frinny-accent, #c9a14a);
}
.bubble {
  padding: 0.5em 0.7em; border-radius: var(--frinny-radius, 6px); white-space: pre-wrap; overflow-wrap: anywhere;
  border: 1px solid var(--frinny-border, #44465a);
}
.msg.user .bubble { background: var(--frinny-user-bg, #3a2e4f); border-color: #5b4a7a; border-bottom-right-radius: 2px; }
.msg.assistant .bubble { background: var(--frinny-assistant-bg, #262a33); border-bottom-left-radius: 2px; border-left: 3px solid var(--frinny-accent, #c9a14a); }
.msg.system .bubble { background: transparent; border-style: dashed; color: var(--frinny-muted, #a29e90); font-style: italic; }
.msg.pending .bubble { opacity: 0.7; }
.msg.failed .bubble { border-color: var(--frinny-error, #cf4b3e); }
.status { font-size: 0.75em; color: var(--frinny-muted, #a29e90); }
.msg.failed .status { color: #ffb3aa; }
.status button { font-size: 1em; padding: 0 0.4em; margin-left: 0.3em; }
.feedback { display: flex; gap: 0.25em; }
.feedback button {
  background: transparent; border-color: transparent; padding: 0.15em 0.3em; line-height: 0; color: var(--frinny-muted, #a29e90);
}
.feedback svg { width: 1.05em; height: 1.05em; fill: currentColor; display: block; }
.feedback .negative svg { transform: scale(-1, -1); }
.feedback button[aria-pressed="true"] { color: var(--frinny-accent, #c9a14a); }
.feedback button:hover:not(:disabled) { background: #2c2e38; border-color: var(--frinny-border, #44465a); }
.feedback button[aria-pressed="true"] { border-color: var(--frinny-accent, #c9a14a); background: #3a321f; }
frinny-typing-indicator { padding: 0 0.8em 0.2em; }
frinny-suggestion-box { padding: 0 0.7em; }
form {
  display: flex; flex-direction: column; gap: 0.4em; padding: 0.55em 0.7em 0.65em;
  border-top: 1px solid var(--frinny-border, #44465a); background: var(--frinny-surface, #22232b);
}
textarea {
  width: 100%; resize: none; min-height: 2.6em; max-height: 9em; font: inherit; color: var(--frinny-text, #ebe6d6);
  background: var(--frinny-surface-2, #2c2e38); border: 1px solid var(--frinny-border, #44465a);
  border-radius: calc(var(--frinny-radius, 6px) - 2px); padding: 0.45em 0.55em;
}
textarea::placeholder { color: #7d7a70; }
.controls { display: flex; align-items: center; justify-content: space-between; gap: 0.5em; }
.switch { display: inline-flex; align-items: center; gap: 0.45em; font-size: 0.85em; background: transparent; border: 0; padding: 0.1em 0; }
.switch .track {
  width: 2.1em; height: 1.15em; border-radius: 1em; background: #3a3c48; border: 1px solid var(--frinny-border, #44465a);
  position: relative; transition: background 0.15s;
}
.switch .track::after {
  content: ""; position: absolute; top: 1px; left: 1px; width: 0.85em; height: 0.85em; border-radius: 50%;
  background: #cfcabb; transition: transform 0.15s;
}
.switch[aria-checked="true"] .track { background: #6b5522; border-color: var(--frinny-accent, #c9a14a); }
.switch[aria-checked="true"] .track::after { transform: translateX(0.95em); background: #f3d98e; }
.switch:hover:not(:disabled) { background: transparent; }
.hint { font-size: 0.75em; color: var(--frinny-muted, #a29e90); display: inline-flex; align-items: center; gap: 0.3em; }
.hint::before { content: ""; width: 0.5em; height: 0.5em; border-radius: 50%; background: #6b6b6b; }
:host([data-synced="true"]) .hint::before { background: var(--frinny-success, #4a9e64); }
.right { display: flex; align-items: center; gap: 0.5em; }
`;

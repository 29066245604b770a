// The UI benchmark's page: how many events per second reach the screen
// through <frinny-notification-panel> and <frinny-combat-updates>, against
// a bare subscriber, over a real WebSocket flood (bench/ui/ui_bench.mjs).
//
// Both sides are timed the same way, from the first event to the moment
// the screen can show the last one:
// - bare: a subscriber that counts; the end is the first animation frame
//   after the last event (the earliest any subscriber could paint it);
// - element: the end is the animation frame in which the element's DOM
//   shows the last event (its per-frame flush applied it).
// So both carry the same frame granularity, and the ratio is the cost of
// the element's work (queueing, building at most one frame's items).
import { ready, AgentManager } from '/js/index.js';
import { defineComponents } from '/js/components/index.js';
import { lastText } from './payloads.js';

const params = new URLSearchParams(location.search);
const FLOOD_PORT = Number(params.get('flood'));

/** One flood of `n` events of `kind`, shown through `how`: 'bare', 'panel' or 'combat'. */
async function run(how, kind, n) {
  const stage = document.querySelector('#stage');
  stage.replaceChildren();
  const agent = new AgentManager({ url: `http://127.0.0.1:${FLOOD_PORT}`, query: { n, kind }, reconnection: false });
  let t0 = 0;
  let t1 = 0;
  let count = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  let element = null;
  if (how === 'bare') {
    agent.subscribe(kind, () => {
      if (count === 0) t0 = performance.now();
      if (++count === n) {
        requestAnimationFrame(() => {
          t1 = performance.now();
          finish();
        });
      }
    });
  } else {
    element = document.createElement(how === 'panel' ? 'frinny-notification-panel' : 'frinny-combat-updates');
    stage.append(element);
    element.agent = agent;
    // The first event's arrival (the element's own subscription came first).
    agent.subscribe(kind, () => {
      if (count++ === 0) t0 = performance.now();
    });
    const want = lastText(kind, n);
    const selector = how === 'panel' ? 'li .message' : 'li .name';
    const flush = element._flush;
    element._flush = function () {
      flush.call(this);
      if (!t1 && this.shadowRoot.querySelector(selector)?.textContent === want) {
        t1 = performance.now();
        finish();
      }
    };
  }
  const timeout = setTimeout(() => finish(new Error(`${how} ${kind}: ${count}/${n} events`)), 120000);
  agent.connect().catch(() => {});
  const err = await done;
  clearTimeout(timeout);
  if (element) element.agent = null;
  agent.close();
  agent.free();
  if (err) throw err;
  return { n, ms: t1 - t0, rate: (n - 1) / ((t1 - t0) / 1000) };
}

try {
  await ready();
  defineComponents();
  window.bench = { run };
  window.benchReady = true;
} catch (e) {
  window.benchError = String(e);
}

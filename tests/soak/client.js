// The soak clients of one page: AgentManagers (each its own WebSocket and
// wasm state) driven by tests/soak/soak.mjs through page.evaluate. Every
// request is booked: when it was issued, how many times it settled, how.
// Tokens come from the driver (window.mintToken, exposed by playwright), so
// the driver decides when one should expire.
import init, { AgentManager } from '/pkg/frinny_agent.js';

const wasm = await init();

/** Booking of every request, by id `<client>:<n>`. */
const book = new Map();
/** Per client: its manager, its scope, its acknowledged writes in order. */
const clients = [];
/** Codes reported to onError (requests own none of them), `CODE` or `CODE:detail`. */
const reported = {};

function bookRequest(client, kind, promise, onOk) {
  const id = `${client.index}:${client.issued++}`;
  const entry = { kind, at: performance.now(), settles: 0, outcome: null };
  book.set(id, entry);
  promise.then(
    (value) => {
      entry.settles += 1;
      entry.outcome ??= 'ok';
      onOk?.(value);
    },
    (err) => {
      entry.settles += 1;
      const code = err?.code ?? 'NO_CODE';
      entry.outcome ??= code === 'SERVER_ERROR' && err.serverCode ? `SERVER_ERROR:${err.serverCode}` : code;
      if (kind === 'update' && code !== 'TIMEOUT' && code !== 'DISCONNECTED') client.resync = true;
    },
  );
}

/** Makes `count` clients of this page, `first` the index of the first. */
window.startClients = async ({ url, first, count, requestTimeout, world }) => {
  const joins = [];
  for (let k = 0; k < count; k++) {
    const index = first + k;
    const user = `soak-${index}`;
    const agent = new AgentManager({
      url,
      query: { client: String(index) },
      auth: async () => ({ token: await window.mintToken(index) }),
      timeout: requestTimeout,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1500,
      connectTimeout: 4000,
      bufferSize: 1000,
    });
    agent.onError((e) => {
      const key = e.detail ? `${e.code}:${e.detail}` : e.serverCode ? `${e.code}:${e.serverCode}` : e.code;
      reported[key] = (reported[key] ?? 0) + 1;
    });
    const client = { index, user, agent, scope: `user:${user}`, world, issued: 0, acked: [], resync: false };
    clients.push(client);
    joins.push(agent.connect().then(() => agent.syncState(client.scope)));
  }
  await Promise.all(joins);
};

function sync(client) {
  if (!client.resync) return;
  client.resync = false;
  // A refused subscribe (UNAVAILABLE while Redis stalls, RATE_LIMITED) drops
  // the scope in the store; following it again keeps the writes flowing.
  client.agent.syncState(client.scope).catch(() => {
    client.resync = true;
  });
}

/** One request of client `i`: a query (70 %) or a write into its own scope. */
function issue(client, n) {
  sync(client);
  if (n % 10 < 7) {
    bookRequest(client, 'query', client.agent.request('query', { content: `soak ${client.index} #${n}` }));
  } else {
    const key = `k${n}`;
    bookRequest(client, 'update', client.agent.updateState(client.scope, { [key]: n }), (result) => {
      client.acked.push({ key, value: n, version: result.version });
    });
  }
}

/**
 * Issues `perClient` requests from every client of this page, one every
 * `intervalMs` each (open loop: a slow reply does not slow the load), and
 * resolves once the last one is issued.
 */
window.runLoad = ({ perClient, intervalMs }) =>
  Promise.all(
    clients.map(
      (client, k) =>
        new Promise((done) => {
          let n = 0;
          const next = () => {
            if (n >= perClient) return done();
            issue(client, n++);
            setTimeout(next, intervalMs);
          };
          // Spread the clients over one interval.
          setTimeout(next, (intervalMs * k) / clients.length);
        }),
    ),
  );

/** A burst of `count` queries at once from client `index` (the rate-limit fault). */
window.burst = (index, count) => {
  const client = clients.find((c) => c.index === index);
  for (let n = 0; n < count; n++) {
    bookRequest(client, 'query', client.agent.request('query', { content: `burst ${n}` }));
  }
};

/** Counts of the booking so far. */
window.tally = () => {
  const t = { issued: 0, settled: 0, unsettled: 0, twice: 0, outcomes: {}, oldestUnsettledMs: 0 };
  const now = performance.now();
  for (const e of book.values()) {
    t.issued += 1;
    if (e.settles === 0) {
      t.unsettled += 1;
      t.oldestUnsettledMs = Math.max(t.oldestUnsettledMs, now - e.at);
    } else {
      t.settled += 1;
      t.outcomes[e.outcome] = (t.outcomes[e.outcome] ?? 0) + 1;
    }
    if (e.settles > 1) t.twice += 1;
  }
  t.doubleSettles = window.__soak.doubleSettles;
  t.reported = { ...reported };
  t.states = clients.map((c) => c.agent.state);
  return t;
};

/** What each client believes it wrote (acknowledged writes, in order). */
window.ackedWrites = () => clients.map((c) => ({ scope: c.scope, acked: c.acked }));

/**
 * Reads scopes back through a fresh manager with a GM token (a GM may read
 * every `user:` scope) and returns their documents.
 */
window.readBack = async ({ url, scopes }) => {
  const agent = new AgentManager({ url, auth: async () => ({ token: await window.mintToken(-1) }), timeout: 10_000 });
  await agent.connect();
  const docs = {};
  for (const scope of scopes) docs[scope] = await agent.syncState(scope);
  agent.close();
  return docs;
};

/** The wasm memory of this page, in bytes. */
window.wasmMemory = () => wasm.memory.buffer.byteLength;

/** Closes every client (the end of the run). */
window.closeAll = () => {
  for (const c of clients) c.agent.close();
};

window.soakReady = true;

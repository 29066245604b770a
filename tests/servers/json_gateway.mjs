// A stand-in for the live Frinny API gateway (the plain-JSON WebSocket the
// current Foundry module talks to), strict about what it receives: every
// frame must have exactly the shape the current module sends, or the
// gateway answers `{action:'error', message:'<what was wrong>', request_id}`.
//
//   node tests/servers/json_gateway.mjs --port 0 --lifetime 120
//   -> prints "listening <port>"; exits by itself after --lifetime seconds.
//
// WebSocket (any path) `ws://127.0.0.1:<port>/ws?userId=<id>`; without
// userId the socket is closed with code 4001.
//
// Frames checked (keys must match exactly; `request_id` a non-empty string;
// `userId` the one the socket connected with):
// - query: {action:'query', content, actorId, conversation_history,
//   is_public_chat, request_id, userId}; private: conversation_history is at
//   most 11 `{role:'user'|'assistant', content}` items; public
//   (is_public_chat true) adds system_id, current_speaker {userId, name,
//   actorId, actorName} and message_count (= the history's length, at most
//   10 message objects).
// - game events: exactly {action:'event', payload:{action, ...data,
//   request_id, userId}} with payload.action one of character_creation_start,
//   combat_turn, level_up, combat_start, feedback, and no top-level
//   request_id. feedback's payload must carry messageId and type.
//
// Replies (to the asking socket):
// - query: {action:'typing_status', isTyping:true}, then
//   {action:'query_response', request_id, content, messageId}, then typing
//   false. Content 'fail' gets {action:'error', message:'the model is
//   unavailable', request_id} instead; content 'hold' is answered only on
//   POST /release.
// - character_creation_start -> character_creation_response; combat_turn and
//   combat_start -> combat_response; level_up -> level_up_response (each
//   {request_id, content, messageId}).
// - feedback -> {action:'feedback_response', request_id, status:'received'}.
//   (What the live gateway sends for feedback is not known: the old class
//   waited for a reply it had no handler for, so its feedback timed out after
//   30 s; this gateway answers so that the drop-in's request resolves.)
//
// Control channel (HTTP on the same port, JSON bodies):
// - GET  /frames   -> [{userId, frame, raw, violation}] every frame received, in order
// - POST /reset    -> forgets the recorded frames
// - GET  /clients  -> [{userId, url}] the open sockets
// - POST /send     {kind, userId?, ...} sends to every socket (or the user's):
//     kind 'garbage'          a frame that is not JSON
//     kind 'no_action'        {hello:'world'} (valid JSON without action)
//     kind 'error'            {action:'error', message} without request_id
//     kind 'character_update' {action:'character_update', actorId, updates:{skills}, message_id}
//     kind 'frame'            body.frame as it is
// - POST /release  -> answers the held ('hold') queries
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const port = arg('port', 0);
const lifetime = arg('lifetime', 300);

const GAME_EVENTS = ['character_creation_start', 'combat_turn', 'level_up', 'combat_start', 'feedback'];
const REPLY = {
  character_creation_start: 'character_creation_response',
  combat_turn: 'combat_response',
  combat_start: 'combat_response',
  level_up: 'level_up_response',
};
const QUERY_KEYS = ['action', 'content', 'actorId', 'conversation_history', 'is_public_chat', 'request_id', 'userId'];
const PUBLIC_KEYS = [...QUERY_KEYS, 'system_id', 'current_speaker', 'message_count'];
const SPEAKER_KEYS = ['userId', 'name', 'actorId', 'actorName'];

const frames = [];
const held = [];
let nextMessageId = 1;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const sameKeys = (obj, keys) => {
  const have = Object.keys(obj).sort();
  const want = [...keys].sort();
  return have.length === want.length && have.every((k, i) => k === want[i]);
};
const keyDiff = (obj, keys) => {
  const extra = Object.keys(obj).filter((k) => !keys.includes(k));
  const missing = keys.filter((k) => !(k in obj));
  return `${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}`;
};
const isId = (v) => typeof v === 'string' && v.length > 0;

/** What is wrong with a query frame, or null. */
function checkQuery(f, userId) {
  const pub = f.is_public_chat === true;
  const keys = pub ? PUBLIC_KEYS : QUERY_KEYS;
  if (!sameKeys(f, keys)) return `query keys: ${keyDiff(f, keys)}`;
  if (typeof f.content !== 'string') return 'query content must be a string';
  if (f.actorId !== null && typeof f.actorId !== 'string') return 'query actorId must be a string or null';
  if (typeof f.is_public_chat !== 'boolean') return 'query is_public_chat must be a boolean';
  if (!isId(f.request_id)) return 'query request_id must be a non-empty string';
  if (f.userId !== userId) return `query userId ${JSON.stringify(f.userId)} is not the connection's ${JSON.stringify(userId)}`;
  const h = f.conversation_history;
  if (!Array.isArray(h)) return 'query conversation_history must be an array';
  if (pub) {
    if (h.length > 10) return `public conversation_history has ${h.length} messages (at most 10)`;
    if (!h.every(isObject)) return 'public conversation_history items must be message objects';
    if (typeof f.system_id !== 'string') return 'query system_id must be a string';
    if (f.message_count !== h.length) return 'query message_count must be the history length';
    const s = f.current_speaker;
    if (!isObject(s) || !sameKeys(s, SPEAKER_KEYS)) return `current_speaker keys: ${isObject(s) ? keyDiff(s, SPEAKER_KEYS) : 'not an object'}`;
    if (s.userId !== userId) return 'current_speaker.userId is not the connection user';
  } else {
    if (h.length > 11) return `private conversation_history has ${h.length} messages (at most 10 + the new one)`;
    for (const [i, m] of h.entries()) {
      if (!isObject(m) || !sameKeys(m, ['role', 'content'])) return `conversation_history[${i}] must be exactly {role, content}`;
      if (m.role !== 'user' && m.role !== 'assistant') return `conversation_history[${i}].role ${JSON.stringify(m.role)} is not user|assistant`;
      if (typeof m.content !== 'string') return `conversation_history[${i}].content must be a string`;
    }
    const last = h.at(-1);
    if (!last || last.role !== 'user' || last.content !== f.content) return 'private conversation_history must end with the new message';
  }
  return null;
}

/** What is wrong with a wrapped game event frame, or null. */
function checkEvent(f, userId) {
  if (!sameKeys(f, ['action', 'payload'])) return `event keys: ${keyDiff(f, ['action', 'payload'])}`;
  const p = f.payload;
  if (!isObject(p)) return 'event payload must be an object';
  if (!GAME_EVENTS.includes(p.action)) return `event payload.action ${JSON.stringify(p.action)} is not one of ${GAME_EVENTS.join(', ')}`;
  if (!isId(p.request_id)) return 'event payload.request_id must be a non-empty string';
  if (p.userId !== userId) return `event payload.userId ${JSON.stringify(p.userId)} is not the connection's ${JSON.stringify(userId)}`;
  if (p.action === 'feedback' && (!('messageId' in p) || typeof p.type !== 'string')) return 'feedback payload needs messageId and type';
  return null;
}

const send = (ws, obj) => {
  if (ws.readyState === ws.OPEN) ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
};

function answerQuery(ws, f) {
  send(ws, { action: 'typing_status', isTyping: true });
  setTimeout(() => {
    send(ws, {
      action: 'query_response',
      request_id: f.request_id,
      content: `Frinny (${f.is_public_chat ? 'public' : 'private'}, ${f.conversation_history.length} in history): ${f.content}`,
      messageId: `msg-${nextMessageId++}`,
    });
    send(ws, { action: 'typing_status', isTyping: false });
  }, 5);
}

function onFrame(ws, raw) {
  const entry = { userId: ws.userId, frame: null, raw, violation: null };
  frames.push(entry);
  let f;
  try {
    f = JSON.parse(raw);
  } catch {
    entry.violation = 'not JSON';
    send(ws, { action: 'error', message: 'frame is not JSON' });
    return;
  }
  entry.frame = f;
  const fail = (message) => {
    entry.violation = message;
    send(ws, { action: 'error', message, request_id: f?.request_id ?? f?.payload?.request_id });
  };
  if (!isObject(f)) return fail('frame must be a JSON object');
  if (f.action === 'query') {
    const wrong = checkQuery(f, ws.userId);
    if (wrong) return fail(wrong);
    if (f.content === 'fail') {
      send(ws, { action: 'error', message: 'the model is unavailable', request_id: f.request_id });
    } else if (f.content === 'hold') {
      held.push({ ws, f });
    } else {
      answerQuery(ws, f);
    }
    return;
  }
  if (f.action === 'event') {
    const wrong = checkEvent(f, ws.userId);
    if (wrong) return fail(wrong);
    const p = f.payload;
    if (p.action === 'feedback') {
      send(ws, { action: 'feedback_response', request_id: p.request_id, status: 'received' });
    } else {
      send(ws, { action: REPLY[p.action], request_id: p.request_id, content: `Frinny on ${p.action}`, messageId: `msg-${nextMessageId++}` });
    }
    return;
  }
  return fail(`unknown action ${JSON.stringify(f.action)}`);
}

function targets(userId) {
  return [...wss.clients].filter((ws) => userId == null || ws.userId === userId);
}

async function body(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

const http = createServer(async (req, res) => {
  const reply = (status, obj) => {
    res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify(obj));
  };
  try {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'GET' && path === '/frames') return reply(200, frames);
    if (req.method === 'GET' && path === '/clients') {
      return reply(200, [...wss.clients].map((ws) => ({ userId: ws.userId, url: ws.path })));
    }
    if (req.method === 'POST' && path === '/reset') {
      frames.length = 0;
      return reply(200, { ok: true });
    }
    if (req.method === 'POST' && path === '/release') {
      const n = held.length;
      for (const { ws, f } of held.splice(0)) answerQuery(ws, f);
      return reply(200, { released: n });
    }
    if (req.method === 'POST' && path === '/send') {
      const b = await body(req);
      let frame;
      switch (b.kind) {
        case 'garbage': frame = 'this is not json {'; break;
        case 'no_action': frame = { hello: 'world' }; break;
        case 'error': frame = { action: 'error', message: b.message ?? 'gateway hiccup' }; break;
        case 'character_update':
          frame = {
            action: 'character_update',
            actorId: b.actorId ?? 'a1',
            updates: { skills: b.skills ?? { athletics: 'expert' } },
            message_id: b.message_id ?? 'msg-update',
          };
          break;
        case 'frame': frame = b.frame; break;
        default: return reply(400, { error: `unknown kind ${b.kind}` });
      }
      const to = targets(b.userId);
      for (const ws of to) send(ws, frame);
      return reply(200, { sent: to.length });
    }
    return reply(404, { error: `no route ${req.method} ${path}` });
  } catch (err) {
    return reply(500, { error: String(err) });
  }
});

const wss = new WebSocketServer({ server: http });
wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x');
  ws.path = req.url;
  ws.userId = url.searchParams.get('userId');
  if (!ws.userId) {
    ws.close(4001, 'userId is required');
    return;
  }
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      frames.push({ userId: ws.userId, frame: null, raw: null, violation: 'binary frame' });
      send(ws, { action: 'error', message: 'binary frames are not accepted' });
      return;
    }
    onFrame(ws, data.toString());
  });
});

http.listen(port, '127.0.0.1', () => {
  console.log(`listening ${http.address().port}`);
});

setTimeout(() => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  http.close();
  process.exit(0);
}, lifetime * 1000).unref();

// A plain WebSocket server speaking the JSON framing (one object per frame,
// routed by `action`), for the `protocol: 'json'` interop tests.
//
// - {action: 'query', request_id, content} -> {action: 'query_response', request_id, content}
//   between {action: 'typing_status', isTyping} true and false;
// - content 'fail' -> {action: 'error', request_id, error};
// - {action: 'broadcast', event, payload} -> {action: event, ...payload} to every client;
// - {action: 'ping_me'} -> {action: 'pong_you'};
// - content 'garbage' -> a frame that is not JSON, an object without `action`,
//   then the query_response (the link and the request must survive);
// - {action: 'event', payload: {action: name, request_id, ...}} (the Frinny
//   gateway's game events) -> {action: <name's response>, request_id, received}
//   where `received` is the whole frame as the server got it; payload
//   content 'fail' -> {action: 'error', request_id, message}.
// Listens on 127.0.0.1 only; exits by itself after --lifetime seconds.
import { WebSocketServer } from 'ws';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const port = arg('port', 28473);
const lifetime = arg('lifetime', 900);

// What the live gateway answers each game event with.
const RESPONSES = {
  character_creation_start: 'character_creation_response',
  combat_turn: 'combat_response',
  combat_start: 'combat_start_response',
  level_up: 'level_up_response',
  feedback: 'feedback_response',
};

const wss = new WebSocketServer({ host: '127.0.0.1', port });
const send = (ws, obj) => ws.send(JSON.stringify(obj));

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    switch (msg.action) {
      case 'query':
        if (msg.content === 'fail') {
          send(ws, { action: 'error', request_id: msg.request_id, error: 'refused by test server' });
        } else if (msg.content === 'garbage') {
          ws.send('this is not json');
          send(ws, { no: 'action' });
          send(ws, { action: 'query_response', request_id: msg.request_id, content: 'after garbage' });
        } else {
          send(ws, { action: 'typing_status', isTyping: true });
          send(ws, { action: 'query_response', request_id: msg.request_id, content: `echo: ${msg.content}` });
          send(ws, { action: 'typing_status', isTyping: false });
        }
        break;
      case 'broadcast':
        for (const client of wss.clients) send(client, { action: msg.event, ...(msg.payload ?? {}) });
        break;
      case 'event': {
        const p = msg.payload ?? {};
        if (p.content === 'fail') {
          send(ws, { action: 'error', request_id: p.request_id, message: `refused ${p.action}` });
        } else {
          send(ws, { action: RESPONSES[p.action] ?? `${p.action}_response`, request_id: p.request_id, received: msg });
        }
        break;
      }
      case 'ping_me':
        send(ws, { action: 'pong_you', n: msg.n ?? null });
        break;
      default:
        send(ws, { action: 'error', error: `unknown action ${msg.action}` });
    }
  });
});

wss.on('listening', () => console.log(`json server on 127.0.0.1:${port}`));
setTimeout(() => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  process.exit(0);
}, lifetime * 1000).unref();

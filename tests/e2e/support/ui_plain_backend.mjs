// A Frinny backend WITHOUT state synchronisation, as the Flask-SocketIO
// backend is: a plain Socket.IO server (npm `socket.io`) that answers
// `query` with typing_status / query_response to the user's room and never
// answers `state:subscribe`. For the chat window's "works without sync" test.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

/**
 * Starts it on a free loopback port.
 * @returns {Promise<{url: string, events: Array<[string, unknown]>, stop: () => Promise<void>}>}
 *   `events`: every client event received, in order
 */
export async function startPlainBackend() {
  const http = createServer();
  const io = new Server(http, { cors: { origin: true } });
  const events = [];
  io.on('connection', (socket) => {
    const userId = String(socket.handshake.query.userId ?? 'anonymous');
    socket.join(userId);
    socket.emit('connection_established', {
      status: 'connected',
      endpoints: ['query'],
      userId,
      sid: socket.id,
      timestamp: Date.now(),
    });
    socket.onAny((event, payload) => {
      events.push([event, payload]);
      if (event !== 'query') return; // state:subscribe and the rest: never answered
      const requestId = payload?.request_id;
      io.to(userId).emit('typing_status', { isTyping: true, request_id: requestId });
      setTimeout(() => {
        io.to(userId).emit('query_response', { request_id: requestId, content: `[plain backend] ${payload?.content}` });
        io.to(userId).emit('typing_status', { isTyping: false, request_id: requestId });
      }, 50);
    });
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address();
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    stop: () =>
      new Promise((resolve) => {
        io.close(() => resolve());
      }),
  };
}

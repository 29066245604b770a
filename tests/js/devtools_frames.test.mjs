// The devtools' frame reader (js/devtools/frames.js) on msgpack frames:
// what npm socket.io-msgpack-parser 3.x writes is described as the text
// parser's frames are (name, ack id, body with binary placeholders), the
// request tracker pairs msgpack requests with their acks, and binary frames
// that are not msgpack packets stay `binary`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describeFrame, payloadOf, RequestTracker } from '../../js/devtools/frames.js';

const require = createRequire(import.meta.url);
const parser = require('socket.io-msgpack-parser');

/** The frame the npm encoder writes for `packet`, as the inspector hands it over. */
function frame(packet) {
  const [buf] = new parser.Encoder().encode(packet);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

test('msgpack events, acks and connects are described like text frames', () => {
  const event = describeFrame(frame({ type: 2, nsp: '/', data: ['query', { content: 'hi', request_id: 'r1' }], id: 4 }));
  assert.equal(event.kind, 'event');
  assert.equal(event.name, 'query');
  assert.equal(event.ackId, 4);
  assert.deepEqual(payloadOf(event), { content: 'hi', request_id: 'r1' });

  const ack = describeFrame(frame({ type: 3, nsp: '/', data: [{ ok: true }], id: 4 }));
  assert.deepEqual([ack.kind, ack.name, ack.ackId], ['ack', 'ack 4', 4]);
  assert.deepEqual(payloadOf(ack), { ok: true });

  const connect = describeFrame(frame({ type: 0, nsp: '/admin', data: { sid: 'x' } }));
  assert.deepEqual([connect.kind, connect.name], ['socket', 'connect']);
  const error = describeFrame(frame({ type: 4, nsp: '/', data: { message: 'no' } }));
  assert.equal(error.name, 'connect_error');
});

test('binary values show as the text parser placeholders, depth first', () => {
  const data = frame({ type: 2, nsp: '/', data: ['upload', { a: Buffer.from([1]), b: [new Uint8Array([2, 3]).buffer] }] });
  const d = describeFrame(data);
  assert.equal(d.size, data.byteLength);
  assert.deepEqual(payloadOf(d), { a: { _placeholder: true, num: 0 }, b: [{ _placeholder: true, num: 1 }] });
  // notepack's Date and undefined read as JSON.stringify writes them.
  const dated = describeFrame(frame({ type: 2, nsp: '/', data: ['t', { at: new Date(0), gone: undefined }] }));
  assert.deepEqual(payloadOf(dated), { at: '1970-01-01T00:00:00.000Z' });
});

test('the request tracker pairs msgpack requests with their acks', () => {
  const settled = [];
  const tracker = new RequestTracker((ms, code) => settled.push([ms, code]));
  tracker.see('out', describeFrame(frame({ type: 2, nsp: '/', data: ['echo', { request_id: 'a' }], id: 1 })), 100);
  tracker.see('in', describeFrame(frame({ type: 3, nsp: '/', data: [{ ok: 1 }], id: 1 })), 130);
  assert.deepEqual(settled, [[30, 'OK']]);
});

test('binary frames that are not msgpack packets stay binary', () => {
  for (const bytes of [[0x89, 0x50, 0x4e, 0x47], [0x81, 0xa3, 0x6e, 0x73], [0x82, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x09, 0xa3, 0x6e, 0x73, 0x70, 0xa1, 0x2f], [0xc1], []]) {
    const d = describeFrame(new Uint8Array(bytes).buffer);
    assert.deepEqual([d.kind, d.size], ['binary', bytes.length], JSON.stringify(bytes));
  }
});

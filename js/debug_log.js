// What `agent.debug = true` logs, for the managers written in JS: the test
// agent (js/testing/) and the tab side of `shareAcrossTabs` (js/share/tab.js)
// log the same console groups as the wasm manager's built-in inspector, one
// per frame or state change. The event hub (src/web/event_hub.js) has its
// own copy, because a wasm-bindgen snippet cannot import another file;
// tests/js/debug_log.test.mjs checks that the two log alike. (Handing the
// hub this module from Rust, as a second snippet, was tried: with two more
// snippet files the page of wasm-bindgen-test-runner 0.2.130 stalls while
// loading its scripts, so the browser suite cannot run.)

/** @param {string | ArrayBuffer} data */
function frameBytes(data) {
  return typeof data === 'string' ? new TextEncoder().encode(data).length : data.byteLength;
}

/**
 * Logs one inspector record as a collapsed console group: the direction,
 * the event name and the size in the title, the frame and its JSON inside.
 * @param {any} record
 */
export function logRecord(record) {
  if (record.type === 'state') {
    console.groupCollapsed(`frinny-agent ● ${record.state}`, record.reason);
    console.log(record);
    console.groupEnd();
    return;
  }
  const { data } = record;
  let name = 'binary';
  let body = data;
  if (typeof data === 'string') {
    const start = data.search(/[[{]/);
    try {
      body = start < 0 ? data : JSON.parse(data.slice(start));
    } catch {
      body = data;
    }
    name = Array.isArray(body) && typeof body[0] === 'string' ? body[0]
      : body !== null && typeof body === 'object' && typeof body.action === 'string' ? body.action
      : `packet ${data.slice(0, start < 0 ? 3 : Math.min(start, 3))}`;
  }
  console.groupCollapsed(`frinny-agent ${record.direction === 'in' ? '⇣' : '⇡'} ${name} (${frameBytes(data)} B)`);
  console.log(typeof data === 'string' ? data : '(binary frame)');
  if (body !== data) console.log(body);
  console.groupEnd();
}

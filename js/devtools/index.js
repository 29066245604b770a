// frinny-agent/devtools: <frinny-devtools>, a live view of an AgentManager
// (events both ways, synced state, the connection, performance).
//
//   import { defineDevtools } from 'frinny-agent/devtools';
//   defineDevtools();
//   document.querySelector('frinny-devtools').agent = agent;   // el.agent = null lets go
export { FrinnyDevtools, defineDevtools, DEFAULT_LOG_SIZE } from './devtools.js';
export { describeFrame, payloadOf, RequestTracker, utf8Length } from './frames.js';
export { RingBuffer } from './ring.js';
export { DEVTOOLS_STRINGS } from './strings.js';

// Package entry: loads the wasm module once and re-exports the client.
//
//   import { ready, AgentManager } from 'frinny-agent';
//   await ready();
//   const agent = new AgentManager({ url: 'http://127.0.0.1:5001', auth: { token } });
import init, * as wasm from '../pkg/frinny_agent.js';

let loading;

/** Loads and instantiates the wasm module; safe to call many times. */
export function ready(moduleOrPath) {
  loading ??= init(moduleOrPath);
  return loading;
}

export const AgentManager = wasm.AgentManager;
export default ready;

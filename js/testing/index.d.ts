// Types of `frinny-agent/testing`: a test agent typed as the package's own
// AgentManager (so it goes wherever one is expected), and the server a
// test drives it with.

import type { AgentManager, AgentManagerOptions, CustomEventSpec } from '../index.js';
import type { ClientEvents, Responses, ServerEvents } from '../EventTypes.js';

/** `N` itself unless it is one of the keys of `Known`: the untyped fallback of an overload. */
type Other<N extends string, Known> = N extends keyof Known ? never : N;

/** Options of `createTestAgent`: the AgentManager's, with `url` optional (nothing is dialled). */
export type TestAgentOptions = Omit<AgentManagerOptions, 'url'> & { url?: string };

/** One thing the client sent: an emit, a request (its payload carries `request_id`), or a `state:*` message. */
export interface ReceivedMessage {
  name: string;
  payload: any;
}

/** The server's copy of a synced scope. */
export interface ServerScope {
  version: number;
  doc: Record<string, any>;
}

/** The backend's side of a test agent's link. */
export declare class TestServer {
  /** Everything the client sent, in order (requests with their `request_id`, `state:*` messages included). */
  readonly received: ReceivedMessage[];
  /** The CONNECT auth of the latest connection attempt (the `auth` option, or what its function gave). */
  readonly auth: Record<string, unknown> | undefined;
  /** Whether the agent is connected now. */
  readonly connected: boolean;
  /** The agent's role as the server sees it: `'gm'` (default) may `defineEvents`; `'player'` gets SERVER_ERROR with `serverCode` FORBIDDEN. */
  role: 'gm' | 'player';
  /** The custom events declared with `defineEvents` (copies, members filled in), checked as the reference server checks them. */
  readonly customEvents: CustomEventSpec[];
  /** False between `drop()` and `restore()`. */
  readonly reachable: boolean;
  /**
   * Delivers a server event to the agent's subscribers; a `*_response` or
   * `error` payload with a waiting request's `request_id` answers it.
   * Returns false (the event is lost) when the agent is not connected.
   * @example server.emit('typing_status', { isTyping: true });
   */
  emit<K extends keyof ServerEvents>(name: K, payload: ServerEvents[K]): boolean;
  emit<N extends string>(name: Other<N, ServerEvents>, ...args: unknown[]): boolean;
  /**
   * Delivers a server event that asks for an answer, as a Node server's
   * `socket.emitWithAck`: the subscribers get an `ack` function last, and
   * the Promise resolves with the first argument of the first `ack` call.
   * Rejects with DISCONNECTED (an `AgentError`) when the agent is not
   * connected or the link ends before the answer.
   * @example const answer = await server.emitWithAck('x-my-module:confirm', { question: 'Roll?' });
   */
  emitWithAck<K extends keyof ServerEvents>(name: K, payload: ServerEvents[K]): Promise<any>;
  emitWithAck<N extends string>(name: Other<N, ServerEvents>, ...args: unknown[]): Promise<any>;
  /**
   * Answers requests named `name` with `fn(payload)` (a value or a
   * Promise). A throw rejects the request: a client code (`TIMEOUT`, ...) as
   * itself, any other `code` as SERVER_ERROR with that `serverCode`, no code
   * as SERVER_ERROR. Returns the function that removes the handler.
   * @example server.handle('query', ({ content }) => ({ content: `You asked: ${content}` }));
   */
  handle<K extends keyof Responses>(
    name: K,
    fn: (payload: (K extends keyof ClientEvents ? ClientEvents[K] : Record<string, unknown>) & { request_id: string }) => Responses[K] | Promise<Responses[K]>,
  ): () => void;
  handle<N extends string>(name: Other<N, Responses>, fn: (payload: any) => unknown): () => void;
  /** The link is lost: the agent reconnects with backoff, and its attempts fail until `restore()`. */
  drop(): void;
  /** The server is back: a reconnecting agent reconnects at once, flushes its buffer and catches its scopes up. */
  restore(): void;
  /** Refuses connection attempts with this CONNECT_ERROR message (CONNECT_REFUSED) until called with `null`. */
  refuse(message: string | null): void;
  /** Replaces the document of `scope` (a new version) and pushes it to the agent if it follows the scope; returns the version. */
  setState(scope: string, doc: Record<string, unknown>): number;
  /** The server's copy of `scope`, or undefined. */
  state(scope: string): ServerScope | undefined;
}

/** The test agent's class; `createTestAgent` is the way to make one. */
export declare const TestAgent: {
  new (options?: TestAgentOptions, server?: TestServer): AgentManager;
};

/**
 * An AgentManager without wasm or socket, and the server it talks to.
 * @example
 * const { agent, server } = createTestAgent({ query: { userId: 'u1' } });
 * server.handle('query', () => ({ content: 'Roll initiative.' }));
 * await agent.connect();
 * const { content } = await agent.sendQuery({ content: 'What now?' });
 */
export declare function createTestAgent(options?: TestAgentOptions): { agent: AgentManager; server: TestServer };

export default createTestAgent;

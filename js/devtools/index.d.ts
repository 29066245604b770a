// Types of `frinny-agent/devtools`: <frinny-devtools> and its helpers.

import type { Agent, FrinnyElement } from '../components/index.js';

/** What `<frinny-devtools>` uses of an agent: an element's, plus the inspector tap and the state view when it has them. */
export interface InspectableAgent extends Agent {
  inspect?(listener: (record: any) => void): () => void;
  inspectState?(scope?: string): any;
  metrics?(): any;
}

/** One row of `exportLog()`. */
export interface ExportedFrame {
  /** ISO time. */
  time: string;
  direction: 'in' | 'out';
  name: string;
  /** Bytes (UTF-8 for text). */
  size: number;
  /** The frame's text; null for a binary frame. */
  frame: string | null;
  /** The payload, parsed; null when there is none. */
  payload: unknown;
}

/**
 * `<frinny-devtools log-size="1000">`: events both ways (filter, pause,
 * clear, export), synced state, the connection timeline and performance
 * charts. Attach with `el.agent = agent`; removing it or `el.agent = null`
 * lets go of everything it held on the agent.
 */
export declare class FrinnyDevtools extends FrinnyElement {
  agent: InspectableAgent | null;
  /** Frames kept (attribute `log-size`, default 1000). */
  logSize: number;
  /** The tab shown. */
  tab: 'events' | 'state' | 'connection' | 'performance';
  /** The log filter: names and frame text containing it (case-insensitive). */
  filter: string;
  /** While true, new frames are left out of the log (and counted). */
  paused: boolean;
  /** Empties the event log. */
  clear(): void;
  /** The log, oldest first. */
  exportLog(): ExportedFrame[];
  /** Downloads `exportLog()` as a JSON file. */
  download(): void;
}

/** Default of `log-size`. */
export declare const DEFAULT_LOG_SIZE: number;

/** Registers `<frinny-devtools>` (harmless if it is defined already). */
export declare function defineDevtools(registry?: CustomElementRegistry): void;

/** What a wire frame is, worked out from its text without parsing the payload. */
export interface FrameInfo {
  kind: 'event' | 'ack' | 'engine' | 'socket' | 'json' | 'binary';
  /** The event name, `ack <id>`, `ping`, `connect`, a JSON action... */
  name: string;
  /** Bytes (UTF-8 for text). */
  size: number;
  ackId: number | undefined;
  /** The JSON text after the packet header. */
  body: string | undefined;
}

/** Describes a frame as `inspect()` hands it over; a `parser: 'msgpack'`
 *  binary frame as the packet it holds (its body as JSON text, binary values
 *  as placeholders). */
export declare function describeFrame(data: string | ArrayBuffer): FrameInfo;
/** The frame's payload: an event's argument(s), an ack's reply, a JSON action. */
export declare function payloadOf(frame: FrameInfo): unknown;
/** UTF-8 length of a string. */
export declare function utf8Length(text: string): number;

/** Pairs requests with their answers from the frames (ack id or `request_id`). */
export declare class RequestTracker {
  constructor(settle: (latencyMs: number, code: string) => void, max?: number);
  see(direction: 'in' | 'out', frame: FrameInfo, time: number): void;
  clear(): void;
}

/** A fixed-size ring buffer. */
export declare class RingBuffer<T> {
  constructor(capacity: number);
  readonly capacity: number;
  readonly length: number;
  /** Items pushed out to make room. */
  readonly dropped: number;
  push(item: T): void;
  toArray(): T[];
  clear(): void;
}

/** Every devtools string key and its English default (routed through `setTranslator`). */
export declare const DEVTOOLS_STRINGS: Readonly<Record<string, string>>;

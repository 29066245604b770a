// The UI strings of <frinny-devtools>: `FRINNY.Devtools.*` keys with
// English defaults. They go through the components' translator
// (`setTranslator` of frinny-agent/components) like every Frinny string;
// a key the translator does not know falls back to the default here.
import { localize } from '../components/strings.js';

/** Every key and its English default. `{name}` is a placeholder. */
export const DEVTOOLS_STRINGS = Object.freeze({
  'FRINNY.Devtools.Title': 'Frinny devtools',
  'FRINNY.Devtools.Events': 'Events',
  'FRINNY.Devtools.State': 'State',
  'FRINNY.Devtools.Connection': 'Connection',
  'FRINNY.Devtools.Performance': 'Performance',
  'FRINNY.Devtools.Filter': 'Filter by name or text',
  'FRINNY.Devtools.Pause': 'Pause',
  'FRINNY.Devtools.Resume': 'Resume',
  'FRINNY.Devtools.Clear': 'Clear',
  'FRINNY.Devtools.Export': 'Export JSON',
  'FRINNY.Devtools.Shown': '{shown} of {total} events',
  'FRINNY.Devtools.Skipped': '{n} skipped while paused',
  'FRINNY.Devtools.NoAgent': 'No agent attached.',
  'FRINNY.Devtools.NoEvents': 'No frames yet.',
  'FRINNY.Devtools.NoScopes': 'No synced scope.',
  'FRINNY.Devtools.In': 'in',
  'FRINNY.Devtools.Out': 'out',
  'FRINNY.Devtools.Version': 'v{version}',
  'FRINNY.Devtools.Document': 'document',
  'FRINNY.Devtools.Pending': 'Pending updates ({n})',
  'FRINNY.Devtools.NoPending': 'No pending update.',
  'FRINNY.Devtools.LastConflict': 'Last conflict: update {id} at server v{version}',
  'FRINNY.Devtools.NoConflict': 'No conflict.',
  'FRINNY.Devtools.SyncCounters': 'gaps {gaps} · resyncs {resyncs} · rollbacks {rollbacks} · conflicts {conflicts}',
  'FRINNY.Devtools.Attempts': 'Connection attempts: {n}',
  'FRINNY.Devtools.Ping': 'ping, {seconds} s after the last',
  'FRINNY.Devtools.FirstPing': 'ping',
  'FRINNY.Devtools.NoTimeline': 'No state change yet.',
  'FRINNY.Devtools.DispatchTitle': 'Dispatch',
  'FRINNY.Devtools.Dispatch': 'Dispatch p50 {p50} µs · p99 {p99} µs',
  'FRINNY.Devtools.Latency': 'Request latency (ms), {n} requests',
  'FRINNY.Devtools.Errors': 'Errors by code',
  'FRINNY.Devtools.NoErrors': 'No error.',
  'FRINNY.Devtools.Traffic': 'frames in {framesIn} · out {framesOut} · pending {pending} · timeouts {timeouts}',
});

/**
 * The text of `key`, with `{name}` placeholders filled from `data`.
 * @param {string} key
 * @param {Record<string, unknown>} [data]
 */
export function t(key, data) {
  const text = localize(key, data);
  if (text !== key) return text;
  const fallback = Object.hasOwn(DEVTOOLS_STRINGS, key) ? DEVTOOLS_STRINGS[/** @type {keyof typeof DEVTOOLS_STRINGS} */ (key)] : key;
  if (!data) return fallback;
  return fallback.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(data, name) ? String(data[name]) : whole));
}

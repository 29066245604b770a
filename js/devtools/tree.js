// A JSON value as a collapsible tree: objects and arrays are <details>
// whose <summary> is the key and a short preview; leaves are key: value
// lines. Everything is text (textContent), never HTML. Which nodes are open
// is remembered by path, so a tree rebuilt after a change keeps its shape.
import { el } from '../components/base.js';

/** Nodes deeper than this or with more members than this are cut short. */
const MAX_DEPTH = 12;
const MAX_MEMBERS = 200;

/**
 * The tree of `value` under `label`.
 * @param {unknown} value
 * @param {string} label the root's key text
 * @param {Set<string>} open paths of the open nodes (updated on toggle)
 * @param {string} [path] this node's path
 * @returns {HTMLElement}
 */
export function jsonTree(value, label, open, path = label) {
  return node(value, label, open, path, 0);
}

/** @param {unknown} value @param {string} key @param {Set<string>} open @param {string} path @param {number} depth @returns {HTMLElement} */
function node(value, key, open, path, depth) {
  if (value === null || typeof value !== 'object') {
    const line = el('div', 'leaf');
    line.append(el('span', 'key', `${key}: `), el('span', `value ${value === null ? 'null' : typeof value}`, leafText(value)));
    return line;
  }
  const entries = Array.isArray(value) ? value.map((v, i) => /** @type {[string, unknown]} */ ([String(i), v])) : Object.entries(value);
  const details = /** @type {HTMLDetailsElement} */ (el('details', 'branch'));
  details.dataset.path = path;
  details.open = open.has(path);
  const summary = el('summary');
  summary.append(el('span', 'key', key), el('span', 'preview', preview(value, entries.length)));
  details.append(summary);
  details.addEventListener('toggle', () => {
    if (details.open) open.add(path);
    else open.delete(path);
  });
  if (depth >= MAX_DEPTH) {
    details.append(el('div', 'leaf more', '…'));
    return details;
  }
  const body = el('div', 'members');
  for (const [k, v] of entries.slice(0, MAX_MEMBERS)) body.append(node(v, k, open, `${path}/${k}`, depth + 1));
  if (entries.length > MAX_MEMBERS) body.append(el('div', 'leaf more', `… ${entries.length - MAX_MEMBERS} more`));
  details.append(body);
  return details;
}

/** @param {unknown} value */
function leafText(value) {
  if (typeof value === 'string') return JSON.stringify(value.length > 500 ? `${value.slice(0, 500)}…` : value);
  return String(value);
}

/** @param {object} value @param {number} n */
function preview(value, n) {
  return Array.isArray(value) ? ` [${n}]` : ` {${n}}`;
}

/**
 * `value` as pretty JSON text (for a payload shown as text); binary and
 * values JSON cannot show are described instead.
 * @param {unknown} value
 */
export function prettyJson(value) {
  if (value === undefined) return '(no payload)';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

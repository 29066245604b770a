// Small live charts as inline SVG built with DOM APIs (no library, no
// innerHTML): a sparkline of recent samples and a bar chart of counts.
// Each chart is one <svg> whose content is replaced on update; its
// accessible name says what it shows, with the numbers.

const SVG = 'http://www.w3.org/2000/svg';

/** @param {string} tag @param {Record<string, string | number>} attrs */
function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/**
 * An empty chart of `width` x `height` with an accessible name.
 * @param {string} label
 * @param {number} width @param {number} height
 */
export function chart(label, width, height) {
  const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart' });
  svg.setAttribute('aria-label', label);
  return svg;
}

/**
 * Draws `series` (each `{values, className}`) as lines over a shared scale.
 * @param {SVGSVGElement} svg
 * @param {Array<{values: number[], className: string}>} series
 * @param {string} label the accessible name, with the latest figures
 */
export function drawLines(svg, series, label) {
  const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
  svg.replaceChildren();
  svg.setAttribute('aria-label', label);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  svg.append(svgEl('line', { x1: 0, y1: h - 0.5, x2: w, y2: h - 0.5, class: 'axis' }));
  for (const { values, className } of series) {
    if (values.length === 0) continue;
    const step = values.length > 1 ? w / (values.length - 1) : 0;
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
    svg.append(svgEl('polyline', { points, class: className, fill: 'none' }));
  }
}

/**
 * Draws `bars` (`{label, value}`) as vertical bars with their labels under them.
 * @param {SVGSVGElement} svg
 * @param {Array<{label: string, value: number, className?: string}>} bars
 * @param {string} label the accessible name
 */
export function drawBars(svg, bars, label) {
  const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
  svg.replaceChildren();
  svg.setAttribute('aria-label', label);
  if (bars.length === 0) return;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = w / bars.length;
  const plot = h - 14;
  bars.forEach((bar, i) => {
    const bh = bar.value > 0 ? Math.max(1, (bar.value / max) * (plot - 10)) : 0;
    const x = i * slot + 2;
    svg.append(svgEl('rect', { x: x.toFixed(1), y: (plot - bh).toFixed(1), width: Math.max(1, slot - 4).toFixed(1), height: bh.toFixed(1), class: bar.className ?? 'bar' }));
    const count = svgEl('text', { x: (x + (slot - 4) / 2).toFixed(1), y: Math.max(8, plot - bh - 2).toFixed(1), class: 'count', 'text-anchor': 'middle' });
    count.textContent = bar.value > 0 ? String(bar.value) : '';
    const name = svgEl('text', { x: (x + (slot - 4) / 2).toFixed(1), y: h - 2, class: 'tick', 'text-anchor': 'middle' });
    name.textContent = bar.label;
    svg.append(count, name);
  });
}

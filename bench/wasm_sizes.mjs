// Where the wasm bytes go: per-function code size from a build that kept
// its name section (twiggy's "top", without installing twiggy).
//
//   node bench/wasm_sizes.mjs <file.wasm> [top N]
//
// A named build: wasm-bindgen on target/wasm32-unknown-unknown/release/
// frinny_agent.wasm, then wasm-opt -O2 -g (keeps names); see BENCHMARKS.md.

import fs from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
const b = fs.readFileSync(file);
let pos = 8;
const leb = () => {
  let v = 0, shift = 0, byte;
  do { byte = b[pos++]; v += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
  return v;
};
const sections = [];
let imported = 0;
let bodies = [];
const names = new Map();
while (pos < b.length) {
  const id = b[pos++];
  const size = leb();
  const start = pos;
  if (id === 2) { // imports: count the imported functions (they come first in the index space)
    const n = leb();
    for (let i = 0; i < n; i++) {
      // `pos += leb()` would read pos before leb() moves it past the length.
      for (let k = 0; k < 2; k++) { const l = leb(); pos += l; } // module, field
      const kind = b[pos++];
      if (kind === 0) { leb(); imported++; }
      else if (kind === 1) { pos++; const f = leb(); leb(); if (f & 1) leb(); }
      else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); }
      else if (kind === 3) { pos++; pos++; }
      else if (kind === 4) { pos++; leb(); }
    }
  } else if (id === 10) {
    const n = leb();
    for (let i = 0; i < n; i++) { const s = leb(); bodies.push(s + 1); pos += s; }
  } else if (id === 0) {
    const nlen = leb();
    const name = b.subarray(pos, pos + nlen).toString();
    pos += nlen;
    if (name === 'name') {
      while (pos < start + size) {
        const sub = b[pos++];
        const ssize = leb();
        const send = pos + ssize;
        if (sub === 1) {
          const n = leb();
          for (let i = 0; i < n; i++) { const idx = leb(); const l = leb(); names.set(idx, b.subarray(pos, pos + l).toString()); pos += l; }
        }
        pos = send;
      }
    }
    sections.push([`custom:${name}`, size]);
    pos = start + size;
    continue;
  }
  sections.push([['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'][id] ?? `id${id}`, size]);
  pos = start + size;
}
console.log('sections:', sections.map(([n, s]) => `${n} ${s}`).join(', '));
const funcs = bodies.map((size, i) => ({ size, name: names.get(i + imported) ?? `func${i + imported}` }));
const total = funcs.reduce((a, f) => a + f.size, 0);
console.log(`${funcs.length} functions, ${total} bytes of code`);
funcs.sort((a, b) => b.size - a.size);
console.log(`\ntop ${top} functions:`);
for (const f of funcs.slice(0, top)) console.log(`${String(f.size).padStart(7)}  ${(f.size / total * 100).toFixed(1).padStart(5)}%  ${f.name.slice(0, 150)}`);
// Group by the crate a function belongs to (the first path segment of the
// demangled name, looking through `<impl Trait for Type>` wrappers).
const crateOf = (n) => {
  const m = n.replace(/^<+/, '').replace(/^&(mut )?/, '').match(/^([a-zA-Z_][a-zA-Z0-9_]*)::/);
  return m ? m[1] : (n.startsWith('__wbg') || n.startsWith('__wbindgen') ? 'wasm-bindgen glue' : 'other');
};
const groups = new Map();
for (const f of funcs) groups.set(crateOf(f.name), (groups.get(crateOf(f.name)) ?? 0) + f.size);
console.log('\nby crate:');
for (const [c, s] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${String(s).padStart(7)}  ${(s / total * 100).toFixed(1).padStart(5)}%  ${c}`);

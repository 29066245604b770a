// Builds the staged package's entry into one file: `cargo xtask pack` runs
//
//   node npm/bundle.mjs <staged package dir>
//
// after copying js/ and pkg/ into the stage. `js/index.js` is replaced by
// itself with everything it imports built in: the wasm glue and its
// snippets, the event catalogue, and the tab proxy of `shareAcrossTabs`.
//
// Why: a page that imports the package fetches its modules level by level
// (the entry, then the glue, then the glue's snippets, then what `ready()`
// imports), and on a cold start those round trips cost more than the bytes.
// One file is one round trip before `ready()` can fetch the wasm; see
// BENCHMARKS.md, "Cold start".
//
// What stays as it was: the SharedWorker's script (js/share/worker.js and
// what it imports, with the unbundled glue), which runs in its own realm,
// and every other file of js/, so the package's other entry points and deep
// paths still resolve. `js/EventTypes.js` becomes a re-export of the entry,
// so `frinny-agent/event-types` and the entry give the very same objects.
//
// A `new URL('x', import.meta.url)` in a file that moves into the bundle is
// rewritten to the same target relative to js/index.js (the wasm next to the
// glue, the worker script next to the tab proxy), so browsers and bundlers
// that read those URLs (Vite) still find the files.
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const stage = resolve(process.argv[2] ?? '');
const entry = join(stage, 'js', 'index.js');
if (!existsSync(entry)) {
  console.error(`npm/bundle.mjs: no ${entry}; give the staged package's directory`);
  process.exit(2);
}
const outDir = dirname(entry);

const IMPORT_META_URL = /new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Rewrites `new URL('x', import.meta.url)` for the file's new place, js/index.js. */
const rebaseImportMetaUrls = {
  name: 'rebase-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const problems = [];
      const contents = text.replace(IMPORT_META_URL, (whole, quote, spec) => {
        const target = resolve(dirname(args.path), spec);
        if (!existsSync(target)) problems.push(`${spec} (from ${relative(stage, args.path)}) is not in the package`);
        let rebased = relative(outDir, target).split(sep).join('/');
        if (!rebased.startsWith('.')) rebased = `./${rebased}`;
        return `new URL(${quote}${rebased}${quote}, import.meta.url)`;
      });
      if (problems.length) return { errors: problems.map((text) => ({ text })) };
      return { contents, loader: 'js' };
    });
  },
};

// The entry goes in through stdin, so that the output may take its place.
const result = await build({
  stdin: { contents: readFileSync(entry, 'utf8'), resolveDir: outDir, sourcefile: 'index.js', loader: 'js' },
  outfile: entry,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  // The glue is minified already (`cargo xtask build`); the rest is the
  // package's own JS. Class names are kept: `AgentManager` in a console
  // reads better than a one-letter name.
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: true,
  metafile: true,
  legalComments: 'none',
  plugins: [rebaseImportMetaUrls],
  logLevel: 'warning',
});

// Nothing may be left to fetch before `ready()`: the bundle imports nothing.
const [, output] = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('index.js'));
if (output.imports.length) {
  console.error(`npm/bundle.mjs: the bundle still imports ${output.imports.map((i) => i.path).join(', ')}`);
  process.exit(1);
}

// The catalogue's entry re-exports the bundle's catalogue: one set of objects.
const catalogue = join(outDir, 'EventTypes.js');
const source = await import(pathToFileURL(catalogue).href);
if (source.default !== source.EventTypes) {
  console.error('npm/bundle.mjs: js/EventTypes.js no longer has EventTypes as its default export');
  process.exit(1);
}
const names = Object.keys(source);
const missing = names.filter((n) => n !== 'default' && !output.exports.includes(n));
if (missing.length) {
  console.error(`npm/bundle.mjs: the entry does not export ${missing.join(', ')} of js/EventTypes.js`);
  process.exit(1);
}
const named = names.filter((n) => n !== 'default');

writeFileSync(
  catalogue,
  `// The event catalogue. The package entry (index.js) has it built in; this\n`
  + `// module re-exports those objects, so both imports give the same ones.\n`
  + `export { ${named.join(', ')} } from './index.js';\n`
  + `export { EventTypes as default } from './index.js';\n`,
);
console.log(`npm/bundle.mjs: ${relative(process.cwd(), entry)} (${readFileSync(entry).length} B), js/EventTypes.js re-exports ${named.length} names`);

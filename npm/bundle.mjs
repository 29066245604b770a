// Builds the staged package's two starting scripts into one file each:
// `cargo xtask pack` runs
//
//   node npm/bundle.mjs <staged package dir>
//
// after copying js/ and pkg/ into the stage.
//
// - `js/index.js`, the entry a page imports, with the wasm glue and its
//   snippets, the event catalogue and the tab proxy of `shareAcrossTabs`;
// - `js/share/worker.js`, the SharedWorker's script, with the glue, its
//   snippets and the hub.
//
// Why: a page (or a worker) fetches its modules level by level (the entry,
// then the glue, then the glue's snippets, then what `ready()` imports), and
// on a cold start those round trips cost more than the bytes. One file is
// one round trip before the wasm can be fetched; see BENCHMARKS.md, "Cold
// start". Each is replaced in place, so every path into the package stays
// what it was; the other files of js/ and pkg/ stay as they are.
// `js/EventTypes.js` becomes a re-export of the entry, so
// `frinny-agent/event-types` and the entry give the very same objects.
//
// A `new URL('x', import.meta.url)` in a file that moves into a bundle is
// rewritten to the same target relative to the bundle's place (the wasm
// next to the glue, the worker script next to the tab proxy), so browsers
// and bundlers that read those URLs (Vite) still find the files.
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const stage = resolve(process.argv[2] ?? '');
if (!existsSync(join(stage, 'js', 'index.js'))) {
  console.error(`npm/bundle.mjs: no js/index.js in ${stage}; give the staged package's directory`);
  process.exit(2);
}

const IMPORT_META_URL = /new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Rewrites `new URL('x', import.meta.url)` for a file's new place in `outDir`. */
function rebaseImportMetaUrls(outDir) {
  return {
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
}

/**
 * Builds `file` (a path in the stage) with everything it imports into
 * itself. Fails if anything is left to import. Returns the names it exports.
 */
async function bundleInPlace(file) {
  const outDir = dirname(file);
  // Through stdin, so that the output may take the input's place.
  const result = await build({
    stdin: { contents: readFileSync(file, 'utf8'), resolveDir: outDir, sourcefile: basename(file), loader: 'js' },
    outfile: file,
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
    plugins: [rebaseImportMetaUrls(outDir)],
    logLevel: 'warning',
  });
  const [, output] = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('.js'));
  if (output.imports.length) {
    throw new Error(`${relative(stage, file)} still imports ${output.imports.map((i) => i.path).join(', ')}`);
  }
  console.log(`npm/bundle.mjs: ${relative(stage, file)}, ${readFileSync(file).length} B`);
  return output.exports;
}

/** Makes js/EventTypes.js re-export the entry's catalogue: one set of objects. */
async function catalogueFromEntry(entryExports) {
  const catalogue = join(stage, 'js', 'EventTypes.js');
  const source = await import(pathToFileURL(catalogue).href);
  if (source.default !== source.EventTypes) {
    throw new Error('js/EventTypes.js no longer has EventTypes as its default export');
  }
  const named = Object.keys(source).filter((n) => n !== 'default');
  const missing = named.filter((n) => !entryExports.includes(n));
  if (missing.length) throw new Error(`the entry does not export ${missing.join(', ')} of js/EventTypes.js`);
  writeFileSync(
    catalogue,
    `// The event catalogue. The package entry (index.js) has it built in; this\n`
    + `// module re-exports those objects, so both imports give the same ones.\n`
    + `export { ${named.join(', ')} } from './index.js';\n`
    + `export { EventTypes as default } from './index.js';\n`,
  );
}

try {
  const entry = join(stage, 'js', 'index.js');
  await bundleInPlace(join(stage, 'js', 'share', 'worker.js'));
  await catalogueFromEntry(await bundleInPlace(entry));
} catch (e) {
  console.error(`npm/bundle.mjs: ${e.message}`);
  process.exit(1);
}

// The docs are checked like code:
//
// 1. every ```js / ```ts / ```html block of README.md and docs/*.md at
//    least parses (js: `node --check` as an ES module; ts: TypeScript's
//    parser; html: its inline module scripts and import maps); the js
//    blocks that need nothing but `frinny-agent/testing` and
//    `frinny-agent/event-types` (no wasm, no DOM) are run, and the ts
//    blocks that import only the package are type-checked (tsc --strict);
// 2. docs/api.md names every public method, property, option and export of
//    the package's `.d.ts` files and every error code of src/core/error.rs,
//    so a new API without docs fails here;
// 3. docs/testing.md shows the examples the e2e tests run, verbatim.
// Run by `cargo xtask test js` (node --test tests/js/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (path) => readFileSync(join(ROOT, path), 'utf8');

/**
 * The fenced code blocks of a Markdown text: `{lang, code, line}` (fences
 * may be indented, as inside a list item; the indentation is removed).
 */
function codeBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!open) {
      // A fence with text after it is not a fence; a stray one breaks the page.
      assert.doesNotMatch(lines[i], /^\s*```\S*\s+\S/, `line ${i + 1}: a code fence with text after it: ${lines[i]}`);
      continue;
    }
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (new RegExp(`^\\s*${fence}\\s*$`).test(lines[j])) break;
      assert.doesNotMatch(lines[j], /^\s*```/, `line ${j + 1}: a fence inside the block opened at line ${i + 1}: ${lines[j]}`);
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    assert.ok(j < lines.length, `the code block opened at line ${i + 1} is never closed`);
    blocks.push({ lang, code: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

const scratch = mkdtempSync(join(tmpdir(), 'frinny-doc-blocks-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

/** `node --check` of `code` as an ES module; throws with node's message. */
function checkModule(code, where) {
  const file = join(scratch, `block-${n++}.mjs`);
  writeFileSync(file, code);
  try {
    execFileSync(process.execPath, ['--check', file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    assert.fail(`${where} does not parse:\n${err.stderr}\n---\n${code}`);
  }
}

/** The package entries a block may use and still run here: plain JS, no wasm, no DOM. */
const RUNNABLE = {
  'frinny-agent/testing': pathToFileURL(join(ROOT, 'js/testing/index.js')).href,
  'frinny-agent/event-types': pathToFileURL(join(ROOT, 'js/EventTypes.js')).href,
};

/** The bare specifiers `code` imports. */
const importsOf = (code) => [...code.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2]);

/** Whether a js block is a whole program that needs only the runnable entries. */
const runnable = (code) => {
  const specifiers = importsOf(code);
  return specifiers.length > 0 && specifiers.every((s) => s in RUNNABLE);
};

/** Runs a js block with the package's entries mapped to this repository's files. */
function runModule(code, where) {
  const mapped = code.replace(/(['"])(frinny-agent\/(?:testing|event-types))\1/g, (_, q, s) => `${q}${RUNNABLE[s]}${q}`);
  const file = join(scratch, `run-${n++}.mjs`);
  writeFileSync(file, mapped);
  try {
    execFileSync(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 20_000 });
  } catch (err) {
    assert.fail(`${where} fails when run:\n${err.stderr}\n---\n${code}`);
  }
}

const ts = createRequire(import.meta.url)(join(ROOT, 'node_modules', 'typescript'));

/** TypeScript's parser over a ts block; throws with its diagnostics. */
function checkTypeScript(code, where) {
  const out = ts.transpileModule(code, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const problems = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, [], `${where} does not parse as TypeScript`);
}

/** An html block: its import maps are JSON, its module scripts parse. */
function checkHtml(code, where) {
  for (const m of code.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    const [, attrs, body] = m;
    if (/type=["']?importmap/.test(attrs)) {
      const map = JSON.parse(body);
      assert.ok(map.imports && typeof map.imports === 'object', `${where}: an import map with "imports"`);
    } else if (/type=["']?module/.test(attrs) && body.trim()) {
      checkModule(body, `${where} (inline module script)`);
    }
  }
}

for (const doc of DOCS) {
  test(`${doc}: every js / ts / html code block parses, and the self-contained ones run`, { timeout: 120_000 }, () => {
    const blocks = codeBlocks(read(doc));
    for (const { lang, code, line } of blocks) {
      const where = `${doc}:${line} (${lang})`;
      if (lang === 'js' || lang === 'javascript' || lang === 'mjs') {
        checkModule(code, where);
        if (runnable(code)) runModule(code, where);
      } else if (lang === 'ts' || lang === 'typescript') {
        checkTypeScript(code, where);
      } else if (lang === 'html') {
        checkHtml(code, where);
      }
    }
  });
}

// ----- 2. docs/api.md covers the whole public surface ----------------------

/**
 * The public names a `.d.ts` file declares: exported functions, constants,
 * classes, interfaces and types, and the members of its interfaces,
 * classes and object types (methods, properties, options, event names).
 * Left out: members whose name starts with `_` (protected), a type's
 * `prototype`, and non-exported declarations' own names (their members,
 * such as FrinnyChat's common options, are public all the same).
 */
function declaredNames(file) {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const names = new Set();
  const exported = (node) => Boolean(node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword));
  const nameOf = (node) => {
    if (!node.name) return undefined;
    if (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) return node.name.text;
    if (ts.isComputedPropertyName(node.name)) return node.name.expression.getText(src); // Symbol.dispose
    return undefined;
  };
  const add = (name) => {
    if (name && !name.startsWith('_') && name !== 'prototype') names.add(name);
  };
  const members = (node) => {
    for (const m of node.members ?? []) {
      add(nameOf(m));
      if (m.type && ts.isTypeLiteralNode(m.type)) members(m.type);
    }
  };
  const visit = (node) => {
    if (ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) {
      if (exported(node)) add(node.name.text);
      members(node);
    } else if (ts.isTypeAliasDeclaration(node)) {
      if (exported(node)) add(node.name.text);
      if (ts.isTypeLiteralNode(node.type)) members(node.type);
    } else if (ts.isFunctionDeclaration(node)) {
      if (exported(node)) add(node.name?.text);
    } else if (ts.isVariableStatement(node)) {
      for (const d of node.declarationList.declarations) {
        if (exported(node)) add(d.name.text);
        if (d.type && ts.isTypeLiteralNode(d.type)) members(d.type);
      }
    } else if (ts.isModuleDeclaration(node) && node.body && ts.isModuleBlock(node.body)) {
      // `declare global { interface HTMLElementTagNameMap {...} }`: the tag names.
      for (const s of node.body.statements) if (ts.isInterfaceDeclaration(s)) members(s);
    } else if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const e of node.exportClause.elements) add(e.name.text);
    }
  };
  src.statements.forEach((s) => visit(s));
  return names;
}

/** wasm-bindgen's loader internals in pkg/frinny_agent.d.ts: not the package's API (`ready()` wraps them). */
const WASM_INTERNALS = new Set(['InitInput', 'InitOutput', 'SyncInitInput', 'initSync', '__wbg_init', 'memory']);

/** Every name api.md must mention, with the file that declares it. */
function publicNames() {
  const files = ['js/index.d.ts', 'js/EventTypes.d.ts', 'js/foundry/index.d.ts', 'js/components/index.d.ts', 'js/testing/index.d.ts', 'js/devtools/index.d.ts'];
  // The wasm class and its option types come from wasm-bindgen's output (`cargo xtask build`).
  if (existsSync(join(ROOT, 'pkg/frinny_agent.d.ts'))) files.push('pkg/frinny_agent.d.ts');
  const wanted = new Map();
  for (const file of files) {
    for (const name of declaredNames(join(ROOT, file))) {
      if (file.startsWith('pkg/') && (WASM_INTERNALS.has(name) || /^(__|agentmanager_|wasm_bindgen)/.test(name))) continue;
      if (!wanted.has(name)) wanted.set(name, file);
    }
  }
  return wanted;
}

/** The error codes the client and the reference server give (src/core/error.rs first). */
function errorCodes() {
  const codes = new Map();
  const from = (file, re) => {
    for (const m of read(file).matchAll(re)) if (!codes.has(m[1])) codes.set(m[1], file);
  };
  from('src/core/error.rs', /=> "([A-Z][A-Z_]+)"/g);
  from('src/web/errors.rs', /: &str = "([A-Z][A-Z_]+)"/g);
  // The state store's own codes, where it makes them.
  from('src/core/sync.rs', /SyncError::new\(\s*"([A-Z][A-Z_]+)"/g);
  from('src/core/sync.rs', /settle_all\([^,]+,[^,]+,\s*"([A-Z][A-Z_]+)"/g);
  from('src/web/sync.rs', /js_error\(\s*"([A-Z][A-Z_]+)"/g);
  // The server's codes (`serverCode` of a SERVER_ERROR, or the state calls' own code).
  const catalogue = read('src/catalogue.rs');
  const mod = catalogue.slice(catalogue.indexOf('pub mod codes'));
  for (const m of mod.slice(0, mod.indexOf('\n}')).matchAll(/: &str = "([A-Z][A-Z_]+)"/g)) {
    if (!codes.has(m[1])) codes.set(m[1], 'src/catalogue.rs');
  }
  return codes;
}

/** The text of api.md's code: inline code spans and code blocks (a name in prose does not count). */
function apiCodeText() {
  const page = read('docs/api.md');
  const blocks = codeBlocks(page).map((b) => b.code);
  const outside = page.replace(/^\s*```[\s\S]*?^\s*```/gm, '');
  const spans = [...outside.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
  return [...blocks, ...spans].join('\n');
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('docs/api.md names every public method, property, option, event and export of the .d.ts files', () => {
  const code = apiCodeText();
  const missing = [...publicNames()]
    .filter(([name]) => !new RegExp(`(^|[^\\w$-])${escapeRe(name)}($|[^\\w$-])`).test(code))
    .map(([name, file]) => `${name} (${file})`);
  assert.deepEqual(missing, [], 'add these to docs/api.md, in code');
});

test('docs/api.md names every entry the package exports', () => {
  const { exports } = JSON.parse(read('npm/package.json'));
  const text = apiCodeText();
  const missing = Object.keys(exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? 'frinny-agent' : `frinny-agent${key.slice(1)}`))
    .filter((entry) => !new RegExp(`(^|[^\\w/-])${escapeRe(entry)}($|[^\\w/-])`).test(text));
  assert.deepEqual(missing, [], 'add these entries to docs/api.md');
});

test('docs/api.md names every error code', () => {
  const codes = errorCodes();
  for (const code of ['TIMEOUT', 'CALLBACK_ERROR', 'NOT_SYNCED', 'UNSUBSCRIBED', 'RATE_LIMITED', 'TOKEN_EXPIRED', 'CONFLICT']) {
    assert.ok(codes.has(code), `the code list found ${code} in the source`);
  }
  const text = apiCodeText();
  const missing = [...codes].filter(([c]) => !new RegExp(`\\b${c}\\b`).test(text)).map(([c, file]) => `${c} (${file})`);
  assert.deepEqual(missing, [], 'add these error codes to docs/api.md');
});

test('the surface scan finds what it should (a new method would be caught)', () => {
  const file = join(scratch, 'sample.d.ts');
  writeFileSync(file, `
    export interface Opts { alpha?: number; 'beta-gamma': string; _hidden: 1 }
    interface Common { gamma: string }
    export declare class Thing { delta(): void; readonly epsilon: number; protected _setup(): void; [Symbol.dispose](): void }
    export declare function zeta(): void;
    export declare const ETA: { readonly THETA: 'theta' };
    export type { Iota } from './x.js';
    declare global { interface HTMLElementTagNameMap { 'x-kappa': Thing } }
  `);
  assert.deepEqual([...declaredNames(file)].sort(), [
    'ETA', 'Iota', 'Opts', 'Symbol.dispose', 'THETA', 'Thing', 'alpha', 'beta-gamma', 'delta', 'epsilon', 'gamma', 'x-kappa', 'zeta',
  ]);
});

// ----- 3. docs/testing.md holds the examples -----------------------------------

test('the self-contained ts blocks of the docs type-check with tsc --strict against the package types', { timeout: 120_000 }, (t) => {
  if (!existsSync(join(ROOT, 'pkg/frinny_agent.d.ts'))) {
    t.skip('pkg/ is not built (cargo xtask build): the AgentManager types come from it');
    return;
  }
  const entries = {
    'frinny-agent': 'js/index.d.ts',
    'frinny-agent/event-types': 'js/EventTypes.d.ts',
    'frinny-agent/foundry': 'js/foundry/index.d.ts',
    'frinny-agent/components': 'js/components/index.d.ts',
    'frinny-agent/testing': 'js/testing/index.d.ts',
    'frinny-agent/devtools': 'js/devtools/index.d.ts',
  };
  const dir = mkdtempSync(join(scratch, 'ts-'));
  const files = [];
  for (const doc of DOCS) {
    for (const { lang, code, line } of codeBlocks(read(doc))) {
      const specifiers = importsOf(code);
      if (lang !== 'ts' || !specifiers.length || !specifiers.every((s) => s in entries)) continue;
      const file = `${doc.replace(/\W/g, '_')}_${line}.ts`;
      writeFileSync(join(dir, file), `${code}\nexport {};\n`);
      files.push(file);
    }
  }
  assert.ok(files.length > 0, 'docs/testing.md has at least one such block');
  const paths = Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, [join(ROOT, file)]]));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'es2022', moduleResolution: 'bundler', lib: ['es2022', 'dom', 'esnext.disposable'], paths },
    files,
  }));
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    assert.fail(`a ts block of the docs does not type-check:\n${err.stdout}${err.stderr}`);
  }
});

test('docs/testing.md shows the examples the tests run, as they are', () => {
  const page = read('docs/testing.md');
  for (const file of ['examples/testing/ask-frinny.js', 'examples/testing/ask-frinny.test.mjs', 'examples/testing/components.test.js']) {
    assert.ok(page.includes(read(file).trimEnd()), `docs/testing.md holds ${file} verbatim`);
  }
});

test('the code block extractor finds what it should', () => {
  const md = ['text', '```js', 'a();', '```', '- item', '  ```html', '  <p>x</p>', '  ```', '```', 'plain', '```'].join('\n');
  assert.deepEqual(codeBlocks(md), [
    { lang: 'js', code: 'a();', line: 2 },
    { lang: 'html', code: '<p>x</p>', line: 6 },
    { lang: '', code: 'plain', line: 9 },
  ]);
  assert.throws(() => codeBlocks('```js\na();\n``` trailing text\n'), /never closed|fence/);
  assert.equal(runnable("import { createTestAgent } from 'frinny-agent/testing';"), true);
  assert.equal(runnable("import { ready } from 'frinny-agent';"), false);
  assert.equal(runnable('agent.connect();'), false);
});

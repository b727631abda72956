#!/usr/bin/env node
// Builds the package in the current directory: `node ../../tooling/scripts/build-package.mjs [entry…]`.
//
//   1. `tsc -b` type-checks the sources and writes the type declarations (and
//      their maps) into dist/ (the package's tsconfig sets emitDeclarationOnly).
//   2. esbuild bundles src/index.ts, and each further entry named on the command
//      line (a child's main script, a worker thread's entry, a subpath export),
//      into one ES module per entry in dist/, with source maps.
//
// Why bundle: every child process (spawn, forkserver interpreters, Manager
// servers, Pool workers) imports the packages, and Node's ES module loader
// pays about a millisecond per file; one file per package loads in a fraction
// of the time of one file per source file.
//
// Only the package's own files are bundled: every bare import (the other
// @mpjs packages, third-party dependencies, Node built-ins) stays an import,
// so a class is one class whichever package uses it. Several entries share
// their common code through chunks (esbuild's `splitting`), so module state
// exists once per process even when a child's entry and the package's index
// are both loaded. Entries that share no source file stay one file each.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const cwd = process.cwd();
const outdir = path.join(cwd, 'dist');
const entries = ['src/index.ts', ...process.argv.slice(2)];
for (const entry of entries) {
  if (!existsSync(path.join(cwd, entry))) {
    console.error(`build-package: no entry ${entry} in ${cwd}`);
    process.exit(1);
  }
}

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b'], { cwd, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

/**
 * Rewrites `import { a, b as c } from 'node:x'` (and default or namespace
 * imports of a built-in) into `const { a, b: c } = process.getBuiltinModule('node:x')`.
 *
 * Why: Node builds an ES module facade for a built-in imported with `import`,
 * and building it reads every export, which loads the built-in's lazy parts
 * (`node:fs` loads the streams, `node:util` the MIME and argument parsers).
 * The built-ins a child's bootstrap imports cost about 4 ms of every process
 * start that way; taken from `getBuiltinModule` they cost next to nothing.
 * The sources keep the usual imports, which the type checker and the tests
 * (run from source) see.
 */
const builtinImport = /^import (?!type )(.+?) from '(node:[\w/]+)';$/gm;
function rewriteBuiltinImports(source, file) {
  return source.replace(builtinImport, (statement, clause, specifier) => {
    const load = `process.getBuiltinModule('${specifier}')`;
    const named = /^\{(.*)\}$/.exec(clause.trim());
    if (named) {
      const bindings = named[1]
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== '' && !b.startsWith('type '))
        .map((b) => b.replace(/^(\S+) as (\S+)$/, '$1: $2'));
      return bindings.length === 0 ? '' : `const { ${bindings.join(', ')} } = ${load};`;
    }
    const whole = /^(?:\* as )?([A-Za-z_$][\w$]*)$/.exec(clause.trim());
    if (whole) return `const ${whole[1]} = ${load};`;
    throw new Error(`build-package: cannot rewrite "${statement}" in ${file}; import the default and the names separately`);
  });
}

const { build } = await import('esbuild');
const { readFile } = await import('node:fs/promises');
const builtinImports = {
  name: 'builtin-imports',
  setup(b) {
    b.onLoad({ filter: /\.m?ts$/ }, async (args) => ({
      contents: rewriteBuiltinImports(await readFile(args.path, 'utf8'), args.path),
      loader: 'ts',
    }));
  },
};

const options = {
  plugins: [builtinImports],
  absWorkingDir: cwd,
  entryPoints: entries,
  outbase: 'src',
  outdir: 'dist',
  // Chunks sit beside the entries, so `new URL('./x.js', import.meta.url)` means the same from any of them.
  chunkNames: 'chunk-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // The package.json "sideEffects" field speaks of dist/ to the bundlers of
  // consumers; here every source file is kept as written (a side-effect import
  // such as `import './travel.js'` registers types and must not be dropped).
  ignoreAnnotations: true,
  // Class and function names are part of the behaviour (error names, messages, references).
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
  // A build that had to guess is not a build to ship.
  logOverride: { 'ignored-bare-import': 'error', 'empty-import-meta': 'error' },
  // Written below, over the previous build, so a process starting meanwhile finds no gap.
  write: false,
};

/**
 * Whether two entries would each carry a copy of one source file. Then the
 * build splits, so that file's state and classes exist once; otherwise each
 * entry stays one file (a chunk holding only esbuild's helpers would cost a
 * file load and share nothing).
 */
async function entriesShareCode() {
  if (entries.length < 2) return false;
  const { metafile } = await build({ ...options, metafile: true, sourcemap: false, logLevel: 'silent' });
  const seen = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const input of Object.keys(output.inputs)) {
      if (seen.has(input)) return true;
      seen.add(input);
    }
  }
  return false;
}

const result = await build({ ...options, splitting: await entriesShareCode() });
if (result.errors.length > 0) process.exit(1);

const written = new Set();
for (const file of result.outputFiles) {
  mkdirSync(path.dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.contents);
  written.add(file.path);
}
// JavaScript left from an earlier build (chunks with other hashes, or the
// per-file output of a build before bundling) must not linger next to the
// bundle; the declarations are tsc's, which keeps them up to date itself.
for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath ?? entry.path, entry.name);
  if (entry.isFile() && /\.js(\.map)?$/.test(entry.name) && !written.has(file)) rmSync(file);
}

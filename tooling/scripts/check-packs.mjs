#!/usr/bin/env node
// Packs every public workspace package with `pnpm pack`, as `pnpm publish` would,
// and checks each tarball is what a user should install:
//
// - it holds package.json, README.md, LICENSE, CHANGELOG.md, dist/index.js and
//   dist/index.d.ts, and every file that `main`, `types` and `exports` name;
// - it holds nothing else but dist/**/*.js and *.d.ts built from a src/ file that
//   still exists (no tests, TypeScript sources, source maps, tsbuildinfo,
//   node_modules, build/ intermediates, stale outputs), plus, for @mpjs/native,
//   its C++ sources, binding.gyp, build script and prebuilt binaries;
// - its package.json has no `workspace:` range left, depends on no private
//   package, declares every package its JavaScript imports, and carries the
//   license, repository, engines and publishConfig a public scoped package needs.
//
//   node tooling/scripts/check-packs.mjs          list every tarball, then the problems
//   node tooling/scripts/check-packs.mjs --json   the same as JSON on stdout (for tests)
//   node tooling/scripts/check-packs.mjs --keep   leave the tarballs in the temp dir
//   node tooling/scripts/check-packs.mjs --root <dir>   check another pnpm workspace
//   node tooling/scripts/check-packs.mjs --abi 115 --abi 137
//        also require @mpjs/native's prebuilt binaries for these Node.js ABIs
//        (on this platform and arch) — the release check
//
// Exits 1 when a tarball has a problem. It packs what is built: run `pnpm build` first.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const args = new Set(argv);
const rootArg = argv.indexOf('--root');
const requiredAbis = argv.flatMap((a, i) => (a === '--abi' && argv[i + 1] ? [argv[i + 1]] : []));
const repoRoot = rootArg >= 0 ? path.resolve(argv[rootArg + 1] ?? '.') : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dependencyFields = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];
/** Fields whose packages a consumer's install fetches. */
const installedFields = ['dependencies', 'peerDependencies', 'optionalDependencies'];
const always = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts'];

/** Files a package may ship besides `always` and its built dist/**. */
const extraAllowed = {
  '@mpjs/native': [/^addon\/[\w-]+\.(cc|h)$/, /^binding\.gyp$/, /^scripts\/[\w-]+\.mjs$/, /^prebuilds\/[\w-]+\/@mpjs\+native\.abi\d+\.node$/],
};

/** Why a file never belongs in a tarball, or undefined. */
function forbiddenReason(file) {
  if (/(^|\/)node_modules\//.test(file)) return 'node_modules';
  if (/(^|\/)(test|tests|__tests__|fixtures)\//.test(file) || /\.(test|spec)\.[cm]?[jt]s$/.test(file)) return 'a test';
  if (/\.tsbuildinfo$/.test(file)) return 'tsbuildinfo';
  if (/^build\//.test(file)) return 'a build/ intermediate';
  if (/^src\//.test(file)) return 'a source file (dist holds the build)';
  // A bundle's map carries the sources it maps to; a declaration map points at src/, which is not shipped.
  if (/\.map$/.test(file) && !/^dist\/[\w-]+\.js\.map$/.test(file)) return 'a declaration map (its sources are not shipped)';
  if (/\.[cm]?ts$/.test(file) && !/\.d\.[cm]?ts$/.test(file)) return 'a TypeScript source';
  if (/(^|\/)\./.test(file)) return 'a dotfile';
  if (/^(tsconfig[\w.]*\.json|jest\.config\.[cm]?js|turbo\.json)$/.test(file)) return 'a development config';
  return undefined;
}

/** The workspace's public packages (`{ name, version, dir }`) and the names of its private ones. */
function workspacePackages() {
  const listed = JSON.parse(execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: repoRoot, encoding: 'utf8' }));
  const publicOnes = listed
    .filter((p) => !p.private && p.name && p.path !== repoRoot)
    .map((p) => ({ name: p.name, version: p.version, dir: p.path }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { publicOnes, privateNames: new Set(listed.filter((p) => p.private).map((p) => p.name)) };
}

/** Packs `packages` into `dest` with one pnpm run; tarball path by package name. */
function packAll(packages, dest) {
  const filters = packages.flatMap((p) => ['--filter', p.name]);
  let out;
  try {
    out = execFileSync('pnpm', ['-r', ...filters, 'pack', '--pack-destination', dest, '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    let reason = `${error.stderr ?? ''}`.trim();
    try {
      reason = JSON.parse(error.stdout).error.message;
    } catch {}
    throw new Error(`pnpm pack failed: ${reason || error.message}`);
  }
  const results = JSON.parse(out);
  return new Map((Array.isArray(results) ? results : [results]).map((r) => [r.name, r.filename]));
}

/** Every string target of an `exports` value (conditions and subpaths, recursively). */
function exportTargets(value) {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(exportTargets);
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets);
  return [];
}

/** The package a bare import specifier names (`@scope/name` or `name`), or undefined for builtins/relative. */
function importedPackage(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || /^[a-z]+:/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtinModules.includes(name) ? undefined : name;
}

/** Literal specifiers of static imports/exports and `import('…')` in a JavaScript file. */
function importsOf(source) {
  const found = new Set();
  // tsc writes one import/export statement per line start; `import('x')` can be anywhere.
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"\n]+)['"]/gm,
    /^\s*import\s*['"]([^'"\n]+)['"]/gm,
    /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.add(m[1]);
  return [...found];
}

/** Checks one tarball; returns its report. */
function check(pkg, tarball, privateNames) {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter((f) => f && !f.endsWith('/'))
    .map((f) => f.replace(/^package\//, ''))
    .sort();
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
  const read = (file) => execFileSync('tar', ['-xzOf', tarball, `package/${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const problems = [];
  const has = new Set(files);

  for (const file of always) if (!has.has(file)) problems.push(`lacks ${file}`);

  const extras = extraAllowed[pkg.name] ?? [];
  const unanchored = [];
  for (const file of files) {
    const reason = forbiddenReason(file);
    if (reason !== undefined) {
      problems.push(`holds ${file}: ${reason}`);
      continue;
    }
    if (always.includes(file) || extras.some((re) => re.test(file))) continue;
    if (/\.js\.map$/.test(file)) {
      // A bundle's map goes with its bundle.
      if (!has.has(file.slice(0, -'.map'.length))) problems.push(`holds ${file}: the map of a file that is not shipped`);
      continue;
    }
    const built = /^dist\/(.+?)(\.d)?\.([cm]?)js$/.exec(file) ?? /^dist\/(.+?)\.d\.([cm]?)ts$/.exec(file);
    if (!built) {
      problems.push(`holds ${file}: not a built file, README, LICENSE or CHANGELOG`);
      continue;
    }
    // tsc -b never deletes outputs of a removed source: they would be published.
    const stem = built[1];
    const sources = ['ts', 'mts', 'cts', 'tsx', 'js', 'mjs'].map((ext) => path.join(pkg.dir, 'src', `${stem}.${ext}`));
    if (sources.some((s) => existsSync(s))) continue;
    if (/\.d\.[cm]?ts$/.test(file)) problems.push(`holds ${file}: stale, src/${stem}.ts no longer exists (rm -rf dist and rebuild)`);
    else unanchored.push(file); // a bundler's chunk, if a built file refers to it
  }
  // JavaScript with no source of its own must be reached from one that has, through
  // relative references (`from './chunk-x.js'`, `new URL('./x.js', import.meta.url)`).
  const reached = new Set(files.filter((f) => /\.[cm]?js$/.test(f) && !unanchored.includes(f)));
  for (const queue = [...reached]; queue.length > 0; ) {
    const file = queue.pop();
    for (const m of read(file).matchAll(/['"](\.\.?\/[^'"\n]+\.[cm]?js)['"]/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      if (has.has(target) && !reached.has(target)) {
        reached.add(target);
        queue.push(target);
      }
    }
  }
  for (const file of unanchored) {
    if (!reached.has(file)) problems.push(`holds ${file}: stale, no src file and no built file refers to it (rm -rf dist and rebuild)`);
  }

  if (pkg.name === '@mpjs/native') {
    const prebuilds = files.filter((f) => f.startsWith('prebuilds/'));
    if (prebuilds.length === 0) problems.push('holds no prebuilt binary: every install would compile');
    for (const abi of requiredAbis) {
      const binary = `prebuilds/${process.platform}-${process.arch}/@mpjs+native.abi${abi}.node`;
      if (!has.has(binary)) problems.push(`lacks ${binary} (build it with that Node.js: pnpm --filter @mpjs/native run prebuildify)`);
    }
  }

  // Entry points.
  const targets = [manifest.main, manifest.types, manifest.typings, ...exportTargets(manifest.exports)].filter((t) => typeof t === 'string');
  if (manifest.exports === undefined) problems.push('package.json has no exports');
  for (const target of new Set(targets)) {
    const file = path.posix.normalize(target);
    if (target.includes('*')) {
      const re = new RegExp(`^${file.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.+')}$`);
      if (!files.some((f) => re.test(f))) problems.push(`exports ${target}, which matches no file in the tarball`);
    } else if (!has.has(file)) {
      problems.push(`names ${target} (main/types/exports), which is not in the tarball`);
    }
  }

  // Dependencies as a consumer resolves them.
  const declared = new Set();
  for (const field of dependencyFields) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${name} is still ${range}`);
      if (installedFields.includes(field)) {
        declared.add(name);
        if (privateNames.has(name)) problems.push(`${field}.${name} is a private package that is never published`);
      }
    }
  }
  const undeclared = new Map();
  for (const file of files.filter((f) => /\.[cm]?js$/.test(f) && !/\.d\.[cm]?ts$/.test(f))) {
    for (const specifier of importsOf(read(file))) {
      const name = importedPackage(specifier);
      if (name !== undefined && name !== manifest.name && !declared.has(name)) undeclared.set(name, file);
    }
  }
  for (const [name, file] of undeclared) problems.push(`${file} imports ${name}, which package.json does not depend on`);
  for (const hook of ['preinstall', 'install', 'postinstall']) {
    const command = manifest.scripts?.[hook];
    if (command === undefined) continue;
    for (const ref of command.match(/[\w./-]+\.[cm]?js\b/g) ?? []) {
      if (!has.has(path.posix.normalize(ref))) problems.push(`scripts.${hook} runs ${ref}, which is not in the tarball`);
    }
  }

  // Metadata of a public scoped package.
  if (manifest.private) problems.push('package.json is private');
  if (manifest.version !== pkg.version) problems.push(`version ${manifest.version} differs from the workspace's ${pkg.version}`);
  if (manifest.license !== 'MIT') problems.push(`license is ${manifest.license ?? 'missing'}, not MIT`);
  if (!manifest.engines?.node) problems.push('engines.node is missing');
  if (manifest.type !== 'module') problems.push('type is not "module"');
  if (!Array.isArray(manifest.files)) problems.push('files is missing');
  if (manifest.name.startsWith('@') && manifest.publishConfig?.access !== 'public') problems.push('publishConfig.access is not "public"');
  const directory = path.relative(repoRoot, pkg.dir).split(path.sep).join('/');
  if (manifest.repository?.directory !== directory || !manifest.repository?.url) problems.push(`repository is not { url, directory: "${directory}" }`);

  return { name: pkg.name, version: manifest.version, tarball: path.basename(tarball), bytes: statSync(tarball).size, files, manifest, problems };
}

const dest = mkdtempSync(path.join(tmpdir(), 'mpjs-packs-'));
let reports;
try {
  const { publicOnes: packages, privateNames } = workspacePackages();
  const tarballs = packAll(packages, dest);
  reports = packages.map((pkg) => {
    const tarball = tarballs.get(pkg.name) ?? readdirSync(dest).map((f) => path.join(dest, f)).find((f) => path.basename(f).startsWith(`${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}`));
    if (tarball === undefined) return { name: pkg.name, version: pkg.version, tarball: '', bytes: 0, files: [], manifest: {}, problems: ['pnpm pack produced no tarball'] };
    return check(pkg, tarball, privateNames);
  });
} catch (error) {
  console.error(`check-packs: ${error.message}`);
  process.exitCode = 1;
} finally {
  if (!args.has('--keep')) rmSync(dest, { recursive: true, force: true });
}
if (reports === undefined) process.exit(1);

const failed = reports.filter((r) => r.problems.length > 0);
if (args.has('--json')) {
  process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, dir: dest, packages: reports }, null, 2)}\n`);
} else {
  for (const r of reports) {
    console.log(`${r.tarball} (${(r.bytes / 1024).toFixed(1)} kB, ${r.files.length} files)`);
    for (const f of r.files) console.log(`  ${f}`);
  }
  if (args.has('--keep')) console.log(`\ntarballs kept in ${dest}`);
  console.log('');
  if (failed.length === 0) {
    console.log(`check-packs: ${reports.length} tarballs are ready to publish.`);
  } else {
    for (const r of failed) {
      console.error(`${r.name}:`);
      for (const p of r.problems) console.error(`  - ${p}`);
    }
    console.error(`check-packs: ${failed.length} of ${reports.length} tarballs have problems (see above).`);
  }
}
process.exitCode = failed.length === 0 ? 0 : 1;

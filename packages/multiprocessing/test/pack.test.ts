/**
 * What a user installs: tooling/scripts/check-packs.mjs packs every public
 * package with `pnpm pack` and checks each tarball (its build, README, LICENSE
 * and CHANGELOG; no tests, sources, maps or build scratch; exports that
 * resolve; no `workspace:` range; every import declared). These tests run it
 * once, then check that each package depends only on the packages it imports,
 * by version, and that the check itself catches a bad package.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const checkPacks = fileURLToPath(new URL('../../../tooling/scripts/check-packs.mjs', import.meta.url));

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
}

interface PackReport {
  name: string;
  version: string;
  files: string[];
  manifest: Manifest;
  problems: string[];
}

let reports: Map<string, PackReport>;
let status: number | null;
let stderr: string;

beforeAll(() => {
  const r = spawnSync(process.execPath, [checkPacks, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  status = r.status;
  stderr = r.stderr;
  const parsed = JSON.parse(r.stdout || '{"packages":[]}') as { packages: PackReport[] };
  reports = new Map(parsed.packages.map((p) => [p.name, p]));
}, 60_000);

function report(name: string): PackReport {
  const found = reports.get(name);
  expect(found).toBeDefined();
  return found!;
}

/** `{ '@mpjs/<n>': '^<its version>' }` for each name: a dependency as a published package.json states it. */
function caretRanges(names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [`@mpjs/${n}`, `^${report(`@mpjs/${n}`).version}`]));
}

/** Files outside dist/ besides the ones every tarball has. */
function outsideDist(files: string[]): string[] {
  return files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f)).sort();
}

describe('published tarballs', () => {
  it('every public package packs with nothing missing and nothing extra', () => {
    const problems = Object.fromEntries([...reports.values()].filter((r) => r.problems.length > 0).map((r) => [r.name, r.problems]));
    expect({ problems, stderr }).toEqual({ problems: {}, stderr: '' });
    expect(status).toBe(0);
    expect([...reports.keys()].sort()).toEqual(
      ['connection', 'managers', 'multiprocessing', 'native', 'pool', 'process', 'queues', 'serialization', 'sharedctypes', 'synchronize', 'util'].map(
        (n) => `@mpjs/${n}`,
      ),
    );
  });

  it('@mpjs/connection holds dist and depends on util, serialization and native only', () => {
    const { files, manifest } = report('@mpjs/connection');
    expect(outsideDist(files)).toEqual([]);
    expect(manifest.dependencies).toEqual(caretRanges(['util', 'serialization', 'native']));
  });

  it('@mpjs/native also holds its C++ sources, build script and the prebuilt binary for this Node.js', () => {
    const { files, manifest } = report('@mpjs/native');
    expect(outsideDist(files)).toEqual(
      expect.arrayContaining(['binding.gyp', 'scripts/build.mjs', `prebuilds/${process.platform}-${process.arch}/@mpjs+native.abi${process.versions.modules}.node`]),
    );
    expect(files.some((f) => f.startsWith('addon/') && f.endsWith('.cc'))).toBe(true);
    expect(Object.keys(manifest.dependencies ?? {}).filter((n) => n.startsWith('@mpjs/'))).toEqual(['@mpjs/util']);
  });

  it('@mpjs/multiprocessing holds dist (with dummy) and depends on every package by version', () => {
    const { files, manifest } = report('@mpjs/multiprocessing');
    expect(outsideDist(files)).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/dummy.js', 'dist/dummy.d.ts']));
    expect(Object.keys(manifest.exports ?? {}).sort()).toEqual(['.', './dummy', './package.json']);
    expect(manifest.dependencies).toEqual(
      caretRanges(['connection', 'managers', 'native', 'pool', 'process', 'queues', 'serialization', 'sharedctypes', 'synchronize', 'util']),
    );
  });
});

describe('check-packs', () => {
  const root = mkdtempSync(join(tmpdir(), 'mpjs-check-packs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function write(file: string, text: string): void {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }

  it('fails on a package that ships tests, a stale chunk, a missing export and undeclared imports', () => {
    write('pnpm-workspace.yaml', 'packages: ["pkgs/*"]\n');
    write('package.json', '{ "name": "fixture", "private": true }\n');
    write('pkgs/internal/package.json', '{ "name": "@fx/internal", "version": "0.0.0", "private": true }\n');
    write(
      'pkgs/bad/package.json',
      JSON.stringify({
        name: '@fx/bad',
        version: '1.0.0',
        type: 'module',
        files: ['dist', 'test'],
        exports: { '.': './dist/index.js', './extra': './dist/extra.js' },
        dependencies: { '@fx/internal': '0.0.0' },
      }),
    );
    write('pkgs/bad/README.md', '# bad\n');
    write('pkgs/bad/src/index.ts', '');
    write('pkgs/bad/test/index.test.ts', '');
    write('pkgs/bad/dist/index.js', "import pad from 'left-pad';\nexport * from './chunk-new.js';\n");
    write('pkgs/bad/dist/chunk-new.js', 'export const a = 1;\n');
    write('pkgs/bad/dist/chunk-old.js', 'export const a = 0;\n');

    const r = spawnSync(process.execPath, [checkPacks, '--root', root], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    for (const problem of [
      'lacks LICENSE',
      'lacks dist/index.d.ts',
      'holds test/index.test.ts: a test',
      'holds dist/chunk-old.js: stale',
      'names ./dist/extra.js',
      'dependencies.@fx/internal is a private package',
      'dist/index.js imports left-pad',
      'publishConfig.access is not "public"',
    ]) {
      expect(r.stderr).toContain(problem);
    }
    expect(r.stderr).not.toContain('chunk-new.js');
    expect(r.stdout).toContain('fx-bad-1.0.0.tgz');
  }, 30_000);
});

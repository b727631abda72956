/**
 * What a user installs: `pnpm pack` of a small package, of the native core
 * and of the umbrella. A tarball holds its build and README (the native one
 * also its C++ sources, build script and prebuilt binaries), never tests or
 * sources, and depends only on the packages it imports, by version.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'mpjs-pack-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
}

/** Packs packages/<dir> and returns its file list and package.json. */
function pack(dir: string): { files: string[]; manifest: Manifest } {
  const dest = mkdtempSync(join(out, `${dir}-`));
  execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: join(packagesDir, dir), stdio: 'pipe' });
  const [tarball] = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  expect(tarball).toBeDefined();
  const path = join(dest, tarball!);
  const files = execFileSync('tar', ['-tzf', path], { encoding: 'utf8' }).trim().split('\n');
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', path, 'package/package.json'], { encoding: 'utf8' })) as Manifest;
  return { files, manifest };
}

/** Files outside dist/ (package.json and README.md always are). */
function outsideDist(files: string[]): string[] {
  return files.filter((f) => !f.startsWith('package/dist/') && f !== 'package/package.json' && f !== 'package/README.md').sort();
}

describe('published tarballs', () => {
  it('@mpjs/connection holds dist and README and depends on util, serialization and native only', () => {
    const { files, manifest } = pack('connection');
    expect(outsideDist(files)).toEqual([]);
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files).toContain('package/README.md');
    expect(manifest.dependencies).toEqual({ '@mpjs/util': '^0.1.0', '@mpjs/serialization': '^0.1.0', '@mpjs/native': '^0.1.0' });
  });

  it('@mpjs/native also holds its C++ sources, build script and prebuilt binaries', () => {
    const { files, manifest } = pack('native');
    const extra = outsideDist(files);
    expect(extra.filter((f) => !/^package\/(addon\/[\w-]+\.(cc|h)|binding\.gyp|scripts\/[\w-]+\.mjs|prebuilds\/[\w-]+\/[@\w+.-]+\.node)$/.test(f))).toEqual([]);
    expect(extra).toContain('package/binding.gyp');
    expect(extra.some((f) => f.startsWith('package/addon/'))).toBe(true);
    const deps = manifest.dependencies ?? {};
    expect(Object.keys(deps).filter((n) => n.startsWith('@mpjs/'))).toEqual(['@mpjs/util']);
    expect(Object.values(deps).some((v) => v.startsWith('workspace:'))).toBe(false);
  });

  it('@mpjs/multiprocessing holds dist (with dummy) and depends on every package by version', () => {
    const { files, manifest } = pack('multiprocessing');
    expect(outsideDist(files)).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/dummy.js', 'package/dist/dummy-thread.js', 'package/dist/dummy.d.ts']));
    expect(Object.keys(manifest.exports ?? {}).sort()).toEqual(['.', './dummy', './package.json']);
    const deps = manifest.dependencies ?? {};
    expect(Object.keys(deps).sort()).toEqual(
      ['connection', 'managers', 'native', 'pool', 'process', 'queues', 'serialization', 'sharedctypes', 'synchronize', 'util'].map((n) => `@mpjs/${n}`),
    );
    expect(Object.values(deps).every((v) => v === '^0.1.0')).toBe(true);
  });
});

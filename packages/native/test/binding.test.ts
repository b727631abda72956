import { describe, expect, it } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindingPath } from '../src/index.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Imports a copy of binding.ts from a package root of its own, which `prepare`
 * fills, in a fresh Node.js. `body` (async) runs with the module as `binding`;
 * an import that fails prints the error's code, message and cause's message.
 */
function importCopy(prepare: (root: string) => void, body: string): SpawnSyncReturns<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'mpjs-native-'));
  try {
    mkdirSync(path.join(root, 'src'));
    copyFileSync(path.join(packageRoot, 'src', 'binding.ts'), path.join(root, 'src', 'binding.ts'));
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: '@mpjs/native', type: 'module' }));
    prepare(root);
    const script =
      `import(${JSON.stringify(path.join(root, 'src', 'binding.ts'))})` +
      `.then(async (binding) => { ${body} }, (e) => { console.log(e.code); console.log(e.message); console.log(e.cause?.message); })`;
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: packageRoot });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** node-gyp-build, as a package root that depends on it sees it. */
function linkNodeGypBuild(root: string): void {
  const real = path.dirname(createRequire(path.join(packageRoot, 'package.json')).resolve('node-gyp-build/package.json'));
  mkdirSync(path.join(root, 'node_modules'));
  symlinkSync(real, path.join(root, 'node_modules', 'node-gyp-build'), 'dir');
}

describe('the native binding', () => {
  it("is loaded from the build for the running Node.js's ABI", () => {
    expect(bindingPath).toBe(
      path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, `@mpjs+native.abi${process.versions.modules}.node`),
    );
    expect(existsSync(bindingPath)).toBe(true);
  });

  it('build script skips compiling when the binary is up to date', () => {
    const r = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`up to date (prebuilds/${process.platform}-${process.arch}/@mpjs+native.abi${process.versions.modules}.node)`);
  });

  it('loads the build for this ABI without node-gyp-build', () => {
    // Requiring node-gyp-build, then the addon through it, would cost every child process ~4 ms.
    const r = importCopy(
      (root) => {
        linkNodeGypBuild(root);
        mkdirSync(path.dirname(bindingPath.replace(packageRoot, root + path.sep)), { recursive: true });
        copyFileSync(bindingPath, bindingPath.replace(packageRoot, root + path.sep));
      },
      'const { createRequire } = await import("node:module");' +
        'console.log(binding.native.getppid() === process.ppid);' +
        'const loaded = Object.keys(createRequire(process.cwd() + "/").cache);' +
        'console.log(loaded.some((file) => file.includes("node-gyp-build")));',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('true\nfalse\n');
  });

  it('falls back to what node-gyp-build finds (a build in build/Release) when this ABI has no build', () => {
    const r = importCopy(
      (root) => {
        linkNodeGypBuild(root);
        mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
        copyFileSync(bindingPath, path.join(root, 'build', 'Release', 'mpjs_native.node'));
      },
      'console.log(binding.native.getppid() === process.ppid);',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('true\n');
  });

  it('reports a build that does not load as not built, with the reason', () => {
    const r = importCopy(
      (root) => {
        linkNodeGypBuild(root);
        mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
        writeFileSync(path.join(root, 'build', 'Release', 'mpjs_native.node'), 'not a shared object');
      },
      'console.log("loaded");',
    );
    const [code, message, cause] = r.stdout.split('\n');
    expect(code).toBe('ERR_MP_NATIVE_NOT_BUILT');
    expect(message).toContain('pnpm --filter @mpjs/native run build');
    expect(cause).toMatch(/mpjs_native\.node/);
  });

  it('names the command to run when the binary is missing', () => {
    // No prebuilds/, and no node-gyp-build to look further.
    const r = importCopy(() => {}, 'console.log("loaded");');
    expect(r.stdout).toContain('ERR_MP_NATIVE_NOT_BUILT');
    expect(r.stdout).toContain(`ABI ${process.versions.modules}`);
    expect(r.stdout).toContain('pnpm --filter @mpjs/native run build');
  });
});

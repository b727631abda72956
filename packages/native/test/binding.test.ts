import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindingPath } from '../src/index.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

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

  it('names the command to run when the binary is missing', () => {
    // A copy of binding.ts in a package root that has no prebuilds/.
    const root = mkdtempSync(path.join(tmpdir(), 'mpjs-native-'));
    try {
      mkdirSync(path.join(root, 'src'));
      copyFileSync(path.join(packageRoot, 'src', 'binding.ts'), path.join(root, 'src', 'binding.ts'));
      const script = `import(${JSON.stringify(path.join(root, 'src', 'binding.ts'))}).catch((e) => { console.log(e.code); console.log(e.message); })`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: packageRoot });
      expect(r.stdout).toContain('ERR_MP_NATIVE_NOT_BUILT');
      expect(r.stdout).toContain(`ABI ${process.versions.modules}`);
      expect(r.stdout).toContain('pnpm --filter @mpjs/native run build');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

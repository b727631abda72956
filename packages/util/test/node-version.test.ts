/** The Node.js version check every mpjs package runs first (through @mpjs/util). */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

describe('an older Node.js', () => {
  it('is told which version mpjs needs, before any package fails on a missing built-in loader (plain Node, built package)', () => {
    const built = new URL('../dist/index.js', import.meta.url).href;
    // Node before 20.16 has no process.getBuiltinModule: removing it stands in for one.
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `delete process.getBuiltinModule; await import(${JSON.stringify(built)});`], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/mpjs needs Node\.js 20\.16 or newer, and this is Node\.js v\d+\.\d+\.\d+: upgrade Node\.js/);
  });
});

/**
 * The examples in docs/examples run as documented
 * (`node --import tsx docs/examples/<name>.ts`) and print exactly what the
 * spec's Python examples print.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, runFixture } from '@mpjs/test-utils';
import { marker, processesWith, shmNames } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mpjs-sharedctypes-'));
// Map the package names to the built packages, as an installed copy would resolve them.
const tsconfig = join(dir, 'tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { paths: { '@mpjs/*': [`${root}packages/*/dist/index.js`] } } }));
const before = shmNames('');

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  expect(shmNames('')).toEqual(before);
  // No process an example started is left.
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

async function example(name: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
  delete env.MPJS_EXEC_ARGV;
  const r = await runFixture(`${root}docs/examples/${name}.ts`, { env, timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('docs/examples', () => {
  it('sharedctypes.ts prints what the spec shows', async () => {
    expect(await example('sharedctypes')).toBe('49\n0.1111111111111111\nHELLO WORLD\n[(3.515625, 39.0625), (33.0625, 4.0), (5.640625, 90.25)]\n');
  });

  it('value-array.ts prints what the spec shows', async () => {
    expect(await example('value-array')).toBe('3.1415927\n[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]\n');
  });

  it('value-lock.ts: four processes increment one Value under its lock and the total is exact', async () => {
    expect(await example('value-lock')).toBe('exit codes: 0, 0, 0, 0\ncounter: 200000 (expected 200000)\n');
  });
});

/**
 * The pool examples in docs/examples run as documented
 * (`node --import tsx docs/examples/<name>.ts`) and print what the spec's do.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, processesWithEnv, runFixture } from '@mpjs/test-utils';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mpjs-pool-'));
// Map the package names to the built packages, as an installed copy would resolve them.
const tsconfig = join(dir, 'tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { paths: { '@mpjs/*': [`${root}packages/*/dist/index.js`] } } }));

// Every process an example starts inherits this marker, so a worker left behind is found.
const marker = randomUUID();

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  expect(await eventually(() => processesWithEnv(marker).length === 0, 5_000)).toBe(true);
});

async function example(name: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig, MPJS_TEST_MARKER: marker };
  delete env.MPJS_EXEC_ARGV;
  delete env.NODE_EXTRA_CA_CERTS;
  const r = await runFixture(`${root}docs/examples/${name}.ts`, { env, timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('docs/examples', () => {
  test('pool prints what the spec example prints, TimeoutError included', async () => {
    const lines = (await example('pool')).trimEnd().split('\n');
    expect(lines[0]).toBe('[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]');
    expect(lines.slice(1, 11).map(Number).sort((a, b) => a - b)).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    expect(lines[11]).toBe('400');
    expect(lines[12]).toMatch(/^\d+$/);
    expect(lines[13]).toMatch(/^\[\d+, \d+, \d+, \d+\]$/);
    expect(lines.slice(14)).toEqual([
      'We lacked patience and got a multiprocessing.TimeoutError',
      'For the moment, the pool remains available for more work',
      'Now the pool is closed and no longer available',
    ]);
  });

  test('pool-speedup gets the same results on the pool and reports the speed-up', async () => {
    const out = await example('pool-speedup');
    const m = /^same results: true\nserial: (\d+) ms, pool of 2: (\d+) ms, speed-up ([\d.]+)x\n$/.exec(out);
    expect(m).not.toBeNull();
    // The figure itself is not asserted: other test files share the two cores during the run
    // (measured alone: about 1.5x on this 2-core machine).
    expect(Number(m![3])).toBeGreaterThan(0);
  });

  test('pool-map prints the squares of the introduction example', async () => {
    expect(await example('pool-map')).toBe('[ 1, 4, 9 ]\n');
  });

  test('pool-imap: applyAsync, map, imap with next(timeout), then a TimeoutError', async () => {
    expect(await example('pool-imap')).toBe('100\n[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n0\n1\n4\nTimeoutError\n');
  });
});

/**
 * The queue examples in docs/examples run as documented
 * (`node --import tsx docs/examples/<name>.ts`) and print what they say.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, runFixture } from '@mpjs/test-utils';
import { markedProcesses } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mpjs-queues-'));
// Map the package names to the built packages, as an installed copy would resolve them.
const tsconfig = join(dir, 'tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { paths: { '@mpjs/*': [`${root}packages/*/dist/index.js`] } } }));

afterAll(async () => {
  expect(await eventually(() => markedProcesses().length === 0, 5_000)).toBe(true);
  rmSync(dir, { recursive: true, force: true });
});

async function example(name: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
  delete env.MPJS_EXEC_ARGV;
  const r = await runFixture(`${root}docs/examples/${name}.ts`, { env, timeout: 40_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('docs/examples', () => {
  it('queue prints what the child put', async () => {
    expect(await example('queue')).toBe("[ 42, null, 'hello' ]\n");
  });

  it('queue-deadlock shows a join that waits for a reader, and the fix', async () => {
    expect(await example('queue-deadlock')).toBe(
      '1 MB: join() returned (exit code 0), then get() gave 1000000 characters\n' +
        '10 MB: join(2000) timed out, the child is still alive: true\n' +
        '10 MB: get() gave 10000000 characters\n' +
        '10 MB: then join() returned (exit code 0)\n',
    );
  });
});

/**
 * The example in docs/examples runs as documented
 * (`node --import tsx docs/examples/lock.ts`) and prints what the spec's does.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFixture } from '@mpjs/test-utils';
import { marker, processesWith } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mpjs-synchronize-'));
// Map the package names to the built packages, as an installed copy would resolve them.
const tsconfig = join(dir, 'tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { paths: { '@mpjs/*': [`${root}packages/*/dist/index.js`] } } }));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  expect(processesWith(marker)).toEqual([]);
});

describe('docs/examples', () => {
  it('lock: ten processes each print "hello world i" on a line of their own', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
    delete env.MPJS_EXEC_ARGV;
    const r = await runFixture(`${root}docs/examples/lock.ts`, { env, timeout: 40_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect([...lines].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `hello world ${i}`).sort());
  }, 45_000);
});

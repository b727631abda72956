/**
 * The examples in docs/examples run as documented
 * (`node --import tsx docs/examples/<name>.ts`) and print what the spec's do.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually, runFixture } from '@mpjs/test-utils';
import { marker, processesWith, tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = tempDir();
// Map the package names to the built packages, as an installed copy would resolve them.
const tsconfig = tmp.file('tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { paths: { '@mpjs/*': [`${root}packages/*/dist/index.js`] } } }));

afterAll(async () => {
  // Nothing outlives the example programs (their idle warm interpreters stop with them).
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  tmp.cleanup();
});

async function example(name: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
  delete env.MPJS_EXEC_ARGV;
  const r = await runFixture(`${root}docs/examples/${name}.ts`, { env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('docs/examples', () => {
  it('process-hello prints hello bob from the child', async () => {
    expect(await example('process-hello')).toBe('hello bob\n');
  });

  it('process-info shows the module imported (not main) in the child, and the pids', async () => {
    const out = await example('process-info');
    const m = /^main line\nmodule name: process-info\.ts \(main\)\nparent process: \d+\nprocess id: (\d+)\nfunction f\nmodule name: process-info\.ts \(imported\)\nparent process: (\d+)\nprocess id: (\d+)\nhello bob\n$/.exec(out);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(m![1]);
    expect(m![3]).not.toBe(m![1]);
  });

  it('process-start-method sets the start method once', async () => {
    expect(await example('process-start-method')).toBe('hello\nstart method spawn, exit code 0\n');
  });

  it('process-context uses both start methods through contexts', async () => {
    expect(await example('process-context')).toBe(
      'hello from a spawn child\nspawn: exit code 0\nhello from a forkserver child\nforkserver: exit code 0\n',
    );
  });
});

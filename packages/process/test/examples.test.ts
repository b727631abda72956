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

function programEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
  delete env.MPJS_EXEC_ARGV;
  return env;
}

async function example(name: string): Promise<string> {
  const r = await runFixture(`${root}docs/examples/${name}.ts`, { env: programEnv() });
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

  it('process-methods shows the initial, started and stopped states and exitcode -SIGTERM', async () => {
    const out = await example('process-methods');
    const m = new RegExp(
      "^<Process name='Process-1' parent=(\\d+) initial> false\\n" +
        "<Process name='Process-1' pid=(\\d+) parent=\\1 started> true\\n" +
        "<Process name='Process-1' pid=\\2 parent=\\1 stopped exitcode=-SIGTERM> false\\n" +
        'true\\n$',
    ).exec(out);
    expect(m).not.toBeNull();
    expect(m![2]).not.toBe(m![1]);
  });

  it('freeze-support prints hello world! from the child', async () => {
    expect(await example('freeze-support')).toBe('hello world!\n');
  });

  it('main-guard: the guarded entry code starts one child, which prints hello', async () => {
    expect(await example('main-guard')).toBe('hello\n');
  });

  it('an unguarded main module fails in the child with the explanatory error, and spawns no more', async () => {
    const r = await runFixture(fileURLToPath(new URL('./fixtures/unguarded-main.ts', import.meta.url)), { env: programEnv() });
    // As in Python, the program itself ends normally: its child is the one that fails.
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('child exit code 1\n');
    expect(r.stderr).toMatch(
      /^Process Process-1:\nProcessError: An attempt has been made to start a new process before the\ncurrent process has finished its bootstrapping phase\.\n/,
    );
    expect(r.stderr).toContain('runMain(import.meta, async () => {');
    expect(r.stderr).toContain('Safe importing of main module');
    // One child, one error: the child did not start a grandchild (Process-1:1).
    expect(r.stderr.match(/An attempt has been made/g)).toHaveLength(1);
    expect(r.stderr).not.toContain('Process-1:1');
    expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  });
});

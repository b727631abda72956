import { describe, expect, it } from '@jest/globals';
import { runFixture, spawnFixture, eventually } from '@mpjs/test-utils';
import { getppid, setParentDeathSignal, waitChildSync } from '../src/index.js';
import { exited, fixture, processRunning, waitForLine } from './helpers.js';

describe('getppid', () => {
  it('is the pid of the parent', () => {
    expect(getppid()).toBe(process.ppid);
  });
});

describe('setParentDeathSignal', () => {
  it('ends a grandchild when its parent is SIGKILLed', async () => {
    const middle = spawnFixture(fixture('parent-death.ts'), { args: ['middle', 'set'] });
    let leaf = 0;
    try {
      leaf = Number((await waitForLine(middle, /^leaf (\d+)$/))[1]);
      expect(processRunning(leaf)).toBe(true);
      middle.kill('SIGKILL');
      await exited(middle);
      expect(await eventually(() => !processRunning(leaf), 5_000)).toBe(true);
    } finally {
      middle.kill('SIGKILL');
      if (leaf && processRunning(leaf)) process.kill(leaf, 'SIGKILL');
    }
  });

  it('without it, the grandchild outlives its parent (control)', async () => {
    const middle = spawnFixture(fixture('parent-death.ts'), { args: ['middle', 'unset'] });
    let leaf = 0;
    try {
      leaf = Number((await waitForLine(middle, /^leaf (\d+)$/))[1]);
      middle.kill('SIGKILL');
      await exited(middle);
      await new Promise((r) => setTimeout(r, 500));
      expect(processRunning(leaf)).toBe(true);
    } finally {
      middle.kill('SIGKILL');
      if (leaf && processRunning(leaf)) process.kill(leaf, 'SIGKILL');
    }
  });

  it('signals at once when the parent is already not the expected one', async () => {
    const r = await runFixture(fixture('parent-death.ts'), { args: ['race'] });
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout).toBe('');
  });

  it('checks its arguments', () => {
    // @ts-expect-error: not a signal name
    expect(() => setParentDeathSignal('SIGFOO')).toThrow(/not a signal name/);
    expect(() => setParentDeathSignal(99)).toThrow(RangeError);
    // @ts-expect-error: not a signal
    expect(() => setParentDeathSignal(null)).toThrow(TypeError);
    expect(() => setParentDeathSignal('SIGTERM', -5)).toThrow(/"expectedParentPid"/);
    // Clearing it is allowed (and what this process wants anyway).
    expect(() => setParentDeathSignal(0)).not.toThrow();
  });
});

describe('exitImmediately', () => {
  it('ends the process with the code, skipping exit listeners and Node teardown', async () => {
    const { spawnSync } = await import('node:child_process');
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { exitImmediately } from ${JSON.stringify(entry)}; process.on('exit', () => console.log('listener ran')); process.stdout.write('before\\n'); exitImmediately(42);`],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(42);
    expect(r.stdout).toBe('before\n');
  });

  it('refuses a code outside 0–255', async () => {
    const { exitImmediately } = await import('../src/index.js');
    expect(() => exitImmediately(256)).toThrow(RangeError);
    expect(() => exitImmediately(-1)).toThrow(RangeError);
  });
});

describe('waitChildSync', () => {
  const startChild = async (code: string): Promise<import('node:child_process').ChildProcess> => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    // Reaped here, Node never sees it end: it must not keep the test's loop alive.
    child.unref();
    return child;
  };

  it('blocks until the child exits and gives its exit code', async () => {
    const child = await startChild('setTimeout(() => process.exit(3), 300)');
    expect(waitChildSync(child.pid!, { block: false })).toBeNull();
    const started = performance.now();
    expect(waitChildSync(child.pid!)).toEqual({ code: 3, signal: null });
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    // Reaped: nothing is left to wait for.
    expect(() => waitChildSync(child.pid!)).toThrow(expect.objectContaining({ code: 'ECHILD' }));
  });

  it('gives the signal that ended the child', async () => {
    const child = await startChild('setInterval(() => {}, 1000)');
    process.kill(child.pid!, 'SIGKILL');
    expect(waitChildSync(child.pid!)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('refuses a process that is not its child, and bad arguments', () => {
    expect(() => waitChildSync(process.ppid)).toThrow(/is not a child of this process/);
    expect(() => waitChildSync(0)).toThrow(RangeError);
    // @ts-expect-error: not a boolean
    expect(() => waitChildSync(1, { block: 'no' })).toThrow(/"block" must be a boolean/);
  });
});

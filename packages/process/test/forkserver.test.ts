/** What is particular to the forkserver start method: warm interpreters, preloading, the pool. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { eventually } from '@mpjs/test-utils';
import { marker, processesWith, readJson, tempDir } from './helpers.js';
import { getContext, setForkserverPoolSize, setForkserverPreload, ValueError } from '../src/index.js';
import { recordArgs, reportEnvironment, reportUptime } from './fixtures/targets.js';
import { reportImport } from './fixtures/learned.js';

const ctx = getContext('forkserver');
const tmp = tempDir();

afterAll(async () => {
  await ctx.stopForkserver();
  setForkserverPreload([]);
  setForkserverPoolSize(null);
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  tmp.cleanup();
});

interface Uptime {
  uptime: number;
  preloaded: number | null;
  pid: number;
}

describe('forkserver', () => {
  it('hands the process to an interpreter that was already running, with the preload modules imported', async () => {
    setForkserverPreload([fileURLToPath(new URL('./fixtures/preloaded.ts', import.meta.url))]);
    setForkserverPoolSize(2);
    await ctx.ensureRunning();
    // Interpreters replaced by the new preload list may still be exiting: at least the two warm ones are up.
    expect(await eventually(() => processesWith(marker).length >= 2, 10_000)).toBe(true);
    const idle = processesWith(marker);
    const out = tmp.file('uptime.json');
    const startedAt = Date.now();
    const p = ctx.Process({ target: reportUptime, args: [out] });
    p.start();
    await p.join();
    expect(p.exitcode).toBe(0);
    const report = readJson<Uptime>(out);
    // The interpreter was running, idle, before start() was called; its pid is the process's pid.
    expect(idle).toContain(p.pid);
    expect(report.pid).toBe(p.pid);
    expect(report.preloaded).not.toBeNull();
    expect(report.preloaded!).toBeLessThanOrEqual(startedAt);
  });

  it('refills the pool in the background', async () => {
    await ctx.ensureRunning();
    expect(await eventually(() => processesWith(marker).length >= 2, 10_000)).toBe(true);
    const a = ctx.Process({ target: reportUptime, args: [tmp.file('a.json')] });
    const b = ctx.Process({ target: reportUptime, args: [tmp.file('b.json')] });
    a.start();
    b.start();
    await Promise.all([a.join(), b.join()]);
    await ctx.ensureRunning();
    // Refilled: fresh interpreters are up, and a and b (joined) are not among them.
    expect(await eventually(() => processesWith(marker).length >= 2, 10_000)).toBe(true);
    const idle = processesWith(marker);
    expect(idle).not.toContain(a.pid);
    expect(idle).not.toContain(b.pid);
  });

  it('retires interpreters started with another preload list', async () => {
    await ctx.ensureRunning();
    const old = processesWith(marker);
    setForkserverPreload([]);
    await ctx.ensureRunning();
    expect(await eventually(() => old.every((pid) => !processesWith(marker).includes(pid)), 5_000)).toBe(true);
    const out = tmp.file('no-preload.json');
    const p = ctx.Process({ target: reportUptime, args: [out] });
    p.start();
    await p.join();
    expect(readJson<Uptime>(out).preloaded).toBeNull();
  });

  it('warm interpreters learn to import the modules of the targets started through them', async () => {
    setForkserverPreload([]);
    setForkserverPoolSize(2);
    await ctx.ensureRunning();
    // Use up the interpreters started before any target was seen.
    for (let i = 0; i < 3; i++) {
      const p = ctx.Process({ target: reportImport, args: [tmp.file(`learn-${i}.json`)] });
      p.start();
      await p.join();
      expect(p.exitcode).toBe(0);
    }
    await ctx.ensureRunning();
    const out = tmp.file('learned.json');
    const startedAt = Date.now();
    const p = ctx.Process({ target: reportImport, args: [out] });
    p.start();
    await p.join();
    const report = readJson<{ importedAt: number; pid: number }>(out);
    expect(report.pid).toBe(p.pid);
    // The target's module was imported while the interpreter waited, before start() was called.
    expect(report.importedAt).toBeLessThanOrEqual(startedAt);
  });

  it('hands processes to interpreters still starting up when none is ready', async () => {
    await ctx.ensureRunning();
    const processes = [0, 1, 2, 3].map((i) => ctx.Process({ target: recordArgs, args: [tmp.file(`busy-${i}.json`), i] }));
    for (const p of processes) p.start();
    await Promise.all(processes.map((p) => p.join()));
    expect(processes.map((p) => p.exitcode)).toEqual([0, 0, 0, 0]);
    expect(processes.map((_, i) => readJson(tmp.file(`busy-${i}.json`)))).toEqual([[0], [1], [2], [3]]);
  });

  it("gives the process the parent's environment as it is at start(), whatever the interpreter started with", async () => {
    const names = ['MPJS_TEST_CHANGED', 'MPJS_TEST_REMOVED', 'MPJS_TEST_ADDED', 'MPJS_TEST_SET_BY_PRELOAD', 'MPJS_TEST_REMOVED_BY_PRELOAD'];
    const check = async (name: string): Promise<unknown> => {
      // Interpreters start with the environment of this moment...
      await ctx.stopForkserver();
      process.env.MPJS_TEST_CHANGED = 'at the start of the interpreter';
      process.env.MPJS_TEST_REMOVED = 'at the start of the interpreter';
      process.env.MPJS_TEST_REMOVED_BY_PRELOAD = 'in the parent';
      await ctx.ensureRunning();
      // ...which changes before the process starts.
      process.env.MPJS_TEST_CHANGED = 'changed';
      delete process.env.MPJS_TEST_REMOVED;
      process.env.MPJS_TEST_ADDED = 'added';
      const out = tmp.file(name);
      const p = ctx.Process({ target: reportEnvironment, args: [out, names] });
      try {
        p.start();
      } finally {
        for (const variable of names) delete process.env[variable];
      }
      await p.join();
      expect(p.exitcode).toBe(0);
      return readJson<{ env: unknown }>(out).env;
    };
    const expected = {
      MPJS_TEST_CHANGED: 'changed',
      MPJS_TEST_REMOVED: null,
      MPJS_TEST_ADDED: 'added',
      MPJS_TEST_SET_BY_PRELOAD: null,
      MPJS_TEST_REMOVED_BY_PRELOAD: 'in the parent',
    };
    setForkserverPreload([]);
    expect(await check('env.json')).toEqual(expected);
    // A preloaded module that changes the environment does not change what the process sees.
    setForkserverPreload([fileURLToPath(new URL('./fixtures/preload-env.ts', import.meta.url))]);
    try {
      expect(await check('env-preload.json')).toEqual(expected);
    } finally {
      setForkserverPreload([]);
      await ctx.stopForkserver();
    }
  });

  it('stops its idle interpreters on request', async () => {
    await ctx.ensureRunning();
    expect(processesWith(marker).length).toBe(2);
    await ctx.stopForkserver();
    expect(processesWith(marker)).toEqual([]);
  });

  it('validates its settings', () => {
    expect(() => setForkserverPoolSize(0)).toThrow(ValueError);
    expect(() => setForkserverPoolSize(1.5)).toThrow(/integer/);
    expect(() => setForkserverPreload('mod' as unknown as string[])).toThrow(ValueError);
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { range } from './helpers.js';
import { spawn } from 'node:child_process';
import { collect, eventually, isZombie, pidAlive, runFixture, tsNodeArgs } from '@mpjs/test-utils';
import { getContext } from '@mpjs/process';
import { Pool, ProcessError } from '../src/index.js';
import { exitOn, failingInit, init, initState, killSelf, moduleImportedAt, pid, sleepPid, spin, square, TaskError } from './fixtures/tasks.js';

describe('workers that die or retire', () => {
  test('a worker that exits fails only its task, naming the exit code; a new worker takes its place', async () => {
    const pool = new Pool(2);
    try {
      const before = pool.pids;
      const error = (await pool.apply(exitOn, [5, 5, 7]).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(ProcessError);
      expect(error.message).toMatch(/exit code 7/);
      // Other tasks complete, on a replaced worker set.
      expect(await pool.map(square, range(20), { chunksize: 1 })).toEqual(range(20).map((x) => x * x));
      expect(pool.pids).toHaveLength(2);
      expect(pool.pids.filter((p) => !before.includes(p))).toHaveLength(1);
    } finally {
      await pool.terminate();
    }
  });

  test('a worker killed by SIGKILL in the middle of a map fails the map promptly, naming the signal', async () => {
    const pool = new Pool(2);
    try {
      const results = range(8).map((i) => pool.applyAsync(sleepPid, [30 + i]));
      const killed = pool.applyAsync(killSelf);
      const error = (await killed.get(10_000).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(ProcessError);
      expect(error.message).toMatch(/SIGKILL/);
      const pids = await Promise.all(results.map((r) => r.get(10_000)));
      expect(pids).toHaveLength(8);
      expect(await pool.apply(square, [4])).toBe(16);
    } finally {
      await pool.terminate();
    }
  });

  test('short tasks travel in batches, yet a worker that dies in a batch fails only the task it was running', async () => {
    const pool = new Pool(2);
    try {
      // Short tasks first, so each worker is sent many at a time.
      expect(await pool.map(square, range(2000), { chunksize: 1 })).toHaveLength(2000);
      const results = range(400).map((i) => pool.applyAsync(exitOn, [i, 200, 3]));
      const outcomes = await Promise.allSettled(results.map((r) => r.get(20_000)));
      // Each failure with its reason, so a failing run says why.
      const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${i}: ${String(o.reason)}`] : []));
      expect(failures).toEqual([expect.stringMatching(/^200: ProcessError: .*exit code 3/)]);
      expect((outcomes[200] as PromiseRejectedResult).reason).toBeInstanceOf(ProcessError);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : null))).toEqual(range(400).map((i) => (i === 200 ? null : i * i)));
      expect(pool.pids).toHaveLength(2);
    } finally {
      await pool.terminate();
    }
  });

  test('a worker found gone by a send is blamed for the task it died on, not for one whose answer was not read yet', async () => {
    // In a program of its own: the order of reads and sends under test is Node's, not the test runner's.
    const result = await runFixture(fileURLToPath(new URL('./fixtures/found-gone.ts', import.meta.url)), { args: ['3'] });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const runs = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { worker: number; zombie: boolean; outcomes: unknown[] });
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      expect(run.zombie).toBe(true);
      expect(run.outcomes).toEqual([run.worker, 4, expect.stringMatching(/^ProcessError: .*exit code 3 while running a task/), 9]);
    }
  });

  test('a send that finds the worker gone runs its tasks elsewhere, in a test runner\'s realm too', async () => {
    // Node's system errors (EPIPE) come from the main realm, not from the vm context the test runs in.
    const pool = new Pool(1);
    try {
      await pool.map(square, range(8), { chunksize: 1 });
      const [worker] = pool.pids;
      const slow = pool.applyAsync(spin, [50]);
      const fatal = pool.applyAsync(exitOn, [5, 5, 3]);
      await Promise.resolve(); // both are sent
      const deadline = Date.now() + 10_000;
      while (!isZombie(worker!) && Date.now() < deadline);
      expect(isZombie(worker!)).toBe(true);
      const next = pool.applyAsync(square, [3]);
      const outcomes = await Promise.allSettled([slow, fatal, next].map((r) => r.get(10_000)));
      const described = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : String(o.reason)));
      expect(described).toEqual([worker, expect.stringMatching(/^ProcessError: .*exit code 3 while running a task/), 9]);
    } finally {
      await pool.terminate();
    }
  });

  test('results of short tasks do not wait behind a long task that follows them', async () => {
    const pool = new Pool(1);
    try {
      await pool.map(square, range(500), { chunksize: 1 }); // short tasks: several travel together
      const short = range(5).map((i) => pool.applyAsync(square, [i]));
      const long = pool.applyAsync(spin, [600]);
      expect(await Promise.all(short.map((r) => r.get()))).toEqual([0, 1, 4, 9, 16]);
      expect(long.ready()).toBe(false);
      expect(await long.get()).toBe(pool.pids[0]);
    } finally {
      await pool.terminate();
    }
  });

  test('with the forkserver, the next workers start with the task functions\' module already imported', async () => {
    const ctx = getContext('forkserver');
    try {
      const first = new Pool({ processes: 1, context: ctx });
      await first.apply(moduleImportedAt); // the pool reports the module of the task function
      await first.terminate();
      await ctx.stopForkserver(); // the interpreters started from now on know the module
      await ctx.ensureRunning();
      const startedAt = Date.now();
      const next = new Pool({ processes: 1, context: ctx });
      try {
        expect(await next.apply(moduleImportedAt)).toBeLessThanOrEqual(startedAt);
      } finally {
        await next.terminate();
      }
    } finally {
      await ctx.stopForkserver();
    }
  });

  test('an idle worker killed from outside is replaced when work comes', async () => {
    const pool = new Pool(1);
    try {
      const [first] = pool.pids;
      expect(await pool.apply(pid)).toBe(first);
      process.kill(first!, 'SIGKILL');
      // Once the parent has reaped it, the pool knows it is gone and does not hand it the next task.
      expect(await eventually(() => !pidAlive(first!), 5_000)).toBe(true);
      const next = await pool.apply(pid);
      expect(next).not.toBe(first);
      expect(pidAlive(first!)).toBe(false);
    } finally {
      await pool.terminate();
    }
  });

  test('maxtasksperchild replaces a worker after that many tasks', async () => {
    const pool = new Pool({ processes: 1, maxtasksperchild: 2 });
    try {
      const pids: number[] = [];
      for (let i = 0; i < 6; i++) pids.push(await pool.apply(pid));
      expect(new Set(pids).size).toBe(3);
      expect(pids[0]).toBe(pids[1]);
      expect(pids[1]).not.toBe(pids[2]);
      // A map's chunks count as tasks too.
      const chunkPids = await pool.map(sleepPid, [1, 1, 1, 1], { chunksize: 1 });
      expect(new Set(chunkPids).size).toBe(2);
      pool.close();
      await pool.join();
      expect([...pids, ...chunkPids].filter(pidAlive)).toEqual([]);
    } finally {
      await pool.terminate();
    }
  });

  test('the initializer runs once in each worker with initargs', async () => {
    const pool = new Pool({ processes: 2, initializer: init, initargs: ['a', 1] });
    try {
      const states = await pool.map(initState, [1, 2, 3, 4, 5, 6], { chunksize: 1 });
      for (const state of states) {
        expect(state.args).toEqual(['a', 1]);
        expect(state.count).toBe(1);
      }
    } finally {
      await pool.terminate();
    }
  });

  test('an initializer that fails fails the tasks at once, saying so, with its error as the cause', async () => {
    // Python's pool starts worker after worker and its tasks wait for ever; here each task given to such a worker fails.
    for (const async of [false, true]) {
      const pool = new Pool({ processes: 1, initializer: failingInit, initargs: ['no database', async] });
      try {
        const outcomes = await Promise.allSettled([pool.apply(square, [2]), pool.apply(square, [3])]);
        for (const outcome of outcomes) {
          expect(outcome.status).toBe('rejected');
          const error = (outcome as PromiseRejectedResult).reason as ProcessError;
          expect(error).toBeInstanceOf(ProcessError);
          expect(error.message).toMatch(/^the initializer of worker Pool-\d+Worker-\d+ \(pid \d+\) failed \(TaskError: no database\), so the worker exited with exit code 1 without running this task/);
          expect(error.cause).toBeInstanceOf(TaskError);
          expect((error.cause as TaskError).message).toBe('no database');
        }
      } finally {
        await pool.terminate();
      }
    }
  });
});

describe('a pool that becomes garbage is terminated (Python: "When the pool object is garbage collected terminate() will be called immediately")', () => {
  test.each(['Pool', 'ThreadPool'])('%s: collected once idle, its workers end; kept while work is pending, whose results all come', async (kind) => {
    const fixture = fileURLToPath(new URL('./fixtures/collected.ts', import.meta.url));
    const result = await collect(spawn(process.execPath, ['--expose-gc', ...tsNodeArgs, fixture, kind], { stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      { case: 'idle', hadWorkers: true, collected: true, ended: true },
      { case: 'pending', keptWhilePending: true, value: 49, collected: true, ended: true },
      { case: 'callback', keptWhilePending: true, value: 64, collected: true, ended: true },
      { case: 'imap', keptWhilePending: true, values: [1, 4, 9, 16], collected: true, ended: true },
      { case: 'joined', collected: true },
    ]);
  }, 90_000);
});

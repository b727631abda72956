import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { range } from './helpers.js';
import { ProcessError, ThreadPool, TimeoutError, ValueError, type ThreadPoolOptions } from '../src/index.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { collect, runFixture, tsNodeArgs } from '@mpjs/test-utils';
import { add, currentThreadId, exitOn, failingInit, failOn13, init, initState, sleepPid, slowSquare, square, TaskError, touch } from './fixtures/tasks.js';

describe('ThreadPool', () => {
  let pool: ThreadPool;
  beforeAll(() => {
    pool = new ThreadPool({ processes: 2, initializer: init, initargs: ['t'] });
  });
  afterAll(async () => {
    pool.close();
    await pool.join();
  });

  test('runs tasks in worker threads of this process', async () => {
    expect(await pool.apply(add, [2, 3])).toBe(5);
    expect(await pool.map(square, range(50))).toEqual(range(50).map((x) => x * x));
    expect(await pool.starmap(add, [[1, 2], [3, 4]])).toEqual([3, 7]);
    // Threads share the process id.
    expect(await pool.apply(sleepPid, [1])).toBe(process.pid);
    const state = await pool.apply(initState);
    expect(state.args).toEqual(['t']);
    expect(state.count).toBe(1);
  });

  test('errors, timeouts and imap work as with processes', async () => {
    await expect(pool.apply(failOn13, [13])).rejects.toThrow(TaskError);
    await expect(pool.applyAsync(slowSquare, [2, 200]).get(10)).rejects.toThrow(TimeoutError);
    const out: number[] = [];
    for await (const v of pool.imap(square, [3, 4, 5])) out.push(v);
    expect(out).toEqual([9, 16, 25]);
  });

  test('a thread that calls process.exit fails its task and is replaced', async () => {
    const error = (await pool.apply(exitOn, [1, 1, 4]).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ProcessError);
    expect(error.message).toMatch(/exit code 4/);
    expect(await pool.map(square, range(10), { chunksize: 1 })).toEqual(range(10).map((x) => x * x));
  });

  test('new ThreadPool() refuses what is not a number or an options object, and options it has not (context)', () => {
    expect(() => new ThreadPool('2' as unknown as number)).toThrow(/^new ThreadPool\(\) takes a number of processes or an options object .*, got the string "2"/);
    expect(() => new ThreadPool({ processes: 1, context: 'spawn' } as ThreadPoolOptions)).toThrow(
      new TypeError('new ThreadPool(): unknown option "context"; the options are processes, initializer, initargs and maxtasksperchild'),
    );
  });

  test('an initializer that fails fails the task, saying so, with its error as the cause', async () => {
    const failing = new ThreadPool({ processes: 1, initializer: failingInit, initargs: ['no database'] });
    try {
      const error = (await failing.apply(square, [2]).catch((e: unknown) => e)) as ProcessError;
      expect(error).toBeInstanceOf(ProcessError);
      expect(error.message).toMatch(/^the initializer of worker ThreadPool-\d+Worker-\d+ \(thread \d+\) failed \(TaskError: no database\), so the worker exited with exit code 1 without running this task/);
      expect(error.cause).toBeInstanceOf(TaskError);
    } finally {
      await failing.terminate();
    }
  });

  test('terminate rejects pending work; submitting after close is a ValueError', async () => {
    const other = new ThreadPool(1);
    const pending = other.applyAsync(sleepPid, [10_000]);
    await other.terminate();
    await expect(pending.get()).rejects.toThrow(/terminated/);
    await expect(other.apply(square, [1])).rejects.toThrow(ValueError);
  });

  test('maxtasksperchild replaces a thread after that many tasks', async () => {
    const retiring = new ThreadPool({ processes: 1, maxtasksperchild: 2 });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) ids.push(await retiring.apply(currentThreadId));
      expect(ids[0]).toBe(ids[1]);
      expect(ids[2]).toBe(ids[3]);
      expect(ids[4]).toBe(ids[5]);
      expect(new Set([ids[0], ids[2], ids[4]]).size).toBe(3);
      expect(ids).not.toContain(0);
    } finally {
      await retiring.terminate();
    }
  });

  test('an AbortSignal cancels tasks not yet started: they never run', async () => {
    const single = new ThreadPool(1);
    const dir = mkdtempSync(join(tmpdir(), 'mpjs-threadpool-'));
    try {
      const blocker = single.applyAsync(sleepPid, [200]);
      const controller = new AbortController();
      const cancelledApply = single.apply(touch, [join(dir, 'apply')], { signal: controller.signal });
      const cancelledMap = single.map(touch, [join(dir, 'map-0'), join(dir, 'map-1')], { chunksize: 1, signal: controller.signal });
      controller.abort(new Error('not needed any more'));
      await expect(cancelledApply).rejects.toThrow('not needed any more');
      await expect(cancelledMap).rejects.toThrow('not needed any more');
      expect(await blocker.get()).toBe(process.pid);
      // The thread is free again and runs what comes next, but never the cancelled tasks.
      await single.apply(touch, [join(dir, 'after')]);
      expect(existsSync(join(dir, 'after'))).toBe(true);
      expect(['apply', 'map-0', 'map-1'].filter((name) => existsSync(join(dir, name)))).toEqual([]);
    } finally {
      await single.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs the thread-lifetime fixture, a program of its own, and returns the JSON lines it printed. */
async function lifetime(...args: string[]): Promise<{ code: number | null; lines: unknown[]; stderr: string }> {
  const result = await runFixture(fileURLToPath(new URL('./fixtures/thread-lifetime.ts', import.meta.url)), { args });
  const lines = result.stdout.trim() === '' ? [] : result.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
  return { code: result.code, lines, stderr: result.stderr };
}

describe('a ThreadPool keeps its program alive while it is waited for', () => {
  // The test runner keeps its own event loop alive: only a program of its own shows a wait that holds nothing.
  test('close() then join() resolves, also once threads retire after maxtasksperchild', async () => {
    for (const args of [['join'], ['join', '2'], ['join', '1']]) {
      const { code, lines, stderr } = await lifetime(...args);
      expect({ args, code, lines, stderr }).toEqual({ args, code: 0, lines: [[1, 4, 9], 'joined'], stderr: '' });
    }
  });

  test('a task whose thread calls process.exit fails with a ProcessError naming the exit code, and the pool goes on', async () => {
    const { code, lines } = await lifetime('exit', '3', '0');
    expect(code).toBe(0);
    expect(lines).toEqual([
      { error: expect.stringMatching(/^ProcessError: worker ThreadPool-1Worker-\d+ \(thread \d+\) exited with exit code 3 while running a task/) },
      { error: expect.stringMatching(/^ProcessError: worker ThreadPool-1Worker-\d+ \(thread \d+\) exited with exit code 0 while running a task/) },
      16,
      'done',
    ]);
  });
});

describe('a ThreadPool in a program run with V8 or process-wide options', () => {
  test('starts its threads with the options a thread accepts; V8 settings are the process\'s anyway', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/thread-flags.ts', import.meta.url));
    // Without MPJS_EXEC_ARGV, so that the pool goes by the program's own options.
    const env = { ...process.env };
    delete env.MPJS_EXEC_ARGV;
    const flags = ['--max-old-space-size=256', '--expose-gc', '--stack-size=2000', '--title', 'mpjs-flags', '--conditions=mpjs-test', '--enable-source-maps'];
    const child = spawn(process.execPath, [...flags, ...tsNodeArgs, fixture], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const result = await collect(child);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const seen = JSON.parse(result.stdout) as { parent: string[]; execArgv: string[]; gc: string; squares: number[] };
    expect(seen.parent).toEqual(expect.arrayContaining(flags));
    expect(seen.squares).toEqual([1, 4, 9]);
    // The loader and the other options a thread takes are kept; what only the process (or V8) takes is left out.
    expect(seen.execArgv).toEqual(['--conditions=mpjs-test', '--enable-source-maps', '--import', expect.stringContaining('tsx')]);
    expect(seen.gc).toBe('function');
  });
});

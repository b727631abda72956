import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { range } from './helpers.js';
import { ProcessError, ThreadPool, TimeoutError, ValueError } from '../src/index.js';
import { add, exitOn, failOn13, init, initState, sleepPid, slowSquare, square, TaskError } from './fixtures/tasks.js';

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

  test('terminate rejects pending work; submitting after close is a ValueError', async () => {
    const other = new ThreadPool(1);
    const pending = other.applyAsync(sleepPid, [10_000]);
    await other.terminate();
    await expect(pending.get()).rejects.toThrow(/terminated/);
    await expect(other.apply(square, [1])).rejects.toThrow(ValueError);
  });
});

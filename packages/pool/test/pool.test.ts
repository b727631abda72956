import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { range } from './helpers.js';
import { pidAlive } from '@mpjs/test-utils';
import { AsyncResult, MaybeEncodingError, Pool, ProcessError, TimeoutError, ValueError, type PoolOptions } from '../src/index.js';
import { Pipe, type Connection } from '@mpjs/connection';
import {
  add,
  countItems,
  echoOver,
  failAsync,
  failOn13,
  identity,
  init,
  makePipeEnd,
  pid,
  sleepPid,
  slowSquare,
  square,
  TaskError,
  tooManyPipeEnds,
  unsendable,
  unsendableOn,
} from './fixtures/tasks.js';

describe('a running pool', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool(2);
  });
  afterAll(async () => {
    const pids = pool.pids;
    pool.close();
    await pool.join();
    expect(pids.filter(pidAlive)).toEqual([]);
  });

  test('apply runs the function in a worker process', async () => {
    expect(await pool.apply(add, [2, 3])).toBe(5);
    const workerPid = await pool.apply(pid);
    expect(workerPid).not.toBe(process.pid);
    expect(pool.pids).toContain(workerPid);
  });

  test('handles travel in tasks and in results (a Connection both ways)', async () => {
    const [ours, theirs] = Pipe();
    const result = pool.applyAsync(echoOver, [theirs]);
    expect(await ours.recv()).toBe('from the worker');
    ours.send('the reply');
    expect(await result.get()).toBe('got the reply');
    theirs.close();
    ours.close();
    const end = (await pool.apply(makePipeEnd)) as Connection;
    expect(await end.recv()).toBe('from a pipe the worker made');
    end.close();
  });

  test('a task that cannot be handed over (too many handles) fails at once; the workers stay', async () => {
    const pids = pool.pids;
    const pairs = Array.from({ length: 200 }, () => Pipe());
    try {
      await expect(pool.apply(countItems, [pairs.map(([, end]) => end)])).rejects.toThrow(/at most 253 OS handles/);
      await expect(pool.apply(tooManyPipeEnds)).rejects.toThrow(MaybeEncodingError);
      await expect(pool.apply(tooManyPipeEnds)).rejects.toThrow(/Error sending result: .*at most 253 OS handles/);
      expect(await pool.apply(add, [1, 2])).toBe(3);
      expect(pool.pids).toEqual(pids);
    } finally {
      for (const [a, b] of pairs) {
        a.close();
        b.close();
      }
    }
  });

  test('applyAsync returns an AsyncResult and calls the callback', async () => {
    const seen: number[] = [];
    const result = pool.applyAsync(slowSquare, [7, 50], { callback: (v) => seen.push(v) });
    expect(result).toBeInstanceOf(AsyncResult);
    expect(result.ready()).toBe(false);
    expect(() => result.successful()).toThrow(ValueError);
    await expect(result.get(1)).rejects.toThrow(TimeoutError);
    await result.wait();
    expect(result.ready()).toBe(true);
    expect(result.successful()).toBe(true);
    expect(await result.get()).toBe(49);
    expect(seen).toEqual([49]);
  });

  test('wait(timeout) resolves without the result when it is not ready', async () => {
    const result = pool.applyAsync(sleepPid, [300]);
    await result.wait(20);
    expect(result.ready()).toBe(false);
    expect(typeof (await result.get())).toBe('number');
  });

  test('errors arrive as their own class with the worker stack', async () => {
    const error = (await pool.apply(failOn13, [13]).catch((e: unknown) => e)) as TaskError;
    expect(error).toBeInstanceOf(TaskError);
    expect(error.message).toBe('unlucky 13');
    expect(error.item).toBe(13);
    expect(error.stack).toContain('failOn13');
    expect(error.stack).toContain('tasks.ts');
    const errors: unknown[] = [];
    const result = pool.applyAsync(failAsync, ['boom'], { errorCallback: (e) => errors.push(e) });
    await result.wait();
    expect(result.successful()).toBe(false);
    await expect(result.get()).rejects.toThrow(RangeError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RangeError);
  });

  test('map keeps the order; async functions are awaited', async () => {
    expect(await pool.map(square, range(100))).toEqual(range(100).map((x) => x * x));
    expect(await pool.map(slowSquare, [3, 1, 2], { chunksize: 1 })).toEqual([9, 1, 4]);
    expect(await pool.map(square, new Set([5, 6]))).toEqual([25, 36]);
  });

  test('map spreads chunks over both workers', async () => {
    const pids = await pool.map(sleepPid, [100, 100, 100, 100], { chunksize: 1 });
    expect(new Set(pids).size).toBe(2);
  });

  test('empty inputs give empty results', async () => {
    expect(await pool.map(square, [])).toEqual([]);
    expect(await pool.starmap(add, [])).toEqual([]);
    const result = pool.mapAsync(square, []);
    expect(result.ready()).toBe(true);
    expect(await result.get()).toEqual([]);
  });

  test('starmap spreads argument lists; mapAsync/starmapAsync call back', async () => {
    expect(await pool.starmap(add, [[1, 2], [3, 4], [5, 6]])).toEqual([3, 7, 11]);
    const got: number[][] = [];
    const r = pool.starmapAsync(add, [[1, 1], [2, 2]], { callback: (v) => got.push(v) });
    expect(await r.get()).toEqual([2, 4]);
    expect(got).toEqual([[2, 4]]);
    expect(await pool.mapAsync(square, [4], { chunksize: 3 }).get()).toEqual([16]);
  });

  test('a failing item fails the whole map with its error', async () => {
    await expect(pool.map(failOn13, range(20), { chunksize: 2 })).rejects.toThrow(TaskError);
    // The pool is still usable afterwards.
    expect(await pool.map(failOn13, [1, 2])).toEqual([1, 4]);
  });

  test('bad arguments are refused with clear errors', async () => {
    await expect(pool.map(square, [1], { chunksize: 0 })).rejects.toThrow(ValueError);
    await expect(pool.apply(42 as unknown as () => void)).rejects.toThrow(TypeError);
    await expect(pool.starmap(add, [1 as unknown as [number, number]])).rejects.toThrow(TypeError);
    expect(() => pool.mapAsync(square, [1], { chunksize: 1.5 })).toThrow(ValueError);
    expect(() => new Pool(0)).toThrow(ValueError);
    expect(() => new Pool({ processes: 1, maxtasksperchild: 0 })).toThrow(ValueError);
  });

  test('a non-iterable input is refused, naming the call, the argument, what it got and what it takes', async () => {
    const map = (iterable: unknown): Promise<unknown> => pool.map(square, iterable as number[]);
    await expect(map(5)).rejects.toThrow(new TypeError('Pool.map(): the iterable (2nd argument) must be an iterable such as an array, a Set or a generator, got the number 5'));
    await expect(map(null)).rejects.toThrow(/^Pool\.map\(\): the iterable \(2nd argument\) must be an iterable .*, got null$/);
    await expect(map({ a: 1 })).rejects.toThrow(/^Pool\.map\(\): the iterable \(2nd argument\) must be an iterable .*, got an object$/);
    const numbers = (async function* () {
      yield 1;
    })();
    await expect(map(numbers)).rejects.toThrow(/^Pool\.map\(\): the iterable \(2nd argument\) is an async iterable, .*takes a sync iterable.*use imap\(\) or imapUnordered\(\), which also take async iterables/);
    await expect(pool.starmap(add, 7 as unknown as [number, number][])).rejects.toThrow(/^Pool\.starmap\(\): the iterable \(2nd argument\) must be an iterable .*, got the number 7$/);
    await expect(pool.starmap(add, [[1, 2], 3 as unknown as [number, number]])).rejects.toThrow(
      new TypeError('Pool.starmap(): item 1 of the iterable must be an iterable of arguments such as [1, 2], got the number 3'),
    );
    expect(() => pool.imap(square, 5 as unknown as number[])).toThrow(/^Pool\.imap\(\): the iterable \(2nd argument\) must be an iterable .* or an async iterable, got the number 5$/);
    expect(() => pool.imapUnordered(square, undefined as unknown as number[])).toThrow(/^Pool\.imapUnordered\(\): .*, got undefined$/);
    await expect(pool.apply(add, 5 as unknown as [number, number])).rejects.toThrow(
      new TypeError('Pool.apply(): args (2nd argument) must be an array of arguments (or another iterable), got the number 5'),
    );
    expect(() => pool.applyAsync(add, { 0: 1, 1: 2 } as unknown as [number, number])).toThrow(/^Pool\.apply\(\): args .*, got an object$/);
    await expect(pool.map(square, [1], { chunksize: '2' as unknown as number })).rejects.toThrow(new TypeError('chunksize must be an integer of 1 or more, got the string "2"'));
    expect(await pool.map(square, [3])).toEqual([9]);
  });

  test('strings are iterables: of items for map and imap, of arguments for apply and starmap (as Python\'s f(*"ab"))', async () => {
    expect(await pool.map(identity, 'abc')).toEqual(['a', 'b', 'c']);
    expect(await pool.starmap(add, ['ab', 'cd'] as unknown as [number, number][])).toEqual(['ab', 'cd']);
    expect(await pool.apply(add, 'xy' as unknown as [number, number])).toBe('xy');
    const ordered: string[] = [];
    for await (const c of pool.imap(identity, 'abc')) ordered.push(c);
    expect(ordered).toEqual(['a', 'b', 'c']);
    const unordered: string[] = [];
    for await (const c of pool.imapUnordered(identity, 'abc', { chunksize: 2 })) unordered.push(c);
    expect(unordered.sort()).toEqual(['a', 'b', 'c']);
  });

  test('a closure is refused at submission; an unsendable result is a MaybeEncodingError', async () => {
    await expect(pool.apply(() => 1)).rejects.toThrow(/exported|closure|function/i);
    await expect(pool.apply(unsendable)).rejects.toThrow(MaybeEncodingError);
    expect(await pool.apply(add, [1, 1])).toBe(2);
    // Submitted together, the tasks travel together: only the one that cannot be sent fails.
    const together = [
      pool.applyAsync(add, [1, 2]),
      pool.applyAsync(square, [(() => 3) as unknown as number]),
      pool.applyAsync(add, [3, 4]),
    ];
    const outcomes = await Promise.allSettled(together.map((r) => r.get()));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toMatch(/exported|closure|function/i);
    expect(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))).toEqual([3, 7]);
  });

  test('results that go back together: only the one that cannot be sent is a MaybeEncodingError', async () => {
    await pool.map(square, range(1000), { chunksize: 1 }); // short tasks: results are sent in batches
    const results = range(200).map((i) => pool.applyAsync(unsendableOn, [i, 120]));
    const outcomes = await Promise.allSettled(results.map((r) => r.get()));
    expect(outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []))).toEqual([120]);
    expect((outcomes[120] as PromiseRejectedResult).reason).toBeInstanceOf(MaybeEncodingError);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : null))).toEqual(range(200).map((i) => (i === 120 ? null : i * i)));
  });

  test('an AbortSignal cancels tasks not yet started', async () => {
    const controller = new AbortController();
    const blockers = [pool.applyAsync(sleepPid, [150]), pool.applyAsync(sleepPid, [150]), pool.applyAsync(sleepPid, [150]), pool.applyAsync(sleepPid, [150])];
    const cancelled = pool.map(square, range(10), { chunksize: 1, signal: controller.signal });
    controller.abort(new Error('no longer needed'));
    await expect(cancelled).rejects.toThrow('no longer needed');
    await Promise.all(blockers.map((b) => b.get()));
    const before = new AbortController();
    before.abort();
    await expect(pool.apply(square, [2], { signal: before.signal })).rejects.toThrow();
  });

  test('new Pool() takes a number, nothing or a plain options object with known names: anything else is a TypeError', () => {
    // Checked before any worker starts: nothing to clean up.
    expect(() => new Pool('5' as unknown as number)).toThrow(
      new TypeError('new Pool() takes a number of processes or an options object such as { processes: 4 }, got the string "5" (a number: new Pool(5))'),
    );
    expect(() => new Pool([5] as unknown as number)).toThrow(/^new Pool\(\) takes a number of processes or an options object .*, got an array$/);
    expect(() => new Pool(true as unknown as number)).toThrow(/, got the boolean true$/);
    expect(() => new Pool(5n as unknown as number)).toThrow(/, got the bigint 5n$/);
    expect(() => new Pool(new Map() as unknown as number)).toThrow(/, got an instance of Map$/);
    expect(() => new Pool({ process: 2 } as PoolOptions)).toThrow(
      new TypeError('new Pool(): unknown option "process"; the options are processes, initializer, initargs, maxtasksperchild and context'),
    );
    expect(() => new Pool({ processes: '2' } as unknown as PoolOptions)).toThrow(new TypeError('new Pool(): processes must be a number (how many workers) or null, got the string "2"'));
    expect(() => new Pool({ processes: 1, maxtasksperchild: '3' } as unknown as PoolOptions)).toThrow(/^new Pool\(\): maxtasksperchild must be a number .*, got the string "3"$/);
    expect(() => new Pool({ processes: 1, initializer: init, initargs: 5 } as unknown as PoolOptions)).toThrow(
      new TypeError('new Pool(): initargs must be an array of arguments (or another iterable), got the number 5'),
    );
    expect(() => new Pool({ processes: 1, initializer: 5 } as unknown as PoolOptions)).toThrow(/^new Pool\(\): initializer must be a function exported from a module, got the number 5$/);
  });

  test('join() while running is a ValueError', async () => {
    await expect(pool.join()).rejects.toThrow(ValueError);
  });
});

describe('closing and terminating', () => {
  test('close lets submitted tasks finish; join waits for the workers; then submitting is a ValueError', async () => {
    const pool = new Pool(2);
    const pids = pool.pids;
    const result = pool.mapAsync(slowSquare, range(6), { chunksize: 1 });
    pool.close();
    expect(() => pool.applyAsync(square, [1])).toThrow(ValueError);
    await expect(pool.map(square, [1])).rejects.toThrow(/Pool not running/);
    await pool.join();
    expect(await result.get()).toEqual(range(6).map((x) => x * x));
    expect(pids.filter(pidAlive)).toEqual([]);
  });

  test('terminate stops the workers and rejects pending results', async () => {
    const pool = new Pool(2);
    const pids = pool.pids;
    const pending = pool.applyAsync(sleepPid, [10_000]);
    const queued = pool.map(square, range(50), { chunksize: 1 }).catch((e: unknown) => e);
    await pool.terminate();
    await expect(pending.get()).rejects.toThrow(ProcessError);
    expect(await queued).toBeInstanceOf(ProcessError);
    expect(String(await queued)).toMatch(/terminated/);
    expect(pids.filter(pidAlive)).toEqual([]);
    await expect(pool.apply(square, [1])).rejects.toThrow(ValueError);
    await pool.join();
  });

  test('await using terminates the pool', async () => {
    let pids: number[];
    {
      await using pool = new Pool(1);
      pids = pool.pids;
      expect(await pool.apply(square, [3])).toBe(9);
    }
    expect(pids.filter(pidAlive)).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { range } from './helpers.js';
import { Pool, ThreadPool, TimeoutError } from '../src/index.js';
import { slowSquare, sleepPid, square } from './fixtures/tasks.js';

/** A signal that aborts after `ms` with an error saying so (its timer does not keep the test alive). */
function abortAfter(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error(`aborted after ${ms} ms`)), ms).unref();
  return controller.signal;
}

describe.each([
  ['Pool', (n: number): Pool => new Pool(n)],
  ['ThreadPool', (n: number): Pool => new ThreadPool(n)],
])('every wait takes { signal } (%s): aborting stops the wait, not the task', (_name, makePool) => {
  let pool: Pool;
  beforeAll(() => {
    pool = makePool(2);
  });
  afterAll(async () => {
    await pool.terminate();
  });

  test('AsyncResult.get(): an aborted get rejects with the reason; the task goes on and a later get() has its result', async () => {
    const result = pool.applyAsync(slowSquare, [3, 300]);
    const started = Date.now();
    await expect(result.get(undefined, { signal: abortAfter(50) })).rejects.toThrow('aborted after 50 ms');
    expect(Date.now() - started).toBeLessThan(250);
    await expect(result.get({ signal: abortAfter(20) })).rejects.toThrow('aborted after 20 ms');
    await expect(result.get(10_000, { signal: abortAfter(20) })).rejects.toThrow('aborted after 20 ms');
    // A timeout shorter than the signal's wait still gives TimeoutError.
    await expect(result.get({ timeout: 10, signal: abortAfter(5_000) })).rejects.toThrow(TimeoutError);
    expect(result.ready()).toBe(false);
    expect(await result.get({ signal: new AbortController().signal })).toBe(9);
    expect(await result.get(undefined, { signal: abortAfter(10) })).toBe(9);
  });

  test('AsyncResult.wait(): aborting rejects the wait with the reason; the result is unaffected', async () => {
    const result = pool.applyAsync(slowSquare, [4, 200]);
    await expect(result.wait(undefined, { signal: abortAfter(30) })).rejects.toThrow('aborted after 30 ms');
    await expect(result.wait({ signal: abortAfter(30) })).rejects.toThrow('aborted after 30 ms');
    await result.wait({ timeout: 10 });
    expect(result.ready()).toBe(false);
    await result.wait(5_000, { signal: abortAfter(5_000) });
    expect(result.ready()).toBe(true);
    expect(await result.get()).toBe(16);
  });

  test('a signal already aborted rejects at once, even when the result is ready', async () => {
    const result = pool.applyAsync(square, [5]);
    expect(await result.get()).toBe(25);
    const aborted = AbortSignal.abort(new RangeError('already'));
    await expect(result.get({ signal: aborted })).rejects.toThrow(RangeError);
    await expect(result.wait(undefined, { signal: aborted })).rejects.toThrow(RangeError);
    expect(await result.get()).toBe(25);
  });

  test('IMapIterator.next(): an aborted next rejects with the reason; the result comes with the next call', async () => {
    const it = pool.imap(slowSquare, [2, 3]);
    await expect(it.next(undefined, { signal: abortAfter(5) })).rejects.toThrow('aborted after 5 ms');
    await expect(it.next({ signal: abortAfter(5) })).rejects.toThrow('aborted after 5 ms');
    await expect(it.next({ timeout: 1, signal: abortAfter(5_000) })).rejects.toThrow(TimeoutError);
    await expect(it.next({ signal: AbortSignal.abort(new RangeError('already')) })).rejects.toThrow(RangeError);
    expect(await it.next(5_000, { signal: abortAfter(5_000) })).toEqual({ done: false, value: 4 });
    expect(await it.next({ signal: abortAfter(5_000) })).toEqual({ done: false, value: 9 });
    expect(await it.next({ signal: abortAfter(5_000) })).toEqual({ done: true, value: undefined });
  });

  test('bad wait arguments are refused naming the call', async () => {
    const result = pool.applyAsync(square, [1]);
    await expect(result.get(undefined, { signal: 'stop' as unknown as AbortSignal })).rejects.toThrow(/AsyncResult\.get\(\): "signal" must be an AbortSignal/);
    await expect(result.wait(undefined, 5 as unknown as { signal: AbortSignal })).rejects.toThrow(/AsyncResult\.wait\(\): options must be an object/);
    await expect(pool.imap(square, [1]).next('10' as unknown as number)).rejects.toThrow(/IMapIterator\.next\(\): "timeout" must be a number/);
    expect(await result.get()).toBe(1);
  });
});

describe('Pool.join({ signal })', () => {
  test('an aborted join rejects with the reason; the pool goes on and a later join() completes', async () => {
    const pool = new Pool(1);
    try {
      const pids = pool.pids;
      const pending = pool.applyAsync(sleepPid, [400]);
      pool.close();
      const started = Date.now();
      await expect(pool.join({ signal: abortAfter(50) })).rejects.toThrow('aborted after 50 ms');
      expect(Date.now() - started).toBeLessThan(300);
      expect(pending.ready()).toBe(false);
      await pool.join({ signal: abortAfter(10_000) });
      expect(await pending.get()).toBe(pids[0]);
      await expect(pool.join({ signal: AbortSignal.abort(new RangeError('already')) })).rejects.toThrow(RangeError);
    } finally {
      await pool.terminate();
    }
  });

  test('join() takes no timeout (as Python\'s), and refuses options it has not', async () => {
    const pool = new ThreadPool(1);
    try {
      pool.close();
      await expect(pool.join(1000 as unknown as { signal: AbortSignal })).rejects.toThrow(
        /^Pool\.join\(\) takes no timeout.*\{ signal: AbortSignal\.timeout\(1000\) \}/,
      );
      await expect(pool.join({ timeout: 5 } as unknown as { signal: AbortSignal })).rejects.toThrow(/^Pool\.join\(\) takes no timeout/);
      await expect(pool.join({ signal: {} as AbortSignal })).rejects.toThrow(/^Pool\.join\(\): "signal" must be an AbortSignal/);
      await pool.join();
      expect(await pool.map(square, range(0)).catch((e: unknown) => String(e))).toMatch(/Pool not running/);
    } finally {
      await pool.terminate();
    }
  });
});

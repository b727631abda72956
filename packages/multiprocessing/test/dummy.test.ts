/**
 * `@mpjs/multiprocessing/dummy`: the API on worker threads of this process.
 */
import { describe, expect, it } from '@jest/globals';
import { ThreadPool } from '@mpjs/pool';
import * as queues from '@mpjs/queues';
import './helpers.js';
import * as dummy from '../src/dummy.js';
import { addUnderLock, fail, info, putPidTimes, square, waitForEvent } from './fixtures/targets.js';

describe('multiprocessing.dummy', () => {
  it('Pool is ThreadPool and runs on threads of this process', async () => {
    expect(dummy.Pool).toBe(ThreadPool);
    expect(dummy.Queue).toBe(queues.Queue);
    const pool = new dummy.Pool(2);
    try {
      expect(await pool.map(square, [1, 2, 3])).toEqual([1, 4, 9]);
      const workers = await Promise.all([pool.apply(info), pool.apply(info)]);
      expect(workers.map((w) => w.pid)).toEqual([process.pid, process.pid]);
    } finally {
      pool.close();
      await pool.join();
    }
  });

  it('Process runs its target on a thread; a Queue carries its results back', async () => {
    const q = new dummy.Queue<number>();
    const t = new dummy.Process({ target: putPidTimes, args: [q, 3], name: 'producer' });
    expect(t.exitcode).toBeNull();
    expect(t.isAlive()).toBe(false);
    t.start();
    expect(t.isAlive()).toBe(true);
    expect(() => t.start()).toThrow(dummy.ProcessError);
    const got = [await q.get({ timeout: 10_000 }), await q.get({ timeout: 10_000 }), await q.get({ timeout: 10_000 })];
    await t.join();
    expect(got).toEqual([process.pid, process.pid, process.pid]);
    expect(t.pid).toBe(process.pid);
    expect(t.exitcode).toBe(0);
    expect(t.isAlive()).toBe(false);
    expect(t.name).toBe('producer');
    q.close();
  });

  it('a Value and a Lock are shared with two threads', async () => {
    const v = new dummy.Value('i', 0);
    const lock = new dummy.Lock();
    const threads = [0, 1].map(() => new dummy.Process({ target: addUnderLock, args: [v, lock, 500] }));
    for (const t of threads) t.start();
    await Promise.all(threads.map((t) => t.join()));
    expect(threads.map((t) => [t.exitcode, t.error])).toEqual([[0, undefined], [0, undefined]]);
    expect(v.value).toBe(1000);
    // The main thread's copies still work after the threads have ended.
    expect(lock.acquireSync({ timeout: 0 })).toBe(true);
    lock.release();
  });

  it('activeChildren lists running threads; join(timeout) returns with the thread still running', async () => {
    const event = new dummy.Event();
    const t = new dummy.Process({ target: waitForEvent, args: [event, 20_000] });
    t.start();
    expect(dummy.activeChildren()).toContain(t);
    await t.join(50);
    expect(t.isAlive()).toBe(true);
    // An abort rejects the join with its reason and leaves the thread running.
    const controller = new AbortController();
    const joining = t.join({ signal: controller.signal });
    controller.abort(new Error('stop waiting'));
    await expect(joining).rejects.toThrow('stop waiting');
    await expect(t.join(10, { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(t.isAlive()).toBe(true);
    event.set();
    await t.join();
    expect(t.exitcode).toBe(0);
    expect(dummy.activeChildren()).not.toContain(t);
  });

  it('a target that throws ends with exitcode 1 and its error', async () => {
    const t = new dummy.Process({ target: fail, args: [9] });
    t.start();
    await t.join();
    expect(t.exitcode).toBe(1);
    expect(t.error).toBeInstanceOf(dummy.ValueError);
    expect((t.error as Error).message).toBe('bad input 9');
    expect(() => new dummy.Process({ target: 5 as never })).toThrow(TypeError);
    await expect(new dummy.Process().join()).rejects.toThrow(dummy.ProcessError);
    // A socket cannot be reopened for the thread: start() says so and starts nothing.
    const [a, b] = dummy.Pipe();
    const withPipe = new dummy.Process({ target: square, args: [a] as never });
    expect(() => withPipe.start()).toThrow(/cannot be passed to a dummy Process/);
    expect(withPipe.isAlive()).toBe(false);
    a.close();
    b.close();
  });
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ctx, runAll, stopAndCheck } from './helpers.js';
import { BoundedSemaphore, Semaphore, ValueError } from '../src/index.js';
import { overRelease, releaseTimes, semaphoreUser, SharedInts, tryAcquire } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('Semaphore in one process', () => {
  it('counts: acquire takes a unit, release gives one back, getValue() tells how many', async () => {
    const sem = new Semaphore(2);
    expect(sem.getValue()).toBe(2);
    expect(await sem.acquire()).toBe(true);
    expect(sem.acquireSync()).toBe(true);
    expect(sem.getValue()).toBe(0);
    expect(await sem.acquire({ block: false })).toBe(false);
    expect(await sem.acquire({ timeout: 10 })).toBe(false);
    expect(sem.acquireSync({ timeout: 10 })).toBe(false);
    sem.release();
    sem.release();
    sem.release(); // a plain Semaphore may go above its initial value
    expect(sem.getValue()).toBe(3);
    expect(new Semaphore().getValue()).toBe(1);
    expect(new Semaphore(0).getValue()).toBe(0);
    expect(String(sem)).toBe('Semaphore(value=3)');
  });

  it('checks the initial value', () => {
    expect(() => new Semaphore(-1)).toThrow(ValueError);
    expect(() => new Semaphore(-1)).toThrow(/must be >= 0/);
    expect(() => new Semaphore(1.5)).toThrow(TypeError);
    expect(() => new BoundedSemaphore(2 ** 31)).toThrow(ValueError);
  });

  it('a BoundedSemaphore throws ValueError when released above its initial value', () => {
    const sem = new BoundedSemaphore(2);
    expect(() => sem.release()).toThrow(ValueError);
    expect(() => sem.release()).toThrow(/released too many times/);
    sem.acquireSync();
    sem.release();
    expect(() => sem.release()).toThrow(ValueError);
    expect(sem.getValue()).toBe(2);
    expect(sem).toBeInstanceOf(Semaphore);
  });

  it('wakes one waiter per release, in any number, and an aborted waiter takes no unit', async () => {
    const sem = new Semaphore(0);
    const controller = new AbortController();
    const aborted = sem.acquire({ signal: controller.signal });
    const waiters = Array.from({ length: 20 }, () => sem.acquire({ timeout: 10_000 }));
    await sleep(10);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    for (let i = 0; i < 20; i++) sem.release();
    expect(await Promise.all(waiters)).toEqual(Array(20).fill(true));
    expect(sem.getValue()).toBe(0);
  });

  it('hold() gives the unit back at the end of the scope', async () => {
    const sem = new BoundedSemaphore(1);
    {
      await using _ = await sem.hold();
      expect(sem.getValue()).toBe(0);
    }
    expect(sem.getValue()).toBe(1);
  });
});

describe('Semaphore across processes', () => {
  it('lets at most `value` processes in at once', async () => {
    const sem = new Semaphore(2);
    // [holders now, most holders at once, processes started]
    const stats = new SharedInts(3);
    const codes = await runAll([0, 1, 2, 3].map(() => ctx.Process({ target: semaphoreUser, args: [sem, stats, 15, 4] })));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(stats.get(0)).toBe(0);
    expect(stats.get(1)).toBe(2);
    expect(sem.getValue()).toBe(2);
    stats.close();
  });

  it('counts units released by another process; waiters here and in a child share them, and time out when there are none', async () => {
    const sem = new Semaphore(0);
    const out = new SharedInts(2);
    const here = [sem.acquire({ timeout: 10_000 }), sem.acquire({ timeout: 10_000 })];
    const child = ctx.Process({ target: tryAcquire, args: [sem, { timeout: 10_000 }, out, 0] });
    child.start();
    await sleep(100);
    expect(await runAll([ctx.Process({ target: releaseTimes, args: [sem, 3] })])).toEqual([0]);
    expect(await Promise.all(here)).toEqual([true, true]);
    await child.join();
    expect(child.exitcode).toBe(0);
    expect(out.get(0)).toBe(1);
    expect(sem.getValue()).toBe(0);
    expect(await runAll([ctx.Process({ target: tryAcquire, args: [sem, { timeout: 30 }, out, 1] })])).toEqual([0]);
    expect(out.get(1)).toBe(2);
    out.close();
  });

  it('a BoundedSemaphore refuses a release too many in a child too', async () => {
    const sem = new BoundedSemaphore(1);
    const out = new SharedInts(1);
    expect(await runAll([ctx.Process({ target: overRelease, args: [sem, out] })])).toEqual([0]);
    expect(out.get(0)).toBe(1);
    expect(sem.getValue()).toBe(1);
    out.close();
  });
});

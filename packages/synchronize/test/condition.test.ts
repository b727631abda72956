import { afterAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@mpjs/test-utils';
import { ctx, stopAndCheck } from './helpers.js';
import { AssertionError, Condition, Lock, RLock, Semaphore, ValueError } from '../src/index.js';
import { conditionProducer, conditionWaiter, SharedInts } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('Condition in one process', () => {
  it('uses a new RLock by default, or the lock it is given', () => {
    expect(new Condition().lock).toBeInstanceOf(RLock);
    const lock = new Lock();
    expect(new Condition(lock).lock).toBe(lock);
    expect(() => new Condition({} as Lock)).toThrow(TypeError);
  });

  it('refuses wait() and notify() without the lock (AssertionError, as Python)', async () => {
    const cond = new Condition();
    await expect(cond.wait(10)).rejects.toThrow(AssertionError);
    await expect(cond.wait(10)).rejects.toThrow(/cannot wait on un-acquired lock/);
    expect(() => cond.waitSync(10)).toThrow(AssertionError);
    expect(() => cond.notify()).toThrow(/cannot notify on un-acquired lock/);
    expect(() => cond.notifyAll()).toThrow(AssertionError);
    const plain = new Condition(new Lock());
    expect(() => plain.notify()).toThrow(AssertionError);
    await plain.acquire();
    expect(() => plain.notify(-1)).toThrow(ValueError);
    plain.notify(0);
    plain.release();
  });

  it('wait() times out with false and holds the lock again afterwards, keeping RLock levels', async () => {
    const cond = new Condition();
    await cond.acquire();
    await cond.acquire();
    expect(await cond.wait(20)).toBe(false);
    expect(cond.waitSync(10)).toBe(false);
    expect(cond.waitSync(-1)).toBe(false);
    expect(String(cond.lock)).toBe('RLock(owned here, 2)');
    cond.release();
    cond.release();
  });

  it('notify(n) wakes at most n async waiters of one process; notifyAll() the rest', async () => {
    const cond = new Condition(new Lock());
    const results: boolean[] = [];
    let arrived = 0;
    const waiters = Array.from({ length: 5 }, async () => {
      await cond.acquire();
      try {
        arrived++;
        results.push(await cond.wait(10_000));
      } finally {
        cond.release();
      }
    });
    // Each waiter counted itself holding the lock: once all have and we hold it, all five wait.
    expect(await eventually(() => arrived === 5, 10_000)).toBe(true);
    await cond.acquire();
    cond.notify(2);
    cond.release();
    expect(await eventually(() => results.length === 2, 10_000)).toBe(true);
    await sleep(100);
    expect(results).toEqual([true, true]);
    await cond.acquire();
    cond.notifyAll();
    cond.release();
    await Promise.all(waiters);
    expect(results).toEqual([true, true, true, true, true]);
    await cond.acquire();
    cond.notifyAll(); // nobody waits: nothing happens, and no notification is left over
    cond.release();
    await cond.acquire();
    expect(await cond.wait(20)).toBe(false);
    cond.release();
  });

  it('waitFor() returns the predicate value, or its last falsy value on timeout', async () => {
    const cond = new Condition();
    let value = 0;
    await cond.acquire();
    expect(await cond.waitFor(() => value, 30)).toBe(0);
    setTimeout(async () => {
      await cond.acquire();
      value = 7;
      cond.notifyAll();
      cond.release();
    }, 20);
    expect(await cond.waitFor(async () => value, 10_000)).toBe(7);
    expect(cond.waitForSync(() => value === 7 && 'ok', 10)).toBe('ok');
    cond.release();
  });

  it('an aborted wait rejects with the reason, holds the lock again, and leaves its notification to others', async () => {
    const cond = new Condition(new Lock());
    const controller = new AbortController();
    const reason = new Error('give up');
    const aborted = (async () => {
      await cond.acquire();
      try {
        await cond.wait({ signal: controller.signal });
      } finally {
        cond.release();
      }
    })();
    let otherResult: boolean | null = null;
    const other = (async () => {
      await cond.acquire();
      otherResult = await cond.wait(10_000);
      cond.release();
    })();
    await sleep(30);
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    await cond.acquire();
    cond.notify(1);
    cond.release();
    await other;
    expect(otherResult).toBe(true);
  });
});

describe('Condition across processes', () => {
  it('notify(n) wakes at most n waiting processes (async and blocking waits), notifyAll() the others', async () => {
    const cond = new Condition();
    const arrived = new Semaphore(0);
    const woken = new Semaphore(0);
    const out = new SharedInts(3);
    const modes = ['async', 'sync', 'async'] as const;
    const children = modes.map((mode, slot) => ctx.Process({ target: conditionWaiter, args: [cond, arrived, woken, out, slot, 20_000, mode] }));
    for (const p of children) p.start();
    for (let i = 0; i < 3; i++) expect(await arrived.acquire({ timeout: 20_000 })).toBe(true);
    // Each child announced itself holding the lock: once we hold it, all three wait.
    await cond.acquire();
    cond.notify(2);
    cond.release();
    expect(await woken.acquire({ timeout: 10_000 })).toBe(true);
    expect(await woken.acquire({ timeout: 10_000 })).toBe(true);
    expect(await woken.acquire({ timeout: 300 })).toBe(false);
    expect(out.toArray().filter((v) => v === 1)).toHaveLength(2);
    expect(out.toArray().filter((v) => v === 0)).toHaveLength(1);
    await cond.acquire();
    cond.notifyAll();
    cond.release();
    expect(await woken.acquire({ timeout: 10_000 })).toBe(true);
    await Promise.all(children.map((p) => p.join()));
    expect(children.map((p) => p.exitcode)).toEqual([0, 0, 0]);
    expect(out.toArray()).toEqual([1, 1, 1]);
    out.close();
  });

  it('waitFor() here sees a value a child sets and notifies', async () => {
    const cond = new Condition();
    const out = new SharedInts(1);
    const p = ctx.Process({ target: conditionProducer, args: [cond, out, 42] });
    p.start();
    await cond.acquire();
    expect(await cond.waitFor(() => out.get(0) === 42, 20_000)).toBe(true);
    cond.release();
    await p.join();
    expect(p.exitcode).toBe(0);
    out.close();
  });
});

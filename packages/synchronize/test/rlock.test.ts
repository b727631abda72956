import { afterAll, describe, expect, it } from '@jest/globals';
import { ctx, runAll, stopAndCheck } from './helpers.js';
import { AssertionError, Event, RLock } from '../src/index.js';
import { incrementLocked, rlockChild, SharedInts } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('RLock in one thread', () => {
  it('is recursive for its owner, which must release it once per acquisition', async () => {
    const rlock = new RLock();
    expect(await rlock.acquire()).toBe(true);
    expect(rlock.acquireSync()).toBe(true);
    expect(await rlock.acquire({ block: false })).toBe(true);
    expect(String(rlock)).toBe('RLock(owned here, 3)');
    rlock.release();
    rlock.release();
    expect(String(rlock)).toBe('RLock(owned here, 1)');
    rlock.release();
    expect(String(rlock)).toBe('RLock(unowned, 0)');
  });

  it('throws AssertionError when released unowned', () => {
    const rlock = new RLock();
    expect(() => rlock.release()).toThrow(AssertionError);
    expect(() => rlock.release()).toThrow(/not owned/);
    rlock.acquireSync();
    rlock.release();
    expect(() => rlock.release()).toThrow(AssertionError);
  });

  it('hold() nests', async () => {
    const rlock = new RLock();
    {
      await using _outer = await rlock.hold();
      {
        using _inner = rlock.holdSync();
        expect(String(rlock)).toBe('RLock(owned here, 2)');
      }
      expect(String(rlock)).toBe('RLock(owned here, 1)');
    }
    expect(String(rlock)).toBe('RLock(unowned, 0)');
  });
});

describe('RLock across processes', () => {
  it('belongs to one process: others cannot release it or take it while held, and recursion works there too', async () => {
    const rlock = new RLock();
    const out = new SharedInts(4);
    const parentHolds = new Event();
    const parentReleased = new Event();
    const childHolds = new Event();
    const parentChecked = new Event();
    await rlock.acquire();
    await rlock.acquire();
    parentHolds.set();
    const p = ctx.Process({ target: rlockChild, args: [rlock, out, parentHolds, parentReleased, childHolds, parentChecked] });
    p.start();
    // Wait until the child has tried (and failed) to release and to acquire.
    for (let i = 0; i < 500 && out.get(2) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(out.toArray().slice(0, 3)).toEqual([1, 1, 1]);
    rlock.release();
    rlock.release();
    expect(() => rlock.release()).toThrow(AssertionError);
    parentReleased.set();
    expect(await childHolds.wait(10_000)).toBe(true);
    // The child holds it three levels deep: this process can neither take nor release it.
    expect(await rlock.acquire({ block: false })).toBe(false);
    expect(() => rlock.release()).toThrow(AssertionError);
    parentChecked.set();
    // Released only after the child's third release.
    expect(await rlock.acquire({ timeout: 10_000 })).toBe(true);
    expect(out.get(3)).toBe(1);
    rlock.release();
    await p.join();
    expect(p.exitcode).toBe(0);
    out.close();
  });

  it('N processes x M increments under an RLock give exactly N x M', async () => {
    const rlock = new RLock();
    const counter = new SharedInts(1);
    const codes = await runAll([0, 1, 2].map((i) => ctx.Process({ target: incrementLocked, args: [rlock, counter, 1_000, i === 0 ? 'async' : 'sync'] })));
    expect(codes).toEqual([0, 0, 0]);
    expect(counter.get(0)).toBe(3_000);
    counter.close();
  });
});

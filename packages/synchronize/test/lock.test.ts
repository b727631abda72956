import { afterAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { getContext } from '@mpjs/process';
import { defaultCodec, SerializationError } from '@mpjs/serialization';
import { ctx, runAll, stopAndCheck } from './helpers.js';
import { Event, Held, Lock, Semaphore, TimeoutError, ValueError } from '../src/index.js';
import { holdForever, incrementLocked, SharedInts, tryAcquire, useNeighbours } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('Lock in one process', () => {
  it('acquires, refuses a second acquire without blocking, and times out', async () => {
    const lock = new Lock();
    expect(await lock.acquire()).toBe(true);
    expect(await lock.acquire({ block: false })).toBe(false);
    expect(lock.acquireSync({ block: false })).toBe(false);
    expect(await lock.acquire({ timeout: 20 })).toBe(false);
    expect(lock.acquireSync({ timeout: 20 })).toBe(false);
    // A negative timeout is 0; `block: false` ignores the timeout.
    expect(await lock.acquire({ timeout: -5 })).toBe(false);
    expect(await lock.acquire({ block: false, timeout: 10_000 })).toBe(false);
    lock.release();
    expect(lock.acquireSync({ timeout: -1 })).toBe(true);
    lock.release();
  });

  it('throws ValueError when released while unlocked', () => {
    const lock = new Lock();
    expect(() => lock.release()).toThrow(ValueError);
    expect(() => lock.release()).toThrow(/released too many times/);
    lock.acquireSync();
    lock.release();
    expect(() => lock.release()).toThrow(ValueError);
  });

  it('checks its options', async () => {
    const lock = new Lock();
    await expect(lock.acquire({ block: 'no' as unknown as boolean })).rejects.toThrow(TypeError);
    await expect(lock.acquire({ timeout: 'soon' as unknown as number })).rejects.toThrow(/timeout/);
    await expect(lock.acquire({ signal: {} as AbortSignal })).rejects.toThrow(/AbortSignal/);
    expect(() => lock.acquireSync(5 as never)).toThrow(TypeError);
  });

  it('excludes async tasks of one event loop from each other', async () => {
    const lock = new Lock();
    let counter = 0;
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let n = 0; n < 20; n++) {
          await lock.acquire();
          try {
            most = Math.max(most, ++inside);
            const v = counter;
            await new Promise(setImmediate);
            counter = v + 1;
            inside--;
          } finally {
            lock.release();
          }
        }
      }),
    );
    expect(counter).toBe(1000);
    expect(most).toBe(1);
  });

  it('hold() releases at the end of the scope, and rejects with TimeoutError when the timeout passes', async () => {
    const lock = new Lock();
    {
      await using held = await lock.hold();
      expect(held).toBeInstanceOf(Held);
      expect(held.held).toBe(true);
      expect(await lock.acquire({ block: false })).toBe(false);
      await expect(lock.hold({ timeout: 10 })).rejects.toThrow(TimeoutError);
    }
    {
      using _ = lock.holdSync();
      expect(lock.acquireSync({ block: false })).toBe(false);
      expect(() => lock.holdSync({ timeout: 0 })).toThrow(TimeoutError);
    }
    const held = await lock.hold();
    held.release();
    held.release(); // once only
    expect(held.held).toBe(false);
    expect(lock.acquireSync({ block: false })).toBe(true);
    lock.release();
  });

  it('an aborted waiter rejects with the reason and leaves the wake-up to the next waiter', async () => {
    const lock = new Lock();
    await lock.acquire();
    const controller = new AbortController();
    const aborted = lock.acquire({ signal: controller.signal });
    const next = lock.acquire({ timeout: 5_000 });
    await sleep(20);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    lock.release();
    expect(await next).toBe(true);
    lock.release();
    // An already aborted signal rejects at once, even when the lock is free.
    await expect(lock.acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(lock.acquireSync({ block: false })).toBe(true);
    lock.release();
  });

  it('refuses to be encoded without a side channel for its memory (Python: shared only through inheritance)', () => {
    expect(() => defaultCodec.encode({ lock: new Lock() })).toThrow(SerializationError);
    expect(() => defaultCodec.encode(new Lock())).toThrow(/Lock objects should only be shared between processes through inheritance/);
  });
});

describe('Lock across processes', () => {
  it.each(['sync', 'async'] as const)('N processes x M locked increments give exactly N x M (%s acquire)', async (mode) => {
    const lock = new Lock();
    const counter = new SharedInts(1);
    const N = 4;
    const M = mode === 'sync' ? 3_000 : 500;
    const codes = await runAll(Array.from({ length: N }, () => ctx.Process({ target: incrementLocked, args: [lock, counter, M, mode] })));
    expect(codes).toEqual(Array(N).fill(0));
    expect(counter.get(0)).toBe(N * M);
    expect(lock.acquireSync({ block: false })).toBe(true);
    lock.release();
    counter.close();
  });

  it('travels to children started with spawn too (its memory in their descriptor table)', async () => {
    const lock = new Lock();
    const counter = new SharedInts(1);
    const spawn = getContext('spawn');
    const codes = await runAll([0, 1].map(() => spawn.Process({ target: incrementLocked, args: [lock, counter, 2_000, 'sync'] })));
    expect(codes).toEqual([0, 0]);
    expect(counter.get(0)).toBe(4_000);
    counter.close();
  });

  it('can be released by another process, and times out in a child while held here', async () => {
    const lock = new Lock();
    const out = new SharedInts(3);
    lock.acquireSync();
    expect(await runAll([ctx.Process({ target: tryAcquire, args: [lock, { timeout: 50 }, out, 0] })])).toEqual([0]);
    expect(out.get(0)).toBe(2);
    // The child acquires (waiting), and this process releases on its behalf after.
    const p = ctx.Process({ target: tryAcquire, args: [lock, { timeout: 10_000 }, out, 1] });
    p.start();
    await sleep(100);
    lock.release();
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(out.get(1)).toBe(1);
    expect(await lock.acquire({ block: false })).toBe(false); // the child left it locked
    lock.release(); // any process may release a Lock
    out.close();
  });

  it('a process killed while holding it leaves it held (a hazard, as in Python) but other primitives keep working', async () => {
    // All of these share one chunk of shared memory with the lock.
    const before = new Semaphore(1);
    const lock = new Lock();
    const holding = new Event();
    const after = new Event();
    const other = new Lock();
    const out = new SharedInts(1);
    const holder = ctx.Process({ target: holdForever, args: [lock, holding] });
    holder.start();
    expect(await holding.wait(10_000)).toBe(true);
    holder.kill();
    await holder.join();
    expect(holder.exitcode).toBe(-9);
    expect(await lock.acquire({ timeout: 100 })).toBe(false);
    after.set();
    expect(await runAll([ctx.Process({ target: useNeighbours, args: [before, after, other, out] })])).toEqual([0]);
    expect(out.get(0)).toBe(1);
    expect(await before.acquire({ block: false })).toBe(true);
    expect(await other.acquire({ block: false })).toBe(true);
    // Whoever knows the holder is gone may release the lock for it.
    lock.release();
    expect(await lock.acquire({ block: false })).toBe(true);
    out.close();
  });
});

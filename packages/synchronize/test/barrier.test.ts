import { afterAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ctx, runAll, stopAndCheck } from './helpers.js';
import { Barrier, BrokenBarrierError, ValueError } from '../src/index.js';
import { barrierOnce, barrierParty, countAction, failingAction, SharedInts } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('Barrier in one process', () => {
  it('releases the parties together with distinct indexes, runs the action once per cycle, and can be reused', async () => {
    let runs = 0;
    const barrier = new Barrier(3, { action: () => void runs++ });
    expect(barrier.parties).toBe(3);
    for (let cycle = 1; cycle <= 3; cycle++) {
      const first = barrier.wait();
      const second = barrier.wait();
      await sleep(5);
      expect(barrier.nWaiting).toBe(2);
      const indexes = await Promise.all([first, second, barrier.wait()]);
      expect([...indexes].sort()).toEqual([0, 1, 2]);
      expect(runs).toBe(cycle);
      expect(barrier.nWaiting).toBe(0);
    }
    expect(new Barrier(1).waitSync()).toBe(0);
  });

  it('checks parties', () => {
    expect(() => new Barrier(0)).toThrow(ValueError);
    expect(() => new Barrier(70_000)).toThrow(ValueError);
    expect(() => new Barrier(2.5)).toThrow(TypeError);
  });

  it('a timeout breaks the barrier for every party (BrokenBarrierError) until reset()', async () => {
    const barrier = new Barrier(3);
    const other = barrier.wait();
    await expect(barrier.wait(30)).rejects.toThrow(BrokenBarrierError);
    await expect(other).rejects.toThrow(BrokenBarrierError);
    expect(barrier.broken).toBe(true);
    expect(barrier.nWaiting).toBe(0);
    await expect(barrier.wait()).rejects.toThrow(BrokenBarrierError);
    expect(() => barrier.waitSync()).toThrow(BrokenBarrierError);
    barrier.reset();
    expect(barrier.broken).toBe(false);
    const indexes = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
    expect([...indexes].sort()).toEqual([0, 1, 2]);
  });

  it('uses the default timeout given to the constructor', async () => {
    const barrier = new Barrier(2, { timeout: 20 });
    expect(barrier.timeout).toBe(20);
    await expect(barrier.wait()).rejects.toThrow(BrokenBarrierError);
    expect(barrier.broken).toBe(true);
  });

  it('abort() breaks it; reset() while parties wait gives them BrokenBarrierError and empties it', async () => {
    const barrier = new Barrier(3);
    const waiting = [barrier.wait(), barrier.wait()];
    await sleep(5);
    barrier.abort();
    for (const w of waiting) await expect(w).rejects.toThrow(BrokenBarrierError);
    expect(barrier.broken).toBe(true);
    barrier.reset();
    const again = [barrier.wait(), barrier.wait()];
    await sleep(5);
    barrier.reset();
    for (const w of again) await expect(w).rejects.toThrow(/reset/);
    expect(barrier.broken).toBe(false);
    expect(barrier.nWaiting).toBe(0);
    const indexes = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
    expect([...indexes].sort()).toEqual([0, 1, 2]);
  });

  it('an action that throws breaks the barrier: its error in the last party, BrokenBarrierError in the others', async () => {
    const barrier = new Barrier(2, { action: failingAction });
    const first = barrier.wait();
    await expect(barrier.wait()).rejects.toThrow(RangeError);
    await expect(first).rejects.toThrow(BrokenBarrierError);
    expect(barrier.broken).toBe(true);
  });

  it('aborting a wait breaks the barrier and rejects with the reason', async () => {
    const barrier = new Barrier(2);
    const controller = new AbortController();
    const reason = new Error('leaving');
    const waiting = barrier.wait({ signal: controller.signal });
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(barrier.broken).toBe(true);
  });

  it('waits for an async action before releasing anyone', async () => {
    const order: string[] = [];
    const barrier = new Barrier(2, {
      action: async () => {
        await sleep(20);
        order.push('action');
      },
    });
    await Promise.all([barrier.wait().then(() => order.push('released')), barrier.wait().then(() => order.push('released'))]);
    expect(order).toEqual(['action', 'released', 'released']);
  });
});

describe('Barrier across processes', () => {
  it('parties in three processes and here: distinct indexes each round, the action once per round before release', async () => {
    const parties = 4;
    const rounds = 5;
    const counter = new SharedInts(1);
    const out = new SharedInts(1 + rounds);
    const barrier = new Barrier(parties, { action: countAction });
    const children = [0, 1, 2].map((i) => ctx.Process({ target: barrierParty, args: [barrier, counter, out, rounds, i === 1 ? 'sync' : 'async'] }));
    for (const p of children) p.start();
    await barrierParty(barrier, counter, out, rounds, 'async');
    await Promise.all(children.map((p) => p.join()));
    expect(children.map((p) => p.exitcode)).toEqual([0, 0, 0]);
    expect(counter.get(0)).toBe(rounds);
    expect(out.get(0)).toBe(0);
    // Every round, the indexes 0..3 each went to exactly one party.
    expect(out.toArray().slice(1)).toEqual(Array(rounds).fill(0b1111));
    counter.close();
    out.close();
  });

  it('abort() here breaks the waits of children; a timeout in a child breaks it here', async () => {
    const barrier = new Barrier(3);
    const out = new SharedInts(2);
    const children = [0, 1].map((slot) => ctx.Process({ target: barrierOnce, args: [barrier, out, slot, null, null] }));
    for (const p of children) p.start();
    for (let i = 0; i < 1000 && barrier.nWaiting < 2; i++) await sleep(10);
    expect(barrier.nWaiting).toBe(2);
    barrier.abort();
    await Promise.all(children.map((p) => p.join()));
    expect(children.map((p) => p.exitcode)).toEqual([0, 0]);
    expect(out.toArray()).toEqual([-1, -1]);

    barrier.reset();
    const here = barrier.wait().catch((error: unknown) => error);
    expect(await runAll([ctx.Process({ target: barrierOnce, args: [barrier, out, 0, 50, null] })])).toEqual([0]);
    expect(out.get(0)).toBe(-1);
    expect(await here).toBeInstanceOf(BrokenBarrierError);
    out.close();
  });
});

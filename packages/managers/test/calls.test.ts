/**
 * How calls travel: in the order they were made, a waiting call holding up no
 * other, and given up through an AbortSignal without taking effect later.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { activeChildren } from '@mpjs/process';
import { eventually } from '@mpjs/test-utils';
import { marker, processesWith } from './helpers.js';
import { Manager, type SyncManager } from '../src/index.js';

let manager: SyncManager;

beforeAll(async () => {
  manager = await Manager();
});

afterAll(async () => {
  await manager.shutdown();
  for (const child of activeChildren()) child.kill();
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

describe('the order of calls', () => {
  it('calls on one proxy fired without awaiting take effect in the order they were made', async () => {
    const l = await manager.list<number>();
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => l.append(i)));
    expect(await l.copy()).toEqual(Array.from({ length: n }, (_, i) => i));
    // Mixed methods too: each sees the effect of the ones before it.
    const [, , len, , last] = await Promise.all([l.clear(), l.append(7), l.length(), l.append(8), l.get(-1)]);
    expect(len).toBe(1);
    expect(last).toBe(8);
  });

  it('a waiting call does not hold up the calls made after it: a producer and a consumer share one queue proxy', async () => {
    const q = await manager.Queue<number>(2);
    const got: number[] = [];
    const consumer = (async () => {
      for (let i = 0; i < 50; i++) got.push(await q.get());
    })();
    const producer = (async () => {
      for (let i = 0; i < 50; i++) await q.put(i);
    })();
    await Promise.all([consumer, producer]);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // A get fired before a put, without awaiting either: the get waits, the put still goes.
    const waiting = q.get();
    const events = await manager.list<string>();
    await Promise.all([q.put(99), events.append('after the put')]);
    expect(await waiting).toBe(99);
  });
});

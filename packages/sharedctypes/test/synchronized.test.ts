/**
 * Value, SharedArray, synchronized() and copy(): which lock guards an object,
 * that every access holds it (across processes), that locked increments from
 * several processes lose nothing, and the wrappers' own API.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import {
  c_double,
  c_int,
  copy,
  isSynchronized,
  Lock,
  RawArray,
  RawValue,
  RLock,
  SharedArray,
  Structure,
  synchronized,
  Value,
  ValueError,
} from '../src/index.js';
import { ctx, runAll, stopAndCheck } from './helpers.js';
import { holdLock, incrementAsync, incrementLocked } from './fixtures/targets.js';

const Point = Structure({ x: c_double, y: c_double }, { name: 'Point' });

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('Value and SharedArray', () => {
  it('are guarded by a new RLock by default, by the lock given, or return the raw object with lock: false', () => {
    const v = new Value('i', 7);
    expect(v).toBeInstanceOf(Value);
    expect(v.getLock()).toBeInstanceOf(RLock);
    expect(v.getObj()).toBeInstanceOf(RawValue);
    expect(v.value).toBe(7);

    const lock = new Lock();
    const a = new SharedArray('i', 3, { lock });
    const b = new Value('d', 0.5, { lock });
    expect(a.getLock()).toBe(lock);
    expect(b.getLock()).toBe(lock);
    expect(a).toBeInstanceOf(SharedArray);
    expect(isSynchronized(a) && isSynchronized(b)).toBe(true);

    const raw = new Value(c_double, 1 / 3, { lock: false });
    expect(raw).toBeInstanceOf(RawValue);
    expect(raw).not.toBeInstanceOf(Value);
    expect(new SharedArray('i', [1], { lock: false })).toBeInstanceOf(RawArray);
    expect(isSynchronized(raw)).toBe(false);

    expect(() => new Value('i', 0, { lock: 'yes' as never })).toThrow(new TypeError('Value: "lock" must be true, false, a Lock or an RLock, got "yes"'));
    expect(() => new SharedArray('i', 1, 5 as never)).toThrow(/options must be an object/);
  });

  it('read and write through the lock, and wrap arrays as Python does', () => {
    const a = new SharedArray('i', [1, 2, 3]);
    a[0] = -a[0]!;
    a.set(-1, 30);
    expect([a.get(0), a[1], a.length]).toEqual([-1, 2, 3]);
    expect(a.slice(1)).toEqual([2, 30]);
    expect([...a]).toEqual([-1, 2, 30]);
    expect(a.typed).toBeInstanceOf(Int32Array);
    expect(a.toJSON()).toEqual([-1, 2, 30]);
    expect(inspect(a)).toBe('SharedArray(c_int, [ -1, 2, 30 ])');

    const s = new SharedArray('c', Buffer.from('hello world'));
    s.value = s.value.toString().toUpperCase();
    expect(s.value.toString()).toBe('HELLO WORLD');
    s.raw = 'J';
    expect(s.raw.toString()).toBe('JELLO WORLD');

    const v = new Value('q', 5n);
    v.value += 1n;
    expect(v.value).toBe(6n);
    expect(String(v)).toBe('<Synchronized wrapper for c_longlong(6)>');
    expect(inspect(v)).toBe('Value(c_longlong, 6n)');
    expect(v.toJSON()).toBe(6n);
  });

  it('give a structure whose fields each take the lock', () => {
    const lock = new Lock();
    const v = new Value(Point, { x: 1, y: 2 }, { lock });
    const p = v.value;
    p.x += 10;
    expect(p.toJSON()).toEqual({ x: 11, y: 2 });
    expect(inspect(p)).toBe('Point { x: 11, y: 2 }');
    // While another holder has the lock, field access would wait; the raw object does not.
    lock.acquireSync();
    expect(v.getObj().value.x).toBe(11);
    expect(lock.acquireSync({ block: false })).toBe(false);
    lock.release();
    v.value = [5, 6];
    expect(v.getObj().value.toJSON()).toEqual({ x: 5, y: 6 });
  });

  it('wrap raw objects with synchronized() and copy them with copy()', () => {
    const raw = new RawValue(c_int, 3);
    const v = synchronized(raw);
    expect(v.getObj()).toBe(raw);
    expect(v.getLock()).toBeInstanceOf(RLock);
    v.value = 4;
    expect(raw.value).toBe(4);

    const lock = new Lock();
    const arr = synchronized(new RawArray('d', [1, 2]), lock);
    expect(arr).toBeInstanceOf(SharedArray);
    expect(arr.getLock()).toBe(lock);

    const points = new RawArray(Point, [[1, 2], [3, 4]]);
    const second = synchronized(points[1]!);
    second.value.y = 40;
    expect(points[1]!.y).toBe(40);

    expect(() => synchronized(v as never)).toThrow(/synchronized already/);
    expect(() => synchronized({} as never)).toThrow(/expected a RawValue, a RawArray or a structure instance/);

    const c = copy(arr);
    expect(c).toBeInstanceOf(RawArray);
    c[0] = 100;
    expect([arr[0], c[0]]).toEqual([1, 100]);
    expect(copy(v).value).toBe(4);
  });

  it('hold the lock for a scope with holdSync()/hold(), and release it however the scope ends', async () => {
    const v = new Value('i', 0, { lock: new Lock() });
    {
      using _ = v.holdSync();
      expect(v.getLock().acquireSync({ block: false })).toBe(false);
    }
    expect(v.acquireSync({ block: false })).toBe(true);
    v.release();
    await expect(
      (async () => {
        await using _ = await v.hold();
        throw new ValueError('inside');
      })(),
    ).rejects.toThrow('inside');
    expect(await v.acquire({ timeout: 0 })).toBe(true);
    v.release();
  });
});

describe('across processes', () => {
  it('a lock held in another process keeps this one out until released', async () => {
    const v = new Value('i', 0);
    const flags = new RawArray('i', 2);
    const p = ctx.Process({ target: holdLock, args: [v, flags] });
    p.start();
    const start = Date.now();
    while (flags[0] === 0 && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 5));
    expect(flags[0]).toBe(1);
    expect(await v.acquire({ timeout: 100 })).toBe(false);
    expect(v.acquireSync({ block: false })).toBe(false);
    flags[1] = 1;
    expect(await v.acquire({ timeout: 20_000 })).toBe(true);
    expect(v.getObj().value).toBe(42);
    v.release();
    await p.join();
    expect(p.exitcode).toBe(0);
  });

  it('locked increments from three processes and this one lose nothing', async () => {
    const v = new Value('i', 0);
    const children = [
      ctx.Process({ target: incrementLocked, args: [v, 20_000] }),
      ctx.Process({ target: incrementLocked, args: [v, 20_000] }),
      ctx.Process({ target: incrementAsync, args: [v, 2_000] }),
    ];
    for (const c of children) c.start();
    for (let i = 0; i < 3_000; i++) {
      await using _ = await v.hold();
      v.value += 1;
    }
    await Promise.all(children.map((c) => c.join(30_000)));
    expect(children.map((c) => c.exitcode)).toEqual([0, 0, 0]);
    expect(v.value).toBe(45_000);
  });

  it('a lock shared by several objects travels once and guards them all', async () => {
    const lock = new RLock();
    const a = new Value('i', 0, { lock });
    const b = new Value('i', 0, { lock });
    expect(await runAll([ctx.Process({ target: incrementLocked, args: [a, 1000] }), ctx.Process({ target: incrementLocked, args: [b, 1000] })])).toEqual([0, 0]);
    expect([a.value, b.value]).toEqual([1000, 1000]);
    expect(a.getLock()).toBe(b.getLock());
  });
});

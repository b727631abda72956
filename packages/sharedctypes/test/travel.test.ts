/**
 * Shared objects travel to child processes as Process arguments — through a
 * forkserver (descriptors over a Unix socket) and with spawn (descriptors in
 * the stdio table) — and both sides then share the same bytes. Nothing is
 * left in /dev/shm, even when a child is killed.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { defaultCodec, SerializationError, type EncodeContext } from '@mpjs/serialization';
import { c_char, c_double, Lock, RawArray, RawValue, SharedArray, Value, type TypeCode } from '../src/index.js';
import { ctx, memfds, runAll, shmNames, spawnCtx, stopAndCheck } from './helpers.js';
import { bumpAll, changeStructs, Entry, increaseAndWait, modify, Point, writeValues } from './fixtures/targets.js';

// Named blocks of the shared-memory tests (psm_mpjs_test_*) come and go in parallel runs; any other new name is a leak.
const others = (names: string[]): string[] => names.filter((n) => !n.startsWith('psm_mpjs_test_'));

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('travel', () => {
  it.each([
    ['forkserver', ctx],
    ['spawn', spawnCtx],
  ])("runs the spec's sharedctypes example in a %s child", async (_method, context) => {
    const before = others(shmNames(''));
    const lock = new Lock();
    const n = new Value('i', 7);
    const x = new Value(c_double, 1.0 / 3.0, { lock: false });
    const s = new SharedArray(c_char, Buffer.from('hello world'), { lock });
    const A = new SharedArray(Point, [[1.875, -6.25], [-5.75, 2.0], [2.375, 9.5]], { lock });
    expect(await runAll([context.Process({ target: modify, args: [n, x, s, A] })])).toEqual([0]);
    expect(n.value).toBe(49);
    expect(x.value).toBe(0.1111111111111111);
    expect(s.value.toString()).toBe('HELLO WORLD');
    expect([...A].map((a) => [a.x, a.y])).toEqual([[3.515625, 39.0625], [33.0625, 4.0], [5.640625, 90.25]]);
    expect(others(shmNames(''))).toEqual(before);
  });

  it('carries every typecode, wrapped in the child as C wraps', async () => {
    const values: Record<TypeCode, unknown[]> = {
      b: [127, 128, -129],
      B: [255, 256, -1],
      h: [32767, 32768, -32769],
      H: [65535, 65536, -1],
      i: [2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1],
      I: [2 ** 32 - 1, 2 ** 32, -1],
      l: ['9223372036854775807n', '9223372036854775808n', '-1n'],
      L: ['18446744073709551615n', '18446744073709551616n', '-1n'],
      q: ['-9223372036854775808n', '-9223372036854775809n', 5],
      Q: ['-1n', '18446744073709551617n', 5],
      f: [0.1, 1e40, -1.5],
      d: [0.1, 1e300, -1.5],
      c: ['A', 255, Buffer.from('z')],
      u: ['é', '😀', 'z'],
    };
    const arrays = Object.fromEntries(Object.keys(values).map((code) => [code, new RawArray(code as TypeCode, 3)])) as Record<TypeCode, RawArray>;
    expect(await runAll([ctx.Process({ target: writeValues, args: [arrays, values] })])).toEqual([0]);
    const read = (code: TypeCode) => arrays[code].slice();
    expect(read('b')).toEqual([127, -128, 127]);
    expect(read('B')).toEqual([255, 0, 255]);
    expect(read('h')).toEqual([32767, -32768, 32767]);
    expect(read('H')).toEqual([65535, 0, 65535]);
    expect(read('i')).toEqual([2147483647, -2147483648, 2147483647]);
    expect(read('I')).toEqual([4294967295, 0, 4294967295]);
    expect(read('l')).toEqual([2n ** 63n - 1n, -(2n ** 63n), -1n]);
    expect(read('L')).toEqual([2n ** 64n - 1n, 0n, 2n ** 64n - 1n]);
    expect(read('q')).toEqual([-(2n ** 63n), 2n ** 63n - 1n, 5n]);
    expect(read('Q')).toEqual([2n ** 64n - 1n, 1n, 5n]);
    expect(read('f')).toEqual([Math.fround(0.1), Infinity, -1.5]);
    expect(read('d')).toEqual([0.1, 1e300, -1.5]);
    expect(read('c')).toEqual(Buffer.from([65, 255, 122]));
    expect(read('u')).toBe('é😀z');
  });

  it('keeps structure types: a child sees instances of its own classes, and changes fields in place', async () => {
    const rec = new RawValue(Entry, { id: 41, flag: false, name: 'ada', where: { x: 1.5, y: 2.5 }, big: 2n ** 40n });
    const points = new SharedArray(Point, [[1, 2], [3, 4]]);
    const report = new RawArray('i', 3);
    expect(await runAll([ctx.Process({ target: changeStructs, args: [rec, points, points.getObj()[0], report] })])).toEqual([0]);
    expect(report.slice()).toEqual([1, 1, 1]);
    expect(rec.value.toJSON()).toEqual({ id: 42, flag: true, name: 'ADA', where: { x: -1.5, y: 2.5 }, big: 2n ** 41n });
    expect(points.toJSON()).toEqual([{ x: 1, y: 99 }, { x: 10, y: 20 }]);
  });

  it('sends one descriptor per arena however many objects live in it', async () => {
    const arrays = [new RawArray('i', [1, 2]), new RawArray('i', [3]), new RawArray('i', [4, 5, 6])];
    const context: EncodeContext = { handles: [] };
    const bytes = defaultCodec.encode([arrays, arrays[0]], context);
    expect(context.handles.length).toBe(1);
    // Decoded here, the arrays are views of the same memory again.
    const [back] = defaultCodec.decode(bytes, { handles: context.handles }) as [Array<RawArray<'i'>>];
    back[2]![0] = 40;
    expect(arrays[2]![0]).toBe(40);

    expect(await runAll([ctx.Process({ target: bumpAll, args: [arrays, arrays[0]] })])).toEqual([0]);
    expect(arrays.map((a) => a.slice())).toEqual([[102, 3], [4], [41, 6, 7]]);
  });

  it('refuses to travel without a channel for descriptors, as Python refuses outside inheritance', () => {
    expect(() => defaultCodec.encode(new RawValue('i', 1))).toThrow(SerializationError);
    expect(() => defaultCodec.encode(new Value('i', 1))).toThrow(/should only be shared between processes through inheritance/);
    const local = new Entry({ name: 'x' });
    expect(() => defaultCodec.encode(local, { handles: [] })).toThrow(/lives in local memory/);
  });

  it('survives a child killed while it uses the value, leaving nothing in /dev/shm', async () => {
    const before = others(shmNames(''));
    const fds = memfds().length;
    const v = new Value('i', 0);
    const p = ctx.Process({ target: increaseAndWait, args: [v] });
    p.start();
    const start = Date.now();
    while (v.getObj().value === 0 && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 10));
    expect(v.value).toBe(1);
    p.kill();
    await p.join();
    expect(p.exitcode).toBe(-9);
    v.value += 1;
    expect(v.value).toBe(2);
    expect(others(shmNames(''))).toEqual(before);
    expect(memfds().length - fds).toBeLessThanOrEqual(2);
  });
});

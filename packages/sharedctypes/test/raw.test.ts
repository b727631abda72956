/**
 * RawValue and RawArray in one process: initial values, indexing (get/set,
 * a[i], negative indexes), slices, iteration, the typed-array view, c_char
 * arrays' value and raw, copy(), and the errors of bad use.
 */
import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { c_char, c_double, c_int, c_wchar, copy, RawArray, RawValue, ValueError } from '../src/index.js';
import { memfds, shmNames } from './helpers.js';

describe('RawValue', () => {
  it('starts at zero or at the value given, and reads back what was written', () => {
    expect(new RawValue('i').value).toBe(0);
    expect(new RawValue('q').value).toBe(0n);
    expect(new RawValue('c').value).toEqual(Buffer.from([0]));
    expect(new RawValue('u').value).toBe('\0');
    const v = new RawValue(c_double, 2.4);
    expect(v.value).toBe(2.4);
    v.value *= 2;
    expect(v.value).toBe(4.8);
    expect(inspect(v)).toBe('RawValue(c_double, 4.8)');
    expect(v.toJSON()).toBe(4.8);
  });
});

describe('RawArray', () => {
  it('is zeroed from a size, or filled from any sequence', () => {
    expect(new RawArray('h', 7).slice()).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(new RawArray(c_int, [9, 2, 8]).slice()).toEqual([9, 2, 8]);
    expect(new RawArray('d', new Float64Array([0.5, 1.5])).slice()).toEqual([0.5, 1.5]);
    expect(new RawArray('i', new Set([3, 4])).slice()).toEqual([3, 4]);
    function* gen(): Generator<number> {
      yield 1;
      yield 2;
    }
    expect(new RawArray('B', gen()).slice()).toEqual([1, 2]);
    expect(new RawArray('q', [1n, -1]).slice()).toEqual([1n, -1n]);
    expect(new RawArray('u', 'hé😀').slice()).toBe('hé😀');
    expect(new RawArray('c', 'hé').raw).toEqual(Buffer.from('hé'));
    expect(new RawArray('i', 0).length).toBe(0);
    expect(() => new RawArray('i', -1)).toThrow(RangeError);
    expect(() => new RawArray('i', 2.5)).toThrow(RangeError);
    expect(() => new RawArray('i', 5 as unknown as Iterable<number> & null)).not.toThrow();
    expect(() => new RawArray('i', {} as never)).toThrow(/expected a size or a sequence of c_int values/);
    expect(() => new RawArray('i', [1, 'x' as never])).toThrow(/c_int: expected an integer/);
  });

  it('indexes with get/set and a[i], negative indexes counting from the end', () => {
    const a = new RawArray('i', [10, 20, 30]);
    expect([a.get(0), a.get(-1), a[1], a[-3]]).toEqual([10, 30, 20, 10]);
    a.set(-1, 33);
    a[0] = 11;
    a[-2] = 22;
    expect(a.slice()).toEqual([11, 22, 33]);
    expect(() => a.get(3)).toThrow(new RangeError('index 3 is out of range for an array of length 3'));
    expect(() => a[-4]).toThrow(RangeError);
    expect(() => (a[3] = 1)).toThrow(RangeError);
    expect(() => a.get(1.5)).toThrow(new TypeError('array indexes must be integers, got 1.5'));
    expect(() => (a[0] = 1.5)).toThrow(TypeError);
    expect(a.length).toBe(3);
    expect([...a]).toEqual([11, 22, 33]);
    expect(Array.from(a, (x) => x * 2)).toEqual([22, 44, 66]);
    expect(a.toJSON()).toEqual([11, 22, 33]);
    expect(inspect(a)).toBe('RawArray(c_int, [ 11, 22, 33 ])');
  });

  it('stays an ordinary object apart from indexes', async () => {
    const a = new RawArray('i', [1]) as RawArray<'i'> & { label?: string };
    a.label = 'mine';
    expect(a.label).toBe('mine');
    expect(Object.keys(a)).toEqual(['label']);
    expect((a as unknown as { then?: unknown }).then).toBeUndefined();
    expect(await Promise.resolve(a)).toBe(a);
    expect(a instanceof RawArray).toBe(true);
    expect(String(a)).toBe('RawArray(c_int, [1])');
  });

  it('slices as Python does', () => {
    const a = new RawArray('i', [0, 1, 2, 3, 4]);
    expect(a.slice(1, 3)).toEqual([1, 2]);
    expect(a.slice(-2)).toEqual([3, 4]);
    expect(a.slice(3, 1)).toEqual([]);
    expect(a.slice(-100, 100)).toEqual([0, 1, 2, 3, 4]);
    expect(new RawArray('c', 'hello').slice(1, -1)).toEqual(Buffer.from('ell'));
  });

  it('gives a typed array over the shared elements', () => {
    const a = new RawArray('d', 4);
    a.typed.set([1, 2, 3, 4]);
    expect(a.get(2)).toBe(3);
    a[3] = 40;
    expect(a.typed[3]).toBe(40);
    expect(a.typed).toBeInstanceOf(Float64Array);
    expect(a.typed.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(new RawArray('q', 1).typed).toBeInstanceOf(BigInt64Array);
    expect(a.bytes.length).toBe(32);
  });

  it("has value and raw for c_char arrays, as ctypes: value stops at the first NUL", () => {
    const s = new RawArray(c_char, Buffer.from('hello world'));
    expect(s.value).toEqual(Buffer.from('hello world'));
    s.value = 'hi';
    expect(s.value.toString()).toBe('hi');
    expect(s.raw).toEqual(Buffer.from('hi\0lo world'));
    s.raw = Buffer.from('HEY');
    expect(s.raw.toString()).toBe('HEYlo world');
    expect(s.value.toString()).toBe('HEYlo world');
    s.value = Buffer.from('exactly 11!');
    expect(s.value.toString()).toBe('exactly 11!');
    expect(() => (s.value = 'twelve bytes')).toThrow(new ValueError('byte string too long (12 bytes for an array of 11)'));
    expect(() => (s.raw = 'twelve bytes')).toThrow(ValueError);
    expect(s.toJSON()).toBe('exactly 11!');
    expect(s[0]).toEqual(Buffer.from('e'));
    (s as unknown as Record<number, string>)[0] = 'E';
    expect(s.value.toString()).toBe('Exactly 11!');

    const w = new RawArray(c_wchar, 5);
    w.value = 'ab😀';
    expect(w.value).toBe('ab😀');
    expect(() => (w.value = 'abcdef')).toThrow(ValueError);
    expect(() => w.raw).toThrow(new TypeError("raw: only arrays of c_char ('c') have it; this is an array of c_wchar"));
    expect(() => new RawArray('i', 1).value).toThrow(/value: only arrays of c_char \('c'\) and c_wchar \('u'\) have it/);
  });

  it('copies values and arrays into new shared memory with copy()', () => {
    const a = new RawArray('i', [1, 2, 3]);
    const b = copy(a);
    b[0] = 100;
    expect([a[0], b[0], b.length]).toEqual([1, 100, 3]);
    const v = new RawValue('d', 1.5);
    const w = copy(v);
    w.value = 2;
    expect([v.value, w.value]).toEqual([1.5, 2]);
  });

  it('carves many objects from a few anonymous blocks, never from /dev/shm', () => {
    const before = shmNames('');
    const fds = memfds().length;
    const objects = Array.from({ length: 2000 }, (_, i) => new RawArray('i', [i, i]));
    const big = new RawArray('d', 1_000_000);
    big[999_999] = 1;
    expect(objects[1999]!.get(1)).toBe(1999);
    // 2000 small arrays share one 1 MiB arena; the 8 MB array has its own.
    expect(memfds().length - fds).toBeLessThanOrEqual(3);
    expect(shmNames('')).toEqual(before);
  });
});

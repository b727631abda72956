/**
 * Structure: C layout (offsets, size, alignment, _pack_) as CPython's ctypes
 * computes it, fields read and written in place, nested structures and array
 * fields, local instances, and the errors of bad definitions.
 */
import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import {
  arrayOf,
  c_bool,
  c_char,
  c_double,
  c_int,
  c_short,
  c_wchar,
  copy,
  RawArray,
  RawValue,
  Structure,
  StructBase,
  ValueError,
} from '../src/index.js';

const Point = Structure({ x: c_double, y: c_double }, { name: 'Point' });
const P = Structure({ a: c_char, b: c_int, c: c_short, d: c_double, e: c_char }, { name: 'P' });
const Q = Structure({ a: c_char, p: P, w: c_wchar, arr: arrayOf(c_short, 3), f: c_bool }, { name: 'Q' });

/** Writes through a[i] or s.field with what set() accepts (TypeScript types both as what reading gives). */
const loose = (o: object) => o as Record<string | number, unknown>;

const offsets = (t: { fields: readonly { offset: number }[] }) => t.fields.map((f) => f.offset);

describe('Structure', () => {
  it('lays fields out as C (checked against ctypes: sizeof, alignment, offsets)', () => {
    expect([Point.size, Point.alignment, offsets(Point)]).toEqual([16, 8, [0, 8]]);
    expect([P.size, P.alignment, offsets(P)]).toEqual([32, 8, [0, 4, 8, 16, 24]]);
    expect([Q.size, Q.alignment, offsets(Q)]).toEqual([56, 8, [0, 8, 40, 44, 50]]);
    const K1 = Structure({ a: c_char, b: c_int, d: c_double }, { pack: 1 });
    const K2 = Structure({ a: c_char, b: c_int, d: c_double }, { pack: 2 });
    expect([K1.size, K1.alignment, offsets(K1)]).toEqual([13, 1, [0, 1, 5]]);
    expect([K2.size, K2.alignment, offsets(K2)]).toEqual([14, 2, [0, 2, 6]]);
    expect(Point.name).toBe('Point');
    expect(Point._fields_).toEqual([['x', c_double], ['y', c_double]]);
    expect(arrayOf(c_short, 3).name).toBe('c_short_Array_3');
    expect(arrayOf(c_short, 3)).toBe(arrayOf('h', 3));
  });

  it('reads and writes fields in place, in local and in shared memory', () => {
    const p = new Point({ x: 1.5, y: -2 });
    expect([p.x, p.y]).toEqual([1.5, -2]);
    expect(new Point([3]).toJSON()).toEqual({ x: 3, y: 0 });
    expect(p instanceof Structure && p instanceof StructBase && p instanceof Point).toBe(true);

    const A = new RawArray(Point, [[1, 2], { x: 3, y: 4 }, new Point([5, 6])]);
    const first = A[0]!;
    first.x = 10;
    expect(A.get(0).x).toBe(10);
    expect(new Float64Array(A.bytes.buffer, A.bytes.byteOffset, 6)).toEqual(new Float64Array([10, 2, 3, 4, 5, 6]));
    loose(A)[1] = { y: 40 };
    expect(A[1]!.toJSON()).toEqual({ x: 0, y: 40 });
    expect(String(A[2])).toBe('Point(x=5, y=6)');
    expect(inspect(A[2])).toBe('Point { x: 5, y: 6 }');
  });

  it('nests structures and arrays, each a view of the same bytes', () => {
    const v = new RawValue(Q, { a: 'z', p: { b: 7, d: 0.25 }, w: 'λ', arr: [1, -2], f: true });
    const q = v.value;
    expect(q.p.b).toBe(7);
    q.p.c = -3;
    expect(q.p.toJSON()).toEqual({ a: Buffer.from([0]), b: 7, c: -3, d: 0.25, e: Buffer.from([0]) });
    expect(q.arr instanceof RawArray && q.arr.slice()).toEqual([1, -2, 0]);
    q.arr[2] = 9;
    expect(new Int16Array(v.bytes.buffer, v.bytes.byteOffset + 44, 3)).toEqual(new Int16Array([1, -2, 9]));
    loose(q).arr = [4];
    expect(q.arr.slice()).toEqual([4, 0, 0]);
    expect([q.w, q.f, q.a.toString()]).toEqual(['λ', true, 'z']);

    const Named = Structure({ id: c_int, name: arrayOf(c_char, 8) });
    const n = new Named({ id: 1, name: 'bob' });
    expect(n.name.value.toString()).toBe('bob');
    expect(n.toJSON()).toEqual({ id: 1, name: 'bob' });
    expect(() => (loose(n).name = 'much too long')).toThrow(new ValueError('bytes too long (13, maximum length 8)'));
    expect(() => (loose(q).arr = [1, 2, 3, 4])).toThrow(new RangeError('too many initializers: 4 for an array of 3'));
    expect(n.name.value.toString()).toBe('bob');
  });

  it('leaves a structure untouched when an assignment is refused', () => {
    const p = new Point({ x: 1, y: 2 });
    const A = new RawArray(Point, [[1, 2]]);
    expect(() => (loose(A)[0] = { x: 5, y: 'no' })).toThrow(/c_double: expected a number/);
    expect(A[0]!.toJSON()).toEqual({ x: 1, y: 2 });
    expect(() => (loose(A)[0] = { z: 1 })).toThrow(new TypeError('Point has no field "z"; its fields are x, y'));
    expect(() => (loose(A)[0] = [1, 2, 3])).toThrow(new TypeError('Point: too many initializers (3 for 2 fields)'));
    expect(() => new RawValue(Point, 5 as never)).toThrow(/Point: expected an object of fields/);
    expect(p.toJSON()).toEqual({ x: 1, y: 2 });
  });

  it('reads misaligned fields of packed structures, and arrays of arrays', () => {
    const K = Structure({ a: c_char, arr: arrayOf(c_int, 3), d: c_double }, { pack: 1, name: 'K' });
    const v = new RawValue(K, { a: 'x', arr: [1, 2, 3], d: 2.5 });
    expect([K.size, offsets(K)]).toEqual([21, [0, 1, 13]]);
    v.value.arr[1] = 20;
    expect([v.value.arr.slice(), v.value.d]).toEqual([[1, 20, 3], 2.5]);
    expect(new DataView(v.bytes.buffer, v.bytes.byteOffset).getInt32(5, true)).toBe(20);
    expect(() => v.value.arr.typed).toThrow(/not aligned to 4 bytes \(a field of a packed structure\)/);
    const M = new RawArray(arrayOf('i', 2), [[1, 2], [3]]);
    expect(M.toJSON()).toEqual([[1, 2], [3, 0]]);
    M[1]![1] = 4;
    expect(String(M[1])).toBe('RawArray(c_int, [3, 4])');
    expect(() => M.typed).toThrow(/its elements are arrays/);
  });

  it('refuses bad definitions', () => {
    expect(() => Structure([] as never)).toThrow(/expected an object of fields/);
    expect(() => Structure({ x: 'd' as never })).toThrow(/field "x" must be a type such as c_int/);
    expect(() => Structure({ toJSON: c_int })).toThrow(/cannot be named "toJSON"/);
    expect(() => Structure({ x: c_int }, { pack: 3 })).toThrow(RangeError);
    expect(() => Structure({ x: c_int }, { name: 'not a name' })).toThrow(/"name" must be an identifier/);
  });

  it('copies a structure into shared memory with copy()', () => {
    const p = new Point({ x: 1, y: 2 });
    const shared = copy(p);
    expect(shared).toBeInstanceOf(RawValue);
    expect(shared.value.toJSON()).toEqual({ x: 1, y: 2 });
    shared.value.x = 5;
    expect(p.x).toBe(1);
  });
});

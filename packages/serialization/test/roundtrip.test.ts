import { describe, expect, it } from '@jest/globals';
import { Packr, unpack } from 'msgpackr';
import { types } from 'node:util';
import { defaultCodec, SerializationError } from '../src/index.js';

const { encode, decode } = defaultCodec;

function roundTrip<T>(value: T): T {
  return decode(encode(value)) as T;
}

/** Object.is for primitives, structural equality (with classes) for the rest. */
function expectSame(actual: unknown, expected: unknown): void {
  if (expected === null || (typeof expected !== 'object' && typeof expected !== 'function')) {
    expect(Object.is(actual, expected)).toBe(true);
    return;
  }
  expect(actual).toStrictEqual(expected);
  expect(Object.getPrototypeOf(actual)).toBe(Object.getPrototypeOf(expected));
}

describe('numbers', () => {
  const numbers = [
    0, -0, 1, -1, 31, 32, 127, 128, 255, 256, 65535, 65536, -31, -32, -33, -128, -129, -32768, -32769, 2 ** 31 - 1, -(2 ** 31), 2 ** 31,
    2 ** 32 - 1, 2 ** 32, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1.5, -1.5, 0.1, 1e300, -1e-300,
    Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, NaN, Infinity, -Infinity,
  ];
  it.each(numbers.map((n) => [Object.is(n, -0) ? '-0' : String(n), n]))('%s', (_label, n) => {
    const back = roundTrip(n);
    expect(typeof back).toBe('number');
    expect(Object.is(back, n)).toBe(true);
  });
});

describe('bigints', () => {
  const bigints = [
    0n, 1n, -1n, 127n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 63n) - 1n, 2n ** 71n, -(2n ** 71n), -(2n ** 71n) - 1n,
    2n ** 72n - 1n, -(2n ** 72n), 255n << 64n, -(255n << 64n), 2n ** 1000n + 12345n, -(2n ** 4000n) + 7n,
  ];
  it.each(bigints.map((b) => [b.toString().slice(0, 24), b]))('%s', (_label, b) => {
    const back = roundTrip(b);
    expect(typeof back).toBe('bigint');
    expect(back).toBe(b);
  });

  it('keeps a bigint and a number of the same value apart', () => {
    expect(roundTrip([5, 5n])).toStrictEqual([5, 5n]);
  });
});

describe('strings', () => {
  const strings: Array<[string, string]> = [
    ['empty', ''],
    ['ascii', 'hello'],
    ['31 bytes', 'x'.repeat(31)],
    ['32 bytes', 'x'.repeat(32)],
    ['255 bytes', 'y'.repeat(255)],
    ['256 bytes', 'y'.repeat(256)],
    ['65535 bytes', 'z'.repeat(65535)],
    ['65536 bytes', 'z'.repeat(65536)],
    ['latin-1', 'café naïve'],
    ['two-byte near the short limit', 'é'.repeat(20)],
    ['CJK', '多处理模块'],
    ['emoji', '🧪 tests 🚀'],
    ['long unicode', 'Ωμέγα 🚀 '.repeat(1000)],
    ['lone high surrogate', 'a\ud800b'],
    ['lone low surrogate', '\udc00'],
    ['lone high surrogate at the end', 'ab\ud800'],
    ['surrogate pair at the end', 'ab\ud83d\ude00'],
    ['long with lone surrogate', `${'x'.repeat(100)}\ud83d`],
    ['NUL', 'a\u0000b'],
  ];
  it.each(strings)('%s', (_label, s) => {
    expect(roundTrip(s)).toBe(s);
  });
});

describe('plain values', () => {
  it('undefined, null and booleans', () => {
    for (const v of [undefined, null, true, false]) expect(roundTrip(v)).toBe(v);
  });

  it('undefined and null stay apart as object values', () => {
    const back = roundTrip({ u: undefined, n: null });
    expect(Object.keys(back)).toEqual(['u', 'n']);
    expect(back.u).toBeUndefined();
    expect(back.n).toBeNull();
  });

  it('array holes, undefined elements and null elements', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , undefined, null, , 6];
    const back = roundTrip(sparse);
    expect(back).toHaveLength(6);
    expect(1 in back).toBe(false);
    expect(2 in back).toBe(true);
    expect(back[2]).toBeUndefined();
    expect(back[3]).toBeNull();
    expect(4 in back).toBe(false);
    expect(back[5]).toBe(6);
    const holes = roundTrip(new Array(3));
    expect(holes).toHaveLength(3);
    expect(0 in holes).toBe(false);
    // eslint-disable-next-line no-sparse-arrays
    const trailing = roundTrip([1, ,]);
    expect(trailing).toHaveLength(2);
    expect(1 in trailing).toBe(false);
    // Long arrays are read differently from short ones: holes survive there too.
    const long: unknown[] = Array.from({ length: 40 }, (_, i) => i);
    delete long[0];
    delete long[17];
    delete long[39];
    const longBack = roundTrip(long);
    expect(longBack).toHaveLength(40);
    expect([0 in longBack, 17 in longBack, 39 in longBack, 38 in longBack]).toEqual([false, false, false, true]);
    expect(longBack[16]).toBe(16);
  });

  it('nested objects and arrays keep key order, including integer-like keys', () => {
    const value = { z: 1, a: [1, 'two', { three: 3 }], 10: 'ten', 2: 'two', nested: { deeper: { deepest: [[], {}] } } };
    const back = roundTrip(value);
    expect(back).toStrictEqual(value);
    expect(Object.keys(back)).toEqual(Object.keys(value));
  });

  it('objects with many keys and arrays with many elements', () => {
    const object: Record<string, number> = {};
    for (let i = 0; i < 70_000; i++) object[`k${i}`] = i;
    expect(roundTrip(object)).toStrictEqual(object);
    const array = Array.from({ length: 70_000 }, (_, i) => i);
    expect(roundTrip(array)).toStrictEqual(array);
  });

  it('an own "__proto__" key stays a key and never sets the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    const back = roundTrip(value);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(true);
    expect(back['__proto__']).toStrictEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('null-prototype objects', () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [2] });
    const back = roundTrip(value);
    expect(Object.getPrototypeOf(back)).toBeNull();
    expect({ ...back }).toStrictEqual({ a: 1, b: [2] });
  });

  it('objects made by Object.create(plainObject) travel as their own fields', () => {
    const base = { inherited: 1 };
    const value = Object.assign(Object.create(base) as Record<string, unknown>, { own: 2 });
    expect(roundTrip(value)).toStrictEqual({ own: 2 });
  });

  it('registered symbols', () => {
    expect(roundTrip(Symbol.for('mpjs.test'))).toBe(Symbol.for('mpjs.test'));
    expect(() => encode(Symbol('local'))).toThrow(/only registered symbols/);
  });
});

describe('built-in classes', () => {
  const cases: Array<[string, unknown]> = [
    ['Map with any keys', new Map<unknown, unknown>([['a', 1], [2, 'b'], [NaN, null], [{ k: 1 }, [1]], [undefined, 0n]])],
    ['empty Map', new Map()],
    ['Set', new Set([1, 'a', null, undefined, 2n, NaN])],
    ['Date', new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 678))],
    ['Date at whole seconds', new Date(1_700_000_000_000)],
    ['Date before 1970', new Date(-1_234_567_890_123)],
    ['Date at the epoch', new Date(0)],
    ['Date far in the future', new Date(8.64e15)],
    ['Date far in the past', new Date(-8.64e15)],
    ['Date beyond 2106', new Date(Date.UTC(2300, 0, 1, 0, 0, 0, 5))],
    ['RegExp', /a+(b|c)*$/gimsuy],
    ['RegExp with d flag and escapes', /\/\d+\u{1F600}/du],
    ['Buffer', Buffer.from('bytes\u0000\u00ff')],
    ['empty Buffer', Buffer.alloc(0)],
    ['large Buffer', Buffer.alloc(70_000, 0xab)],
    ['Uint8Array', new Uint8Array([1, 2, 255])],
    ['Int8Array', new Int8Array([-128, 127])],
    ['Uint8ClampedArray', new Uint8ClampedArray([0, 255])],
    ['Int16Array', new Int16Array([-32768, 32767])],
    ['Uint16Array', new Uint16Array([65535])],
    ['Int32Array', new Int32Array([-(2 ** 31), 2 ** 31 - 1])],
    ['Uint32Array', new Uint32Array([2 ** 32 - 1])],
    ['Float32Array', new Float32Array([1.5, -0, NaN, Infinity])],
    ['Float64Array', new Float64Array([Math.PI, -0, NaN, -Infinity])],
    ['BigInt64Array', new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])],
    ['BigUint64Array', new BigUint64Array([2n ** 64n - 1n])],
    ['empty Float64Array', new Float64Array(0)],
    ['ArrayBuffer', new Uint8Array([9, 8, 7]).buffer],
    ['DataView', new DataView(new Uint8Array([1, 2, 3, 4]).buffer)],
  ];
  it.each(cases)('%s', (_label, value) => {
    const back = roundTrip(value);
    expectSame(back, value);
  });

  it('an invalid Date stays an invalid Date', () => {
    const back = roundTrip(new Date(Number.NaN));
    expect(back).toBeInstanceOf(Date);
    expect(Number.isNaN(back.getTime())).toBe(true);
  });

  it('a Buffer decodes as a Buffer and a Uint8Array as a plain Uint8Array', () => {
    const back = roundTrip({ b: Buffer.from([1]), u: new Uint8Array([1]) });
    expect(Buffer.isBuffer(back.b)).toBe(true);
    expect(Buffer.isBuffer(back.u)).toBe(false);
    expect(back.u).toBeInstanceOf(Uint8Array);
  });

  it('a typed array that views part of a larger buffer sends only its own bytes', () => {
    const whole = new Uint16Array([1, 2, 3, 4, 5]);
    const part = whole.subarray(1, 3);
    const back = roundTrip(part);
    expect(Array.from(back)).toEqual([2, 3]);
    expect(back.buffer.byteLength).toBe(4);
  });

  it('decoded binary data is a copy: reusing the message buffer cannot change it', () => {
    const bytes = Buffer.from(encode({ b: Buffer.from([1, 2, 3]), f: new Float64Array([1.25]) }));
    const back = decode(bytes) as { b: Buffer; f: Float64Array };
    bytes.fill(0);
    expect([...back.b]).toEqual([1, 2, 3]);
    expect(back.f[0]).toBe(1.25);
  });

  it('refuses what cannot travel, saying why', () => {
    expect(() => encode(new SharedArrayBuffer(8))).toThrow(/SharedArrayBuffer.*not be shared/);
    expect(() => encode(Promise.resolve(1))).toThrow(/await it/);
    expect(() => encode(new WeakMap())).toThrow(/WeakMap/);
    expect(() => encode(new Number(1))).toThrow(/boxed primitives/);
    expect(() => encode(new Number(1))).toThrow(SerializationError);
  });

  it('a Proxy travels as the object it presents, as with JSON', () => {
    const back = roundTrip(new Proxy({ a: 1 }, { get: (target, key) => (key === 'a' ? 2 : Reflect.get(target, key)) }));
    expect(back).toStrictEqual({ a: 2 });
  });
});

describe('references and cycles', () => {
  it('a repeated object decodes as one object', () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: [shared, shared], c: new Map([['s', shared]]) });
    expect(back.a).toBe(back.b[0]);
    expect(back.b[1]).toBe(back.a);
    expect(back.c.get('s')).toBe(back.a);
  });

  it('repeated Buffers, Dates, typed arrays, Maps and Sets keep their identity', () => {
    const buf = Buffer.from('x');
    const date = new Date(5);
    const floats = new Float32Array([1]);
    const map = new Map();
    const set = new Set();
    const back = roundTrip([buf, date, floats, map, set, buf, date, floats, map, set]);
    for (let i = 0; i < 5; i++) expect(back[i + 5]).toBe(back[i]);
  });

  it('self-cycles in objects, arrays, Maps and Sets', () => {
    const object: Record<string, unknown> = { name: 'o' };
    object.self = object;
    const array: unknown[] = [1];
    array.push(array);
    const map = new Map<string, unknown>();
    map.set('me', map);
    const set = new Set<unknown>();
    set.add(set);
    const back = roundTrip({ object, array, map, set });
    expect(back.object.self).toBe(back.object);
    expect(back.array[1]).toBe(back.array);
    expect(back.map.get('me')).toBe(back.map);
    expect(back.set.has(back.set)).toBe(true);
  });

  it('mutual cycles and a cycle through the root', () => {
    const a: Record<string, unknown> = { name: 'a' };
    const b: Record<string, unknown> = { name: 'b', a };
    a.b = b;
    const root = { list: [a, b] as unknown[] };
    root.list.push(root);
    const back = roundTrip(root);
    const [ba, bb, broot] = back.list as [Record<string, unknown>, Record<string, unknown>, unknown];
    expect(ba.b).toBe(bb);
    expect(bb.a).toBe(ba);
    expect(broot).toBe(back);
  });

  it('references on both sides of the object count where a writer starts indexing, and none across messages', () => {
    const objects = Array.from({ length: 40 }, (_, i) => ({ i }));
    const back = roundTrip({ objects, again: [objects[0], objects[31], objects[32], objects[39]] });
    expect(back.again.map((o) => back.objects.indexOf(o!))).toEqual([0, 31, 32, 39]);
    // The next message starts with no objects known: one seen by the previous encode is written in full.
    const seenBefore = { seen: 'before' };
    encode([{}, {}, {}, seenBefore]);
    const next = roundTrip([seenBefore, seenBefore]);
    expect(next[0]).toStrictEqual({ seen: 'before' });
    expect(next[1]).toBe(next[0]);
  });

  it('references beyond 255 and 65535 objects', () => {
    const objects = Array.from({ length: 70_000 }, (_, i) => ({ i }));
    const back = roundTrip({ objects, again: [objects[0], objects[300], objects[69_999]] });
    expect(back.again[0]).toBe(back.objects[0]);
    expect(back.again[1]).toBe(back.objects[300]);
    expect(back.again[2]).toBe(back.objects[69_999]);
    expect(back.again[2]).toStrictEqual({ i: 69_999 });
  });
});

describe('the bytes', () => {
  it('plain data is standard MessagePack', () => {
    expect([...encode({ a: 1 })]).toEqual([0x81, 0xa1, 0x61, 0x01]);
    expect([...encode([true, null, -1, 'é'])]).toEqual([0x94, 0xc3, 0xc0, 0xff, 0xa2, 0xc3, 0xa9]);
    expect([...encode(1.5)]).toEqual([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect([...encode(Buffer.from([7]))]).toEqual([0xc4, 1, 7]);
    expect([...encode(new Date(1000))]).toEqual([0xd6, 0xff, 0, 0, 0, 1]);
  });

  it('another MessagePack implementation reads our plain data, and we read its', () => {
    const value = { id: 1, op: 'put', args: [1, 'x', true, null, -5, 1.25, 'ünï'], nested: { list: [[], {}], big: 2 ** 40 }, bin: Buffer.from([1, 2]) };
    expect(unpack(encode(value))).toStrictEqual({ ...value, nested: { ...value.nested } });
    const theirs = new Packr({ useRecords: false }).pack(value);
    expect(decode(theirs)).toStrictEqual(value);
  });

  it('reads foreign maps with non-string keys: primitives become string keys, anything else makes a Map', () => {
    // {1: 'a', true: 'b'} and {[1]: 'x'} as another language would write them.
    expect(decode(Uint8Array.from([0x82, 0x01, 0xa1, 0x61, 0xc3, 0xa1, 0x62]))).toStrictEqual({ 1: 'a', true: 'b' });
    const back = decode(Uint8Array.from([0x81, 0x91, 0x01, 0xa1, 0x78])) as Map<unknown, unknown>;
    expect(back).toBeInstanceOf(Map);
    expect([...back.entries()]).toEqual([[[1], 'x']]);
  });

  it('reads float32 and 64-bit integers written by others', () => {
    expect(decode(Uint8Array.from([0xca, 0x3f, 0xc0, 0, 0]))).toBe(1.5);
    expect(decode(Uint8Array.from([0xcf, 0, 0, 0, 1, 0, 0, 0, 0]))).toBe(2n ** 32n);
    expect(decode(Uint8Array.from([0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(-1n);
  });

  it('results of consecutive encodes are independent', () => {
    const messages = Array.from({ length: 5000 }, (_, i) => encode({ i, text: 'm'.repeat(i % 50) }));
    messages.forEach((bytes, i) => expect(decode(bytes)).toStrictEqual({ i, text: 'm'.repeat(i % 50) }));
  });

  it('encodes large messages (a 20 MiB string and a 40 MiB Buffer)', () => {
    const text = 'abcdefghij'.repeat(2 * 1024 * 1024);
    expect(roundTrip(text)).toBe(text);
    const buffer = Buffer.alloc(40 * 1024 * 1024, 3);
    const back = roundTrip(buffer);
    expect(back.length).toBe(buffer.length);
    expect(back.equals(buffer)).toBe(true);
  });

  it('deeply nested values are refused with a clear error, not a crash', () => {
    let deep: unknown[] = [];
    const root = deep;
    for (let i = 0; i < 200_000; i++) {
      const next: unknown[] = [];
      deep.push(next);
      deep = next;
    }
    expect(() => encode(root)).toThrow(/nested too deeply/);
  });

  it('values from another realm encode like our own', async () => {
    const { runInNewContext } = await import('node:vm');
    const foreign = runInNewContext('({ list: [1, { a: new Map([[1, 2]]) }], when: new Date(7), err: new TypeError("x") })') as {
      list: unknown[];
      when: Date;
      err: Error;
    };
    const back = roundTrip(foreign);
    expect(back.list).toStrictEqual([1, { a: new Map([[1, 2]]) }]);
    expect(back.when.getTime()).toBe(7);
    expect(back.err).toBeInstanceOf(TypeError);
    expect(types.isNativeError(back.err)).toBe(true);
  });
});

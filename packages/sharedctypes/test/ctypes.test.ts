/**
 * The C types: sizes, alignments and wrapping as C (and Python's ctypes) on
 * Linux x64, checked against hard-coded C facts and against CPython's ctypes.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  c_bool,
  c_byte,
  c_char,
  c_double,
  c_float,
  c_int,
  c_int64,
  c_long,
  c_longlong,
  c_size_t,
  c_ssize_t,
  c_ubyte,
  c_uint,
  c_ulong,
  c_wchar,
  isCType,
  RawValue,
  typecodeToType,
  type TypeCode,
} from '../src/index.js';

const python = spawnSync('python3', ['--version']).status === 0;

const sizes: Record<TypeCode, number> = { b: 1, B: 1, h: 2, H: 2, i: 4, I: 4, l: 8, L: 8, q: 8, Q: 8, f: 4, d: 8, c: 1, u: 4 };

/** Integers around each boundary of each integer type. */
const intInputs: Record<string, Array<number | bigint>> = {
  b: [0, 127, 128, 200, 255, 256, -1, -128, -129, 2 ** 40 + 3],
  B: [0, 127, 128, 255, 256, -1, -255, 2 ** 40 + 3],
  h: [32767, 32768, 65535, 65536, -32768, -32769, 2 ** 40 + 3],
  H: [32767, 32768, 65535, 65536, -1, -65535],
  i: [2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 5, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, -(2 ** 53) - 2, 10n ** 20n],
  I: [2 ** 31, 2 ** 32 - 1, 2 ** 32, -1, -(2 ** 31), 10n ** 20n],
  l: [2n ** 63n - 1n, 2n ** 63n, 2n ** 64n, -(2n ** 63n), -(2n ** 63n) - 1n, 2 ** 53, -7, 10n ** 30n],
  L: [2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -1n, -(2n ** 63n), 10n ** 30n],
  q: [2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n) - 1n, 12345],
  Q: [2n ** 64n - 1n, 2n ** 64n + 7n, -1n, 12345],
};

const floatInputs = [0.1, 1 / 3, -2.5, 1e-45, 1e-50, 3.4028235e38, 3.5e38, 1e300, -1e300];

describe('C types', () => {
  it('has C sizes and alignments for every typecode (l/L are 8 bytes, u is 4)', () => {
    for (const [code, size] of Object.entries(sizes)) {
      const type = typecodeToType[code as TypeCode];
      expect([code, type.size, type.alignment, type.code]).toEqual([code, size, size, code]);
    }
    expect([c_bool.size, c_size_t.size, c_ssize_t.size]).toEqual([1, 8, 8]);
    expect(c_int64).toBe(c_long);
    expect(c_size_t).toBe(c_ulong);
    expect(c_longlong).not.toBe(c_long);
    expect(isCType(c_int)).toBe(true);
    expect(isCType('i')).toBe(false);
  });

  it('wraps integers as C does', () => {
    const wrap = (code: TypeCode, v: number | bigint) => new RawValue(code, v).value;
    expect(wrap('b', 200)).toBe(-56);
    expect(wrap('b', -129)).toBe(127);
    expect(wrap('B', -1)).toBe(255);
    expect(wrap('B', 256)).toBe(0);
    expect(wrap('h', 32768)).toBe(-32768);
    expect(wrap('H', -1)).toBe(65535);
    expect(wrap('i', 2 ** 31)).toBe(-(2 ** 31));
    expect(wrap('i', 2 ** 32 + 5)).toBe(5);
    expect(wrap('I', -1)).toBe(4294967295);
    expect(wrap('l', 2n ** 63n)).toBe(-(2n ** 63n));
    expect(wrap('L', -1n)).toBe(2n ** 64n - 1n);
    expect(wrap('Q', 2n ** 64n + 7n)).toBe(7n);
    expect(wrap('q', 12345)).toBe(12345n);
    expect(wrap('i', 10n ** 20n)).toBe(Number(BigInt.asIntN(32, 10n ** 20n)));
  });

  it('rounds c_float to single precision and overflows to infinity', () => {
    expect(new RawValue('f', 0.1).value).toBe(Math.fround(0.1));
    expect(new RawValue(c_float, 1e40).value).toBe(Infinity);
    expect(new RawValue('d', 0.1).value).toBe(0.1);
    expect(Object.is(new RawValue('d', -0).value, -0)).toBe(true);
    expect(new RawValue('d', NaN).value).toBeNaN();
  });

  it('matches CPython ctypes value for value', () => {
    if (!python) return;
    const script = `
import ctypes, json, sys
from multiprocessing.sharedctypes import typecode_to_type
cases = json.loads(sys.stdin.read())
out = {}
for code, values in cases['ints'].items():
    out[code] = [str(typecode_to_type[code](int(v)).value) for v in values]
for code in 'fd':
    out[code] = [repr(typecode_to_type[code](v).value) for v in cases['floats']]
out['sizes'] = {c: ctypes.sizeof(t) for c, t in typecode_to_type.items()}
print(json.dumps(out))
`;
    const input = JSON.stringify({ ints: Object.fromEntries(Object.entries(intInputs).map(([c, vs]) => [c, vs.map(String)])), floats: floatInputs });
    const r = spawnSync('python3', ['-c', script], { input, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const expected = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(expected.sizes).toEqual(sizes);
    for (const [code, values] of Object.entries(intInputs)) {
      expect([code, values.map((v) => String(new RawValue(code as TypeCode, v).value))]).toEqual([code, expected[code]]);
    }
    for (const code of ['f', 'd'] as const) {
      const ours = floatInputs.map((v) => new RawValue(code, v).value);
      const theirs = (expected[code] as string[]).map((s) => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s)));
      expect([code, ours]).toEqual([code, theirs]);
    }
  });

  it('refuses values a type cannot hold, with TypeError or RangeError naming the type', () => {
    expect(() => new RawValue('i', 1.5)).toThrow(new TypeError('c_int: expected an integer (a whole number, a bigint or a boolean), got 1.5'));
    expect(() => new RawValue('i', '3' as never)).toThrow(TypeError);
    expect(() => new RawValue('q', 1.5)).toThrow(/c_longlong: expected an integer/);
    expect(() => new RawValue('d', 'x' as never)).toThrow(new TypeError('c_double: expected a number, got "x"'));
    expect(() => new RawValue('c', 256)).toThrow(new RangeError('c_char: a byte is an integer from 0 to 255, got 256'));
    expect(() => new RawValue('c', 'ab')).toThrow(/c_char: expected one byte/);
    expect(() => new RawValue('c', 'é' + 'x')).toThrow(TypeError);
    expect(() => new RawValue('u', 'ab')).toThrow(new TypeError('c_wchar: expected a one-character string, got "ab"'));
    expect(() => new RawValue('x' as TypeCode)).toThrow(/unknown typecode "x"/);
    expect(() => new RawValue({} as never)).toThrow(/expected a typecode/);
  });

  it('reads c_char as a one-byte Buffer, c_wchar as a one-character string, c_bool as a boolean', () => {
    const c = new RawValue(c_char, 'A');
    expect(c.value).toEqual(Buffer.from('A'));
    c.value = 66;
    expect(c.value).toEqual(Buffer.from('B'));
    c.value = Buffer.from([0xff]);
    expect(c.value[0]).toBe(255);
    const w = new RawValue(c_wchar, 'é');
    expect(w.value).toBe('é');
    w.value = '😀';
    expect(w.value).toBe('😀');
    expect(w.bytes).toEqual(new Uint8Array([0x00, 0xf6, 0x01, 0x00]));
    const b = new RawValue(c_bool, 2 as never);
    expect(b.value).toBe(true);
    expect(b.bytes[0]).toBe(1);
    b.value = 0;
    expect(b.value).toBe(false);
    expect(new RawValue(c_ubyte, true).value).toBe(1);
    expect(new RawValue(c_byte).value).toBe(0);
    expect(new RawValue(c_uint, 7).toString()).toBe('c_uint(7)');
    expect(new RawValue(c_double, 0.5).type).toBe(c_double);
  });
});

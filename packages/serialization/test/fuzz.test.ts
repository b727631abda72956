import { describe, expect, it } from '@jest/globals';
import { defaultCodec, DecodeError, ExtType, registerType } from '../src/index.js';
import { Celsius, double, Point, TaskError } from './fixtures/tasks.js';

const { encode, decode, decodeAsync } = defaultCodec;

/** A small seeded generator (xorshift32), so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** `length` random bytes, four per draw. */
function randomBytes(rnd: () => number, length: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  for (let i = 0; i < words.length; i++) words[i] = rnd() * 4294967296;
  return new Uint8Array(words.buffer, 0, length);
}

class Token {
  constructor(readonly id: number) {}
}
registerType<Token>({
  name: 'test.fuzz.Token',
  type: Token,
  encode: (t, context) => {
    context?.handles.push({ fd: t.id, kind: 'token' });
    return { id: t.id };
  },
  decode: (data, context) => {
    const { id } = data as { id: number };
    if (typeof id !== 'number' || !context?.handles.some((h) => h.fd === id)) throw new Error('no such token');
    return new Token(id);
  },
});

const shared = { shared: true };
const cyclic: Record<string, unknown> = { name: 'cycle' };
cyclic.self = cyclic;
const corpus: Array<{ bytes: Uint8Array; handles: Array<{ fd: number; kind: string }> }> = [
  { id: 1, op: 'put', args: [1, 'x', true] },
  [null, undefined, -0, NaN, 1.5, 2 ** 40, -123456, 'héllo wörld', 'a\ud800'],
  { big: 2n ** 200n, neg: -(2n ** 70n), small: 5n },
  new Map<unknown, unknown>([[1, 'one'], [{ k: 1 }, new Set([1, 2])]]),
  [new Date(1_700_000_000_123), new Date(Number.NaN), /x+/gi, Buffer.from('buffer'), new Float64Array([1, 2]), new Uint8Array(300).fill(7)],
  [shared, shared, cyclic, [1, , 3]],
  { error: Object.assign(new TaskError('t', 'task'), { cause: new RangeError('r') }), agg: new AggregateError([new Error('e')], 'agg') },
  { fn: double, point: new Point(1, 2), temp: new Celsius(3) },
  { token: new Token(9), again: new Token(9), list: Array.from({ length: 40 }, (_, i) => ({ i, s: `item ${i}` })) },
  Object.assign(Object.create(null) as object, { nullProto: 1 }),
  'x'.repeat(70_000),
].map((value) => {
  const context = { handles: [] as Array<{ fd: number; kind: string }> };
  return { bytes: Buffer.from(encode(value, context)), handles: context.handles };
});

/** Runs `fn` without capturing stack traces: thousands of expected errors stay cheap under jest. */
function quietly(fn: () => void): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Decodes and demands: a value, or a DecodeError; nothing else. */
function check(bytes: Uint8Array, handles: Array<{ fd: number; kind: string }> = []): void {
  try {
    decode(bytes, { handles });
  } catch (error) {
    if (!(error instanceof DecodeError)) {
      throw new Error(`decode threw ${String(error)} (not a DecodeError) for bytes ${Buffer.from(bytes).toString('hex').slice(0, 400)}`);
    }
  }
}

describe('garbage in', () => {
  it('the corpus itself decodes', () => {
    for (const { bytes, handles } of corpus) expect(() => decode(bytes, { handles })).not.toThrow();
  });

  it('random bytes throw a DecodeError or decode, never anything else', () => {
    const rnd = random(0x5eed);
    const leads = [0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xdc, 0xdd, 0xde, 0xdf, 0xc6, 0xdb, 0x91, 0x81];
    const types = Object.values(ExtType);
    quietly(() => {
      for (let i = 0; i < 30_000; i++) {
        const length = i % 10 === 0 ? Math.floor(rnd() * 2048) : Math.floor(rnd() * 48);
        const bytes = randomBytes(rnd, length);
        // Bias towards interesting starts: extensions of each type, containers, long lengths.
        if (length > 0 && i % 3 === 0) bytes[0] = leads[Math.floor(rnd() * leads.length)]!;
        if (length > 1 && i % 2 === 0) bytes[1] = types[Math.floor(rnd() * types.length)]! & 0xff;
        check(bytes);
      }
    });
  });

  it('every truncation of a valid message throws a DecodeError', () => {
    quietly(() => {
      for (const { bytes, handles } of corpus) {
        const step = bytes.length > 2000 ? 97 : 1;
        for (let n = 0; n < bytes.length; n += step) {
          expect(() => decode(bytes.subarray(0, n), { handles })).toThrow(DecodeError);
        }
      }
    });
  });

  it('bit flips and byte changes of valid messages throw a DecodeError or decode', () => {
    const rnd = random(0xf11b);
    quietly(() => {
      for (let i = 0; i < 30_000; i++) {
        const { bytes, handles } = corpus[i % corpus.length]!;
        const copy = Buffer.from(bytes.length > 4096 ? bytes.subarray(0, 4096) : bytes);
        const flips = 1 + Math.floor(rnd() * 3);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(rnd() * copy.length);
          if (rnd() < 0.5) copy[at]! ^= 1 << Math.floor(rnd() * 8);
          else copy[at] = Math.floor(rnd() * 256);
        }
        check(copy, handles);
      }
    });
  });

  it('decodeAsync of corrupted messages rejects with a DecodeError or decodes', async () => {
    const rnd = random(0xa5);
    for (let i = 0; i < 2_000; i++) {
      const { bytes, handles } = corpus[7 + (i % 2)]!;
      const copy = Buffer.from(bytes);
      const at = Math.floor(rnd() * copy.length);
      copy[at]! ^= 1 << Math.floor(rnd() * 8);
      try {
        await decodeAsync(copy, { handles });
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
      }
    }
  });

  it('forged huge lengths fail fast without allocating', () => {
    const forged = [
      [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01], // array of 4G elements
      [0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02], // map of 4G entries
      [0xc6, 0xff, 0xff, 0xff, 0xff, 0x00], // 4 GiB of binary
      [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], // 4 GiB string
      [0xc9, 0xff, 0xff, 0xff, 0xff, ExtType.BigInt, 0x01], // 4 GiB extension
      [0xc9, 0x00, 0x00, 0x00, 0x03, ExtType.Map, 0xdf, 0xff, 0xff], // map header larger than its payload
      [0xc9, 0x00, 0x00, 0x00, 0x05, ExtType.Set, 0xdd, 0x7f, 0xff, 0xff, 0xff], // set of 2G elements in 5 bytes
      [0xd6, ExtType.Ref, 0xff, 0xff, 0xff, 0xff], // reference to object #4G
      [0xd4, ExtType.Ref, 0x00], // reference before any object
    ];
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    for (const bytes of forged) expect(() => decode(Uint8Array.from(bytes))).toThrow(DecodeError);
    // Nested arrays that each claim nearly everything that remains.
    const nested = Buffer.alloc(60_000);
    for (let i = 0; i + 5 <= nested.length; i += 5) {
      nested[i] = 0xdd;
      nested.writeUInt32BE(nested.length - i - 5, i + 1);
    }
    expect(() => decode(nested)).toThrow(DecodeError);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
  });

  it('deep nesting is a DecodeError, not a stack overflow crash', () => {
    const deep = Buffer.alloc(500_000, 0x91);
    expect(() => decode(deep)).toThrow(DecodeError);
    expect(() => decode(deep)).toThrow(/nested too deeply|truncated/);
  });

  it('empty input, trailing bytes, reserved bytes and bad arguments', () => {
    expect(() => decode(new Uint8Array(0))).toThrow('empty message: no bytes to decode');
    expect(() => decode(Uint8Array.from([0x01, 0x02]))).toThrow(/1 unexpected bytes after the value/);
    expect(() => decode(Uint8Array.from([0xc1]))).toThrow(/byte 0xc1 does not start any MessagePack value/);
    expect(() => decode(Uint8Array.from([0xd4, 0x63, 0x00]))).toThrow(/unknown extension type 99/);
    expect(() => decode('text' as never)).toThrow(DecodeError);
  });
});

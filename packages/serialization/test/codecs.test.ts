import { describe, expect, it } from '@jest/globals';
import {
  defaultCodec,
  DecodeError,
  isCodec,
  jsonCodec,
  SerializationError,
  v8Codec,
  type Codec,
  type DecodeContext,
  type EncodeContext,
} from '../src/index.js';

/** A user's own codec: the interface is all a codec needs. */
const upperJson: Codec = {
  name: 'upper-json',
  encode: (value) => Buffer.from(JSON.stringify(value).toUpperCase()),
  decode: (bytes) => JSON.parse(Buffer.from(bytes).toString()) as unknown,
  decodeAsync: async (bytes) => JSON.parse(Buffer.from(bytes).toString()) as unknown,
};

/** What a transport does with any codec: encode with a context, decode (sync and async) with one. */
async function throughTransport(codec: Codec, value: unknown): Promise<[unknown, unknown]> {
  const encodeContext: EncodeContext = { handles: [] };
  const bytes = codec.encode(value, encodeContext);
  expect(bytes).toBeInstanceOf(Uint8Array);
  const decodeContext: DecodeContext = { handles: encodeContext.handles };
  return [codec.decode(bytes, decodeContext), await codec.decodeAsync(bytes, decodeContext)];
}

const plain = { id: 1, op: 'put', args: [1, 'x', true, null, 2.5], nested: { list: [[], {}] } };

describe('codecs share one interface', () => {
  it.each([
    ['msgpack', defaultCodec],
    ['json', jsonCodec],
    ['v8', v8Codec],
    ['upper-json', upperJson],
  ] as const)('%s round-trips plain data', async (name, codec) => {
    expect(codec.name).toBe(name);
    expect(isCodec(codec)).toBe(true);
    const [sync, async] = await throughTransport(codec, name === 'upper-json' ? { A: [1, 2] } : plain);
    expect(sync).toStrictEqual(name === 'upper-json' ? { A: [1, 2] } : plain);
    expect(async).toStrictEqual(sync);
  });

  it('isCodec rejects what is not a codec', () => {
    expect(isCodec(null)).toBe(false);
    expect(isCodec({ name: 'x', encode() {} })).toBe(false);
    expect(isCodec({ name: 1, encode() {}, decode() {}, decodeAsync() {} })).toBe(false);
  });
});

describe('jsonCodec', () => {
  it('follows JSON: undefined properties vanish, Dates become strings', () => {
    expect(jsonCodec.decode(jsonCodec.encode({ u: undefined, d: new Date(0) }))).toStrictEqual({ d: '1970-01-01T00:00:00.000Z' });
  });

  it('refuses bigints, cycles and bare functions with SerializationError', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => jsonCodec.encode(1n)).toThrow(SerializationError);
    expect(() => jsonCodec.encode(cycle)).toThrow(/JSON cannot encode this value/);
    expect(() => jsonCodec.encode(() => 1)).toThrow('JSON cannot encode a value of type function');
  });

  it('bad bytes are a DecodeError, also from decodeAsync', async () => {
    expect(() => jsonCodec.decode(Buffer.from('{"a":'))).toThrow(DecodeError);
    await expect(jsonCodec.decodeAsync(Buffer.from('nope'))).rejects.toThrow(DecodeError);
  });
});

describe('v8Codec', () => {
  it('keeps what structured clone keeps', () => {
    const cycle: Record<string, unknown> = { m: new Map([[1, new Set([2])]]), d: new Date(5), big: 2n ** 80n };
    cycle.self = cycle;
    const back = v8Codec.decode(v8Codec.encode(cycle)) as typeof cycle;
    expect(back.self).toBe(back);
    expect(back.m).toStrictEqual(new Map([[1, new Set([2])]]));
    expect(back.big).toBe(2n ** 80n);
  });

  it('refuses functions with SerializationError and bad bytes with DecodeError', async () => {
    expect(() => v8Codec.encode({ f: () => 1 })).toThrow(SerializationError);
    expect(() => v8Codec.decode(Buffer.from([0xff, 0x0f, 0x6f, 0x22]))).toThrow(DecodeError);
    await expect(v8Codec.decodeAsync(Buffer.from([1, 2, 3]))).rejects.toThrow(DecodeError);
  });
});

describe('defaultCodec', () => {
  it('is frozen, so no package can swap its methods for everyone', () => {
    expect(Object.isFrozen(defaultCodec)).toBe(true);
    expect(Object.isFrozen(jsonCodec)).toBe(true);
    expect(Object.isFrozen(v8Codec)).toBe(true);
  });
});

import { describe, expect, it } from '@jest/globals';
import { ProtocolError, decodeHeader, encodeHeader, headerSize, writeHeader, SHORT_HEADER_MAX } from '../src/index.js';

describe('CPython framing headers', () => {
  it('uses a big-endian int32 up to 0x7fffffff', () => {
    expect(encodeHeader(0).toString('hex')).toBe('00000000');
    expect(encodeHeader(3).toString('hex')).toBe('00000003');
    expect(encodeHeader(SHORT_HEADER_MAX).toString('hex')).toBe('7fffffff');
    expect(headerSize(SHORT_HEADER_MAX)).toBe(4);
  });

  it('announces more than 2 GiB with ff ff ff ff and a uint64, as CPython 3.8+ does', () => {
    expect(encodeHeader(2 ** 31).toString('hex')).toBe('ffffffff0000000080000000');
    expect(encodeHeader(5 * 2 ** 32 + 7).toString('hex')).toBe('ffffffff0000000500000007');
    expect(headerSize(2 ** 31)).toBe(12);
    const target = Buffer.alloc(16, 0xaa);
    expect(writeHeader(target, 2, 2 ** 31 + 1)).toBe(12);
    expect(target.toString('hex')).toBe('aaaaffffffff0000000080000001aaaa');
  });

  it('decodes both forms, including the long form for small lengths', () => {
    expect(decodeHeader(Buffer.from('00000003', 'hex'))).toEqual({ complete: true, size: 4, length: 3 });
    expect(decodeHeader(Buffer.from('ffffffff0000000080000000', 'hex'))).toEqual({ complete: true, size: 12, length: 2 ** 31 });
    expect(decodeHeader(Buffer.from('ffffffff0000000000000005', 'hex'))).toEqual({ complete: true, size: 12, length: 5 });
    // Round trip of a length no test could allocate.
    const huge = 3 * 2 ** 40 + 12345;
    expect(decodeHeader(encodeHeader(huge))).toEqual({ complete: true, size: 12, length: huge });
  });

  it('asks for more bytes while a header is incomplete', () => {
    expect(decodeHeader(Buffer.alloc(0))).toEqual({ complete: false, needed: 4 });
    expect(decodeHeader(Buffer.from('0000', 'hex'))).toEqual({ complete: false, needed: 4 });
    expect(decodeHeader(Buffer.from('ffffffff00', 'hex'))).toEqual({ complete: false, needed: 12 });
  });

  it('rejects negative lengths other than the escape, and lengths JavaScript cannot count', () => {
    expect(() => decodeHeader(Buffer.from('fffffffe', 'hex'))).toThrow(ProtocolError);
    expect(() => decodeHeader(Buffer.from('80000000', 'hex'))).toThrow(/bad message length/);
    expect(() => decodeHeader(Buffer.from('ffffffffffffffffffffffff', 'hex'))).toThrow(/more than can be received/);
  });

  it('refuses to encode nonsense lengths', () => {
    expect(() => encodeHeader(-1)).toThrow(RangeError);
    expect(() => encodeHeader(1.5)).toThrow(RangeError);
  });
});

/** randomBytes: kernel randomness without node:crypto. */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from '../src/index.js';

describe('randomBytes', () => {
  it('gives the number of bytes asked for, different each time', () => {
    expect(randomBytes(0)).toEqual(Buffer.alloc(0));
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(a).toBeInstanceOf(Buffer);
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(false);
    // 64 KiB of random bytes use every byte value.
    expect(new Set(randomBytes(65536)).size).toBe(256);
  });

  it('refuses a size that is not a whole number of bytes', () => {
    expect(() => randomBytes(-1)).toThrow(RangeError);
    expect(() => randomBytes(1.5)).toThrow(/whole number of bytes, got 1.5/);
  });
});

/**
 * Random bytes from the kernel, for keys, tokens and fresh names.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { lazyBuiltin } from './lazy-builtin.js';

const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/**
 * `size` random bytes read from `/dev/urandom`, the kernel's generator, where
 * CPython's `os.urandom` takes them too (from `node:crypto` where there is no
 * `/dev/urandom` to open). `node:crypto` gives the same bytes but costs a
 * process about 2 ms to load (`globalThis.crypto` as much): a process that
 * needs only an authkey or a fresh name should not pay that.
 *
 * @example
 * ```ts
 * const authkey = randomBytes(32);
 * ```
 */
export function randomBytes(size: number): Buffer {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`randomBytes: size must be a whole number of bytes, got ${String(size)}`);
  if (size === 0) return Buffer.alloc(0);
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    return crypto().randomBytes(size); // a sandbox without /dev: the same bytes, at the module's cost
  }
  const bytes = Buffer.allocUnsafe(size);
  try {
    for (let filled = 0; filled < size; ) {
      const n = readSync(fd, bytes, filled, size - filled, null);
      if (n <= 0) throw new Error('/dev/urandom gave no bytes');
      filled += n;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
